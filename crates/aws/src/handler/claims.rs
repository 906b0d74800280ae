//! Claims on events: which this container delivered (memory), which another container
//! delivered or is delivering (the shared store, when on), and the parts of a partly
//! failed delivery that went out, so a retry sends only the rest. Both prefer a rare
//! duplicate to a lost alert: a store that cannot answer lets the delivery go on.

use crate::idempotency::{Claim, IdempotencyStore, Part, PartialDeliveries, RecentIds};
use std::sync::Mutex;

#[derive(Default)]
pub struct Claims {
    delivered: Mutex<RecentIds>,
    parts: Mutex<PartialDeliveries>,
    store: Option<Box<dyn IdempotencyStore>>,
}

impl Claims {
    pub fn new(store: Option<Box<dyn IdempotencyStore>>) -> Claims {
        Claims { store, ..Claims::default() }
    }

    /// Whether this container delivered `id` already.
    pub fn delivered_here(&self, id: &str) -> bool {
        self.delivered.lock().map(|ids| ids.contains(id)).unwrap_or(false)
    }

    /// Claims `id` until `deadline` in the shared store. Without a store, or when it
    /// cannot answer (logged), the claim is this container's: `Go`.
    pub async fn begin(&self, id: &str, deadline: u64) -> Claim {
        let Some(store) = &self.store else { return Claim::Go { delivered: Vec::new() } };
        match store.begin(id, deadline).await {
            Ok(claim) => claim,
            Err(e) => {
                tracing::warn!(event_id = %id, error = %e, "idempotency store unavailable; going on without it");
                Claim::Go { delivered: Vec::new() }
            }
        }
    }

    /// Marks `id` delivered (or counted), here and in the shared store.
    pub async fn complete(&self, id: &str) {
        self.remember(std::iter::once(id));
        if let Some(store) = &self.store {
            if let Err(e) = store.complete(id).await {
                tracing::warn!(event_id = %id, error = %e, "could not record delivery in the idempotency store");
            }
        }
    }

    /// Remembers ids delivered here only: a log batch's events, whose shared record is
    /// the flood window marked delivered.
    pub fn remember<'a>(&self, ids: impl IntoIterator<Item = &'a str>) {
        if let Ok(mut delivered) = self.delivered.lock() {
            ids.into_iter().for_each(|id| delivered.insert(id));
        }
    }

    /// Gives up this attempt's claim on `id` (its delivery failed), recording the parts
    /// that went out, so the retry need not wait for the lease to end.
    pub async fn abandon(&self, id: &str, event_id: &str) {
        let parts = self.parts.lock().map(|d| d.parts(event_id)).unwrap_or_default();
        if let Some(store) = &self.store {
            let keys: Vec<String> = parts.into_iter().map(crate::idempotency::part_key).collect();
            if let Err(e) = store.abandon(id, &keys).await {
                tracing::warn!(event_id = %id, error = %e, "could not give up the claim; the retry waits for its lease to end");
            }
        }
    }

    /// Whether `part` of `event_id` went out in an earlier attempt.
    pub fn part_sent(&self, event_id: &str, part: Part) -> bool {
        self.parts.lock().map(|d| d.contains(event_id, part)).unwrap_or(false)
    }

    /// The parts of `event_id` that went out, remembered for the retry.
    pub fn parts_sent(&self, event_id: &str, parts: Vec<Part>) {
        if let Ok(mut remembered) = self.parts.lock() {
            remembered.remember(event_id, parts);
        }
    }

    /// Every part of `event_id` went out: nothing left to remember.
    pub fn all_parts_sent(&self, event_id: &str) {
        if let Ok(mut parts) = self.parts.lock() {
            parts.forget(event_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BoxFuture;
    use std::sync::Arc;

    /// A shared record that says what it is told to, and keeps what it was given.
    #[derive(Clone)]
    struct Record {
        answer: Result<Claim, String>,
        abandoned: Arc<Mutex<Vec<String>>>,
    }

    impl IdempotencyStore for Record {
        fn begin<'a>(&'a self, _: &'a str, _: u64) -> BoxFuture<'a, Result<Claim, String>> {
            Box::pin(async { self.answer.clone() })
        }
        fn complete<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<(), String>> {
            Box::pin(async { Ok(()) })
        }
        fn abandon<'a>(&'a self, _: &'a str, delivered: &'a [String]) -> BoxFuture<'a, Result<(), String>> {
            self.abandoned.lock().unwrap().extend(delivered.iter().cloned());
            Box::pin(async { Ok(()) })
        }
    }

    fn record(answer: Result<Claim, String>) -> Record {
        Record { answer, abandoned: Arc::default() }
    }

    #[tokio::test]
    async fn the_shared_record_decides_and_a_store_that_cannot_answer_lets_the_delivery_go_on() {
        let delivered = Claims::new(Some(Box::new(record(Ok(Claim::Delivered)))));
        assert_eq!(delivered.begin("e1", 100).await, Claim::Delivered);
        let down = Claims::new(Some(Box::new(record(Err("ProvisionedThroughputExceededException: slow down".into())))));
        assert_eq!(down.begin("e1", 100).await, Claim::Go { delivered: vec![] });
        assert_eq!(Claims::new(None).begin("e1", 100).await, Claim::Go { delivered: vec![] });
    }

    #[tokio::test]
    async fn a_completed_event_is_known_here_and_a_failed_ones_sent_parts_reach_the_record() {
        let store = record(Ok(Claim::Go { delivered: vec![] }));
        let claims = Claims::new(Some(Box::new(store.clone())));
        claims.parts_sent("e1", vec![("missing-iam-permission", "sns")]);
        assert!(claims.part_sent("e1", ("missing-iam-permission", "sns")));
        assert!(!claims.part_sent("e1", ("missing-iam-permission", "slack:oncall")));
        claims.abandon("e1", "e1").await;
        assert_eq!(*store.abandoned.lock().unwrap(), ["missing-iam-permission|sns"]);
        claims.all_parts_sent("e1");
        assert!(!claims.part_sent("e1", ("missing-iam-permission", "sns")));
        assert!(!claims.delivered_here("e1"));
        claims.complete("e1").await;
        assert!(claims.delivered_here("e1"));
    }
}
