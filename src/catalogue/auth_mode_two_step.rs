//! "Unsupported authentication mode update from CONFIG_MAP to API": a cluster must
//! pass through API_AND_CONFIG_MAP, where both the ConfigMap and access entries work.

use super::util::{self, auth_mode_update};
use crate::event::{Event, Evidence};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Severity};

pub static CAUSE: Cause = Cause {
    id: "auth-mode-two-step",
    severity: Severity::Error,
    title: "CONFIG_MAP clusters must move to API_AND_CONFIG_MAP before API",
    docs: util::MIGRATING,
    evidence: &[Evidence::CloudTrail],
    needs: &[],
    diagnose,
};

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    let (from, to) = auth_mode_update(event.message())?;
    if !(from == "CONFIG_MAP" && to == "API") {
        return None;
    }
    let cluster = event.cluster_or_placeholder();
    Some(
        Finding::new(
            &CAUSE,
            format!(
                "Cluster {cluster} is in CONFIG_MAP mode and cannot jump straight to API. It must first move to \
                 API_AND_CONFIG_MAP, where the aws-auth ConfigMap and access entries both grant access, so the \
                 ConfigMap's mappings can be recreated as access entries before the ConfigMap stops being read."
            ),
        )
        .step("Move the cluster to API_AND_CONFIG_MAP (this cannot be undone) and wait for the update to finish.")
        .step("Create an access entry for every role and user mapped in aws-auth; EKS adds node roles automatically.")
        .step("Test access with the new entries, then move the cluster to API (also irreversible).")
        .command(util::update_auth_mode(event, "API_AND_CONFIG_MAP"))
        .command(util::finish(event, util::aws_eks(event, "list-updates", "--name")))
        .command("kubectl get configmap aws-auth -n kube-system -o yaml")
        .command(util::update_auth_mode(event, "API")),
    )
}
