//! The organization scan's two steps in the function (the Step Functions Distributed
//! Map in template.yaml drives them). `scan`: read archive objects from S3, diagnose
//! them as `replay --only-findings --format json` would, and leave the findings of
//! each object as NDJSON under `RESULTS/RUN/findings/KEY.ndjson` (and its unreadable
//! records under `RESULTS/RUN/errors/KEY.txt`); objects with neither leave nothing.
//! `summarize`: add up what the scan left into `RESULTS/RUN/summary.json`. The
//! results live in S3, not in the Map's output, so the scan needs neither the Map's
//! `ResultWriter` nor its 256 KiB output limit, whatever the archive's size.

use super::s3::{self, ObjectRef, S3Error, S3Url};
use crate::replay::{self, Format, Options, Summary};
use crate::finding::Severity;
use aws_sdk_s3::Client;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One invocation's work: one object (a Map item) or a batch (an `ItemBatcher` batch).
#[derive(Debug, Deserialize, PartialEq)]
pub struct ScanRequest {
    pub bucket: String,
    #[serde(default)]
    pub key: Option<String>,
    /// Items as the S3 `ItemReader` lists them (`{"Key": …, "Size": …}`), batched.
    #[serde(default)]
    pub items: Vec<Item>,
    pub results_bucket: String,
    #[serde(default)]
    pub results_prefix: String,
    /// The execution's name: each run's results stay apart.
    pub run: String,
}

#[derive(Debug, Deserialize, PartialEq)]
pub struct Item {
    #[serde(rename = "Key")]
    pub key: String,
}

/// The closing step: where the run's results are, and the archive it read.
#[derive(Debug, Deserialize, PartialEq)]
pub struct SummaryRequest {
    pub bucket: String,
    #[serde(default)]
    pub prefix: String,
    pub results_bucket: String,
    #[serde(default)]
    pub results_prefix: String,
    pub run: String,
}

#[derive(Debug, PartialEq)]
pub enum Request {
    Scan(ScanRequest),
    Summarize(SummaryRequest),
}

/// `{"scan": …}` or `{"scan_summary": …}`; `None` for every other payload (events).
pub fn request(payload: &str) -> Option<Result<Request, String>> {
    #[derive(Deserialize)]
    struct Envelope {
        scan: Option<serde_json::Value>,
        scan_summary: Option<serde_json::Value>,
    }
    let envelope: Envelope = serde_json::from_str(payload).ok()?;
    fn read<T: serde::de::DeserializeOwned>(value: serde_json::Value, what: &str) -> Result<T, String> {
        serde_json::from_value(value).map_err(|e| format!("{what} request: {e}"))
    }
    match (envelope.scan, envelope.scan_summary) {
        (Some(scan), None) => Some(read(scan, "scan").map(Request::Scan)),
        (None, Some(summary)) => Some(read(summary, "scan_summary").map(Request::Summarize)),
        (Some(_), Some(_)) => Some(Err("a payload is either a scan or a scan_summary request, not both".to_string())),
        (None, None) => None,
    }
}

/// What a scan step read: the replay summary of its objects.
pub type ScanReport = Summary;

/// What the whole run found, as left in `summary.json`.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub run: String,
    pub archive: String,
    pub archive_objects: usize,
    pub archive_bytes: u64,
    pub objects_with_findings: usize,
    pub events_with_findings: usize,
    pub findings: BTreeMap<String, usize>,
    pub objects_with_errors: usize,
    /// The first unreadable-record messages (all of them are in `errors/`).
    pub errors: Vec<String>,
    pub results: String,
}

/// How many error lines the summary quotes.
const QUOTED_ERRORS: usize = 100;

fn run_prefix(results_prefix: &str, run: &str) -> String {
    let base = results_prefix.trim_end_matches('/');
    if base.is_empty() {
        format!("{run}/")
    } else {
        format!("{base}/{run}/")
    }
}

/// Diagnoses each object of the request, in order, one in memory at a time. A
/// corrupt object is counted and its errors kept; an object S3 will not give fails
/// the step, so Step Functions retries it and, in the end, the run says so.
pub async fn scan(client: &Client, request: &ScanRequest) -> Result<ScanReport, S3Error> {
    let options = Options { format: Format::Json, min_severity: Severity::Info, only_findings: true, color: false };
    let keys = request.key.iter().chain(request.items.iter().map(|item| &item.key));
    let run = run_prefix(&request.results_prefix, &request.run);
    let archive = S3Url { bucket: request.bucket.clone(), prefix: String::new() };
    let mut report = ScanReport::default();
    for key in keys {
        let bytes = s3::get(client, &request.bucket, key).await?;
        let rendered = replay::replay_bytes(&archive.object_name(key), &bytes, &options);
        if !rendered.output.is_empty() {
            s3::put(client, &request.results_bucket, &format!("{run}findings/{key}.ndjson"), rendered.output.into_bytes(), "application/x-ndjson")
                .await?;
        }
        if !rendered.errors.is_empty() {
            let text = rendered.errors.join("\n") + "\n";
            s3::put(client, &request.results_bucket, &format!("{run}errors/{key}.txt"), text.into_bytes(), "text/plain; charset=utf-8").await?;
        }
        report.add(rendered.summary);
    }
    Ok(report)
}

/// Adds up a run's results and leaves them in `summary.json` beside them.
pub async fn summarize(client: &Client, request: &SummaryRequest) -> Result<RunSummary, S3Error> {
    let run = run_prefix(&request.results_prefix, &request.run);
    let archive = S3Url { bucket: request.bucket.clone(), prefix: request.prefix.clone() };
    let listed = s3::list(client, &archive).await?;
    let mut summary = RunSummary {
        run: request.run.clone(),
        archive: archive.to_string(),
        archive_objects: listed.len(),
        archive_bytes: listed.iter().map(|o| o.size).sum(),
        results: format!("s3://{}/{run}", request.results_bucket),
        ..RunSummary::default()
    };
    let results = |folder: &str| S3Url { bucket: request.results_bucket.clone(), prefix: format!("{run}{folder}/") };
    for ObjectRef { key, .. } in s3::list(client, &results("findings")).await? {
        summary.objects_with_findings += 1;
        let text = s3::get(client, &request.results_bucket, &key).await?;
        for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            summary.events_with_findings += 1;
            for cause in causes_of(line) {
                *summary.findings.entry(cause).or_default() += 1;
            }
        }
    }
    for ObjectRef { key, .. } in s3::list(client, &results("errors")).await? {
        summary.objects_with_errors += 1;
        if summary.errors.len() < QUOTED_ERRORS {
            let text = s3::get(client, &request.results_bucket, &key).await?;
            let room = QUOTED_ERRORS - summary.errors.len();
            summary.errors.extend(String::from_utf8_lossy(&text).lines().take(room).map(str::to_string));
        }
    }
    let body = serde_json::to_vec_pretty(&summary).unwrap_or_default();
    s3::put(client, &request.results_bucket, &format!("{run}summary.json"), body, "application/json").await?;
    Ok(summary)
}

/// The cause ids of one output line (the `replay --format json` contract).
fn causes_of(line: &[u8]) -> Vec<String> {
    #[derive(Deserialize)]
    struct Line {
        findings: Vec<Cause>,
    }
    #[derive(Deserialize)]
    struct Cause {
        cause: String,
    }
    serde_json::from_slice::<Line>(line).map(|l| l.findings.into_iter().map(|f| f.cause).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests() {
        assert_eq!(request(r#"{"detail-type":"AWS API Call via CloudTrail"}"#), None);
        assert_eq!(request("not json"), None);
        let one = request(r#"{"scan":{"bucket":"a","key":"k.json.gz","results_bucket":"r","run":"x"}}"#).unwrap().unwrap();
        assert!(matches!(one, Request::Scan(ScanRequest { key: Some(_), .. })));
        let batch = request(r#"{"scan":{"bucket":"a","items":[{"Key":"1","Size":3},{"Key":"2"}],"results_bucket":"r","run":"x"}}"#).unwrap().unwrap();
        assert!(matches!(batch, Request::Scan(ScanRequest { ref items, .. }) if items.len() == 2));
        assert!(request(r#"{"scan":{"key":"k"}}"#).unwrap().unwrap_err().contains("bucket"));
        assert!(request(r#"{"scan":{},"scan_summary":{}}"#).unwrap().is_err());
    }

    #[test]
    fn run_prefixes() {
        assert_eq!(run_prefix("", "r1"), "r1/");
        assert_eq!(run_prefix("scans/", "r1"), "scans/r1/");
    }

    #[test]
    fn causes_from_output_lines() {
        assert_eq!(causes_of(br#"{"event_id":"e","findings":[{"cause":"a"},{"cause":"b"}]}"#), ["a", "b"]);
        assert!(causes_of(b"garbage").is_empty());
    }
}
