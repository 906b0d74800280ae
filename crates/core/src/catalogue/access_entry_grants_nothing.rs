//! A `STANDARD` access entry that grants nothing: no Kubernetes groups, and no access
//! policy associated. The principal authenticates, and then every request is
//! forbidden. `AssociateAccessPolicy` usually follows `CreateAccessEntry` within
//! seconds, so this is never judged at creation. The function looks at the entry
//! again after a delay (`RECHECK_DELAY_SECONDS`, an SQS delay queue), and only that
//! second look, the settled entry, can match.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::{Fact, Facts};
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "access-entry-grants-nothing",
    severity: Severity::Warning,
    title: "An access entry grants nothing: no Kubernetes groups, no access policy",
    docs: util::ACCESS_POLICIES,
    evidence: &[Evidence::CloudTrail],
    needs: &[Fact::SettledEntry],
    diagnose,
    reach: Reach::SecondLook { wants: wants_second_look },
    sources: &[
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html", quote: "If you want this user to have more access to your cluster than the permissions in the Kubernetes API discovery roles, then you need to associate an access policy to the access entry, since the --kubernetes-groups option isn't used." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/access-policies.html", quote: "The command only shows Kubernetes permissions if you've granted them in Kubernetes Role or ClusterRole objects that you've bound to the group names or username that you specified for an access entry." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html", quote: "If you don't specify any group names and want to use Amazon EKS authorization, you can associate an access policy in a later step, or after the access entry is created." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/access-policies.html", quote: "If you impersonate a Kubernetes user or group when interacting with Kubernetes objects on your cluster, such as using the kubectl command with --as username or --as-group group-name, you're forcing the use of Kubernetes RBAC authorization." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/access-policies.html", quote: "As a result, the IAM principal has no permissions assigned by any access policies associated to the access entry." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/access-policies.html", quote: "If you run the kubectl auth can-i --list command, you won't see any Kubernetes permissions assigned by access policies associated with an access entry for the IAM principal you're using when you run the command." },
    ],
};

/// Whether the entry this event created needs a second look: a successful `STANDARD`
/// entry without Kubernetes groups (an access policy may still follow).
pub fn wants_second_look(event: &Event) -> bool {
    !event.failed()
        && event.event_name == "CreateAccessEntry"
        && event.groups().is_empty()
        && event.entry_type().is_none_or(|t| t.eq_ignore_ascii_case("STANDARD"))
}

fn diagnose(event: &Event, facts: &Facts) -> Option<Finding> {
    if !wants_second_look(event) {
        return None;
    }
    let entry = facts.settled_entry.found()?;
    if !entry.kubernetes_groups.is_empty() || !entry.policies.is_empty() {
        return None;
    }
    let principal = event.principal_or_placeholder();
    let finding = Finding::new(
        &CAUSE,
        format!(
            "The access entry for {principal} on cluster {} still has no Kubernetes groups and no access policy \
             associated. The principal can authenticate, but unless a RoleBinding or ClusterRoleBinding names its \
             username, it can do no more than Kubernetes' discovery roles allow: its other requests are Forbidden.",
            event.cluster_or_placeholder()
        ),
    )
    .step("Associate an access policy with the scope the principal needs, for example AmazonEKSViewPolicy on a namespace or AmazonEKSEditPolicy.")
    .step("Or add Kubernetes groups that a RoleBinding or ClusterRoleBinding names (or bind its username).")
    .step("If the entry is not needed, delete it.")
    .step("Don't judge the entry with kubectl auth can-i --list or --as: neither shows what access policies grant (impersonation applies RBAC alone).")
    .command(util::associate_policy(event, principal, "AmazonEKSViewPolicy", "type=namespace,namespaces=NAMESPACE"))
    .commands(util::update_entry(event, None, &["GROUP"]))
    .command(util::list_associated_policies(event));
    Some(finding)
}
