//! Markdown for tickets: prose is backslash-escaped and code sits in fences longer
//! than any backtick run inside, so no value can inject links, HTML or formatting.

use super::Diagnosis;
use crate::escape::{inline, markdown, markdown_fence};
use crate::finding::Finding;
use std::fmt::Write;

pub fn render(d: &Diagnosis) -> String {
    let mut out = String::new();
    if d.findings.is_empty() {
        let _ = writeln!(
            out,
            "- `{}` {} on {}: nothing to report\n",
            inline(&d.event.event_name).replace('`', "'"),
            markdown(&d.event.event_id),
            markdown(d.event.cluster.as_deref().unwrap_or("-"))
        );
        return out;
    }
    for f in &d.findings {
        finding(&mut out, d, f);
    }
    out
}

fn code_block(out: &mut String, language: &str, body: &str) {
    let fence = markdown_fence(body);
    let _ = writeln!(out, "{fence}{language}\n{body}\n{fence}\n");
}

fn finding(out: &mut String, d: &Diagnosis, f: &Finding) {
    let _ = writeln!(out, "### {} `{}`: {}\n", f.severity().as_str().to_uppercase(), f.cause.id, markdown(f.cause.title));
    let _ = writeln!(out, "| | |\n|---|---|");
    for (label, value) in d.fields() {
        let _ = writeln!(out, "| {label} | {} |", markdown(&value));
    }
    let _ = writeln!(out, "| Event ID | {} |\n", markdown(&d.event.event_id));
    let _ = writeln!(out, "{}\n", markdown(&f.explanation));
    for (i, step) in f.steps.iter().enumerate() {
        let _ = writeln!(out, "{}. {}", i + 1, markdown(step));
    }
    let _ = writeln!(out);
    if !f.commands.is_empty() {
        let body: Vec<String> = f.commands.iter().map(|c| inline(c)).collect();
        code_block(out, "sh", &body.join("\n"));
    }
    if let Some(policy) = &f.iam_policy {
        let pretty = serde_json::to_string_pretty(policy).unwrap_or_default();
        code_block(out, "json", &pretty.lines().map(inline).collect::<Vec<_>>().join("\n"));
    }
    for note in &f.notes {
        let _ = writeln!(out, "> {}\n", markdown(note));
    }
    let _ = writeln!(out, "Docs: <{}>\n", f.cause.docs);
}
