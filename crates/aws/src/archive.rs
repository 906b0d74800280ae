//! The organization scan's two steps in the function (the Step Functions Distributed
//! Map in template.yaml drives them). `scan`: read archive objects from S3, diagnose
//! them as `replay --only-findings --format json` would, and leave the findings of
//! each object as NDJSON under `RESULTS/RUN/findings/KEY.ndjson` (and its unreadable
//! records under `RESULTS/RUN/errors/KEY.txt`); objects with neither leave nothing.
//! `summarize`: add up what the scan left into `RESULTS/RUN/summary.json`. The
//! results live in S3, not in the Map's output, so the scan needs neither the Map's
//! `ResultWriter` nor its 256 KiB output limit, whatever the archive's size.

use super::s3::{self, ObjectRef, S3Error, S3Url};
use aws_sdk_s3::Client;
use eks_access_doctor_core::finding::Severity;
use eks_access_doctor_core::replay::{self, Format, Options, Summary};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One archive object to scan: what the Map's `ItemSelector` makes of each listed object.
#[derive(Debug, Deserialize, PartialEq)]
pub struct ScanRequest {
    pub bucket: String,
    pub key: String,
    pub results_bucket: String,
    #[serde(default)]
    pub results_prefix: String,
    /// The execution's name: each run's results stay apart.
    pub run: String,
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
    /// One object (a Map item) or several (an `ItemBatcher` batch), in order.
    Scan(Vec<ScanRequest>),
    Summarize(SummaryRequest),
}

/// `{"scan": …}`, a batch of them (`{"Items": [{"scan": …}, …], "BatchInput": …}`, as
/// the Map's `ItemBatcher` hands them over on AWS), or `{"scan_summary": …}`; `None` for
/// every other payload (events).
pub fn request(payload: &str) -> Option<Result<Request, String>> {
    #[derive(Deserialize)]
    struct Envelope {
        scan: Option<serde_json::Value>,
        scan_summary: Option<serde_json::Value>,
        #[serde(rename = "Items")]
        items: Option<Vec<Envelope>>,
    }
    fn read<T: serde::de::DeserializeOwned>(value: serde_json::Value, what: &str) -> Result<T, String> {
        serde_json::from_value(value).map_err(|e| format!("{what} request: {e}"))
    }
    let envelope: Envelope = serde_json::from_str(payload).ok()?;
    match envelope {
        Envelope { scan: Some(scan), scan_summary: None, items: None } => Some(read(scan, "scan").map(|one| Request::Scan(vec![one]))),
        Envelope { scan: None, scan_summary: Some(summary), items: None } => Some(read(summary, "scan_summary").map(Request::Summarize)),
        Envelope { scan: None, scan_summary: None, items: Some(items) } => Some(
            items
                .into_iter()
                .map(|item| match item.scan {
                    Some(scan) => read(scan, "scan"),
                    None => Err("a batch item without a scan request".to_string()),
                })
                .collect::<Result<_, _>>()
                .map(Request::Scan),
        ),
        Envelope { scan: None, scan_summary: None, items: None } => None,
        _ => Some(Err("a payload is one of a scan request, a batch of them (Items) or a scan_summary request".to_string())),
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

/// `RESULTS_PREFIX/RUN/`: where a run's results go (the fleet audit's too).
pub(crate) fn run_prefix(results_prefix: &str, run: &str) -> String {
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
pub async fn scan(client: &Client, requests: &[ScanRequest]) -> Result<ScanReport, S3Error> {
    let options = Options { format: Format::Json, min_severity: Severity::Info, only_findings: true, color: false };
    let mut report = ScanReport::default();
    for request in requests {
        let key = &request.key;
        // The state machine lists every object; the local replay's file rule applies here too.
        if !replay::is_event_name(key) {
            continue;
        }
        let run = run_prefix(&request.results_prefix, &request.run);
        let bytes = s3::get(client, &request.bucket, key).await?;
        let name = S3Url { bucket: request.bucket.clone(), prefix: String::new() }.object_name(key);
        let rendered = replay::replay_bytes(&name, &bytes, &options);
        if !rendered.output.is_empty() {
            s3::put(
                client,
                &request.results_bucket,
                &format!("{run}findings/{key}.ndjson"),
                rendered.output.into_bytes(),
                "application/x-ndjson",
            )
            .await?;
        }
        if !rendered.errors.is_empty() {
            let text = rendered.errors.join("\n") + "\n";
            s3::put(client, &request.results_bucket, &format!("{run}errors/{key}.txt"), text.into_bytes(), "text/plain; charset=utf-8")
                .await?;
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
    for ObjectRef { key, .. } in s3::list_all(client, &results("findings")).await? {
        summary.objects_with_findings += 1;
        let text = s3::get(client, &request.results_bucket, &key).await?;
        for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            summary.events_with_findings += 1;
            for cause in causes_of(line) {
                *summary.findings.entry(cause).or_default() += 1;
            }
        }
    }
    for ObjectRef { key, .. } in s3::list_all(client, &results("errors")).await? {
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
        let item = |key: &str| format!(r#"{{"scan":{{"bucket":"a","key":"{key}","results_bucket":"r","run":"x"}}}}"#);
        let Request::Scan(one) = request(&item("k.json.gz")).unwrap().unwrap() else { panic!() };
        assert_eq!(one.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["k.json.gz"]);
        let batch = format!(r#"{{"Items":[{},{}],"BatchInput":{{}}}}"#, item("1"), item("2"));
        let Request::Scan(two) = request(&batch).unwrap().unwrap() else { panic!() };
        assert_eq!(two.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["1", "2"]);
        assert!(request(r#"{"scan":{"key":"k"}}"#).unwrap().unwrap_err().contains("bucket"));
        assert!(request(r#"{"Items":[{"Key":"k"}]}"#).unwrap().unwrap_err().contains("without a scan request"));
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
