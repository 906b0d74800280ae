//! SNS messages, one per finding: an ASCII subject under 100 characters, a body (the
//! plain text an email subscriber can act on alone, or the AWS Chatbot custom
//! notification), and attributes for filter policies.

use super::{chatbot, text, Diagnosis};
use crate::escape::{inline, sns_subject, truncate};
use crate::finding::Finding;
use serde::Serialize;
use std::collections::BTreeMap;

/// SNS accepts 256 KiB per message; keep a margin for attributes.
pub const MESSAGE_LIMIT: usize = 250 * 1024;

/// What the body of each message is (the function's `SNS_MESSAGE_FORMAT`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MessageFormat {
    /// The plain-text finding, for e-mail and other subscribers.
    #[default]
    Text,
    /// The AWS Chatbot custom notification JSON: Chatbot reads a topic's messages only in
    /// its own formats, so the whole body must be the notification.
    Chatbot,
}

impl std::str::FromStr for MessageFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(MessageFormat::Text),
            "chatbot" => Ok(MessageFormat::Chatbot),
            _ => Err(format!("{s:?} is not a message format: expected text or chatbot")),
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SnsMessage {
    pub subject: String,
    pub message: String,
    /// `cause`, `severity`, `cluster`, `account`, `region`: String attributes.
    pub attributes: BTreeMap<&'static str, String>,
}

pub fn message(d: &Diagnosis, f: &Finding, format: MessageFormat) -> SnsMessage {
    let e = &d.event;
    let cluster = e.cluster.as_deref().unwrap_or("unknown");
    let subject = sns_subject(&format!("[EKS {}] {} on {} ({})", f.severity().as_str(), f.cause.id, cluster, e.event_name));
    // A quarter of the limit in characters is within it in bytes; the notification is
    // bounded by its documented field limits, far below it.
    let message = match format {
        MessageFormat::Text => truncate(&text::render_finding(d, f, false), MESSAGE_LIMIT / 4),
        MessageFormat::Chatbot => chatbot::notification(d, f).to_json(),
    };
    // An attribute value must be non-empty; event values are cut and made single-line.
    let value = |v: Option<&str>| truncate(&inline(v.filter(|s| !s.trim().is_empty()).unwrap_or("unknown")), 256);
    let attributes = BTreeMap::from([
        ("cause", f.cause.id.to_string()),
        ("severity", f.severity().as_str().to_string()),
        ("cluster", value(e.cluster.as_deref())),
        ("account", value(e.account.as_deref())),
        ("region", value(Some(&e.region))),
    ]);
    SnsMessage { subject, message, attributes }
}
