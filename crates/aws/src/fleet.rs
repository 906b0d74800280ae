//! The fleet audit's three steps in the function (the Step Functions Distributed Map
//! `FleetAuditStateMachine` in template.yaml drives them), past one account:
//! - `fleet_plan`: for each target account and region, assume the read-only role
//!   (`deploy/fleet-audit-reader.yaml`) and list its clusters (or take those named):
//!   one item per account, region and cluster. A target whose role cannot be assumed
//!   or whose clusters cannot be listed is kept in `unlisted`, and the others go on.
//! - `fleet_audit`: one item: assume the role, read the cluster's picture, audit it,
//!   and leave the audit under `RESULTS/RUN/clusters/ACCOUNT/REGION/CLUSTER.json` (a
//!   cluster that cannot be read leaves `RESULTS/RUN/errors/ACCOUNT/REGION/CLUSTER.txt`).
//! - `fleet_summary`: add the run's audits up into `RESULTS/RUN/summary.json`, and
//!   every flag into `RESULTS/RUN/audit.sarif` for a code-scanning dashboard.
//!
//! S3 failures fail the step, so Step Functions retries it; nothing else does.

use crate::archive::run_prefix;
use crate::kubernetes::picture::read_state;
use crate::kubernetes::ApiReads;
use crate::s3::{self, S3Error, S3Url};
use crate::{describe_sdk_error, BoxFuture};
use aws_config::SdkConfig;
use aws_sdk_s3::Client;
use eks_access_doctor_core::kubernetes::audit::{self, Audit};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// Each Kubernetes API request of a fleet audit.
const KUBERNETES_TIMEOUT: Duration = Duration::from_secs(10);

/// An account and region to audit; `clusters` empty means every one (ListClusters).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Target {
    pub account: String,
    pub region: String,
    #[serde(default)]
    pub clusters: Vec<String>,
    /// Read the clusters' Kubernetes API too (the role needs an access entry in
    /// `eks-access-doctor-readers` and a route to the endpoint).
    #[serde(default = "yes")]
    pub kubernetes: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize, PartialEq)]
pub struct PlanRequest {
    pub targets: Vec<Target>,
    /// The read-only role's name in every account.
    pub role_name: String,
    pub results_bucket: String,
    #[serde(default)]
    pub results_prefix: String,
    /// The execution's name: each run's results stay apart.
    pub run: String,
}

/// One cluster to audit: a Map item.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Item {
    pub account: String,
    pub region: String,
    pub cluster: String,
    pub role_arn: String,
    pub kubernetes: bool,
    pub results_bucket: String,
    #[serde(default)]
    pub results_prefix: String,
    pub run: String,
}

#[derive(Debug, Default, Clone, Serialize, PartialEq)]
pub struct Plan {
    pub items: Vec<Item>,
    /// Targets whose clusters could not be listed, with why.
    pub unlisted: Vec<String>,
}

/// What one cluster's step left.
#[derive(Debug, Default, Clone, Serialize, PartialEq)]
pub struct Audited {
    pub account: String,
    pub region: String,
    pub cluster: String,
    pub flags: usize,
    pub gaps: usize,
    /// The object written.
    pub key: String,
    /// Why the cluster could not be audited, when it could not.
    pub error: Option<String>,
}

#[derive(Debug, Deserialize, PartialEq)]
pub struct SummaryRequest {
    pub results_bucket: String,
    #[serde(default)]
    pub results_prefix: String,
    pub run: String,
    /// The plan's targets whose clusters could not be listed.
    #[serde(default)]
    pub unlisted: Vec<String>,
}

/// A cluster whose audit step still failed after its retries (the state machine's Catch).
#[derive(Debug, Deserialize, PartialEq)]
pub struct FailedRequest {
    pub item: Item,
    #[serde(default)]
    pub error: String,
    #[serde(default)]
    pub cause: String,
}

/// One cluster's line of the summary.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Row {
    pub account: String,
    pub region: String,
    pub cluster: String,
    pub authentication_mode: String,
    pub principals: usize,
    pub flags: usize,
    pub gaps: usize,
}

/// What the whole run found, as left in `summary.json`.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
pub struct FleetSummary {
    pub run: String,
    pub accounts: usize,
    pub clusters: usize,
    pub flagged_clusters: usize,
    pub flags: usize,
    /// Flags by id.
    pub by_flag: BTreeMap<String, usize>,
    pub rows: Vec<Row>,
    /// Clusters that could not be audited, with why.
    pub errors: Vec<String>,
    pub results: String,
}

#[derive(Debug, PartialEq)]
pub enum Request {
    Plan(PlanRequest),
    Audit(Item),
    Failed(FailedRequest),
    Summarize(SummaryRequest),
}

/// `{"fleet_plan": …}`, `{"fleet_audit": …}` or `{"fleet_summary": …}`; `None` for
/// every other payload.
pub fn request(payload: &str) -> Option<Result<Request, String>> {
    #[derive(Deserialize)]
    struct Envelope {
        fleet_plan: Option<serde_json::Value>,
        fleet_audit: Option<serde_json::Value>,
        fleet_failed: Option<serde_json::Value>,
        fleet_summary: Option<serde_json::Value>,
    }
    fn read<T: serde::de::DeserializeOwned>(value: serde_json::Value, what: &str) -> Result<T, String> {
        serde_json::from_value(value).map_err(|e| format!("{what} request: {e}"))
    }
    let envelope = serde_json::from_str::<Envelope>(payload).ok()?;
    let mut requests = [
        envelope.fleet_plan.map(|v| read(v, "fleet_plan").map(Request::Plan)),
        envelope.fleet_audit.map(|v| read(v, "fleet_audit").map(Request::Audit)),
        envelope.fleet_failed.map(|v| read(v, "fleet_failed").map(Request::Failed)),
        envelope.fleet_summary.map(|v| read(v, "fleet_summary").map(Request::Summarize)),
    ]
    .into_iter()
    .flatten();
    match (requests.next(), requests.next()) {
        (None, _) => None,
        (Some(one), None) => Some(one),
        (Some(_), Some(_)) => Some(Err("a payload is one of fleet_plan, fleet_audit, fleet_failed or fleet_summary".into())),
    }
}

/// Credentials in another account: the read-only role assumed from the function's own.
pub trait Sessions: Send + Sync {
    fn assume<'a>(&'a self, role_arn: &'a str, region: &'a str, run: &'a str) -> BoxFuture<'a, SdkConfig>;
}

/// STS `AssumeRole` with the function's configuration (its credentials, endpoint).
pub struct StsSessions {
    pub config: SdkConfig,
}

impl Sessions for StsSessions {
    fn assume<'a>(&'a self, role_arn: &'a str, region: &'a str, run: &'a str) -> BoxFuture<'a, SdkConfig> {
        Box::pin(async move {
            let region = aws_config::Region::new(region.to_string());
            // A session name is at most 64 characters of [\w+=,.@-].
            let session: String = format!("eks-access-doctor-{run}")
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() || "+=,.@-_".contains(c) { c } else { '-' })
                .take(64)
                .collect();
            let provider = aws_config::sts::AssumeRoleProvider::builder(role_arn)
                .session_name(session)
                .region(region.clone())
                .configure(&self.config)
                .build()
                .await;
            self.config
                .to_builder()
                .region(region)
                .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(provider))
                .build()
        })
    }
}

/// The role's ARN in `account`, in the partition of `region`.
fn role_arn(account: &str, region: &str, role_name: &str) -> String {
    eks_access_doctor_core::arn::iam_role_arn(eks_access_doctor_core::arn::partition_of_region(region), account, "/", role_name)
}

/// Lists each target's clusters with the role assumed in its account.
pub async fn plan(sessions: &dyn Sessions, request: &PlanRequest) -> Plan {
    let mut plan = Plan::default();
    for target in &request.targets {
        let role = role_arn(&target.account, &target.region, &request.role_name);
        let clusters = if target.clusters.is_empty() {
            let config = sessions.assume(&role, &target.region, &request.run).await;
            match list_clusters(&aws_sdk_eks::Client::new(&config)).await {
                Ok(clusters) => clusters,
                Err(why) => {
                    plan.unlisted.push(format!("{} {}: {why}", target.account, target.region));
                    continue;
                }
            }
        } else {
            target.clusters.clone()
        };
        plan.items.extend(clusters.into_iter().map(|cluster| Item {
            account: target.account.clone(),
            region: target.region.clone(),
            cluster,
            role_arn: role.clone(),
            kubernetes: target.kubernetes,
            results_bucket: request.results_bucket.clone(),
            results_prefix: request.results_prefix.clone(),
            run: request.run.clone(),
        }));
    }
    plan
}

async fn list_clusters(eks: &aws_sdk_eks::Client) -> Result<Vec<String>, String> {
    let mut clusters = Vec::new();
    let mut pages = eks.list_clusters().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("eks:ListClusters: {}", describe_sdk_error(&e)))?;
        clusters.extend(page.clusters().iter().cloned());
    }
    Ok(clusters)
}

/// One cluster: its audit, or why it could not be made, written to the results.
pub async fn audit_one(sessions: &dyn Sessions, s3_client: &Client, item: &Item) -> Result<Audited, S3Error> {
    let config = sessions.assume(&item.role_arn, &item.region, &item.run).await;
    let path = format!("{}/{}/{}", item.account, item.region, item.cluster);
    let prefix = run_prefix(&item.results_prefix, &item.run);
    let mut done =
        Audited { account: item.account.clone(), region: item.region.clone(), cluster: item.cluster.clone(), ..Audited::default() };
    let credentials = config.credentials_provider();
    let state = match credentials {
        Some(credentials) => {
            let reads = ApiReads {
                eks: aws_sdk_eks::Client::new(&config),
                iam: aws_sdk_iam::Client::new(&config),
                credentials,
                endpoint_override: None,
                timeout: KUBERNETES_TIMEOUT,
            };
            read_state(&reads, &item.region, &item.cluster, item.kubernetes, None).await
        }
        None => Err("no credentials for the assumed role".to_string()),
    };
    match state {
        Ok(state) => {
            let audited = audit::audit(&state);
            done.flags = audited.flagged();
            done.gaps = audited.gaps.len();
            done.key = format!("{prefix}clusters/{path}.json");
            let body = serde_json::to_vec_pretty(&audited).unwrap_or_default();
            s3::put(s3_client, &item.results_bucket, &done.key, body, "application/json").await?;
        }
        Err(why) => {
            done.key = format!("{prefix}errors/{path}.txt");
            s3::put(s3_client, &item.results_bucket, &done.key, why.clone().into_bytes(), "text/plain").await?;
            done.error = Some(why);
        }
    }
    Ok(done)
}

/// A cluster whose step failed for good: `errors/…` says why, so the summary names it.
pub async fn record_failure(s3_client: &Client, failed: &FailedRequest) -> Result<Audited, S3Error> {
    let item = &failed.item;
    let key = format!("{}errors/{}/{}/{}.txt", run_prefix(&item.results_prefix, &item.run), item.account, item.region, item.cluster);
    let why = format!("the audit step failed: {} {}", failed.error, failed.cause);
    s3::put(s3_client, &item.results_bucket, &key, why.clone().into_bytes(), "text/plain").await?;
    Ok(Audited {
        account: item.account.clone(),
        region: item.region.clone(),
        cluster: item.cluster.clone(),
        key,
        error: Some(why),
        ..Audited::default()
    })
}

/// Adds the run's audits up into `summary.json` and `audit.sarif`.
pub async fn summarize(s3_client: &Client, request: &SummaryRequest, version: &str) -> Result<FleetSummary, S3Error> {
    let prefix = run_prefix(&request.results_prefix, &request.run);
    let mut summary =
        FleetSummary { run: request.run.clone(), results: format!("s3://{}/{prefix}", request.results_bucket), ..FleetSummary::default() };
    summary.errors.extend(request.unlisted.iter().map(|target| format!("clusters not listed: {target}")));
    let mut audits: Vec<Audit> = Vec::new();
    let clusters = S3Url { bucket: request.results_bucket.clone(), prefix: format!("{prefix}clusters/") };
    for object in s3::list_all(s3_client, &clusters).await? {
        let bytes = s3::get(s3_client, &request.results_bucket, &object.key).await?;
        match serde_json::from_slice::<Audit>(&bytes) {
            Ok(audit) => audits.push(audit),
            Err(e) => summary.errors.push(format!("{}: not an audit: {e}", object.key)),
        }
    }
    let errors = S3Url { bucket: request.results_bucket.clone(), prefix: format!("{prefix}errors/") };
    for object in s3::list_all(s3_client, &errors).await? {
        let why = s3::get(s3_client, &request.results_bucket, &object.key).await?;
        let cluster = object.key.trim_start_matches(&errors.prefix).trim_end_matches(".txt");
        summary.errors.push(format!("{cluster}: {}", String::from_utf8_lossy(&why)));
    }
    let mut accounts: Vec<&str> = audits.iter().map(|a| a.account.as_str()).collect();
    accounts.sort_unstable();
    accounts.dedup();
    summary.accounts = accounts.len();
    summary.clusters = audits.len();
    for a in &audits {
        let flags = a.flagged();
        summary.flags += flags;
        summary.flagged_clusters += usize::from(flags > 0);
        for f in a.principals.iter().flat_map(|p| &p.flags) {
            *summary.by_flag.entry(f.flag.id().to_string()).or_default() += 1;
        }
        summary.rows.push(Row {
            account: a.account.clone(),
            region: a.region.clone(),
            cluster: a.cluster.clone(),
            authentication_mode: a.authentication_mode.clone(),
            principals: a.principals.len(),
            flags,
            gaps: a.gaps.len(),
        });
    }
    let sarif = serde_json::to_vec_pretty(&audit::sarif(&audits, version)).unwrap_or_default();
    s3::put(s3_client, &request.results_bucket, &format!("{prefix}audit.sarif"), sarif, "application/json").await?;
    let body = serde_json::to_vec_pretty(&summary).unwrap_or_default();
    s3::put(s3_client, &request.results_bucket, &format!("{prefix}summary.json"), body, "application/json").await?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_told_apart() {
        let plan = r#"{"fleet_plan": {"targets": [{"account": "111122223333", "region": "eu-west-1"}], "role_name": "r", "results_bucket": "b", "run": "x"}}"#;
        let Some(Ok(Request::Plan(plan))) = request(plan) else { panic!() };
        assert!(plan.targets[0].kubernetes && plan.targets[0].clusters.is_empty());
        assert!(matches!(request(r#"{"fleet_summary": {"results_bucket": "b", "run": "x"}}"#), Some(Ok(Request::Summarize(_)))));
        assert!(matches!(request(r#"{"fleet_audit": {"account": "1"}}"#), Some(Err(_))));
        assert!(matches!(request(r#"{"fleet_plan": {}, "fleet_summary": {}}"#), Some(Err(_))));
        let failed = r#"{"fleet_failed": {"item": {"account": "1", "region": "r", "cluster": "c", "role_arn": "a", "kubernetes": false, "results_bucket": "b", "run": "x"}, "error": "States.Timeout", "cause": "slow"}}"#;
        assert!(matches!(request(failed), Some(Ok(Request::Failed(f))) if f.error == "States.Timeout"));
        assert!(request(r#"{"detail": {}}"#).is_none());
        assert_eq!(role_arn("111122223333", "cn-north-1", "reader"), "arn:aws-cn:iam::111122223333:role/reader");
        assert_eq!(run_prefix("audits/", "r1"), "audits/r1/");
    }
}
