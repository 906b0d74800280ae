//! "The cluster's authentication mode must be set to one of [API,
//! API_AND_CONFIG_MAP] to perform this operation": the cluster is still CONFIG_MAP.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::{Fact, Facts};
use crate::finding::{Cause, Finding, Severity};

pub static CAUSE: Cause = Cause {
    id: "access-entries-disabled",
    severity: Severity::Error,
    title: "Access entries are off: the cluster is in CONFIG_MAP mode",
    docs: util::AUTH_MODE,
    evidence: &[Evidence::CloudTrail],
    needs: &[Fact::ClusterAuthMode],
    diagnose,
};

fn diagnose(event: &Event, facts: &Facts) -> Option<Finding> {
    if !util::mentions(event.message(), &["authentication mode must be", "api"]) {
        return None;
    }
    let cluster = event.cluster_or_placeholder();
    let mut finding = Finding::new(
        &CAUSE,
        format!(
            "Cluster {cluster} only reads the aws-auth ConfigMap (authentication mode CONFIG_MAP), so it has no access \
             entries and refuses {}.",
            event.event_name
        ),
    )
    .step("Move the cluster to API_AND_CONFIG_MAP: aws-auth keeps working and access entries are switched on. This cannot be undone (the cluster can never return to CONFIG_MAP).")
    .step("Wait for the update to finish, then retry the call.")
    .step("Or, to stay on CONFIG_MAP, grant access through the aws-auth ConfigMap instead.")
    .command(util::describe_auth_mode(event))
    .command(util::update_auth_mode(event, "API_AND_CONFIG_MAP"));
    if event.event_name == "CreateAccessEntry" {
        let groups: Vec<&str> = event.groups().iter().map(String::as_str).collect();
        finding.commands.extend(util::retry_entry(event, event.request.username.as_deref(), &groups));
    }
    if let Some(mode) = facts.cluster_auth_mode.found() {
        let reachable = util::reachable_modes(mode);
        finding = finding.note(if mode == "CONFIG_MAP" {
            format!("Live: the cluster is in CONFIG_MAP; it can move to {}.", reachable.join(", "))
        } else {
            format!("Live: the cluster is now in {mode}, so access entries work: retry the call.")
        });
    }
    Some(finding)
}
