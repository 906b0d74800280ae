//! Slack incoming-webhook payloads in Block Kit, one per finding. Every value is
//! mrkdwn-escaped and cut to Slack's limits (header 150, field 2000, section 3000
//! characters, 50 blocks), so a hostile event cannot ping a channel, forge a link or
//! get the message rejected for size.

use super::escape::{mrkdwn, truncate};
use super::Diagnosis;
use crate::finding::{Finding, Severity};
use serde_json::{json, Value};

pub const HEADER_LIMIT: usize = 150;
pub const FIELD_LIMIT: usize = 2000;
pub const SECTION_LIMIT: usize = 3000;

/// Escapes for mrkdwn, then fits `max` characters without splitting an `&…;` entity.
fn fit(escaped: String, max: usize) -> String {
    if escaped.chars().count() <= max {
        return escaped;
    }
    let mut cut: String = escaped.chars().take(max - 1).collect();
    if let Some(amp) = cut.rfind('&') {
        if !cut[amp..].contains(';') {
            cut.truncate(amp);
        }
    }
    cut.push('…');
    cut
}

fn section(text: String) -> Value {
    json!({ "type": "section", "text": { "type": "mrkdwn", "text": fit(text, SECTION_LIMIT) } })
}

/// A code block, one escaped line per line, whose body cannot close it; `title` is our own text.
fn code_section(title: &str, lines: &[String]) -> Value {
    let room = SECTION_LIMIT - title.len() - 10;
    let body: Vec<String> = lines.iter().map(|line| mrkdwn(line)).collect();
    section(format!("*{title}*\n```{}```", fit(body.join("\n"), room)))
}

fn icon(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => ":red_circle:",
        Severity::Warning => ":warning:",
        Severity::Info => ":information_source:",
    }
}

pub fn payload(d: &Diagnosis, f: &Finding) -> Value {
    let e = &d.event;
    let cluster = e.cluster.as_deref().unwrap_or("unknown cluster");
    let fields: Vec<Value> = d
        .fields()
        .into_iter()
        .map(|(label, value)| json!({ "type": "mrkdwn", "text": fit(format!("*{label}*\n{}", mrkdwn(&value)), FIELD_LIMIT) }))
        .collect();
    let mut blocks = vec![
        json!({ "type": "header", "text": { "type": "plain_text", "emoji": true,
            "text": truncate(&format!("{} {}", f.severity().as_str().to_uppercase(), f.cause.title), HEADER_LIMIT) } }),
        json!({ "type": "section", "fields": fields }),
        section(mrkdwn(&f.explanation)),
    ];
    if !f.steps.is_empty() {
        let steps: Vec<String> = f.steps.iter().enumerate().map(|(i, s)| format!("{}. {}", i + 1, mrkdwn(s))).collect();
        blocks.push(section(format!("*How to fix*\n{}", steps.join("\n"))));
    }
    if !f.commands.is_empty() {
        blocks.push(code_section("Commands", &f.commands));
    }
    if let Some(policy) = &f.iam_policy {
        let pretty = serde_json::to_string_pretty(policy).unwrap_or_default();
        blocks.push(code_section("Minimal IAM policy", &pretty.lines().map(String::from).collect::<Vec<_>>()));
    }
    if !f.notes.is_empty() {
        let notes: Vec<String> = f.notes.iter().map(|n| mrkdwn(n)).collect();
        blocks.push(json!({ "type": "context", "elements": [{ "type": "mrkdwn", "text": fit(notes.join("\n"), SECTION_LIMIT) }] }));
    }
    blocks.push(json!({ "type": "context", "elements": [{ "type": "mrkdwn", "text": fit(format!(
        "<{}|AWS documentation> · cause `{}` · event `{}`",
        f.cause.docs, f.cause.id, mrkdwn(&e.event_id)
    ), SECTION_LIMIT) }] }));
    json!({
        "text": fit(format!("{} {} `{}` on {}: {}", icon(f.severity()), f.severity().as_str().to_uppercase(), f.cause.id, mrkdwn(cluster), f.cause.title), SECTION_LIMIT),
        "blocks": blocks,
    })
}
