//! Posts Block Kit payloads to a Slack incoming webhook. Honours `429` with
//! `Retry-After`, retries `5xx`, timeouts and refused connections with backoff, and
//! never lets the webhook URL (a secret) into an error message.

use super::config::{SlackRoute, SlackWebhook, DEFAULT_SLACK_SINK};
use super::routing::Routes;
use super::secrets::fetch_webhook;
use super::{BoxFuture, DeliveryError, Sink};
use eks_access_doctor_core::finding::Finding;
use eks_access_doctor_core::render::{slack, Diagnosis};
use std::time::Duration;

#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    pub attempts: u32,
    /// First backoff for 5xx and network errors; doubles each attempt.
    pub backoff: Duration,
    /// Longest `Retry-After` honoured; a longer one fails the delivery so Lambda retries later.
    pub max_retry_after: Duration,
    pub request_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 3,
            backoff: Duration::from_millis(300),
            max_retry_after: Duration::from_secs(10),
            request_timeout: Duration::from_secs(5),
        }
    }
}

/// One Slack incoming webhook: the default route, or a named route of `routes`.
pub struct SlackSink {
    http: reqwest::Client,
    webhook: String,
    policy: RetryPolicy,
    name: &'static str,
    /// Every Slack route, in order, when there is more than this one.
    routes: Option<Routes>,
}

impl SlackSink {
    /// The default route (`slack`), taking every finding until `route` says otherwise.
    pub fn new(webhook: String, policy: RetryPolicy) -> Result<SlackSink, String> {
        let tls = crate::tls::client_config(crate::tls::public_roots()).map_err(|e| format!("cannot set up TLS: {e}"))?;
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .timeout(policy.request_timeout)
            .connect_timeout(policy.request_timeout.min(Duration::from_secs(2)))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {}", e.without_url()))?;
        Ok(SlackSink { http, webhook, policy, name: DEFAULT_SLACK_SINK, routes: None })
    }

    /// Makes this sink the route `name` of `routes`: it sends only the findings that
    /// route is the first to take.
    pub fn route(self, name: &'static str, routes: Routes) -> SlackSink {
        SlackSink { name, routes: Some(routes), ..self }
    }

    /// Posts one payload with retries; errors name the status, never the URL.
    pub async fn post(&self, payload: &slack::Message) -> Result<(), DeliveryError> {
        let fail = |message: String| DeliveryError { sink: self.name, message };
        let mut last = String::new();
        for attempt in 0..self.policy.attempts {
            let backoff = self.policy.backoff * 2u32.saturating_pow(attempt);
            let wait = match self.http.post(&self.webhook).json(payload).send().await {
                Ok(response) if response.status().is_success() => return Ok(()),
                Ok(response) if response.status() == reqwest::StatusCode::TOO_MANY_REQUESTS => {
                    let after = retry_after(response.headers()).unwrap_or(backoff);
                    if after > self.policy.max_retry_after {
                        return Err(fail(format!("rate limited by Slack for {} s", after.as_secs())));
                    }
                    last = "HTTP 429 (rate limited)".to_string();
                    after
                }
                Ok(response) if response.status().is_server_error() => {
                    last = format!("HTTP {}", response.status().as_u16());
                    backoff
                }
                Ok(response) => {
                    let status = response.status().as_u16();
                    let body = response.text().await.unwrap_or_default();
                    let body = eks_access_doctor_core::escape::truncate(&eks_access_doctor_core::escape::inline(&body), 200);
                    return Err(fail(format!("HTTP {status}: {body}")));
                }
                Err(e) => {
                    last = if e.is_timeout() {
                        "timed out".to_string()
                    } else if e.is_connect() {
                        "connection failed".to_string()
                    } else {
                        e.without_url().to_string()
                    };
                    backoff
                }
            };
            if attempt + 1 < self.policy.attempts {
                tokio::time::sleep(wait).await;
            }
        }
        Err(fail(format!("gave up after {} attempts: {last}", self.policy.attempts)))
    }
}

/// One sink per route, in route order, each with the webhook its secret holds (or its
/// URL, for local runs). Each route is a sink of its own, so a failed route is retried
/// alone. Errors name the route, never a URL.
pub async fn route_sinks(
    routes: &[SlackRoute],
    secrets: &aws_sdk_secretsmanager::Client,
    policy: RetryPolicy,
) -> Result<Vec<SlackSink>, String> {
    let shared = Routes::of(routes.iter().map(|r| (r.sink.as_str(), &r.filter)));
    let mut sinks = Vec::with_capacity(routes.len());
    for (name, route) in shared.names().zip(routes) {
        let url = match &route.webhook {
            SlackWebhook::Url(url) => url.clone(),
            SlackWebhook::Secret(id) => fetch_webhook(secrets, id).await.map_err(|e| format!("Slack route {name}: {e}"))?,
        };
        sinks.push(SlackSink::new(url, policy)?.route(name, shared.clone()));
    }
    Ok(sinks)
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(seconds))
}

impl Sink for SlackSink {
    fn name(&self) -> &'static str {
        self.name
    }

    fn wants(&self, diagnosis: &Diagnosis, finding: &Finding) -> bool {
        match &self.routes {
            Some(routes) => routes.pick(finding.severity(), diagnosis.event.cluster.as_deref()) == Some(self.name),
            None => true,
        }
    }

    fn publish<'a>(&'a self, diagnosis: &'a Diagnosis, finding: &'a Finding) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move { self.post(&slack::payload(diagnosis, finding)).await })
    }
}
