//! The Lambda function: init once (see `eks_access_doctor_aws::function`), then each
//! invocation through the handler's stages. One JSON log line per invocation, and EMF
//! metric lines (see `eks_access_doctor_aws::metrics`).

#![forbid(unsafe_code)]

use eks_access_doctor_aws::enrich::Home;
use eks_access_doctor_aws::function::{init, report_init_error};
use eks_access_doctor_aws::handler::HandlerError;
use eks_access_doctor_core::arn::Arn;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::value::RawValue;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt().json().with_current_span(false).with_target(false).without_time().finish().with(log_filter()).init();
    let doctor = match init().await {
        Ok(doctor) => doctor,
        Err(e) => {
            tracing::error!(error = %e, "init failed");
            report_init_error(&e).await;
            return Err(Error::from(e));
        }
    };
    let doctor = &doctor;
    let region = &std::env::var("AWS_REGION").ok().filter(|r| !r.is_empty());
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| async move {
        let started = std::time::Instant::now();
        let account = Arn::parse(&event.context.invoked_function_arn).map(|arn| arn.account).filter(|a| !a.is_empty()).map(String::from);
        let home = Home { account, region: region.clone() };
        let result = doctor.handle_until(event.payload.get(), &home, event.context.deadline / 1000).await;
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

/// `RUST_LOG` as `level` or `target=level,…` (`info` when unset or unreadable).
fn log_filter() -> Targets {
    std::env::var("RUST_LOG").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO))
}
