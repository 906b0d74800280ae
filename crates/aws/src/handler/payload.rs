//! What an invocation carries, read once. Every kind of payload the function takes is
//! one variant here, so dispatch is one `match` in [`super::Doctor::handle_until`]:
//! the Lambda binary and the tests go through the same door.

use crate::{archive, fleet, second_look};
use eks_access_doctor_core::input::{self, Parsed};

#[derive(Debug)]
pub enum Payload {
    /// A step of the organization scan (Step Functions): scan archive objects, or add up the run.
    Archive(Result<archive::Request, String>),
    /// A step of the fleet audit (Step Functions): plan, one cluster, or add up the run.
    Fleet(Result<fleet::Request, String>),
    /// A CloudWatch Logs subscription batch: the authenticator log.
    Logs,
    /// Second looks from the SQS delay queue, each the original payload or why it cannot be read.
    SecondLooks(Vec<Result<String, String>>),
    /// The audit's EventBridge schedule fired: `run` is the scheduled event's id (a
    /// retry of the same run carries the same one).
    Audit { run: String },
    /// One event: an EventBridge envelope or a bare CloudTrail record, parsed.
    Event(Result<Parsed, String>),
}

impl Payload {
    /// The kind is told by shape, most specific first; anything else is read as an event,
    /// whose parse error then says what is wrong with it.
    pub fn read(payload: &str) -> Payload {
        if let Some(request) = archive::request(payload) {
            return Payload::Archive(request);
        }
        if let Some(request) = fleet::request(payload) {
            return Payload::Fleet(request);
        }
        if is_log_subscription(payload) {
            return Payload::Logs;
        }
        if let Some(batch) = second_look::batch(payload) {
            return Payload::SecondLooks(batch);
        }
        if let Some(run) = scheduled_run(payload) {
            return Payload::Audit { run };
        }
        Payload::Event(parse_event(payload))
    }
}

/// An EventBridge envelope, else a bare record. When both fail, the error is the one
/// for the shape the payload claims to be: an object with `detail` gets the envelope's.
pub fn parse_event(payload: &str) -> Result<Parsed, String> {
    let envelope_error = match input::parse_envelope(payload) {
        Ok(parsed) => return Ok(parsed),
        Err(e) => e,
    };
    input::parse_record(payload, None).map_err(|record_error| {
        let keys = serde_json::from_str::<std::collections::HashMap<String, serde::de::IgnoredAny>>(payload);
        if keys.is_ok_and(|keys| keys.contains_key("detail") || keys.contains_key("detail-type")) {
            envelope_error
        } else {
            record_error
        }
    })
}

/// An EventBridge scheduled event (`"source": "aws.events"`, `"detail-type": "Scheduled
/// Event"`, as EventBridge documents it): its id.
fn scheduled_run(payload: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Probe {
        id: Option<String>,
        time: Option<String>,
        source: Option<String>,
        #[serde(rename = "detail-type")]
        detail_type: Option<String>,
    }
    let probe = serde_json::from_str::<Probe>(payload).ok()?;
    // Without an id, the scheduled time tells runs apart.
    (probe.source.as_deref() == Some("aws.events") && probe.detail_type.as_deref() == Some("Scheduled Event"))
        .then(|| probe.id.filter(|id| !id.is_empty()).or(probe.time).unwrap_or_default())
}

/// A CloudWatch Logs subscription payload: `{"awslogs":{"data":…}}`.
fn is_log_subscription(payload: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Probe<'a> {
        #[serde(borrow)]
        awslogs: Option<&'a serde_json::value::RawValue>,
    }
    serde_json::from_str::<Probe>(payload).is_ok_and(|p| p.awslogs.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> String {
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events").join(name)).unwrap()
    }

    #[test]
    fn each_kind_is_told_by_its_shape() {
        assert!(matches!(Payload::read(&sample("reserved-username-prefix.json")), Payload::Event(Ok(Parsed::Event(_)))));
        assert!(matches!(Payload::read(r#"{"awslogs":{"data":"H4sI"}}"#), Payload::Logs));
        let sqs = r#"{"Records":[{"eventSource":"aws:sqs","body":"{\"second_look\":{\"detail\":{}}}"}]}"#;
        assert!(matches!(Payload::read(sqs), Payload::SecondLooks(batch) if batch.len() == 1));
        assert!(matches!(Payload::read(r#"{"scan_summary":{}}"#), Payload::Archive(Err(_))));
        assert!(matches!(Payload::read(r#"{"fleet_summary":{"results_bucket":"b","run":"r"}}"#), Payload::Fleet(Ok(_))));
        let schedule = r#"{"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2015-10-08T16:53:06Z","region":"us-east-1","resources":["arn:aws:events:us-east-1:123456789012:rule/my-scheduled-rule"],"detail":{}}"#;
        assert!(matches!(Payload::read(schedule), Payload::Audit { run } if run == "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa"));
    }

    #[test]
    fn an_unreadable_event_says_what_it_claimed_to_be() {
        let Payload::Event(Err(envelope)) = Payload::read(r#"{"detail-type":"AWS API Call via CloudTrail","detail":7}"#) else {
            panic!("not an unreadable event")
        };
        assert!(envelope.starts_with("not an EventBridge event"), "{envelope}");
        assert!(matches!(Payload::read("[1,2"), Payload::Event(Err(_))));
    }
}
