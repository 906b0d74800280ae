//! "When EKS Auto Mode is enabled, you must use an EKS access config authentication
//! mode of API_AND_CONFIG_MAP or API": Auto Mode nodes join through access entries.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "auto-mode-requires-access-entries",
    severity: Severity::Error,
    title: "EKS Auto Mode needs authentication mode API or API_AND_CONFIG_MAP",
    docs: "https://docs.aws.amazon.com/eks/latest/userguide/automode.html",
    evidence: &[Evidence::CloudTrail],
    needs: &[],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/grant-k8s-access.html", quote: "Amazon EKS Auto Mode requires Access entries." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/create-cluster-auto.html", quote: "EKS Auto Mode requires EKS access entries, the EKS API authentication mode." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/create-node-class.html", quote: "When creating access entries for EKS Auto Mode node classes, you need to use the EC2 access entry type." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/auto-learn-iam.html", quote: "When you create a new auto mode cluster, EKS automatically creates the corresponding Kubernetes permissions using Access entries, ensuring that AWS services and cluster components have the appropriate access levels within both the AWS and Kubernetes authorization systems." },
    ],
};

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    if !util::mentions(event.message(), &["auto mode", "authentication mode"]) {
        return None;
    }
    let finding = Finding::new(
        &CAUSE,
        format!(
            "Cluster {} asked for EKS Auto Mode with authentication mode CONFIG_MAP. Auto Mode requires access entries: \
             its nodes are admitted through an access entry of type EC2, which CONFIG_MAP clusters do not have.",
            event.cluster_or_placeholder()
        ),
    );
    // The cluster exists only when the refused call was an update of it.
    Some(if event.event_name == "CreateCluster" {
        finding
            .step("Send the same CreateCluster request with authentication mode API (or API_AND_CONFIG_MAP to keep reading aws-auth): the command below repeats the request's other settings.")
            .step("Then give administrators access entries (the cluster creator gets one when bootstrapClusterCreatorAdminPermissions is true).")
            .command(util::create_cluster_again(event, &util::access_config_in(event, "API")))
    } else {
        finding
            .step("Move the cluster to API_AND_CONFIG_MAP first (irreversible; aws-auth keeps working), wait for the update to finish, then enable Auto Mode again.")
            .command(util::update_auth_mode(event, "API_AND_CONFIG_MAP"))
            .command(util::finish(event, util::aws_eks(event, "list-updates", "--name")))
    })
}
