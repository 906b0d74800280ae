//! Delivery: every finding to every sink that wants it (Slack routes share them out),
//! each part counted in the metrics. A retry after a partial failure re-sends only the
//! parts that failed, as the claims remember them.

use super::claims::Claims;
use crate::idempotency::part_key;
use crate::metrics::{self, Metrics};
use crate::{DeliveryError, Sink};
use eks_access_doctor_core::render::Diagnosis;

pub struct Delivery {
    sinks: Vec<Box<dyn Sink>>,
    metrics: Metrics,
}

impl Delivery {
    pub fn new(sinks: Vec<Box<dyn Sink>>) -> Delivery {
        Delivery { sinks, metrics: Metrics::off() }
    }

    /// Counts deliveries, findings and repeats in `metrics`.
    pub fn measure(&mut self, metrics: Metrics) {
        self.metrics = metrics;
    }

    pub async fn deliver(&self, diagnosis: &Diagnosis, claims: &Claims) -> Result<(), Vec<DeliveryError>> {
        let event_id = &diagnosis.event.event_id;
        let mut errors = Vec::new();
        let mut delivered = Vec::new();
        for finding in &diagnosis.findings {
            for sink in &self.sinks {
                let part = (finding.cause.id, sink.name());
                if !sink.wants(diagnosis, finding) || claims.part_sent(event_id, part) {
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
            claims.parts_sent(event_id, delivered);
            return Err(errors);
        }
        claims.all_parts_sent(event_id);
        self.metrics.findings(diagnosis);
        Ok(())
    }

    /// Takes in the parts an earlier attempt (maybe in another container) delivered,
    /// as the shared record names them.
    pub fn resume(&self, diagnosis: &Diagnosis, delivered: &[String], claims: &Claims) {
        if delivered.is_empty() {
            return;
        }
        let parts = diagnosis
            .findings
            .iter()
            .flat_map(|f| self.sinks.iter().map(move |s| (f.cause.id, s.name())))
            .filter(|part| delivered.contains(&part_key(*part)))
            .collect();
        claims.parts_sent(&diagnosis.event.event_id, parts);
    }

    /// `repeats` of `cause` were counted, not sent.
    pub fn suppressed(&self, cause: &str, repeats: u64) {
        self.metrics.suppressed(cause, repeats);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BoxFuture;
    use eks_access_doctor_core::finding::Finding;
    use eks_access_doctor_core::input::{parse_envelope, Parsed};
    use std::sync::{Arc, Mutex};

    /// A sink that fails its first `failures` publishes, and keeps what it sent.
    struct Flaky {
        name: &'static str,
        failures: Mutex<u32>,
        sent: Arc<Mutex<Vec<&'static str>>>,
    }

    impl Sink for Flaky {
        fn name(&self) -> &'static str {
            self.name
        }
        fn publish<'a>(&'a self, _: &'a Diagnosis, finding: &'a Finding) -> BoxFuture<'a, Result<(), DeliveryError>> {
            Box::pin(async move {
                let mut failures = self.failures.lock().unwrap();
                if *failures > 0 {
                    *failures -= 1;
                    return Err(DeliveryError { sink: self.name, message: "503".into() });
                }
                self.sent.lock().unwrap().push(finding.cause.id);
                Ok(())
            })
        }
    }

    fn diagnosis() -> Diagnosis {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/reserved-username-prefix.json");
        let Ok(Parsed::Event(event)) = parse_envelope(&std::fs::read_to_string(path).unwrap()) else { panic!("sample") };
        eks_access_doctor_core::diagnose(*event, &Default::default())
    }

    #[tokio::test]
    async fn a_retry_after_a_partial_failure_sends_only_what_failed() {
        let (good, flaky) = (Arc::default(), Arc::default());
        let delivery = Delivery::new(vec![
            Box::new(Flaky { name: "sns", failures: Mutex::new(0), sent: Arc::clone(&good) }),
            Box::new(Flaky { name: "slack:oncall", failures: Mutex::new(1), sent: Arc::clone(&flaky) }),
        ]);
        let (claims, diagnosis) = (Claims::default(), diagnosis());
        let findings = diagnosis.findings.len();
        let failed = delivery.deliver(&diagnosis, &claims).await.unwrap_err();
        assert_eq!(failed.len(), 1);
        assert_eq!(good.lock().unwrap().len(), findings);
        delivery.deliver(&diagnosis, &claims).await.unwrap();
        assert_eq!(good.lock().unwrap().len(), findings, "the sink that succeeded is not sent to again");
        assert_eq!(flaky.lock().unwrap().len(), findings);
    }

    #[test]
    fn the_parts_another_container_sent_are_taken_in() {
        let delivery = Delivery::new(vec![Box::new(Flaky { name: "sns", failures: Mutex::new(0), sent: Arc::default() })]);
        let (claims, diagnosis) = (Claims::default(), diagnosis());
        let cause = diagnosis.findings[0].cause.id;
        delivery.resume(&diagnosis, &[format!("{cause}|sns")], &claims);
        assert!(claims.part_sent(&diagnosis.event.event_id, (cause, "sns")));
    }
}
