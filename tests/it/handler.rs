//! The function's handler end to end in-process: SDK clients mocked with
//! `aws-smithy-mocks`, Slack a real local HTTP server. Faults in every
//! dependency; the outcome is always delivered, delivered without enrichment
//! (saying so), or a failed invocation that Lambda retries.

use crate::support;
use crate::support::webhook::{Reply, Webhook};
use aws_sdk_eks::operation::describe_access_entry::DescribeAccessEntryOutput;
use aws_sdk_eks::operation::describe_cluster::{DescribeClusterError, DescribeClusterOutput};
use aws_sdk_eks::operation::list_associated_access_policies::ListAssociatedAccessPoliciesOutput;
use aws_sdk_eks::types::AccessEntry;
use aws_sdk_eks::types::{AccessConfigResponse, AuthenticationMode, Cluster};
use aws_sdk_iam::operation::get_role::{GetRoleError, GetRoleOutput};
use aws_sdk_iam::types::Role;
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;
use aws_sdk_sns::operation::publish::{PublishError, PublishOutput};
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use aws_smithy_types::error::ErrorMetadata;
use eks_access_doctor_aws::config::Settings;
use eks_access_doctor_aws::enrich::{AwsLookups, Home, Lookups};
use eks_access_doctor_aws::handler::{Doctor, HandlerError, Outcome};
use eks_access_doctor_aws::slack::{RetryPolicy, SlackSink};
use eks_access_doctor_aws::sns::SnsSink;
use eks_access_doctor_aws::{BoxFuture, Sink};
use eks_access_doctor_core::facts::{AccessEntryFacts, Lookup, PrincipalFacts};
use std::time::Duration;

fn home(account: &str) -> Home {
    Home { account: Some(account.to_string()), region: None }
}

fn error(code: &str) -> ErrorMetadata {
    ErrorMetadata::builder().code(code).message(format!("{code} happened")).build()
}

fn settings(vars: &[(&str, &str)]) -> Settings {
    let mut all = vec![("SNS_TOPIC_ARN", "arn:aws:sns:eu-west-1:111122223333:alerts"), ("ENRICHMENT_TIMEOUT_MS", "300")];
    all.extend_from_slice(vars);
    Settings::from_lookup(|k| all.iter().rev().find(|(name, _)| *name == k).map(|(_, v)| v.to_string())).unwrap()
}

fn policy() -> RetryPolicy {
    RetryPolicy {
        attempts: 2,
        backoff: Duration::from_millis(10),
        max_retry_after: Duration::from_secs(1),
        request_timeout: Duration::from_millis(500),
    }
}

fn sns_ok() -> Rule {
    mock!(aws_sdk_sns::Client::publish).then_output(|| PublishOutput::builder().message_id("m").build())
}

/// Lookups answering from `eks_rules` and `iam_rules` first; any other lookup finds
/// an ordinary role at path `/` and an API_AND_CONFIG_MAP cluster.
fn aws_lookups(eks_rules: &[&Rule], iam_rules: &[&Rule]) -> Box<dyn Lookups> {
    let any_role = mock!(aws_sdk_iam::Client::get_role).then_output(|| {
        let role = Role::builder()
            .path("/")
            .role_name("r")
            .role_id("AROA")
            .arn("arn:aws:iam::1:role/r")
            .create_date(aws_smithy_types::DateTime::from_secs(0));
        GetRoleOutput::builder().role(role.build().unwrap()).build()
    });
    let any_cluster = mock!(aws_sdk_eks::Client::describe_cluster).then_output(|| {
        let mode = AccessConfigResponse::builder().authentication_mode(AuthenticationMode::ApiAndConfigMap).build();
        DescribeClusterOutput::builder().cluster(Cluster::builder().access_config(mode).build()).build()
    });
    let iam_rules: Vec<&Rule> = iam_rules.iter().copied().chain([&any_role]).collect();
    let eks_rules: Vec<&Rule> = eks_rules.iter().copied().chain([&any_cluster]).collect();
    let eks = mock_client!(aws_sdk_eks, RuleMode::MatchAny, &eks_rules);
    let iam = mock_client!(aws_sdk_iam, RuleMode::MatchAny, &iam_rules);
    Box::new(AwsLookups { eks, iam })
}

fn doctor(settings: Settings, lookups: Box<dyn Lookups>, sns: &[&Rule], slack: Option<&Webhook>) -> Doctor {
    let mut sinks: Vec<Box<dyn Sink>> = vec![Box::new(SnsSink {
        client: mock_client!(aws_sdk_sns, RuleMode::MatchAny, sns),
        topic_arn: "arn:aws:sns:eu-west-1:111122223333:alerts".into(),
        format: settings.sns_message_format,
    })];
    if let Some(hook) = slack {
        sinks.push(Box::new(SlackSink::new(hook.url.clone(), policy()).unwrap()));
    }
    Doctor::new(settings, lookups, sinks, None)
}

#[tokio::test]
async fn alerts_with_live_facts_on_both_sinks() {
    let entry = mock!(aws_sdk_eks::Client::describe_access_entry).then_output(|| {
        DescribeAccessEntryOutput::builder().access_entry(AccessEntry::builder().r#type("STANDARD").username("creator").build()).build()
    });
    let policies =
        mock!(aws_sdk_eks::Client::list_associated_access_policies).then_output(|| ListAssociatedAccessPoliciesOutput::builder().build());
    let role = mock!(aws_sdk_iam::Client::get_role).then_error(|| GetRoleError::generic(error("AccessDenied")));
    let sns = sns_ok();
    let hook = Webhook::start(vec![]);
    let doctor = doctor(settings(&[]), aws_lookups(&[&entry, &policies], &[&role]), &[&sns], Some(&hook));
    let outcome = doctor.handle(&support::fixture_text("access-entry-already-exists.json"), &home("111122223333")).await.unwrap();
    assert!(
        matches!(&outcome, Outcome::Alerted { causes, notes, .. } if causes == &["access-entry-already-exists"] && *notes == 1),
        "{outcome:?}"
    );
    assert_eq!(sns.num_calls(), 1);
    // The cause needs only the access entry: IAM is not asked, so its failure cannot show.
    assert_eq!(role.num_calls(), 0);
    let slack = hook.received();
    let text = slack[0].to_string();
    assert!(text.contains("Live: the existing entry has type STANDARD"), "{text}");
    assert!(!text.contains("Could not check"), "{text}");
}

/// With SNS_MESSAGE_FORMAT=chatbot the message body is the custom notification itself
/// (Chatbot reads nothing else), and the subject and filter attributes stay as they were.
#[tokio::test]
async fn chatbot_format_publishes_the_custom_notification_as_the_message() {
    let sns = mock!(aws_sdk_sns::Client::publish)
        .match_requests(|r| {
            let Ok(n) = serde_json::from_str::<serde_json::Value>(r.message().unwrap_or_default()) else { return false };
            let attrs = r.message_attributes().unwrap();
            n["version"] == "1.0"
                && n["source"] == "custom"
                && n["metadata"]["eventType"] == "reserved-group-prefix"
                && n["metadata"]["threadId"].as_str().is_some_and(|t| t.len() == 32)
                && n["content"]["description"].as_str().is_some_and(|d| d.contains("*Cluster* `data-platform`"))
                && r.subject().is_some_and(|s| s.starts_with("[EKS error] reserved-group-prefix on data-platform"))
                && attrs["cause"].string_value() == Some("reserved-group-prefix")
                && attrs["cluster"].string_value() == Some("data-platform")
        })
        .then_output(|| PublishOutput::builder().message_id("m").build());
    let chatbot = doctor(settings(&[("SNS_MESSAGE_FORMAT", "chatbot")]), aws_lookups(&[], &[]), &[&sns], None);
    let outcome = chatbot.handle(&support::fixture_text("reserved-group-prefix.json"), &home("111122223333")).await.unwrap();
    assert!(matches!(outcome, Outcome::Alerted { .. }), "{outcome:?}");
    assert_eq!(sns.num_calls(), 1, "the published message was not the notification");

    // The default stays the plain text an e-mail subscriber reads.
    let text = mock!(aws_sdk_sns::Client::publish)
        .match_requests(|r| r.message().is_some_and(|m| m.starts_with("ERROR [reserved-group-prefix]")))
        .then_output(|| PublishOutput::builder().message_id("m").build());
    let plain = doctor(settings(&[]), aws_lookups(&[], &[]), &[&text], None);
    plain.handle(&support::fixture_text("reserved-group-prefix.json"), &home("111122223333")).await.unwrap();
    assert_eq!(text.num_calls(), 1);
}

#[tokio::test]
async fn a_failed_lookup_is_a_note_on_the_findings_that_need_it() {
    let role = mock!(aws_sdk_iam::Client::get_role).then_error(|| GetRoleError::generic(error("AccessDenied")));
    let sns = sns_ok();
    let hook = Webhook::start(vec![]);
    let doctor = doctor(settings(&[]), aws_lookups(&[], &[&role]), &[&sns], Some(&hook));
    let outcome = doctor.handle(&support::fixture_text("invalid-principal.json"), &home("111122223333")).await.unwrap();
    assert!(matches!(&outcome, Outcome::Alerted { notes, .. } if *notes == 1), "{outcome:?}");
    assert_eq!(role.num_calls() + sns.num_calls(), 2);
    let text = hook.received()[0].to_string();
    assert!(text.contains("Could not check the principal in IAM: AccessDenied"), "{text}");
}

#[tokio::test]
async fn the_same_event_twice_pages_once() {
    let sns = sns_ok();
    let doctor = doctor(settings(&[]), aws_lookups(&[], &[]), &[&sns], None);
    let event = support::fixture_text("reserved-group-prefix.json");
    assert!(matches!(doctor.handle(&event, &home("111122223333")).await.unwrap(), Outcome::Alerted { .. }));
    assert!(matches!(doctor.handle(&event, &home("111122223333")).await.unwrap(), Outcome::Duplicate { .. }));
    assert_eq!(sns.num_calls(), 1);
}

#[tokio::test]
async fn a_failed_sink_fails_the_invocation_and_the_retry_resends_only_what_failed() {
    let sns = mock!(aws_sdk_sns::Client::publish)
        .sequence()
        .error(|| PublishError::generic(error("AuthorizationError")))
        .output(|| PublishOutput::builder().message_id("m").build())
        .build();
    let hook = Webhook::start(vec![]);
    let doctor = doctor(settings(&[]), aws_lookups(&[], &[]), &[&sns], Some(&hook));
    let event = support::fixture_text("reserved-group-prefix.json");
    match doctor.handle(&event, &home("111122223333")).await {
        Err(HandlerError::Delivery(errors)) => assert_eq!(errors[0].sink, "sns"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(doctor.handle(&event, &home("111122223333")).await.unwrap(), Outcome::Alerted { .. }));
    assert_eq!(sns.num_calls(), 2);
    assert_eq!(hook.received().len(), 1, "Slack got the alert once");
}

#[tokio::test]
async fn slack_down_fails_the_invocation() {
    let sns = sns_ok();
    let hook = Webhook::start(vec![Reply::status(500), Reply::status(500)]);
    let doctor = doctor(settings(&[]), aws_lookups(&[], &[]), &[&sns], Some(&hook));
    let err = doctor.handle(&support::fixture_text("service-linked-role.json"), &home("111122223333")).await.unwrap_err();
    assert!(err.to_string().contains("slack delivery failed"), "{err}");
    assert!(!err.to_string().contains("very-secret-token"));
}

#[tokio::test]
async fn enrichment_failures_are_told_not_fatal() {
    let describe =
        mock!(aws_sdk_eks::Client::describe_cluster).then_error(|| DescribeClusterError::generic(error("AccessDeniedException")));
    let sns = mock!(aws_sdk_sns::Client::publish)
        .match_requests(|r| {
            r.message().is_some_and(|m| m.contains("Could not check the cluster's current authentication mode: AccessDeniedException"))
        })
        .then_output(|| PublishOutput::builder().message_id("m").build());
    let doctor = doctor(settings(&[]), aws_lookups(&[&describe], &[]), &[&sns], None);
    let outcome = doctor.handle(&support::fixture_text("auth-mode-irreversible.json"), &home("111122223333")).await.unwrap();
    assert!(matches!(outcome, Outcome::Alerted { .. }));
    assert_eq!(sns.num_calls(), 1);
}

/// A lookup port that answers too late: the budget, not AWS, is under test.
struct Slow;

impl Lookups for Slow {
    fn cluster_auth_mode<'a>(&'a self, _: &'a str, _: &'a str) -> BoxFuture<'a, Lookup<String>> {
        Box::pin(async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Lookup::Found("API".into())
        })
    }
    fn access_entry<'a>(&'a self, _: &'a str, _: &'a str, _: &'a str) -> BoxFuture<'a, Lookup<AccessEntryFacts>> {
        Box::pin(async { Lookup::NotChecked })
    }
    fn principal<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Lookup<PrincipalFacts>> {
        Box::pin(async { Lookup::NotChecked })
    }
    fn cluster_entries<'a>(&'a self, _: &'a str, _: &'a str) -> BoxFuture<'a, Lookup<Vec<String>>> {
        Box::pin(async { Lookup::NotChecked })
    }
}

/// Paused time: the budget and the slow lookup run on tokio's clock, so the test
/// waits for neither and its timing is exact.
#[tokio::test(start_paused = true)]
async fn slow_enrichment_is_cut_at_the_budget() {
    let sns = mock!(aws_sdk_sns::Client::publish)
        .match_requests(|r| r.message().is_some_and(|m| m.contains("no answer within the 300 ms enrichment budget")))
        .then_output(|| PublishOutput::builder().message_id("m").build());
    let doctor = doctor(settings(&[]), Box::new(Slow), &[&sns], None);
    let started = tokio::time::Instant::now();
    doctor.handle(&support::fixture_text("auth-mode-irreversible.json"), &home("111122223333")).await.unwrap();
    assert_eq!(started.elapsed(), Duration::from_millis(300));
    assert_eq!(sns.num_calls(), 1);
}

#[tokio::test]
async fn failures_carry_the_error_type_the_runtime_reports() {
    let doctor = doctor(settings(&[]), aws_lookups(&[], &[]), &[], None);
    let envelope = "{\"detail-type\": 7, \"source\": \"aws.eks\", \"detail\": {}}";
    let error = doctor.handle(envelope, &home("111122223333")).await.unwrap_err();
    // The envelope's own error, not the bare-record parser's guess.
    assert!(error.to_string().contains("not an EventBridge event"), "{error}");
    let diagnostic = lambda_runtime::Diagnostic::from(error);
    assert_eq!(diagnostic.error_type, "UnreadableEvent");
    let bare = doctor.handle("{\"eventSource\": 5}", &home("111122223333")).await.unwrap_err();
    assert!(bare.to_string().contains("not a CloudTrail record"), "{bare}");
}

#[tokio::test]
async fn unreadable_input_fails_for_the_failure_destination() {
    let doctor = doctor(settings(&[]), aws_lookups(&[], &[]), &[], None);
    for payload in ["{\"hello\": 1}", "[]", "\"text\"", "{\"detail-type\": \"x\", \"source\": \"aws.eks\", \"detail\": 5}"] {
        assert!(matches!(doctor.handle(payload, &home("111122223333")).await, Err(HandlerError::Unreadable(_))), "{payload}");
    }
}

#[tokio::test]
async fn skips_are_deliberate_and_explained() {
    let sns = sns_ok();
    let d = doctor(settings(&[("EXCLUDE_CLUSTERS", "data-*"), ("MIN_SEVERITY", "error")]), aws_lookups(&[], &[]), &[&sns], None);
    let filtered = d.handle(&support::fixture_text("reserved-group-prefix.json"), &home("111122223333")).await.unwrap();
    assert!(matches!(&filtered, Outcome::Ignored { reason, .. } if reason.contains("EXCLUDE_CLUSTERS")), "{filtered:?}");
    let other_service =
        d.handle(&support::fixture_text("no-finding/s3-put-bucket-policy-denied.json"), &home("111122223333")).await.unwrap();
    assert!(matches!(&other_service, Outcome::Ignored { reason, .. } if reason == "not an EKS event"));
    let below = d.handle(&support::fixture_text("unbound-kubernetes-group.json"), &home("111122223333")).await.unwrap();
    assert!(matches!(below, Outcome::NoFinding { .. }));
    assert_eq!(sns.num_calls(), 0);
}

#[tokio::test]
async fn events_from_another_account_are_not_looked_up_here() {
    let sns = mock!(aws_sdk_sns::Client::publish)
        .match_requests(|r| {
            r.message().is_some_and(|m| m.contains("the event is from account 111122223333 and this function runs in account 999988887777"))
        })
        .then_output(|| PublishOutput::builder().message_id("m").build());
    let doctor = doctor(settings(&[]), aws_lookups(&[], &[]), &[&sns], None);
    doctor.handle(&support::fixture_text("auth-mode-irreversible.json"), &home("999988887777")).await.unwrap();
    assert_eq!(sns.num_calls(), 1);
}

#[tokio::test]
async fn secrets_manager_unavailable_at_init_is_a_clear_error() {
    let rule =
        mock!(aws_sdk_secretsmanager::Client::get_secret_value).then_error(|| GetSecretValueError::generic(error("AccessDeniedException")));
    let client = mock_client!(aws_sdk_secretsmanager, [&rule]);
    let err = eks_access_doctor_aws::secrets::fetch_webhook(&client, "arn:aws:secretsmanager:eu-west-1:1:secret:slack").await.unwrap_err();
    assert!(err.contains("cannot read the Slack webhook secret") && err.contains("AccessDeniedException"), "{err}");
}
