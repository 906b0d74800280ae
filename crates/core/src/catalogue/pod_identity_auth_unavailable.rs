//! ThrottlingException, ServiceUnavailableException, InternalServerException from EKS
//! Auth: transient; the agent keeps a pod's cached credentials and tries again.

use super::pod_identity;
use crate::event::{Event, Evidence, ASSUME_ROLE_FOR_POD_IDENTITY};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "pod-identity-auth-unavailable",
    severity: Severity::Info,
    title: "EKS Auth throttled or failed the agent's call",
    docs: pod_identity::EKS_AUTH_ERRORS,
    evidence: &[Evidence::CloudTrail],
    needs: &[],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source { page: pod_identity::EKS_AUTH_MODEL, quote: "The request was denied because your request rate is too high. Reduce the frequency of requests." },
        Source { page: pod_identity::EKS_AUTH_MODEL, quote: "The service is unavailable. Back off and retry the operation." },
        Source { page: pod_identity::EKS_AUTH_MODEL, quote: "These errors are usually caused by a server-side issue." },
        Source {
            page: "aws/eks-pod-identity-agent internal/credsretriever/refreshing_cache.go",
            quote: "Could not renew, will try to keep existing creds. Error is recoverable: %s",
        },
    ],
};

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    let transient = matches!(event.error_code(), "ThrottlingException" | "ServiceUnavailableException" | "InternalServerException");
    if event.event_name != ASSUME_ROLE_FOR_POD_IDENTITY || !transient {
        return None;
    }
    let cluster = event.cluster_or_placeholder();
    let code = event.error_code();
    Some(
        Finding::new(
            &CAUSE,
            format!(
                "EKS Auth answered the Pod Identity Agent on {cluster} with {code}: a throttled or failed call on AWS's side, not a \
                 configuration error. The agent keeps a pod's cached credentials through such errors and retries, so running pods \
                 usually notice nothing; pods starting at that moment may wait for their first credentials."
            ),
        )
        .step("Nothing to change for one event. To see whether it repeats, list the agent's failed calls in the region's event history (the command prints when and from which node); if it does, look for many pods starting at once (a large rollout or a node group scaling out) and spread them, and check the AWS Health Dashboard for EKS in the region.")
        .step("Keep SDKs current in the workloads: they retry credential fetches with backoff.")
        .command(super::util::finish(
            event,
            crate::command::Command::new("aws cloudtrail lookup-events")
                .literal("--lookup-attributes AttributeKey=EventName,AttributeValue=AssumeRoleForPodIdentity")
                .arg("--query", "Events[?contains(CloudTrailEvent, `\"errorCode\"`)].[EventTime,Username]")
                .literal("--output text"),
        )),
    )
}
