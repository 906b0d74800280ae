//! Per event: parse, filter, de-duplicate, enrich, diagnose, publish. Plain
//! methods over ports, so tests drive it without the Lambda runtime.
//!
//! Failure semantics (nothing lost): any delivery failure, and any input that
//! cannot be parsed, fails the invocation; Lambda retries it twice and then the
//! failure destination (an SQS queue with an alarm) keeps the original event.
//! Events that cannot matter are skipped with a logged reason.

use super::config::Settings;
use super::enrich::{gather, Home, Lookups};
use super::idempotency::{IdempotencyStore, RecentIds};
use super::{DeliveryError, Sink};
use crate::input::{self, Parsed};
use std::collections::HashSet;
use std::sync::Mutex;

/// What one invocation did, for the log line and the response.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Alerted { event_id: String, causes: Vec<&'static str>, notes: usize },
    NoFinding { event_id: String },
    Ignored { event_id: Option<String>, reason: String },
    Duplicate { event_id: String },
}

#[derive(Debug)]
pub enum HandlerError {
    /// The payload is not an event we can read; retrying will not help, but the
    /// failure destination keeps it for a human.
    Unreadable(String),
    /// At least one sink failed: retry.
    Delivery(Vec<DeliveryError>),
}

impl std::fmt::Display for HandlerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HandlerError::Unreadable(reason) => write!(f, "unreadable event: {reason}"),
            HandlerError::Delivery(errors) => {
                let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
                write!(f, "{}", text.join("; "))
            }
        }
    }
}

impl std::error::Error for HandlerError {}

pub struct Doctor {
    pub settings: Settings,
    pub lookups: Box<dyn Lookups>,
    pub sinks: Vec<Box<dyn Sink>>,
    pub store: Option<Box<dyn IdempotencyStore>>,
    delivered_events: Mutex<RecentIds>,
    /// (event id, cause, sink) already delivered, so a retry after a partial
    /// failure re-sends only what failed.
    delivered_parts: Mutex<HashSet<(String, &'static str, &'static str)>>,
}

impl Doctor {
    pub fn new(
        settings: Settings,
        lookups: Box<dyn Lookups>,
        sinks: Vec<Box<dyn Sink>>,
        store: Option<Box<dyn IdempotencyStore>>,
    ) -> Doctor {
        Doctor { settings, lookups, sinks, store, delivered_events: Mutex::default(), delivered_parts: Mutex::default() }
    }

    /// Handles one payload; `home` is where the function runs (account from its ARN).
    pub async fn handle(&self, payload: &str, home: &Home) -> Result<Outcome, HandlerError> {
        let event = match input::parse_envelope(payload).or_else(|_| input::parse_record(payload, None)) {
            Ok(Parsed::Event(event)) => *event,
            Ok(Parsed::Ignored { event_id, why, .. }) => return Ok(Outcome::Ignored { event_id, reason: why.reason() }),
            Err(reason) => return Err(HandlerError::Unreadable(reason)),
        };
        let event_id = event.event_id.clone();
        if !self.settings.wants_cluster(event.cluster.as_deref()) {
            let reason = "cluster filtered out by INCLUDE_CLUSTERS/EXCLUDE_CLUSTERS".to_string();
            return Ok(Outcome::Ignored { event_id: Some(event_id), reason });
        }
        if self.delivered_events.lock().map(|ids| ids.contains(&event_id)).unwrap_or(false) {
            return Ok(Outcome::Duplicate { event_id });
        }
        let plan = crate::catalogue::lookup_plan(&event);
        let facts = gather(self.lookups.as_ref(), &event, plan, self.settings.enrichment_budget, home).await;
        let mut diagnosis = crate::diagnose(event, &facts);
        diagnosis.findings.retain(|f| f.severity() >= self.settings.min_severity);
        if diagnosis.findings.is_empty() {
            return Ok(Outcome::NoFinding { event_id });
        }
        if let Some(store) = &self.store {
            match store.begin(&event_id).await {
                Ok(false) => return Ok(Outcome::Duplicate { event_id }),
                Ok(true) => {}
                Err(e) => tracing::warn!(event_id = %event_id, error = %e, "idempotency store unavailable; delivering anyway"),
            }
        }
        let mut errors = Vec::new();
        for finding in &diagnosis.findings {
            for sink in &self.sinks {
                let key = (event_id.clone(), finding.cause.id, sink.name());
                if self.delivered_parts.lock().map(|d| d.contains(&key)).unwrap_or(false) {
                    continue;
                }
                match sink.publish(&diagnosis, finding).await {
                    Ok(()) => {
                        if let Ok(mut done) = self.delivered_parts.lock() {
                            done.insert(key);
                        }
                    }
                    Err(e) => errors.push(e),
                }
            }
        }
        if !errors.is_empty() {
            return Err(HandlerError::Delivery(errors));
        }
        if let Ok(mut ids) = self.delivered_events.lock() {
            ids.insert(&event_id);
        }
        if let Some(store) = &self.store {
            if let Err(e) = store.complete(&event_id).await {
                tracing::warn!(event_id = %event_id, error = %e, "could not record delivery in the idempotency store");
            }
        }
        Ok(Outcome::Alerted {
            event_id,
            causes: diagnosis.findings.iter().map(|f| f.cause.id).collect(),
            notes: diagnosis.findings.iter().map(|f| f.notes.len()).sum(),
        })
    }
}
