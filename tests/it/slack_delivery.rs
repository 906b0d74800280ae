//! Slack delivery against a real local HTTP server: rate limits, server errors,
//! slowness and refused connections, and the webhook URL never in an error.

use crate::support;
use crate::support::webhook::{refused_url, Reply, Webhook};
use eks_access_doctor_aws::slack::{RetryPolicy, SlackSink};
use std::time::{Duration, Instant};

fn policy() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        backoff: Duration::from_millis(20),
        max_retry_after: Duration::from_secs(2),
        request_timeout: Duration::from_millis(300),
    }
}

fn payload() -> eks_access_doctor_core::render::slack::Message {
    let d = support::diagnose(support::fixture_event("reserved-group-prefix.json"));
    eks_access_doctor_core::render::slack::payload(&d, &d.findings[0])
}

#[tokio::test]
async fn posts_block_kit() {
    let hook = Webhook::start(vec![]);
    SlackSink::new(hook.url.clone(), policy()).unwrap().post(&payload()).await.unwrap();
    let received = hook.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0]["blocks"][0]["type"], "header");
    assert!(received[0]["text"].as_str().unwrap().contains("reserved-group-prefix"));
}

#[tokio::test]
async fn honours_retry_after_on_429() {
    let hook = Webhook::start(vec![Reply::rate_limited(1)]);
    let started = Instant::now();
    SlackSink::new(hook.url.clone(), policy()).unwrap().post(&payload()).await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1), "waited {:?}", started.elapsed());
    assert_eq!(hook.received().len(), 2);
}

#[tokio::test]
async fn a_retry_after_longer_than_allowed_fails_for_lambda_to_retry() {
    let hook = Webhook::start(vec![Reply::rate_limited(30)]);
    let err = SlackSink::new(hook.url.clone(), policy()).unwrap().post(&payload()).await.unwrap_err();
    assert!(err.message.contains("rate limited"), "{err}");
    assert_eq!(hook.received().len(), 1);
}

#[tokio::test]
async fn retries_server_errors_then_succeeds() {
    let hook = Webhook::start(vec![Reply::status(500), Reply::status(503)]);
    SlackSink::new(hook.url.clone(), policy()).unwrap().post(&payload()).await.unwrap();
    assert_eq!(hook.received().len(), 3);
}

#[tokio::test]
async fn gives_up_after_the_last_attempt() {
    let hook = Webhook::start(vec![Reply::status(500), Reply::status(500), Reply::status(500)]);
    let err = SlackSink::new(hook.url.clone(), policy()).unwrap().post(&payload()).await.unwrap_err();
    assert!(err.message.contains("gave up after 3 attempts: HTTP 500"), "{err}");
}

#[tokio::test]
async fn a_client_error_is_not_retried() {
    let hook = Webhook::start(vec![Reply::Status { code: 400, headers: vec![], body: "invalid_blocks".into() }]);
    let err = SlackSink::new(hook.url.clone(), policy()).unwrap().post(&payload()).await.unwrap_err();
    assert_eq!(err.message, "HTTP 400: invalid_blocks");
    assert_eq!(hook.received().len(), 1);
}

#[tokio::test]
async fn a_slow_server_times_out_and_is_retried() {
    let hook = Webhook::start(vec![Reply::Slow(Duration::from_secs(1))]);
    SlackSink::new(hook.url.clone(), policy()).unwrap().post(&payload()).await.unwrap();
    assert_eq!(hook.received().len(), 2);
}

#[tokio::test]
async fn a_refused_connection_fails_without_leaking_the_url() {
    let url = refused_url();
    let err = SlackSink::new(url, policy()).unwrap().post(&payload()).await.unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(text.contains("connection failed"), "{text}");
    assert!(!text.contains("very-secret-token") && !text.contains("127.0.0.1"), "{text}");
}
