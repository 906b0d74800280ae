//! The pure core, per event: parse → diagnose → render (Slack, as the function
//! posts it, and terminal text, as `replay` prints it) for every
//! cause fixture in `events/`, and the rejection of unrelated CloudTrail records
//! (the other services' records of `events/cloudtrail/*.json`, as bare records).
//!
//! `cargo bench --bench core` (targets, checked by `scripts/bench`, not here:
//! a typical event ≤ 20 µs end to end; an unrelated record rejected ≤ 1 µs).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use eks_access_doctor_core::facts::Facts;
use eks_access_doctor_core::input::{self, Parsed};
use eks_access_doctor_core::render::{self, Diagnosis};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

fn events_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("events")
}

/// `(id, EventBridge event text)` for every fixture `events/<id>.json`.
fn fixtures() -> Vec<(String, String)> {
    let mut out: Vec<_> = std::fs::read_dir(events_dir())
        .expect("events/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap()))
        .collect();
    out.sort();
    out
}

/// Compact bare records of other services from the bundled CloudTrail log files.
fn unrelated_records() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(events_dir().join("cloudtrail")).expect("events/cloudtrail/") {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let log: serde_json::Value = serde_json::from_str(&text).unwrap();
        for record in log["Records"].as_array().unwrap() {
            if record["eventSource"] != "eks.amazonaws.com" {
                let name = format!("{}:{}", record["eventSource"].as_str().unwrap(), record["eventName"].as_str().unwrap());
                out.push((name, record.to_string()));
            }
        }
    }
    out.sort();
    out
}

fn parse_and_diagnose(raw: &str) -> Diagnosis {
    let Ok(Parsed::Event(event)) = input::parse_envelope(raw) else { panic!("fixture is not an EKS event") };
    eks_access_doctor_core::diagnose(*event, &Facts::default())
}

/// The function's path: every finding's Slack message, as the bytes posted.
fn to_slack(raw: &str) -> Vec<String> {
    let diagnosis = parse_and_diagnose(raw);
    diagnosis.findings.iter().map(|f| render::slack::payload(&diagnosis, f).to_json()).collect()
}

/// `replay`'s default path: the terminal text.
fn to_text(raw: &str) -> String {
    render::text::render(&parse_and_diagnose(raw), false)
}

fn per_cause(c: &mut Criterion) {
    let fixtures = fixtures();
    for (name, render) in [("event-slack", to_slack as fn(&str) -> Vec<String>), ("event-text", |raw| vec![to_text(raw)])] {
        let mut group = c.benchmark_group(name);
        for (id, raw) in &fixtures {
            group.throughput(Throughput::Elements(1));
            group.bench_with_input(BenchmarkId::new("parse+diagnose+render", id), raw, |b, raw| b.iter(|| render(black_box(raw))));
        }
        group.finish();
    }
    // The stages of one typical event, to see where the time goes.
    let raw = std::fs::read_to_string(events_dir().join("reserved-username-prefix.json")).unwrap();
    let mut stages = c.benchmark_group("stage");
    stages.bench_function("parse", |b| b.iter(|| input::parse_envelope(black_box(&raw))));
    let Ok(Parsed::Event(event)) = input::parse_envelope(&raw) else { unreachable!() };
    stages.bench_function("diagnose", |b| b.iter(|| eks_access_doctor_core::diagnose(black_box((*event).clone()), &Facts::default())));
    let diagnosis = eks_access_doctor_core::diagnose(*event, &Facts::default());
    stages.bench_function("render-text", |b| b.iter(|| render::text::render(black_box(&diagnosis), false)));
    stages.bench_function("render-slack", |b| b.iter(|| render::slack::payload(black_box(&diagnosis), &diagnosis.findings[0]).to_json()));
    stages.finish();
}

fn unrelated(c: &mut Criterion) {
    let mut group = c.benchmark_group("unrelated");
    for (name, raw) in unrelated_records() {
        assert!(matches!(input::parse_record(&raw, None), Ok(Parsed::Ignored { .. })), "{name} is not rejected");
        group.throughput(Throughput::Bytes(raw.len() as u64));
        group
            .bench_with_input(BenchmarkId::new("parse_record", &name), &raw, |b, raw| b.iter(|| input::parse_record(black_box(raw), None)));
        group.bench_with_input(BenchmarkId::new("parse_document", &name), &raw, |b, raw| {
            b.iter(|| input::parse_document(black_box(raw.as_bytes())))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(1)).sample_size(30);
    targets = per_cause, unrelated
}
criterion_main!(benches);
