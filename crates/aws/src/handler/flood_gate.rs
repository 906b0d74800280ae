//! The flood gate: whether a finding's fingerprint may alert now, or is a repeat to
//! count. This container's windows always; the shared ones (the DynamoDB table) when
//! on, falling back to this container's when the table cannot answer. Window state
//! changes only once an alert went out, so a failed delivery is retried, never lost.

use crate::idempotency::FloodStore;
use eks_access_doctor_core::flood::{self, Decision, Fingerprint, Windows};
use std::sync::Mutex;
use std::time::Duration;

pub struct FloodGate {
    window: Duration,
    local: Mutex<Windows>,
    shared: Option<Box<dyn FloodStore>>,
}

impl FloodGate {
    /// A window of 0 turns grouping off: every event alerts.
    pub fn new(window: Duration) -> FloodGate {
        FloodGate { window, local: Mutex::new(Windows::new(window.as_secs())), shared: None }
    }

    /// Shares the windows across containers through `store`.
    pub fn share(&mut self, store: Box<dyn FloodStore>) {
        self.shared = Some(store);
    }

    /// Whether `fingerprint` may alert now; `owner` (the event, or a log batch's first
    /// event) owns the window it opens, so the retry of the same owner alerts again.
    pub async fn decide(&self, fingerprint: &Fingerprint, owner: &str, now: u64) -> Decision {
        if self.window.is_zero() {
            return Decision::Alert { suppressed_before: 0 };
        }
        let local = || self.local.lock().map(|w| w.decide(fingerprint, now)).unwrap_or(Decision::Alert { suppressed_before: 0 });
        let Some(store) = &self.shared else { return local() };
        match store.claim(&fingerprint.to_string(), owner, now, self.window.as_secs()).await {
            Ok(decision) => decision,
            Err(e) => {
                tracing::warn!(fingerprint = %fingerprint, error = %e, "flood windows table unavailable; using this container's");
                local()
            }
        }
    }

    /// Gives back a claimed window whose alert was not sent, with the count it took over.
    pub async fn release(&self, fingerprint: &Fingerprint, owner: &str, suppressed_before: u64) {
        if let Some(store) = &self.shared {
            if let Err(e) = store.release(&fingerprint.to_string(), owner, suppressed_before).await {
                tracing::warn!(fingerprint = %fingerprint, error = %e, "could not release the flood window; the retry of this batch owns it");
            }
        }
    }

    /// An alert of `fingerprint` went out: its window opens here, and the shared one is
    /// marked delivered so a retry in another container does not page again.
    pub async fn delivered(&self, fingerprint: &Fingerprint, owner: &str, now: u64) {
        if let Ok(mut windows) = self.local.lock() {
            windows.alerted(fingerprint, now);
        }
        if let Some(store) = &self.shared {
            if let Err(e) = store.delivered(&fingerprint.to_string(), owner).await {
                tracing::warn!(fingerprint = %fingerprint, error = %e, "could not mark the flood window delivered");
            }
        }
    }

    /// `repeats` more of `fingerprint` were counted, not sent: here and in the shared windows.
    pub async fn count(&self, fingerprint: &Fingerprint, repeats: u64) {
        if let Ok(mut windows) = self.local.lock() {
            windows.suppressed(fingerprint, repeats);
        }
        if let Some(store) = &self.shared {
            if let Err(e) = store.count(&fingerprint.to_string(), repeats).await {
                tracing::warn!(fingerprint = %fingerprint, repeats, error = %e, "could not count repeats in the flood windows table");
            }
        }
    }

    /// The note an alert standing for `in_batch` denials carries about its repeats.
    pub fn repeats_note(&self, in_batch: u64, suppressed_before: u64) -> Option<String> {
        flood::repeats_note(in_batch, suppressed_before, self.window.as_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BoxFuture;
    use std::sync::{Arc, Mutex as StdMutex};

    fn fingerprint() -> Fingerprint {
        Fingerprint { cause: "missing-iam-permission", cluster: "prod".into(), principal: "arn:aws:iam::1:role/r".into() }
    }

    /// A table that is down, recording what it was asked.
    #[derive(Clone, Default)]
    struct Down(Arc<StdMutex<Vec<&'static str>>>);

    impl FloodStore for Down {
        fn claim<'a>(&'a self, _: &'a str, _: &'a str, _: u64, _: u64) -> BoxFuture<'a, Result<Decision, String>> {
            self.0.lock().unwrap().push("claim");
            Box::pin(async { Err("ServiceUnavailable: down".to_string()) })
        }
        fn count<'a>(&'a self, _: &'a str, _: u64) -> BoxFuture<'a, Result<(), String>> {
            self.0.lock().unwrap().push("count");
            Box::pin(async { Err("down".to_string()) })
        }
        fn delivered<'a>(&'a self, _: &'a str, _: &'a str) -> BoxFuture<'a, Result<(), String>> {
            self.0.lock().unwrap().push("delivered");
            Box::pin(async { Err("down".to_string()) })
        }
        fn release<'a>(&'a self, _: &'a str, _: &'a str, _: u64) -> BoxFuture<'a, Result<(), String>> {
            self.0.lock().unwrap().push("release");
            Box::pin(async { Err("down".to_string()) })
        }
    }

    #[tokio::test]
    async fn a_repeat_within_the_window_is_counted_and_the_next_alert_says_how_many() {
        let gate = FloodGate::new(Duration::from_secs(300));
        let f = fingerprint();
        assert_eq!(gate.decide(&f, "e1", 1000).await, Decision::Alert { suppressed_before: 0 });
        gate.delivered(&f, "e1", 1000).await;
        assert_eq!(gate.decide(&f, "e2", 1299).await, Decision::Suppress);
        gate.count(&f, 3).await;
        assert_eq!(gate.decide(&f, "e3", 1300).await, Decision::Alert { suppressed_before: 3 });
        assert!(gate.repeats_note(1, 3).is_some_and(|note| note.contains('3')));
    }

    #[tokio::test]
    async fn an_undelivered_alert_opens_no_window() {
        let gate = FloodGate::new(Duration::from_secs(300));
        assert!(matches!(gate.decide(&fingerprint(), "e1", 1000).await, Decision::Alert { .. }));
        assert!(matches!(gate.decide(&fingerprint(), "e1", 1001).await, Decision::Alert { .. }));
    }

    #[tokio::test]
    async fn a_window_of_zero_never_suppresses() {
        let gate = FloodGate::new(Duration::ZERO);
        gate.delivered(&fingerprint(), "e1", 1000).await;
        assert_eq!(gate.decide(&fingerprint(), "e2", 1000).await, Decision::Alert { suppressed_before: 0 });
    }

    #[tokio::test]
    async fn with_the_table_down_this_containers_windows_decide() {
        let table = Down::default();
        let mut gate = FloodGate::new(Duration::from_secs(300));
        gate.share(Box::new(table.clone()));
        let f = fingerprint();
        assert!(matches!(gate.decide(&f, "e1", 1000).await, Decision::Alert { .. }));
        gate.delivered(&f, "e1", 1000).await;
        assert_eq!(gate.decide(&f, "e2", 1001).await, Decision::Suppress);
        gate.count(&f, 1).await;
        gate.release(&f, "e2", 0).await;
        assert_eq!(*table.0.lock().unwrap(), ["claim", "delivered", "claim", "count", "release"]);
    }
}
