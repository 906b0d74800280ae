//! Enrichment: the live facts an event's triage planned, within the deployment's time
//! budget, and the cluster bindings granted authenticator lines are judged on, read at
//! most once a minute per cluster in a container.

use crate::enrich::{gather, Home, Lookups};
use eks_access_doctor_core::event::Event;
use eks_access_doctor_core::facts::{Fact, Facts, Lookup, LookupPlan};
use eks_access_doctor_core::kubernetes::Binding;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// How long the bindings read for granted authenticator lines serve later lines of
/// the same cluster: a busy cluster logs a grant every few seconds, and one read a
/// minute is enough to judge them (an alert's own repeats wait a whole flood window).
pub const GRANT_BINDINGS_TTL_SECS: u64 = 60;
/// Clusters whose bindings are kept for granted lines, at most.
const GRANT_BINDINGS_CLUSTERS: usize = 64;

/// The bindings read for granted lines, by region and cluster: when, and the answer.
type GrantBindings = HashMap<(String, String), (u64, Lookup<Vec<Binding>>)>;

pub struct Enrichment {
    lookups: Box<dyn Lookups>,
    budget: Duration,
    grant_bindings: Mutex<GrantBindings>,
}

impl Enrichment {
    pub fn new(lookups: Box<dyn Lookups>, budget: Duration) -> Enrichment {
        Enrichment { lookups, budget, grant_bindings: Mutex::default() }
    }

    /// The facts `plan` asks for, each `NotChecked` when the budget ran out first.
    pub async fn gather(&self, event: &Event, plan: LookupPlan, home: &Home) -> Facts {
        gather(self.lookups.as_ref(), event, plan, self.budget, home).await
    }

    /// The cluster's bindings for granted lines: read at most once per
    /// `GRANT_BINDINGS_TTL_SECS` per cluster (a failed read too, so a broken API is not
    /// asked again for every batch). `NotChecked` without Kubernetes access.
    pub async fn bindings_for_grants(&self, event: &Event, home: &Home, now: u64) -> Lookup<Vec<Binding>> {
        let key = (event.region.clone(), event.cluster.clone().unwrap_or_default());
        let fresh = |at: u64| now.saturating_sub(at) < GRANT_BINDINGS_TTL_SECS;
        if let Some((_, answer)) = self.grant_bindings.lock().ok().and_then(|c| c.get(&key).filter(|(at, _)| fresh(*at)).cloned()) {
            return answer;
        }
        let answer = self.gather(event, LookupPlan::new(event, [Fact::Bindings]), home).await.bindings;
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
