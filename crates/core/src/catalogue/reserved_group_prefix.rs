//! "The kubernetes group name system:masters is invalid, it cannot start with
//! system:": reserved groups are granted through access policies or entry types.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "reserved-group-prefix",
    severity: Severity::Error,
    title: "A Kubernetes group name starts with a reserved prefix",
    docs: util::ACCESS_POLICIES,
    evidence: &[Evidence::CloudTrail],
    needs: &[],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source {
            page: "terraform-aws-modules/terraform-aws-eks#2915",
            quote: "InvalidParameterException: The kubernetes group name system:masters is invalid, it cannot start with system:",
        },
        Source {
            page: "aws/karpenter-provider-aws#7558",
            quote: "The key was recreating the access entry with the correct type EC2_LINUX instead of STANDARD.",
        },
        Source {
            page: "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html",
            quote: "You can't change the type after the access entry is created.",
        },
        Source {
            page: "https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html",
            quote: "This access policy includes permissions that grant an IAM principal administrator access to a cluster.",
        },
    ],
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
        .or_else(|| event.groups().iter().find(|g| crate::access_entry::reserved_prefix(g).is_some()).cloned())
        .unwrap_or_else(|| "system:masters".to_string())
}

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    if !util::mentions(event.message(), &["group name", "cannot start with"]) {
        return None;
    }
    let group = offending_group(event);
    let principal = event.principal_or_placeholder();
    let prefix = crate::access_entry::reserved_prefix(&group).unwrap_or("system:");
    let other_groups: Vec<&str> =
        event.groups().iter().map(String::as_str).filter(|g| crate::access_entry::reserved_prefix(g).is_none()).collect();
    let mut finding = Finding::new(
        &CAUSE,
        format!(
            "The request put {principal} in Kubernetes group {group:?}, which starts with {prefix:?}. EKS refuses \
             Kubernetes group names with that prefix in access entries; it grants what such groups give through access \
             policies (cluster admin) and entry types (nodes) instead."
        ),
    );
    finding = match group.to_ascii_lowercase().as_str() {
        "system:masters" => finding
            .step("Drop system:masters and associate the AmazonEKSClusterAdminPolicy access policy with cluster scope: it grants the same cluster-admin rights.")
            .commands(util::retry_entry(event, None, &other_groups))
            .command(util::associate_policy(event, principal, "AmazonEKSClusterAdminPolicy", "type=cluster")),
        "system:nodes" | "system:bootstrappers" if event.event_name == "UpdateAccessEntry" => finding
            .step("This principal is a node role whose entry is not a node entry. An entry's type cannot be changed: delete the entry and create it again with type EC2_LINUX (EC2_WINDOWS for Windows nodes, EC2 for an EKS Auto Mode node role, HYBRID_LINUX for hybrid nodes) and no groups; EKS puts it in system:nodes itself.")
            .step("Deleting the entry also removes its access policies, and nodes using the role cannot authenticate until the new entry exists: run the two commands back to back. Then stop your infrastructure code from sending these groups (the Karpenter and Terraform modules that set them need type EC2_LINUX instead).")
            .command(util::describe_entry(event))
            .command(util::finish(event, util::aws_eks(event, "delete-access-entry", "--cluster-name").arg("--principal-arn", principal)))
            .command(util::create_entry(event, principal, Some("EC2_LINUX"), None, &[])),
        "system:nodes" | "system:bootstrappers" => finding
            .step("This principal is a node role: create its entry with type EC2_LINUX (EC2_WINDOWS for Windows nodes, EC2 for an EKS Auto Mode node role, HYBRID_LINUX for hybrid nodes) and no groups; EKS puts it in system:nodes itself.")
            .command(util::create_entry(event, principal, Some("EC2_LINUX"), None, &[])),
        _ => finding
            .step(format!("Rename the group to one without a reserved prefix and use the new name as the subject of your RoleBindings or ClusterRoleBindings (e.g. {:?}).", crate::access_entry::without_reserved_prefix(&group).unwrap_or("my-group")))
            .step("Or grant the permissions with an access policy instead of a group.")
            .commands(util::retry_entry(event, None, &other_groups)),
    };
    Some(finding)
}
