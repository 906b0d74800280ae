//! InvalidTokenException / ExpiredTokenException: EKS Auth refused the service account
//! token the agent passed on from the pod.

use super::pod_identity;
use crate::event::{Event, Evidence, ASSUME_ROLE_FOR_POD_IDENTITY};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "pod-identity-token-rejected",
    severity: Severity::Error,
    title: "EKS Auth rejected the pod's service account token",
    docs: pod_identity::EKS_AUTH_ERRORS,
    evidence: &[Evidence::CloudTrail],
    needs: &[],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source { page: pod_identity::EKS_AUTH_MODEL, quote: "The specified Kubernetes service account token is invalid." },
        Source { page: pod_identity::EKS_AUTH_MODEL, quote: "The specified Kubernetes service account token is expired." },
        Source {
            page: pod_identity::GUIDE_SOURCE,
            quote: "- serviceAccountToken: audience: pods.eks.amazonaws.com expirationSeconds: 86400 # 24 hours path: eks-pod-identity-token",
        },
    ],
};

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    let expired = event.error_code() == "ExpiredTokenException";
    if event.event_name != ASSUME_ROLE_FOR_POD_IDENTITY || !(expired || event.error_code() == "InvalidTokenException") {
        return None;
    }
    let cluster = event.cluster_or_placeholder();
    let node = event.caller.as_deref().unwrap_or("a node");
    let what = if expired { "has expired" } else { "is not valid for EKS Pod Identity" };
    let finding = Finding::new(
        &CAUSE,
        format!(
            "The Pod Identity Agent on {node} passed a pod's service account token to EKS Auth for {cluster}, and the token {what}. \
             EKS mounts a projected token with audience pods.eks.amazonaws.com, valid 24 hours and renewed by the kubelet, into \
             every pod whose service account has an association."
        ),
    );
    let finding = if expired {
        finding
            .step("A pod whose kubelet stopped renewing its projected token (a node under pressure, a pod stuck for more than a day, a clock far off) sends an expired one: restart the pod, and check the node's clock and kubelet.")
    } else {
        finding
            .step("The token must be the one EKS mounted (AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, audience pods.eks.amazonaws.com) from this cluster: an application that sends its own token, or a pod manifest that overrides that path or variable, sends one EKS Auth rejects.")
            .step("If pods started before the association or before the cluster's service account issuer changed, restart them so EKS mounts a fresh token.")
    };
    let finding = match instance_id(event) {
        Some(id) => finding.step(format!(
            "The node is EC2 instance {id}: the first command lists the nodes with their instance (find {id} in it), the second the pods on that node."
        )),
        None => finding.step("The first command lists the nodes with their EC2 instance; the second, the pods on the node the event's identity names."),
    };
    Some(
        finding
            .command("kubectl get nodes -o custom-columns=NAME:.metadata.name,INSTANCE:.spec.providerID")
            .command("kubectl get pods --all-namespaces --field-selector spec.nodeName=NODE_NAME"),
    )
}

/// The node's EC2 instance id: the session name of the node role's session.
fn instance_id(event: &Event) -> Option<&str> {
    event.caller.as_deref().and_then(|arn| arn.rsplit('/').next()).filter(|id| id.starts_with("i-"))
}
