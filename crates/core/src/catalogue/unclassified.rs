//! Any failed access-management or cluster-authentication call that no documented
//! cause explains: say everything the event tells, never stay silent.

use super::util;
use crate::event::{Event, Evidence, ACCESS_ENTRY_CALLS};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "unclassified",
    severity: Severity::Warning,
    title: "An EKS access-management call failed for a reason not in the catalogue",
    docs: util::TROUBLESHOOTING,
    evidence: &[Evidence::CloudTrail],
    needs: &[],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source { page: "https://repost.aws/knowledge-center/eks-troubleshoot-access-entries", quote: "Note: If you receive errors when you run AWS Command Line Interface (AWS CLI) commands, then see Troubleshooting errors for the AWS CLI." },
    ],
};

/// Whether a failed call concerns who may reach the cluster (and so deserves a word).
fn is_access_management(event: &Event) -> bool {
    ACCESS_ENTRY_CALLS.contains(&event.event_name.as_str())
        || event.error_code().starts_with("AccessDenied")
        || event.request.access_config.is_some()
        || util::mentions(event.message(), &["authentication mode"])
        || util::mentions(event.message(), &["access entr"])
}

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    if !event.failed() || !is_access_management(event) {
        return None;
    }
    let mut known = vec![format!("{} failed with {}", event.event_name, event.error_code())];
    if let Some(message) = &event.error_message {
        known.push(format!("message: {message:?}"));
    }
    for (label, value) in [
        ("cluster", event.cluster.as_deref()),
        ("principal", event.principal_arn.as_deref()),
        ("type", event.entry_type()),
        ("username", event.request.username.as_deref()),
        ("policy", event.request.policy_arn.as_deref()),
        ("requested authentication mode", event.requested_auth_mode()),
    ] {
        if let Some(value) = value {
            known.push(format!("{label}: {value:?}"));
        }
    }
    if !event.groups().is_empty() {
        known.push(format!("groups: {:?}", event.groups()));
    }
    Some(
        Finding::new(&CAUSE, format!("{}. No documented cause matches this error.", known.join("; ")))
            .step("Read the error message with the parameters above; most access-entry errors name the field at fault.")
            .step("Compare with the AWS troubleshooting article (docs link) and retry once the request is corrected.")
            .step("For ServerException or ThrottlingException, retry with backoff: the request itself may be fine.")
            .command(util::describe_auth_mode(event))
            .command(util::list_entries(event)),
    )
}
