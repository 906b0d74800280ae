//! InvalidRequestException / InvalidParameterException from EKS Auth: the agent's
//! request itself was wrong for the cluster, which points at the agent or the node.

use super::pod_identity;
use crate::event::{Event, Evidence, ASSUME_ROLE_FOR_POD_IDENTITY};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "pod-identity-request-rejected",
    severity: Severity::Error,
    title: "EKS Auth rejected the agent's request",
    docs: pod_identity::EKS_AUTH_ERRORS,
    evidence: &[Evidence::CloudTrail],
    needs: &[],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source {
            page: pod_identity::EKS_AUTH_MODEL,
            quote: "This exception is thrown if the request contains a semantic error. The precise meaning will depend on the API, and will be documented in the error message.",
        },
        Source { page: pod_identity::EKS_AUTH_MODEL, quote: "The specified parameter is invalid. Review the available parameters for the API request." },
        Source {
            page: pod_identity::EKS_AUTH_MODEL,
            quote: "The Amazon EKS Auth API and the AssumeRoleForPodIdentity action are only used by the EKS Pod Identity Agent.",
        },
    ],
};

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    let rejected = matches!(event.error_code(), "InvalidRequestException" | "InvalidParameterException");
    if event.event_name != ASSUME_ROLE_FOR_POD_IDENTITY || !rejected {
        return None;
    }
    let cluster = event.cluster_or_placeholder();
    let message = match event.message() {
        "" => "no message".to_string(),
        text => format!("\"{text}\""),
    };
    let describe = super::util::aws_eks(event, "describe-addon", "--cluster-name")
        .arg("--addon-name", "eks-pod-identity-agent")
        .literal("--query 'addon.[addonVersion,status]'");
    Some(
        Finding::new(
            &CAUSE,
            format!(
                "EKS Auth refused the Pod Identity Agent's request for {cluster} as malformed ({}: {message}). Only the agent calls \
                 this API, so the request comes from the agent's version or configuration, or from the node (its cluster name, its \
                 identity), not from the workload.",
                event.error_code()
            ),
        )
        .step("Read the error message above: EKS Auth says there what it found wrong.")
        .step("Check the agent add-on's version and status (first command) and update it to the version EKS recommends for the cluster (second command lists them).")
        .command(super::util::finish(event, describe))
        .command(super::util::finish(
            event,
            crate::command::Command::new("aws eks describe-addon-versions")
                .arg("--addon-name", "eks-pod-identity-agent")
                .literal("--query 'addons[0].addonVersions[0].addonVersion'"),
        )),
    )
}
