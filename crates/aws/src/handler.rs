//! Per event: parse, filter, de-duplicate, enrich, diagnose, publish. Plain
//! methods over ports, so tests drive it without the Lambda runtime.
//!
//! Failure semantics (nothing lost): any delivery failure, and any input that
//! cannot be parsed, fails the invocation; Lambda retries it twice and then the
//! failure destination (an SQS queue with an alarm) keeps the original event.
//! Events that cannot matter are skipped with a logged reason.

use super::config::Settings;
use super::enrich::{gather, Home, Lookups};
use super::idempotency::{part_key, Claim, EntryLog, FloodStore, IdempotencyStore, PartialDeliveries, RecentEntries, RecentIds};
use super::metrics::{self, Metrics};
use super::second_look::{self, SecondLook};
use super::{DeliveryError, Sink};
use eks_access_doctor_core::event::{Event, Ignored};
use eks_access_doctor_core::facts::{Fact, Facts, Lookup, LookupPlan};
use eks_access_doctor_core::finding::Finding;
use eks_access_doctor_core::flood::{self, Decision, Fingerprint, Windows};
use eks_access_doctor_core::input::{self, Parsed};
use eks_access_doctor_core::kubernetes::Binding;
use eks_access_doctor_core::render::Diagnosis;
use std::collections::HashMap;
use std::sync::Mutex;

/// How long the bindings read for granted authenticator lines serve later lines of
/// the same cluster: a busy cluster logs a grant every few seconds, and one read a
/// minute is enough to judge them (an alert's own repeats wait a whole flood window).
pub const GRANT_BINDINGS_TTL_SECS: u64 = 60;
/// Clusters whose bindings are kept for granted lines, at most.
const GRANT_BINDINGS_CLUSTERS: usize = 64;

/// The bindings read for granted lines, by region and cluster: when, and the answer.
type GrantBindings = HashMap<(String, String), (u64, Lookup<Vec<Binding>>)>;
/// Events of one fingerprint in a log batch: the first one's findings without live
/// facts, or (granted lines) the facts they were judged on.
type Pending = (Fingerprint, Vec<Event>, Vec<Finding>, Option<Facts>);
/// A granted line's cluster, identity and groups.
type GrantKey = (Option<String>, Option<String>, Vec<String>);
/// What a granted line came to: its finding's fingerprint and facts, or why none.
type Verdict = Result<(Fingerprint, Facts), Ignored>;

/// What one invocation did, for the log line and the response.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Alerted {
        event_id: String,
        causes: Vec<&'static str>,
        notes: usize,
    },
    NoFinding {
        event_id: String,
    },
    Ignored {
        event_id: Option<String>,
        reason: String,
    },
    Duplicate {
        event_id: String,
    },
    /// A repeat of a finding alerted within the window: counted, not sent.
    Suppressed {
        event_id: String,
        cause: &'static str,
    },
    /// A CloudWatch Logs batch.
    LogBatch(LogBatch),
    /// A batch of second looks from the delay queue, one outcome each. (A struct
    /// variant: an internally tagged newtype of a sequence cannot be serialized, and
    /// the runtime must send this back as the invocation's response.)
    SecondLooks {
        looks: Vec<Outcome>,
    },
    /// Archive objects scanned for the organization scan.
    Scanned(super::archive::ScanReport),
    /// The organization scan's run, added up.
    Summarized(super::archive::RunSummary),
}

/// What a CloudWatch Logs batch became. Every log event is counted once: as part of
/// an alert (`alerts` + `repeats_in_alerts`), suppressed, ignored, or unreadable.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct LogBatch {
    pub log_events: u64,
    pub alerts: u64,
    /// Denials an alert stood for besides its own.
    pub repeats_in_alerts: u64,
    /// Denials counted, not sent: their fingerprint alerted within the window.
    pub suppressed: u64,
    pub ignored: u64,
    pub causes: Vec<&'static str>,
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
    /// Another container is delivering this event right now: the retry finds it
    /// delivered, or takes over if that container died.
    #[error("event {event_id} is being delivered by another invocation until {until} (seconds since the epoch); retry")]
    InProgress { event_id: String, until: u64 },
    /// The organization scan could not read or write S3: Step Functions retries the step.
    #[error(transparent)]
    Archive(#[from] super::s3::S3Error),
}

impl HandlerError {
    /// The `errorType` the Runtime API is given.
    pub fn error_type(&self) -> &'static str {
        match self {
            HandlerError::Unreadable(_) => "UnreadableEvent",
            HandlerError::Delivery(_) => "DeliveryFailed",
            HandlerError::InProgress { .. } => "EventInProgress",
            HandlerError::Archive(_) => "ArchiveUnavailable",
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
    /// Open flood windows of this container.
    floods: Mutex<Windows>,
    /// Flood windows shared across containers (the DynamoDB table), when on.
    flood_store: Option<Box<dyn FloodStore>>,
    /// Seconds since the epoch: the windows' clock (tests set their own).
    clock: Box<dyn Fn() -> u64 + Send + Sync>,
    /// Access entries this container saw created.
    entries: Mutex<RecentEntries>,
    /// The bindings read for granted authenticator lines, by region and cluster:
    /// when they were read, and the answer (kept `GRANT_BINDINGS_TTL_SECS`).
    grant_bindings: Mutex<GrantBindings>,
    /// The same, shared across containers (the DynamoDB table), when on.
    entry_log: Option<Box<dyn EntryLog>>,
    /// The delay queue for second looks, when configured.
    second_look: Option<Box<dyn SecondLook>>,
    /// EMF lines for findings, deliveries and suppressed repeats; off unless given.
    metrics: Metrics,
}

impl Doctor {
    pub fn new(
        settings: Settings,
        lookups: Box<dyn Lookups>,
        sinks: Vec<Box<dyn Sink>>,
        store: Option<Box<dyn IdempotencyStore>>,
    ) -> Doctor {
        let floods = Mutex::new(Windows::new(settings.flood_window.as_secs()));
        Doctor {
            settings,
            lookups,
            sinks,
            store,
            delivered_events: Mutex::default(),
            delivered_parts: Mutex::default(),
            floods,
            flood_store: None,
            clock: Box::new(unix_now),
            entries: Mutex::default(),
            grant_bindings: Mutex::default(),
            entry_log: None,
            second_look: None,
            metrics: Metrics::off(),
        }
    }

    /// Shares the record of created entries across containers through `log`.
    pub fn with_entry_log(mut self, log: Box<dyn EntryLog>) -> Doctor {
        self.entry_log = Some(log);
        self
    }

    /// Queues events for a second look (`access-entry-grants-nothing`) in `queue`.
    pub fn with_second_look(mut self, queue: Box<dyn SecondLook>) -> Doctor {
        self.second_look = Some(queue);
        self
    }

    /// Reads time from `clock` (seconds since the epoch) instead of the system's.
    pub fn with_clock(mut self, clock: impl Fn() -> u64 + Send + Sync + 'static) -> Doctor {
        self.clock = Box::new(clock);
        self
    }

    /// Writes EMF metric lines to `out` (stdout in the function).
    pub fn with_metrics(mut self, out: Box<dyn metrics::Emit>) -> Doctor {
        self.metrics = Metrics::new(out, self.settings.metric_clusters.clone());
        self
    }

    /// Shares flood windows across containers through `store`.
    pub fn with_flood_store(mut self, store: Box<dyn FloodStore>) -> Doctor {
        self.flood_store = Some(store);
        self
    }

    /// Gives back a claimed window whose alert was not sent, with the count it took over.
    async fn release_window(&self, fingerprint: &str, owner: &str, suppressed_before: u64) {
        if let Some(store) = &self.flood_store {
            if let Err(e) = store.release(fingerprint, owner, suppressed_before).await {
                tracing::warn!(fingerprint, error = %e, "could not release the flood window; the retry of this batch owns it");
            }
        }
    }

    /// Whether `fingerprint` may alert now: the shared windows when on (this
    /// container's if they cannot answer), else this container's. A window of 0
    /// turns grouping off: every event alerts.
    async fn flood_decision(&self, fingerprint: &str, key: &Fingerprint, owner: &str, now: u64) -> Decision {
        if self.settings.flood_window.is_zero() {
            return Decision::Alert { suppressed_before: 0 };
        }
        let local = || self.floods.lock().map(|w| w.decide(key, now)).unwrap_or(Decision::Alert { suppressed_before: 0 });
        let Some(store) = &self.flood_store else { return local() };
        match store.claim(fingerprint, owner, now, self.settings.flood_window.as_secs()).await {
            Ok(decision) => decision,
            Err(e) => {
                tracing::warn!(fingerprint, error = %e, "flood windows table unavailable; using this container's");
                local()
            }
        }
    }

    /// Handles one payload; `home` is where the function runs (account from its ARN).
    ///
    /// An event whose finding alerted less than a window ago (same cause, cluster and
    /// principal: a controller retrying, a CI loop) is counted, not sent; the count
    /// reaches people in the next alert of that fingerprint. The fingerprint comes from
    /// the cause matched without live facts when there is one, so repeats cost no
    /// lookups; otherwise from the finding the live facts gave.
    pub async fn handle(&self, payload: &str, home: &Home) -> Result<Outcome, HandlerError> {
        self.handle_until(payload, home, (self.clock)() + MAX_LAMBDA_TIMEOUT_SECS).await
    }

    /// [`Doctor::handle`] for an invocation that must end by `deadline` (seconds since
    /// the epoch): the claim on an event it delivers lasts that long, no longer.
    pub async fn handle_until(&self, payload: &str, home: &Home, deadline: u64) -> Result<Outcome, HandlerError> {
        if is_log_subscription(payload) {
            return self.handle_logs(payload, home).await;
        }
        if let Some(batch) = second_look::batch(payload) {
            return self.handle_second_looks(batch, home, deadline).await;
        }
        let event = match parse_payload(payload) {
            Ok(Parsed::Event(event)) => *event,
            Ok(Parsed::Ignored { event_id, why, .. }) => return Ok(Outcome::Ignored { event_id, reason: why.reason() }),
            Err(reason) => return Err(HandlerError::Unreadable(reason)),
        };
        let event_id = event.event_id.clone();
        if let Some(skip) = self.skip(&event, &event_id) {
            return Ok(skip);
        }
        let now = (self.clock)();
        let at = Moment { now, deadline };
        // Before anything is sent, so that Lambda's retry after a failure here sends nothing twice.
        if eks_access_doctor_core::catalogue::wants_second_look(&event) {
            if let Some(queue) = &self.second_look {
                queue
                    .later(payload)
                    .await
                    .map_err(|message| HandlerError::Delivery(vec![DeliveryError { sink: "second-look", message }]))?;
            }
        }
        let known = Facts { entry_lifetime: self.entry_lifetime(&event, now).await, ..Facts::default() };
        // Once, without live facts: the fingerprint and the lookups to make both come from it.
        let offline = eks_access_doctor_core::catalogue::diagnose(&event, &Facts::default());
        match self.fingerprint_offline(&event, &offline) {
            Some(fingerprint) => {
                let decision = self.flood_decision(&fingerprint.to_string(), &fingerprint, &event_id, now).await;
                if decision == Decision::Suppress {
                    return self.suppressed(&event_id, &fingerprint, deadline).await;
                }
                let diagnosis = self.diagnose(event, home, known, &offline).await;
                self.alert(&event_id, fingerprint, decision, diagnosis, at).await
            }
            None => {
                let Some(diagnosis) = self.diagnose(event, home, known, &offline).await else {
                    return Ok(Outcome::NoFinding { event_id });
                };
                self.alert_unless_repeat(&event_id, diagnosis, at).await
            }
        }
    }

    /// Second looks from the SQS delay queue, one at a time: the entry as it stands now
    /// decides whether it grants nothing. Only that cause is judged again; everything
    /// else about the event was said the first time.
    async fn handle_second_looks(&self, batch: Vec<Result<String, String>>, home: &Home, deadline: u64) -> Result<Outcome, HandlerError> {
        let mut outcomes = Vec::new();
        for payload in batch {
            let event = match payload.map(|p| parse_payload(&p)) {
                Ok(Ok(Parsed::Event(event))) => *event,
                Ok(Ok(Parsed::Ignored { event_id, why, .. })) => {
                    outcomes.push(Outcome::Ignored { event_id, reason: why.reason() });
                    continue;
                }
                Ok(Err(reason)) | Err(reason) => return Err(HandlerError::Unreadable(reason)),
            };
            // Its own id: the first look of the same event may have alerted already.
            let id = format!("{}#second-look", event.event_id);
            if let Some(skip) = self.skip(&event, &id) {
                outcomes.push(skip);
                continue;
            }
            let plan = LookupPlan::new(&event, [Fact::AccessEntry]);
            let settled_entry = gather(self.lookups.as_ref(), &event, plan, self.settings.enrichment_budget, home).await.access_entry;
            let mut diagnosis = eks_access_doctor_core::diagnose(event, &Facts { settled_entry, ..Facts::default() });
            diagnosis.findings.retain(|f| f.cause.needs.contains(&Fact::SettledEntry) && self.settings.wants(f));
            if diagnosis.findings.is_empty() {
                outcomes.push(Outcome::NoFinding { event_id: id });
                continue;
            }
            outcomes.push(self.alert_unless_repeat(&id, diagnosis, Moment { now: (self.clock)(), deadline }).await?);
        }
        Ok(Outcome::SecondLooks { looks: outcomes })
    }

    /// The function's own record of access entries: a creation is noted (here and in the
    /// table), and a deletion learns how long its entry lived, if the creation was seen.
    async fn entry_lifetime(&self, event: &Event, now: u64) -> Lookup<u64> {
        let (Some(cluster), Some(principal)) = (&event.cluster, &event.principal_arn) else { return Lookup::NotChecked };
        if event.failed() {
            return Lookup::NotChecked;
        }
        let entry = format!("{}|{cluster}|{principal}", event.region);
        match event.event_name.as_str() {
            "CreateAccessEntry" => {
                if let Ok(mut entries) = self.entries.lock() {
                    entries.created(&entry, now);
                }
                if let Some(log) = &self.entry_log {
                    if let Err(e) = log.created(&entry, now).await {
                        tracing::warn!(entry, error = %e, "could not record the entry's creation in the table");
                    }
                }
                Lookup::NotChecked
            }
            "DeleteAccessEntry" => {
                let here = self.entries.lock().ok().and_then(|entries| entries.created_at(&entry));
                let created = match (here, &self.entry_log) {
                    (Some(at), _) => Ok(Some(at)),
                    (None, Some(log)) => log.created_at(&entry).await,
                    (None, None) => Ok(None),
                };
                match created {
                    Ok(Some(at)) => Lookup::Found(now.saturating_sub(at)),
                    Ok(None) => Lookup::Absent,
                    Err(e) => Lookup::Failed(e),
                }
            }
            _ => Lookup::NotChecked,
        }
    }

    /// Alerts a diagnosis unless its fingerprint alerted within the window.
    async fn alert_unless_repeat(&self, id: &str, diagnosis: Diagnosis, at: Moment) -> Result<Outcome, HandlerError> {
        let fingerprint = Fingerprint::of(&diagnosis.event, diagnosis.findings[0].cause.id);
        let decision = self.flood_decision(&fingerprint.to_string(), &fingerprint, id, at.now).await;
        if decision == Decision::Suppress {
            return self.suppressed(id, &fingerprint, at.deadline).await;
        }
        self.alert(id, fingerprint, decision, Some(diagnosis), at).await
    }

    /// Sends what the window's claim allowed: `diagnosis` with its repeats note, once
    /// per `id`. The window opens when the alert went out, and is released when it did
    /// not (nothing to send, a duplicate, a failed delivery), so a retry can alert.
    async fn alert(
        &self,
        id: &str,
        fingerprint: Fingerprint,
        decision: Decision,
        diagnosis: Option<Diagnosis>,
        at: Moment,
    ) -> Result<Outcome, HandlerError> {
        let key = fingerprint.to_string();
        let suppressed_before = match decision {
            Decision::Alert { suppressed_before } => suppressed_before,
            Decision::Suppress => 0,
        };
        let event_id = id.to_string();
        let Some(mut diagnosis) = diagnosis else {
            self.release_window(&key, id, suppressed_before).await;
            return Ok(Outcome::NoFinding { event_id });
        };
        if let Some(store) = &self.store {
            match store.begin(id, at.deadline).await {
                Ok(Claim::Go { delivered }) => self.already_delivered(&diagnosis, &delivered),
                Ok(Claim::Delivered) => {
                    self.release_window(&key, id, suppressed_before).await;
                    return Ok(Outcome::Duplicate { event_id });
                }
                // The window is the other invocation's (same owner): it marks or releases it.
                Ok(Claim::InProgress { until }) => return Err(HandlerError::InProgress { event_id, until }),
                Err(e) => tracing::warn!(event_id = %id, error = %e, "idempotency store unavailable; delivering anyway"),
            }
        }
        if let Some(note) = flood::repeats_note(1, suppressed_before, self.settings.flood_window.as_secs()) {
            for finding in &mut diagnosis.findings {
                finding.notes.push(note.clone());
            }
        }
        if let Err(failure) = self.deliver(&diagnosis).await {
            self.release_window(&key, id, suppressed_before).await;
            let parts = self.delivered_parts.lock().map(|d| d.parts(&diagnosis.event.event_id)).unwrap_or_default();
            self.abandon(id, &parts.into_iter().map(part_key).collect::<Vec<_>>()).await;
            return Err(failure);
        }
        self.window_delivered(&fingerprint, id, at.now).await;
        self.delivered(id).await;
        Ok(Outcome::Alerted {
            event_id,
            causes: diagnosis.findings.iter().map(|f| f.cause.id).collect(),
            notes: diagnosis.findings.iter().map(|f| f.notes.len()).sum(),
        })
    }

    /// The fingerprint of the first finding matched without live facts that would be
    /// sent (not muted, at or above `MIN_SEVERITY`), if any.
    fn fingerprint_offline(&self, event: &Event, offline: &[Finding]) -> Option<Fingerprint> {
        let first = offline.iter().find(|f| self.settings.wants(f))?;
        Some(Fingerprint::of(event, first.cause.id))
    }

    /// A repeat within its fingerprint's window: counted (once per event id), not sent.
    async fn suppressed(&self, event_id: &str, fingerprint: &Fingerprint, deadline: u64) -> Result<Outcome, HandlerError> {
        if let Some(store) = &self.store {
            match store.begin(event_id, deadline).await {
                Ok(Claim::Go { .. }) => {}
                Ok(Claim::Delivered) => return Ok(Outcome::Duplicate { event_id: event_id.to_string() }),
                Ok(Claim::InProgress { until }) => return Err(HandlerError::InProgress { event_id: event_id.to_string(), until }),
                Err(e) => tracing::warn!(event_id, error = %e, "idempotency store unavailable; counting anyway"),
            }
        }
        self.count_repeats(fingerprint, 1).await;
        self.delivered(event_id).await;
        tracing::info!(fingerprint = %fingerprint, event_id, "repeat counted, not sent: an alert for this fingerprint went out within the window");
        Ok(Outcome::Suppressed { event_id: event_id.to_string(), cause: fingerprint.cause })
    }

    /// `repeats` more of `fingerprint` were counted, not sent: here and in the shared windows.
    async fn count_repeats(&self, fingerprint: &Fingerprint, repeats: u64) {
        self.metrics.suppressed(fingerprint.cause, repeats);
        if let Ok(mut windows) = self.floods.lock() {
            windows.suppressed(fingerprint, repeats);
        }
        if let Some(store) = &self.flood_store {
            if let Err(e) = store.count(&fingerprint.to_string(), repeats).await {
                tracing::warn!(fingerprint = %fingerprint, repeats, error = %e, "could not count repeats in the flood windows table");
            }
        }
    }

    /// An alert of `fingerprint` went out: its window opens here, and the shared one is
    /// marked delivered so a retry in another container does not page again.
    async fn window_delivered(&self, fingerprint: &Fingerprint, owner: &str, now: u64) {
        if let Ok(mut windows) = self.floods.lock() {
            windows.alerted(fingerprint, now);
        }
        if let Some(store) = &self.flood_store {
            if let Err(e) = store.delivered(&fingerprint.to_string(), owner).await {
                tracing::warn!(fingerprint = %fingerprint, error = %e, "could not mark the flood window delivered");
            }
        }
    }

    /// Why an event needs no work: its cluster is filtered out, or `event_id` was delivered.
    fn skip(&self, event: &Event, event_id: &str) -> Option<Outcome> {
        let event_id = event_id.to_string();
        if !self.settings.wants_cluster(event.cluster.as_deref()) {
            let reason = "cluster filtered out by INCLUDE_CLUSTERS/EXCLUDE_CLUSTERS".to_string();
            return Some(Outcome::Ignored { event_id: Some(event_id), reason });
        }
        if self.delivered_events.lock().map(|ids| ids.contains(&event_id)).unwrap_or(false) {
            return Some(Outcome::Duplicate { event_id });
        }
        None
    }

    /// Enrich, diagnose, keep what is wanted (not muted, at or above `MIN_SEVERITY`);
    /// `None` when nothing is left. `known`: the facts the function's own state gave;
    /// `offline`: the event's findings without live facts, which plan the lookups.
    async fn diagnose(&self, event: Event, home: &Home, known: Facts, offline: &[Finding]) -> Option<Diagnosis> {
        let plan = eks_access_doctor_core::catalogue::lookup_plan_for(&event, offline);
        let gathered = gather(self.lookups.as_ref(), &event, plan, self.settings.enrichment_budget, home).await;
        let facts = Facts { entry_lifetime: known.entry_lifetime, settled_entry: known.settled_entry, ..gathered };
        let mut diagnosis = eks_access_doctor_core::diagnose(event, &facts);
        diagnosis.findings.retain(|f| self.settings.wants(f));
        (!diagnosis.findings.is_empty()).then_some(diagnosis)
    }

    /// Publishes every finding to every sink that wants it (Slack routes share them
    /// out). Within a warm container a retry after a partial failure re-sends only the
    /// parts that failed.
    async fn deliver(&self, diagnosis: &Diagnosis) -> Result<(), HandlerError> {
        let event_id = &diagnosis.event.event_id;
        let mut errors = Vec::new();
        let mut delivered = Vec::new();
        for finding in &diagnosis.findings {
            for sink in &self.sinks {
                let part = (finding.cause.id, sink.name());
                if !sink.wants(diagnosis, finding) || self.delivered_parts.lock().map(|d| d.contains(event_id, part)).unwrap_or(false) {
                    continue;
                }
                let result = sink.publish(diagnosis, finding).await;
                let outcome = if result.is_ok() { metrics::Outcome::Delivered } else { metrics::Outcome::Failed };
                self.metrics.delivery(sink.name(), diagnosis, finding, outcome);
                match result {
                    Ok(()) => delivered.push(part),
                    Err(e) => errors.push(e),
                }
            }
        }
        if !errors.is_empty() {
            if let Ok(mut parts) = self.delivered_parts.lock() {
                parts.remember(event_id, delivered);
            }
            return Err(HandlerError::Delivery(errors));
        }
        if let Ok(mut parts) = self.delivered_parts.lock() {
            parts.forget(event_id);
        }
        self.metrics.findings(diagnosis);
        Ok(())
    }

    /// Takes in the parts an earlier attempt (maybe in another container) delivered.
    fn already_delivered(&self, diagnosis: &Diagnosis, delivered: &[String]) {
        if delivered.is_empty() {
            return;
        }
        let parts = diagnosis
            .findings
            .iter()
            .flat_map(|f| self.sinks.iter().map(move |s| (f.cause.id, s.name())))
            .filter(|part| delivered.contains(&part_key(*part)))
            .collect();
        if let Ok(mut remembered) = self.delivered_parts.lock() {
            remembered.remember(&diagnosis.event.event_id, parts);
        }
    }

    /// Gives up this attempt's claim on an event whose delivery failed, recording the
    /// parts that went out.
    async fn abandon(&self, event_id: &str, delivered: &[String]) {
        if let Some(store) = &self.store {
            if let Err(e) = store.abandon(event_id, delivered).await {
                tracing::warn!(event_id, error = %e, "could not give up the claim; the retry waits for its lease to end");
            }
        }
    }

    /// Marks an event delivered, here and in the shared store.
    async fn delivered(&self, event_id: &str) {
        if let Ok(mut ids) = self.delivered_events.lock() {
            ids.insert(event_id);
        }
        if let Some(store) = &self.store {
            if let Err(e) = store.complete(event_id).await {
                tracing::warn!(event_id = %event_id, error = %e, "could not record delivery in the idempotency store");
            }
        }
    }

    /// A CloudWatch Logs subscription batch (the authenticator log): every log event is
    /// read; identical denials (same cause, cluster and principal) become one alert
    /// that says how many there were, and a fingerprint alerted less than a window ago
    /// is counted, not sent. Window state changes only after a delivery succeeded, so
    /// a failed batch is retried whole and nothing is lost.
    async fn handle_logs(&self, payload: &str, home: &Home) -> Result<Outcome, HandlerError> {
        let mut summary = LogBatch::default();
        let mut unreadable = Vec::new();
        let now = (self.clock)();
        // Each fingerprint with its events and the first one's findings without live
        // facts, or (granted lines, judged on the bindings) the facts they were judged on.
        let mut groups: Vec<Pending> = Vec::new();
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
            if let Some(attempt) = event.granted() {
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
                    Ok((fingerprint, facts)) => match groups.iter_mut().find(|(f, ..)| *f == fingerprint) {
                        Some((_, events, ..)) => events.push(event),
                        None => groups.push((fingerprint, vec![event], Vec::new(), Some(facts))),
                    },
                    Err(why) => {
                        summary.ignored += 1;
                        tracing::debug!(reason = %why.reason(), "log event ignored");
                    }
                }
                continue;
            }
            // The cause without live facts names the fingerprint: enrichment sharpens the
            // advice but does not change which problem this is.
            let offline = eks_access_doctor_core::catalogue::diagnose(&event, &Facts::default());
            let Some(fingerprint) = self.fingerprint_offline(&event, &offline) else {
                summary.ignored += 1;
                continue;
            };
            match groups.iter_mut().find(|(f, ..)| *f == fingerprint) {
                Some((_, events, ..)) => events.push(event),
                None => groups.push((fingerprint, vec![event], offline, None)),
            }
        }
        let mut errors = Vec::new();
        // Repeats are counted once the batch succeeded: a failed batch is retried whole,
        // and its retry counts them.
        let mut counted_later: Vec<(Fingerprint, u64)> = Vec::new();
        for (fingerprint, events, offline, judged_on) in groups {
            let count = events.len() as u64;
            let key = fingerprint.to_string();
            let owner = events[0].event_id.clone();
            let suppressed_before = match self.flood_decision(&key, &fingerprint, &owner, now).await {
                Decision::Suppress => {
                    summary.suppressed += count;
                    tracing::info!(fingerprint = %key, repeats = count, "repeats counted, not sent: an alert for this fingerprint went out within the window");
                    counted_later.push((fingerprint, count));
                    continue;
                }
                Decision::Alert { suppressed_before } => suppressed_before,
            };
            let ids: Vec<String> = events.iter().map(|e| e.event_id.clone()).collect();
            let Some(first) = events.into_iter().next() else { continue };
            let diagnosis = match judged_on {
                Some(facts) => {
                    let mut diagnosis = eks_access_doctor_core::diagnose(first, &facts);
                    diagnosis.findings.retain(|f| self.settings.wants(f));
                    (!diagnosis.findings.is_empty()).then_some(diagnosis)
                }
                None => self.diagnose(first, home, Facts::default(), &offline).await,
            };
            let Some(mut diagnosis) = diagnosis else {
                // Below MIN_SEVERITY: nothing to send, so the window is not this batch's.
                summary.ignored += count;
                self.release_window(&key, &owner, suppressed_before).await;
                continue;
            };
            if let Some(note) = flood::repeats_note(count, suppressed_before, self.settings.flood_window.as_secs()) {
                for finding in &mut diagnosis.findings {
                    finding.notes.push(note.clone());
                }
            }
            match self.deliver(&diagnosis).await {
                Ok(()) => {
                    self.window_delivered(&fingerprint, &owner, now).await;
                    // This container skips these events if the batch comes again; the
                    // shared window (marked delivered) keeps other containers from paging.
                    if let Ok(mut recent) = self.delivered_events.lock() {
                        for id in &ids {
                            recent.insert(id);
                        }
                    }
                    summary.alerts += 1;
                    summary.repeats_in_alerts += count - 1;
                    summary.causes.push(fingerprint.cause);
                }
                Err(failure) => {
                    // The window stays closed, so Lambda's retry of this batch alerts.
                    self.release_window(&key, &owner, suppressed_before).await;
                    match failure {
                        HandlerError::Delivery(failed) => errors.extend(failed),
                        other => return Err(other),
                    }
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
}

impl Doctor {
    /// A granted authenticator line against its cluster's bindings: the fingerprint of
    /// its finding and the facts it was found on, or why it says nothing (no Kubernetes
    /// access, a failed read, every group bound).
    async fn judge_grant(&self, event: &Event, home: &Home, now: u64) -> Verdict {
        let bindings = match self.grant_bindings(event, home, now).await {
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

    /// The cluster's bindings for granted lines: read at most once per
    /// `GRANT_BINDINGS_TTL_SECS` per cluster in this container (a failed read too, so a
    /// broken API is not asked again for every batch). Not read without Kubernetes access.
    async fn grant_bindings(&self, event: &Event, home: &Home, now: u64) -> Lookup<Vec<Binding>> {
        let key = (event.region.clone(), event.cluster.clone().unwrap_or_default());
        let fresh = |at: u64| now.saturating_sub(at) < GRANT_BINDINGS_TTL_SECS;
        if let Some((_, answer)) = self.grant_bindings.lock().ok().and_then(|c| c.get(&key).filter(|(at, _)| fresh(*at)).cloned()) {
            return answer;
        }
        let plan = LookupPlan::new(event, [Fact::Bindings]);
        let answer = gather(self.lookups.as_ref(), event, plan, self.settings.enrichment_budget, home).await.bindings;
        if let Lookup::Failed(why) = &answer {
            tracing::warn!(cluster = %key.1, reason = %why, "could not read the cluster's bindings for granted authenticator lines");
        }
        if answer != Lookup::NotChecked {
            if let Ok(mut cache) = self.grant_bindings.lock() {
                if cache.len() >= GRANT_BINDINGS_CLUSTERS {
                    cache.retain(|_, (at, _)| fresh(*at));
                    if cache.len() >= GRANT_BINDINGS_CLUSTERS {
                        cache.clear();
                    }
                }
                cache.insert(key, (now, answer.clone()));
            }
        }
        answer
    }
}

/// A CloudWatch Logs subscription payload: `{"awslogs":{"data":…}}`.
fn is_log_subscription(payload: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Probe<'a> {
        #[serde(borrow)]
        awslogs: Option<&'a serde_json::value::RawValue>,
    }
    serde_json::from_str::<Probe>(payload).is_ok_and(|p| p.awslogs.is_some())
}

/// Lambda's longest timeout: the lease of a claim when the deadline is not known.
const MAX_LAMBDA_TIMEOUT_SECS: u64 = 900;

/// An invocation's clock reading and its deadline, in seconds since the epoch.
#[derive(Debug, Clone, Copy)]
struct Moment {
    now: u64,
    deadline: u64,
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs()
}
