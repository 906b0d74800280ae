//! ResourceInUseException "The specified access entry resource is already in use on
//! this cluster": one entry per principal, often made by EKS itself (the creator's
//! admin entry, or the CONFIG_MAP migration).

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::{Fact, Facts};
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "access-entry-already-exists",
    severity: Severity::Error,
    title: "An access entry for this principal already exists",
    docs: util::CREATING_ENTRIES,
    evidence: &[Evidence::CloudTrail],
    needs: &[Fact::AccessEntry],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html", quote: "An IAM principal can't be included in more than one access entry." },
        Source { page: "aws-samples/eks-blueprints-for-terraform-workshop#10", quote: "ResourceInUseException: The specified access entry resource is already in use on this cluster." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/access-entries.html", quote: "After Amazon EKS updates your cluster to the platform version listed in the table, Amazon EKS creates an access entry with administrator permissions to the cluster for the IAM principal that originally created the cluster." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/deleting-access-entries.html", quote: "If the access entry that you're deleting is associated to any access policies, the associations are automatically deleted." },
    ],
};

fn diagnose(event: &Event, facts: &Facts) -> Option<Finding> {
    let in_use = event.error_code() == "ResourceInUseException" && util::mentions(event.message(), &["access entry", "already in use"]);
    if !in_use {
        return None;
    }
    let principal = event.principal_or_placeholder();
    let groups: Vec<&str> = event.groups().iter().map(String::as_str).collect();
    let mut finding = Finding::new(
        &CAUSE,
        format!(
            "Cluster {} already has an access entry for {principal}, and a principal can have only one. EKS often made \
             it: the cluster creator's admin entry (bootstrapClusterCreatorAdminPermissions) or the node-role entries \
             added when the cluster moved from CONFIG_MAP.",
            event.cluster_or_placeholder()
        ),
    )
    .step("Look at the existing entry and its policies.")
    .step("If it is what you wanted, adopt it instead of creating it: import it into your infrastructure code (for Terraform: terraform import aws_eks_access_entry.NAME CLUSTER:PRINCIPAL_ARN).")
    .command(util::describe_entry(event))
    .command(util::list_associated_policies(event));
    // The request's own username and groups, applied to the existing entry. A request
    // with neither has nothing to update: the existing entry already does what it asked.
    finding = match util::update_entry(event, event.request.username.as_deref(), &groups) {
        Some(update) => finding
            .step("To give it the username and groups of this request, update it; its type cannot change. Deleting and recreating it also removes its access policy associations.")
            .command(update),
        None => finding.step(
            "This request set no username and no groups, so there is nothing to update: the existing entry already gives the principal an identity. Grant permissions with associate-access-policy or Kubernetes groups on it.",
        ),
    };
    if let Some(entry) = facts.access_entry.found() {
        finding = finding.note(format!(
            "Live: the existing entry has type {}, username {}, groups [{}], created {}, policies [{}].",
            entry.entry_type.as_deref().unwrap_or("unknown"),
            entry.username.as_deref().unwrap_or("unknown"),
            entry.kubernetes_groups.join(", "),
            entry.created_at.as_deref().unwrap_or("unknown"),
            entry.policies.join(", ")
        ));
    }
    Some(finding)
}
