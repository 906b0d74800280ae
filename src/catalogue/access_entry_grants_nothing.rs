//! A `STANDARD` access entry that grants nothing: no Kubernetes groups, and no access
//! policy associated. The principal authenticates, and then every request is
//! forbidden. `AssociateAccessPolicy` usually follows `CreateAccessEntry` within
//! seconds, so this is never judged at creation. The function looks at the entry
//! again after a delay (`RECHECK_DELAY_SECONDS`, an SQS delay queue), and only that
//! second look, the settled entry, can match.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::{Fact, Facts};
use crate::finding::{Cause, Finding, Severity};

pub static CAUSE: Cause = Cause {
    id: "access-entry-grants-nothing",
    severity: Severity::Warning,
    title: "An access entry grants nothing: no Kubernetes groups, no access policy",
    docs: util::ACCESS_POLICIES,
    evidence: &[Evidence::CloudTrail],
    needs: &[Fact::SettledEntry],
    diagnose,
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
             associated. The principal can authenticate, but every kubectl request it makes is Forbidden.",
            event.cluster_or_placeholder()
        ),
    )
    .step("Associate an access policy with the scope the principal needs, for example AmazonEKSViewPolicy on a namespace or AmazonEKSEditPolicy.")
    .step("Or add Kubernetes groups that a RoleBinding or ClusterRoleBinding names.")
    .step("If the entry is not needed, delete it.")
    .command(util::associate_policy(event, principal, "AmazonEKSViewPolicy", "type=namespace,namespaces=NAMESPACE"))
    .commands(util::update_entry(event, None, &["GROUP"]))
    .command(util::list_associated_policies(event));
    Some(finding)
}
