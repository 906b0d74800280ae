//! A successful move from CONFIG_MAP to API_AND_CONFIG_MAP. EKS makes access entries
//! only for managed node groups' and Fargate profiles' roles: every other mapping,
//! self-managed, Karpenter and hybrid node roles included, needs its own entry
//! before the cluster can move to API.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "config-map-migration-notice",
    severity: Severity::Info,
    title: "CONFIG_MAP → API_AND_CONFIG_MAP: only managed node groups and Fargate get entries from EKS",
    docs: util::MIGRATING,
    evidence: &[Evidence::CloudTrail],
    needs: &[],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source { page: "aws/containers-roadmap#185", quote: "aws-auth ConfigMap entries not associated with MNG or Fargate are not automatically migrated when switching authentication modes. These entries must be migrated manually." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/migrating-access-entries.html", quote: "In the example output, you would create access entries for all entries except the last two entries, since those entries were created by Amazon EKS for a Fargate profile and a managed node group." },
        Source { page: "https://repost.aws/knowledge-center/eks-troubleshoot-access-entries", quote: "There's no error that you must troubleshoot because the migration process maps your node IAM roles to the system:nodes group by default." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/migrating-access-entries.html", quote: "If you remove entries that Amazon EKS created in the ConfigMap without having the equivalent access entries, your cluster won't function properly." },
    ],
};

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    if util::successful_mode_change(event)? != "API_AND_CONFIG_MAP" {
        return None;
    }
    let cluster = event.cluster_or_placeholder();
    Some(
        Finding::new(
            &CAUSE,
            format!(
                "Cluster {cluster} is moving from CONFIG_MAP to API_AND_CONFIG_MAP: aws-auth keeps working and access \
                 entries now work too. EKS creates access entries only for the IAM roles of managed node groups and \
                 Fargate profiles. Every other aws-auth mapping, including the node roles of self-managed nodes, \
                 Karpenter and hybrid nodes, still grants access only through aws-auth, and stops working if the \
                 cluster later moves to API without an entry of its own."
            ),
        )
        .step("Create an access entry for each self-managed or Karpenter node role (type EC2_LINUX, or EC2_WINDOWS for Windows nodes) and each hybrid node role (type HYBRID_LINUX); node entries take no groups or username.")
        .step("Recreate the other aws-auth mappings (people, CI roles) as STANDARD access entries, then check them with list-access-entries.")
        .step("Don't remove the aws-auth entries EKS created for managed node groups and Fargate profiles. Only when nothing depends on aws-auth any more, consider moving to API mode: that step cannot be undone.")
        .command(util::list_entries(event))
        .command("kubectl get configmap aws-auth -n kube-system -o yaml")
        .command(util::create_entry(event, &event.placeholder_role_arn("SELF_MANAGED_NODE_ROLE"), Some("EC2_LINUX"), None, &[]))
        .command(util::create_entry(event, &event.placeholder_role_arn("HYBRID_NODE_ROLE"), Some("HYBRID_LINUX"), None, &[])),
    )
}
