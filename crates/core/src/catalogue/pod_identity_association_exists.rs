//! "Association already exists": EKS allows one association per service account, so a
//! second create (a re-run, another tool, a changed role) is refused.

use super::pod_identity;
use crate::event::{Event, Evidence};
use crate::facts::{Fact, Facts, Lookup};
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "pod-identity-association-exists",
    severity: Severity::Warning,
    title: "The service account already has a Pod Identity association",
    docs: pod_identity::ASSOCIATION,
    evidence: &[Evidence::CloudTrail],
    needs: &[Fact::PodAssociations],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source {
            page: pod_identity::GUIDE_SOURCE,
            quote: "You can associate one IAM role to each [.noloc]`Kubernetes` service account in each cluster. You can change which role is mapped to the service account by editing the EKS Pod Identity association.",
        },
        Source { page: "eksctl-io/eksctl#7753", quote: "ResourceInUseException: Association already exists" },
        Source { page: pod_identity::EKS_MODEL, quote: "The specified resource is in use." },
    ],
};

fn diagnose(event: &Event, facts: &Facts) -> Option<Finding> {
    if event.event_name != "CreatePodIdentityAssociation"
        || !(event.error_code() == "ResourceInUseException" || super::util::mentions(event.message(), &["already exists"]))
    {
        return None;
    }
    let request = &event.request;
    let (namespace, account) =
        (request.namespace.as_deref().unwrap_or("NAMESPACE"), request.service_account.as_deref().unwrap_or("SERVICE_ACCOUNT"));
    let role = event.association_role().unwrap_or("ROLE_ARN");
    let finding = Finding::new(
        &CAUSE,
        format!(
            "Service account {namespace}/{account} already has a Pod Identity association: EKS allows one per service account, \
             so it refused a second one for {role}."
        ),
    );
    // The look comes first, live facts or not: it shows what the service account has.
    let finding = finding.command(pod_identity::list_associations(event));
    Some(match facts.pod_associations.found().and_then(|found| found.first()) {
        Some(existing) if existing.role_arn.as_deref() == Some(role) && existing.target_role_arn == request.target_role_arn => finding
            .note(format!("Live: association {} already maps this service account to {role}: nothing to do.", existing.association_id))
            .step("The association you asked for exists (a second run of the same change): no action is needed. Make the create idempotent in your tooling (import the association, or look it up first)."),
        Some(existing) => finding
            .note(format!(
                "Live: association {} maps this service account to {}.",
                existing.association_id,
                existing.role_arn.as_deref().unwrap_or("an unknown role")
            ))
            .step(format!("To switch the service account to {role}, update the existing association (second command) instead of creating one; pods get the new role's credentials when they next refresh them."))
            .command(pod_identity::update_association(event, &existing.association_id, role)),
        None => {
            let finding = finding
                .step("Find the existing association (first command) and compare its role with the one you asked for.")
                .step(format!("If it is another role, update the association to {role} (second command, with the association id the first one prints); if it is the same, there is nothing to do."))
                .command(pod_identity::update_association(event, "ASSOCIATION_ID", role));
            match &facts.pod_associations {
                Lookup::Found(_) => finding
                    .note("Live: the service account has no association now: it was deleted since, and the create can be made again (last command).")
                    .command(pod_identity::retry(event)),
                _ => finding,
            }
        }
    })
}
