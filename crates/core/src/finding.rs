//! What a diagnosis produces: severities, catalogue entries and findings.
//! Pure data: no I/O, no AWS types, so every renderer and test works on plain values.

use serde::Serialize;
use std::fmt;

/// How urgently a finding needs a human. Ordered so `--min-severity` is a comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Info, Severity::Warning, Severity::Error];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|sev| sev.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown severity {s:?}: expected info, warning or error"))
    }
}

/// One documented cause of failure. The `id` is public interface: it is the SNS
/// `cause` attribute and the `cause` field of JSON output, so it never changes.
#[derive(Debug)]
pub struct Cause {
    pub id: &'static str,
    pub severity: Severity,
    pub title: &'static str,
    pub docs: &'static str,
    /// The evidence this cause reads: it is run on no other.
    pub evidence: &'static [crate::event::Evidence],
    /// The live facts this cause's advice reads. Enrichment looks up the union of the
    /// needs of the causes that match, and a failed lookup becomes a note on exactly
    /// the findings whose cause needs it.
    pub needs: &'static [crate::facts::Fact],
    /// Returns a finding when this cause explains the event.
    pub diagnose: fn(&crate::event::Event, &crate::facts::Facts) -> Option<Finding>,
    /// What the cause needs beyond the event before it can speak at all.
    pub reach: Reach,
    /// Where each fact the cause states comes from: the ledger `causes` prints.
    pub sources: &'static [Source],
}

/// When a cause can speak: what it needs beyond the event. The catalogue plans
/// lookups and second looks from it, and the tests know from it which fixtures have no
/// finding offline, so a cause's special cases live in the cause.
#[derive(Debug, Clone, Copy)]
pub enum Reach {
    /// The event alone; live facts only sharpen the advice.
    Event,
    /// Only with the live facts it `needs`, looked up for every event `wants` accepts
    /// although nothing can match before they are known.
    Live { wants: fn(&crate::event::Event) -> bool },
    /// Only at the delayed second look at the entry an event `wants` accepts created.
    SecondLook { wants: fn(&crate::event::Event) -> bool },
    /// Only with the function's own record of earlier events.
    History,
    /// Only with the cluster's Kubernetes API; without it the cause `instead` speaks,
    /// and says the check was not made.
    Kubernetes { instead: &'static str },
}

impl Reach {
    /// Its name in `causes --format json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reach::Event => "event",
            Reach::Live { .. } => "live",
            Reach::SecondLook { .. } => "second-look",
            Reach::History => "history",
            Reach::Kubernetes { .. } => "kubernetes",
        }
    }
}

/// One claim's evidence: a page (or a repository and path) and the sentence quoted
/// from it, as read. A cause with none states facts nobody can check.
#[derive(Debug, Serialize)]
pub struct Source {
    pub page: &'static str,
    pub quote: &'static str,
}

impl PartialEq for Cause {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

/// A cause applied to one event, with advice rendered from the event's own values.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub cause: &'static Cause,
    pub explanation: String,
    /// What to do, in order, as prose.
    pub steps: Vec<String>,
    /// Exact shell commands, with every event-supplied value shell-quoted.
    pub commands: Vec<String>,
    /// The minimal IAM policy document that grants what was denied.
    pub iam_policy: Option<serde_json::Value>,
    /// Live facts or lookups that could not be made, added by enrichment.
    pub notes: Vec<String>,
}

impl Finding {
    pub fn new(cause: &'static Cause, explanation: impl Into<String>) -> Self {
        Finding { cause, explanation: explanation.into(), steps: Vec::new(), commands: Vec::new(), iam_policy: None, notes: Vec::new() }
    }

    pub fn step(mut self, text: impl Into<String>) -> Self {
        self.steps.push(text.into());
        self
    }

    pub fn command(mut self, text: impl Into<String>) -> Self {
        self.commands.push(text.into());
        self
    }

    /// Adds each command given; an absent one (a call that would change nothing) is left out.
    pub fn commands(mut self, commands: impl IntoIterator<Item = String>) -> Self {
        self.commands.extend(commands);
        self
    }

    pub fn note(mut self, text: impl Into<String>) -> Self {
        self.notes.push(text.into());
        self
    }

    pub fn notes(mut self, notes: impl IntoIterator<Item = String>) -> Self {
        self.notes.extend(notes);
        self
    }

    pub fn policy(mut self, policy: serde_json::Value) -> Self {
        self.iam_policy = Some(policy);
        self
    }

    pub fn severity(&self) -> Severity {
        self.cause.severity
    }

    /// The remediation as one block of prose: numbered steps.
    pub fn remediation_text(&self) -> String {
        self.steps.iter().enumerate().map(|(i, s)| format!("{}. {s}", i + 1)).collect::<Vec<_>>().join("\n")
    }
}
