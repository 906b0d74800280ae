//! ResourceNotFoundException "The specified principalArn could not be found. You
//! can view your available access entries with 'list-access-entries'.": associate,
//! update or delete before the entry exists.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "access-entry-not-found",
    severity: Severity::Error,
    title: "No access entry exists for this principal yet",
    docs: util::CREATING_ENTRIES,
    evidence: &[Evidence::CloudTrail],
    needs: &[],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source { page: "terraform-aws-modules/terraform-aws-eks#3024", quote: "ResourceNotFoundException: The specified principalArn could not be found. You can view your available access entries with 'list-access-entries'." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/access-policies.html", quote: "An existing access entry." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html", quote: "access entry creation and updates are eventually consistent, and may take several seconds to be effective after the initial API call returns successfully." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html", quote: "If the ARN is for an IAM role, it can include a path." },
    ],
};

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    if event.error_code() != "ResourceNotFoundException" || !util::mentions(event.message(), &["principalarn could not be found"]) {
        return None;
    }
    let principal = event.principal_or_placeholder();
    let mut finding = Finding::new(
        &CAUSE,
        format!(
            "Cluster {} has no access entry for {principal}, so {} had nothing to act on.",
            event.cluster_or_placeholder(),
            event.event_name
        ),
    )
    .step("Create the access entry first, then retry. In infrastructure code, make the association depend on the entry.")
    .step("If you expected the entry to exist, compare the ARN with list-access-entries: the path and case must match exactly.")
    .command(util::list_entries(event))
    .command(util::create_entry(event, principal, Some("STANDARD"), None, &[]));
    if let Some(policy) = &event.request.policy_arn {
        let name = policy.rsplit('/').next().unwrap_or(policy);
        let scope = scope_argument(event);
        finding = finding.command(util::associate_policy(event, principal, name, &scope));
    }
    Some(finding)
}

/// The `--access-scope` value of the original request.
pub fn scope_argument(event: &Event) -> String {
    let scope = event.request.access_scope.as_ref();
    let kind = scope.and_then(|s| s.scope_type.as_deref()).unwrap_or("cluster");
    match scope.and_then(|s| s.namespaces.as_ref()).filter(|n| !n.is_empty()) {
        Some(namespaces) => format!("type={kind},namespaces={}", namespaces.join(",")),
        None => format!("type={kind}"),
    }
}
