//! "The principalArn parameter format is not valid": usually an STS session ARN
//! (`assumed-role/ROLE/session`) where the IAM role ARN belongs.

use super::util;
use crate::event::Event;
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Severity};

pub static CAUSE: Cause = Cause {
    id: "principal-arn-format",
    severity: Severity::Error,
    title: "The principal ARN is not an IAM role or user ARN",
    docs: util::CREATING_ENTRIES,
    diagnose,
};

fn diagnose(event: &Event, facts: &Facts) -> Option<Finding> {
    if !util::mentions(event.message(), &["principalarn parameter format is not valid"]) {
        return None;
    }
    let principal = event.principal_or_placeholder();
    let role = util::role_arn_from_session(principal);
    let mut finding =
        Finding::new(&CAUSE, format!("{principal} is not an IAM role or user ARN (arn:aws:iam::ACCOUNT:role/NAME or …:user/NAME)."));
    finding = match &role {
        Some(role) => finding
            .step(format!("This is an STS session ARN. Use the role behind it, {role} (add the role's path if it has one), and let EKS generate the username.")) 
            .command(format!(
                "aws iam get-role {} --query Role.Arn",
                util::arg("--role-name", util::arn_role_name(role).map_or("ROLE_NAME", |(_, n)| n))
            ))
            .command(util::create_entry(event, role, event.entry_type(), None, &[])),
        None => finding
            .step("Write the ARN in the form arn:aws:iam::ACCOUNT_ID:role/PATH/NAME or arn:aws:iam::ACCOUNT_ID:user/NAME, with no spaces or quotes.")
            .command("aws sts get-caller-identity --query Arn"),
    };
    Some(finding.notes(facts.failure_notes()))
}
