//! A role of another account as the association's role: EKS Pod Identity passes the
//! role, and PassRole needs the role in the cluster's account. Another account's role
//! belongs in `targetRoleArn`, assumed through a role of this account.

use super::pod_identity::{self, SERVICE};
use crate::arn::Arn;
use crate::event::{Event, Evidence};
use crate::facts::{Facts, Lookup};
use crate::finding::{Cause, Finding, Reach, Severity, Source};
use crate::trust::{self, Trustee};

pub static CAUSE: Cause = Cause {
    id: "pod-identity-role-other-account",
    severity: Severity::Error,
    title: "The association's role is in another account",
    docs: "https://docs.aws.amazon.com/eks/latest/userguide/pod-id-assign-target-role.html",
    evidence: &[Evidence::CloudTrail],
    needs: &[],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source {
            page: "https://docs.aws.amazon.com/eks/latest/userguide/pod-id-assign-target-role.html",
            quote: "EKS Pod Identity uses PassRole to connect a role to a Kubernetes service account, requiring both the role and the identity passing it to be in the same AWS account as the EKS cluster.",
        },
        Source {
            page: "https://docs.aws.amazon.com/eks/latest/userguide/pod-id-assign-target-role.html",
            quote: "The EKS Pod Identity role must be in your EKS cluster's account due to IAM PassRole requirements, while the Target IAM Role can be in any AWS account.",
        },
        Source {
            page: pod_identity::GUIDE_SOURCE,
            quote: "You can only associate roles that are in the same {aws} account as the cluster.",
        },
        Source {
            page: "https://docs.aws.amazon.com/eks/latest/userguide/pod-id-assign-target-role.html",
            quote: "In this step, you will update the permission policy of the EKS Pod Identity role associated with your Amazon EKS cluster by adding the Target IAM Role ARN as a resource.",
        },
    ],
};

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    let association_call = matches!(event.event_name.as_str(), "CreatePodIdentityAssociation" | "UpdatePodIdentityAssociation");
    let role = event.association_role()?;
    let role_account = Arn::parse(role)?.account;
    let cluster_account = event.account.as_deref()?;
    // IAM's own denials of the caller's policies are missing-iam-permission's to explain;
    // "Cross-account pass role is not allowed" is this cause's.
    let policy_denial = super::util::mentions(event.message(), &["is not authorized to perform"]);
    if !association_call || !event.failed() || policy_denial || role_account == cluster_account {
        return None;
    }
    let name = pod_identity::role_name(role).unwrap_or("ROLE_NAME");
    let local_name = format!("{name}-pod-identity");
    let local = crate::arn::iam_role_arn(event.partition(), cluster_account, "/", &local_name);
    let trust = trust::policy(trust::statement(SERVICE, &trust::POD_IDENTITY_ACTIONS));
    let assume_target = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{ "Sid": "AssumeTargetRole", "Effect": "Allow", "Action": trust::POD_IDENTITY_ACTIONS, "Resource": role }]
    });
    let mut retry = event.clone();
    retry.request.role_arn = Some(local.clone());
    retry.request.target_role_arn = Some(role.to_string());
    let finding = Finding::new(
        &CAUSE,
        format!(
            "{role} is in account {role_account}, but the cluster is in account {cluster_account}: the association's role must be \
             in the cluster's account, because EKS passes it (iam:PassRole). A role of another account is reached as the \
             association's target role, which EKS assumes with the credentials of a role of this account."
        ),
    )
    .step(format!("In account {cluster_account}: create a role {local_name} that trusts Pod Identity (first command) and may assume {role} (second command, the policy below)."))
    .step(format!("In account {role_account}: let {local} assume {role} by adding the statement below to {name}'s trust policy."))
    .step("Then create the association with the new role and the other account's role as its target (last command).")
    .command(
        crate::command::Command::new("aws iam create-role")
            .arg("--role-name", &local_name)
            .arg("--assume-role-policy-document", &trust.to_string())
            .to_string(),
    )
    .command(
        crate::command::Command::new("aws iam put-role-policy")
            .arg("--role-name", &local_name)
            .literal("--policy-name assume-target-role --policy-document file://policy.json")
            .to_string(),
    )
    .policy(assume_target);
    Some(pod_identity::trust_fix(finding, &Lookup::NotChecked, role, Trustee::Role(&local)).command(pod_identity::retry(&retry)))
}
