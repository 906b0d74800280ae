//! Reads a cluster's whole access picture (`ClusterState`) for `audit`,
//! `explain --cluster` and `check-groups --reverse`: `DescribeCluster`, every access
//! entry described with its associated policies, each entry's IAM principal (same
//! account only), and, through the Kubernetes API, the bindings, Roles, ClusterRoles
//! and `aws-auth`. The per-entry reads run [`CONCURRENCY`] at a time; the SDK's
//! standard retry backs off on throttling. What cannot be read is a gap the answers
//! name, never a silent omission.

use super::client::KubeError;
use super::ApiReads;
use crate::enrich::{AwsLookups, Lookups};
use crate::{describe_sdk_error, BoxFuture};
use aws_smithy_types::date_time::Format;
use eks_access_doctor_core::arn::Arn;
use eks_access_doctor_core::facts::Lookup;
use eks_access_doctor_core::kubernetes::authz::{Association, Scope};
use eks_access_doctor_core::kubernetes::picture::{ClusterState, Entry, PrincipalState};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Entries described at once.
pub const CONCURRENCY: usize = 8;

/// Called once per entry read, with (done, total): a progress bar.
pub type Progress = Arc<dyn Fn(usize, usize) + Send + Sync>;

/// Everything `audit` needs of one cluster. `Err` only when the cluster itself cannot
/// be described; other failures are gaps.
pub async fn read_state(
    reads: &ApiReads,
    region: &str,
    cluster: &str,
    kubernetes: bool,
    progress: Option<Progress>,
) -> Result<ClusterState, String> {
    let eks = reads.eks_in(region);
    let described =
        eks.describe_cluster().name(cluster).send().await.map_err(|e| format!("eks:DescribeCluster: {}", describe_sdk_error(&e)))?;
    let info = described.cluster.ok_or("DescribeCluster returned no cluster")?;
    let cluster_arn = info.arn().unwrap_or_default().to_string();
    let arn = Arn::parse(&cluster_arn);
    let mut state = ClusterState {
        read_at: aws_smithy_types::DateTime::from(std::time::SystemTime::now()).fmt(Format::DateTime).unwrap_or_default(),
        cluster: cluster.to_string(),
        region: region.to_string(),
        account: arn.map(|a| a.account.to_string()).unwrap_or_default(),
        partition: arn.map(|a| a.partition.to_string()).unwrap_or_else(|| eks_access_doctor_core::arn::partition_of_region(region).into()),
        authentication_mode: info.access_config().and_then(|a| a.authentication_mode()).map(|m| m.as_str().to_string()),
        created_at: info.created_at().map(|t| t.secs()),
        ..ClusterState::default()
    };
    if state.reads_entries() {
        match entries(reads, region, cluster, &state.account, progress).await {
            Ok((entries, principals, gaps)) => {
                state.read.entries = gaps.is_empty();
                state.entries = entries;
                state.principals = principals;
                state.gaps.extend(gaps);
            }
            Err(why) => state.gaps.push(why),
        }
    } else {
        state.read.entries = true;
    }
    if !kubernetes {
        state.gaps.push("the Kubernetes API (bindings, roles, aws-auth): Kubernetes access is off".into());
        return Ok(state);
    }
    match reads.client(region, cluster).await {
        Ok(client) => {
            match client.bindings().await {
                Ok(bindings) => {
                    state.rbac.bindings = bindings;
                    state.read.bindings = true;
                }
                // An endpoint that cannot be reached (a private one, from outside its VPC)
                // would take each read's whole timeout again: the rest is not tried.
                Err(e @ KubeError::Unreachable(_)) => {
                    state.gaps.push(format!("the Kubernetes API (bindings, roles, aws-auth): {e}"));
                    return Ok(state);
                }
                Err(e) => state.gaps.push(format!("RoleBindings and ClusterRoleBindings: {e}")),
            }
            match client.roles().await {
                Ok(roles) => {
                    state.rbac.roles = roles;
                    state.read.roles = true;
                }
                Err(e) => state.gaps.push(format!("Roles and ClusterRoles: {e}")),
            }
            match client.aws_auth().await {
                Ok(auth) => {
                    state.aws_auth = auth;
                    state.read.aws_auth = true;
                }
                Err(e) => state.gaps.push(format!("the aws-auth ConfigMap: {e}")),
            }
        }
        Err(why) => state.gaps.push(format!("the Kubernetes API (bindings, roles, aws-auth): {why}")),
    }
    Ok(state)
}

type EntriesRead = (Vec<Entry>, Vec<(String, PrincipalState)>, Vec<String>);

async fn entries(reads: &ApiReads, region: &str, cluster: &str, account: &str, progress: Option<Progress>) -> Result<EntriesRead, String> {
    let eks = reads.eks_in(region);
    let mut arns = Vec::new();
    let mut pages = eks.list_access_entries().cluster_name(cluster).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("eks:ListAccessEntries: {}", describe_sdk_error(&e)))?;
        arns.extend(page.access_entries().iter().cloned());
    }
    let total = arns.len();
    let limit = Arc::new(Semaphore::new(CONCURRENCY));
    let lookups = Arc::new(AwsLookups { eks: eks.clone(), iam: reads.iam.clone() });
    let mut tasks = tokio::task::JoinSet::new();
    for (index, principal) in arns.into_iter().enumerate() {
        let (eks, lookups, limit) = (eks.clone(), lookups.clone(), limit.clone());
        let (cluster, account) = (cluster.to_string(), account.to_string());
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            (index, read_entry(&eks, &lookups, &cluster, &account, principal).await)
        });
    }
    let mut read = Vec::with_capacity(total);
    while let Some(done) = tasks.join_next().await {
        read.push(done.map_err(|e| format!("an entry's read stopped: {e}"))?);
        if let Some(progress) = &progress {
            progress(read.len(), total);
        }
    }
    read.sort_by_key(|(index, _)| *index);
    let (mut entries, mut principals, mut gaps) = (Vec::new(), Vec::new(), Vec::new());
    for (_, outcome) in read {
        match outcome {
            Ok((entry, principal)) => {
                principals.push((entry.principal_arn.clone(), principal));
                entries.push(entry);
            }
            Err(why) => gaps.push(why),
        }
    }
    Ok((entries, principals, gaps))
}

async fn read_entry(
    eks: &aws_sdk_eks::Client,
    lookups: &AwsLookups,
    cluster: &str,
    account: &str,
    principal: String,
) -> Result<(Entry, PrincipalState), String> {
    let described = eks
        .describe_access_entry()
        .cluster_name(cluster)
        .principal_arn(&principal)
        .send()
        .await
        .map_err(|e| format!("eks:DescribeAccessEntry {principal}: {}", describe_sdk_error(&e)))?;
    let entry = described.access_entry.ok_or_else(|| format!("eks:DescribeAccessEntry {principal}: no entry"))?;
    let mut associations = Vec::new();
    let mut pages = eks.list_associated_access_policies().cluster_name(cluster).principal_arn(&principal).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("eks:ListAssociatedAccessPolicies {principal}: {}", describe_sdk_error(&e)))?;
        for policy in page.associated_access_policies() {
            let scope = match policy.access_scope() {
                Some(scope) if scope.r#type().is_some_and(|t| t.as_str() == "namespace") => {
                    Scope::Namespace { namespaces: scope.namespaces().to_vec() }
                }
                _ => Scope::Cluster,
            };
            associations.push(Association { policy_arn: policy.policy_arn().unwrap_or_default().to_string(), scope });
        }
    }
    let state = principal_state(lookups, account, &principal).await;
    let entry = Entry {
        principal_arn: principal,
        entry_type: entry.r#type().unwrap_or("STANDARD").to_string(),
        username: entry.username().unwrap_or_default().to_string(),
        groups: entry.kubernetes_groups().to_vec(),
        associations,
        created_at: entry.created_at().map(|t| t.secs()),
    };
    Ok((entry, state))
}

async fn principal_state(lookups: &AwsLookups, account: &str, principal: &str) -> PrincipalState {
    let other = Arn::parse(principal).is_some_and(|a| a.account != account);
    if other {
        return PrincipalState::Unknown { why: "another account's IAM is not read".into() };
    }
    match lookups.principal(principal).await {
        Lookup::Found(facts) => PrincipalState::Exists {
            created_at: facts
                .created
                .as_deref()
                .and_then(|c| aws_smithy_types::DateTime::from_str(c, Format::DateTime).ok())
                .map(|t| t.secs()),
            trusts_ec2: facts.ec2_may_assume(),
        },
        Lookup::Absent => PrincipalState::Deleted,
        Lookup::Failed(why) => PrincipalState::Unknown { why },
        other => PrincipalState::Unknown { why: format!("{other:?}") },
    }
}

/// The scheduled audit's reads, behind a port so the handler's tests give their own.
pub trait Auditor: Send + Sync {
    /// The clusters to audit.
    fn clusters(&self) -> BoxFuture<'_, Result<Vec<String>, String>>;
    /// One cluster's picture.
    fn read<'a>(&'a self, cluster: &'a str) -> BoxFuture<'a, Result<ClusterState, String>>;
}

/// The function's auditor: its own region, the clusters configured (`AUDIT_CLUSTERS`)
/// or every cluster `ListClusters` names, the Kubernetes reads when its access is on.
pub struct LiveAuditor {
    pub reads: ApiReads,
    pub region: String,
    pub clusters: Vec<String>,
    pub kubernetes: bool,
}

impl Auditor for LiveAuditor {
    fn clusters(&self) -> BoxFuture<'_, Result<Vec<String>, String>> {
        Box::pin(async move {
            if !self.clusters.is_empty() {
                return Ok(self.clusters.clone());
            }
            let mut clusters = Vec::new();
            let mut pages = self.reads.eks_in(&self.region).list_clusters().into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| format!("eks:ListClusters: {}", describe_sdk_error(&e)))?;
                clusters.extend(page.clusters().iter().cloned());
            }
            Ok(clusters)
        })
    }

    fn read<'a>(&'a self, cluster: &'a str) -> BoxFuture<'a, Result<ClusterState, String>> {
        Box::pin(read_state(&self.reads, &self.region, cluster, self.kubernetes, None))
    }
}
