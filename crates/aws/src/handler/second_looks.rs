//! Second looks from the SQS delay queue, one at a time: the entry as it stands now
//! decides whether it grants nothing (or, for an Auto Mode node entry, still lacks its
//! policy). Only the causes that ask for the settled entry are judged again;
//! everything else about the event was said the first time.

use super::payload::parse_event;
use super::{Doctor, HandlerError, Moment, Outcome};
use crate::enrich::Home;
use eks_access_doctor_core::facts::{Fact, Facts, LookupPlan};
use eks_access_doctor_core::input::Parsed;
use eks_access_doctor_core::triage;

impl Doctor {
    pub(super) async fn handle_second_looks(
        &self,
        batch: Vec<Result<String, String>>,
        home: &Home,
        deadline: u64,
    ) -> Result<Outcome, HandlerError> {
        let mut outcomes = Vec::new();
        for payload in batch {
            let event = match payload.map(|p| parse_event(&p)) {
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
            let settled_entry = self.enrichment.gather(&event, plan, home).await.access_entry;
            let facts = Facts { settled_entry, ..Facts::default() };
            let wanted =
                |f: &eks_access_doctor_core::finding::Finding| f.cause.needs.contains(&Fact::SettledEntry) && self.settings.wants(f);
            let Some(diagnosis) = triage::conclude(event, &facts, &wanted) else {
                outcomes.push(Outcome::NoFinding { event_id: id });
                continue;
            };
            outcomes.push(self.alert_unless_repeat(&id, diagnosis, Moment { now: (self.clock)(), deadline }).await?);
        }
        Ok(Outcome::SecondLooks { looks: outcomes })
    }
}
