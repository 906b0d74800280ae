//! Slack incoming-webhook payloads in Block Kit, one per finding. Every value is
//! mrkdwn-escaped and cut to Slack's limits (header 150, field 2000, section 3000
//! characters, 50 blocks), so a hostile event cannot ping a channel, forge a link or
//! get the message rejected for size.

use super::Diagnosis;
use crate::escape::{mrkdwn, truncate};
use crate::finding::{Finding, Severity};
use serde::Serialize;

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

/// One incoming-webhook message. Typed rather than a `serde_json::Value` tree: it
/// serializes to the same JSON (field order included) without building a map per block.
#[derive(Debug, Serialize)]
pub struct Message {
    pub text: String,
    pub blocks: Vec<Block>,
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Block {
    Header {
        text: Text,
    },
    Section {
        #[serde(skip_serializing_if = "Option::is_none")]
        text: Option<Text>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        fields: Vec<Text>,
    },
    Context {
        elements: Vec<Text>,
    },
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Text {
    PlainText { emoji: bool, text: String },
    Mrkdwn { text: String },
}

impl Message {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a Slack message always serializes")
    }
}

fn mrkdwn_text(text: String, max: usize) -> Text {
    Text::Mrkdwn { text: fit(text, max) }
}

fn section(text: String) -> Block {
    Block::Section { text: Some(mrkdwn_text(text, SECTION_LIMIT)), fields: Vec::new() }
}

fn context(text: String) -> Block {
    Block::Context { elements: vec![mrkdwn_text(text, SECTION_LIMIT)] }
}

/// A code block, one escaped line per line, whose body cannot close it; `title` is our own text.
fn code_section(title: &str, lines: &[String]) -> Block {
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

pub fn payload(d: &Diagnosis, f: &Finding) -> Message {
    let e = &d.event;
    let cluster = e.cluster.as_deref().unwrap_or("unknown cluster");
    let fields = d.fields().into_iter().map(|(label, value)| mrkdwn_text(format!("*{label}*\n{}", mrkdwn(&value)), FIELD_LIMIT)).collect();
    let header = truncate(&format!("{} {}", f.severity().as_str().to_uppercase(), f.cause.title), HEADER_LIMIT);
    let mut blocks = vec![
        Block::Header { text: Text::PlainText { emoji: true, text: header } },
        Block::Section { text: None, fields },
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
        blocks.push(context(notes.join("\n")));
    }
    blocks.push(context(format!("<{}|AWS documentation> · cause `{}` · event `{}`", f.cause.docs, f.cause.id, mrkdwn(&e.event_id))));
    Message {
        text: fit(
            format!(
                "{} {} `{}` on {}: {}",
                icon(f.severity()),
                f.severity().as_str().to_uppercase(),
                f.cause.id,
                mrkdwn(cluster),
                f.cause.title
            ),
            SECTION_LIMIT,
        ),
        blocks,
    }
}
