//! Grouping of CloudTrail findings through the handler: a controller (or a CI loop)
//! repeating one failing call pages once per window; every repeat is counted, and the
//! count reaches people in the next alert of that fingerprint. Nothing is lost: a
//! failed delivery leaves the window closed, so Lambda's retry alerts.

mod support;

use eks_access_doctor::aws::config::{ConfigError, Settings};
use eks_access_doctor::aws::enrich::Home;
use eks_access_doctor::aws::handler::{Doctor, HandlerError, Outcome};
use eks_access_doctor::aws::{BoxFuture, DeliveryError, Sink};
use eks_access_doctor::finding::Finding;
use eks_access_doctor::render::Diagnosis;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use support::doctor::NoLookups;

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
async fn muted_causes_are_never_sent_and_unknown_ids_stop_init() {
    let (doctor, sink) = doctor(&[("MUTE_CAUSES", "reserved-username-prefix, unclassified")], clock());
    assert!(matches!(doctor.handle(&repeat(0, None), &home()).await, Ok(Outcome::NoFinding { .. })));
    assert!(sink.sent.lock().unwrap().is_empty());
    assert_eq!(
        settings(&[("MUTE_CAUSES", "reserved-username-prefx")]).unwrap_err(),
        ConfigError::MuteCauses("reserved-username-prefx".into())
    );
}
