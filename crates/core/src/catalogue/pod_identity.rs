//! What the EKS Pod Identity causes share: their pages, the `aws eks … pod-identity-association`
//! and `aws iam … trust` command lines, and the trust fix built on the role's live policy.

use super::util::{self, finish};
use crate::arn::{Arn, PrincipalKind};
use crate::command::Command;
use crate::event::Event;
use crate::facts::{Lookup, RoleTrust};
use crate::finding::Finding;
use crate::trust::{self, Trustee, POD_IDENTITY_SERVICE};

pub const ASSOCIATION: &str = "https://docs.aws.amazon.com/eks/latest/userguide/pod-id-association.html";
pub const AGENT_SETUP: &str = "https://docs.aws.amazon.com/eks/latest/userguide/pod-id-agent-setup.html";
pub const EKS_AUTH_ERRORS: &str = "https://docs.aws.amazon.com/eks/latest/APIReference/API_auth_AssumeRoleForPodIdentity.html";

/// The EKS User Guide's Pod Identity pages, as its source repository keeps them.
pub const GUIDE_SOURCE: &str = "awsdocs/amazon-eks-user-guide latest/ug/manage-access/aws-access/service-accounts.adoc";
/// The EKS API's model (the API reference's text), as botocore ships it.
pub const EKS_MODEL: &str = "boto/botocore botocore/data/eks/2017-11-01/service-2.json";
/// The EKS Auth API's model, as botocore ships it.
pub const EKS_AUTH_MODEL: &str = "boto/botocore botocore/data/eks-auth/2023-11-26/service-2.json";

/// The name of an IAM role ARN (`role/path/NAME` gives `NAME`), for `--role-name`.
pub fn role_name(arn: &str) -> Option<&str> {
    Arn::parse(arn).and_then(|a| a.principal()).filter(|p| p.kind == PrincipalKind::Role).map(|p| p.name)
}

/// `aws eks create-pod-identity-association` with the request's own values (role,
/// target role, session policy and tags setting), `role` and `disable_tags` as given.
pub fn create_association(event: &Event, role: &str, disable_tags: bool) -> String {
    let request = &event.request;
    let policy = session_policy(event);
    let command = util::aws_eks(event, "create-pod-identity-association", "--cluster-name")
        .arg("--namespace", request.namespace.as_deref().unwrap_or("NAMESPACE"))
        .arg("--service-account", request.service_account.as_deref().unwrap_or("SERVICE_ACCOUNT"))
        .arg("--role-arn", role)
        .arg_if("--target-role-arn", request.target_role_arn.as_deref())
        .arg_if("--policy", policy.as_deref());
    finish(event, if disable_tags { command.literal("--disable-session-tags") } else { command })
}

/// The request's session policy as the API takes it: a JSON string.
fn session_policy(event: &Event) -> Option<String> {
    match event.request.policy.as_ref()? {
        serde_json::Value::String(text) => Some(text.clone()),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// The same call as the event, repeated: a create as it was sent, or an update of the
/// association the event names.
pub fn retry(event: &Event) -> String {
    let role = event.association_role().unwrap_or("ROLE_ARN");
    let disable_tags = event.request.disable_session_tags == Some(true);
    if event.event_name == "UpdatePodIdentityAssociation" {
        update_association(event, event.request.association_id.as_deref().unwrap_or("ASSOCIATION_ID"), role)
    } else {
        create_association(event, role, disable_tags)
    }
}

/// `aws eks update-pod-identity-association` of `association_id` to `role`, the request's
/// target role kept.
pub fn update_association(event: &Event, association_id: &str, role: &str) -> String {
    update(event, association_id, Some(role), false)
}

/// The event's update again with session tags disabled, its session policy kept.
pub fn update_with_tags_off(event: &Event) -> String {
    let association_id = event.request.association_id.as_deref().unwrap_or("ASSOCIATION_ID");
    update(event, association_id, event.association_role().filter(|role| !role.is_empty()), true)
}

/// The one update line. Disabling session tags keeps the request's session policy, which
/// is what needs them off.
fn update(event: &Event, association_id: &str, role: Option<&str>, disable_tags: bool) -> String {
    let mut command = util::aws_eks(event, "update-pod-identity-association", "--cluster-name").arg("--association-id", association_id);
    if let Some(role) = role {
        command = command.arg("--role-arn", role);
    }
    command = command.arg_if("--target-role-arn", event.request.target_role_arn.as_deref());
    if disable_tags {
        command = command.arg_if("--policy", session_policy(event).as_deref()).literal("--disable-session-tags");
    }
    finish(event, command)
}

/// The associations of the request's service account (all of the cluster's when the
/// event names none).
pub fn list_associations(event: &Event) -> String {
    let command = util::aws_eks(event, "list-pod-identity-associations", "--cluster-name")
        .arg_if("--namespace", event.request.namespace.as_deref())
        .arg_if("--service-account", event.request.service_account.as_deref());
    finish(event, command)
}

/// The role and target role of every association of the cluster, one line each.
pub fn describe_every_association(event: &Event) -> String {
    let list = util::aws_eks(event, "list-pod-identity-associations", "--cluster-name")
        .literal("--query 'associations[].associationId' --output text")
        .region(&event.region);
    let describe = util::aws_eks(event, "describe-pod-identity-association", "--cluster-name")
        .literal("--association-id \"$ID\"")
        .literal("--query 'association.[namespace,serviceAccount,roleArn,targetRoleArn]' --output text")
        .region(&event.region);
    format!("for ID in $({list}); do {describe}; done")
}

pub fn get_trust(role: &str) -> String {
    Command::new("aws iam get-role").arg("--role-name", role).literal("--query Role.AssumeRolePolicyDocument").to_string()
}

/// The trust fix for `role`, which must let `trustee` take the Pod Identity actions:
/// the role's trust policy is read and written back with one statement added, every
/// statement it has kept (update-assume-role-policy replaces the whole policy). The
/// AWS CLI merges it itself (a JMESPath query), so the fix needs nothing but the CLI.
/// The role's live policy sharpens it: the actions missing, a Deny no Allow can beat,
/// or nothing to do.
pub fn trust_fix(finding: Finding, live: &Lookup<RoleTrust>, role: &str, trustee: Trustee) -> Finding {
    let name = role_name(role).unwrap_or("ROLE_NAME");
    let who = match trustee {
        Trustee::Service(service) => format!("the Pod Identity service ({service})"),
        Trustee::Role(arn) => format!("the association's role {arn}"),
    };
    let (finding, actions) = match live {
        Lookup::Found(live) if trust::denies(&live.document, trustee) => {
            return finding
                .note(format!("Live: the trust policy of {} has a Deny that refuses {who}: adding an Allow cannot help.", live.arn))
                .step(format!(
                    "Remove or narrow the Deny in the trust policy of {name} that names {who}; an explicit Deny beats every Allow."
                ))
                .command(get_trust(name));
        }
        Lookup::Found(live) => match trust::missing_actions(&live.document, trustee) {
            missing if missing.is_empty() => {
                let note = format!("Live: the trust policy of {} now lets {who} take sts:AssumeRole and sts:TagSession.", live.arn);
                return finding.note(note);
            }
            missing => {
                (finding.note(format!("Live: the trust policy of {} does not let {who} take {}.", live.arn, missing.join(" or "))), missing)
            }
        },
        _ => (finding, trust::POD_IDENTITY_ACTIONS.to_vec()),
    };
    let added = trust::statement(trustee, &actions);
    finding
        .step(format!(
            "Add this statement to the trust policy of {name}: {added}. The first command writes the role's trust policy with the statement added to trust-policy.json, keeping every statement it has; the second puts it back."
        ))
        .command(format!("{} > trust-policy.json", merged_trust(name, &added)))
        .command(
            Command::new("aws iam update-assume-role-policy").arg("--role-name", name).literal("--policy-document file://trust-policy.json").to_string(),
        )
}

/// `aws iam get-role` printing the role's trust policy with `statement` appended, as a
/// whole policy document: JMESPath's `to_array` takes a single Statement object or a list.
fn merged_trust(role: &str, statement: &serde_json::Value) -> Command {
    let literal = format!("[{statement}]").replace('`', "\\`");
    let query = format!(
        "merge(`{{\"Version\":\"2012-10-17\"}}`, {{Statement: [to_array(Role.AssumeRolePolicyDocument.Statement), `{literal}`][]}})"
    );
    Command::new("aws iam get-role").arg("--role-name", role).arg("--query", &query).literal("--output json")
}

/// Pod Identity's own trustee.
pub const SERVICE: Trustee<'static> = Trustee::Service(POD_IDENTITY_SERVICE);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_with_tags_off_keeps_the_session_policy() {
        let mut event = Event { event_name: "UpdatePodIdentityAssociation".into(), region: "eu-west-1".into(), ..Event::default() };
        event.cluster = Some("orders-prod".into());
        event.request.association_id = Some("a-1".into());
        event.request.role_arn = Some("arn:aws:iam::111122223333:role/orders".into());
        event.request.policy = Some(serde_json::json!("{\"Version\":\"2012-10-17\"}"));
        assert_eq!(
            update_with_tags_off(&event),
            "aws eks update-pod-identity-association --cluster-name orders-prod --association-id a-1 --role-arn arn:aws:iam::111122223333:role/orders --policy '{\"Version\":\"2012-10-17\"}' --disable-session-tags --region eu-west-1"
        );
        assert_eq!(
            update_association(&event, "a-2", "arn:aws:iam::111122223333:role/other"),
            "aws eks update-pod-identity-association --cluster-name orders-prod --association-id a-2 --role-arn arn:aws:iam::111122223333:role/other --region eu-west-1"
        );
    }
}
