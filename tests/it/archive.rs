//! The organization scan's steps with `aws-smithy-mocks` S3: findings and errors
//! written per object under the run, nothing written for a clean object, S3 failures
//! fail the step (so Step Functions retries), and the summary adds up what was written.

use aws_sdk_s3::operation::get_object::{GetObjectError, GetObjectOutput};
use aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output;
use aws_sdk_s3::operation::put_object::PutObjectOutput;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::Object;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use aws_smithy_types::error::ErrorMetadata;
use eks_access_doctor_aws::archive::{scan, summarize, ScanRequest, SummaryRequest};
use eks_access_doctor_aws::s3::S3Error;
use std::sync::{Arc, Mutex};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/events/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn get(key: &'static str, body: Vec<u8>) -> aws_smithy_mocks::Rule {
    mock!(aws_sdk_s3::Client::get_object)
        .match_requests(move |r| r.key() == Some(key))
        .then_output(move || GetObjectOutput::builder().body(ByteStream::from(body.clone())).build())
}

/// Every PutObject so far, as ("bucket/key", body).
type Written = Arc<Mutex<Vec<(String, String)>>>;

fn puts() -> (aws_smithy_mocks::Rule, Written) {
    let written = Arc::new(Mutex::new(Vec::new()));
    let sink = written.clone();
    let rule = mock!(aws_sdk_s3::Client::put_object)
        .match_requests(move |r| {
            let body = r.body().bytes().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default();
            sink.lock().unwrap().push((format!("{}/{}", r.bucket().unwrap_or(""), r.key().unwrap_or("")), body));
            true
        })
        .then_output(|| PutObjectOutput::builder().build());
    (rule, written)
}

/// A batch as the Map's ItemBatcher hands it over on AWS.
fn request(keys: &[&str]) -> Vec<ScanRequest> {
    let item = |key: &&str| serde_json::json!({"scan": {"bucket": "archive", "key": key, "results_bucket": "results", "results_prefix": "scans/", "run": "run-1"}});
    let payload = serde_json::json!({"Items": keys.iter().map(item).collect::<Vec<_>>(), "BatchInput": {}});
    match eks_access_doctor_aws::archive::request(&payload.to_string()).unwrap().unwrap() {
        eks_access_doctor_aws::archive::Request::Scan(scan) => scan,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_batch_writes_findings_and_errors_per_object_and_nothing_for_a_clean_one_or_a_file_that_holds_no_events() {
    let found = get("a/reserved.json", fixture("reserved-username-prefix.json"));
    let clean = get("b/benign.json", fixture("no-finding/describe-cluster.json"));
    let corrupt = get("c/corrupt.json.gz", vec![0x1f, 0x8b, 8, 0, 1, 2, 3]);
    let (put, written) = puts();
    let client = mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&found, &clean, &corrupt, &put]);
    let report = scan(&client, &request(&["a/reserved.json", "b/benign.json", "c/corrupt.json.gz", "d/SOURCES.md"])).await.unwrap();
    assert_eq!((report.files, report.eks_events, report.ignored, report.bad_records), (3, 1, 1, 1));
    assert_eq!(report.findings.get("reserved-username-prefix"), Some(&1));
    let written = written.lock().unwrap();
    let keys: Vec<&str> = written.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["results/scans/run-1/findings/a/reserved.json.ndjson", "results/scans/run-1/errors/c/corrupt.json.gz.txt"]);
    let line: serde_json::Value = serde_json::from_str(written[0].1.trim()).unwrap();
    assert_eq!(line["findings"][0]["cause"], "reserved-username-prefix");
    assert!(written[1].1.contains("s3://archive/c/corrupt.json.gz: record 1: cannot decompress gzip"), "{}", written[1].1);
}

#[tokio::test]
async fn an_object_s3_will_not_give_fails_the_step() {
    let denied = mock!(aws_sdk_s3::Client::get_object)
        .then_error(|| GetObjectError::generic(ErrorMetadata::builder().code("AccessDenied").message("Access Denied").build()));
    let client = mock_client!(aws_sdk_s3, [&denied]);
    let e = scan(&client, &request(&["denied.json.gz"])).await.unwrap_err();
    assert_eq!(e, S3Error::Get { object: "s3://archive/denied.json.gz".into(), message: "AccessDenied: Access Denied".into() });
}

#[tokio::test]
async fn the_summary_adds_up_what_the_scan_wrote() {
    let list = |prefix: &'static str, keys: &'static [(&'static str, i64)]| {
        mock!(aws_sdk_s3::Client::list_objects_v2).match_requests(move |r| r.prefix() == Some(prefix)).then_output(move || {
            ListObjectsV2Output::builder()
                .set_contents(Some(keys.iter().map(|(k, size)| Object::builder().key(*k).size(*size).build()).collect()))
                .build()
        })
    };
    let archive = list("AWSLogs/", &[("AWSLogs/1.json.gz", 100), ("AWSLogs/2.json.gz", 50), ("AWSLogs/CloudTrail-Digest/d.json.gz", 9)]);
    let findings = list("scans/run-1/findings/", &[("scans/run-1/findings/AWSLogs/1.json.gz.ndjson", 10)]);
    let errors = list("scans/run-1/errors/", &[("scans/run-1/errors/AWSLogs/2.json.gz.txt", 10)]);
    let lines = concat!(
        r#"{"event_id":"1","findings":[{"cause":"a"},{"cause":"b"}]}"#,
        "\n",
        r#"{"event_id":"2","findings":[{"cause":"a"}]}"#,
        "\n"
    );
    let finding_file = get("scans/run-1/findings/AWSLogs/1.json.gz.ndjson", lines.as_bytes().to_vec());
    let error_file = get("scans/run-1/errors/AWSLogs/2.json.gz.txt", b"s3://archive/AWSLogs/2.json.gz: record 3: invalid JSON\n".to_vec());
    let (put, written) = puts();
    let client = mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&archive, &findings, &errors, &finding_file, &error_file, &put]);
    let request = SummaryRequest {
        bucket: "archive".into(),
        prefix: "AWSLogs/".into(),
        results_bucket: "results".into(),
        results_prefix: "scans".into(),
        run: "run-1".into(),
    };
    let summary = summarize(&client, &request).await.unwrap();
    assert_eq!((summary.archive_objects, summary.archive_bytes), (2, 150), "digests are not scanned");
    assert_eq!((summary.objects_with_findings, summary.events_with_findings, summary.objects_with_errors), (1, 2, 1));
    assert_eq!(summary.findings.iter().map(|(k, v)| (k.as_str(), *v)).collect::<Vec<_>>(), [("a", 2), ("b", 1)]);
    assert_eq!(summary.errors, ["s3://archive/AWSLogs/2.json.gz: record 3: invalid JSON"]);
    let written = written.lock().unwrap();
    assert_eq!(written.len(), 1);
    assert_eq!(written[0].0, "results/scans/run-1/summary.json");
    assert_eq!(serde_json::from_str::<eks_access_doctor_aws::archive::RunSummary>(&written[0].1).unwrap(), summary);
}
