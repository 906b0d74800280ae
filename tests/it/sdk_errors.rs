//! SDK error paths with `aws-smithy-mocks`: throttling, access denied, not found
//! and 5xx for every lookup and for SNS, and what each becomes.

use crate::support;
use aws_sdk_eks::operation::describe_access_entry::{DescribeAccessEntryError, DescribeAccessEntryOutput};
use aws_sdk_eks::operation::describe_cluster::{DescribeClusterError, DescribeClusterOutput};
use aws_sdk_eks::operation::list_associated_access_policies::ListAssociatedAccessPoliciesOutput;
use aws_sdk_eks::types::{AccessConfigResponse, AccessEntry, AssociatedAccessPolicy, AuthenticationMode, Cluster};
use aws_sdk_iam::operation::get_role::{GetRoleError, GetRoleOutput};
use aws_sdk_iam::types::Role;
use aws_sdk_sns::operation::publish::{PublishError, PublishOutput};
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use aws_smithy_types::error::ErrorMetadata;
use eks_access_doctor_aws::enrich::{AwsLookups, Lookups};
use eks_access_doctor_aws::sns::SnsSink;
use eks_access_doctor_aws::Sink;
use eks_access_doctor_core::facts::{Lookup, PodAssociation, PodIdentityAgent, PrincipalKind};
use eks_access_doctor_core::render::sns::MessageFormat;

fn eks_error(code: &str, message: &str) -> ErrorMetadata {
    ErrorMetadata::builder().code(code).message(message).build()
}

fn lookups(eks: aws_sdk_eks::Client, iam: aws_sdk_iam::Client) -> AwsLookups {
    AwsLookups { eks, iam }
}

fn no_iam() -> aws_sdk_iam::Client {
    mock_client!(aws_sdk_iam, [])
}

fn no_eks() -> aws_sdk_eks::Client {
    mock_client!(aws_sdk_eks, [])
}

#[tokio::test]
async fn describe_cluster_found_and_each_failure() {
    let ok = mock!(aws_sdk_eks::Client::describe_cluster).then_output(|| {
        DescribeClusterOutput::builder()
            .cluster(
                Cluster::builder()
                    .access_config(AccessConfigResponse::builder().authentication_mode(AuthenticationMode::Api).build())
                    .build(),
            )
            .build()
    });
    let l = lookups(mock_client!(aws_sdk_eks, [&ok]), no_iam());
    assert_eq!(l.cluster_auth_mode("", "prod").await, Lookup::Found("API".into()));

    let cases = [
        ("ThrottlingException", "Rate exceeded"),
        ("AccessDeniedException", "not authorized to perform: eks:DescribeCluster"),
        ("ServerException", "internal"),
    ];
    for (code, message) in cases {
        let want = format!("{code}: {message}");
        let rule = mock!(aws_sdk_eks::Client::describe_cluster).then_error(move || DescribeClusterError::generic(eks_error(code, message)));
        let l = lookups(mock_client!(aws_sdk_eks, [&rule]), no_iam());
        match l.cluster_auth_mode("", "prod").await {
            Lookup::Failed(reason) => assert!(reason.contains(&want), "{reason}"),
            other => panic!("{other:?}"),
        }
    }
    let missing = mock!(aws_sdk_eks::Client::describe_cluster)
        .then_error(|| DescribeClusterError::generic(eks_error("ResourceNotFoundException", "No cluster found for name: prod.")));
    let l = lookups(mock_client!(aws_sdk_eks, [&missing]), no_iam());
    assert_eq!(l.cluster_auth_mode("", "prod").await, Lookup::Absent);
}

#[tokio::test]
async fn http_5xx_from_eks_is_a_failed_lookup() {
    let rule = mock!(aws_sdk_eks::Client::describe_cluster).sequence().http_status(503, None).times(5).build();
    let l = lookups(mock_client!(aws_sdk_eks, [&rule]), no_iam());
    assert!(matches!(l.cluster_auth_mode("", "prod").await, Lookup::Failed(_)));
}

#[tokio::test]
async fn existing_access_entry_with_its_policies() {
    let entry = mock!(aws_sdk_eks::Client::describe_access_entry).then_output(|| {
        DescribeAccessEntryOutput::builder()
            .access_entry(AccessEntry::builder().r#type("STANDARD").username("admin").kubernetes_groups("ops").build())
            .build()
    });
    let policies = mock!(aws_sdk_eks::Client::list_associated_access_policies).then_output(|| {
        ListAssociatedAccessPoliciesOutput::builder()
            .associated_access_policies(
                AssociatedAccessPolicy::builder().policy_arn("arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy").build(),
            )
            .build()
    });
    let l = lookups(mock_client!(aws_sdk_eks, RuleMode::MatchAny, [&entry, &policies]), no_iam());
    let Lookup::Found(facts) = l.access_entry("", "prod", "arn:aws:iam::1:role/x").await else { panic!() };
    assert_eq!(facts.entry_type.as_deref(), Some("STANDARD"));
    assert_eq!(facts.kubernetes_groups, ["ops"]);
    assert!(facts.policies[0].ends_with("AmazonEKSClusterAdminPolicy"));

    let gone = mock!(aws_sdk_eks::Client::describe_access_entry).then_error(|| {
        DescribeAccessEntryError::generic(eks_error("ResourceNotFoundException", "The specified principalArn could not be found."))
    });
    let l = lookups(mock_client!(aws_sdk_eks, RuleMode::MatchAny, [&gone, &policies]), no_iam());
    assert_eq!(l.access_entry("", "prod", "arn:aws:iam::1:role/x").await, Lookup::Absent);
}

#[tokio::test]
async fn iam_principal_path_and_denials() {
    let role = mock!(aws_sdk_iam::Client::get_role).then_output(|| {
        GetRoleOutput::builder()
            .role(
                Role::builder()
                    .path("/aws-service-role/autoscaling.amazonaws.com/")
                    .role_name("AWSServiceRoleForAutoScaling")
                    .role_id("AROA")
                    .arn("arn:aws:iam::1:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling")
                    .create_date(aws_smithy_types::DateTime::from_secs(0))
                    .build()
                    .unwrap(),
            )
            .build()
    });
    let l = lookups(no_eks(), mock_client!(aws_sdk_iam, [&role]));
    let Lookup::Found(p) = l.principal("arn:aws:iam::1:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling").await
    else {
        panic!()
    };
    assert_eq!(p.kind, PrincipalKind::Role);
    assert!(p.is_service_linked());

    let l = iam_answering(GET_ROLE_MISSING);
    assert_eq!(l.principal("arn:aws:iam::1:role/x").await, Lookup::Absent);
    let l = iam_answering(GET_ROLE_DENIED);
    assert!(matches!(l.principal("arn:aws:iam::1:role/x").await, Lookup::Failed(r) if r.starts_with("AccessDenied")));
}

const GET_ROLE_MISSING: (&str, &str) = ("NoSuchEntity", "The role with name x cannot be found.");
const GET_ROLE_DENIED: (&str, &str) = ("AccessDenied", "not authorized to perform: iam:GetRole");

/// Lookups whose IAM answers every GetRole with the error `(code, message)`.
fn iam_answering((code, message): (&'static str, &'static str)) -> AwsLookups {
    let rule = mock!(aws_sdk_iam::Client::get_role).then_error(move || GetRoleError::generic(eks_error(code, message)));
    lookups(no_eks(), mock_client!(aws_sdk_iam, [&rule]))
}

/// The association role's trust policy, decoded as IAM returns it (URL-encoded); a
/// missing role is a fact, a denial a note.
#[tokio::test]
async fn association_role_trust_policy() {
    let role = mock!(aws_sdk_iam::Client::get_role).then_output(|| {
        GetRoleOutput::builder()
            .role(
                Role::builder()
                    .path("/team/")
                    .role_name("orders-reader")
                    .role_id("AROA")
                    .arn("arn:aws:iam::1:role/team/orders-reader")
                    .create_date(aws_smithy_types::DateTime::from_secs(0))
                    .assume_role_policy_document("%7B%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%7D%7D")
                    .build()
                    .unwrap(),
            )
            .build()
    });
    let l = lookups(no_eks(), mock_client!(aws_sdk_iam, [&role]));
    let Lookup::Found(trust) = l.role_trust("arn:aws:iam::1:role/team/orders-reader").await else { panic!() };
    assert_eq!(trust.arn, "arn:aws:iam::1:role/team/orders-reader");
    assert_eq!(trust.document["Statement"]["Effect"], "Allow");
    assert_eq!(role.num_calls(), 1);

    assert_eq!(iam_answering(GET_ROLE_MISSING).role_trust("arn:aws:iam::1:role/x").await, Lookup::Absent);
    let l = iam_answering(GET_ROLE_DENIED);
    assert!(matches!(l.role_trust("arn:aws:iam::1:role/x").await, Lookup::Failed(r) if r.starts_with("AccessDenied")));
    assert!(matches!(l.role_trust("arn:aws:iam::1:user/x").await, Lookup::Failed(r) if r == "not an IAM role ARN"));
}

/// The service account's association, listed then described; a listing denied is a note,
/// and a description that fails after the listing too.
#[tokio::test]
async fn service_account_associations() {
    use aws_sdk_eks::operation::describe_pod_identity_association::{
        DescribePodIdentityAssociationError, DescribePodIdentityAssociationOutput,
    };
    use aws_sdk_eks::operation::list_pod_identity_associations::{ListPodIdentityAssociationsError, ListPodIdentityAssociationsOutput};
    use aws_sdk_eks::types::{PodIdentityAssociation, PodIdentityAssociationSummary};
    let listed = mock!(aws_sdk_eks::Client::list_pod_identity_associations)
        .match_requests(|r| r.namespace() == Some("orders") && r.service_account() == Some("orders-api"))
        .then_output(|| {
            ListPodIdentityAssociationsOutput::builder()
                .associations(PodIdentityAssociationSummary::builder().association_id("a-1").build())
                .build()
        });
    let described = mock!(aws_sdk_eks::Client::describe_pod_identity_association)
        .match_requests(|r| r.association_id() == Some("a-1"))
        .then_output(|| {
            DescribePodIdentityAssociationOutput::builder()
                .association(PodIdentityAssociation::builder().role_arn("arn:aws:iam::1:role/orders-reader").build())
                .build()
        });
    let l = lookups(mock_client!(aws_sdk_eks, RuleMode::MatchAny, [&listed, &described]), no_iam());
    assert_eq!(
        l.pod_associations("", "prod", "orders", "orders-api").await,
        Lookup::Found(vec![PodAssociation {
            association_id: "a-1".into(),
            role_arn: Some("arn:aws:iam::1:role/orders-reader".into()),
            target_role_arn: None
        }])
    );

    let denied = mock!(aws_sdk_eks::Client::list_pod_identity_associations).then_error(|| {
        ListPodIdentityAssociationsError::generic(eks_error(
            "AccessDeniedException",
            "not authorized to perform: eks:ListPodIdentityAssociations",
        ))
    });
    let l = lookups(mock_client!(aws_sdk_eks, [&denied]), no_iam());
    assert!(
        matches!(l.pod_associations("", "prod", "orders", "orders-api").await, Lookup::Failed(r) if r.starts_with("AccessDeniedException"))
    );

    let gone = mock!(aws_sdk_eks::Client::describe_pod_identity_association)
        .then_error(|| DescribePodIdentityAssociationError::generic(eks_error("ThrottlingException", "Rate exceeded")));
    let l = lookups(mock_client!(aws_sdk_eks, RuleMode::MatchAny, [&listed, &gone]), no_iam());
    assert!(
        matches!(l.pod_associations("", "prod", "orders", "orders-api").await, Lookup::Failed(r) if r.starts_with("ThrottlingException"))
    );
}

/// Whether an agent runs: the add-on with its status, else Auto Mode, else absent; a
/// DescribeAddon denied is a note, not an absence.
#[tokio::test]
async fn pod_identity_agent_addon_auto_mode_or_none() {
    use aws_sdk_eks::operation::describe_addon::{DescribeAddonError, DescribeAddonOutput};
    use aws_sdk_eks::types::{Addon, AddonStatus, ComputeConfigResponse};
    let cluster = |auto: bool| {
        mock!(aws_sdk_eks::Client::describe_cluster).then_output(move || {
            DescribeClusterOutput::builder()
                .cluster(Cluster::builder().name("prod").compute_config(ComputeConfigResponse::builder().enabled(auto).build()).build())
                .build()
        })
    };
    let addon = mock!(aws_sdk_eks::Client::describe_addon)
        .match_requests(|r| r.addon_name() == Some("eks-pod-identity-agent"))
        .then_output(|| DescribeAddonOutput::builder().addon(Addon::builder().status(AddonStatus::Degraded).build()).build());
    let plain = cluster(false);
    let l = lookups(mock_client!(aws_sdk_eks, RuleMode::MatchAny, [&addon, &plain]), no_iam());
    assert_eq!(l.pod_identity_agent("", "prod").await, Lookup::Found(PodIdentityAgent::Addon { status: "DEGRADED".into() }));

    let none = || {
        mock!(aws_sdk_eks::Client::describe_addon).then_error(|| {
            DescribeAddonError::generic(eks_error("ResourceNotFoundException", "No addon: eks-pod-identity-agent found in cluster: prod"))
        })
    };
    let (missing, auto) = (none(), cluster(true));
    let l = lookups(mock_client!(aws_sdk_eks, RuleMode::MatchAny, [&missing, &auto]), no_iam());
    assert_eq!(l.pod_identity_agent("", "prod").await, Lookup::Found(PodIdentityAgent::AutoMode));
    let (missing, plain) = (none(), cluster(false));
    let l = lookups(mock_client!(aws_sdk_eks, RuleMode::MatchAny, [&missing, &plain]), no_iam());
    assert_eq!(l.pod_identity_agent("", "prod").await, Lookup::Absent);

    let denied = mock!(aws_sdk_eks::Client::describe_addon)
        .then_error(|| DescribeAddonError::generic(eks_error("AccessDeniedException", "not authorized to perform: eks:DescribeAddon")));
    let plain = cluster(false);
    let l = lookups(mock_client!(aws_sdk_eks, RuleMode::MatchAny, [&denied, &plain]), no_iam());
    assert!(matches!(l.pod_identity_agent("", "prod").await, Lookup::Failed(r) if r.starts_with("AccessDeniedException")));
}

#[tokio::test]
async fn sns_publish_carries_subject_and_attributes() {
    let rule = mock!(aws_sdk_sns::Client::publish)
        .match_requests(|r| {
            let attrs = r.message_attributes().unwrap();
            r.subject().is_some_and(|s| s.len() < 100)
                && attrs["cause"].string_value() == Some("reserved-group-prefix")
                && attrs["severity"].string_value() == Some("error")
                && attrs["cluster"].string_value() == Some("data-platform")
                && attrs.contains_key("account")
                && attrs.contains_key("region")
        })
        .then_output(|| PublishOutput::builder().message_id("m-1").build());
    let sink =
        SnsSink { client: mock_client!(aws_sdk_sns, [&rule]), topic_arn: "arn:aws:sns:eu-west-1:1:t".into(), format: MessageFormat::Text };
    let d = support::diagnose(support::fixture_event("reserved-group-prefix.json"));
    sink.publish(&d, &d.findings[0]).await.unwrap();
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn sns_failures_become_delivery_errors() {
    let d = support::diagnose(support::fixture_event("reserved-group-prefix.json"));
    let cases =
        [("Throttling", "Rate exceeded"), ("AuthorizationError", "not authorized to perform: SNS:Publish"), ("KMSAccessDenied", "KMS")];
    for (code, message) in cases {
        let want = format!("{code}: {message}");
        let rule = mock!(aws_sdk_sns::Client::publish).then_error(move || PublishError::generic(eks_error(code, message)));
        let sink = SnsSink { client: mock_client!(aws_sdk_sns, [&rule]), topic_arn: "t".into(), format: MessageFormat::Text };
        let err = sink.publish(&d, &d.findings[0]).await.unwrap_err();
        assert_eq!(err.sink, "sns");
        assert!(err.message.contains(&want), "{err}");
    }
    let outage = mock!(aws_sdk_sns::Client::publish).sequence().http_status(500, None).times(5).build();
    let sink = SnsSink { client: mock_client!(aws_sdk_sns, [&outage]), topic_arn: "t".into(), format: MessageFormat::Text };
    assert!(sink.publish(&d, &d.findings[0]).await.is_err());
}
