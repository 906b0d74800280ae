//! What an invocation carries, read once. Every kind of payload the function takes is
//! one variant here, so dispatch is one `match` in [`super::Doctor::handle_until`]:
//! the Lambda binary and the tests go through the same door.

use crate::{archive, second_look};
use eks_access_doctor_core::input::{self, Parsed};

#[derive(Debug)]
pub enum Payload {
    /// A step of the organization scan (Step Functions): scan archive objects, or add up the run.
    Archive(Result<archive::Request, String>),
    /// A CloudWatch Logs subscription batch: the authenticator log.
    Logs,
    /// Second looks from the SQS delay queue, each the original payload or why it cannot be read.
    SecondLooks(Vec<Result<String, String>>),
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
        if is_log_subscription(payload) {
            return Payload::Logs;
        }
        if let Some(batch) = second_look::batch(payload) {
            return Payload::SecondLooks(batch);
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
