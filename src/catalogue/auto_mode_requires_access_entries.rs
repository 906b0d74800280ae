//! "When EKS Auto Mode is enabled, you must use an EKS access config authentication
//! mode of API_AND_CONFIG_MAP or API": Auto Mode nodes join through access entries.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Severity};

pub static CAUSE: Cause = Cause {
    id: "auto-mode-requires-access-entries",
    severity: Severity::Error,
    title: "EKS Auto Mode needs authentication mode API or API_AND_CONFIG_MAP",
    docs: "https://docs.aws.amazon.com/eks/latest/userguide/automode.html",
    evidence: &[Evidence::CloudTrail],
    needs: &[],
    diagnose,
};

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    if !util::mentions(event.message(), &["auto mode", "authentication mode"]) {
        return None;
    }
    Some(
        Finding::new(
            &CAUSE,
            format!(
                "Cluster {} asked for EKS Auto Mode with authentication mode CONFIG_MAP. Auto Mode nodes are admitted \
                 through an access entry of type EC2, which CONFIG_MAP clusters do not have.",
                event.cluster_or_placeholder()
            ),
        )
        .step("Create the cluster with authentication mode API_AND_CONFIG_MAP (keeps aws-auth working) or API.")
        .step("For an existing cluster, move it to API_AND_CONFIG_MAP first (irreversible), then enable Auto Mode.")
        .command(util::update_auth_mode(event, "API_AND_CONFIG_MAP")),
    )
}
