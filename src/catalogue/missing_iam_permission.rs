//! "User: ARN is not authorized to perform: eks:ACTION on resource: ARN …": IAM
//! refused the call. Where the refusal came from decides who can fix it.

use super::util;
use crate::event::Event;
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Severity};
use serde_json::json;

pub static CAUSE: Cause = Cause {
    id: "missing-iam-permission",
    severity: Severity::Error,
    title: "The caller lacks the IAM permission for this EKS call",
    docs: util::TROUBLESHOOTING,
    diagnose,
};

/// Which policy type refused the call, from IAM's wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    NoAllow,
    ExplicitDeny(PolicyKind),
    NoAllowIn(PolicyKind),
    Unstated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PolicyKind {
    ServiceControl,
    ResourceControl,
    PermissionsBoundary,
    Identity,
    Session,
    Resource,
}

impl PolicyKind {
    fn from_text(text: &str) -> Option<PolicyKind> {
        [
            ("service control policy", PolicyKind::ServiceControl),
            ("resource control policy", PolicyKind::ResourceControl),
            ("permissions boundary", PolicyKind::PermissionsBoundary),
            ("identity-based policy", PolicyKind::Identity),
            ("session policy", PolicyKind::Session),
            ("resource-based policy", PolicyKind::Resource),
        ]
        .into_iter()
        .find_map(|(words, kind)| text.contains(words).then_some(kind))
    }

    fn name(self) -> &'static str {
        match self {
            PolicyKind::ServiceControl => "a service control policy (SCP)",
            PolicyKind::ResourceControl => "a resource control policy (RCP)",
            PolicyKind::PermissionsBoundary => "the caller's permissions boundary",
            PolicyKind::Identity => "an identity-based policy",
            PolicyKind::Session => "the session policy passed when the role was assumed",
            PolicyKind::Resource => "a resource-based policy",
        }
    }
}

/// The parts of IAM's denial message.
#[derive(Debug, PartialEq)]
struct Denial<'a> {
    caller: Option<&'a str>,
    action: &'a str,
    resource: Option<&'a str>,
    refusal: Refusal,
}

fn parse_denial(message: &str) -> Option<Denial<'_>> {
    let after_perform = message.split_once("perform: ")?.1;
    let action = after_perform.split_whitespace().next()?.trim_end_matches(['.', ',']);
    let caller = message.split_once("User: ").and_then(|(_, rest)| rest.split_whitespace().next());
    let resource = after_perform
        .split_once("on resource: ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .map(|r| r.trim_end_matches(['.', ',']));
    let lower = message.to_ascii_lowercase();
    let tail = lower.split_once("on resource").map_or(lower.as_str(), |(_, t)| t);
    let refusal = if let Some((_, deny)) = tail.split_once("explicit deny") {
        PolicyKind::from_text(deny).map_or(Refusal::Unstated, Refusal::ExplicitDeny)
    } else if let Some((_, because)) = tail.split_once("because no ") {
        match PolicyKind::from_text(because) {
            Some(PolicyKind::Identity) | None => Refusal::NoAllow,
            Some(kind) => Refusal::NoAllowIn(kind),
        }
    } else {
        Refusal::Unstated
    };
    Some(Denial { caller, action, resource, refusal })
}

fn diagnose(event: &Event, facts: &Facts) -> Option<Finding> {
    let code = event.error_code();
    let message = event.message();
    if !code.starts_with("AccessDenied") && !message.contains("is not authorized to perform") {
        return None;
    }
    let fallback_action = format!("eks:{}", event.event_name);
    let denial =
        parse_denial(message).unwrap_or(Denial { caller: None, action: &fallback_action, resource: None, refusal: Refusal::Unstated });
    let caller = denial.caller.or(event.caller.as_deref()).unwrap_or("the caller");
    let fix_on = event.caller_role.clone().or_else(|| util::role_arn_from_session(caller)).unwrap_or_else(|| caller.to_string());
    let resource = denial.resource.unwrap_or("*");
    let action = denial.action;
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [{ "Sid": "AllowEksAccessManagement", "Effect": "Allow", "Action": action, "Resource": resource }]
    });
    let why = match denial.refusal {
        Refusal::NoAllow | Refusal::Unstated => "no policy attached to it allows that action".to_string(),
        Refusal::ExplicitDeny(kind) => format!("an explicit Deny in {} refuses it", kind.name()),
        Refusal::NoAllowIn(kind) => format!("{} does not allow it", kind.name()),
    };
    let mut finding = Finding::new(&CAUSE, format!("{caller} may not call {action} on {resource}: {why}."));
    finding = match denial.refusal {
        Refusal::NoAllow | Refusal::Unstated => finding
            .step(format!("Add the statement below to a policy attached to {fix_on} (or to the group or permission set it gets its permissions from)."))
            .step("Retry the call; IAM changes take effect within seconds."),
        Refusal::ExplicitDeny(PolicyKind::ServiceControl | PolicyKind::ResourceControl) | Refusal::NoAllowIn(PolicyKind::ServiceControl | PolicyKind::ResourceControl) => finding
            .step("Adding an Allow to the caller's own policies will not help: the organization's policy wins.")
            .step(format!("Ask the AWS Organizations administrators to exempt {action} for this principal or account (for example with a condition on aws:PrincipalArn), or run the change from a principal the policy permits."))
            .step("Use the statement below as the permission the principal needs once the organization policy allows it."),
        Refusal::ExplicitDeny(PolicyKind::PermissionsBoundary) | Refusal::NoAllowIn(PolicyKind::PermissionsBoundary) => finding
            .step(format!("The permissions boundary on {fix_on} caps what its policies can grant: add {action} to the boundary policy (and remove any Deny of it there)."))
            .step("Make sure an identity policy also allows it: the statement below is the minimum."),
        Refusal::ExplicitDeny(PolicyKind::Identity) => finding
            .step(format!("Find the Deny statement covering {action} in the policies attached to {fix_on} or its groups and narrow or remove it; an explicit Deny beats every Allow."))
            .step("Keep an Allow like the statement below once the Deny no longer matches."),
        Refusal::ExplicitDeny(kind) | Refusal::NoAllowIn(kind) => finding
            .step(format!("Change {} so it no longer refuses {action}, or make the call without it.", kind.name()))
            .step("The statement below is the permission the caller needs."),
    };
    if action.eq_ignore_ascii_case("eks:CreateAccessEntry") && event.entry_type().is_some_and(|t| t.starts_with("EC2")) {
        finding = finding.step("EC2 node entries also need iam:PassRole on the node role.");
    }
    if let Some((_, name)) = util::arn_role_name(&fix_on) {
        finding = finding.command(format!(
            "aws iam put-role-policy {} --policy-name eks-access-management --policy-document file://policy.json",
            util::arg("--role-name", name)
        ));
    }
    finding = finding.command(format!(
        "aws iam simulate-principal-policy {} {} {}",
        util::arg("--policy-source-arn", &fix_on),
        util::arg("--action-names", action),
        util::arg("--resource-arns", resource)
    ));
    Some(finding.policy(policy).notes(facts.failure_notes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_refusal_wording() {
        let base = "User: arn:aws:sts::1:assumed-role/R/s is not authorized to perform: eks:CreateAccessEntry on resource: arn:aws:eks:eu-west-1:1:cluster/c";
        let cases = [
            ("", Refusal::Unstated),
            (" because no identity-based policy allows the eks:CreateAccessEntry action", Refusal::NoAllow),
            (" with an explicit deny in a service control policy", Refusal::ExplicitDeny(PolicyKind::ServiceControl)),
            (" with an explicit deny in a permissions boundary", Refusal::ExplicitDeny(PolicyKind::PermissionsBoundary)),
            (" with an explicit deny in an identity-based policy", Refusal::ExplicitDeny(PolicyKind::Identity)),
            (
                " because no permissions boundary allows the eks:CreateAccessEntry action",
                Refusal::NoAllowIn(PolicyKind::PermissionsBoundary),
            ),
            (" because no service control policy allows the eks:CreateAccessEntry action", Refusal::NoAllowIn(PolicyKind::ServiceControl)),
        ];
        for (suffix, want) in cases {
            let message = format!("{base}{suffix}");
            let denial = parse_denial(&message).unwrap();
            assert_eq!(denial.refusal, want, "{suffix}");
            assert_eq!(denial.action, "eks:CreateAccessEntry");
            assert_eq!(denial.resource, Some("arn:aws:eks:eu-west-1:1:cluster/c"));
            assert_eq!(denial.caller, Some("arn:aws:sts::1:assumed-role/R/s"));
        }
    }
}
