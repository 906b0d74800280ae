//! A CloudWatch Logs subscription batch (the authenticator log), through the same
//! stages as an event: every log event is triaged; identical denials (same cause,
//! cluster and principal) become one alert that says how many there were; a
//! fingerprint alerted less than a window ago is counted, not sent. Window state
//! changes only after a delivery succeeded, so a failed batch is retried whole and
//! nothing is lost.

use super::{add_note, Doctor, HandlerError, LogBatch, Outcome};
use crate::enrich::Home;
use eks_access_doctor_core::event::{Event, Ignored};
use eks_access_doctor_core::facts::{Facts, Lookup};
use eks_access_doctor_core::flood::{Decision, Fingerprint};
use eks_access_doctor_core::input::{self, Parsed};
use eks_access_doctor_core::triage::{self, Triage};
use std::collections::HashMap;

/// The events of one fingerprint in a batch, and how the first one is to be diagnosed.
struct Group {
    fingerprint: Fingerprint,
    events: Vec<Event>,
    basis: Basis,
}

/// What a group's alert is diagnosed on.
enum Basis {
    /// A denial: its triage, whose lookups are made once, for the first event.
    Triage(Triage),
    /// A granted line: the bindings it was judged on.
    Judged(Box<Facts>),
}

/// A granted line's cluster, identity and groups.
type GrantKey = (Option<String>, Option<String>, Vec<String>);
/// What a granted line came to: its finding's fingerprint and facts, or why none.
type Verdict = Result<(Fingerprint, Facts), Ignored>;

impl Doctor {
    pub(super) async fn handle_logs(&self, payload: &str, home: &Home) -> Result<Outcome, HandlerError> {
        let mut summary = LogBatch::default();
        let mut unreadable = Vec::new();
        let now = (self.clock)();
        let mut groups: Vec<Group> = Vec::new();
        // Granted lines already judged in this batch: one identity's lines are alike.
        let mut judged: HashMap<GrantKey, Verdict> = HashMap::new();
        for record in input::parse_document(payload.as_bytes()) {
            summary.log_events += 1;
            let mut event = match record.outcome {
                Ok(Parsed::Event(event)) => *event,
                Ok(Parsed::Ignored { why, .. }) => {
                    summary.ignored += 1;
                    tracing::debug!(reason = %why.reason(), "log event ignored");
                    continue;
                }
                Err(reason) => {
                    tracing::error!(record = record.number, reason = %reason, "unreadable log event");
                    unreadable.push(format!("log event {}: {reason}", record.number));
                    continue;
                }
            };
            // A subscription delivers from the function's own region.
            if event.region.is_empty() {
                event.region = home.region.clone().unwrap_or_default();
            }
            if let Some(skip) = self.skip(&event, &event.event_id) {
                summary.ignored += 1;
                tracing::info!(outcome = %serde_json::to_string(&skip).unwrap_or_default(), "log event skipped");
                continue;
            }
            // A granted line is judged on the cluster's bindings, and says nothing without them.
            let (fingerprint, basis) = if let Some(attempt) = event.granted() {
                let key = (event.cluster.clone(), event.principal_arn.clone(), attempt.groups.clone());
                let verdict = match judged.get(&key) {
                    Some(verdict) => verdict.clone(),
                    None => {
                        let verdict = self.judge_grant(&event, home, now).await;
                        judged.insert(key, verdict.clone());
                        verdict
                    }
                };
                match verdict {
                    Ok((fingerprint, facts)) => (fingerprint, Basis::Judged(Box::new(facts))),
                    Err(why) => {
                        summary.ignored += 1;
                        tracing::debug!(reason = %why.reason(), "log event ignored");
                        continue;
                    }
                }
            } else {
                // The cause without live facts names the fingerprint: enrichment sharpens
                // the advice but does not change which problem this is.
                let triage = Triage::of(&event, &|f| self.settings.wants(f));
                let Some(fingerprint) = triage.fingerprint.clone() else {
                    summary.ignored += 1;
                    continue;
                };
                (fingerprint, Basis::Triage(triage))
            };
            match groups.iter_mut().find(|g| g.fingerprint == fingerprint) {
                Some(group) => group.events.push(event),
                None => groups.push(Group { fingerprint, events: vec![event], basis }),
            }
        }
        let mut errors = Vec::new();
        // Repeats are counted once the batch succeeded: a failed batch is retried whole,
        // and its retry counts them.
        let mut counted_later: Vec<(Fingerprint, u64)> = Vec::new();
        for Group { fingerprint, events, basis } in groups {
            let count = events.len() as u64;
            let owner = events[0].event_id.clone();
            let suppressed_before = match self.gate.decide(&fingerprint, &owner, now).await {
                Decision::Suppress => {
                    summary.suppressed += count;
                    tracing::info!(fingerprint = %fingerprint, repeats = count, "repeats counted, not sent: an alert for this fingerprint went out within the window");
                    counted_later.push((fingerprint, count));
                    continue;
                }
                Decision::Alert { suppressed_before } => suppressed_before,
            };
            let ids: Vec<String> = events.iter().map(|e| e.event_id.clone()).collect();
            let Some(first) = events.into_iter().next() else { continue };
            let diagnosis = match basis {
                Basis::Judged(facts) => triage::conclude(first, &facts, &|f| self.settings.wants(f)),
                Basis::Triage(triage) => self.enrich(first, &triage, Facts::default(), home).await,
            };
            let Some(mut diagnosis) = diagnosis else {
                // Below MIN_SEVERITY: nothing to send, so the window is not this batch's.
                summary.ignored += count;
                self.gate.release(&fingerprint, &owner, suppressed_before).await;
                continue;
            };
            add_note(&mut diagnosis.findings, self.gate.repeats_note(count, suppressed_before));
            match self.delivery.deliver(&diagnosis, &self.claims).await {
                Ok(()) => {
                    self.gate.delivered(&fingerprint, &owner, now).await;
                    // This container skips these events if the batch comes again; the
                    // shared window (marked delivered) keeps other containers from paging.
                    self.claims.remember(ids.iter().map(String::as_str));
                    summary.alerts += 1;
                    summary.repeats_in_alerts += count - 1;
                    summary.causes.push(fingerprint.cause);
                }
                Err(failed) => {
                    // The window stays closed, so Lambda's retry of this batch alerts.
                    self.gate.release(&fingerprint, &owner, suppressed_before).await;
                    errors.extend(failed);
                }
            }
        }
        if !errors.is_empty() {
            return Err(HandlerError::Delivery(errors));
        }
        if !unreadable.is_empty() {
            return Err(HandlerError::Unreadable(unreadable.join("; ")));
        }
        for (fingerprint, repeats) in counted_later {
            self.count_repeats(&fingerprint, repeats).await;
        }
        Ok(Outcome::LogBatch(summary))
    }

    /// A granted authenticator line against its cluster's bindings: the fingerprint of
    /// its finding and the facts it was found on, or why it says nothing (no Kubernetes
    /// access, a failed read, every group bound).
    async fn judge_grant(&self, event: &Event, home: &Home, now: u64) -> Verdict {
        let bindings = match self.enrichment.bindings_for_grants(event, home, now).await {
            Lookup::Found(bindings) => bindings,
            Lookup::NotChecked => {
                return Err(Ignored::GrantNotChecked("this function has no Kubernetes access (the KubernetesAccess option)".into()))
            }
            Lookup::Absent => return Err(Ignored::GrantNotChecked("the cluster's bindings were not found".into())),
            Lookup::Failed(why) => return Err(Ignored::GrantNotChecked(why)),
        };
        let facts = Facts { bindings: Lookup::Found(bindings), ..Facts::default() };
        let findings = eks_access_doctor_core::catalogue::diagnose(event, &facts);
        let first = findings.iter().find(|f| self.settings.wants(f)).ok_or(Ignored::AccessGranted)?;
        Ok((Fingerprint::of(event, first.cause.id), facts))
    }
}
