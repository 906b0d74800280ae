//! SNS messages, one per finding: an ASCII subject under 100 characters, the plain
//! text an email subscriber can act on alone, and attributes for filter policies.

use super::escape::{inline, sns_subject, truncate};
use super::{text, Diagnosis};
use crate::finding::Finding;
use serde::Serialize;
use std::collections::BTreeMap;

/// SNS accepts 256 KiB per message; keep a margin for attributes.
pub const MESSAGE_LIMIT: usize = 250 * 1024;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SnsMessage {
    pub subject: String,
    pub message: String,
    /// `cause`, `severity`, `cluster`, `account`, `region`: String attributes.
    pub attributes: BTreeMap<&'static str, String>,
}

pub fn message(d: &Diagnosis, f: &Finding) -> SnsMessage {
    let e = &d.event;
    let cluster = e.cluster.as_deref().unwrap_or("unknown");
    let subject = sns_subject(&format!("[EKS {}] {} on {} ({})", f.severity().as_str(), f.cause.id, cluster, e.event_name));
    let body = text::render_finding(d, f, false);
    let message = truncate(&body, MESSAGE_LIMIT / 4);
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
