//! The function's own record of access entries: a creation is noted (in this
//! container and, with the table on, for every container), and a deletion learns how
//! long its entry lived, if the creation was seen (`short-lived-access-entry`).

use crate::idempotency::{EntryLog, RecentEntries};
use eks_access_doctor_core::event::Event;
use eks_access_doctor_core::facts::Lookup;
use std::sync::Mutex;

#[derive(Default)]
pub struct EntryHistory {
    here: Mutex<RecentEntries>,
    shared: Option<Box<dyn EntryLog>>,
}

impl EntryHistory {
    /// Shares the record across containers through `log`.
    pub fn share(&mut self, log: Box<dyn EntryLog>) {
        self.shared = Some(log);
    }

    /// Records a successful creation; for a successful deletion, how long its entry lived.
    pub async fn lifetime(&self, event: &Event, now: u64) -> Lookup<u64> {
        let (Some(cluster), Some(principal)) = (&event.cluster, &event.principal_arn) else { return Lookup::NotChecked };
        if event.failed() {
            return Lookup::NotChecked;
        }
        let entry = format!("{}|{cluster}|{principal}", event.region);
        match event.event_name.as_str() {
            "CreateAccessEntry" => {
                if let Ok(mut entries) = self.here.lock() {
                    entries.created(&entry, now);
                }
                if let Some(log) = &self.shared {
                    if let Err(e) = log.created(&entry, now).await {
                        tracing::warn!(entry, error = %e, "could not record the entry's creation in the table");
                    }
                }
                Lookup::NotChecked
            }
            "DeleteAccessEntry" => {
                let here = self.here.lock().ok().and_then(|entries| entries.created_at(&entry));
                let created = match (here, &self.shared) {
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
}
