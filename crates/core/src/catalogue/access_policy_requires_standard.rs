//! "This operation can only be performed on Access Entries with a type of
//! "STANDARD"": access policies attach only to STANDARD entries.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::{Fact, Facts};
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "access-policy-requires-standard",
    severity: Severity::Error,
    title: "Access policies can only be associated with STANDARD entries",
    docs: util::ACCESS_POLICIES,
    evidence: &[Evidence::CloudTrail],
    needs: &[Fact::AccessEntry],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source {
            page: "https://docs.aws.amazon.com/eks/latest/userguide/access-policies.html",
            quote: "You can assign one or more access policies to access entries of type STANDARD.",
        },
        Source {
            page: "aws-controllers-k8s/community#2144",
            quote: "InvalidParameterException: This operation can only be performed on Access Entries with a type of \"STANDARD\".",
        },
        Source {
            page: "https://docs.aws.amazon.com/eks/latest/userguide/create-node-class.html",
            quote: "The Node IAM Role requires the AmazonEKSAutoNodePolicy EKS Access Policy.",
        },
        Source {
            page: "https://docs.aws.amazon.com/eks/latest/userguide/hybrid-nodes-cluster-prep.html",
            quote: "You cannot add policies to the Hybrid Linux access entry or change its access scope.",
        },
    ],
};

fn diagnose(event: &Event, facts: &Facts) -> Option<Finding> {
    if !util::mentions(event.message(), &["only be performed on access entries", "standard"]) {
        return None;
    }
    let principal = event.principal_or_placeholder();
    let existing = facts.access_entry.found();
    let entry_type = existing.and_then(|e| e.entry_type.as_deref()).unwrap_or("a node type");
    let policy = event.request.policy_arn.as_deref().unwrap_or("the access policy");
    let mut finding = Finding::new(
        &CAUSE,
        format!(
            "The access entry for {principal} has type {entry_type}, and {} works on STANDARD entries. EKS grants the \
             node types ({}) what nodes need itself; the one access policy a node entry takes is \
             AmazonEKSAutoNodePolicy, on the EC2 entry of an EKS Auto Mode node role. {policy} cannot go on this entry.",
            event.event_name,
            crate::access_entry::node_types_listed()
        ),
    )
    .step("If this principal is a node role, leave it as it is: EC2_LINUX, EC2_WINDOWS, FARGATE_LINUX, HYBRID_LINUX and HYPERPOD_LINUX entries need no access policy; an Auto Mode node role's EC2 entry needs only AmazonEKSAutoNodePolicy with cluster scope.")
    .step("If people or applications use it, give them their own role with a STANDARD entry and associate the policy there. An entry's type cannot be changed: recreating it as STANDARD would cut off the nodes using it.")
    .command(util::describe_entry(event))
    .command(util::create_entry(event, &event.placeholder_role_arn("ROLE_NAME"), Some("STANDARD"), None, &[]));
    if let Some(entry) = existing {
        finding = finding.note(format!(
            "Live: the existing entry has type {}, username {}.",
            entry.entry_type.as_deref().unwrap_or("unknown"),
            entry.username.as_deref().unwrap_or("unknown")
        ));
    }
    Some(finding)
}
