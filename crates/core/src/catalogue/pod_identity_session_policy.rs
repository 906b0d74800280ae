//! A session policy with session tags left on: STS packs both into one size-limited
//! blob, so EKS requires `disableSessionTags` whenever `policy` is set.

use super::pod_identity;
use crate::event::{Event, Evidence};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "pod-identity-session-policy-needs-tags-off",
    severity: Severity::Error,
    title: "A Pod Identity session policy needs session tags disabled",
    docs: "https://docs.aws.amazon.com/eks/latest/userguide/pod-id-assign-target-role.html",
    evidence: &[Evidence::CloudTrail],
    needs: &[],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source { page: pod_identity::EKS_MODEL, quote: "Session tags: When using this policy, disableSessionTags must be set to true." },
        Source {
            page: "https://aws.amazon.com/blogs/containers/session-policies-for-amazon-eks-pod-identity/",
            quote: "If you attempt to create or update a pod identity association with both a policy and session tags enabled (or omit the `--disable-session-tags` flag), you will receive a `PackedPolicyTooLarge` validation error during the API call.",
        },
        Source {
            page: "https://docs.aws.amazon.com/eks/latest/userguide/pod-id-abac.html",
            quote: "By default, EKS Pod Identity attaches a set of predefined tags to your session.",
        },
    ],
};

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    let association_call = matches!(event.event_name.as_str(), "CreatePodIdentityAssociation" | "UpdatePodIdentityAssociation");
    let has_policy = event.request.policy.as_ref().is_some_and(|p| !p.is_null());
    let tags_on = event.request.disable_session_tags != Some(true);
    let about_it = super::util::mentions(event.message(), &["packedpolicytoolarge"])
        || super::util::mentions(event.message(), &["session tag"])
        || event.error_code() == "InvalidParameterException";
    if !association_call || !event.failed() || !has_policy || !tags_on || !about_it {
        return None;
    }
    Some(
        Finding::new(
            &CAUSE,
            "The association sets a session policy but leaves EKS Pod Identity's session tags on. STS packs session policies and \
             session tags into one size-limited blob, so EKS accepts a session policy only with session tags disabled.",
        )
        .step("Make the call again with --disable-session-tags (below), keeping the session policy.")
        .step("Without session tags, policies that match aws:PrincipalTag/kubernetes-namespace or the other Pod Identity tags (ABAC) stop matching: check the role's policies and, for a target role, its trust policy, which then sees sts:ExternalId instead of the tags.")
        .command(match event.event_name.as_str() {
            "UpdatePodIdentityAssociation" => pod_identity::update_with_tags_off(event),
            _ => pod_identity::create_association(event, event.association_role().unwrap_or("ROLE_ARN"), true),
        }),
    )
}
