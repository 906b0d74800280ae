//! An access entry deleted soon after it was created. That is how someone takes
//! cluster access for a moment and removes the trace, and also how a broken pipeline
//! churns: either way, it is worth a look. The creation time comes from this
//! function's own record of the `CreateAccessEntry` call it saw (the grouping state).

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::{Fact, Facts};
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "short-lived-access-entry",
    severity: Severity::Warning,
    title: "An access entry was deleted soon after it was created",
    docs: util::CREATING_ENTRIES,
    evidence: &[Evidence::CloudTrail],
    needs: &[Fact::EntryHistory],
    diagnose,
    reach: Reach::History,
    sources: &[
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/logging-using-cloudtrail.html", quote: "CloudTrail captures all API calls for Amazon EKS as events." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/control-plane-logs.html", quote: "By default, cluster control plane logs aren't sent to CloudWatch Logs." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/control-plane-logs.html", quote: "Kubernetes audit logs provide a record of the individual users, administrators, or system components that have affected your cluster." },
    ],
};

/// Created and deleted within this many seconds: short-lived.
pub const SHORT_LIVED_SECS: u64 = 3600;

fn diagnose(event: &Event, facts: &Facts) -> Option<Finding> {
    if event.failed() || event.event_name != "DeleteAccessEntry" {
        return None;
    }
    let lived = *facts.entry_lifetime.found()?;
    if lived > SHORT_LIVED_SECS {
        return None;
    }
    let principal = event.principal_or_placeholder();
    let finding = Finding::new(
        &CAUSE,
        format!(
            "The access entry for {principal} on cluster {} was deleted {} after it was created. While it existed, the \
             principal could authenticate to the cluster with whatever the entry granted.",
            event.cluster_or_placeholder(),
            duration(lived)
        ),
    )
    .step("Find out who created and deleted the entry, and why. CloudTrail has both calls, and the commands below look them up.")
    .step("If the principal was not expected to have access, check what it did in the cluster in that time: the cluster's audit log has its requests, if audit logging is enabled.")
    .step("If a pipeline recreates entries as a matter of course, mute this check with MUTE_CAUSES=short-lived-access-entry.")
    .commands(["CreateAccessEntry", "DeleteAccessEntry"].map(|name| {
        util::finish(
            event,
            crate::command::Command::new("aws cloudtrail lookup-events")
                .arg("--lookup-attributes", &format!("AttributeKey=EventName,AttributeValue={name}"))
                .arg("--query", "Events[].CloudTrailEvent"),
        )
    }));
    Some(finding)
}

fn duration(secs: u64) -> String {
    match secs {
        s if s < 120 => format!("{s} seconds"),
        s => format!("{} minutes", s / 60),
    }
}
