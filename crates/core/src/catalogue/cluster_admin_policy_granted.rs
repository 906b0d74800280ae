//! A successful `AssociateAccessPolicy` of a cluster-wide admin policy. Not a failure:
//! a grant of the cluster's keys, the call detection products alert on, made visible
//! so that the people who own the cluster see every one of them.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "cluster-admin-policy-granted",
    severity: Severity::Warning,
    title: "A cluster-wide admin or read-everything access policy was granted",
    docs: util::ACCESS_POLICIES,
    evidence: &[Evidence::CloudTrail],
    needs: &[],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html", quote: "This access policy includes permissions that grant an IAM principal administrator access to a cluster." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html", quote: "This access policy includes permissions that grant an IAM principal most permissions to resources. When associated to an access entry, its access scope is typically one or more Kubernetes namespaces." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html", quote: "This access policy includes permissions that grant an IAM principal access to list/view all resources in a cluster. Note this includes Kubernetes Secrets." },
    ],
};

/// The access policies that give full control (of the cluster, or of every namespace
/// when scoped to the cluster).
/// The access policies that reach the whole cluster's sensitive data at cluster scope,
/// with what each grants (the access-policy reference).
const ADMIN_POLICIES: &[(&str, &str)] = &[
    ("AmazonEKSClusterAdminPolicy", "administrator access to the whole cluster: it can read every Secret and change anything"),
    ("AmazonEKSAdminPolicy", "most permissions on the cluster's resources, Secrets included, in every namespace"),
    ("AmazonEKSAdminViewPolicy", "read access to every resource in the cluster, every Secret included"),
];

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    if event.failed() || event.event_name != "AssociateAccessPolicy" {
        return None;
    }
    let policy_arn = event.request.policy_arn.as_deref()?;
    let (policy, grants) = ADMIN_POLICIES.iter().find(|(name, _)| policy_arn.rsplit('/').next() == Some(*name))?;
    let scope = event.request.access_scope.as_ref().and_then(|s| s.scope_type.as_deref());
    if !scope.is_some_and(|s| s.eq_ignore_ascii_case("cluster")) {
        return None;
    }
    let principal = event.principal_or_placeholder();
    let by = event.caller.as_deref().map(|c| format!(" by {c}")).unwrap_or_default();
    let finding = Finding::new(
        &CAUSE,
        format!(
            "{principal} was granted {policy} on all of cluster {}{by}: {grants}. This alert is a record that \
             the grant happened, not proof that it is wrong.",
            event.cluster_or_placeholder()
        ),
    )
    .step("Confirm that the grant was intended and approved.")
    .step("If a smaller grant is enough, associate AmazonEKSViewPolicy or AmazonEKSEditPolicy (which can still read and change Secrets in its scope) on the namespaces the principal needs, and then disassociate this one.")
    .step("If this alert is expected, for example from a break-glass procedure, mute it with MUTE_CAUSES=cluster-admin-policy-granted.")
    .command(util::list_associated_policies(event))
    .command(util::associate_policy(event, principal, "AmazonEKSEditPolicy", "type=namespace,namespaces=NAMESPACE"))
    .command(util::finish(
        event,
        util::aws_eks(event, "disassociate-access-policy", "--cluster-name").arg("--principal-arn", principal).arg("--policy-arn", policy_arn),
    ));
    Some(finding)
}
