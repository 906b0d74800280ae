//! The scheduled audit: on the EventBridge schedule (off by default), each cluster's
//! access picture is read and audited, and only the flags its last run had not are
//! sent, through the same stages as an event: the catalogue (`audit-flag`), the flood
//! gate, the claims, the routes. A cluster's run is recorded only once every new flag
//! was delivered, so a failed delivery is sent again by Lambda's retry or the next run.

use super::{Doctor, HandlerError, Moment, Outcome};
use crate::idempotency::AuditLog;
use crate::kubernetes::picture::Auditor;
use eks_access_doctor_core::event::Event;
use eks_access_doctor_core::facts::Facts;
use eks_access_doctor_core::kubernetes::audit::{audit, fnv};
use eks_access_doctor_core::triage;

/// Seconds before the invocation's deadline after which no other cluster is started.
const DEADLINE_MARGIN_SECS: u64 = 10;

/// The auditor and the record of last runs.
pub struct ScheduledAudit {
    pub auditor: Box<dyn Auditor>,
    pub log: Box<dyn AuditLog>,
}

/// What one scheduled run did.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct AuditRun {
    pub clusters: usize,
    /// Flags found in all.
    pub flags: usize,
    /// Flags new since each cluster's last run.
    pub new: usize,
    pub alerted: usize,
    /// New flags whose fingerprint alerted within the flood window: counted, not sent.
    pub suppressed: usize,
    /// Flags of the last run that are gone.
    pub resolved: usize,
    /// Clusters that could not be read, with why (tried again at the next run).
    pub unread: Vec<String>,
}

impl Doctor {
    pub(super) async fn run_audit(&self, run: &str, deadline: u64) -> Result<Outcome, HandlerError> {
        let Some(scheduled) = &self.audit else {
            return Err(HandlerError::Unreadable("a scheduled audit, and this function has no auditor".into()));
        };
        let mut report = AuditRun::default();
        let clusters = scheduled.auditor.clusters().await.map_err(|why| HandlerError::Audit(format!("which clusters: {why}")))?;
        let mut clusters: Vec<&String> = clusters.iter().filter(|c| self.settings.wants_cluster(Some(c.as_str()))).collect();
        // Each run starts at another cluster, so one that cannot be finished before the
        // deadline does not keep the same others from ever being audited.
        if !clusters.is_empty() {
            let start = fnv(run).bytes().fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(usize::from(b)));
            let offset = start % clusters.len();
            clusters.rotate_left(offset);
        }
        let mut failed = Vec::new();
        for (i, cluster) in clusters.iter().enumerate() {
            if (self.clock)() + DEADLINE_MARGIN_SECS >= deadline {
                for left in &clusters[i..] {
                    report.unread.push(format!("{left}: not reached before the invocation's deadline (the next run starts elsewhere)"));
                }
                break;
            }
            report.clusters += 1;
            let state = match scheduled.auditor.read(cluster).await {
                Ok(state) => state,
                Err(why) => {
                    tracing::error!(cluster, reason = %why, "scheduled audit: cluster not read");
                    report.unread.push(format!("{cluster}: {why}"));
                    continue;
                }
            };
            for gap in &state.gaps {
                tracing::warn!(cluster, gap, "scheduled audit: not read");
            }
            let audited = audit(&state);
            let keys = audited.keys();
            let name = format!("{}|{}|{}", audited.account, audited.region, audited.cluster);
            let before = scheduled.log.last(&name).await.map_err(|why| HandlerError::Audit(format!("the last run of {cluster}: {why}")))?;
            let before = before.unwrap_or_default();
            report.flags += keys.len();
            if state.read.all() {
                report.resolved += before.iter().filter(|k| !keys.contains(k)).count();
            }
            let mut delivered = true;
            for event in audited.new_flags(&before).map(|(p, f)| Event::from_audit(&audited, p, f, run)) {
                report.new += 1;
                let id = event.event_id.clone();
                // Sent by an earlier attempt of this run (Lambda's retry after another flag failed).
                if self.skip(&event, &id).is_some() {
                    continue;
                }
                let Some(diagnosis) = triage::conclude(event, &Facts::default(), &|f| self.settings.wants(f)) else { continue };
                let at = Moment { now: (self.clock)(), deadline };
                match self.alert_unless_repeat(&id, diagnosis, at).await {
                    Ok(Outcome::Suppressed { .. }) => report.suppressed += 1,
                    Ok(Outcome::Alerted { .. }) => report.alerted += 1,
                    Ok(_) => {}
                    Err(e) => {
                        delivered = false;
                        failed.push(e.to_string());
                    }
                }
            }
            if delivered {
                // A part not read (a gap) says nothing of its flags: the last run's are kept,
                // so they are neither taken as resolved nor sent again as new.
                let mut kept = keys.clone();
                if !state.read.all() {
                    kept.extend(before.iter().filter(|k| !keys.contains(k)).cloned());
                }
                let now = (self.clock)();
                scheduled
                    .log
                    .record(&name, &kept, now)
                    .await
                    .map_err(|why| HandlerError::Audit(format!("recording {cluster}'s run: {why}")))?;
            }
        }
        tracing::info!(report = %serde_json::to_string(&report).unwrap_or_default(), "scheduled audit");
        if !failed.is_empty() {
            return Err(HandlerError::Audit(format!("delivery failed: {}", failed.join("; "))));
        }
        Ok(Outcome::Audited(report))
    }
}
