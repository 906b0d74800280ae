//! Amazon Q Developer in chat applications (AWS Chatbot) custom notifications, one per
//! finding: published to an SNS topic that Chatbot watches, they reach Slack, Microsoft
//! Teams and Chime channels with no webhook. These structs are the documented event
//! schema (the output contract); `tests/chatbot-notification.schema.json` transcribes it
//! from <https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html>.
//!
//! Everything shown is `client-markdown`: event values are escaped by
//! `escape::client_markdown` in prose and `escape::client_markdown_code` in code, and
//! cut to the documented limits. Commands sit in a code block in the description, where
//! 8,000 characters hold them whole: a next step holds 350, less than some commands.

use super::Diagnosis;
use crate::arn::{eks_cluster_arn, Arn};
use crate::escape::{client_markdown, client_markdown_code, truncate, truncate_client_markdown};
use crate::finding::Finding;
use crate::flood::Fingerprint;
use serde::Serialize;
use std::collections::BTreeMap;

/// Documented limits, in characters.
pub const TITLE_LIMIT: usize = 250;
pub const DESCRIPTION_LIMIT: usize = 8000;
pub const NEXT_STEP_LIMIT: usize = 350;
pub const KEYWORD_LIMIT: usize = 75;
/// Undocumented for `summary` and `additionalContext` values: kept as short as a title.
pub const SUMMARY_LIMIT: usize = TITLE_LIMIT;
/// A fact's value, and a prose section (the explanation, a note), in the description: so
/// that one long value (a 200 000-character error message) cannot crowd out the commands.
const FACT_LIMIT: usize = 512;
const PROSE_LIMIT: usize = 3000;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// Always `1.0`.
    pub version: &'static str,
    /// Always `custom`.
    pub source: &'static str,
    pub content: Content,
    pub metadata: Metadata,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Content {
    /// Always `client-markdown`, the one documented value.
    pub text_type: &'static str,
    /// Severity and the cause's title.
    pub title: String,
    /// The facts, the explanation, the commands, the minimal IAM policy, the notes and the docs link.
    pub description: String,
    /// The remediation steps, in order (Chatbot shows them as a bulleted list).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub next_steps: Vec<String>,
    /// The cause id, the severity and the cluster.
    pub keywords: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// `Fingerprint::stable_id` of the cause, cluster and principal: every alert about
    /// the same problem lands in one thread.
    pub thread_id: String,
    /// What a threaded channel shows on the thread's top message.
    pub summary: String,
    /// The cause id.
    pub event_type: &'static str,
    /// The cluster's ARN (in the event's partition) and the principal's and caller's ARNs, when known.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related_resources: Vec<String>,
    /// `cause`, `severity`, `cluster`, `account`, `region`, `eventId`, for custom actions.
    pub additional_context: BTreeMap<&'static str, String>,
}

impl Notification {
    /// The SNS message body: compact JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a notification always serializes")
    }
}

pub fn notification(d: &Diagnosis, f: &Finding) -> Notification {
    let e = &d.event;
    let severity = f.severity().as_str();
    let cluster = e.cluster.as_deref().filter(|c| !c.is_empty());
    let shown_cluster = client_markdown(cluster.unwrap_or("unknown cluster"));
    let mut keywords = vec![f.cause.id.to_string(), severity.to_string()];
    keywords.extend(cluster.map(|c| truncate_client_markdown(&client_markdown(c), KEYWORD_LIMIT)));
    let context =
        |v: Option<&str>| truncate_client_markdown(&client_markdown(v.filter(|s| !s.is_empty()).unwrap_or("unknown")), SUMMARY_LIMIT);
    Notification {
        version: "1.0",
        source: "custom",
        content: Content {
            text_type: "client-markdown",
            title: truncate_client_markdown(&format!("{} {}", severity.to_uppercase(), client_markdown(f.cause.title)), TITLE_LIMIT),
            description: description(d, f),
            next_steps: f.steps.iter().map(|s| truncate_client_markdown(&client_markdown(s), NEXT_STEP_LIMIT)).collect(),
            keywords,
        },
        metadata: Metadata {
            thread_id: Fingerprint::of(e, f.cause.id).stable_id(),
            summary: truncate_client_markdown(&format!("{} {} on {shown_cluster}", severity.to_uppercase(), f.cause.id), SUMMARY_LIMIT),
            event_type: f.cause.id,
            related_resources: related_resources(d),
            additional_context: BTreeMap::from([
                ("cause", f.cause.id.to_string()),
                ("severity", severity.to_string()),
                ("cluster", context(cluster)),
                ("account", context(e.account.as_deref())),
                ("region", context(Some(&e.region))),
                ("eventId", context(Some(&e.event_id))),
            ]),
        },
    }
}

/// Sections in order of importance, each cut to the room the ones before it left, so the
/// whole stays within `DESCRIPTION_LIMIT` and no cut leaves a code block open. The docs
/// link (our own text) is kept last and always fits.
fn description(d: &Diagnosis, f: &Finding) -> String {
    let docs = format!("<{}|AWS documentation> · cause `{}`", f.cause.docs, f.cause.id);
    let mut out = Description { text: String::new(), room: DESCRIPTION_LIMIT - docs.chars().count() - 2 };
    let mut facts: Vec<String> = d
        .fields()
        .into_iter()
        .map(|(label, value)| format!("*{label}* `{}`", truncate(&client_markdown_code(&value), FACT_LIMIT)))
        .collect();
    facts.push(format!("*Event* `{}`", truncate(&client_markdown_code(&d.event.event_id), FACT_LIMIT)));
    out.prose(&facts.join("\n"));
    out.prose(&client_markdown(&f.explanation));
    if !f.commands.is_empty() {
        out.code("Commands", &f.commands.iter().map(|c| client_markdown_code(c)).collect::<Vec<_>>().join("\n"));
    }
    if let Some(policy) = &f.iam_policy {
        let pretty = serde_json::to_string_pretty(policy).unwrap_or_default();
        out.code("Minimal IAM policy", &pretty.lines().map(client_markdown_code).collect::<Vec<_>>().join("\n"));
    }
    for note in &f.notes {
        out.prose(&format!("*Note* {}", client_markdown(note)));
    }
    out.text.push_str(&docs);
    out.text
}

struct Description {
    text: String,
    /// Characters still free, less the separator each section adds.
    room: usize,
}

impl Description {
    fn push(&mut self, section: String) {
        self.room = self.room.saturating_sub(section.chars().count() + 2);
        self.text.push_str(&section);
        self.text.push_str("\n\n");
    }

    /// Escaped prose, cut to fit; nothing once the room is gone.
    fn prose(&mut self, escaped: &str) {
        if self.room > 1 {
            self.push(truncate_client_markdown(escaped, self.room.min(PROSE_LIMIT)));
        }
    }

    /// A titled code block whose escaped body (no backtick left in it) is cut to fit inside the fences.
    fn code(&mut self, title: &str, escaped: &str) {
        let frame = format!("*{title}*\n```\n\n```").chars().count();
        if self.room > frame + 1 {
            let body = truncate(escaped, self.room - frame);
            self.push(format!("*{title}*\n```\n{body}\n```"));
        }
    }
}

/// The cluster's ARN and the principal's and caller's, each once, escaped like prose.
fn related_resources(d: &Diagnosis) -> Vec<String> {
    let e = &d.event;
    let cluster = match (e.cluster.as_deref(), e.account.as_deref()) {
        (Some(name), Some(account)) if !name.is_empty() && !e.region.is_empty() => {
            Some(eks_cluster_arn(e.partition(), &e.region, account, name))
        }
        _ => None,
    };
    let identities = [e.principal_arn.as_deref(), e.caller.as_deref()].into_iter().flatten().filter(|a| Arn::parse(a).is_some());
    let mut out: Vec<String> = Vec::new();
    for arn in cluster.into_iter().chain(identities.map(String::from)) {
        let shown = truncate_client_markdown(&client_markdown(&arn), FACT_LIMIT);
        if !out.contains(&shown) {
            out.push(shown);
        }
    }
    out
}
