//! Grouping of CloudTrail findings through the handler: a controller (or a CI loop)
//! repeating one failing call pages once per window; every repeat is counted, and the
//! count reaches people in the next alert of that fingerprint. Nothing is lost: a
//! failed delivery leaves the window closed, so Lambda's retry alerts.

use crate::support;
use crate::support::doctor::NoLookups;
use eks_access_doctor_aws::config::{ConfigError, Settings};
use eks_access_doctor_aws::enrich::Home;
use eks_access_doctor_aws::handler::{Doctor, HandlerError, Outcome};
use eks_access_doctor_aws::{BoxFuture, DeliveryError, Sink};
use eks_access_doctor_core::finding::Finding;
use eks_access_doctor_core::render::Diagnosis;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// What a sink was given: (event id, the finding's notes).
type Sent = Arc<Mutex<Vec<(String, Vec<String>)>>>;

/// A sink that records what it was given and fails the next `fail` publishes.
#[derive(Clone, Default)]
struct Recorder {
    sent: Sent,
    fail: Arc<AtomicUsize>,
}

impl Sink for Recorder {
    fn name(&self) -> &'static str {
        "recorder"
    }
    fn publish<'a>(&'a self, d: &'a Diagnosis, f: &'a Finding) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move {
            if self.fail.load(Ordering::SeqCst) > 0 {
                self.fail.fetch_sub(1, Ordering::SeqCst);
                return Err(DeliveryError { sink: "recorder", message: "down".into() });
            }
            self.sent.lock().unwrap().push((d.event.event_id.clone(), f.notes.clone()));
            Ok(())
        })
    }
}

fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    let mut all = vec![("SNS_TOPIC_ARN", "arn:aws:sns:eu-west-1:111122223333:alerts")];
    all.extend_from_slice(vars);
    Settings::from_lookup(|k| all.iter().rev().find(|(name, _)| *name == k).map(|(_, v)| v.to_string()))
}

/// A doctor on a clock the test moves (`CLOCK`, seconds).
fn doctor(vars: &[(&str, &str)], clock: Arc<AtomicU64>) -> (Doctor, Recorder) {
    let sink = Recorder::default();
    let doctor = Doctor::new(settings(vars).unwrap(), Box::new(NoLookups), vec![Box::new(sink.clone())], None)
        .with_clock(move || clock.load(Ordering::SeqCst));
    (doctor, sink)
}

fn clock() -> Arc<AtomicU64> {
    Arc::new(AtomicU64::new(1_795_900_000))
}

/// The fixture again, as CloudTrail records a retry: a new event id, and optionally another principal.
fn repeat(n: usize, principal: Option<&str>) -> String {
    let bytes = support::edited_fixture("reserved-username-prefix.json", |e| {
        e["eventID"] = serde_json::json!(format!("retry-{n:04}"));
        if let Some(p) = principal {
            e["requestParameters"]["principalArn"] = serde_json::json!(p);
        }
    });
    String::from_utf8(bytes).unwrap()
}

fn home() -> Home {
    Home { account: Some("111122223333".into()), region: None }
}

#[tokio::test]
async fn a_thousand_identical_failures_page_once_and_every_one_is_counted() {
    let now = clock();
    let (doctor, sink) = doctor(&[("FLOOD_WINDOW_SECONDS", "900")], now.clone());
    let (mut alerted, mut suppressed) = (0, 0);
    for n in 0..1000 {
        now.fetch_add(n as u64 % 2, Ordering::SeqCst); // 1,000 events within 500 s
        match doctor.handle(&repeat(n, None), &home()).await.unwrap() {
            Outcome::Alerted { .. } => alerted += 1,
            Outcome::Suppressed { cause, .. } => {
                assert_eq!(cause, "reserved-username-prefix");
                suppressed += 1
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!((alerted, suppressed), (1, 999), "1,000 events in: one alert, 999 counted");
    assert_eq!(sink.sent.lock().unwrap().len(), 1);
    // Another principal is another problem: it alerts at once.
    assert!(matches!(
        doctor.handle(&repeat(1000, Some("arn:aws:iam::111122223333:role/Other")), &home()).await,
        Ok(Outcome::Alerted { .. })
    ));
    // After the window, the next one alerts and carries the count.
    now.fetch_add(900, Ordering::SeqCst);
    assert!(matches!(doctor.handle(&repeat(1001, None), &home()).await, Ok(Outcome::Alerted { .. })));
    let sent = sink.sent.lock().unwrap();
    assert_eq!(sent.len(), 3);
    let (id, notes) = &sent[2];
    assert_eq!(id, "retry-1001");
    assert!(notes.iter().any(|n| n.contains("999 more since the previous alert were counted, not sent")), "{notes:?}");
}

#[tokio::test]
async fn a_repeat_delivered_twice_is_counted_once() {
    let (doctor, sink) = doctor(&[], clock());
    assert!(matches!(doctor.handle(&repeat(0, None), &home()).await, Ok(Outcome::Alerted { .. })));
    assert!(matches!(doctor.handle(&repeat(1, None), &home()).await, Ok(Outcome::Suppressed { .. })));
    assert!(matches!(doctor.handle(&repeat(1, None), &home()).await, Ok(Outcome::Duplicate { .. })));
    assert_eq!(sink.sent.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_failed_alert_leaves_the_window_closed_so_the_retry_pages() {
    let (doctor, sink) = doctor(&[], clock());
    sink.fail.store(1, Ordering::SeqCst);
    assert!(matches!(doctor.handle(&repeat(0, None), &home()).await, Err(HandlerError::Delivery(_))));
    assert!(matches!(doctor.handle(&repeat(0, None), &home()).await, Ok(Outcome::Alerted { .. })), "Lambda's retry alerts");
    assert!(matches!(doctor.handle(&repeat(1, None), &home()).await, Ok(Outcome::Suppressed { .. })));
    assert_eq!(sink.sent.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_window_of_zero_turns_grouping_off() {
    let (doctor, sink) = doctor(&[("FLOOD_WINDOW_SECONDS", "0")], clock());
    for n in 0..3 {
        assert!(matches!(doctor.handle(&repeat(n, None), &home()).await, Ok(Outcome::Alerted { .. })), "event {n}");
    }
    assert_eq!(sink.sent.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn muted_causes_are_never_sent_and_unknown_ids_stop_init() {
    let (doctor, sink) = doctor(&[("MUTE_CAUSES", "reserved-username-prefix, unclassified")], clock());
    assert!(matches!(doctor.handle(&repeat(0, None), &home()).await, Ok(Outcome::NoFinding { .. })));
    assert!(sink.sent.lock().unwrap().is_empty());
    assert_eq!(
        settings(&[("MUTE_CAUSES", "reserved-username-prefx")]).unwrap_err(),
        ConfigError::MuteCauses("reserved-username-prefx".into())
    );
}

/// The shared record (DynamoDB, here `aws-smithy-mocks`) with the claims of the
/// first `pending` puts failing as another container's lease until `until` would.
mod shared_record {
    use super::*;
    use aws_sdk_dynamodb::operation::put_item::{PutItemError, PutItemOutput};
    use aws_sdk_dynamodb::operation::update_item::UpdateItemOutput;
    use aws_sdk_dynamodb::types::error::ConditionalCheckFailedException;
    use aws_sdk_dynamodb::types::AttributeValue;
    use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
    use eks_access_doctor_aws::idempotency::DynamoStore;
    use std::time::Duration;

    fn claimed_by_another(until: u64) -> Rule {
        mock!(aws_sdk_dynamodb::Client::put_item).match_requests(|r| r.condition_expression().is_some()).then_error(move || {
            PutItemError::ConditionalCheckFailedException(
                ConditionalCheckFailedException::builder()
                    .message("The conditional request failed")
                    .item("status", AttributeValue::S("pending".into()))
                    .item("lease_until", AttributeValue::N(until.to_string()))
                    .build(),
            )
        })
    }

    fn accepted_put() -> Rule {
        mock!(aws_sdk_dynamodb::Client::put_item).then_output(|| PutItemOutput::builder().build())
    }

    fn doctor_with(rules: &[&Rule], sink: &Recorder) -> Doctor {
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, rules);
        let store = DynamoStore { client, table: "seen".into(), ttl: Duration::from_secs(3600) };
        Doctor::new(settings(&[]).unwrap(), Box::new(NoLookups), vec![Box::new(sink.clone())], Some(Box::new(store)))
    }

    #[tokio::test]
    async fn an_event_another_container_is_delivering_is_not_sent_and_fails_for_a_retry() {
        let sink = Recorder::default();
        let doctor = doctor_with(&[&claimed_by_another(1_795_900_030)], &sink);
        let error = doctor.handle(&repeat(0, None), &home()).await.unwrap_err();
        assert!(matches!(&error, HandlerError::InProgress { event_id, until: 1_795_900_030 } if event_id == "retry-0000"), "{error:?}");
        assert_eq!(error.error_type(), "EventInProgress");
        assert!(sink.sent.lock().unwrap().is_empty(), "the other container delivers it");
    }

    #[tokio::test]
    async fn a_failed_delivery_gives_its_claim_up_so_the_retry_need_not_wait() {
        let sink = Recorder::default();
        sink.fail.store(1, Ordering::SeqCst);
        let put = accepted_put();
        let end_lease = mock!(aws_sdk_dynamodb::Client::update_item)
            .match_requests(|r| {
                r.key().and_then(|k| k.get("event_id")) == Some(&AttributeValue::S("retry-0000".into()))
                    && r.update_expression() == Some("SET lease_until = :ended")
            })
            .then_output(|| UpdateItemOutput::builder().build());
        let doctor = doctor_with(&[&put, &end_lease], &sink);
        assert!(matches!(doctor.handle(&repeat(0, None), &home()).await, Err(HandlerError::Delivery(_))));
        assert_eq!(end_lease.num_calls(), 1, "the claim is given up");
        assert!(matches!(doctor.handle(&repeat(0, None), &home()).await, Ok(Outcome::Alerted { .. })));
        assert_eq!(end_lease.num_calls(), 1, "a delivered event's record stays");
        assert_eq!(put.num_calls(), 3, "claim, claim again, record delivered");
    }

    #[tokio::test]
    async fn a_retry_in_another_container_sends_only_what_the_failed_attempt_did_not() {
        let (sent, unsent) = (Recorder::default(), Recorder::default());
        let earlier = mock!(aws_sdk_dynamodb::Client::put_item).match_requests(|r| r.condition_expression().is_some()).then_output(|| {
            PutItemOutput::builder().attributes("parts", AttributeValue::Ss(vec!["reserved-username-prefix|recorder".into()])).build()
        });
        let done = accepted_put();
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&earlier, &done]);
        let store = DynamoStore { client, table: "seen".into(), ttl: Duration::from_secs(3600) };
        let sinks: Vec<Box<dyn Sink>> = vec![Box::new(sent.clone()), Box::new(Other(unsent.clone()))];
        let doctor = Doctor::new(settings(&[]).unwrap(), Box::new(NoLookups), sinks, Some(Box::new(store)));
        assert!(matches!(doctor.handle(&repeat(0, None), &home()).await, Ok(Outcome::Alerted { .. })));
        assert!(sent.sent.lock().unwrap().is_empty(), "the part the earlier attempt delivered is not sent again");
        assert_eq!(unsent.sent.lock().unwrap().len(), 1, "the part it did not deliver is");
    }

    /// A second sink under another name.
    struct Other(Recorder);

    impl Sink for Other {
        fn name(&self) -> &'static str {
            "other"
        }
        fn publish<'a>(&'a self, d: &'a Diagnosis, f: &'a Finding) -> BoxFuture<'a, Result<(), DeliveryError>> {
            self.0.publish(d, f)
        }
    }

    #[tokio::test]
    async fn a_failed_delivery_records_the_parts_that_went_out() {
        let (ok, failing) = (Recorder::default(), Recorder::default());
        failing.fail.store(1, Ordering::SeqCst);
        let put = accepted_put();
        let recorded = mock!(aws_sdk_dynamodb::Client::update_item)
            .match_requests(|r| {
                r.expression_attribute_values().and_then(|v| v.get(":parts"))
                    == Some(&AttributeValue::Ss(vec!["reserved-username-prefix|recorder".into()]))
            })
            .then_output(|| UpdateItemOutput::builder().build());
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&put, &recorded]);
        let store = DynamoStore { client, table: "seen".into(), ttl: Duration::from_secs(3600) };
        let sinks: Vec<Box<dyn Sink>> = vec![Box::new(ok.clone()), Box::new(Other(failing.clone()))];
        let doctor = Doctor::new(settings(&[]).unwrap(), Box::new(NoLookups), sinks, Some(Box::new(store)));
        assert!(matches!(doctor.handle(&repeat(0, None), &home()).await, Err(HandlerError::Delivery(_))));
        assert_eq!(recorded.num_calls(), 1, "the delivered part is in the shared record");
    }

    #[tokio::test]
    async fn the_claim_lasts_until_the_invocations_deadline() {
        let sink = Recorder::default();
        let put = mock!(aws_sdk_dynamodb::Client::put_item)
            .match_requests(|r| r.item().and_then(|i| i.get("lease_until")) == Some(&AttributeValue::N("1795900042".into())))
            .then_output(|| PutItemOutput::builder().build());
        let done = accepted_put();
        let doctor = doctor_with(&[&put, &done], &sink);
        assert!(matches!(doctor.handle_until(&repeat(0, None), &home(), 1_795_900_042).await, Ok(Outcome::Alerted { .. })));
        assert_eq!(put.num_calls(), 1, "the claim carries the deadline as its lease");
    }
}
