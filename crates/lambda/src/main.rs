//! The Lambda function: init once (settings, SDK clients, the Slack webhooks), then
//! per event parse → diagnose → enrich → publish. One JSON log line per event, and
//! EMF metric lines (see `aws::metrics`).

#![forbid(unsafe_code)]

use eks_access_doctor_aws::archive;
use eks_access_doctor_aws::config::KubernetesAccess;
use eks_access_doctor_aws::config::Settings;
use eks_access_doctor_aws::enrich::{AwsLookups, Home, Lookups};
use eks_access_doctor_aws::handler::{Doctor, HandlerError, Outcome};
use eks_access_doctor_aws::idempotency::{DynamoStore, IdempotencyStore};
use eks_access_doctor_aws::kubernetes::client::Endpoint;
use eks_access_doctor_aws::kubernetes::{ApiReads, KubernetesLookups};
use eks_access_doctor_aws::metrics;
use eks_access_doctor_aws::second_look::SqsSecondLook;
use eks_access_doctor_aws::slack::{route_sinks, RetryPolicy};
use eks_access_doctor_aws::sns::SnsSink;
use eks_access_doctor_aws::tls;
use eks_access_doctor_aws::{InitError, Sink};
use eks_access_doctor_core::arn::Arn;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::value::RawValue;
use std::time::Duration;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// How long delivered event ids are remembered across containers.
const IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 3600);
/// Each Kubernetes API request of an enrichment, at most (the enrichment budget bounds them all).
const KUBERNETES_TIMEOUT: Duration = Duration::from_secs(3);

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt().json().with_current_span(false).with_target(false).without_time().finish().with(log_filter()).init();
    let (doctor, s3) = match init().await {
        Ok(ready) => ready,
        Err(e) => {
            tracing::error!(error = %e, "init failed");
            report_init_error(&e).await;
            return Err(Error::from(e));
        }
    };
    let (doctor, s3) = (&doctor, &s3);
    let region = &std::env::var("AWS_REGION").ok().filter(|r| !r.is_empty());
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| async move {
        let started = std::time::Instant::now();
        let account = Arn::parse(&event.context.invoked_function_arn).map(|arn| arn.account).filter(|a| !a.is_empty()).map(String::from);
        let payload = event.payload.get();
        let result = match archive::request(payload) {
            Some(request) => scan(s3, request).await,
            None => doctor.handle_until(payload, &Home { account, region: region.clone() }, event.context.deadline / 1000).await,
        };
        let millis = started.elapsed().as_millis() as u64;
        match &result {
            Ok(outcome) => tracing::info!(request_id = %event.context.request_id, millis, outcome = %serde_json::to_string(outcome).unwrap_or_default(), "event handled"),
            Err(HandlerError::Unreadable(reason)) => tracing::error!(request_id = %event.context.request_id, millis, reason = %reason, "unreadable event; failing so the failure destination keeps it"),
            Err(e) => tracing::error!(request_id = %event.context.request_id, millis, error = %e, "failed; failing so Lambda (or Step Functions) retries"),
        }
        result
    }))
    .await
}

/// The organization scan's steps (see `archive`); a request it cannot read is unreadable.
async fn scan(s3: &aws_sdk_s3::Client, request: Result<archive::Request, String>) -> Result<Outcome, HandlerError> {
    match request.map_err(HandlerError::Unreadable)? {
        archive::Request::Scan(requests) => Ok(Outcome::Scanned(archive::scan(s3, &requests).await?)),
        archive::Request::Summarize(request) => Ok(Outcome::Summarized(archive::summarize(s3, &request).await?)),
    }
}

async fn init() -> Result<(Doctor, aws_sdk_s3::Client), InitError> {
    let settings = Settings::from_env()?;
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .operation_attempt_timeout(Duration::from_secs(5))
                .build(),
        )
        .load()
        .await;
    let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
    if let Some(topic_arn) = &settings.sns_topic_arn {
        sinks.push(Box::new(SnsSink {
            client: aws_sdk_sns::Client::new(&config),
            topic_arn: topic_arn.clone(),
            format: settings.sns_message_format,
        }));
    }
    let secrets = aws_sdk_secretsmanager::Client::new(&config);
    for sink in route_sinks(&settings.slack_routes, &secrets, RetryPolicy::default()).await.map_err(InitError::SlackWebhook)? {
        sinks.push(Box::new(sink));
    }
    let aws = AwsLookups { eks: aws_sdk_eks::Client::new(&config), iam: aws_sdk_iam::Client::new(&config) };
    let lookups: Box<dyn Lookups> = match (&settings.kubernetes, config.credentials_provider()) {
        (KubernetesAccess::On { endpoint }, Some(credentials)) => {
            let endpoint_override = match endpoint {
                Some((url, ca)) => Some(Endpoint::from_describe_cluster(url, ca).map_err(|e| InitError::Kubernetes(e.to_string()))?),
                None => None,
            };
            let reads =
                ApiReads { eks: aws.eks.clone(), iam: aws.iam.clone(), credentials, endpoint_override, timeout: KUBERNETES_TIMEOUT };
            Box::new(KubernetesLookups { inner: aws, reads })
        }
        (KubernetesAccess::On { .. }, None) => {
            return Err(InitError::Kubernetes("no AWS credentials to sign Kubernetes tokens with".into()))
        }
        (KubernetesAccess::Off, _) => Box::new(aws),
    };
    // One DynamoDB table holds both the delivered event ids and the shared flood windows.
    let table = settings.idempotency_table.as_ref().map(|table| DynamoStore {
        client: aws_sdk_dynamodb::Client::new(&config),
        table: table.clone(),
        ttl: IDEMPOTENCY_TTL,
    });
    tracing::info!(sinks = ?sinks.iter().map(|s| s.name()).collect::<Vec<_>>(), sns_format = ?settings.sns_message_format, min_severity = %settings.min_severity, idempotency = table.is_some(), second_look = settings.second_look_queue.is_some(), "initialised");
    let store = table.clone().map(|t| Box::new(t) as Box<dyn IdempotencyStore>);
    let second_look = settings.second_look_queue.clone().map(|queue_url| SqsSecondLook {
        client: aws_sdk_sqs::Client::new(&config),
        queue_url,
        delay_secs: settings.second_look_delay,
    });
    let mut doctor = Doctor::new(settings, lookups, sinks, store).with_metrics(Box::new(metrics::Stdout));
    if let Some(table) = table {
        doctor = doctor.with_flood_store(Box::new(table.clone())).with_entry_log(Box::new(table));
    }
    if let Some(queue) = second_look {
        doctor = doctor.with_second_look(Box::new(queue));
    }
    Ok((doctor, aws_sdk_s3::Client::new(&config)))
}

/// `RUST_LOG` as `level` or `target=level,…` (`info` when unset or unreadable).
fn log_filter() -> Targets {
    std::env::var("RUST_LOG").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO))
}

/// Tells the Runtime API why init failed (lambda_runtime has no call for it), so
/// the reason shows in the invocation's error, not only in the logs.
async fn report_init_error(error: &InitError) {
    let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") else { return };
    let body = serde_json::json!({ "errorType": error.error_type(), "errorMessage": error.to_string() });
    // Plain HTTP to the Runtime API: the client needs a TLS configuration all the same,
    // and trusts nothing.
    let Ok(tls) = tls::client_config(rustls::RootCertStore::empty()) else { return };
    let Ok(client) = reqwest::Client::builder().use_preconfigured_tls(tls).build() else { return };
    let sent = client
        .post(format!("http://{api}/2018-06-01/runtime/init/error"))
        .header("Lambda-Runtime-Function-Error-Type", error.error_type())
        .json(&body)
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    if let Err(e) = sent {
        tracing::warn!(error = %e.without_url(), "could not report the init error to the Runtime API");
    }
}
