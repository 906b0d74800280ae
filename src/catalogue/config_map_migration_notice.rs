//! A successful move from CONFIG_MAP to API_AND_CONFIG_MAP. EKS copies node roles
//! into access entries with the `system:nodes` group only; nothing needs fixing.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Severity};

pub static CAUSE: Cause = Cause {
    id: "config-map-migration-notice",
    severity: Severity::Info,
    title: "CONFIG_MAP → API_AND_CONFIG_MAP: node roles now map to system:nodes only",
    docs: util::TROUBLESHOOTING,
    evidence: &[Evidence::CloudTrail],
    needs: &[],
    diagnose,
};

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    if util::successful_mode_change(event)? != "API_AND_CONFIG_MAP" {
        return None;
    }
    let cluster = event.cluster_or_placeholder();
    Some(
        Finding::new(
            &CAUSE,
            format!(
                "Cluster {cluster} is moving from CONFIG_MAP to API_AND_CONFIG_MAP. EKS adds the node IAM roles mapped \
                 in aws-auth as access entries in the system:nodes group only, without system:bootstrappers. That is \
                 expected: nodes need nothing that system:bootstrappers grants, and there is no error to fix."
            ),
        )
        .step("No action is needed for nodes: the system:nodes group gives them every permission they use.")
        .step("Recreate the other aws-auth mappings (people, CI roles) as access entries, then check them with list-access-entries.")
        .step("Only when nothing depends on aws-auth any more, consider moving to API mode: that step cannot be undone.")
        .command(util::list_entries(event))
        .command(util::describe_auth_mode(event)),
    )
}
