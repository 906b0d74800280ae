//! Terminal text. Colour only when asked (the CLI asks on a TTY); every event value
//! goes through `escape::inline`, so escape sequences in a username cannot reach the terminal.

use super::Diagnosis;
use crate::escape::inline;
use crate::finding::{Finding, Severity};
use std::fmt::Write;

struct Palette {
    color: bool,
}

impl Palette {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn severity(&self, severity: Severity) -> String {
        let (code, label) = match severity {
            Severity::Error => ("1;31", "ERROR"),
            Severity::Warning => ("1;33", "WARNING"),
            Severity::Info => ("1;36", "INFO"),
        };
        self.paint(code, label)
    }
}

pub fn render(d: &Diagnosis, color: bool) -> String {
    let palette = Palette { color };
    let e = &d.event;
    let mut out = String::new();
    if d.findings.is_empty() {
        let _ = writeln!(
            out,
            "{} {} {} {}: nothing to report",
            palette.paint("32", "ok"),
            inline(&e.event_name),
            inline(e.cluster.as_deref().unwrap_or("-")),
            inline(&e.event_id)
        );
        return out;
    }
    for f in &d.findings {
        out.push_str(&render_finding(d, f, color));
    }
    out
}

/// One finding as a self-contained block (also the body of an SNS message).
pub fn render_finding(d: &Diagnosis, f: &Finding, color: bool) -> String {
    let mut out = String::new();
    finding(&mut out, d, f, &Palette { color });
    out
}

fn finding(out: &mut String, d: &Diagnosis, f: &Finding, palette: &Palette) {
    let _ = writeln!(out, "{} [{}] {}", palette.severity(f.severity()), f.cause.id, palette.paint("1", f.cause.title));
    for (label, value) in d.fields() {
        let _ = writeln!(out, "  {:<10} {}", label.to_lowercase(), inline(&value));
    }
    let _ = writeln!(out, "  {:<10} {}", "event id", inline(&d.event.event_id));
    let _ = writeln!(out, "\n  {}", inline(&f.explanation));
    if !f.steps.is_empty() {
        let _ = writeln!(out, "\n  {}", palette.paint("1", "How to fix"));
        for (i, step) in f.steps.iter().enumerate() {
            let _ = writeln!(out, "  {}. {}", i + 1, inline(step));
        }
    }
    if !f.commands.is_empty() {
        let _ = writeln!(out);
        for command in &f.commands {
            let _ = writeln!(out, "    $ {}", inline(command));
        }
    }
    if let Some(policy) = &f.iam_policy {
        let _ = writeln!(out, "\n  {}", palette.paint("1", "Minimal IAM policy"));
        let pretty = serde_json::to_string_pretty(policy).unwrap_or_default();
        for line in pretty.lines() {
            let _ = writeln!(out, "    {}", inline(line));
        }
    }
    for note in &f.notes {
        let _ = writeln!(out, "\n  note: {}", inline(note));
    }
    let _ = writeln!(out, "\n  docs: {}\n", f.cause.docs);
}
