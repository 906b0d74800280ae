//! "The policyArn parameter format is not valid" / "The specified policyArn could
//! not be found.": EKS access policies are not IAM policies.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "invalid-policy-arn",
    severity: Severity::Error,
    title: "The policy ARN is not an EKS access policy",
    docs: util::ACCESS_POLICIES,
    evidence: &[Evidence::CloudTrail],
    needs: &[],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/access-policies.html", quote: "Amazon EKS access policies include Kubernetes permissions, not IAM permissions." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html", quote: "Access policies don't include IAM permissions or resources." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html", quote: "You can't create your own access policies." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html", quote: "Use any one of the access policies listed on this page, or retrieve a list of all available access policies using the AWS CLI:" },
    ],
};

/// The access policy closest in spirit to an IAM policy name.
fn suggested_policy(requested: &str) -> &'static str {
    let lower = requested.to_ascii_lowercase();
    if lower.contains("clusteradmin") || lower.contains("administrator") {
        "AmazonEKSClusterAdminPolicy"
    } else if lower.contains("admin") {
        "AmazonEKSAdminPolicy"
    } else if lower.contains("edit") || lower.contains("write") || lower.contains("poweruser") {
        "AmazonEKSEditPolicy"
    } else {
        "AmazonEKSViewPolicy"
    }
}

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    let message = event.message();
    if !util::mentions(message, &["policyarn parameter format is not valid"]) && !util::mentions(message, &["policyarn could not be found"])
    {
        return None;
    }
    let requested = event.request.policy_arn.as_deref().unwrap_or("POLICY_ARN");
    let suggestion = suggested_policy(requested);
    let scope = super::access_entry_not_found::scope_argument(event);
    let list = util::list_access_policies(event);
    let example = crate::arn::access_policy_arn(event.partition(), "NAME");
    Some(
        Finding::new(
            &CAUSE,
            format!(
                "{requested} is not an EKS access policy. Access entries take policies named \
                 {example} (AmazonEKSClusterAdminPolicy, AmazonEKSAdminPolicy, \
                 AmazonEKSEditPolicy, AmazonEKSViewPolicy, …); IAM policies cannot be associated."
            ),
        )
        .step(format!("Pick the access policy that matches the intent; the closest to {requested} is {suggestion}."))
        .step("IAM policies control AWS API calls; access policies control Kubernetes permissions. Keep the IAM policy on the role if it needs AWS permissions too.")
        .command(list)
        .command(util::associate_policy(event, event.principal_or_placeholder(), suggestion, &scope)),
    )
}
