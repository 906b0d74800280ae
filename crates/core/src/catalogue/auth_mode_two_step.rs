//! "Unsupported authentication mode update from CONFIG_MAP to API": a cluster must
//! pass through API_AND_CONFIG_MAP, where both the ConfigMap and access entries work.

use super::util::{self, auth_mode_update};
use crate::event::{Event, Evidence};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "auth-mode-two-step",
    severity: Severity::Error,
    title: "CONFIG_MAP clusters must move to API_AND_CONFIG_MAP before API",
    docs: util::MIGRATING,
    evidence: &[Evidence::CloudTrail],
    needs: &[],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source { page: "pulumi/pulumi-eks#1493", quote: "InvalidParameterException: Unsupported authentication mode update from CONFIG_MAP to API" },
        Source { page: "pulumi/pulumi-aws#4789", quote: "EKS cluster authentication modes can only be changed in the following order CONFIG_MAP -> API_AND_CONFIG_MAP -> API." },
        Source { page: "aws/containers-roadmap#185", quote: "aws-auth ConfigMap entries not associated with MNG or Fargate are not automatically migrated when switching authentication modes. These entries must be migrated manually." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/migrating-access-entries.html", quote: "If you've added entries to the aws-auth ConfigMap on your cluster, we recommend that you create access entries for the existing entries in your aws-auth ConfigMap." },
    ],
};

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    let (from, to) = auth_mode_update(event.message())?;
    if !(from == "CONFIG_MAP" && to == "API") {
        return None;
    }
    let cluster = event.cluster_or_placeholder();
    Some(
        Finding::new(
            &CAUSE,
            format!(
                "Cluster {cluster} is in CONFIG_MAP mode and cannot jump straight to API. It must first move to \
                 API_AND_CONFIG_MAP, where the aws-auth ConfigMap and access entries both grant access, so the \
                 ConfigMap's mappings can be recreated as access entries before the ConfigMap stops being read."
            ),
        )
        .step("Move the cluster to API_AND_CONFIG_MAP (this cannot be undone) and wait for the update to finish.")
        .step("Create an access entry for every role and user mapped in aws-auth. EKS makes entries only for the roles of managed node groups and Fargate profiles: the node roles of self-managed nodes and Karpenter need entries of type EC2_LINUX (or EC2_WINDOWS), hybrid nodes' roles HYBRID_LINUX, or those nodes drop out of the cluster in API mode.")
        .step("Test access with the new entries, then move the cluster to API (also irreversible). `eks-access-doctor preflight` names every mapping that would lose access.")
        .command(util::update_auth_mode(event, "API_AND_CONFIG_MAP"))
        .command(util::finish(event, util::aws_eks(event, "list-updates", "--name")))
        .command("kubectl get configmap aws-auth -n kube-system -o yaml")
        .command(util::create_entry(event, &event.placeholder_role_arn("SELF_MANAGED_NODE_ROLE"), Some("EC2_LINUX"), None, &[]))
        .command(util::update_auth_mode(event, "API")),
    )
}
