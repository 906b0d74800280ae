//! The delayed second look (`access-entry-grants-nothing`): `AssociateAccessPolicy`
//! usually follows `CreateAccessEntry` within seconds, so whether an entry grants
//! nothing is judged minutes later, not at creation. The event goes to an SQS queue
//! with a delivery delay; the queue invokes the function again, which then reads the
//! entry as it stands.

use super::BoxFuture;
use serde::Deserialize;

/// Where events wait for their second look.
pub trait SecondLook: Send + Sync {
    /// Queues `payload` (the event as the function received it) for a second look later.
    fn later<'a>(&'a self, payload: &'a str) -> BoxFuture<'a, Result<(), String>>;
}

/// An SQS queue whose messages wait `delay_secs` (at most 900, SQS's limit) before the
/// queue's event source mapping hands them to the function.
pub struct SqsSecondLook {
    pub client: aws_sdk_sqs::Client,
    pub queue_url: String,
    pub delay_secs: u32,
}

impl SecondLook for SqsSecondLook {
    fn later<'a>(&'a self, payload: &'a str) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let body = serde_json::json!({ SECOND_LOOK: serde_json::value::RawValue::from_string(payload.to_string()).map_err(|e| e.to_string())? });
            self.client
                .send_message()
                .queue_url(&self.queue_url)
                .delay_seconds(self.delay_secs.min(900) as i32)
                .message_body(body.to_string())
                .send()
                .await
                .map(|_| ())
                .map_err(|e| super::describe_sdk_error(&e))
        })
    }
}

/// The key of a queued second look: `{"second_look": EVENT}`.
const SECOND_LOOK: &str = "second_look";

/// The events of an SQS batch of second looks (`{"Records":[{"eventSource":"aws:sqs","body":…}]}`),
/// each its original payload or why it cannot be read; `None` when the payload is not such a batch.
pub fn batch(payload: &str) -> Option<Vec<Result<String, String>>> {
    #[derive(Deserialize)]
    struct Batch {
        #[serde(rename = "Records")]
        records: Vec<Message>,
    }
    #[derive(Deserialize)]
    struct Message {
        #[serde(rename = "eventSource")]
        event_source: String,
        body: String,
    }
    #[derive(Deserialize)]
    struct Body<'a> {
        #[serde(borrow)]
        second_look: &'a serde_json::value::RawValue,
    }
    let batch: Batch = serde_json::from_str(payload).ok()?;
    if batch.records.is_empty() || batch.records.iter().any(|m| m.event_source != "aws:sqs") {
        return None;
    }
    Some(
        batch
            .records
            .iter()
            .map(|m| {
                serde_json::from_str::<Body>(&m.body)
                    .map(|b| b.second_look.get().to_string())
                    .map_err(|e| format!("an SQS message that is not a second look: {e}"))
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_of_second_looks() {
        let message = |body: &str| serde_json::json!({"messageId": "m", "eventSource": "aws:sqs", "body": body});
        let payload = serde_json::json!({"Records": [message(r#"{"second_look":{"detail":{"eventID":"e"}}}"#), message("{}")]}).to_string();
        let events = batch(&payload).unwrap();
        assert_eq!(events[0], Ok(r#"{"detail":{"eventID":"e"}}"#.to_string()));
        assert!(events[1].as_ref().unwrap_err().contains("not a second look"));
        // A CloudTrail log file or any other payload is not a batch of second looks.
        assert_eq!(batch(r#"{"Records":[{"eventSource":"eks.amazonaws.com","body":"x"}]}"#), None);
        assert_eq!(batch(r#"{"detail":{}}"#), None);
    }
}
