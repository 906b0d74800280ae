//! "User: ARN is not authorized to perform: eks:ACTION on resource: ARN …": IAM
//! refused the call. Where the refusal came from decides who can fix it.

use super::util;
use crate::arn::{Arn, Principal, PrincipalKind};
use crate::command::{sh, Command};
use crate::event::{Event, Evidence, ASSUME_ROLE_FOR_POD_IDENTITY};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Reach, Severity, Source};
use serde_json::json;

pub static CAUSE: Cause = Cause {
    id: "missing-iam-permission",
    severity: Severity::Error,
    title: "The caller lacks the IAM permission for this EKS call",
    docs: util::TROUBLESHOOTING,
    evidence: &[Evidence::CloudTrail],
    needs: &[],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html", quote: "If you create an access entry with type EC2_Linux or EC2_Windows, the IAM principal creating the access entry must have the iam:PassRole permission." },
        Source { page: "https://repost.aws/knowledge-center/eks-troubleshoot-access-entries", quote: "\"An error occurred (AccessDeniedException) when calling the CreateAccessEntry operation: User: [principalARN] is not authorized to perform: eks:CreateAccessEntry on resource: arn:aws:eks:us-east-1:000000000:cluster/your-eks-cluster.\"" },
        Source { page: "duo-labs/parliament parliament/iam_definition.json", quote: "arn:${Partition}:eks:${Region}:${Account}:access-entry/${ClusterName}/${IamIdentityType}/${IamIdentityAccountID}/${IamIdentityName}/${UUID}" },
        Source { page: "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_AccessPolicyLanguage_Interplay.html", quote: "If policies that apply to a request include an Allow statement and a Deny statement, the Deny statement trumps the Allow statement." },
    ],
};

/// Which policy type refused the call, from IAM's wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    NoAllow,
    ExplicitDeny(PolicyKind),
    NoAllowIn(PolicyKind),
    /// "with an explicit deny", the policy type unsaid (IAM's wording before 2021).
    ExplicitDenyUnstated,
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
    /// The refusing policy, which IAM names (since 2025) for same-account and
    /// same-organization requests: `…: arn:aws:organizations::…:policy/o-…/service_control_policy/p-…`.
    policy: Option<&'a str>,
}

fn parse_denial(message: &str) -> Option<Denial<'_>> {
    let after_perform = message.split_once("perform: ")?.1;
    let action = after_perform.split_whitespace().next()?.trim_end_matches(['.', ',']);
    let caller = message.split_once("User: ").and_then(|(_, rest)| rest.split_whitespace().next());
    let (resource, tail) = match after_perform.split_once("on resource: ") {
        Some((_, rest)) => {
            let mut words = rest.splitn(2, char::is_whitespace);
            (words.next().map(|r| r.trim_end_matches(['.', ','])), words.next().unwrap_or(""))
        }
        None => (None, after_perform),
    };
    let lower = tail.to_ascii_lowercase();
    let refusal = if let Some((_, deny)) = lower.split_once("explicit deny") {
        PolicyKind::from_text(deny).map_or(Refusal::ExplicitDenyUnstated, Refusal::ExplicitDeny)
    } else if let Some((_, because)) = lower.split_once("because no ") {
        match PolicyKind::from_text(because) {
            Some(PolicyKind::Identity) | None => Refusal::NoAllow,
            Some(kind) => Refusal::NoAllowIn(kind),
        }
    } else {
        Refusal::Unstated
    };
    let policy = tail
        .split_whitespace()
        .map(|word| word.trim_end_matches(['.', ',', ';']))
        .find(|word| Arn::parse(word).is_some_and(|arn| arn.resource.starts_with("policy/")));
    Some(Denial { caller, action, resource, refusal, policy })
}

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    let code = event.error_code();
    let message = event.message();
    if !code.starts_with("AccessDenied") && !message.contains("is not authorized to perform") {
        return None;
    }
    // EKS Auth's own AccessDenied ("EKS does not have permissions to assume the associated
    // role") is about the pod's role, not the caller's policies.
    if event.event_name == ASSUME_ROLE_FOR_POD_IDENTITY && !message.contains("is not authorized to perform") {
        return None;
    }
    // A role of another account passed to EKS: no policy of the caller's can allow it.
    if util::mentions(message, &["cross-account pass role"]) {
        return None;
    }
    let fallback_action = format!("eks:{}", event.event_name);
    let denial = parse_denial(message).unwrap_or(Denial {
        caller: None,
        action: &fallback_action,
        resource: None,
        refusal: Refusal::Unstated,
        policy: None,
    });
    let caller = denial.caller.or(event.caller.as_deref()).unwrap_or("the caller");
    // Where a policy fix goes: the role behind a session (with its path, from the
    // session issuer), else the caller itself.
    let fix_on = event
        .caller_role
        .clone()
        .or_else(|| Arn::parse(caller).and_then(|a| a.principal()).and_then(|p| p.role_arn()))
        .unwrap_or_else(|| caller.to_string());
    let principal = Arn::parse(&fix_on).and_then(|a| a.principal());
    let resource = denial.resource.unwrap_or("*");
    let action = denial.action;
    let policy = least_policy(event, action, resource);
    let why = match denial.refusal {
        Refusal::NoAllow | Refusal::Unstated => "no policy attached to it allows that action".to_string(),
        Refusal::ExplicitDeny(kind) => format!("an explicit Deny in {} refuses it", kind.name()),
        Refusal::ExplicitDenyUnstated => "an explicit Deny refuses it".to_string(),
        Refusal::NoAllowIn(kind) => format!("{} does not allow it", kind.name()),
    };
    let named = denial.policy.map(|arn| format!(" IAM names the refusing policy: {arn}.")).unwrap_or_default();
    let mut finding = Finding::new(&CAUSE, format!("{caller} may not call {action} on {resource}: {why}.{named}"));
    finding = match denial.refusal {
        Refusal::NoAllow | Refusal::Unstated => grant(finding, &fix_on, principal.as_ref(), action, resource),
        Refusal::ExplicitDeny(kind @ (PolicyKind::ServiceControl | PolicyKind::ResourceControl))
        | Refusal::NoAllowIn(kind @ (PolicyKind::ServiceControl | PolicyKind::ResourceControl)) => {
            organization_policy(finding, event, kind, denial.policy, action)
        }
        Refusal::ExplicitDeny(PolicyKind::PermissionsBoundary) | Refusal::NoAllowIn(PolicyKind::PermissionsBoundary) => {
            boundary(finding, &fix_on, principal.as_ref(), denial.policy, action)
        }
        Refusal::ExplicitDeny(PolicyKind::Identity) => {
            let finding = finding.step(format!(
                "Find the Deny statement covering {action} in the policies of {fix_on}{} and narrow or remove it; an explicit Deny beats every Allow, so adding an Allow cannot help.",
                match principal.and_then(|p| p.permission_set()) {
                    Some(set) => format!(" (its permission set {} in IAM Identity Center)", set.name),
                    None => " or its groups".to_string(),
                }
            ));
            read_policy(finding, denial.policy).step("Keep an Allow like the statement below once the Deny no longer matches.")
        }
        Refusal::ExplicitDenyUnstated => {
            let finding = finding
                .step(format!(
                    "An explicit Deny beats every Allow, so adding an Allow cannot help. Find the Deny statement covering {action}: in the policies of {fix_on} or its groups, its permissions boundary, a session policy passed when the role was assumed, or an SCP or RCP of the organization."
                ))
                .step("The simulation below names the matching statement when it is in an identity policy or the boundary (MatchedStatements). Narrow or remove that Deny (or ask its owners to), then keep an Allow like the statement below.");
            read_policy(finding, denial.policy)
        }
        Refusal::ExplicitDeny(kind) | Refusal::NoAllowIn(kind) => {
            let finding = finding.step(format!("Change {} so it no longer refuses {action}, or make the call without it.", kind.name()));
            read_policy(finding, denial.policy).step("The statement below is the permission the caller needs.")
        }
    };
    if passes_node_role(event, action) {
        finding = finding.step("EC2_LINUX and EC2_WINDOWS entries also need iam:PassRole on the node role: the statement below includes it, for this role only.");
    }
    if passed_pod_role(event, action).is_some() {
        finding = finding.step("A Pod Identity association also needs iam:PassRole on its role, passed to pods.eks.amazonaws.com only: the statement below includes it.");
    }
    if event.event_name == ASSUME_ROLE_FOR_POD_IDENTITY {
        finding = finding.step("This is the node role the Pod Identity Agent uses: the AWS managed policy AmazonEKSWorkerNodePolicy includes eks-auth:AssumeRoleForPodIdentity, and the statement below grants it on this cluster only.");
    }
    let simulate = Command::new("aws iam simulate-principal-policy")
        .arg("--policy-source-arn", &fix_on)
        .arg("--action-names", action)
        .arg("--resource-arns", resource);
    Some(finding.command(simulate.to_string()).policy(policy))
}

/// One inline policy per action (`eks-access-CreateAccessEntry`): put-role-policy replaces a
/// policy of the same name, so a second fix must not overwrite the first.
fn policy_name(action: &str) -> String {
    let name: String = action.rsplit(':').next().unwrap_or(action).chars().filter(|c| c.is_ascii_alphanumeric()).take(100).collect();
    format!("eks-access-{name}")
}

/// The role a denied Pod Identity association call passes, when the denied action is the
/// association call itself (the caller then needs iam:PassRole on the role too).
fn passed_pod_role<'a>(event: &'a Event, action: &str) -> Option<&'a str> {
    let association_action = ["eks:CreatePodIdentityAssociation", "eks:UpdatePodIdentityAssociation"];
    association_action.iter().any(|a| a.eq_ignore_ascii_case(action)).then(|| event.association_role()).flatten()
}

/// The `iam:PassedToService` condition that limits passing a Pod Identity role to Pod Identity.
fn passed_to_pod_identity() -> serde_json::Value {
    json!({ "StringEquals": { "iam:PassedToService": crate::trust::POD_IDENTITY_SERVICE } })
}

/// Whether the denied call creates an EC2_LINUX or EC2_WINDOWS entry, which passes the node role.
fn passes_node_role(event: &Event, action: &str) -> bool {
    action.eq_ignore_ascii_case("eks:CreateAccessEntry")
        && event.entry_type().is_some_and(|t| t.eq_ignore_ascii_case("EC2_LINUX") || t.eq_ignore_ascii_case("EC2_WINDOWS"))
}

/// The least statement that lets the denied call through, as the event made it: the
/// action on the resource IAM named (an access entry by cluster, type, account and name,
/// its UUID wildcarded, since it changes when the entry is made again), limited by the
/// condition keys EKS defines for the action to what the request asked for, plus
/// iam:PassRole on the node role itself for EC2_LINUX/EC2_WINDOWS entries. No
/// `iam:PassedToService` condition: the service the role is passed to is documented
/// nowhere we could read, and a wrong value would make the fix fail.
fn least_policy(event: &Event, action: &str, resource: &str) -> serde_json::Value {
    let request = &event.request;
    let resource = stable_resource(resource);
    let mut conditions = serde_json::Map::new();
    let mut equals = serde_json::Map::new();
    let mut arn_equals = serde_json::Map::new();
    let mut all_values = serde_json::Map::new();
    match action.rsplit(':').next().unwrap_or("") {
        "CreateAccessEntry" => {
            if let Some(principal) = &event.principal_arn {
                arn_equals.insert("eks:principalArn".into(), principal.clone().into());
            }
            if let Some(entry_type) = event.entry_type() {
                equals.insert("eks:accessEntryType".into(), entry_type.into());
            }
            if let Some(username) = request.username.as_deref() {
                equals.insert("eks:username".into(), username.into());
            }
            if !event.groups().is_empty() {
                all_values.insert("eks:kubernetesGroups".into(), event.groups().to_vec().into());
            }
        }
        "AssociateAccessPolicy" => {
            if let Some(policy) = &request.policy_arn {
                arn_equals.insert("eks:policyArn".into(), policy.clone().into());
            }
            if let Some(scope) = request.access_scope.as_ref() {
                if let Some(kind) = &scope.scope_type {
                    equals.insert("eks:accessScope".into(), kind.clone().into());
                }
                if let Some(namespaces) = scope.namespaces.as_ref().filter(|n| !n.is_empty()) {
                    all_values.insert("eks:namespaces".into(), namespaces.clone().into());
                }
            }
        }
        _ => {}
    }
    if !arn_equals.is_empty() {
        conditions.insert("ArnEquals".into(), arn_equals.into());
    }
    if !equals.is_empty() {
        conditions.insert("StringEquals".into(), equals.into());
    }
    if !all_values.is_empty() {
        conditions.insert("ForAllValues:StringEquals".into(), all_values.into());
    }
    let mut first = json!({ "Sid": "AllowEksAccessManagement", "Effect": "Allow", "Action": action, "Resource": resource });
    if !conditions.is_empty() {
        first["Condition"] = conditions.into();
    }
    // A role passed for a Pod Identity association goes to Pod Identity only (the Service
    // Authorization Reference lists iam:PassedToService pods.eks.amazonaws.com for it).
    if action.eq_ignore_ascii_case("iam:PassRole") && event.association_role().is_some() {
        first["Condition"] = passed_to_pod_identity();
    }
    let mut statements = vec![first];
    if passes_node_role(event, action) {
        if let Some(role) = &event.principal_arn {
            statements.push(json!({ "Sid": "PassNodeRole", "Effect": "Allow", "Action": "iam:PassRole", "Resource": role }));
        }
    }
    if let Some(role) = passed_pod_role(event, action) {
        statements.push(
            json!({ "Sid": "PassPodIdentityRole", "Effect": "Allow", "Action": "iam:PassRole", "Resource": role, "Condition": passed_to_pod_identity() }),
        );
    }
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// An access-entry ARN with its UUID (the last segment) wildcarded: the UUID changes when
/// the entry is deleted and made again, and the statement should outlive that.
fn stable_resource(resource: &str) -> String {
    match Arn::parse(resource) {
        Some(arn) if arn.service == "eks" && arn.resource.starts_with("access-entry/") && arn.resource.split('/').count() == 6 => {
            let kept = arn.resource.rsplit_once('/').map_or(arn.resource, |(head, _)| head);
            format!("arn:{}:eks:{}:{}:{kept}/*", arn.partition, arn.region, arn.account)
        }
        _ => resource.to_string(),
    }
}

/// The caller lacks an Allow: add one where its permissions come from.
fn grant(finding: Finding, fix_on: &str, principal: Option<&Principal>, action: &str, resource: &str) -> Finding {
    match principal {
        Some(p) if p.permission_set().is_some() => permission_set(finding, p, action, resource),
        Some(p) if p.kind == PrincipalKind::User => finding
            .step(format!("Add the statement below to a policy attached to {fix_on} (or to a group it belongs to)."))
            .step("Retry the call; IAM changes take effect within seconds.")
            .command(
                Command::new("aws iam put-user-policy")
                    .arg("--user-name", p.name)
                    .arg("--policy-name", &policy_name(action))
                    .literal("--policy-document file://policy.json")
                    .to_string(),
            ),
        Some(p) => finding
            .step(format!("Add the statement below to a policy attached to {fix_on}."))
            .step("Retry the call; IAM changes take effect within seconds.")
            .command(
                Command::new("aws iam put-role-policy")
                    .arg("--role-name", p.name)
                    .arg("--policy-name", &policy_name(action))
                    .literal("--policy-document file://policy.json")
                    .to_string(),
            ),
        None => finding
            .step(format!("Add the statement below to a policy attached to {fix_on} (or to the group or permission set it gets its permissions from)."))
            .step("Retry the call; IAM changes take effect within seconds."),
    }
}

/// An IAM Identity Center role: IAM refuses changes to `AWSReservedSSO_…` roles, so the
/// permission goes into the permission set, which is then provisioned to the account again.
fn permission_set(finding: Finding, role: &Principal, action: &str, resource: &str) -> Finding {
    let Some(set) = role.permission_set() else { return finding };
    let account = role.arn.account;
    let region = set.region.unwrap_or("");
    let with_region = |c: Command| c.region(region);
    let instance = with_region(Command::new("aws sso-admin list-instances").literal("--query 'Instances[0].InstanceArn' --output text"));
    let list = with_region(
        Command::new("aws sso-admin list-permission-sets")
            .literal("--instance-arn \"$INSTANCE_ARN\" --query 'PermissionSets[]' --output text"),
    );
    let describe = with_region(
        Command::new("aws sso-admin describe-permission-set")
            .literal("--instance-arn \"$INSTANCE_ARN\" --permission-set-arn \"$PS\" --query PermissionSet.Name --output text"),
    );
    let both = "--instance-arn \"$INSTANCE_ARN\" --permission-set-arn \"$PERMISSION_SET_ARN\"";
    let current = with_region(
        Command::new("aws sso-admin get-inline-policy-for-permission-set").literal(both).literal("--query InlinePolicy --output text"),
    );
    let put = with_region(
        Command::new("aws sso-admin put-inline-policy-to-permission-set").literal(both).literal("--inline-policy file://policy.json"),
    );
    let provision = with_region(
        Command::new("aws sso-admin provision-permission-set")
            .literal(both)
            .literal("--target-type AWS_ACCOUNT")
            .arg("--target-id", account),
    );
    let where_ = match set.region {
        Some(region) => format!("in the Identity Center instance's region ({region})"),
        None => "in the Identity Center instance's region (add --region)".to_string(),
    };
    finding
        .step(format!(
            "{} is a role IAM Identity Center made for permission set {:?}: IAM refuses changes to AWSReservedSSO_ roles, and Identity Center would undo them. The permission belongs in the permission set.",
            role.name, set.name
        ))
        .step(format!(
            "From the organization's management account or the Identity Center delegated administrator, {where_}: find the permission set, add the statement below ({action} on {resource}) to its inline policy, then provision it to account {account} again.",
        ))
        .step("put-inline-policy-to-permission-set replaces the whole inline policy: save the current one (the third command; empty when the set has none, then start from {\"Version\":\"2012-10-17\",\"Statement\":[]}), merge the statement below into it as policy.json, then put it.")
        .step(format!("Or ask the Identity Center administrators for a permission set that includes {action}."))
        .command(format!("INSTANCE_ARN=\"$({instance})\""))
        .command(format!("for PS in $({list}); do [ \"$({describe})\" = {} ] && PERMISSION_SET_ARN=$PS; done", sh(set.name)))
        .command(format!("{current} > current-policy.json"))
        .command(put.to_string())
        .command(provision.to_string())
}

/// An SCP or RCP refused: only the organization's administrators can change it.
fn organization_policy(finding: Finding, event: &Event, kind: PolicyKind, policy: Option<&str>, action: &str) -> Finding {
    let finding = finding
        .step("Adding an Allow to the caller's own policies will not help: the organization's policy wins.")
        .step(format!(
            "Ask the AWS Organizations administrators to exempt {action} for this principal or account (for example with a condition on aws:PrincipalArn), or run the change from a principal the policy permits."
        ))
        .step("Use the statement below as the permission the principal needs once the organization policy allows it.");
    let filter = if kind == PolicyKind::ServiceControl { "SERVICE_CONTROL_POLICY" } else { "RESOURCE_CONTROL_POLICY" };
    match policy.and_then(organizations_policy_id) {
        Some(id) => finding
            .step(format!("The denial names the policy: {id}. Read it from the management account (or a delegated administrator) to find the statement that matches {action}."))
            .command(describe_organizations_policy(id))
            .command(Command::new("aws organizations list-targets-for-policy").arg("--policy-id", id).to_string()),
        None => finding
            .step("The denial does not name the policy: list the policies attached to the account, from the management account; policies attached to its organizational units and the root apply too (list-parents walks up).")
            .command(Command::new("aws organizations list-parents").arg("--child-id", event.account_or_placeholder()).to_string())
            .command(
                Command::new("aws organizations list-policies-for-target")
                    .arg("--target-id", event.account_or_placeholder())
                    .arg("--filter", filter)
                    .to_string(),
            ),
    }
}

/// `p-…` from `arn:aws:organizations::ACCOUNT:policy/o-…/service_control_policy/p-…`.
fn organizations_policy_id(arn: &str) -> Option<&str> {
    let arn = Arn::parse(arn)?;
    (arn.service == "organizations").then(|| arn.resource.rsplit('/').next()).flatten().filter(|id| id.starts_with("p-"))
}

/// The caller's permissions boundary caps what its policies grant.
fn boundary(finding: Finding, fix_on: &str, principal: Option<&Principal>, policy: Option<&str>, action: &str) -> Finding {
    let finding = finding
        .step(format!(
            "The permissions boundary on {fix_on} caps what its policies can grant, so adding an Allow to its policies alone will not help: add {action} to the boundary policy (and remove any Deny of it there)."
        ))
        .step("Make sure an identity policy also allows it: the statement below is the minimum, and the simulation shows the result.");
    match (policy, principal) {
        (Some(_), _) => {
            let finding = read_policy(finding, policy);
            let arn = policy.unwrap_or_default();
            finding.command(
                Command::new("aws iam create-policy-version")
                    .arg("--policy-arn", arn)
                    .literal("--policy-document file://boundary.json --set-as-default")
                    .to_string(),
            )
        }
        (None, Some(p)) if p.kind == PrincipalKind::User => finding
            .command(Command::new("aws iam get-user").arg("--user-name", p.name).literal("--query User.PermissionsBoundary").to_string()),
        (None, Some(p)) => finding
            .command(Command::new("aws iam get-role").arg("--role-name", p.name).literal("--query Role.PermissionsBoundary").to_string()),
        (None, None) => finding,
    }
}

/// Prints an SCP's or RCP's document (from the management account or a delegated administrator).
fn describe_organizations_policy(id: &str) -> String {
    Command::new("aws organizations describe-policy").arg("--policy-id", id).literal("--query Policy.Content --output text").to_string()
}

/// Names the refusing policy and shows how to read it, when IAM named it.
fn read_policy(finding: Finding, policy: Option<&str>) -> Finding {
    let Some(arn) = policy else { return finding };
    let finding = finding.step(format!("The denial names the policy: {arn}."));
    match Arn::parse(arn) {
        Some(parsed) if parsed.service == "iam" => {
            let version =
                Command::new("aws iam get-policy").arg("--policy-arn", arn).literal("--query Policy.DefaultVersionId --output text");
            finding
                .command(Command::new("aws iam get-policy-version").arg("--policy-arn", arn).arg_from("--version-id", &version).to_string())
        }
        Some(_) => match organizations_policy_id(arn) {
            Some(id) => finding.command(describe_organizations_policy(id)),
            None => finding,
        },
        None => finding,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_refusal_wording() {
        let base = "User: arn:aws:sts::1:assumed-role/R/s is not authorized to perform: eks:CreateAccessEntry on resource: arn:aws:eks:eu-west-1:1:cluster/c";
        let cases = [
            ("", Refusal::Unstated),
            (" with an explicit deny", Refusal::ExplicitDenyUnstated),
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
            assert_eq!(denial.policy, None);
        }
    }

    #[test]
    fn reads_the_policy_the_denial_names() {
        let message = "User: arn:aws-us-gov:iam::1:user/a is not authorized to perform: eks:CreateAccessEntry on resource: arn:aws-us-gov:eks:us-gov-west-1:1:cluster/c with an explicit deny in a service control policy: arn:aws-us-gov:organizations::2:policy/o-ab12cd34ef/service_control_policy/p-5kgn9xyz.";
        let denial = parse_denial(message).unwrap();
        assert_eq!(denial.refusal, Refusal::ExplicitDeny(PolicyKind::ServiceControl));
        assert_eq!(denial.policy, Some("arn:aws-us-gov:organizations::2:policy/o-ab12cd34ef/service_control_policy/p-5kgn9xyz"));
        assert_eq!(organizations_policy_id(denial.policy.unwrap()), Some("p-5kgn9xyz"));
        let boundary = "User: arn:aws:iam::1:user/a is not authorized to perform: eks:X on resource: arn:aws:eks:eu-west-1:1:cluster/c with an explicit deny in a permissions boundary: arn:aws:iam::1:policy/DevBoundary";
        assert_eq!(parse_denial(boundary).unwrap().policy, Some("arn:aws:iam::1:policy/DevBoundary"));
    }
}
