//! The authenticator log through the handler: a CloudWatch Logs subscription batch
//! (`{"awslogs":{"data":…}}`, gzip and base64 as CloudWatch Logs sends it), a flood
//! of identical denials collapsed into one alert that carries the count, repeats
//! within the window counted and not sent, a failed delivery retried whole, and the
//! live facts (the cluster's entries, paged; the role in IAM) with their SDK faults.

use crate::support;
use crate::support::doctor::sns_down_once;
use crate::support::logs::{subscription, DENIED, GRANTED};
use aws_sdk_eks::operation::describe_cluster::DescribeClusterOutput;
use aws_sdk_eks::operation::list_access_entries::{ListAccessEntriesError, ListAccessEntriesOutput};
use aws_sdk_eks::types::{AccessConfigResponse, AuthenticationMode, Cluster};
use aws_sdk_iam::operation::get_role::GetRoleOutput;
use aws_sdk_iam::types::Role;
use aws_sdk_sns::operation::publish::PublishOutput;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use aws_smithy_types::error::ErrorMetadata;
use eks_access_doctor_aws::config::Settings;
use eks_access_doctor_aws::enrich::{AwsLookups, Home};
use eks_access_doctor_aws::handler::{Doctor, HandlerError, LogBatch, Outcome};
use eks_access_doctor_aws::sns::SnsSink;
use eks_access_doctor_aws::Sink;
use eks_access_doctor_core::render::sns::MessageFormat;

fn doctor(sns: &Rule) -> Doctor {
    doctor_with(sns, &[], &[])
}

/// `eks` and `iam` rules answer first; otherwise the cluster is in API mode with no
/// entries, and IAM finds the role at path `/`.
fn doctor_with(sns: &Rule, eks: &[&Rule], iam: &[&Rule]) -> Doctor {
    let vars = [("SNS_TOPIC_ARN", "arn:aws:sns:eu-west-1:111122223333:alerts"), ("ENRICHMENT_TIMEOUT_MS", "300")];
    let settings = Settings::from_lookup(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())).unwrap();
    let cluster = mock!(aws_sdk_eks::Client::describe_cluster).then_output(|| {
        let mode = AccessConfigResponse::builder().authentication_mode(AuthenticationMode::Api).build();
        DescribeClusterOutput::builder().cluster(Cluster::builder().access_config(mode).build()).build()
    });
    let no_entries = mock!(aws_sdk_eks::Client::list_access_entries).then_output(|| ListAccessEntriesOutput::builder().build());
    let any_role = role("arn:aws:iam::111122223333:role/admin-test-role");
    let eks: Vec<&Rule> = eks.iter().copied().chain([&cluster, &no_entries]).collect();
    let iam: Vec<&Rule> = iam.iter().copied().chain([&any_role]).collect();
    let lookups =
        AwsLookups { eks: mock_client!(aws_sdk_eks, RuleMode::MatchAny, &eks), iam: mock_client!(aws_sdk_iam, RuleMode::MatchAny, &iam) };
    let sinks: Vec<Box<dyn Sink>> = vec![Box::new(SnsSink {
        client: mock_client!(aws_sdk_sns, RuleMode::MatchAny, [sns]),
        topic_arn: "arn:aws:sns:eu-west-1:111122223333:alerts".into(),
        format: MessageFormat::Text,
    })];
    Doctor::new(settings, Box::new(lookups), sinks, None)
}

fn home() -> Home {
    Home { account: Some("111122223333".into()), region: Some("eu-west-1".into()) }
}

fn batch(outcome: Outcome) -> LogBatch {
    match outcome {
        Outcome::LogBatch(batch) => batch,
        other => panic!("expected a log batch, got {other:?}"),
    }
}

#[tokio::test]
async fn a_thousand_identical_denials_page_once_and_say_how_many() {
    let sns = mock!(aws_sdk_sns::Client::publish)
        .match_requests(|r| {
            let m = r.message().unwrap_or_default();
            m.contains("identity-not-mapped") && m.contains("1000 identical denials") && m.contains("Live: the cluster is in API mode")
        })
        .then_output(|| PublishOutput::builder().message_id("m").build());
    let doctor = doctor(&sns);
    let flood = vec![DENIED; 1000];
    let first = batch(doctor.handle(&subscription(&flood, 0), &home()).await.unwrap());
    assert_eq!((first.log_events, first.alerts, first.repeats_in_alerts, first.suppressed), (1000, 1, 999, 0));
    assert_eq!(sns.num_calls(), 1);

    // The same denial again within the window: counted, not sent.
    let second = batch(doctor.handle(&subscription(&flood[..500], 1000), &home()).await.unwrap());
    assert_eq!((second.alerts, second.suppressed), (0, 500));
    assert_eq!(sns.num_calls(), 1);
    // Every denial is accounted for: 1 alert + 999 repeats it stood for + 500 counted.
    assert_eq!(first.alerts + first.repeats_in_alerts + second.suppressed, 1500);
}

#[tokio::test]
async fn a_batch_mixes_denials_grants_and_other_lines() {
    let sns = mock!(aws_sdk_sns::Client::publish).then_output(|| PublishOutput::builder().message_id("m").build());
    let doctor = doctor(&sns);
    let other_role = DENIED.replace("admin-test-role", "ci-deployer");
    let lines = [GRANTED, DENIED, other_role.as_str(), DENIED, r#"time="t" level=info msg="STS response" accountid=1"#];
    let got = batch(doctor.handle(&subscription(&lines, 0), &home()).await.unwrap());
    assert_eq!((got.log_events, got.alerts, got.repeats_in_alerts, got.ignored), (5, 2, 1, 2));
    assert_eq!(sns.num_calls(), 2);
}

#[tokio::test]
async fn a_failed_delivery_fails_the_batch_and_the_retry_delivers() {
    let sns = sns_down_once();
    let doctor = doctor(&sns);
    let payload = subscription(&[DENIED, DENIED], 0);
    let failed = doctor.handle(&payload, &home()).await.unwrap_err();
    assert!(matches!(failed, HandlerError::Delivery(_)), "{failed}");
    // The window did not open: the retry of the same batch alerts, nothing is lost.
    let retried = batch(doctor.handle(&payload, &home()).await.unwrap());
    assert_eq!((retried.alerts, retried.repeats_in_alerts), (1, 1));
}

#[tokio::test]
async fn a_control_message_and_an_unreadable_batch() {
    let sns = mock!(aws_sdk_sns::Client::publish).then_output(|| PublishOutput::builder().message_id("m").build());
    let doctor = doctor(&sns);
    let control = support::fixture_text("authenticator/control-message.json");
    let got = batch(doctor.handle(&control, &home()).await.unwrap());
    assert_eq!((got.log_events, got.ignored, got.alerts), (1, 1, 0));
    let broken = serde_json::json!({"awslogs": {"data": "not base64!"}}).to_string();
    let error = doctor.handle(&broken, &home()).await.unwrap_err();
    assert!(matches!(&error, HandlerError::Unreadable(m) if m.contains("base64")), "{error}");
    assert_eq!(sns.num_calls(), 0);
}

fn sns_capturing(want: &'static str) -> Rule {
    mock!(aws_sdk_sns::Client::publish)
        .match_requests(move |r| r.message().is_some_and(|m| m.contains(want)))
        .then_output(|| PublishOutput::builder().message_id("m").build())
}

/// GetRole finds the role with this ARN (its path read from the ARN).
fn role(arn: &str) -> Rule {
    let arn = arn.to_string();
    mock!(aws_sdk_iam::Client::get_role).then_output(move || {
        let name = arn.rsplit('/').next().unwrap().to_string();
        let path = arn.split(":role").nth(1).unwrap().strip_suffix(name.as_str()).unwrap().to_string();
        let role = Role::builder()
            .path(path)
            .role_name(name)
            .role_id("AROARZ3KX7QJNEWROLE01")
            .arn(arn.clone())
            .create_date(aws_smithy_types::DateTime::from_secs(1_795_800_000));
        GetRoleOutput::builder().role(role.build().unwrap()).build()
    })
}

#[tokio::test]
async fn an_entry_under_a_sibling_arn_is_found_across_pages() {
    let sso = "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/admin-test-role";
    let first = mock!(aws_sdk_eks::Client::list_access_entries).match_requests(|r| r.next_token().is_none()).then_output(|| {
        ListAccessEntriesOutput::builder().access_entries("arn:aws:iam::111122223333:role/other").next_token("page-2").build()
    });
    let second = mock!(aws_sdk_eks::Client::list_access_entries)
        .match_requests(|r| r.next_token() == Some("page-2"))
        .then_output(move || ListAccessEntriesOutput::builder().access_entries(sso).build());
    let sns = sns_capturing(
        "entries for the same name under other ARNs, which never match arn:aws:iam::111122223333:role/admin-test-role: arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/admin-test-role",
    );
    let doctor = doctor_with(&sns, &[&first, &second], &[]);
    let got = batch(doctor.handle(&subscription(&[DENIED], 0), &home()).await.unwrap());
    assert_eq!(got.alerts, 1);
    assert_eq!((first.num_calls(), second.num_calls(), sns.num_calls()), (1, 1, 1));
}

#[tokio::test]
async fn an_entry_for_exactly_this_role_means_it_was_recreated() {
    let exact = "arn:aws:iam::111122223333:role/admin-test-role";
    let entries = mock!(aws_sdk_eks::Client::list_access_entries)
        .then_output(move || ListAccessEntriesOutput::builder().access_entries(exact).build());
    let sns = sns_capturing(
        "holds the id of an earlier principal of that name, deleted and created again (IAM created the current one 2026-11-27T",
    );
    let doctor = doctor_with(&sns, &[&entries], &[]);
    batch(doctor.handle(&subscription(&[DENIED], 0), &home()).await.unwrap());
    assert_eq!(sns.num_calls(), 1);
}

#[tokio::test]
async fn a_denied_listing_is_a_note_not_a_lost_alert() {
    let entries = mock!(aws_sdk_eks::Client::list_access_entries)
        .then_error(|| ListAccessEntriesError::generic(ErrorMetadata::builder().code("AccessDeniedException").message("no").build()));
    let sns = sns_capturing("Could not check the cluster's access entries: AccessDeniedException");
    let doctor = doctor_with(&sns, &[&entries], &[]);
    batch(doctor.handle(&subscription(&[DENIED], 0), &home()).await.unwrap());
    assert_eq!(sns.num_calls(), 1);
}

#[tokio::test]
async fn a_principal_of_another_account_is_not_read_in_this_one() {
    let sns = sns_capturing("Could not check the principal in IAM: the principal is in account 444455556666");
    let iam = role("arn:aws:iam::444455556666:role/admin-test-role");
    let doctor = doctor_with(&sns, &[], &[&iam]);
    let other = DENIED.replace("111122223333", "444455556666");
    batch(doctor.handle(&subscription(&[other.as_str()], 0), &home()).await.unwrap());
    assert_eq!((sns.num_calls(), iam.num_calls()), (1, 0));
}

/// Another container alerted within the window (the shared table refuses the claim):
/// this one counts its repeats in the table and sends nothing. A table that cannot
/// answer falls back to this container's windows: the alert still goes out.
#[tokio::test]
async fn shared_windows_decide_across_containers() {
    use aws_sdk_dynamodb::operation::put_item::PutItemError;
    use aws_sdk_dynamodb::operation::update_item::UpdateItemOutput;
    use eks_access_doctor_aws::idempotency::DynamoStore;
    let refused = mock!(aws_sdk_dynamodb::Client::put_item)
        .then_error(|| PutItemError::generic(ErrorMetadata::builder().code("ConditionalCheckFailedException").message("taken").build()));
    let counted = mock!(aws_sdk_dynamodb::Client::update_item)
        .match_requests(|r| r.update_expression() == Some("ADD suppressed :n"))
        .then_output(|| UpdateItemOutput::builder().build());
    let table = |rules: &[&Rule]| DynamoStore {
        client: mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, rules),
        table: "seen".into(),
        ttl: std::time::Duration::from_secs(60),
    };
    let sns = mock!(aws_sdk_sns::Client::publish).then_output(|| PublishOutput::builder().message_id("m").build());
    let shared = doctor(&sns).with_flood_store(Box::new(table(&[&refused, &counted])));
    let got = batch(shared.handle(&subscription(&[DENIED; 3], 0), &home()).await.unwrap());
    assert_eq!((got.alerts, got.suppressed), (0, 3));
    assert_eq!((sns.num_calls(), counted.num_calls()), (0, 1));

    let broken = mock!(aws_sdk_dynamodb::Client::put_item)
        .then_error(|| PutItemError::generic(ErrorMetadata::builder().code("InternalServerError").message("down").build()));
    let broken_update = mock!(aws_sdk_dynamodb::Client::update_item).then_error(|| {
        aws_sdk_dynamodb::operation::update_item::UpdateItemError::generic(
            ErrorMetadata::builder().code("InternalServerError").message("down").build(),
        )
    });
    let fallback = doctor(&sns).with_flood_store(Box::new(table(&[&broken, &broken_update])));
    let got = batch(fallback.handle(&subscription(&[DENIED], 10), &home()).await.unwrap());
    assert_eq!(got.alerts, 1);
    assert_eq!(sns.num_calls(), 1);
}

/// A batch that fails is retried whole: the repeats it suppressed are counted once,
/// when it finally succeeds, and the failed group's claim is given back.
#[tokio::test]
async fn a_failed_batch_counts_its_repeats_once() {
    use aws_sdk_dynamodb::operation::put_item::{PutItemError, PutItemOutput};
    use aws_sdk_dynamodb::operation::update_item::UpdateItemOutput;
    use aws_sdk_dynamodb::types::AttributeValue;
    use eks_access_doctor_aws::idempotency::DynamoStore;
    let key_has = |r: &aws_sdk_dynamodb::operation::put_item::PutItemInput, role: &str| {
        r.item().and_then(|i| i.get("event_id")).and_then(|v| v.as_s().ok()).is_some_and(|k| k.contains(role))
    };
    let taken = mock!(aws_sdk_dynamodb::Client::put_item)
        .match_requests(move |r| key_has(r, "role/admin-test-role"))
        .then_error(|| PutItemError::generic(ErrorMetadata::builder().code("ConditionalCheckFailedException").message("taken").build()));
    let claimed = mock!(aws_sdk_dynamodb::Client::put_item).then_output(|| PutItemOutput::builder().build());
    let counted_two = mock!(aws_sdk_dynamodb::Client::update_item)
        .match_requests(|r| {
            r.update_expression() == Some("ADD suppressed :n")
                && r.expression_attribute_values().and_then(|v| v.get(":n")) == Some(&AttributeValue::N("2".into()))
        })
        .then_output(|| UpdateItemOutput::builder().build());
    let released = mock!(aws_sdk_dynamodb::Client::update_item)
        .match_requests(|r| r.update_expression().is_some_and(|e| e.starts_with("SET window_ends")))
        .then_output(|| UpdateItemOutput::builder().build());
    let marked = mock!(aws_sdk_dynamodb::Client::update_item)
        .match_requests(|r| r.update_expression() == Some("SET delivered = :yes"))
        .then_output(|| UpdateItemOutput::builder().build());
    let store = DynamoStore {
        client: mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&taken, &claimed, &counted_two, &released, &marked]),
        table: "seen".into(),
        ttl: std::time::Duration::from_secs(60),
    };
    let sns = sns_down_once();
    let doctor = doctor(&sns).with_flood_store(Box::new(store));
    let other = DENIED.replace("admin-test-role", "ci-deployer");
    let payload = subscription(&[DENIED, DENIED, other.as_str()], 0);
    assert!(matches!(doctor.handle(&payload, &home()).await, Err(HandlerError::Delivery(_))));
    assert_eq!((counted_two.num_calls(), released.num_calls()), (0, 1), "nothing counted yet; the failed claim given back");
    let got = batch(doctor.handle(&payload, &home()).await.unwrap());
    assert_eq!((got.alerts, got.suppressed), (1, 2));
    assert_eq!((counted_two.num_calls(), marked.num_calls()), (1, 1), "counted once, on success; the delivered window marked");
}
