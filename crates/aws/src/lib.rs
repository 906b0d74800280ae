//! The Lambda edge: everything that talks to AWS or Slack, behind small ports so
//! the handler is tested with plain data, `aws-smithy-mocks` and local servers.
//! The diagnosis itself is `eks-access-doctor-core`'s.

#![forbid(unsafe_code)]

pub mod archive;
pub mod config;
pub mod enrich;
pub mod fleet;
pub mod function;
pub mod handler;
pub mod idempotency;
pub mod kubernetes;
pub mod lookup;
pub mod metrics;
pub mod routing;
pub mod s3;
pub mod second_look;
pub mod secrets;
pub mod slack;
pub mod sns;
pub mod tls;

use std::future::Future;
use std::pin::Pin;

/// A boxed future, so ports can be trait objects.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why an alert could not be delivered. Every delivery failure fails the
/// invocation, so Lambda retries it and, in the end, the failure destination keeps it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{sink} delivery failed: {message}")]
pub struct DeliveryError {
    pub sink: &'static str,
    pub message: String,
}

/// Why the function could not start. Init fails loudly: an alerting function that
/// cannot alert must not take events.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("{0}")]
    SlackWebhook(String),
    #[error("KUBERNETES_ACCESS: {0}")]
    Kubernetes(String),
}

impl InitError {
    /// The `errorType` the Runtime API is given, after Lambda's `Runtime.` convention.
    pub fn error_type(&self) -> &'static str {
        match self {
            InitError::Config(_) => "Runtime.InitError.Config",
            InitError::SlackWebhook(_) => "Runtime.InitError.SlackWebhook",
            InitError::Kubernetes(_) => "Runtime.InitError.Kubernetes",
        }
    }
}

/// A place alerts go: SNS or a Slack route.
pub trait Sink: Send + Sync {
    /// Distinct among the sinks and stable across retries: partial deliveries are
    /// remembered by it, and metrics count deliveries by it.
    fn name(&self) -> &'static str;
    /// Whether this finding is this sink's to send. Slack routes share findings out
    /// between them (the first route that takes one gets it); others take them all.
    fn wants(&self, _diagnosis: &eks_access_doctor_core::render::Diagnosis, _finding: &eks_access_doctor_core::finding::Finding) -> bool {
        true
    }
    fn publish<'a>(
        &'a self,
        diagnosis: &'a eks_access_doctor_core::render::Diagnosis,
        finding: &'a eks_access_doctor_core::finding::Finding,
    ) -> BoxFuture<'a, Result<(), DeliveryError>>;
}

/// `code: message` of an SDK error, never more than one line of 300 characters.
pub fn describe_sdk_error<E, R>(error: &aws_smithy_runtime_api::client::result::SdkError<E, R>) -> String
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    use aws_smithy_runtime_api::client::result::SdkError;
    let text = match error {
        SdkError::ServiceError(service) => {
            let e = service.err();
            format!("{}: {}", e.code().unwrap_or("error"), e.message().unwrap_or("no message"))
        }
        SdkError::TimeoutError(_) => "timed out".to_string(),
        SdkError::DispatchFailure(failure) => {
            if failure.is_timeout() {
                "timed out connecting".to_string()
            } else if failure.is_io() {
                "connection failed".to_string()
            } else {
                format!("request not sent: {}", std::error::Error::source(error).map(|s| s.to_string()).unwrap_or_default())
            }
        }
        SdkError::ResponseError(_) => "unreadable response".to_string(),
        other => other.to_string(),
    };
    eks_access_doctor_core::escape::truncate(&eks_access_doctor_core::escape::inline(&text), 300)
}

/// The error code of an SDK service error, if the service answered.
pub fn sdk_error_code<E, R>(error: &aws_smithy_runtime_api::client::result::SdkError<E, R>) -> Option<&str>
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata,
{
    match error {
        aws_smithy_runtime_api::client::result::SdkError::ServiceError(service) => service.err().code(),
        _ => None,
    }
}
