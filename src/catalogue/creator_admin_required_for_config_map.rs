//! "bootstrapClusterCreatorAdminPermissions must be true if cluster authentication
//! mode is set to CONFIG_MAP": without access entries, the creator's implicit admin
//! is the only way into a new CONFIG_MAP cluster.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Severity};

pub static CAUSE: Cause = Cause {
    id: "creator-admin-required-for-config-map",
    severity: Severity::Error,
    title: "CONFIG_MAP clusters need bootstrapClusterCreatorAdminPermissions=true",
    docs: util::AUTH_MODE,
    evidence: &[Evidence::CloudTrail],
    needs: &[],
    diagnose,
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
        .command(util::finish(
            event,
            util::aws_eks(event, "create-cluster", "--name")
                .arg("--access-config", "authenticationMode=API_AND_CONFIG_MAP,bootstrapClusterCreatorAdminPermissions=false")
                .arg("--role-arn", "CLUSTER_ROLE_ARN")
                .arg("--resources-vpc-config", "subnetIds=SUBNET_1,SUBNET_2"),
        )),
    )
}
