//! ResourceInUseException "Cannot AccessConfigUpdate because cluster NAME currently
//! has update UUID in progress": one cluster update at a time.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Severity};

pub static CAUSE: Cause = Cause {
    id: "cluster-update-in-progress",
    severity: Severity::Warning,
    title: "Another update to the cluster is still in progress",
    docs: util::AUTH_MODE,
    evidence: &[Evidence::CloudTrail],
    needs: &[],
    diagnose,
};

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    if !util::mentions(event.message(), &["has update", "in progress"]) {
        return None;
    }
    let message = event.message();
    let update_id = message.split_once("has update ").and_then(|(_, rest)| rest.split_whitespace().next()).unwrap_or("UPDATE_ID");
    Some(
        Finding::new(
            &CAUSE,
            format!(
                "Cluster {} is still applying update {update_id}, and EKS runs one cluster update at a time.",
                event.cluster_or_placeholder()
            ),
        )
        .step("Wait until the running update reports Successful (or Failed), then retry the same call.")
        .step("In pipelines, wait for each update to finish before starting the next one.")
        .command(util::finish(event, util::aws_eks(event, "describe-update", "--name").arg("--update-id", update_id))),
    )
}
