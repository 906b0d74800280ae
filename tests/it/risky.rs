//! The risky-success causes that need the function's state, through the handler: a
//! deletion soon after a creation it saw, and the second look of an entry that may
//! grant nothing (queued with a delay, read again when it comes back); the SQS queue
//! with `aws-smithy-mocks`.

use crate::support;
use aws_sdk_sqs::operation::send_message::{SendMessageError, SendMessageOutput};
use aws_smithy_mocks::{mock, mock_client};
use aws_smithy_types::error::ErrorMetadata;
use eks_access_doctor_aws::config::Settings;
use eks_access_doctor_aws::enrich::{Home, Lookups};
use eks_access_doctor_aws::handler::{Doctor, HandlerError, Outcome};
use eks_access_doctor_aws::second_look::{SecondLook, SqsSecondLook};
use eks_access_doctor_aws::{BoxFuture, DeliveryError, Sink};
use eks_access_doctor_core::facts::{AccessEntryFacts, Lookup, PrincipalFacts};
use eks_access_doctor_core::finding::Finding;
use eks_access_doctor_core::render::Diagnosis;
use std::sync::{Arc, Mutex};

/// The entry as EKS answers: `policies` associated, no groups.
struct Entry {
    policies: Vec<String>,
}

impl Lookups for Entry {
    fn cluster_auth_mode<'a>(&'a self, _: &'a str, _: &'a str) -> BoxFuture<'a, Lookup<String>> {
        Box::pin(async { Lookup::NotChecked })
    }
    fn access_entry<'a>(&'a self, _: &'a str, _: &'a str, _: &'a str) -> BoxFuture<'a, Lookup<AccessEntryFacts>> {
        let policies = self.policies.clone();
        Box::pin(
            async move { Lookup::Found(AccessEntryFacts { entry_type: Some("STANDARD".into()), policies, ..AccessEntryFacts::default() }) },
        )
    }
    fn principal<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Lookup<PrincipalFacts>> {
        Box::pin(async { Lookup::Absent })
    }
    fn cluster_entries<'a>(&'a self, _: &'a str, _: &'a str) -> BoxFuture<'a, Lookup<Vec<String>>> {
        Box::pin(async { Lookup::NotChecked })
    }
}

/// The cause ids a sink was given.
#[derive(Clone, Default)]
struct Causes(Arc<Mutex<Vec<&'static str>>>);

impl Sink for Causes {
    fn name(&self) -> &'static str {
        "causes"
    }
    fn publish<'a>(&'a self, _: &'a Diagnosis, f: &'a Finding) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move {
            self.0.lock().unwrap().push(f.cause.id);
            Ok(())
        })
    }
}

/// A queue that keeps what it was given, or refuses it.
#[derive(Clone, Default)]
struct Queue {
    queued: Arc<Mutex<Vec<String>>>,
    down: bool,
}

impl SecondLook for Queue {
    fn later<'a>(&'a self, payload: &'a str) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            if self.down {
                return Err("ServiceUnavailable: try later".into());
            }
            self.queued.lock().unwrap().push(payload.to_string());
            Ok(())
        })
    }
}

fn doctor(policies: &[&str], queue: &Queue) -> (Doctor, Causes) {
    let vars = [("SNS_TOPIC_ARN", "arn:aws:sns:eu-west-1:111122223333:alerts")];
    let settings = Settings::from_lookup(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())).unwrap();
    let sink = Causes::default();
    let lookups = Entry { policies: policies.iter().map(|p| p.to_string()).collect() };
    let doctor = Doctor::new(settings, Box::new(lookups), vec![Box::new(sink.clone())], None).with_second_look(Box::new(queue.clone()));
    (doctor, sink)
}

/// What the SQS event source mapping hands the function for a queued payload.
fn sqs_batch(payload: &str) -> String {
    let body = format!(r#"{{"second_look":{payload}}}"#);
    serde_json::json!({"Records": [{"messageId": "m-1", "eventSource": "aws:sqs", "body": body}]}).to_string()
}

fn home() -> Home {
    Home { account: Some("111122223333".into()), region: None }
}

#[tokio::test]
async fn an_entry_that_still_grants_nothing_alerts_at_its_second_look_and_only_then() {
    let queue = Queue::default();
    let (doctor, sink) = doctor(&[], &queue);
    let event = support::fixture_text("access-entry-grants-nothing.json");
    assert!(matches!(doctor.handle(&event, &home()).await, Ok(Outcome::NoFinding { .. })), "nothing said at creation");
    let queued = queue.queued.lock().unwrap().clone();
    assert_eq!(queued.len(), 1);
    let outcome = doctor.handle(&sqs_batch(&queued[0]), &home()).await.unwrap();
    // What the runtime sends back as the response (a value that cannot be serialized
    // would end the function's process).
    let response = serde_json::to_value(&outcome).unwrap();
    assert_eq!(response["outcome"], "second_looks");
    assert_eq!(response["looks"][0]["outcome"], "alerted", "{response}");
    match outcome {
        Outcome::SecondLooks { looks: outcomes } => {
            assert!(
                matches!(&outcomes[..], [Outcome::Alerted { event_id, causes, .. }] if event_id.ends_with("#second-look") && causes == &["access-entry-grants-nothing"]),
                "{outcomes:?}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(*sink.0.lock().unwrap(), ["access-entry-grants-nothing"]);
    // The same second look again (SQS delivers at least once): not sent twice.
    assert!(
        matches!(doctor.handle(&sqs_batch(&queued[0]), &home()).await, Ok(Outcome::SecondLooks { looks: o }) if matches!(o[..], [Outcome::Duplicate { .. }]))
    );
}

#[tokio::test]
async fn an_entry_given_a_policy_meanwhile_stays_quiet() {
    let queue = Queue::default();
    let (doctor, sink) = doctor(&["arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"], &queue);
    doctor.handle(&support::fixture_text("access-entry-grants-nothing.json"), &home()).await.unwrap();
    let queued = queue.queued.lock().unwrap()[0].clone();
    assert!(
        matches!(doctor.handle(&sqs_batch(&queued), &home()).await, Ok(Outcome::SecondLooks { looks: o }) if matches!(o[..], [Outcome::NoFinding { .. }]))
    );
    assert!(sink.0.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_queue_that_refuses_fails_the_event_before_anything_is_sent() {
    let queue = Queue { down: true, ..Queue::default() };
    let (doctor, sink) = doctor(&[], &queue);
    // Also a cross-account entry: its alert waits until the second look is queued.
    let event = support::fixture_text("cross-account-access-entry.json");
    match doctor.handle(&event, &home()).await {
        Err(HandlerError::Delivery(errors)) => assert_eq!(errors[0].sink, "second-look"),
        other => panic!("{other:?}"),
    }
    assert!(sink.0.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_deletion_soon_after_a_creation_seen_here_is_short_lived() {
    let (doctor, sink) = doctor(&[], &Queue::default());
    let deleted = support::fixture_text("short-lived-access-entry.json");
    let created = String::from_utf8(support::edited_fixture("access-entry-grants-nothing.json", |d| {
        d["eventID"] = serde_json::json!("created-1");
        d["requestParameters"]["principalArn"] = serde_json::json!("arn:aws:iam::111122223333:role/TempAdmin");
    }))
    .unwrap();
    // A deletion of an entry whose creation was not seen says nothing.
    assert!(matches!(
        doctor.handle(&deleted.replace("\"eventID\": \"", "\"eventID\": \"unseen-"), &home()).await,
        Ok(Outcome::NoFinding { .. })
    ));
    doctor.handle(&created, &home()).await.unwrap();
    assert!(
        matches!(doctor.handle(&deleted, &home()).await, Ok(Outcome::Alerted { causes, .. }) if causes == ["short-lived-access-entry"])
    );
    assert_eq!(*sink.0.lock().unwrap(), ["short-lived-access-entry"]);
}

#[tokio::test]
async fn the_sqs_queue_gets_the_event_with_its_delay() {
    let sent = mock!(aws_sdk_sqs::Client::send_message)
        .match_requests(|r| {
            r.delay_seconds() == Some(300)
                && r.queue_url() == Some("https://sqs.eu-west-1.amazonaws.com/111122223333/second-look")
                && r.message_body().is_some_and(|b| b == r#"{"second_look":{"detail":{"eventID":"e-1"}}}"#)
        })
        .then_output(|| SendMessageOutput::builder().message_id("m-1").build());
    let queue = SqsSecondLook {
        client: mock_client!(aws_sdk_sqs, [&sent]),
        queue_url: "https://sqs.eu-west-1.amazonaws.com/111122223333/second-look".into(),
        delay_secs: 300,
    };
    queue.later(r#"{"detail":{"eventID":"e-1"}}"#).await.unwrap();
    assert_eq!(sent.num_calls(), 1);

    let refused = mock!(aws_sdk_sqs::Client::send_message).then_error(|| {
        SendMessageError::generic(
            ErrorMetadata::builder().code("AccessDenied").message("not authorized to perform: sqs:SendMessage").build(),
        )
    });
    let queue = SqsSecondLook { client: mock_client!(aws_sdk_sqs, [&refused]), queue_url: "q".into(), delay_secs: 300 };
    assert_eq!(queue.later("{}").await.unwrap_err(), "AccessDenied: not authorized to perform: sqs:SendMessage");
}
