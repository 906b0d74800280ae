//! NDJSON output: exactly one object per input record. These two structs are the
//! output contract (the README documents them): every line has every key, in this
//! order, `null` where the record does not say, so a reader never guesses the shape.
//! Values stay raw (JSON escaping is enough for data); readers that display them
//! must escape for themselves.

use super::Diagnosis;
use crate::finding::{Finding, Severity};
use serde::Serialize;

/// One input record: a diagnosed EKS event, or a record deliberately skipped (`ignored`).
#[derive(Debug, Serialize)]
pub struct Line<'a> {
    pub event_id: Option<&'a str>,
    pub event_time: Option<&'a str>,
    pub event_name: Option<&'a str>,
    pub cluster: Option<&'a str>,
    /// The access entry's principal ARN, for per-entry calls.
    pub principal: Option<&'a str>,
    /// The identity that made the call.
    pub caller: Option<&'a str>,
    pub region: Option<&'a str>,
    pub account: Option<&'a str>,
    /// `null` when the call succeeded.
    pub error_code: Option<&'a str>,
    /// Most severe first; empty when there is nothing to report or the record was skipped.
    pub findings: Vec<FindingLine<'a>>,
    /// Why the record was skipped; absent on diagnosed events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored: Option<&'a str>,
}

/// One finding.
#[derive(Debug, Serialize)]
pub struct FindingLine<'a> {
    /// The cause id: public interface, never renamed.
    pub cause: &'static str,
    pub severity: Severity,
    pub title: &'static str,
    pub explanation: &'a str,
    /// The steps as one numbered block of prose.
    pub remediation: String,
    /// Shell commands, every event value quoted.
    pub commands: &'a [String],
    /// The minimal IAM policy that grants what was denied, for permission findings.
    pub iam_policy: Option<&'a serde_json::Value>,
    /// Live facts and the lookups that could not be made.
    pub notes: &'a [String],
    pub docs: &'static str,
}

pub fn finding(f: &Finding) -> FindingLine<'_> {
    FindingLine {
        cause: f.cause.id,
        severity: f.severity(),
        title: f.cause.title,
        explanation: &f.explanation,
        remediation: f.remediation_text(),
        commands: &f.commands,
        iam_policy: f.iam_policy.as_ref(),
        notes: &f.notes,
        docs: f.cause.docs,
    }
}

pub fn diagnosis(d: &Diagnosis) -> Line<'_> {
    let e = &d.event;
    Line {
        event_id: Some(&e.event_id),
        event_time: Some(&e.event_time),
        event_name: Some(&e.event_name),
        cluster: e.cluster.as_deref(),
        principal: e.principal_arn.as_deref(),
        caller: e.caller.as_deref(),
        region: Some(&e.region),
        account: e.account.as_deref(),
        error_code: e.error_code.as_deref(),
        findings: d.findings.iter().map(finding).collect(),
        ignored: None,
    }
}

/// A record deliberately skipped: still one line, with why.
pub fn ignored<'a>(event_id: Option<&'a str>, event_time: Option<&'a str>, event_name: Option<&'a str>, reason: &'a str) -> Line<'a> {
    Line {
        event_id,
        event_time,
        event_name,
        cluster: None,
        principal: None,
        caller: None,
        region: None,
        account: None,
        error_code: None,
        findings: Vec::new(),
        ignored: Some(reason),
    }
}

impl Line<'_> {
    /// The line as written: compact JSON, no newline.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}
