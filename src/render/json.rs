//! NDJSON output: exactly one object per input record. Values stay raw (JSON
//! escaping is enough for data); readers that display them must escape for themselves.

use super::Diagnosis;
use crate::finding::Finding;
use serde_json::{json, Value};

pub fn finding(f: &Finding) -> Value {
    json!({
        "cause": f.cause.id,
        "severity": f.severity(),
        "title": f.cause.title,
        "explanation": f.explanation,
        "remediation": f.remediation_text(),
        "commands": f.commands,
        "iam_policy": f.iam_policy,
        "notes": f.notes,
        "docs": f.cause.docs,
    })
}

pub fn diagnosis(d: &Diagnosis) -> Value {
    let e = &d.event;
    json!({
        "event_id": e.event_id,
        "event_time": e.event_time,
        "event_name": e.event_name,
        "cluster": e.cluster,
        "principal": e.principal_arn,
        "caller": e.caller,
        "region": e.region,
        "account": e.account,
        "error_code": e.error_code,
        "findings": d.findings.iter().map(finding).collect::<Vec<_>>(),
    })
}

/// A record deliberately skipped: still one object, with why.
pub fn ignored(event_id: Option<&str>, event_time: Option<&str>, event_name: Option<&str>, reason: &str) -> Value {
    json!({
        "event_id": event_id,
        "event_time": event_time,
        "event_name": event_name,
        "cluster": null,
        "principal": null,
        "findings": [],
        "ignored": reason,
    })
}
