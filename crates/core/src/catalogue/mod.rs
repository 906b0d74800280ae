//! The catalogue of documented causes, one module per cause, in the order of the
//! AWS troubleshooting article; the causes added from real messages follow, then
//! the causes read from the cluster's authenticator log, then the scheduled audit's.

use crate::event::{Event, Evidence};
use crate::facts::{Facts, LookupPlan};
use crate::finding::{Cause, Finding, Reach};

mod authenticator_denied;
pub(crate) mod pod_identity;
mod unclassified;
pub(crate) mod util;

/// Declares each cause's module and its place in [`CATALOGUE`] in one line, so a new
/// cause is its module, its line here (the order is the matching order) and its fixture.
macro_rules! catalogue {
    ($($cause:ident,)*) => {
        $(mod $cause;)*
        /// Every cause, most specific first. The fallbacks are not here.
        pub static CATALOGUE: &[&Cause] = &[$(&$cause::CAUSE),*];
    };
}

catalogue! {
    auth_mode_irreversible,
    missing_iam_permission,
    config_map_migration_notice,
    node_type_requires_role,
    reserved_username_prefix,
    username_session_prefix,
    reserved_group_prefix,
    unbound_kubernetes_group,
    group_not_bound,
    service_linked_role,
    access_policy_requires_standard,
    access_entry_already_exists,
    access_entries_disabled,
    creator_admin_required_for_config_map,
    auth_mode_unchanged,
    auth_mode_two_step,
    cluster_update_in_progress,
    auto_mode_requires_access_entries,
    hybrid_nodes_require_access_entries,
    invalid_principal,
    principal_arn_format,
    node_type_cross_account,
    node_type_rejects_groups,
    access_entry_not_found,
    invalid_policy_arn,
    policy_requires_service_linked_role,
    access_scope_namespaces,
    config_map_retired,
    aws_auth_principal_loses_access,
    // EKS Pod Identity: the association calls, then the agent's calls to EKS Auth.
    pod_identity_trust_policy,
    pod_identity_association_exists,
    pod_identity_session_policy,
    pod_identity_role_not_found,
    pod_identity_role_other_account,
    pod_identity_role_not_assumable,
    pod_identity_token_rejected,
    pod_identity_association_gone,
    pod_identity_auth_unavailable,
    pod_identity_request_rejected,
    // Risky calls that succeeded.
    cluster_admin_policy_granted,
    cross_account_access_entry,
    short_lived_access_entry,
    node_role_standard_entry,
    access_entry_grants_nothing,
    auto_mode_node_policy_missing,
    node_entry_deleted,
    pod_identity_agent_missing,
    // The authenticator log: `kubectl … (Unauthorized)`.
    identity_not_mapped,
    identity_arn_mismatch,
    sts_token_rejected,
    sts_unreachable,
    token_format_rejected,
    sts_throttled,
    node_identity_unmapped,
    authenticator_reserved_username,
    // A scheduled audit: what is new since its last run.
    audit_flag,
}

/// The fallback for failed calls that no documented cause explains.
pub static UNCLASSIFIED: &Cause = &unclassified::CAUSE;

/// The fallback for authenticator denials that no documented cause explains.
pub static AUTHENTICATOR_DENIED: &Cause = &authenticator_denied::CAUSE;

/// The fallback for each kind of evidence.
fn fallback(evidence: Evidence) -> &'static Cause {
    match evidence {
        // An audit flag always has its cause; nothing is left to fall back on.
        Evidence::CloudTrail | Evidence::Audit => UNCLASSIFIED,
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
