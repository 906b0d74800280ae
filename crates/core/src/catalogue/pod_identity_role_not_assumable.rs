//! "Unauthorized Exception! EKS does not have permissions to assume the associated
//! role.": the agent's call reached EKS Auth, but STS refused EKS the pod's role.

use super::pod_identity;
use crate::event::{Event, Evidence, ASSUME_ROLE_FOR_POD_IDENTITY};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Reach, Severity, Source};
use crate::trust::POD_IDENTITY_SERVICE;

pub static CAUSE: Cause = Cause {
    id: "pod-identity-role-not-assumable",
    severity: Severity::Error,
    title: "EKS could not assume the pod's associated role",
    docs: "https://docs.aws.amazon.com/eks/latest/userguide/pod-id-role.html",
    evidence: &[Evidence::CloudTrail],
    needs: &[],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source {
            page: "https://docs.aws.amazon.com/eks/latest/userguide/pod-id-role.html",
            quote: "You can use these tags in the condition keys in the trust policy to restrict which service accounts, namespaces, and clusters can use this role.",
        },
        Source {
            page: "aws/eks-pod-identity-agent internal/cloud/eksauth/errors.go",
            quote: "case *types.ResourceNotFoundException, *types.ExpiredTokenException, *types.InvalidTokenException, *types.AccessDeniedException: return ae.ErrorCode(), true",
        },
        Source { page: pod_identity::GUIDE_SOURCE, quote: "`sts:TagSession` -- EKS Pod Identity uses `TagSession` to include _session tags_ in the requests to {aws} STS." },
        Source {
            page: "https://docs.aws.amazon.com/eks/latest/userguide/pod-id-assign-target-role.html",
            quote: "Pod Identity then automatically performs two role assumptions in sequence: first assuming the EKS Pod Identity role, then using those credentials to assume the Target IAM Role.",
        },
    ],
};

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    if event.event_name != ASSUME_ROLE_FOR_POD_IDENTITY || !super::util::mentions(event.message(), &["does not have permissions to assume"]) {
        return None;
    }
    let cluster = event.cluster_or_placeholder();
    let node = event.caller.as_deref().unwrap_or("a node");
    Some(
        Finding::new(
            &CAUSE,
            format!(
                "The Pod Identity Agent on {node} asked EKS Auth for a pod's credentials on {cluster}, and EKS could not assume the \
                 role of the pod's association: the role's trust policy does not let {POD_IDENTITY_SERVICE} take sts:AssumeRole and \
                 sts:TagSession, or a Condition in it (on the cluster, namespace or service account tags) does not match this pod. \
                 With a target role, the association's role must also be allowed to assume the target role, and the target role to \
                 trust it. The agent drops the pod's cached credentials on this error, so the pod has none."
            ),
        )
        .step("Find the association of the failing pod's namespace and service account (the first command lists every association with its role and target role).")
        .step(format!("Read that role's trust policy (second command, with the role's name): it needs an Allow for Principal Service {POD_IDENTITY_SERVICE} with sts:AssumeRole and sts:TagSession, and any Condition must match the pod's cluster, namespace and service account."))
        .step("For a target role: the association's role needs sts:AssumeRole and sts:TagSession on it, and its trust policy must allow the association's role (or disable session tags and match sts:ExternalId).")
        .step("After the fix, restart the pod (or wait for the agent to retry): the error is not cached.")
        .command(pod_identity::describe_every_association(event))
        .command(pod_identity::get_trust("ROLE_NAME")),
    )
}
