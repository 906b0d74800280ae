//! "The specified principalArn is invalid: invalid principal.": the role or user
//! does not exist as written, most often an SSO role ARN without its path.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::{Fact, Facts, Lookup};
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "invalid-principal",
    severity: Severity::Error,
    title: "The principal ARN does not name an existing IAM role or user",
    docs: util::CREATING_ENTRIES,
    evidence: &[Evidence::CloudTrail],
    needs: &[Fact::Principal],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source { page: "terraform-aws-modules/terraform-aws-eks#2969", quote: "InvalidParameterException: The specified principalArn is invalid: invalid principal." },
        Source { page: "https://docs.aws.amazon.com/singlesignon/latest/userguide/referencingpermissionsets.html", quote: "If your identity source in IAM Identity Center is hosted in us-east-1, there is no aws-region in the ARN." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html", quote: "If the ARN is for an IAM role, it can include a path." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html", quote: "If you don't delete the access entry and ever recreate the IAM principal, even if it has the same ARN, the access entry won't work." },
    ],
};

fn diagnose(event: &Event, facts: &Facts) -> Option<Finding> {
    if !util::mentions(event.message(), &["principalarn is invalid"]) && !util::mentions(event.message(), &["invalid principal"]) {
        return None;
    }
    let principal = event.principal_or_placeholder();
    let parsed = event.principal();
    let role_name = parsed.filter(|p| p.is_role()).map_or("ROLE_NAME", |p| p.name);
    let is_sso_without_path = parsed.is_some_and(|p| p.permission_set().is_some() && p.path == "/");
    let mut finding = Finding::new(&CAUSE, format!("EKS could not find an IAM principal with the ARN {principal}."))
        .step("Check that the role or user exists in that account, and copy its ARN exactly, path included.")
        .step("If the role was deleted and recreated, its new identity differs: delete any old access entry for it and create a new one.");
    if is_sso_without_path {
        finding = finding.step(format!(
            "IAM Identity Center roles live under the path /aws-reserved/sso.amazonaws.com/ (followed by the Identity Center Region, e.g. {}, for instances outside us-east-1): the ARN must include it. The get-role command below prints the exact ARN.",
            crate::arn::iam_role_arn(
                event.partition(),
                event.account_or_placeholder(),
                "/aws-reserved/sso.amazonaws.com/REGION/",
                role_name
            )
        ));
    }
    // get-role finds the role whatever its path and prints its exact ARN.
    let role_arn = crate::command::role_arn_by_name(role_name);
    finding = finding.command(role_arn.to_string());
    if parsed.is_some_and(|p| p.is_role()) {
        let create = util::aws_eks(event, "create-access-entry", "--cluster-name")
            .arg_from("--principal-arn", &role_arn)
            .arg_if("--type", event.entry_type());
        finding = finding.command(util::finish(event, create));
    }
    match &facts.principal {
        Lookup::Absent => finding = finding.note(format!("Live: IAM has no principal {principal}.")),
        Lookup::Found(found) => {
            finding = finding
                .note(format!("Live: IAM does have this principal (path {}); check the account and partition of the cluster.", found.path));
        }
        _ => {}
    }
    Some(finding)
}
