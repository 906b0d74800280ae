//! EMF metric lines: every line conforms to the Embedded Metric Format specification
//! and to the metrics the code declares, the cluster dimension is bounded, and the
//! handler writes one line per delivered finding, per delivery attempt and per
//! fingerprint whose repeats were counted, not sent (authenticator batches and
//! repeated CloudTrail calls).

use crate::support;
use crate::support::doctor::{home, policy, settings, sns, sns_down_once, sns_ok, NoLookups, TOPIC};
use crate::support::emf::{self, problems, Line};
use crate::support::logs::{subscription, DENIED};
use crate::support::webhook::{Reply, Webhook};
use eks_access_doctor_aws::handler::{Doctor, HandlerError, LogBatch, Outcome};
use eks_access_doctor_aws::metrics::{self, Memory, Metrics};
use eks_access_doctor_aws::slack::SlackSink;
use eks_access_doctor_aws::Sink;

fn of<'a>(lines: &'a [Line], metric: &str) -> Vec<&'a Line> {
    lines.iter().filter(|l| l.metric == metric).collect()
}

#[test]
fn every_line_conforms_and_carries_its_values() {
    let memory = Memory::default();
    let metrics = Metrics::new(Box::new(memory.clone()), vec!["data-*".into()]);
    let diagnosis = support::diagnose(support::fixture_event("reserved-group-prefix.json"));
    metrics.findings(&diagnosis);
    metrics.delivery("slack:oncall", &diagnosis, &diagnosis.findings[0], metrics::Outcome::Delivered);
    metrics.delivery("sns", &diagnosis, &diagnosis.findings[0], metrics::Outcome::Failed);
    metrics.suppressed("identity-not-mapped", 500);
    let lines = emf::parse(&memory.lines());
    assert_eq!(lines.iter().map(|l| l.metric.as_str()).collect::<Vec<_>>(), ["Findings", "Deliveries", "Deliveries", "SuppressedRepeats"]);

    let finding = &lines[0];
    assert_eq!(
        (finding.text("Cause"), finding.text("Severity"), finding.text("Cluster"), finding.number("Findings")),
        ("reserved-group-prefix", "error", "data-platform", 1)
    );
    assert_eq!(finding.text("EventId"), diagnosis.event.event_id, "the line leads back to the event in the log");
    let delivered: Vec<(&str, &str)> = lines[1..3].iter().map(|l| (l.text("Sink"), l.text("Outcome"))).collect();
    assert_eq!(delivered, [("slack:oncall", "delivered"), ("sns", "failed")]);
    assert!(lines[1..3].iter().all(|l| l.number("Deliveries") == 1 && l.text("Cause") == "reserved-group-prefix"));
    assert_eq!((lines[3].text("Cause"), lines[3].number("SuppressedRepeats")), ("identity-not-mapped", 500));
}

#[test]
fn a_cluster_is_named_only_when_listed_and_valid() {
    let memory = Memory::default();
    let metrics = Metrics::new(Box::new(memory.clone()), vec!["prod-*".into()]);
    let with_cluster = |name: Option<&str>| {
        let event = support::edited_fixture("auth-mode-irreversible.json", |detail| match name {
            Some(name) => detail["requestParameters"]["name"] = name.into(),
            None => {
                detail["requestParameters"].as_object_mut().unwrap().remove("name");
            }
        });
        support::diagnose(support::parse_one(&event))
    };
    for cluster in [Some("prod-eu"), Some("staging"), Some("prod-<!channel>"), Some("prod-\u{202e}ue"), None] {
        metrics.findings(&with_cluster(cluster));
    }
    let lines = emf::parse(&memory.lines());
    let clusters: Vec<&str> = lines.iter().map(|l| l.text("Cluster")).collect();
    assert_eq!(clusters, ["prod-eu", metrics::OTHER_CLUSTER, metrics::OTHER_CLUSTER, metrics::OTHER_CLUSTER, metrics::UNKNOWN_CLUSTER]);
}

/// Slack is down for the first attempt: the failed invocation writes its delivery
/// outcomes and no finding; the retry writes the one delivery it makes and the finding,
/// once; a duplicate writes nothing.
#[tokio::test]
async fn the_handler_writes_one_line_per_delivery_and_per_delivered_finding() {
    let hook = Webhook::start(vec![Reply::status(500), Reply::status(500)]);
    let sns_rule = sns_ok();
    let sinks: Vec<Box<dyn Sink>> = vec![Box::new(sns(&sns_rule)), Box::new(SlackSink::new(hook.url.clone(), policy()).unwrap())];
    let memory = Memory::default();
    let doctor = Doctor::new(settings(&[("SNS_TOPIC_ARN", TOPIC), ("INCLUDE_CLUSTERS", "data-*")]), Box::new(NoLookups), sinks, None)
        .with_metrics(Box::new(memory.clone()));
    let event = support::fixture_text("reserved-group-prefix.json");

    assert!(matches!(doctor.handle(&event, &home()).await, Err(HandlerError::Delivery(_))));
    let first = emf::parse(&memory.lines());
    let outcomes: Vec<(&str, &str)> = of(&first, "Deliveries").iter().map(|l| (l.text("Sink"), l.text("Outcome"))).collect();
    assert_eq!(outcomes, [("sns", "delivered"), ("slack", "failed")]);
    assert!(of(&first, "Findings").is_empty(), "not delivered yet: not counted");

    assert!(matches!(doctor.handle(&event, &home()).await.unwrap(), Outcome::Alerted { .. }));
    let all = emf::parse(&memory.lines());
    let retry = &all[first.len()..];
    let outcomes: Vec<(&str, &str)> = of(retry, "Deliveries").iter().map(|l| (l.text("Sink"), l.text("Outcome"))).collect();
    assert_eq!(outcomes, [("slack", "delivered")], "SNS already had it");
    let findings = of(retry, "Findings");
    assert_eq!(findings.len(), 1);
    assert_eq!((findings[0].text("Cause"), findings[0].text("Cluster")), ("reserved-group-prefix", "data-platform"));

    assert!(matches!(doctor.handle(&event, &home()).await.unwrap(), Outcome::Duplicate { .. }));
    assert_eq!(memory.lines().len(), all.len(), "a duplicate writes nothing");
}

fn batch(outcome: Outcome) -> LogBatch {
    match outcome {
        Outcome::LogBatch(batch) => batch,
        other => panic!("expected a log batch, got {other:?}"),
    }
}

/// A flood: the first batch alerts once (one finding, one delivery), the next within
/// the window is counted in one `SuppressedRepeats` line; a batch that fails is counted
/// only when its retry succeeds.
#[tokio::test]
async fn suppressed_repeats_are_counted_once_the_batch_succeeds() {
    let sns_rule = sns_down_once();
    let memory = Memory::default();
    let doctor = Doctor::new(settings(&[("SNS_TOPIC_ARN", TOPIC)]), Box::new(NoLookups), vec![Box::new(sns(&sns_rule))], None)
        .with_metrics(Box::new(memory.clone()));
    let first = subscription(&[DENIED; 3], 0);
    assert!(doctor.handle(&first, &home()).await.is_err(), "SNS is down once");
    assert_eq!(batch(doctor.handle(&first, &home()).await.unwrap()).alerts, 1);
    let lines = emf::parse(&memory.lines());
    let outcomes: Vec<&str> = of(&lines, "Deliveries").iter().map(|l| l.text("Outcome")).collect();
    assert_eq!(outcomes, ["failed", "delivered"]);
    assert_eq!(of(&lines, "Findings").len(), 1, "one alert for three denials: one finding");
    assert_eq!(of(&lines, "Findings")[0].text("Cluster"), metrics::OTHER_CLUSTER, "no METRIC_CLUSTERS: no names");

    let repeats = batch(doctor.handle(&subscription(&[DENIED; 500], 3), &home()).await.unwrap());
    assert_eq!(repeats.suppressed, 500);
    let lines = emf::parse(&memory.lines());
    let suppressed = of(&lines, "SuppressedRepeats");
    assert_eq!(suppressed.len(), 1);
    assert_eq!((suppressed[0].text("Cause"), suppressed[0].number("SuppressedRepeats")), ("identity-not-mapped", 500));
    assert_eq!(sns_rule.num_calls(), 2, "nothing more sent");
}

/// A failing call repeated (a controller, a CI loop): the first alerts, the repeat within
/// the window is counted, not sent, in one `SuppressedRepeats` line.
#[tokio::test]
async fn a_repeated_cloudtrail_call_is_counted_as_a_suppressed_repeat() {
    let sns_rule = sns_ok();
    let memory = Memory::default();
    let doctor = Doctor::new(settings(&[("SNS_TOPIC_ARN", TOPIC)]), Box::new(NoLookups), vec![Box::new(sns(&sns_rule))], None)
        .with_metrics(Box::new(memory.clone()));
    let first = support::fixture_text("reserved-group-prefix.json");
    let again = support::edited_fixture("reserved-group-prefix.json", |detail| detail["eventID"] = "a-retry-of-the-same-call".into());
    assert!(matches!(doctor.handle(&first, &home()).await.unwrap(), Outcome::Alerted { .. }));
    let repeat = doctor.handle(std::str::from_utf8(&again).unwrap(), &home()).await.unwrap();
    assert!(matches!(repeat, Outcome::Suppressed { .. }), "{repeat:?}");
    let lines = emf::parse(&memory.lines());
    assert_eq!(lines.iter().map(|l| l.metric.as_str()).collect::<Vec<_>>(), ["Deliveries", "Findings", "SuppressedRepeats"]);
    assert_eq!((lines[2].text("Cause"), lines[2].number("SuppressedRepeats")), ("reserved-group-prefix", 1));
    assert_eq!(sns_rule.num_calls(), 1);
}

#[test]
fn the_checker_catches_what_breaks_the_specification() {
    let good = r#"{"_aws":{"Timestamp":NOW,"CloudWatchMetrics":[{"Namespace":"EksAccessDoctor","Dimensions":[[],["Cause"]],"Metrics":[{"Name":"SuppressedRepeats","Unit":"Count"}]}]},"Cause":"identity-not-mapped","SuppressedRepeats":3}"#;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis().to_string();
    let good = good.replace("NOW", &now);
    assert_eq!(problems(&good), Vec::<String>::new());
    for (from, to, want) in [
        (now.as_str(), &now[..now.len() - 3], "not now in milliseconds"),
        (r#""Cause":"identity-not-mapped","#, "", "dimension Cause has value None"),
        (r#""Cause":"identity-not-mapped""#, r#""Cause":"é""#, "dimension Cause has value"),
        (r#""SuppressedRepeats":3"#, r#""SuppressedRepeats":"3""#, "metric \"SuppressedRepeats\" has value"),
        (r#""Unit":"Count""#, r#""Unit":"Things""#, "unit \"Things\""),
        ("[[],[\"Cause\"]]", "[[\"Cause\"]]", "declared"),
        ("EksAccessDoctor", "Other", "namespace"),
        (r#""Name":"SuppressedRepeats""#, r#""Name":"Cause""#, "not declared"),
        ("}]},", "}],\"Extra\":1},", "_aws holds"),
    ] {
        let broken = good.replacen(from, to, 1);
        let found = problems(&broken);
        assert!(found.iter().any(|p| p.contains(want)), "{broken}: {found:?}");
    }
    assert!(!problems(&format!("{good} trailing")).is_empty());
}
