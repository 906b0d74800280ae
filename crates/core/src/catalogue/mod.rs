//! The catalogue of documented causes, one module per cause, in the order of the
//! AWS troubleshooting article; the causes added from real messages follow, then
//! the causes read from the cluster's authenticator log.

use crate::event::{Event, Evidence};
use crate::facts::{Facts, LookupPlan};
use crate::finding::{Cause, Finding, Reach};

mod access_entries_disabled;
mod access_entry_already_exists;
mod access_entry_grants_nothing;
mod access_entry_not_found;
mod access_policy_requires_standard;
mod access_scope_namespaces;
mod auth_mode_irreversible;
mod auth_mode_two_step;
mod auth_mode_unchanged;
mod authenticator_denied;
mod authenticator_reserved_username;
mod auto_mode_node_policy_missing;
mod auto_mode_requires_access_entries;
mod aws_auth_principal_loses_access;
mod cluster_admin_policy_granted;
mod cluster_update_in_progress;
mod config_map_migration_notice;
mod config_map_retired;
mod creator_admin_required_for_config_map;
mod cross_account_access_entry;
mod group_not_bound;
mod hybrid_nodes_require_access_entries;
mod identity_arn_mismatch;
mod identity_not_mapped;
mod invalid_policy_arn;
mod invalid_principal;
mod missing_iam_permission;
mod node_entry_deleted;
mod node_identity_unmapped;
mod node_role_standard_entry;
mod node_type_cross_account;
mod node_type_rejects_groups;
mod node_type_requires_role;
mod policy_requires_service_linked_role;
mod principal_arn_format;
mod reserved_group_prefix;
mod reserved_username_prefix;
mod service_linked_role;
mod short_lived_access_entry;
mod sts_throttled;
mod sts_token_rejected;
mod sts_unreachable;
mod token_format_rejected;
mod unbound_kubernetes_group;
mod unclassified;
mod username_session_prefix;
pub(crate) mod util;

/// Every cause, most specific first. `unclassified` is not here: it is the fallback.
pub static CATALOGUE: &[&Cause] = &[
    &auth_mode_irreversible::CAUSE,
    &missing_iam_permission::CAUSE,
    &config_map_migration_notice::CAUSE,
    &node_type_requires_role::CAUSE,
    &reserved_username_prefix::CAUSE,
    &username_session_prefix::CAUSE,
    &reserved_group_prefix::CAUSE,
    &unbound_kubernetes_group::CAUSE,
    &group_not_bound::CAUSE,
    &service_linked_role::CAUSE,
    &access_policy_requires_standard::CAUSE,
    &access_entry_already_exists::CAUSE,
    &access_entries_disabled::CAUSE,
    &creator_admin_required_for_config_map::CAUSE,
    &auth_mode_unchanged::CAUSE,
    &auth_mode_two_step::CAUSE,
    &cluster_update_in_progress::CAUSE,
    &auto_mode_requires_access_entries::CAUSE,
    &hybrid_nodes_require_access_entries::CAUSE,
    &invalid_principal::CAUSE,
    &principal_arn_format::CAUSE,
    &node_type_cross_account::CAUSE,
    &node_type_rejects_groups::CAUSE,
    &access_entry_not_found::CAUSE,
    &invalid_policy_arn::CAUSE,
    &policy_requires_service_linked_role::CAUSE,
    &access_scope_namespaces::CAUSE,
    &config_map_retired::CAUSE,
    &aws_auth_principal_loses_access::CAUSE,
    // Risky calls that succeeded.
    &cluster_admin_policy_granted::CAUSE,
    &cross_account_access_entry::CAUSE,
    &short_lived_access_entry::CAUSE,
    &node_role_standard_entry::CAUSE,
    &access_entry_grants_nothing::CAUSE,
    &auto_mode_node_policy_missing::CAUSE,
    &node_entry_deleted::CAUSE,
    // The authenticator log: `kubectl … (Unauthorized)`.
    &identity_not_mapped::CAUSE,
    &identity_arn_mismatch::CAUSE,
    &sts_token_rejected::CAUSE,
    &sts_unreachable::CAUSE,
    &token_format_rejected::CAUSE,
    &sts_throttled::CAUSE,
    &node_identity_unmapped::CAUSE,
    &authenticator_reserved_username::CAUSE,
];

/// The fallback for failed calls that no documented cause explains.
pub static UNCLASSIFIED: &Cause = &unclassified::CAUSE;

/// The fallback for authenticator denials that no documented cause explains.
pub static AUTHENTICATOR_DENIED: &Cause = &authenticator_denied::CAUSE;

/// The fallback for each kind of evidence.
fn fallback(evidence: Evidence) -> &'static Cause {
    match evidence {
        Evidence::CloudTrail => UNCLASSIFIED,
        Evidence::Authenticator => AUTHENTICATOR_DENIED,
    }
}

/// Every cause including the fallbacks, as `causes` lists them.
pub fn all_causes() -> impl Iterator<Item = &'static Cause> {
    CATALOGUE.iter().copied().chain([UNCLASSIFIED, AUTHENTICATOR_DENIED])
}

pub fn cause_by_id(id: &str) -> Option<&'static Cause> {
    all_causes().find(|c| c.id == id)
}

/// Every finding for one event. A failed call always gets at least one finding:
/// `unclassified` when no documented cause matches, so nothing stays silent. Each
/// finding carries a note for every lookup its cause needs that failed, and only those.
pub fn diagnose(event: &Event, facts: &Facts) -> Vec<Finding> {
    let evidence = event.evidence();
    let mut findings: Vec<Finding> =
        CATALOGUE.iter().filter(|cause| cause.evidence.contains(&evidence)).filter_map(|cause| (cause.diagnose)(event, facts)).collect();
    if findings.is_empty() {
        findings.extend((fallback(evidence).diagnose)(event, facts));
    }
    for finding in &mut findings {
        finding.notes.extend(finding.cause.needs.iter().filter_map(|&fact| facts.failure_note(fact)));
    }
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity()));
    findings
}

/// The lookups worth making for an event: the facts needed by the causes that
/// match it on its own evidence. (A cause that can also match on a fact, such as
/// service-linked-role on the principal's IAM path, is reached through the causes
/// and the fallback that need that fact.)
pub fn lookup_plan(event: &Event) -> LookupPlan {
    lookup_plan_for(event, &diagnose(event, &Facts::default()))
}

/// [`lookup_plan`] from the event's findings without live facts, when the caller has them.
/// Causes that match on a live fact alone (`Reach::Live`) add their facts whenever the
/// event calls for them: nothing matches without the fact.
pub fn lookup_plan_for(event: &Event, findings: &[Finding]) -> LookupPlan {
    let live = CATALOGUE.iter().filter(|cause| matches!(cause.reach, Reach::Live { wants } if wants(event)));
    LookupPlan::new(event, findings.iter().flat_map(|f| f.cause.needs).chain(live.flat_map(|cause| cause.needs)).copied())
}

/// Whether the entry an event created needs a second look after a delay, as a cause
/// with `Reach::SecondLook` asks (it still grants nothing; an Auto Mode node entry
/// still lacks its policy).
pub fn wants_second_look(event: &Event) -> bool {
    CATALOGUE.iter().any(|cause| matches!(cause.reach, Reach::SecondLook { wants } if wants(event)))
}

/// Seconds within which a deleted entry counts as short-lived.
pub const SHORT_LIVED_SECS: u64 = short_lived_access_entry::SHORT_LIVED_SECS;
