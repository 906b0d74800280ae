//! "The principalArn parameter format is not valid": usually an STS session ARN
//! (`assumed-role/ROLE/session`) where the IAM role ARN belongs.

use super::util;
use crate::arn::PrincipalKind;
use crate::event::{Event, Evidence};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "principal-arn-format",
    severity: Severity::Error,
    title: "The principal ARN is not an IAM role or user ARN",
    docs: util::CREATING_ENTRIES,
    evidence: &[Evidence::CloudTrail],
    needs: &[],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source { page: "aws-samples/appmod-blueprints#319", quote: "InvalidParameterException: The principalArn parameter format is not valid" },
        Source { page: "boto/botocore botocore/data/eks/2017-11-01/service-2.json", quote: "You can't use the STS session principal type with access entries because this is a temporary principal for each session and not a permanent identity that can be assigned permissions." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html", quote: "If the ARN is for an IAM role, it can include a path." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html", quote: "If the ARN of the role that you specified contained a path, Amazon EKS removes it in the generated username." },
    ],
};

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    if !util::mentions(event.message(), &["principalarn parameter format is not valid"]) {
        return None;
    }
    let principal = event.principal_or_placeholder();
    let session = event.principal().filter(|p| p.kind == PrincipalKind::AssumedRole);
    let partition = event.partition();
    let mut finding = Finding::new(
        &CAUSE,
        format!("{principal} is not an IAM role or user ARN (arn:{partition}:iam::ACCOUNT:role/NAME or …:user/NAME)."),
    );
    finding = match (&session, session.and_then(|s| s.role_arn())) {
        (Some(session), Some(role)) => {
            // The session ARN drops the role's path; get-role prints the exact role ARN.
            let role_arn = crate::command::role_arn_by_name(session.name);
            let create = util::aws_eks(event, "create-access-entry", "--cluster-name")
                .arg_from("--principal-arn", &role_arn)
                .arg_if("--type", event.entry_type());
            finding
                .step(format!("This is an STS session ARN. Use the role behind it, {role} (with the role's path, if it has one: the commands below look it up), and let EKS generate the username."))
                .command(role_arn.to_string())
                .command(util::finish(event, create))
        }
        _ => finding
            .step(format!("Write the ARN in the form arn:{partition}:iam::ACCOUNT_ID:role/PATH/NAME or arn:{partition}:iam::ACCOUNT_ID:user/NAME, with no spaces or quotes."))
            .command("aws sts get-caller-identity --query Arn"),
    };
    Some(finding)
}
