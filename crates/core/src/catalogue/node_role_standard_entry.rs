//! A `STANDARD` access entry for a role that EC2 may assume: a node role given the
//! wrong entry type, as Karpenter and self-managed node group users hit. The nodes
//! authenticate but never join, because only an `EC2_LINUX`/`EC2_WINDOWS` entry
//! gives them the `system:nodes` group. Read from the role's trust policy (iam:GetRole).

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::{Fact, Facts};
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "node-role-standard-entry",
    severity: Severity::Warning,
    title: "A STANDARD entry for a role EC2 may assume: nodes using it never join",
    docs: util::CREATING_ENTRIES,
    evidence: &[Evidence::CloudTrail],
    needs: &[Fact::Principal],
    diagnose,
    reach: Reach::Live { wants: wants_facts },
    sources: &[
        Source { page: "aws/karpenter-provider-aws#7558", quote: "The key was recreating the access entry with the correct type EC2_LINUX instead of STANDARD." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html", quote: "You can't change the type after the access entry is created." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html", quote: "For Type, if the access entry is for the node role used for self-managed Amazon EC2 nodes, select EC2 Linux or EC2 Windows. Otherwise, accept the default (Standard)." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/create-node-class.html", quote: "When creating access entries for EKS Auto Mode node classes, you need to use the EC2 access entry type." },
    ],
};

/// Whether the event calls for this cause's fact (the role's trust policy): a
/// successful `STANDARD` entry for a role. Nothing matches before the fact is known.
pub fn wants_facts(event: &Event) -> bool {
    !event.failed()
        && event.event_name == "CreateAccessEntry"
        && event.entry_type().is_none_or(|t| t.eq_ignore_ascii_case("STANDARD"))
        && event.principal().is_some_and(|p| p.is_role() && !p.is_service_linked())
}

fn diagnose(event: &Event, facts: &Facts) -> Option<Finding> {
    if !wants_facts(event) {
        return None;
    }
    if !facts.principal.found()?.ec2_may_assume() {
        return None;
    }
    let principal = event.principal_or_placeholder();
    let finding = Finding::new(
        &CAUSE,
        format!(
            "{principal} got a STANDARD access entry on cluster {}, and its trust policy lets ec2.amazonaws.com assume \
             it. If it is a node role (managed or self-managed node groups, Karpenter's node role), nodes using it \
             authenticate but never join: only a node-type entry (EC2_LINUX or EC2_WINDOWS; EC2 for an EKS Auto Mode \
             node role) puts them in system:nodes. The entry type cannot be changed, so the entry has to be created \
             again.",
            event.cluster_or_placeholder()
        ),
    )
    .step("If this is a node role, delete the entry and create it again with type EC2_LINUX (or EC2_WINDOWS for Windows nodes), with no groups and no username. For the node role of an EKS Auto Mode NodeClass, create it with type EC2 and associate AmazonEKSAutoNodePolicy with cluster scope instead.")
    .step("If it is an instance role for people or tools (a bastion host, CI runners), STANDARD is right: mute this check with MUTE_CAUSES=node-role-standard-entry.")
    .command(util::finish(event, util::aws_eks(event, "delete-access-entry", "--cluster-name").arg("--principal-arn", principal)))
    .command(util::create_entry(event, principal, Some("EC2_LINUX"), None, &[]));
    Some(finding)
}
