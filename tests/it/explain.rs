//! `explain "PASTED ERROR TEXT"`: real messages, as people pasted them into public issue
//! threads (each with its source), map to their causes; unknown text says so; the pasted
//! text cannot reach a terminal raw.

use eks_access_doctor_core::pasted::{explain, render_text, KubernetesAnswer};
use std::process::Command;

/// (pasted text, where it was seen, the cause that must come first).
const REAL: &[(&str, &str, &str)] = &[
    (
        "An error occurred (AccessDeniedException) when calling the CreateAccessEntry operation: User: arn:aws:iam::111122223333:user/dev is not authorized to perform: eks:CreateAccessEntry on resource: arn:aws:eks:us-east-1:111122223333:cluster/your-eks-cluster.",
        "https://repost.aws/knowledge-center/eks-troubleshoot-access-entries",
        "missing-iam-permission",
    ),
    (
        "Error: creating EKS Access Entry (prod:arn:aws:iam::111122223333:role/deployer): operation error EKS: CreateAccessEntry, https response error StatusCode: 409, RequestID: 3d4ef6a1-8a0e-4f0b-9d8c-2b1c7e0f5a11, ResourceInUseException: The specified access entry resource is already in use on this cluster.",
        "terraform-aws-modules/terraform-aws-eks#2968",
        "access-entry-already-exists",
    ),
    (
        "InvalidParameterException: The kubernetes group name system:masters is invalid, it cannot start with system:",
        "terraform-aws-modules/terraform-aws-eks#2915",
        "reserved-group-prefix",
    ),
    (
        "InvalidParameterException: Unsupported authentication mode update from CONFIG_MAP to API",
        "pulumi/pulumi-eks#1493",
        "auth-mode-two-step",
    ),
    (
        "InvalidParameterException: bootstrapClusterCreatorAdminPermissions must be true if cluster authentication mode is set to CONFIG_MAP",
        "terraform-aws-modules/terraform-aws-eks#3206",
        "creator-admin-required-for-config-map",
    ),
    (
        "ResourceNotFoundException: The specified principalArn could not be found. You can view your available access entries with 'list-access-entries'.",
        "terraform-aws-modules/terraform-aws-eks#3024",
        "access-entry-not-found",
    ),
    (
        "InvalidParameterException: The caller is not allowed to modify access entries with a principalArn value of a Service Linked Role",
        "hashicorp/terraform-provider-aws#36447",
        "service-linked-role",
    ),
    (
        "Error: creating pod identity association for service account \"test\" in namespace \"kube-system\": operation error EKS: CreatePodIdentityAssociation, https response error StatusCode: 409, RequestID: 5e0b, ResourceInUseException: Association already exists: a-9qwzkz4yrf8uhnnm5",
        "eksctl-io/eksctl#7753",
        "pod-identity-association-exists",
    ),
    (
        "CreatePodIdentityAssociation: InvalidParameterException: Trust policy of the role provided is invalid",
        "hashicorp/terraform-provider-aws#41483",
        "pod-identity-trust-policy",
    ),
    (
        "Trust policy of the role provided is invalid. Follow the official documentation to resolve the issue. Service: AWSWesleyFrontend",
        "aws/aws-cdk#31522",
        "pod-identity-trust-policy",
    ),
    (
        "Error when retrieving credentials from container-role: Error retrieving metadata: Received non 200 response 400 from container metadata: [b69b1279-d140-4eee-b7ea-b124286f544c]: (AccessDeniedException): Unauthorized Exception! EKS does not have permissions to assume the associated role., fault: client",
        "EKS workshop output of the Pod Identity Agent (research notes, section 4.4)",
        "pod-identity-role-not-assumable",
    ),
];

#[test]
fn real_pasted_messages_map_to_their_causes() {
    for (text, source, cause) in REAL {
        let explained = explain(text);
        let ids: Vec<&str> = explained.matches.iter().map(|m| m.cause.id).collect();
        assert_eq!(ids.first(), Some(cause), "{source}: {ids:?} for {text:?}");
        assert!(explained.matches.iter().all(|m| !m.to_be_sure.is_empty()), "{source}: a match that needs nothing");
    }
}

/// Without the call's name, a cause is offered with the calls it would fit.
#[test]
fn a_guessed_call_is_said() {
    let explained = explain("Trust policy of the role provided is invalid.");
    let first = &explained.matches[0];
    assert_eq!(first.calls, ["CreatePodIdentityAssociation", "UpdatePodIdentityAssociation"]);
    assert!(first.to_be_sure[0].contains("CreatePodIdentityAssociation or UpdatePodIdentityAssociation"), "{:?}", first.to_be_sure);
    assert!(first.to_be_sure.iter().any(|n| n == "the error code"), "{:?}", first.to_be_sure);
    assert!(first.to_be_sure.iter().any(|n| n.contains("the association's IAM role")), "{:?}", first.to_be_sure);
}

#[test]
fn kubectl_and_the_console_point_at_the_authenticator_log() {
    let kubectl = explain("error: You must be logged in to the server (Unauthorized)");
    assert_eq!(kubectl.read.kubernetes, Some(KubernetesAnswer::Unauthorized));
    let ids: Vec<&str> = kubectl.matches.iter().map(|m| m.cause.id).collect();
    assert!(ids.contains(&"identity-not-mapped") && ids.contains(&"identity-arn-mismatch"), "{ids:?}");
    assert!(kubectl.matches.iter().all(|m| m.to_be_sure[0].contains("authenticator log line")));
    let console = explain(
        "Your current IAM principal doesn't have access to Kubernetes objects on this cluster. This might be due to the current principal not having an IAM access entry with permissions to access the cluster.",
    );
    assert!(console.matches.iter().any(|m| m.cause.id == "access-entry-grants-nothing"));
}

#[test]
fn unknown_text_says_so() {
    let explained = explain("the coffee machine is out of beans");
    assert!(explained.matches.is_empty());
    assert!(render_text(&explained).contains("No cause in the catalogue matches this text"));
}

/// The CLI: the exit status says whether anything matched, and a pasted escape sequence
/// reaches the terminal as visible text.
#[test]
fn the_cli_escapes_the_paste_and_exits_by_the_answer() {
    let run = |text: &str| Command::new(env!("CARGO_BIN_EXE_eks-access-doctor")).args(["explain", text]).output().unwrap();
    let hostile = run("InvalidParameterException: The username must not begin with system: \u{1b}[2J\u{1b}]8;;https://evil.example\u{7}");
    let out = String::from_utf8(hostile.stdout).unwrap();
    assert_eq!(hostile.status.code(), Some(0), "{out}");
    assert!(out.contains("reserved-username-prefix") && !out.contains('\u{1b}') && out.contains("\\u{001b}"), "{out}");
    let unknown = run("the coffee machine is out of beans");
    assert_eq!(unknown.status.code(), Some(1));
    let json = Command::new(env!("CARGO_BIN_EXE_eks-access-doctor"))
        .args(["explain", "--format", "json", "InvalidParameterException: Unsupported authentication mode update from CONFIG_MAP to API"])
        .output()
        .unwrap();
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value["matches"][0]["cause"], "auth-mode-two-step");
    assert_eq!(value["read"]["code"], "InvalidParameterException");
}
