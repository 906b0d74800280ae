//! "AccessEntry principalArn must be from the same account as the cluster when
//! using types [...]": node roles must live in the cluster's own account.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "node-type-cross-account",
    severity: Severity::Error,
    title: "Node access entries need a role from the cluster's own account",
    docs: util::CREATING_ENTRIES,
    evidence: &[Evidence::CloudTrail],
    needs: &[],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html", quote: "If the type of the access entry is anything other than STANDARD (see next consideration about types), the ARN must be in the same AWS account that your cluster is in." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html", quote: "If the type is STANDARD, the ARN can be in the same, or different, AWS account than the account that your cluster is in." },
        Source { page: "aws/karpenter-provider-aws#7558", quote: "The key was recreating the access entry with the correct type EC2_LINUX instead of STANDARD." },
    ],
};

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    if !util::mentions(event.message(), &["same account as the cluster"]) {
        return None;
    }
    let principal = event.principal_or_placeholder();
    let entry_type = event.entry_type().unwrap_or("EC2_LINUX");
    let principal_account = event.principal().map_or("another account", |p| p.arn.account);
    let cluster_account = event.account_or_placeholder();
    Some(
        Finding::new(
            &CAUSE,
            format!(
                "{principal} belongs to account {principal_account}, but cluster {} is in account {cluster_account}. \
                 Entries of type {entry_type} accept only IAM roles from the cluster's own account.",
                event.cluster_or_placeholder()
            ),
        )
        .step(format!("Give the nodes an IAM role in account {cluster_account} and create the {entry_type} entry for that role."))
        .step("If this role is not used by nodes but by people or workloads of the other account, a STANDARD entry for it is allowed (cross-account roles may have STANDARD entries). Don't give a node role a STANDARD entry: its nodes would authenticate but never join.")
        .command(util::create_entry(event, &event.placeholder_role_arn("NODE_ROLE_NAME"), Some(entry_type), None, &[])),
    )
}
