//! "Trust policy of the role provided is invalid": EKS refuses to associate a role that
//! does not let the Pod Identity service assume it and tag the session.

use super::pod_identity::{self, SERVICE};
use crate::event::{Event, Evidence};
use crate::facts::{Fact, Facts};
use crate::finding::{Cause, Finding, Reach, Severity, Source};
use crate::trust::POD_IDENTITY_SERVICE;

pub static CAUSE: Cause = Cause {
    id: "pod-identity-trust-policy",
    severity: Severity::Error,
    title: "The association's role does not trust EKS Pod Identity",
    docs: pod_identity::ASSOCIATION,
    evidence: &[Evidence::CloudTrail],
    needs: &[Fact::AssociationRole],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source {
            page: "hashicorp/terraform-provider-aws#41483",
            quote: "InvalidParameterException: Trust policy of the role provided is invalid",
        },
        Source {
            page: pod_identity::GUIDE_SOURCE,
            quote: "NOTE: The list only contains roles that have the following trust policy which allows EKS Pod Identity to use them.",
        },
        Source {
            page: pod_identity::GUIDE_SOURCE,
            quote: "`sts:TagSession` -- EKS Pod Identity uses `TagSession` to include _session tags_ in the requests to {aws} STS.",
        },
        Source {
            page: pod_identity::GUIDE_SOURCE,
            quote: "\"Sid\": \"AllowEksAuthToAssumeRoleForPodIdentity\", \"Effect\": \"Allow\", \"Principal\": { \"Service\": \"pods.eks.amazonaws.com\" }, \"Action\": [ \"sts:AssumeRole\", \"sts:TagSession\" ]",
        },
    ],
};

fn diagnose(event: &Event, facts: &Facts) -> Option<Finding> {
    let association_call = matches!(event.event_name.as_str(), "CreatePodIdentityAssociation" | "UpdatePodIdentityAssociation");
    if !association_call || !super::util::mentions(event.message(), &["trust policy"]) {
        return None;
    }
    let role = event.association_role().unwrap_or("ROLE_ARN");
    let finding = Finding::new(
        &CAUSE,
        format!(
            "EKS refused to associate {role}: its trust policy must let the Pod Identity service ({POD_IDENTITY_SERVICE}) call \
             sts:AssumeRole, to get the pod's credentials, and sts:TagSession, to add the session tags (cluster, namespace, \
             service account) it always sends."
        ),
    );
    Some(
        pod_identity::trust_fix(finding, &facts.association_role, role, SERVICE)
            .step("Then make the association call again (last command).")
            .command(pod_identity::retry(event)),
    )

}
