//! "The caller is not allowed to modify access entries with a principalArn value of
//! a Service Linked Role": access entries refuse roles under `role/aws-service-role/`.

use super::util;
use crate::command::Command;
use crate::event::{Event, Evidence};
use crate::facts::{Fact, Facts};
use crate::finding::{Cause, Finding, Severity};

pub static CAUSE: Cause = Cause {
    id: "service-linked-role",
    severity: Severity::Error,
    title: "Access entries do not support service-linked roles",
    docs: util::TROUBLESHOOTING,
    evidence: &[Evidence::CloudTrail],
    needs: &[Fact::Principal, Fact::ClusterAuthMode],
    diagnose,
};

fn diagnose(event: &Event, facts: &Facts) -> Option<Finding> {
    let said_so = util::mentions(event.message(), &["service linked role"]);
    let arn_says_so =
        event.principal().is_some_and(|p| p.is_service_linked()) || facts.principal.found().is_some_and(|p| p.is_service_linked());
    if !(said_so || (event.failed() && arn_says_so)) {
        return None;
    }
    let principal = event.principal_or_placeholder();
    let role = event.principal().filter(|p| p.is_role());
    let role_name = role.map_or("ROLE_NAME", |r| r.name);
    // aws-auth matches role ARNs without their path, in the role's own partition.
    let mapped_arn = role.and_then(|r| r.role_arn_without_path()).unwrap_or_else(|| event.placeholder_role_arn("ROLE_NAME"));
    let mut finding = Finding::new(
        &CAUSE,
        format!(
            "{principal} is a service-linked role (IAM keeps those under role/aws-service-role/), and access entries \
             cannot be created or changed for service-linked roles."
        ),
    )
    .step("Map the role in the aws-auth ConfigMap instead; that needs authentication mode CONFIG_MAP or API_AND_CONFIG_MAP.")
    .step("In aws-auth, write the role ARN without its path (role/NAME), as the command below does.")
    .command(util::describe_auth_mode(event))
    .command(
        Command::new("eksctl create iamidentitymapping")
            .arg("--cluster", event.cluster_or_placeholder())
            .region(&event.region)
            .arg("--arn", &mapped_arn)
            .arg("--username", role_name)
            .to_string(),
    );
    if facts.cluster_auth_mode.found().is_some_and(|m| m == "API") {
        finding = finding.note(
            "Live: the cluster is in API mode, which ignores aws-auth and cannot go back: this role cannot be given \
             access on this cluster; use a regular IAM role for the workload instead.",
        );
    }
    Some(finding)
}
