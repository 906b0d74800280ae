//! A successful move to API mode: from now on EKS ignores the aws-auth ConfigMap,
//! and the cluster can never go back. Worth telling whoever did it.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Severity};

pub static CAUSE: Cause = Cause {
    id: "config-map-retired",
    severity: Severity::Info,
    title: "Cluster moved to API mode: the aws-auth ConfigMap is no longer read",
    docs: util::AUTH_MODE,
    evidence: Evidence::CloudTrail,
    needs: &[],
    diagnose,
};

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    if util::successful_mode_change(event)? != "API" {
        return None;
    }
    let cluster = event.cluster_or_placeholder();
    Some(
        Finding::new(
            &CAUSE,
            format!(
                "Cluster {cluster} is moving to authentication mode API. Once the update completes, only access entries \
                 grant access: every mapping left in the aws-auth ConfigMap stops working, and the cluster can never \
                 return to a mode that reads it."
            ),
        )
        .step("Check that every role and user that needs the cluster has an access entry before the update completes.")
        .step("Anyone who loses access must be given an access entry by a principal that still has one.")
        .command(util::list_entries(event))
        .command("kubectl get configmap aws-auth -n kube-system -o yaml")
        .command(util::finish(event, util::aws_eks(event, "list-updates", "--name"))),
    )
}
