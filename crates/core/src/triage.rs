//! The first stage of handling an event, and its only diagnosis without live facts.
//! It says which problem this is (the fingerprint its alert goes under, so a repeat
//! costs no lookups), which lookups would sharpen the advice, and whether a created
//! entry needs a second look later. Pure: the function, the CLI and tests share it.

use crate::catalogue;
use crate::event::Event;
use crate::facts::{Facts, LookupPlan};
use crate::finding::Finding;
use crate::flood::Fingerprint;
use crate::render::Diagnosis;

/// Which findings reach people: the deployment's `MIN_SEVERITY` and `MUTED_CAUSES`.
pub type Wanted<'a> = &'a dyn Fn(&Finding) -> bool;

/// An event diagnosed once, without live facts.
#[derive(Debug)]
pub struct Triage {
    /// The findings without live facts, wanted or not.
    pub offline: Vec<Finding>,
    /// The fingerprint of the first wanted offline finding; `None` when only live
    /// facts can tell (a cause that matches on a live fact alone, or nothing wanted).
    pub fingerprint: Option<Fingerprint>,
    /// The lookups the offline findings, and the causes that match on live facts alone, call for.
    pub plan: LookupPlan,
    /// Whether a cause asks to look at the created entry again after a delay.
    pub second_look: bool,
}

impl Triage {
    pub fn of(event: &Event, wanted: Wanted) -> Triage {
        let offline = catalogue::diagnose(event, &Facts::default());
        let fingerprint = offline.iter().find(|f| wanted(f)).map(|f| Fingerprint::of(event, f.cause.id));
        let plan = catalogue::lookup_plan_for(event, &offline);
        Triage { fingerprint, plan, second_look: catalogue::wants_second_look(event), offline }
    }
}

/// The event diagnosed on `facts`, keeping the wanted findings; `None` when none is left.
pub fn conclude(event: Event, facts: &Facts, wanted: Wanted) -> Option<Diagnosis> {
    let mut diagnosis = crate::diagnose(event, facts);
    diagnosis.findings.retain(|f| wanted(f));
    (!diagnosis.findings.is_empty()).then_some(diagnosis)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;
    use crate::input::{parse_envelope, Parsed};

    fn sample(name: &str) -> Event {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events").join(name);
        match parse_envelope(&std::fs::read_to_string(&path).unwrap()) {
            Ok(Parsed::Event(event)) => *event,
            other => panic!("{}: {other:?}", path.display()),
        }
    }

    #[test]
    fn the_fingerprint_is_the_first_wanted_finding_offline() {
        let event = sample("reserved-username-prefix.json");
        let all = Triage::of(&event, &|_| true);
        let first = all.offline[0].cause.id;
        assert_eq!(all.fingerprint, Some(Fingerprint::of(&event, first)));
        let muted = Triage::of(&event, &|f| f.cause.id != first);
        assert_ne!(muted.fingerprint.map(|f| f.cause), Some(first));
        assert!(Triage::of(&event, &|f| f.severity() < Severity::Info).fingerprint.is_none());
        assert!(!all.second_look);
    }

    #[test]
    fn a_cause_that_matches_on_a_live_fact_alone_plans_its_lookup_without_a_fingerprint() {
        // A successful DeleteAccessEntry of a node role: only the live principal says so.
        let event = sample("node-entry-deleted.json");
        let triage = Triage::of(&event, &|_| true);
        assert!(triage.fingerprint.is_none(), "{:?}", triage.offline);
        assert!(triage.plan.principal, "{:?}", triage.plan);
    }

    #[test]
    fn a_created_entry_a_cause_watches_asks_for_a_second_look() {
        let triage = Triage::of(&sample("access-entry-grants-nothing.json"), &|_| true);
        assert!(triage.second_look);
    }

    #[test]
    fn conclude_keeps_only_what_is_wanted() {
        let event = sample("reserved-username-prefix.json");
        assert!(conclude(event.clone(), &Facts::default(), &|_| false).is_none());
        let diagnosis = conclude(event, &Facts::default(), &|_| true).unwrap();
        assert_eq!(diagnosis.findings[0].cause.id, "reserved-username-prefix");
    }
}
