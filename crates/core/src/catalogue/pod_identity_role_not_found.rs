//! "Role provided in the request does not exist": the role is missing, or IAM has not
//! yet propagated a role created moments before (Terraform retries on this message).

use super::pod_identity::{self, SERVICE};
use crate::event::{Event, Evidence};
use crate::facts::{Fact, Facts, Lookup};
use crate::finding::{Cause, Finding, Reach, Severity, Source};
use crate::trust;

pub static CAUSE: Cause = Cause {
    id: "pod-identity-role-not-found",
    severity: Severity::Error,
    title: "The association's role does not exist (yet)",
    docs: pod_identity::ASSOCIATION,
    evidence: &[Evidence::CloudTrail],
    needs: &[Fact::AssociationRole],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source {
            page: "hashicorp/terraform-provider-aws#34717",
            quote: "Retry Create and Update on `InvalidParameterException: Role provided in the request does not exist`.",
        },
        Source {
            page: pod_identity::EKS_MODEL,
            quote: "Similar to Amazon Web Services IAM behavior, EKS Pod Identity associations are eventually consistent, and may take several seconds to be effective after the initial API call returns successfully.",
        },
    ],
};

fn diagnose(event: &Event, facts: &Facts) -> Option<Finding> {
    let association_call = matches!(event.event_name.as_str(), "CreatePodIdentityAssociation" | "UpdatePodIdentityAssociation");
    if !association_call || !super::util::mentions(event.message(), &["role", "does not exist"]) {
        return None;
    }
    let role = event.association_role().unwrap_or("ROLE_ARN");
    let name = pod_identity::role_name(role).unwrap_or("ROLE_NAME");
    let finding = Finding::new(
        &CAUSE,
        format!(
            "EKS could not find {role} in IAM. Either the role does not exist (a typo, another account, or deleted), or it was \
             created moments before the call and IAM had not yet made it visible: IAM changes take a few seconds to propagate."
        ),
    );
    // The role is made where the request expects it: its path too.
    let path = crate::arn::Arn::parse(role).and_then(|a| a.principal()).map(|p| p.path).filter(|p| *p != "/");
    let create = || {
        let trust = trust::policy(trust::statement(SERVICE, &trust::POD_IDENTITY_ACTIONS));
        crate::command::Command::new("aws iam create-role")
            .arg("--role-name", name)
            .arg_if("--path", path)
            .arg("--assume-role-policy-document", &trust.to_string())
            .to_string()
    };
    // The same first line whatever is known: it prints the role, or creates it when missing.
    let get_or_create = format!("{} || {}", crate::command::role_arn_by_name(name), create());
    Some(match &facts.association_role {
        Lookup::Found(live) => finding
            .note(format!("Live: IAM has {} now, so the call came before IAM had propagated it.", live.arn))
            .step("Make the call again (below); in automation, retry this error for a short while after creating the role.")
            .command(pod_identity::retry(event)),
        Lookup::Absent => finding
            .note(format!("Live: IAM has no role named {name} in this account."))
            .step("Create the role with the trust policy Pod Identity needs (the first command creates it, as the role is missing), wait until IAM shows it, attach the permissions the pods need, then make the call again.")
            .command(get_or_create)
            .command(wait_for(name))
            .command(pod_identity::retry(event)),
        _ => finding
            .step("The first command prints the role if it exists and creates it, with the trust policy Pod Identity needs, if not; then wait until IAM shows it and make the call again. A role created here needs the permissions the pods need attached.")
            .command(get_or_create)
            .command(wait_for(name))
            .command(pod_identity::retry(event)),
    })
}

/// Waits until IAM answers for the role (the AWS CLI's `role-exists` waiter).
fn wait_for(name: &str) -> String {
    crate::command::Command::new("aws iam wait role-exists").arg("--role-name", name).to_string()
}
