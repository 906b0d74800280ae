//! "The specified policyArn can only be associated with service-linked roles": some
//! access policies exist for the roles EKS itself uses (EKS Auto Mode's cluster
//! capabilities) and cannot be given to people or workloads.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "policy-requires-service-linked-role",
    severity: Severity::Error,
    title: "This access policy is reserved for EKS's service-linked roles",
    docs: "https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html",
    evidence: &[Evidence::CloudTrail],
    needs: &[],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html", quote: "This policy is designated for AWS service-linked roles only and cannot be used with customer-managed roles." },
        Source { page: "awsdocs/amazon-eks-user-guide#1003", quote: "Some of our access entry policies are SLR-only, meaning users can't associate them with an access entry." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html", quote: "Amazon EKS automatically creates an access entry with this access policy for the cluster IAM role when Auto Mode is enabled, ensuring that the necessary permissions are in place for the block storage capability to function properly." },
    ],
};

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    if !util::mentions(event.message(), &["can only be associated with service-linked roles"]) {
        return None;
    }
    let principal = event.principal_or_placeholder();
    let policy = event.request.policy_arn.as_deref().and_then(|p| p.rsplit('/').next()).unwrap_or("this access policy");
    Some(
        Finding::new(
            &CAUSE,
            format!(
                "{policy} can only be associated with service-linked roles: EKS uses it for its own components (such \
                 as EKS Auto Mode's), not for people or workloads. {principal} is not a service-linked role."
            ),
        )
        .step("Don't associate it yourself: EKS manages the entries of its service-linked roles.")
        .step("For a person or workload, choose a user-facing access policy (AmazonEKSViewPolicy, AmazonEKSEditPolicy, AmazonEKSAdminPolicy, AmazonEKSClusterAdminPolicy) with the narrowest scope that works, or Kubernetes groups bound by RBAC.")
        .command(util::list_access_policies(event))
        .command(util::associate_policy(event, principal, "AmazonEKSViewPolicy", "type=namespace,namespaces=NAMESPACE")),
    )
}
