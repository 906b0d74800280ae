//! The real function binary on the real `lambda_runtime`, against a local Runtime
//! API: success, failed delivery (the invocation fails), init failure without
//! sinks, the Slack webhook never appearing in logs or errors, and the organization
//! scan's requests (unreadable, or S3 unavailable) failing by name.

use crate::support;
use crate::support::runtime_api::RuntimeApi;
use crate::support::webhook::{refused_url, Webhook};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn function(api: &RuntimeApi, env: &[(&str, String)]) -> Child {
    let mut command = Command::new(crate::support::lambda_binary());
    command
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", &api.address)
        .env("AWS_LAMBDA_FUNCTION_NAME", "doctor")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "stream")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/doctor")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("ENRICHMENT_TIMEOUT_MS", "300")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    command.spawn().unwrap()
}

fn logs(mut child: Child) -> String {
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn delivers_to_slack_and_logs_one_json_line_per_event() {
    let hook = Webhook::start(vec![]);
    let api = RuntimeApi::start(support::fixture_text("reserved-group-prefix.json"));
    let child = function(&api, &[("SLACK_WEBHOOK_URL", hook.url.clone()), ("AWS_ENDPOINT_URL", refused_url())]);
    let answer = api.answer(Duration::from_secs(20));
    let logs = logs(child);
    assert_eq!(answer.kind, "response", "{answer:?}\n{logs}");
    assert!(answer.body.contains("\"causes\":[\"reserved-group-prefix\"]"), "{}", answer.body);
    assert_eq!(hook.received().len(), 1);
    let line = logs.lines().find(|l| l.contains("event handled")).unwrap_or_else(|| panic!("{logs}"));
    let line: serde_json::Value = serde_json::from_str(line).unwrap();
    assert!(line["fields"]["outcome"].as_str().unwrap().contains("reserved-group-prefix"));
    assert!(!logs.contains("very-secret-token"), "{logs}");
}

/// The Slack routes and the metric lines as the deployed function has them: an error
/// on a production cluster goes to on-call only, and stdout carries its EMF lines.
#[test]
fn routes_a_finding_and_writes_its_metric_lines() {
    let (oncall, team) = (Webhook::start(vec![]), Webhook::start(vec![]));
    let api = RuntimeApi::start(support::fixture_text("auth-mode-irreversible.json"));
    let child = function(
        &api,
        &[
            ("SLACK_ROUTES", "oncall".into()),
            ("SLACK_ROUTE_ONCALL_URL", oncall.url.clone()),
            ("SLACK_ROUTE_ONCALL_MIN_SEVERITY", "error".into()),
            ("SLACK_ROUTE_ONCALL_CLUSTERS", "prod-*".into()),
            ("SLACK_WEBHOOK_URL", team.url.clone()),
            ("METRIC_CLUSTERS", "prod-*".into()),
            ("AWS_ENDPOINT_URL", refused_url()),
        ],
    );
    let answer = api.answer(Duration::from_secs(20));
    let logs = logs(child);
    assert_eq!(answer.kind, "response", "{answer:?}\n{logs}");
    assert_eq!((oncall.received().len(), team.received().len()), (1, 0), "{logs}");
    let emf: Vec<String> = logs.lines().filter(|l| l.starts_with("{\"_aws\"")).map(String::from).collect();
    let lines = support::emf::parse(&emf);
    let summary: Vec<(&str, &str, &str)> = lines
        .iter()
        .map(|l| match l.metric.as_str() {
            "Deliveries" => ("Deliveries", l.text("Sink"), l.text("Outcome")),
            "Findings" => ("Findings", l.text("Cause"), l.text("Cluster")),
            other => panic!("{other}"),
        })
        .collect();
    assert_eq!(summary, [("Deliveries", "slack:oncall", "delivered"), ("Findings", "auth-mode-irreversible", "prod-eu")], "{logs}");
    assert!(!logs.contains("very-secret-token"), "{logs}");
}

#[test]
fn failed_delivery_fails_the_invocation_without_leaking_the_webhook() {
    let api = RuntimeApi::start(support::fixture_text("service-linked-role.json"));
    let child = function(
        &api,
        &[
            ("SLACK_WEBHOOK_URL", refused_url()),
            ("SNS_TOPIC_ARN", "arn:aws:sns:eu-west-1:111122223333:alerts".into()),
            ("AWS_ENDPOINT_URL", refused_url()),
        ],
    );
    let answer = api.answer(Duration::from_secs(60));
    let logs = logs(child);
    assert_eq!(answer.kind, "error", "{answer:?}");
    assert!(answer.body.contains("slack delivery failed") && answer.body.contains("sns delivery failed"), "{}", answer.body);
    let body: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(body["errorType"], "DeliveryFailed", "{body}");
    for text in [&answer.body, &logs] {
        assert!(!text.contains("very-secret-token"), "webhook leaked: {text}");
    }
}

#[test]
fn no_sink_configured_fails_at_init() {
    let api = RuntimeApi::start(String::from("{}"));
    let child = function(&api, &[]);
    let answer = api.answer(Duration::from_secs(20));
    assert_eq!(answer.kind, "init_error", "{answer:?}");
    assert!(answer.body.contains("no alert destination"), "{}", answer.body);
    let body: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(body["errorType"], "Runtime.InitError.Config", "{body}");
    let logs = logs(child);
    assert!(logs.contains("init failed"), "{logs}");
}

#[test]
fn an_unreadable_scan_request_is_an_unreadable_event() {
    let hook = Webhook::start(vec![]);
    let api = RuntimeApi::start(r#"{"scan":{"key":"AWSLogs/x.json.gz"}}"#.to_string());
    let child = function(&api, &[("SLACK_WEBHOOK_URL", hook.url.clone()), ("AWS_ENDPOINT_URL", refused_url())]);
    let answer = api.answer(Duration::from_secs(20));
    let logs = logs(child);
    let body: serde_json::Value = serde_json::from_str(&answer.body).unwrap_or_else(|_| panic!("{answer:?}\n{logs}"));
    assert_eq!((answer.kind.as_str(), body["errorType"].as_str()), ("error", Some("UnreadableEvent")), "{body}");
    assert!(body["errorMessage"].as_str().unwrap().contains("scan request: missing field `bucket`"), "{body}");
    assert!(hook.received().is_empty(), "a scan request is never an alert");
}

#[test]
fn an_archive_s3_cannot_serve_fails_the_step_by_name() {
    let hook = Webhook::start(vec![]);
    let request = r#"{"scan":{"bucket":"archive","key":"AWSLogs/x.json.gz","results_bucket":"results","run":"r"}}"#;
    let api = RuntimeApi::start(request.to_string());
    let child = function(&api, &[("SLACK_WEBHOOK_URL", hook.url.clone()), ("AWS_ENDPOINT_URL", refused_url())]);
    let answer = api.answer(Duration::from_secs(60));
    let logs = logs(child);
    let body: serde_json::Value = serde_json::from_str(&answer.body).unwrap_or_else(|_| panic!("{answer:?}\n{logs}"));
    assert_eq!(body["errorType"], "ArchiveUnavailable", "{body}");
    assert!(body["errorMessage"].as_str().unwrap().starts_with("s3://archive/AWSLogs/x.json.gz: cannot read:"), "{body}");
}
