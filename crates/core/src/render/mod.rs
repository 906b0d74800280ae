//! Renderers: the same diagnosis as terminal text, NDJSON, Markdown, a Slack Block
//! Kit payload, an SNS message and an AWS Chatbot custom notification. Every event-supplied string passes through
//! `escape` on its way out: the event is attacker-shaped text.

pub mod chatbot;
pub mod json;
pub mod markdown;
pub mod slack;
pub mod sns;
pub mod text;

use crate::event::Event;
use crate::finding::Finding;

/// One diagnosed event: what the renderers draw.
#[derive(Debug, Clone)]
pub struct Diagnosis {
    pub event: Event,
    pub findings: Vec<Finding>,
}

impl Diagnosis {
    /// The labelled facts every format shows, in one order.
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        let e = &self.event;
        let mut fields = vec![("Cluster", e.cluster.clone().unwrap_or_else(|| "unknown".into()))];
        if let Some(p) = &e.principal_arn {
            fields.push(("Principal", p.clone()));
        }
        fields.push(("Caller", e.caller.clone().unwrap_or_else(|| "unknown".into())));
        fields.push(("Call", format!("{} ({})", e.event_name, e.error_code.as_deref().unwrap_or("succeeded"))));
        let region = if e.region.is_empty() { "unknown region" } else { &e.region };
        fields.push(("Region", format!("{region} / {}", e.account.as_deref().unwrap_or("unknown account"))));
        fields.push(("Time", e.event_time.clone()));
        fields
    }
}
