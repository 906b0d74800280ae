//! Floods: `kubectl` retries and controllers reconcile, so one denial arrives many
//! times a minute. One alert per fingerprint per window; every repeat in between is
//! counted, and the count reaches people in the next alert of that fingerprint.
//! Pure: time is a parameter, so the rules are tested without clocks.

use crate::event::Event;
use std::collections::{HashMap, VecDeque};
use std::fmt;

/// What makes two events "the same problem": the cause, the cluster and the
/// principal (the caller's ARN when the evidence names no principal).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    pub cause: &'static str,
    pub cluster: String,
    pub principal: String,
}

impl Fingerprint {
    /// `cause` is the id of the event's first (most severe) finding.
    /// An audit's flags are each their own problem: two flags of one principal are two
    /// fingerprints.
    pub fn of(event: &Event, cause: &'static str) -> Fingerprint {
        let principal = event.principal_arn.clone().or_else(|| event.caller.clone()).unwrap_or_default();
        let principal = match event.audit.as_deref() {
            Some(notice) => format!("{} {}", notice.principal, notice.flag.id()),
            None => principal,
        };
        Fingerprint { cause, cluster: event.cluster.clone().unwrap_or_default(), principal }
    }
}

impl Fingerprint {
    /// A short, opaque id of this fingerprint: FNV-1a (128 bits) over its length-prefixed
    /// fields, so it is the same in every container and release, and an event value can
    /// neither lengthen it nor make two fingerprints collide by shifting a separator.
    /// Chat clients thread the alerts of one problem together by it.
    pub fn stable_id(&self) -> String {
        let mut hash = FNV_OFFSET;
        for field in [self.cause, &self.cluster, &self.principal] {
            hash = fnv1a(hash, &(field.len() as u64).to_le_bytes());
            hash = fnv1a(hash, field.as_bytes());
        }
        format!("{hash:032x}")
    }
}

/// FNV-1a, 128 bits: the published offset basis and prime.
const FNV_OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
const FNV_PRIME: u128 = 0x0000000001000000000000000000013b;

fn fnv1a(hash: u128, bytes: &[u8]) -> u128 {
    bytes.iter().fold(hash, |hash, byte| (hash ^ u128::from(*byte)).wrapping_mul(FNV_PRIME))
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}|{}|{}", self.cause, self.cluster, self.principal)
    }
}

/// Whether to alert now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Alert; `suppressed_before` repeats were counted since the last alert.
    Alert { suppressed_before: u64 },
    /// An alert for this fingerprint went out less than a window ago: count, do not send.
    Suppress,
}

#[derive(Clone, Copy, Debug)]
struct Open {
    alerted_at: u64,
    suppressed: u64,
}

/// The open windows of one container, at most `CAPACITY`, oldest forgotten first (a
/// forgotten window means one extra alert, never a lost one).
#[derive(Debug)]
pub struct Windows {
    window_secs: u64,
    open: HashMap<Fingerprint, Open>,
    order: VecDeque<Fingerprint>,
}

impl Windows {
    pub const CAPACITY: usize = 4096;

    pub fn new(window_secs: u64) -> Windows {
        Windows { window_secs, open: HashMap::new(), order: VecDeque::new() }
    }

    pub fn decide(&self, fingerprint: &Fingerprint, now: u64) -> Decision {
        match self.open.get(fingerprint) {
            Some(open) if now < open.alerted_at.saturating_add(self.window_secs) => Decision::Suppress,
            Some(open) => Decision::Alert { suppressed_before: open.suppressed },
            None => Decision::Alert { suppressed_before: 0 },
        }
    }

    /// An alert was delivered: a new window opens and the count starts again.
    pub fn alerted(&mut self, fingerprint: &Fingerprint, now: u64) {
        if self.open.insert(fingerprint.clone(), Open { alerted_at: now, suppressed: 0 }).is_none() {
            self.order.push_back(fingerprint.clone());
            if self.order.len() > Self::CAPACITY {
                if let Some(old) = self.order.pop_front() {
                    self.open.remove(&old);
                }
            }
        }
    }

    /// `count` repeats were not sent.
    pub fn suppressed(&mut self, fingerprint: &Fingerprint, count: u64) {
        if let Some(open) = self.open.get_mut(fingerprint) {
            open.suppressed = open.suppressed.saturating_add(count);
        }
    }
}

/// The note an alert carries about its repeats.
pub fn repeats_note(in_batch: u64, suppressed_before: u64, window_secs: u64) -> Option<String> {
    let mut parts = Vec::new();
    if in_batch > 1 {
        parts.push(format!("{in_batch} identical denials arrived together; this alert stands for all of them"));
    }
    if suppressed_before > 0 {
        parts.push(format!("{suppressed_before} more since the previous alert were counted, not sent"));
    }
    let window = match window_secs {
        s if s >= 60 && s % 60 == 0 => format!("{} minutes", s / 60),
        s => format!("{s} seconds"),
    };
    (!parts.is_empty()).then(|| format!("Repeats: {}. One alert per cause, cluster and principal every {window}.", parts.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(principal: &str) -> Fingerprint {
        Fingerprint { cause: "identity-not-mapped", cluster: "prod".into(), principal: principal.into() }
    }

    #[test]
    fn one_alert_per_window_and_the_count_reaches_the_next() {
        let mut windows = Windows::new(900);
        let a = fp("arn:aws:iam::1:role/a");
        assert_eq!(windows.decide(&a, 1000), Decision::Alert { suppressed_before: 0 });
        windows.alerted(&a, 1000);
        assert_eq!(windows.decide(&a, 1001), Decision::Suppress);
        windows.suppressed(&a, 999);
        assert_eq!(windows.decide(&a, 1899), Decision::Suppress);
        assert_eq!(windows.decide(&fp("arn:aws:iam::1:role/b"), 1001), Decision::Alert { suppressed_before: 0 });
        assert_eq!(windows.decide(&a, 1900), Decision::Alert { suppressed_before: 999 });
        windows.alerted(&a, 1900);
        assert_eq!(windows.decide(&a, 2800), Decision::Alert { suppressed_before: 0 });
    }

    #[test]
    fn windows_are_bounded() {
        let mut windows = Windows::new(900);
        for i in 0..Windows::CAPACITY + 10 {
            windows.alerted(&fp(&i.to_string()), 0);
        }
        assert_eq!(windows.open.len(), Windows::CAPACITY);
        assert_eq!(windows.decide(&fp("0"), 1), Decision::Alert { suppressed_before: 0 });
        assert_eq!(windows.decide(&fp(&(Windows::CAPACITY + 9).to_string()), 1), Decision::Suppress);
    }

    #[test]
    fn stable_ids_are_fixed_and_tell_fields_apart() {
        // The FNV test vector for "a", and a value computed by an independent implementation.
        assert_eq!(format!("{:032x}", fnv1a(FNV_OFFSET, b"a")), "d228cb696f1a8caf78912b704e4a8964");
        assert_eq!(fp("arn:aws:iam::1:role/a").stable_id(), "f7fd097fc8dccb0d5541ebee03d7d170");
        assert_ne!(fp("arn:aws:iam::1:role/a").stable_id(), fp("arn:aws:iam::1:role/b").stable_id());
        let fields = |cluster: &str, principal: &str| Fingerprint { cause: "c", cluster: cluster.into(), principal: principal.into() };
        assert_ne!(fields("ab", "c").stable_id(), fields("a", "bc").stable_id());
    }

    #[test]
    fn notes_say_how_many() {
        assert_eq!(repeats_note(1, 0, 900), None);
        let note = repeats_note(1000, 20, 900).unwrap();
        assert!(note.contains("1000 identical denials") && note.contains("20 more") && note.contains("15 minutes"), "{note}");
        assert!(repeats_note(2, 0, 30).unwrap().contains("every 30 seconds"));
    }
}
