//! "setting kubernetesGroups is not allowed when the type is "EC2_LINUX"" (and the
//! username variant): EKS names node identities itself.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Severity};

pub static CAUSE: Cause = Cause {
    id: "node-type-rejects-groups",
    severity: Severity::Error,
    title: "Node access entries take no Kubernetes groups or username",
    docs: util::CREATING_ENTRIES,
    evidence: &[Evidence::CloudTrail],
    needs: &[],
    diagnose,
};

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    let message = event.message();
    let groups = util::mentions(message, &["kubernetesgroups", "not allowed"]);
    let username = util::mentions(message, &["username", "not allowed"]);
    if !groups && !username {
        return None;
    }
    let entry_type = event.entry_type().unwrap_or("EC2_LINUX");
    let field = if groups { "Kubernetes groups" } else { "a username" };
    Some(
        Finding::new(
            &CAUSE,
            format!(
                "The {entry_type} entry for {} set {field}. EKS assigns node identities itself (username \
                 system:node:{{{{EC2PrivateDNSName}}}} or system:node:{{{{SessionName}}}}, group system:nodes), so node \
                 types accept neither groups nor a username.",
                event.principal_or_placeholder()
            ),
        )
        .step("Create the entry again without --kubernetes-groups and --username.")
        .step("If this principal also needs extra Kubernetes permissions, it is not a node: use a STANDARD entry instead.")
        .command(util::create_entry(event, event.principal_or_placeholder(), Some(entry_type), None, &[])),
    )
}
