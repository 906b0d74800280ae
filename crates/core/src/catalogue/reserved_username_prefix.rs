//! "The username must not begin with system:" (older wording: "… with [eks:, aws:,
//! system:, amazon:, iam:]"): EKS keeps these prefixes for its own identities.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "reserved-username-prefix",
    severity: Severity::Error,
    title: "The username starts with a prefix EKS reserves",
    docs: util::TROUBLESHOOTING,
    evidence: &[Evidence::CloudTrail],
    needs: &[],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html", quote: "It can't start with system:, eks:, aws:, amazon:, or iam:." },
        Source { page: "https://repost.aws/knowledge-center/eks-troubleshoot-access-entries", quote: "\"The username must not begin with [eks:, aws:, system:, amazon:, iam:].\"" },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html", quote: "Unless you have a specific reason for specifying your own username, we recommend that don't specify one and let Amazon EKS auto-generate it for you." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html", quote: "The STS ARN of the role when it's assumed. Amazon EKS appends {{SessionName}} to the role." },
    ],
};

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    if !util::mentions(event.message(), &["username", "not begin with"]) {
        return None;
    }
    let username = event.request.username.as_deref().unwrap_or("USERNAME");
    let prefix = crate::access_entry::reserved_prefix(username).unwrap_or("system:");
    let suggested = crate::access_entry::without_reserved_prefix(username).unwrap_or("my-user");
    let groups: Vec<&str> = event.groups().iter().map(String::as_str).collect();
    Some(
        Finding::new(
            &CAUSE,
            format!(
                "The username {username:?} starts with {prefix:?}. EKS reserves the prefixes system:, eks:, aws:, \
                 amazon: and iam: for its own identities, so no access entry may use them."
            ),
        )
        .step("Best: leave the username out and let EKS generate it (the IAM ARN for users, the assumed-role ARN with {{SessionName}} for roles).")
        .step(format!("Or choose a name without a reserved prefix, such as {suggested:?}, and use the same name in your RoleBindings."))
        .commands(util::retry_entry(event, None, &groups))
        .commands(util::retry_entry(event, Some(suggested), &groups)),
    )
}
