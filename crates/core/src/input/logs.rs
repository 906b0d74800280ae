//! CloudWatch Logs shapes: a subscription's `{"awslogs":{"data":"<base64 gzip>"}}`,
//! its decoded `DATA_MESSAGE` (`logEvents`), `aws logs filter-log-events` and
//! `get-log-events` output (`events`), and raw lines as `aws logs tail` or a console
//! export give them. Each log event is an authenticator line, or a CloudTrail record
//! when a trail delivers to CloudWatch Logs; anything else is skipped with why.

use super::{decompress, parse_record, Numbered, Parsed, Record};
use crate::authenticator::{self, Attempt, NotAttempt};
use crate::event::{Event, Ignored, LogContext, AUTHENTICATE};
use base64::Engine;
use serde::Deserialize;

/// A subscription's payload: what the Lambda receives from CloudWatch Logs.
#[derive(Deserialize)]
struct Subscription {
    awslogs: SubscriptionData,
}

#[derive(Deserialize)]
struct SubscriptionData {
    data: String,
}

/// The decoded subscription message.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DataMessage {
    message_type: String,
    #[serde(default)]
    owner: Option<String>,
    #[serde(default)]
    log_group: Option<String>,
    #[serde(default)]
    log_events: Vec<LogEvent>,
}

/// One log event, in the subscription's form (`id`) or the CLI's (`eventId`, `logStreamName`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogEvent {
    #[serde(default, alias = "eventId")]
    id: Option<String>,
    message: String,
}

/// `filter-log-events` / `get-log-events` output.
#[derive(Deserialize)]
struct CliEvents {
    events: Vec<LogEvent>,
}

/// `{"awslogs":{"data":…}}`: base64, then gzip, then a `DATA_MESSAGE` or `CONTROL_MESSAGE`.
pub(super) fn push_subscription(raw: &str, records: &mut Vec<Record>) {
    match decode_subscription(raw) {
        Ok(message) => push_data_message(&message, records),
        Err(e) => records.add(Err(e)),
    }
}

fn decode_subscription(raw: &str) -> Result<String, String> {
    let envelope: Subscription = serde_json::from_str(raw).map_err(|e| format!("not a CloudWatch Logs subscription payload: {e}"))?;
    let gzip = base64::engine::general_purpose::STANDARD
        .decode(envelope.awslogs.data.trim())
        .map_err(|e| format!("awslogs.data is not base64: {e}"))?;
    // CloudWatch Logs always compresses: uncompressed data is not a subscription payload.
    if !gzip.starts_with(&[0x1f, 0x8b]) {
        return Err("awslogs.data is not gzip-compressed".to_string());
    }
    let text = decompress(&gzip).map_err(|e| format!("awslogs.data: {e}"))?;
    String::from_utf8(text.into_owned()).map_err(|e| format!("awslogs.data is not UTF-8 text: {e}"))
}

/// A decoded subscription message. A `CONTROL_MESSAGE` (CloudWatch Logs checking the
/// destination) is one skipped record.
pub(super) fn push_data_message(raw: &str, records: &mut Vec<Record>) {
    let message: DataMessage = match serde_json::from_str(raw) {
        Ok(message) => message,
        Err(e) => return records.add(Err(format!("not a CloudWatch Logs message: {e}"))),
    };
    if message.message_type != "DATA_MESSAGE" {
        let why = Ignored::OtherLogMessage(format!("a CloudWatch Logs {}", message.message_type));
        let outcome = Ok(Parsed::Ignored { event_id: None, event_time: None, event_name: None, why });
        return records.add(outcome);
    }
    let context = LogContext {
        event_id: None,
        cluster: message.log_group.as_deref().and_then(authenticator::cluster_of_log_group).map(str::to_string),
        account: message.owner.filter(|o| o.bytes().all(|b| b.is_ascii_digit()) && !o.is_empty()),
        region: None,
    };
    push_log_events(message.log_events, &context, records);
}

/// `aws logs filter-log-events` / `get-log-events` output. Neither names the log
/// group, so the cluster is unknown (commands say CLUSTER_NAME).
pub(super) fn push_cli_events(raw: &str, records: &mut Vec<Record>) {
    match serde_json::from_str::<CliEvents>(raw) {
        Ok(output) => push_log_events(output.events, &LogContext::default(), records),
        Err(e) => records.add(Err(format!("not CloudWatch Logs events output: {e}"))),
    }
}

fn push_log_events(events: Vec<LogEvent>, context: &LogContext, records: &mut Vec<Record>) {
    for event in events {
        let context = LogContext { event_id: event.id.filter(|id| !id.is_empty()), ..context.clone() };
        records.add(parse_log_message(&event.message, &context));
    }
}

/// Raw lines: authenticator lines (any prefix before `time=`), or JSON lines.
pub(super) fn push_lines(text: &str, records: &mut Vec<Record>) {
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let outcome = parse_log_message(line, &LogContext::default()).map_err(|e| format!("line {}: {e}", i + 1));
        records.add(outcome);
    }
}

/// Whether a text document is log lines rather than JSON: its first line is not JSON
/// and reads as logrus text.
pub(super) fn is_log_text(text: &str) -> bool {
    let Some(first) = text.lines().find(|l| !l.trim().is_empty()) else { return false };
    let first = first.trim_start();
    !first.starts_with(['{', '[']) && authenticator::parse_line(first).is_ok()
}

/// One log event's message.
pub fn parse_log_message(message: &str, context: &LogContext) -> Result<Parsed, String> {
    let trimmed = message.trim();
    if trimmed.starts_with('{') {
        // A CloudTrail trail delivering to CloudWatch Logs writes one record per event.
        return match parse_record(trimmed, None) {
            Ok(parsed) => Ok(parsed),
            Err(_) => Ok(skipped(context, Ignored::OtherLogMessage("a JSON log event that is not a CloudTrail record".into()))),
        };
    }
    let line = match authenticator::parse_line(trimmed) {
        Ok(line) => line,
        Err(authenticator::LineError::NotLogfmt) => {
            return Ok(skipped(context, Ignored::OtherLogMessage("not an authenticator log line".into())));
        }
        Err(e) => return Err(format!("authenticator line: {e}")),
    };
    match Attempt::from_line(&line) {
        Ok(attempt) => {
            let time = attempt.time.clone();
            match Event::from_attempt(attempt, trimmed, context) {
                Ok(event) => Ok(Parsed::Event(Box::new(event))),
                Err(why) => Ok(Parsed::Ignored {
                    event_id: context.event_id.clone(),
                    event_time: Some(time),
                    event_name: Some(AUTHENTICATE.to_string()),
                    why,
                }),
            }
        }
        Err(NotAttempt::OtherMessage(msg)) => Ok(Parsed::Ignored {
            event_id: context.event_id.clone(),
            event_time: line.time,
            event_name: None,
            why: Ignored::OtherLogMessage(format!("authenticator message {msg:?}, not an authentication attempt")),
        }),
    }
}

fn skipped(context: &LogContext, why: Ignored) -> Parsed {
    Parsed::Ignored { event_id: context.event_id.clone(), event_time: None, event_name: None, why }
}
