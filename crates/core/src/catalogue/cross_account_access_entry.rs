//! A successful access entry for a principal of another AWS account. Legitimate for
//! central CI or platform accounts, and also how a foreign account quietly keeps a
//! way into a cluster: every one is reported so the owners see it.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "cross-account-access-entry",
    severity: Severity::Warning,
    title: "An access entry lets a principal of another account into the cluster",
    docs: util::CREATING_ENTRIES,
    evidence: &[Evidence::CloudTrail],
    needs: &[],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html", quote: "If the type is STANDARD, the ARN can be in the same, or different, AWS account than the account that your cluster is in." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/security-iam-troubleshoot.html", quote: "You can create a role that users in other accounts or people outside of your organization can use to access your resources. You can specify who is trusted to assume the role." },
    ],
};

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    if event.failed() || event.event_name != "CreateAccessEntry" {
        return None;
    }
    let cluster_account = event.account.as_deref()?;
    let principal = event.principal()?;
    let theirs = principal.arn.account;
    if theirs.is_empty() || theirs == cluster_account {
        return None;
    }
    let arn = event.principal_or_placeholder();
    let finding = Finding::new(
        &CAUSE,
        format!(
            "The new access entry on cluster {} (account {cluster_account}) is for {arn}, a principal of account \
             {theirs}. Anyone who can assume it in that account can now authenticate to this cluster. Whoever controls \
             account {theirs} decides who that is.",
            event.cluster_or_placeholder()
        ),
    )
    .step(format!("Confirm that account {theirs} is one of yours (for example, your organization's CI or platform account) and that this principal should reach the cluster."))
    .step("Check what the entry grants: its Kubernetes groups and its access policies.")
    .step("If the entry should not exist, delete it. If such entries are expected here, mute this check with MUTE_CAUSES=cross-account-access-entry.")
    .command(util::describe_entry(event))
    .command(util::list_associated_policies(event))
    .command(util::finish(event, util::aws_eks(event, "delete-access-entry", "--cluster-name").arg("--principal-arn", arn)));
    Some(finding)
}
