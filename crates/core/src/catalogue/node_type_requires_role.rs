//! "AccessEntry principalArn must be IAM role when using types [EC2_LINUX, …]":
//! node entry types stand for machines, which always act through an IAM role.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::{Fact, Facts, PrincipalKind};
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "node-type-requires-role",
    severity: Severity::Error,
    title: "Node access entry types need an IAM role, not a user",
    docs: util::CREATING_ENTRIES,
    evidence: &[Evidence::CloudTrail],
    needs: &[Fact::Principal],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source {
            page: "boto/botocore botocore/data/eks/2017-11-01/service-2.json",
            quote: "For nodes (EC2, EC2_LINUX, EC2_WINDOWS, FARGATE_LINUX, and HYBRID_LINUX), the only valid ARN is IAM roles.",
        },
        Source {
            page: "boto/botocore botocore/data/eks/2017-11-01/service-2.json",
            quote: "Valid values are STANDARD, FARGATE_LINUX, EC2_LINUX, EC2_WINDOWS, EC2, HYBRID_LINUX, and HYPERPOD_LINUX.",
        },
        Source {
            page: "https://repost.aws/knowledge-center/eks-troubleshoot-access-entries",
            quote: "\"AccessEntry principalArn must be IAM role when using types [EC2_LINUX, EC2_WINDOWS, FARGATE_LINUX].\"",
        },
        Source {
            page: "boto/botocore botocore/data/eks/2017-11-01/service-2.json",
            quote: "For STANDARD access entries, you can use every IAM principal type.",
        },
    ],
};

fn diagnose(event: &Event, facts: &Facts) -> Option<Finding> {
    if !util::mentions(event.message(), &["must be iam role", "type"]) {
        return None;
    }
    let entry_type = event.entry_type().unwrap_or("EC2_LINUX");
    let principal = event.principal_or_placeholder();
    let mut finding = Finding::new(
        &CAUSE,
        format!(
            "The access entry for {principal} asked for type {entry_type}. Node types ({}) describe machines, which \
             authenticate with an IAM role, so EKS accepts only role ARNs for them; this principal is not a role.",
            crate::access_entry::node_types_listed()
        ),
    )
    .step(format!("For nodes: create the entry with the nodes' IAM role (the role in their instance profile), type {entry_type}."))
    .step("For a person or an application using this principal: create a STANDARD entry and give it an access policy or Kubernetes groups.")
    .command(util::create_entry(event, &event.placeholder_role_arn("NODE_ROLE_NAME"), Some(entry_type), None, &[]))
    .command(util::create_entry(event, principal, Some("STANDARD"), None, &[]))
    .command(util::associate_policy(event, principal, "AmazonEKSViewPolicy", "type=cluster"));
    if let Some(found) = facts.principal.found() {
        let kind = match found.kind {
            PrincipalKind::User => "an IAM user",
            PrincipalKind::Role => "an IAM role",
        };
        finding = finding.note(format!("Live: IAM says {principal} is {kind}."));
    }
    Some(finding)
}
