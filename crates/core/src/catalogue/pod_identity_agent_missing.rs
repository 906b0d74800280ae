//! An association made on a cluster where no Pod Identity Agent runs: nothing on the
//! nodes will ever fetch its credentials, and pods fall back to other credentials.

use super::pod_identity;
use crate::event::{Event, Evidence};
use crate::facts::{Fact, Facts, Lookup};
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "pod-identity-agent-missing",
    severity: Severity::Warning,
    title: "No Pod Identity Agent runs on the cluster",
    docs: pod_identity::AGENT_SETUP,
    evidence: &[Evidence::CloudTrail],
    needs: &[Fact::PodIdentityAgent],
    diagnose,
    reach: Reach::Live { wants: new_association },
    sources: &[
        Source {
            page: pod_identity::GUIDE_SOURCE,
            quote: "The EKS Pod Identity Agent is required. It runs as a [.noloc]`Kubernetes` `DaemonSet` on your nodes and only provides credentials to pods on the node that it runs on.",
        },
        Source {
            page: pod_identity::GUIDE_SOURCE,
            quote: "You do not need to install the EKS Pod Identity Agent on EKS Auto Mode Clusters. This capability is built into EKS Auto Mode.",
        },
        Source {
            page: pod_identity::GUIDE_SOURCE,
            quote: "aws eks create-addon --cluster-name my-cluster --addon-name eks-pod-identity-agent --addon-version v1.0.0-eksbuild.1",
        },
        Source {
            page: "awsdocs/amazon-eks-user-guide latest/ug/security/iam-reference/security-iam-awsmanpol.adoc",
            quote: "`eks-auth:AssumeRoleForPodIdentity` – Allow retrieving credentials for EKS workloads on the node. This is required for EKS Pod Identity to function properly.",
        },
    ],
};

/// A successful CreatePodIdentityAssociation: worth asking whether an agent runs.
fn new_association(event: &Event) -> bool {
    !event.failed() && event.event_name == "CreatePodIdentityAssociation"
}

fn diagnose(event: &Event, facts: &Facts) -> Option<Finding> {
    if !new_association(event) || facts.pod_identity_agent != Lookup::Absent {
        return None;
    }
    let cluster = event.cluster_or_placeholder();
    let install = super::util::aws_eks(event, "create-addon", "--cluster-name").arg("--addon-name", "eks-pod-identity-agent");
    Some(
        Finding::new(
            &CAUSE,
            format!(
                "An association was created on {cluster}, but the cluster has no eks-pod-identity-agent add-on and is not in EKS \
                 Auto Mode (which runs the agent itself). Without the agent no pod gets the association's credentials: SDKs fall \
                 through to other credentials, such as the node's role."
            ),
        )
        .note("Live: DescribeAddon found no eks-pod-identity-agent add-on, and DescribeCluster shows Auto Mode off.")
        .step("Install the agent add-on (first command). If you run the agent another way (its Helm chart), check that its DaemonSet runs on the nodes instead.")
        .step("The agent uses the node role: it needs eks-auth:AssumeRoleForPodIdentity, which the AWS managed AmazonEKSWorkerNodePolicy includes.")
        .step("Pods get the credentials when they start after the association exists: restart the workloads that use the service account.")
        .command(super::util::finish(event, install))
        .command(super::util::finish(event, super::util::aws_eks(event, "describe-addon", "--cluster-name").arg("--addon-name", "eks-pod-identity-agent").literal("--query addon.status"))),
    )
}
