//! Per event: parse, filter, de-duplicate, enrich, diagnose, publish. Plain
//! methods over ports, so tests drive it without the Lambda runtime.
//!
//! Failure semantics (nothing lost): any delivery failure, and any input that
//! cannot be parsed, fails the invocation; Lambda retries it twice and then the
//! failure destination (an SQS queue with an alarm) keeps the original event.
//! Events that cannot matter are skipped with a logged reason.

mod audit;
mod claims;
mod delivery;
mod enrichment;
mod flood_gate;
mod history;
mod logs;
mod payload;
mod second_looks;

pub use audit::{AuditRun, ScheduledAudit};
pub use claims::Claims;
pub use delivery::Delivery;
pub use enrichment::{Enrichment, GRANT_BINDINGS_TTL_SECS};
pub use flood_gate::FloodGate;
pub use history::EntryHistory;
pub use payload::Payload;

use crate::config::Settings;
use crate::enrich::{Home, Lookups};
use crate::idempotency::{Claim, EntryLog, FloodStore, IdempotencyStore};
use crate::metrics::{self, Metrics};
use crate::second_look::SecondLook;
use crate::{archive, fleet, DeliveryError, Sink};
use eks_access_doctor_core::event::Event;
use eks_access_doctor_core::facts::Facts;
use eks_access_doctor_core::finding::Finding;
use eks_access_doctor_core::flood::{Decision, Fingerprint};
use eks_access_doctor_core::input::Parsed;
use eks_access_doctor_core::render::Diagnosis;
use eks_access_doctor_core::triage::{self, Triage};

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
    Scanned(archive::ScanReport),
    /// The organization scan's run, added up.
    Summarized(archive::RunSummary),
    /// A scheduled audit's run.
    Audited(AuditRun),
    /// The fleet audit's clusters, one Map item each.
    FleetPlanned(fleet::Plan),
    /// One cluster of the fleet audit, written to the results.
    FleetAudited(fleet::Audited),
    /// The fleet audit's run, added up.
    FleetSummarized(fleet::FleetSummary),
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
    Archive(#[from] crate::s3::S3Error),
    /// A scheduled audit could not be completed (its clusters not listed, its record not
    /// read or written, a new flag not delivered): Lambda retries the run.
    #[error("scheduled audit: {0}")]
    Audit(String),
}

impl HandlerError {
    /// The `errorType` the Runtime API is given.
    pub fn error_type(&self) -> &'static str {
        match self {
            HandlerError::Unreadable(_) => "UnreadableEvent",
            HandlerError::Delivery(_) => "DeliveryFailed",
            HandlerError::InProgress { .. } => "EventInProgress",
            HandlerError::Archive(_) => "ArchiveUnavailable",
            HandlerError::Audit(_) => "AuditIncomplete",
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

/// The handler: one payload in, one [`Outcome`] out, through named stages. Each stage
/// is a type with its own tests; the handler only says in which order they run:
///
/// 1. [`Payload::read`]: which kind of invocation this is (one `match`);
/// 2. [`Triage`] (core): the event diagnosed once without live facts: its fingerprint,
///    its lookups, whether it needs a second look;
/// 3. [`FloodGate`]: a repeat within its window is counted, not sent;
/// 4. [`Claims`]: an event delivered (or being delivered) elsewhere is not sent again;
/// 5. [`Enrichment`]: the planned live facts, within the budget;
/// 6. [`Delivery`]: every wanted finding to every sink that wants it;
/// 7. record: the claim completed, the window opened, the metrics written
///    ([`EntryHistory`] keeps the function's own record of entries).
pub struct Doctor {
    settings: Settings,
    enrichment: Enrichment,
    gate: FloodGate,
    claims: Claims,
    delivery: Delivery,
    history: EntryHistory,
    /// The delay queue for second looks, when configured.
    second_look: Option<Box<dyn SecondLook>>,
    /// The S3 client of the organization scan's steps.
    archive: Option<aws_sdk_s3::Client>,
    /// The scheduled audit's reads and record, when configured.
    audit: Option<ScheduledAudit>,
    /// The fleet audit's sessions in other accounts.
    fleet: Option<Box<dyn fleet::Sessions>>,
    /// Seconds since the epoch: the windows' clock (tests set their own).
    clock: Box<dyn Fn() -> u64 + Send + Sync>,
}

impl Doctor {
    pub fn new(
        settings: Settings,
        lookups: Box<dyn Lookups>,
        sinks: Vec<Box<dyn Sink>>,
        store: Option<Box<dyn IdempotencyStore>>,
    ) -> Doctor {
        Doctor {
            enrichment: Enrichment::new(lookups, settings.enrichment_budget),
            gate: FloodGate::new(settings.flood_window),
            claims: Claims::new(store),
            delivery: Delivery::new(sinks),
            history: EntryHistory::default(),
            settings,
            second_look: None,
            archive: None,
            audit: None,
            fleet: None,
            clock: Box::new(unix_now),
        }
    }

    /// Shares the record of created entries across containers through `log`.
    pub fn with_entry_log(mut self, log: Box<dyn EntryLog>) -> Doctor {
        self.history.share(log);
        self
    }

    /// Queues events for a second look (`access-entry-grants-nothing`) in `queue`.
    pub fn with_second_look(mut self, queue: Box<dyn SecondLook>) -> Doctor {
        self.second_look = Some(queue);
        self
    }

    /// Runs the organization scan's steps with `s3`.
    pub fn with_archive(mut self, s3: aws_sdk_s3::Client) -> Doctor {
        self.archive = Some(s3);
        self
    }

    /// Runs the fleet audit's steps, assuming roles with `sessions` (results through the archive's S3 client).
    pub fn with_fleet(mut self, sessions: Box<dyn fleet::Sessions>) -> Doctor {
        self.fleet = Some(sessions);
        self
    }

    /// Runs the scheduled audit with `audit`.
    pub fn with_audit(mut self, audit: ScheduledAudit) -> Doctor {
        self.audit = Some(audit);
        self
    }

    /// Reads time from `clock` (seconds since the epoch) instead of the system's.
    pub fn with_clock(mut self, clock: impl Fn() -> u64 + Send + Sync + 'static) -> Doctor {
        self.clock = Box::new(clock);
        self
    }

    /// Writes EMF metric lines to `out` (stdout in the function).
    pub fn with_metrics(mut self, out: Box<dyn metrics::Emit>) -> Doctor {
        self.delivery.measure(Metrics::new(out, self.settings.metric_clusters.clone()));
        self
    }

    /// Shares flood windows across containers through `store`.
    pub fn with_flood_store(mut self, store: Box<dyn FloodStore>) -> Doctor {
        self.gate.share(store);
        self
    }

    /// Handles one payload; `home` is where the function runs (account from its ARN).
    pub async fn handle(&self, payload: &str, home: &Home) -> Result<Outcome, HandlerError> {
        self.handle_until(payload, home, (self.clock)() + MAX_LAMBDA_TIMEOUT_SECS).await
    }

    /// [`Doctor::handle`] for an invocation that must end by `deadline` (seconds since
    /// the epoch): the claim on an event it delivers lasts that long, no longer.
    pub async fn handle_until(&self, payload: &str, home: &Home, deadline: u64) -> Result<Outcome, HandlerError> {
        match Payload::read(payload) {
            Payload::Archive(request) => self.scan(request.map_err(HandlerError::Unreadable)?).await,
            Payload::Fleet(request) => self.fleet_step(request.map_err(HandlerError::Unreadable)?).await,
            Payload::Logs => self.handle_logs(payload, home).await,
            Payload::SecondLooks(batch) => self.handle_second_looks(batch, home, deadline).await,
            Payload::Audit { run } => self.run_audit(&run, deadline).await,
            Payload::Event(Ok(Parsed::Event(event))) => self.handle_event(*event, payload, home, deadline).await,
            Payload::Event(Ok(Parsed::Ignored { event_id, why, .. })) => Ok(Outcome::Ignored { event_id, reason: why.reason() }),
            Payload::Event(Err(reason)) => Err(HandlerError::Unreadable(reason)),
        }
    }

    /// The organization scan's steps (see `archive`).
    async fn scan(&self, request: archive::Request) -> Result<Outcome, HandlerError> {
        let Some(s3) = &self.archive else {
            return Err(HandlerError::Unreadable("an organization scan request, and this function has no S3 client for it".into()));
        };
        match request {
            archive::Request::Scan(requests) => Ok(Outcome::Scanned(archive::scan(s3, &requests).await?)),
            archive::Request::Summarize(request) => Ok(Outcome::Summarized(archive::summarize(s3, &request).await?)),
        }
    }

    /// The fleet audit's steps (see `fleet`).
    async fn fleet_step(&self, request: fleet::Request) -> Result<Outcome, HandlerError> {
        let (Some(sessions), Some(s3)) = (&self.fleet, &self.archive) else {
            return Err(HandlerError::Unreadable("a fleet audit request, and this function has no sessions or S3 client for it".into()));
        };
        match request {
            fleet::Request::Plan(plan) => Ok(Outcome::FleetPlanned(fleet::plan(sessions.as_ref(), &plan).await)),
            fleet::Request::Audit(item) => Ok(Outcome::FleetAudited(fleet::audit_one(sessions.as_ref(), s3, &item).await?)),
            fleet::Request::Failed(failed) => Ok(Outcome::FleetAudited(fleet::record_failure(s3, &failed).await?)),
            fleet::Request::Summarize(summary) => {
                Ok(Outcome::FleetSummarized(fleet::summarize(s3, &summary, env!("CARGO_PKG_VERSION")).await?))
            }
        }
    }

    /// One event through the stages.
    ///
    /// An event whose finding alerted less than a window ago (same cause, cluster and
    /// principal: a controller retrying, a CI loop) is counted, not sent; the count
    /// reaches people in the next alert of that fingerprint. The fingerprint comes from
    /// the triage when it has one, so repeats cost no lookups; otherwise from the
    /// finding the live facts gave.
    async fn handle_event(&self, event: Event, payload: &str, home: &Home, deadline: u64) -> Result<Outcome, HandlerError> {
        let event_id = event.event_id.clone();
        if let Some(skip) = self.skip(&event, &event_id) {
            return Ok(skip);
        }
        let at = Moment { now: (self.clock)(), deadline };
        let triage = Triage::of(&event, &|f| self.settings.wants(f));
        // Before anything is sent, so that Lambda's retry after a failure here sends nothing twice.
        if triage.second_look {
            if let Some(queue) = &self.second_look {
                queue
                    .later(payload)
                    .await
                    .map_err(|message| HandlerError::Delivery(vec![DeliveryError { sink: "second-look", message }]))?;
            }
        }
        let known = Facts { entry_lifetime: self.history.lifetime(&event, at.now).await, ..Facts::default() };
        match triage.fingerprint.clone() {
            Some(fingerprint) => {
                let decision = self.gate.decide(&fingerprint, &event_id, at.now).await;
                if decision == Decision::Suppress {
                    return self.suppressed(&event_id, &fingerprint, deadline).await;
                }
                let diagnosis = self.enrich(event, &triage, known, home).await;
                self.alert(&event_id, fingerprint, decision, diagnosis, at).await
            }
            None => {
                let Some(diagnosis) = self.enrich(event, &triage, known, home).await else {
                    return Ok(Outcome::NoFinding { event_id });
                };
                self.alert_unless_repeat(&event_id, diagnosis, at).await
            }
        }
    }

    /// Why an event needs no work: its cluster is filtered out, or `id` was delivered here.
    fn skip(&self, event: &Event, id: &str) -> Option<Outcome> {
        let event_id = id.to_string();
        if !self.settings.wants_cluster(event.cluster.as_deref()) {
            let reason = "cluster filtered out by INCLUDE_CLUSTERS/EXCLUDE_CLUSTERS".to_string();
            return Some(Outcome::Ignored { event_id: Some(event_id), reason });
        }
        if self.claims.delivered_here(&event_id) {
            return Some(Outcome::Duplicate { event_id });
        }
        None
    }

    /// The planned live facts gathered, with what the function knows itself (`known`),
    /// and the wanted findings on them; `None` when nothing is wanted.
    async fn enrich(&self, event: Event, triage: &Triage, known: Facts, home: &Home) -> Option<Diagnosis> {
        let gathered = self.enrichment.gather(&event, triage.plan, home).await;
        let facts = Facts { entry_lifetime: known.entry_lifetime, settled_entry: known.settled_entry, ..gathered };
        triage::conclude(event, &facts, &|f| self.settings.wants(f))
    }

    /// Alerts a diagnosis unless its fingerprint alerted within the window.
    async fn alert_unless_repeat(&self, id: &str, diagnosis: Diagnosis, at: Moment) -> Result<Outcome, HandlerError> {
        let fingerprint = Fingerprint::of(&diagnosis.event, diagnosis.findings[0].cause.id);
        let decision = self.gate.decide(&fingerprint, id, at.now).await;
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
        let suppressed_before = match decision {
            Decision::Alert { suppressed_before } => suppressed_before,
            Decision::Suppress => 0,
        };
        let event_id = id.to_string();
        let Some(mut diagnosis) = diagnosis else {
            self.gate.release(&fingerprint, id, suppressed_before).await;
            return Ok(Outcome::NoFinding { event_id });
        };
        match self.claims.begin(id, at.deadline).await {
            Claim::Go { delivered } => self.delivery.resume(&diagnosis, &delivered, &self.claims),
            Claim::Delivered => {
                self.gate.release(&fingerprint, id, suppressed_before).await;
                return Ok(Outcome::Duplicate { event_id });
            }
            // The window is the other invocation's (same owner): it marks or releases it.
            Claim::InProgress { until } => return Err(HandlerError::InProgress { event_id, until }),
        }
        add_note(&mut diagnosis.findings, self.gate.repeats_note(1, suppressed_before));
        if let Err(failed) = self.delivery.deliver(&diagnosis, &self.claims).await {
            self.gate.release(&fingerprint, id, suppressed_before).await;
            self.claims.abandon(id, &diagnosis.event.event_id).await;
            return Err(HandlerError::Delivery(failed));
        }
        self.gate.delivered(&fingerprint, id, at.now).await;
        self.claims.complete(id).await;
        Ok(Outcome::Alerted {
            event_id,
            causes: diagnosis.findings.iter().map(|f| f.cause.id).collect(),
            notes: diagnosis.findings.iter().map(|f| f.notes.len()).sum(),
        })
    }

    /// A repeat within its fingerprint's window: counted (once per event id), not sent.
    async fn suppressed(&self, event_id: &str, fingerprint: &Fingerprint, deadline: u64) -> Result<Outcome, HandlerError> {
        match self.claims.begin(event_id, deadline).await {
            Claim::Go { .. } => {}
            Claim::Delivered => return Ok(Outcome::Duplicate { event_id: event_id.to_string() }),
            Claim::InProgress { until } => return Err(HandlerError::InProgress { event_id: event_id.to_string(), until }),
        }
        self.count_repeats(fingerprint, 1).await;
        self.claims.complete(event_id).await;
        tracing::info!(fingerprint = %fingerprint, event_id, "repeat counted, not sent: an alert for this fingerprint went out within the window");
        Ok(Outcome::Suppressed { event_id: event_id.to_string(), cause: fingerprint.cause })
    }

    /// `repeats` more of `fingerprint` were counted, not sent.
    async fn count_repeats(&self, fingerprint: &Fingerprint, repeats: u64) {
        self.delivery.suppressed(fingerprint.cause, repeats);
        self.gate.count(fingerprint, repeats).await;
    }
}

/// Adds the repeats note, when there is one, to every finding.
fn add_note(findings: &mut [Finding], note: Option<String>) {
    if let Some(note) = note {
        findings.iter_mut().for_each(|finding| finding.notes.push(note.clone()));
    }
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
