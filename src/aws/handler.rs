//! Per event: parse, filter, de-duplicate, enrich, diagnose, publish. Plain
//! methods over ports, so tests drive it without the Lambda runtime.
//!
//! Failure semantics (nothing lost): any delivery failure, and any input that
//! cannot be parsed, fails the invocation; Lambda retries it twice and then the
//! failure destination (an SQS queue with an alarm) keeps the original event.
//! Events that cannot matter are skipped with a logged reason.

use super::config::Settings;
use super::enrich::{gather, Home, Lookups};
use super::idempotency::{IdempotencyStore, PartialDeliveries, RecentIds};
use super::{DeliveryError, Sink};
use crate::input::{self, Parsed};
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

/// Why an invocation failed. The Lambda runtime reports it by name (`errorType`), so
/// the failure destination, metrics and logs can tell a bad payload from a delivery
/// outage without reading the message.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The payload is not an event we can read; retrying will not help, but the
    /// failure destination keeps it for a human.
    #[error("unreadable event: {0}")]
    Unreadable(String),
    /// At least one sink failed: retry.
    #[error("{}", join(.0))]
    Delivery(Vec<DeliveryError>),
}

impl HandlerError {
    /// The `errorType` the Runtime API is given.
    pub fn error_type(&self) -> &'static str {
        match self {
            HandlerError::Unreadable(_) => "UnreadableEvent",
            HandlerError::Delivery(_) => "DeliveryFailed",
        }
    }
}

fn join(errors: &[DeliveryError]) -> String {
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(error: HandlerError) -> Self {
        lambda_runtime::Diagnostic { error_type: error.error_type().to_string(), error_message: error.to_string() }
    }
}

/// An EventBridge envelope, else a bare record. When both fail, the error is the one
/// for the shape the payload claims to be: an object with `detail` gets the envelope's.
fn parse_payload(payload: &str) -> Result<Parsed, String> {
    let envelope_error = match input::parse_envelope(payload) {
        Ok(parsed) => return Ok(parsed),
        Err(e) => e,
    };
    input::parse_record(payload, None).map_err(|record_error| {
        let keys = serde_json::from_str::<std::collections::HashMap<String, serde::de::IgnoredAny>>(payload);
        if keys.is_ok_and(|keys| keys.contains_key("detail") || keys.contains_key("detail-type")) {
            envelope_error
        } else {
            record_error
        }
    })
}

pub struct Doctor {
    pub settings: Settings,
    pub lookups: Box<dyn Lookups>,
    pub sinks: Vec<Box<dyn Sink>>,
    pub store: Option<Box<dyn IdempotencyStore>>,
    delivered_events: Mutex<RecentIds>,
    /// The parts already delivered of events whose delivery partly failed, so the
    /// retry re-sends only what failed. Bounded, and emptied as events complete.
    delivered_parts: Mutex<PartialDeliveries>,
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
        let event = match parse_payload(payload) {
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
        let mut delivered = Vec::new();
        for finding in &diagnosis.findings {
            for sink in &self.sinks {
                let part = (finding.cause.id, sink.name());
                if self.delivered_parts.lock().map(|d| d.contains(&event_id, part)).unwrap_or(false) {
                    continue;
                }
                match sink.publish(&diagnosis, finding).await {
                    Ok(()) => delivered.push(part),
                    Err(e) => errors.push(e),
                }
            }
        }
        if !errors.is_empty() {
            if let Ok(mut parts) = self.delivered_parts.lock() {
                parts.remember(&event_id, delivered);
            }
            return Err(HandlerError::Delivery(errors));
        }
        if let Ok(mut parts) = self.delivered_parts.lock() {
            parts.forget(&event_id);
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
