//! ResourceNotFoundException from EKS Auth: the cluster, or the association of the pod's
//! service account, is not there (deleted while pods still use it, or never made).

use super::pod_identity;
use crate::event::{Event, Evidence, ASSUME_ROLE_FOR_POD_IDENTITY};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "pod-identity-association-gone",
    severity: Severity::Warning,
    title: "EKS Auth found no association for the pod",
    docs: pod_identity::ASSOCIATION,
    evidence: &[Evidence::CloudTrail],
    needs: &[],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source { page: pod_identity::EKS_AUTH_MODEL, quote: "The specified resource could not be found." },
        Source {
            page: pod_identity::EKS_MODEL,
            quote: "The temporary Amazon Web Services credentials from the previous IAM role session might still be valid until the session expiry.",
        },
        Source {
            page: "aws/eks-pod-identity-agent internal/cloud/eksauth/errors.go",
            quote: "case *types.ResourceNotFoundException, *types.ExpiredTokenException, *types.InvalidTokenException, *types.AccessDeniedException: return ae.ErrorCode(), true",
        },
    ],
};

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    if event.event_name != ASSUME_ROLE_FOR_POD_IDENTITY || event.error_code() != "ResourceNotFoundException" {
        return None;
    }
    let cluster = event.cluster_or_placeholder();
    Some(
        Finding::new(
            &CAUSE,
            format!(
                "EKS Auth found nothing to give credentials for on {cluster}: the association of the pod's service account was \
                 deleted while the pod still runs with the Pod Identity token EKS mounted when it started. The agent drops the \
                 pod's cached credentials on this error, so the pod now has none."
            ),
        )
        .step("List the cluster's associations (first command). If the pod's service account should have one, create it again; if not, restart the pod so it starts without Pod Identity's environment.")
        .step("Deleting an association does not restart its pods: restart or redeploy the workloads when you remove one.")
        .command(pod_identity::describe_every_association(event)),
    )
}
