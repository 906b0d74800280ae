//! "Access Entry username cannot start with "session"": EKS refuses the username the
//! request set. Why EKS reserves the word is documented nowhere we could read, so the
//! advice says only what the message says, and what avoids it.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "username-session-prefix",
    severity: Severity::Error,
    title: "EKS refuses an access entry username that starts with \"session\"",
    docs: util::CREATING_ENTRIES,
    evidence: &[Evidence::CloudTrail],
    needs: &[],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source { page: "terraform-aws-modules/terraform-aws-eks#3286", quote: "Access Entry username cannot start with \"session\"." },
        Source {
            page: "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html",
            quote: "If you add {{SessionName}} to your username, the username must include a colon before {{SessionName}}.",
        },
    ],
};

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    if !util::mentions(event.message(), &["username cannot start with", "session"]) {
        return None;
    }
    let username = event.request.username.as_deref().unwrap_or("USERNAME");
    let principal = event.principal_or_placeholder();
    let node = event.entry_type().is_some_and(crate::access_entry::is_node_type);
    let groups: Vec<&str> = event.groups().iter().map(String::as_str).collect();
    let finding = Finding::new(
        &CAUSE,
        format!("EKS refused the username {username:?} for {principal}: an access entry's username cannot start with \"session\"."),
    );
    Some(if node {
        finding
            .step("This is a node entry: send no username at all. EKS gives node entries their username itself (system:node:{{EC2PrivateDNSName}} or system:node:{{SessionName}}); in infrastructure code, remove the username from this entry.")
            .commands(util::retry_entry(event, None, &[]))
    } else {
        finding
            .step("Leave the username out and let EKS generate it (the assumed-role ARN with {{SessionName}} for a role, the ARN for a user), or choose one that starts with another word, with a colon before {{SessionName}} if you use it (for example ci:{{SessionName}}).")
            .commands(util::retry_entry(event, None, &groups))
    })
}
