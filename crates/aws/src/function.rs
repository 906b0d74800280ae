//! The function's start: settings, SDK clients, the Slack webhooks and the stores,
//! made once per container into a [`Doctor`]; and, when that fails, the reason told to
//! the Runtime API. The Lambda binary (crates/lambda) only adds the runtime loop.

use crate::config::{KubernetesAccess, Settings};
use crate::enrich::{AwsLookups, Lookups};
use crate::fleet::StsSessions;
use crate::handler::{Doctor, ScheduledAudit};
use crate::idempotency::{AuditLog, DynamoStore, IdempotencyStore, MemoryAuditLog};
use crate::kubernetes::client::Endpoint;
use crate::kubernetes::picture::LiveAuditor;
use crate::kubernetes::{ApiReads, KubernetesLookups};
use crate::metrics;
use crate::second_look::SqsSecondLook;
use crate::slack::{route_sinks, RetryPolicy};
use crate::sns::SnsSink;
use crate::tls;
use crate::{InitError, Sink};
use std::time::Duration;

/// How long delivered event ids are remembered across containers.
const IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 3600);
/// Each Kubernetes API request of an enrichment, at most (the enrichment budget bounds them all).
const KUBERNETES_TIMEOUT: Duration = Duration::from_secs(3);
/// Each Kubernetes API request of a scheduled audit (a list of every binding or role).
const AUDIT_KUBERNETES_TIMEOUT: Duration = Duration::from_secs(10);

/// Everything a container needs, from its environment.
pub async fn init() -> Result<Doctor, InitError> {
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
    let auditor = auditor(&settings, &aws, &config)?;
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
    let audit_log: Box<dyn AuditLog> = match &table {
        Some(table) => Box::new(table.clone()),
        None => Box::new(MemoryAuditLog::default()),
    };
    let mut doctor = Doctor::new(settings, lookups, sinks, store)
        .with_metrics(Box::new(metrics::Stdout))
        .with_audit(ScheduledAudit { auditor: Box::new(auditor), log: audit_log });
    if let Some(table) = table {
        doctor = doctor.with_flood_store(Box::new(table.clone())).with_entry_log(Box::new(table));
    }
    if let Some(queue) = second_look {
        doctor = doctor.with_second_look(Box::new(queue));
    }
    Ok(doctor.with_archive(aws_sdk_s3::Client::new(&config)).with_fleet(Box::new(StsSessions { config: config.clone() })))
}

/// The scheduled audit's reads: the function's region and credentials, the Kubernetes
/// API as configured for the alerts (without it, the audit reads only EKS and IAM).
fn auditor(settings: &Settings, aws: &AwsLookups, config: &aws_config::SdkConfig) -> Result<LiveAuditor, InitError> {
    let (kubernetes, endpoint_override) = match &settings.kubernetes {
        KubernetesAccess::On { endpoint: Some((url, ca)) } => {
            (true, Some(Endpoint::from_describe_cluster(url, ca).map_err(|e| InitError::Kubernetes(e.to_string()))?))
        }
        KubernetesAccess::On { endpoint: None } => (true, None),
        KubernetesAccess::Off => (false, None),
    };
    let credentials = match config.credentials_provider() {
        Some(credentials) => credentials,
        None if kubernetes => return Err(InitError::Kubernetes("no AWS credentials to sign Kubernetes tokens with".into())),
        // Never used: without Kubernetes access the audit signs no token.
        None => aws_credential_types::provider::SharedCredentialsProvider::new(aws_credential_types::Credentials::new(
            "", "", None, None, "unused",
        )),
    };
    Ok(LiveAuditor {
        reads: ApiReads { eks: aws.eks.clone(), iam: aws.iam.clone(), credentials, endpoint_override, timeout: AUDIT_KUBERNETES_TIMEOUT },
        region: config.region().map(|r| r.to_string()).unwrap_or_default(),
        clusters: settings.audit_clusters.clone(),
        kubernetes,
    })
}

/// Tells the Runtime API why init failed (lambda_runtime has no call for it), so
/// the reason shows in the invocation's error, not only in the logs.
pub async fn report_init_error(error: &InitError) {
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
