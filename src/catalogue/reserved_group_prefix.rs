//! "The kubernetes group name system:masters is invalid, it cannot start with
//! system:": reserved groups are granted through access policies or entry types.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Severity};

pub static CAUSE: Cause = Cause {
    id: "reserved-group-prefix",
    severity: Severity::Error,
    title: "A Kubernetes group name starts with a reserved prefix",
    docs: util::ACCESS_POLICIES,
    evidence: &[Evidence::CloudTrail],
    needs: &[],
    diagnose,
};

/// The group the message names, else the first requested group with a reserved prefix.
fn offending_group(event: &Event) -> String {
    let message = event.message();
    let named = message
        .to_ascii_lowercase()
        .find("group name ")
        .and_then(|at| message[at + "group name ".len()..].split_whitespace().next())
        .map(|g| g.trim_matches(|c| c == '"' || c == '\'' || c == ',').to_string());
    named
        .or_else(|| event.groups().iter().find(|g| util::reserved_prefix(g).is_some()).cloned())
        .unwrap_or_else(|| "system:masters".to_string())
}

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    if !util::mentions(event.message(), &["group name", "cannot start with"]) {
        return None;
    }
    let group = offending_group(event);
    let principal = event.principal_or_placeholder();
    let prefix = util::reserved_prefix(&group).unwrap_or("system:");
    let other_groups: Vec<&str> = event.groups().iter().map(String::as_str).filter(|g| util::reserved_prefix(g).is_none()).collect();
    let mut finding = Finding::new(
        &CAUSE,
        format!(
            "The request put {principal} in Kubernetes group {group:?}, which starts with {prefix:?}. Access entries may \
             not name groups beginning with system:, eks:, aws:, amazon: or iam:; EKS grants those identities through \
             access policies and entry types instead."
        ),
    );
    finding = match group.to_ascii_lowercase().as_str() {
        "system:masters" => finding
            .step("Drop system:masters and associate the AmazonEKSClusterAdminPolicy access policy with cluster scope: it grants the same cluster-admin rights.")
            .commands(util::retry_entry(event, None, &other_groups))
            .command(util::associate_policy(event, principal, "AmazonEKSClusterAdminPolicy", "type=cluster")),
        "system:nodes" | "system:bootstrappers" => finding
            .step("This principal is a node role: create its entry with type EC2_LINUX (or EC2_WINDOWS) and no groups; EKS puts it in system:nodes itself.")
            .command(util::create_entry(event, principal, Some("EC2_LINUX"), None, &[])),
        _ => finding
            .step(format!("Rename the group to one without a reserved prefix and use the new name as the subject of your RoleBindings or ClusterRoleBindings (e.g. {:?}).", group.get(prefix.len()..).unwrap_or("my-group")))
            .step("Or grant the permissions with an access policy instead of a group.")
            .commands(util::retry_entry(event, None, &other_groups)),
    };
    Some(finding)
}
