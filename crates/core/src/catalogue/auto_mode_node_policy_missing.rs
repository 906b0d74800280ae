//! An `EC2` access entry (the type of an EKS Auto Mode node role) that, a while after
//! its creation, still has no `AmazonEKSAutoNodePolicy`: Auto Mode nodes with that
//! role authenticate, but cannot do what nodes do. Judged on the delayed second look,
//! like `access-entry-grants-nothing`, since the association usually follows the
//! entry within seconds.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::{Fact, Facts};
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "auto-mode-node-policy-missing",
    severity: Severity::Warning,
    title: "An EKS Auto Mode node role's entry lacks AmazonEKSAutoNodePolicy",
    docs: "https://docs.aws.amazon.com/eks/latest/userguide/create-node-class.html",
    evidence: &[Evidence::CloudTrail],
    needs: &[Fact::SettledEntry],
    diagnose,
    reach: Reach::SecondLook { wants: wants_second_look },
    sources: &[
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/create-node-class.html", quote: "The Node IAM Role requires the AmazonEKSAutoNodePolicy EKS Access Policy." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html", quote: "If you manually specifiy a Node IAM role in a NodeClass, you need to create an Access Entry that associates the new Node IAM role with this Access Policy." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/create-node-class.html", quote: "If you create a custom node class, you need to create an EKS Access Entry to permit the nodes to join the cluster." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/create-node-class.html", quote: "When creating access entries for EKS Auto Mode node classes, you need to use the EC2 access entry type." },
    ],
};

const NODE_POLICY: &str = "AmazonEKSAutoNodePolicy";

/// Whether the entry this event created needs a second look: a successful `EC2` entry.
pub fn wants_second_look(event: &Event) -> bool {
    !event.failed() && event.event_name == "CreateAccessEntry" && event.entry_type().is_some_and(|t| t.eq_ignore_ascii_case("EC2"))
}

fn diagnose(event: &Event, facts: &Facts) -> Option<Finding> {
    if !wants_second_look(event) {
        return None;
    }
    let entry = facts.settled_entry.found()?;
    if entry.policies.iter().any(|p| p.rsplit('/').next() == Some(NODE_POLICY)) {
        return None;
    }
    let principal = event.principal_or_placeholder();
    Some(
        Finding::new(
            &CAUSE,
            format!(
                "The EC2 access entry for {principal} on cluster {} still has no access policy {NODE_POLICY}. An EKS \
                 Auto Mode NodeClass's node role needs an access entry of type EC2 with {NODE_POLICY} at cluster \
                 scope; without the policy, nodes launched with this role cannot work as nodes.",
                event.cluster_or_placeholder()
            ),
        )
        .step(format!("Associate {NODE_POLICY} with cluster scope on the entry."))
        .step("If the role is not an Auto Mode node role, the entry has the wrong type: EC2 is for Auto Mode nodes only (EC2_LINUX or EC2_WINDOWS for self-managed nodes).")
        .command(util::associate_policy(event, principal, NODE_POLICY, "type=cluster"))
        .command(util::list_associated_policies(event)),
    )
}
