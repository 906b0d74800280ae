//! Metrics at no API cost: one CloudWatch Embedded Metric Format (EMF) line on stdout
//! per finding delivered, per delivery attempt and per set of repeats counted, not
//! sent. Lambda sends stdout to CloudWatch Logs, which turns each line into metrics;
//! the function needs no `cloudwatch:PutMetricData` and makes no call.
//!
//! The format (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>):
//! one JSON object per log event, with `_aws` = {`Timestamp` (milliseconds since the
//! epoch), `CloudWatchMetrics` = [{`Namespace`, `Dimensions` (sets of names, at most
//! 30 each), `Metrics` (at most 100 {`Name`, `Unit`})}]} and, as top-level members,
//! every dimension named (a string of at most 1,024 characters) and every metric
//! named (a number). Other members are kept in the log and ignored by CloudWatch.
//!
//! Cardinality: each distinct dimension value is a custom metric, billed monthly.
//! Cause, severity, sink and outcome come from this code. Cluster names come from
//! events that anyone able to call the EKS API can shape, so a cluster is named only
//! when it is a valid EKS cluster name matching `METRIC_CLUSTERS` (default:
//! `INCLUDE_CLUSTERS`), and at most `MAX_NAMED_CLUSTERS` per container; every other
//! finding counts under `(other)`, or `(unknown)` when the event names no cluster
//! (neither can be a cluster's name).

use super::routing::glob;
use eks_access_doctor_core::finding::Finding;
use eks_access_doctor_core::render::Diagnosis;
use serde::Serialize;
use std::collections::HashSet;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// One namespace for every stack in a region: the dashboard searches it.
pub const NAMESPACE: &str = "EksAccessDoctor";

/// Findings of clusters not named in metrics.
pub const OTHER_CLUSTER: &str = "(other)";
/// Findings of events that name no cluster.
pub const UNKNOWN_CLUSTER: &str = "(unknown)";

/// Distinct cluster names one container puts in metrics; later ones count as `(other)`.
pub const MAX_NAMED_CLUSTERS: usize = 50;

/// CloudWatch units this code uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Unit {
    Count,
}

/// A metric this code emits: its name, unit, and the dimension sets it is published under.
#[derive(Debug)]
pub struct Metric {
    pub name: &'static str,
    pub unit: Unit,
    pub dimensions: &'static [&'static [&'static str]],
}

/// Findings of delivered events; the empty set is the total.
pub const FINDINGS: Metric = Metric { name: "Findings", unit: Unit::Count, dimensions: &[&[], &["Cause"], &["Severity"], &["Cluster"]] };
/// Delivery attempts, one per finding and sink, by `delivered` or `failed`.
pub const DELIVERIES: Metric = Metric { name: "Deliveries", unit: Unit::Count, dimensions: &[&["Sink", "Outcome"], &["Outcome"]] };
/// Repeats counted, not sent: an alert for the same cause, cluster and principal went out within the flood window.
pub const SUPPRESSED_REPEATS: Metric = Metric { name: "SuppressedRepeats", unit: Unit::Count, dimensions: &[&[], &["Cause"]] };

/// Every metric emitted. The dashboard graphs these and no others (`tests/it/template.rs`).
pub const ALL: [&Metric; 3] = [&FINDINGS, &DELIVERIES, &SUPPRESSED_REPEATS];

/// Whether a delivery attempt got through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Delivered,
    Failed,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct FindingRecord<'a> {
    cause: &'a str,
    severity: &'a str,
    cluster: &'a str,
    findings: u64,
    event_id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DeliveryRecord<'a> {
    sink: &'a str,
    outcome: Outcome,
    deliveries: u64,
    cause: &'a str,
    event_id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SuppressedRecord<'a> {
    cause: &'a str,
    suppressed_repeats: u64,
}

#[derive(Serialize)]
struct Document<'a, R> {
    #[serde(rename = "_aws")]
    aws: Metadata,
    #[serde(flatten)]
    record: &'a R,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Metadata {
    timestamp: u64,
    cloud_watch_metrics: [Directive; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Directive {
    namespace: &'static str,
    dimensions: &'static [&'static [&'static str]],
    metrics: [Definition; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Definition {
    name: &'static str,
    unit: Unit,
}

/// One EMF document for `metric`, whose value and dimensions are `record`'s members.
fn document<R: Serialize>(metric: &Metric, record: &R, timestamp: u64) -> String {
    let directive =
        Directive { namespace: NAMESPACE, dimensions: metric.dimensions, metrics: [Definition { name: metric.name, unit: metric.unit }] };
    let document = Document { aws: Metadata { timestamp, cloud_watch_metrics: [directive] }, record };
    // Strings, numbers and arrays only: serializing cannot fail.
    serde_json::to_string(&document).unwrap_or_default()
}

/// Where the lines go: stdout in the function, memory in tests.
pub trait Emit: Send + Sync {
    fn emit(&self, line: &str);
}

/// Standard output, one whole line per write (the log lines share it).
pub struct Stdout;

impl Emit for Stdout {
    fn emit(&self, line: &str) {
        // A metric that cannot be written must not fail the alert it counts.
        let _ = std::io::stdout().lock().write_all(format!("{line}\n").as_bytes());
    }
}

/// The lines, kept in memory.
#[derive(Clone, Default)]
pub struct Memory(Arc<Mutex<Vec<String>>>);

impl Memory {
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().map(|lines| lines.clone()).unwrap_or_default()
    }
}

impl Emit for Memory {
    fn emit(&self, line: &str) {
        if let Ok(mut lines) = self.0.lock() {
            lines.push(line.to_string());
        }
    }
}

/// The handler's metrics: one call where findings are delivered, deliveries end and
/// repeats are counted. Off, they cost nothing.
pub struct Metrics {
    out: Option<Box<dyn Emit>>,
    clusters: ClusterNames,
}

impl Metrics {
    pub fn off() -> Metrics {
        Metrics { out: None, clusters: ClusterNames::new(Vec::new()) }
    }

    /// `cluster_globs`: the clusters that may be named (`Settings::metric_clusters`).
    pub fn new(out: Box<dyn Emit>, cluster_globs: Vec<String>) -> Metrics {
        Metrics { out: Some(out), clusters: ClusterNames::new(cluster_globs) }
    }

    /// One `Findings` line per finding of an event whose delivery completed: a retried
    /// event is counted once, when it got through.
    pub fn findings(&self, diagnosis: &Diagnosis) {
        let Some(out) = &self.out else { return };
        let cluster = self.clusters.value(diagnosis.event.cluster.as_deref());
        for finding in &diagnosis.findings {
            let record = FindingRecord {
                cause: finding.cause.id,
                severity: finding.severity().as_str(),
                cluster,
                findings: 1,
                event_id: &diagnosis.event.event_id,
            };
            out.emit(&document(&FINDINGS, &record, now_millis()));
        }
    }

    /// One `Deliveries` line per attempt to send a finding to a sink.
    pub fn delivery(&self, sink: &str, diagnosis: &Diagnosis, finding: &Finding, outcome: Outcome) {
        let Some(out) = &self.out else { return };
        let record = DeliveryRecord { sink, outcome, deliveries: 1, cause: finding.cause.id, event_id: &diagnosis.event.event_id };
        out.emit(&document(&DELIVERIES, &record, now_millis()));
    }

    /// One `SuppressedRepeats` line per flood fingerprint whose repeats were counted, not sent.
    pub fn suppressed(&self, cause: &str, repeats: u64) {
        let Some(out) = &self.out else { return };
        out.emit(&document(&SUPPRESSED_REPEATS, &SuppressedRecord { cause, suppressed_repeats: repeats }, now_millis()));
    }
}

/// Which cluster names may be dimension values (see the module's note on cardinality).
struct ClusterNames {
    globs: Vec<String>,
    named: Mutex<HashSet<String>>,
}

impl ClusterNames {
    fn new(globs: Vec<String>) -> ClusterNames {
        ClusterNames { globs, named: Mutex::default() }
    }

    fn value<'a>(&self, cluster: Option<&'a str>) -> &'a str {
        let Some(cluster) = cluster else { return UNKNOWN_CLUSTER };
        if !is_cluster_name(cluster) || !self.globs.iter().any(|p| glob(p, cluster)) {
            return OTHER_CLUSTER;
        }
        let Ok(mut named) = self.named.lock() else { return OTHER_CLUSTER };
        if named.contains(cluster) || (named.len() < MAX_NAMED_CLUSTERS && named.insert(cluster.to_string())) {
            cluster
        } else {
            OTHER_CLUSTER
        }
    }
}

/// EKS's rule for cluster names: 1 to 100 characters, letters, digits, `-` and `_`,
/// starting with a letter or digit. Such a name is also a valid dimension value.
fn is_cluster_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (1..=100).contains(&bytes.len())
        && bytes[0].is_ascii_alphanumeric()
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
}

fn now_millis() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(globs: &[&str]) -> ClusterNames {
        ClusterNames::new(globs.iter().map(|g| g.to_string()).collect())
    }

    #[test]
    fn only_listed_valid_cluster_names_are_named() {
        let clusters = names(&["prod-*", "payments"]);
        assert_eq!(clusters.value(Some("prod-eu")), "prod-eu");
        assert_eq!(clusters.value(Some("payments")), "payments");
        assert_eq!(clusters.value(Some("staging")), OTHER_CLUSTER);
        assert_eq!(clusters.value(None), UNKNOWN_CLUSTER);
        // A glob admits them, EKS would not: not a name, not a dimension value.
        for hostile in ["prod-<!channel>", "prod-é", "prod-\u{0}", format!("prod-{}", "a".repeat(100)).as_str()] {
            assert_eq!(clusters.value(Some(hostile)), OTHER_CLUSTER, "{hostile:?}");
        }
        assert_eq!(names(&[]).value(Some("prod-eu")), OTHER_CLUSTER, "no globs: no names");
    }

    #[test]
    fn a_container_names_at_most_so_many_clusters() {
        let clusters = names(&["*"]);
        for i in 0..MAX_NAMED_CLUSTERS {
            assert_eq!(clusters.value(Some(&format!("c{i}"))), format!("c{i}"));
        }
        assert_eq!(clusters.value(Some("one-too-many")), OTHER_CLUSTER);
        assert_eq!(clusters.value(Some("c0")), "c0", "a name already given stays");
    }

    #[test]
    fn off_writes_nothing_and_costs_nothing() {
        Metrics::off().suppressed("identity-not-mapped", 3);
        let memory = Memory::default();
        Metrics::new(Box::new(memory.clone()), Vec::new()).suppressed("identity-not-mapped", 3);
        assert_eq!(memory.lines().len(), 1);
    }
}
