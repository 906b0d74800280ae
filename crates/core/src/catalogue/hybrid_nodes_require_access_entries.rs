//! "AccessConfig AuthMode must be API_AND_CONFIG_MAP or API when remoteNetworkConfig is
//! specified": a cluster for hybrid nodes must read access entries, since hybrid
//! nodes join through a `HYBRID_LINUX` entry.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "hybrid-nodes-require-access-entries",
    severity: Severity::Error,
    title: "Hybrid nodes need authentication mode API or API_AND_CONFIG_MAP",
    docs: "https://docs.aws.amazon.com/eks/latest/userguide/hybrid-nodes-cluster-prep.html",
    evidence: &[Evidence::CloudTrail],
    needs: &[],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source {
            page: "https://docs.aws.amazon.com/eks/latest/userguide/grant-k8s-access.html",
            quote:
                "If you are using hybrid nodes with your cluster, you must use the API or API_AND_CONFIG_MAP cluster authentication modes.",
        },
        Source {
            page: "https://docs.aws.amazon.com/eks/latest/userguide/hybrid-nodes-cluster-prep.html",
            quote: "The CONFIG_MAP-only authentication mode is not supported for hybrid nodes-enabled Amazon EKS clusters.",
        },
        Source {
            page: "https://docs.aws.amazon.com/eks/latest/userguide/hybrid-nodes-cluster-prep.html",
            quote: "There is an Amazon EKS access entry type for hybrid nodes named HYBRID_LINUX that can be used with an IAM role.",
        },
        Source {
            page: "https://docs.aws.amazon.com/eks/latest/userguide/hybrid-nodes-cluster-prep.html",
            quote: "To use the aws-auth ConfigMap, your cluster must have been created with the API_AND_CONFIG_MAP authentication mode.",
        },
    ],
};

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    if !util::mentions(event.message(), &["remotenetworkconfig", "api_and_config_map"]) {
        return None;
    }
    let finding = Finding::new(
        &CAUSE,
        format!(
            "Cluster {} was asked for hybrid nodes (remoteNetworkConfig) with authentication mode CONFIG_MAP, which hybrid \
             nodes do not support: they join through an access entry of type HYBRID_LINUX.",
            event.cluster_or_placeholder()
        ),
    );
    let then = "Then create a HYBRID_LINUX access entry for the hybrid nodes' IAM role (no groups, no username).";
    Some(if event.event_name == "CreateCluster" {
        finding
            .step("Send the same CreateCluster request with authentication mode API_AND_CONFIG_MAP (or API): the command below repeats the request's other settings.")
            .step(then)
            .command(util::create_cluster_again(event, &util::access_config_in(event, "API_AND_CONFIG_MAP")))
            .command(util::create_entry(event, &event.placeholder_role_arn("HYBRID_NODE_ROLE"), Some("HYBRID_LINUX"), None, &[]))
    } else {
        finding
            .step("Move the cluster to API_AND_CONFIG_MAP first (irreversible; aws-auth keeps working), wait for the update to finish, then configure the remote networks again.")
            .step(then)
            .command(util::update_auth_mode(event, "API_AND_CONFIG_MAP"))
            .command(util::create_entry(event, &event.placeholder_role_arn("HYBRID_NODE_ROLE"), Some("HYBRID_LINUX"), None, &[]))
    })
}
