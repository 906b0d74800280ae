//! A deleted access entry of a role EC2 may assume: if nodes use the role, they can no
//! longer authenticate, and drop out of the cluster as their credentials are checked
//! again. Read from the role's trust policy (iam:GetRole), which outlives the entry.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::{Fact, Facts};
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "node-entry-deleted",
    severity: Severity::Warning,
    title: "The access entry of a role EC2 may assume was deleted: nodes using it drop out",
    docs: "https://docs.aws.amazon.com/eks/latest/userguide/deleting-access-entries.html",
    evidence: &[Evidence::CloudTrail],
    needs: &[Fact::Principal],
    diagnose,
    reach: Reach::Live { wants: wants_facts },
    sources: &[
        Source { page: "boto/botocore botocore/data/eks/2017-11-01/service-2.json", quote: "Deleting an access entry of a type other than Standard can cause your cluster to function improperly." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/deleting-access-entries.html", quote: "If you discover that you deleted an access entry in error, you can always recreate it." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/updating-access-entries.html", quote: "If the following groups names exist, don't remove them: system:nodes or system:bootstrappers. Removing these groups can cause your cluster to function improperly." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/migrating-access-entries.html", quote: "If you remove entries that Amazon EKS created in the ConfigMap without having the equivalent access entries, your cluster won't function properly." },
    ],
};

/// Whether the event calls for this cause's fact: a successful deletion of a role's entry.
pub fn wants_facts(event: &Event) -> bool {
    !event.failed() && event.event_name == "DeleteAccessEntry" && event.principal().is_some_and(|p| p.is_role() && !p.is_service_linked())
}

fn diagnose(event: &Event, facts: &Facts) -> Option<Finding> {
    if !wants_facts(event) {
        return None;
    }
    if !facts.principal.found()?.ec2_may_assume() {
        return None;
    }
    let principal = event.principal_or_placeholder();
    Some(
        Finding::new(
            &CAUSE,
            format!(
                "The access entry for {principal} on cluster {} was deleted, and the role's trust policy lets \
                 ec2.amazonaws.com assume it. If nodes use this role, they can no longer authenticate to the cluster \
                 (unless the aws-auth ConfigMap still maps the role, in a mode that reads it). The entry's access \
                 policies were deleted with it.",
                event.cluster_or_placeholder()
            ),
        )
        .step("If nodes use this role, create its entry again at once with the node type they need (EC2_LINUX, EC2_WINDOWS, EC2 for EKS Auto Mode with AmazonEKSAutoNodePolicy, HYBRID_LINUX for hybrid nodes).")
        .step("If the role is no longer used by any node (its node group is gone), nothing is lost: mute this check with MUTE_CAUSES=node-entry-deleted where deletions are routine.")
        .command(util::finish(event, crate::command::Command::new("aws iam list-instance-profiles-for-role").arg("--role-name", event.principal().map_or("ROLE_NAME", |p| p.name))))
        .command(util::create_entry(event, principal, Some("EC2_LINUX"), None, &[])),
    )
}
