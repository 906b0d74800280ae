//! "The specified principalArn is invalid: invalid principal.": the role or user
//! does not exist as written, most often an SSO role ARN without its path.

use super::util;
use crate::event::Event;
use crate::facts::{Facts, Lookup};
use crate::finding::{Cause, Finding, Severity};

pub static CAUSE: Cause = Cause {
    id: "invalid-principal",
    severity: Severity::Error,
    title: "The principal ARN does not name an existing IAM role or user",
    docs: util::CREATING_ENTRIES,
    diagnose,
};

fn diagnose(event: &Event, facts: &Facts) -> Option<Finding> {
    if !util::mentions(event.message(), &["principalarn is invalid"]) && !util::mentions(event.message(), &["invalid principal"]) {
        return None;
    }
    let principal = event.principal_or_placeholder();
    let role_name = util::arn_role_name(principal).map_or("ROLE_NAME", |(_, name)| name);
    let is_sso_without_path = role_name.starts_with("AWSReservedSSO_") && !principal.contains("/aws-reserved/");
    let mut finding = Finding::new(&CAUSE, format!("EKS could not find an IAM principal with the ARN {principal}."))
        .step("Check that the role or user exists in that account, and copy its ARN exactly, path included.")
        .step("If the role was deleted and recreated, its new identity differs: delete any old access entry for it and create a new one.");
    if is_sso_without_path {
        finding = finding.step(
            "IAM Identity Center roles live under the path /aws-reserved/sso.amazonaws.com/REGION/: the ARN must include it (arn:aws:iam::ACCOUNT:role/aws-reserved/sso.amazonaws.com/REGION/AWSReservedSSO_…).",
        );
        finding = finding.command(format!(
            "aws iam list-roles --path-prefix /aws-reserved/sso.amazonaws.com/ --query {}",
            util::sh(&format!("Roles[?RoleName=='{role_name}'].Arn"))
        ));
    } else {
        finding = finding.command(format!("aws iam get-role {} --query Role.Arn", util::arg("--role-name", role_name)));
    }
    match &facts.principal {
        Lookup::Absent => finding = finding.note(format!("Live: IAM has no principal {principal}.")),
        Lookup::Found(found) => {
            finding = finding
                .note(format!("Live: IAM does have this principal (path {}); check the account and partition of the cluster.", found.path));
        }
        _ => {}
    }
    Some(finding.notes(facts.failure_notes()))
}
