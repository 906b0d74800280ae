//! "bootstrapClusterCreatorAdminPermissions must be true if cluster authentication
//! mode is set to CONFIG_MAP": without access entries, the creator's implicit admin
//! is the only way into a new CONFIG_MAP cluster.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "creator-admin-required-for-config-map",
    severity: Severity::Error,
    title: "CONFIG_MAP clusters need bootstrapClusterCreatorAdminPermissions=true",
    docs: util::AUTH_MODE,
    evidence: &[Evidence::CloudTrail],
    needs: &[],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source { page: "terraform-aws-modules/terraform-aws-eks#3206", quote: "InvalidParameterException: bootstrapClusterCreatorAdminPermissions must be true if cluster authentication mode is set to CONFIG_MAP" },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/grant-k8s-access.html", quote: "The IAM principal that created the cluster is the initial user that can access the cluster by using kubectl. The initial user must add other users to the list in the aws-auth ConfigMap and assign permissions that affect the other users within the cluster." },
        Source { page: "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-eks-cluster-accessconfig.html", quote: "Update requires: Replacement" },
        Source { page: "https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateAccessConfigRequest.html", quote: "Specifies whether or not the cluster creator IAM principal was set as a cluster admin access entry during cluster creation time. The default value is true." },
    ],
};

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    if !util::mentions(event.message(), &["bootstrapclustercreatoradminpermissions must be true"]) {
        return None;
    }
    let cluster = event.cluster_or_placeholder();
    Some(
        Finding::new(
            &CAUSE,
            format!(
                "Cluster {cluster} was requested with authentication mode CONFIG_MAP and \
                 bootstrapClusterCreatorAdminPermissions=false. A CONFIG_MAP cluster has no access entries, so the \
                 creator's admin rights are the only way to reach it and write aws-auth; EKS refuses to create a \
                 cluster nobody could administer. The setting can only be chosen at creation."
            ),
        )
        .step("Either keep CONFIG_MAP and set bootstrapClusterCreatorAdminPermissions=true,")
        .step("or (recommended) choose API_AND_CONFIG_MAP or API and grant administrators access entries with AmazonEKSClusterAdminPolicy.")
        .command(util::create_cluster_again(event, "authenticationMode=API_AND_CONFIG_MAP,bootstrapClusterCreatorAdminPermissions=false")),
    )
}
