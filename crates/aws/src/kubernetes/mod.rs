//! Reading the cluster's Kubernetes API, opt-in: the endpoint and CA from EKS
//! `DescribeCluster`, a token signed with the caller's own credentials (`token`),
//! and the reads of `client`. `KubernetesLookups` adds these reads to any
//! `Lookups`, so the handler and the CLI gather them like every other live fact.

pub mod checks;
pub mod client;
pub mod picture;
pub mod token;

use super::enrich::Lookups;
use super::{describe_sdk_error, BoxFuture};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use client::{Endpoint, KubeClient};
use eks_access_doctor_core::arn::Arn;
use eks_access_doctor_core::facts::{AccessEntryFacts, AwsAuthFacts, Lookup, PodAssociation, PodIdentityAgent, PrincipalFacts, RoleTrust};
use eks_access_doctor_core::kubernetes::{AccessEntrySummary, AwsAuth, Binding};
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

/// Access entries described for their type, and roles looked up for their path, at most.
const MAX_DESCRIBED: usize = 50;

/// Reads a cluster's Kubernetes API with the credentials given.
#[derive(Clone, Debug)]
pub struct ApiReads {
    pub eks: aws_sdk_eks::Client,
    pub iam: aws_sdk_iam::Client,
    pub credentials: SharedCredentialsProvider,
    /// Use this endpoint and CA instead of `DescribeCluster`'s (a test server, a proxy).
    pub endpoint_override: Option<Endpoint>,
    /// Each HTTP request's limit.
    pub timeout: Duration,
}

impl ApiReads {
    pub fn eks_in(&self, region: &str) -> aws_sdk_eks::Client {
        if region.is_empty() || self.eks.config().region().is_some_and(|r| r.as_ref() == region) {
            return self.eks.clone();
        }
        aws_sdk_eks::Client::from_conf(self.eks.config().to_builder().region(aws_sdk_eks::config::Region::new(region.to_string())).build())
    }

    /// The region STS tokens are signed for: the cluster's, else the client's.
    fn token_region(&self, region: &str) -> String {
        if !region.is_empty() {
            return region.to_string();
        }
        self.eks.config().region().map(|r| r.as_ref().to_string()).unwrap_or_else(|| "us-east-1".into())
    }

    /// A client for the cluster's API, authenticated as these credentials.
    pub async fn client(&self, region: &str, cluster: &str) -> Result<KubeClient, String> {
        let endpoint = match &self.endpoint_override {
            Some(endpoint) => endpoint.clone(),
            None => {
                let described = self.eks_in(region).describe_cluster().name(cluster).send().await.map_err(|e| describe_sdk_error(&e))?;
                let cluster_info = described.cluster.ok_or("DescribeCluster returned no cluster")?;
                let url = cluster_info.endpoint().ok_or("the cluster has no endpoint yet")?;
                let ca =
                    cluster_info.certificate_authority().and_then(|c| c.data()).ok_or("the cluster has no certificate authority yet")?;
                Endpoint::from_describe_cluster(url, ca).map_err(|e| e.to_string())?
            }
        };
        let credentials = self.credentials.provide_credentials().await.map_err(|e| format!("no AWS credentials: {e}"))?;
        let token = token::token(&credentials, &self.token_region(region), cluster, SystemTime::now()).map_err(|e| e.to_string())?;
        KubeClient::new(&endpoint, token, self.timeout).map_err(|e| e.to_string())
    }

    pub async fn bindings(&self, region: &str, cluster: &str) -> Lookup<Vec<Binding>> {
        let client = match self.client(region, cluster).await {
            Ok(client) => client,
            Err(why) => return Lookup::Failed(why),
        };
        client.bindings().await.map_or_else(|e| Lookup::Failed(e.to_string()), Lookup::Found)
    }

    /// The ConfigMap, the cluster's access entries (node candidates described for
    /// their type) and the full ARNs of the Identity Center roles it maps.
    pub async fn aws_auth(&self, region: &str, cluster: &str) -> Lookup<AwsAuthFacts> {
        let client = match self.client(region, cluster).await {
            Ok(client) => client,
            Err(why) => return Lookup::Failed(why),
        };
        let config_map = match client.aws_auth().await {
            Ok(config_map) => config_map,
            Err(e) => return Lookup::Failed(e.to_string()),
        };
        let Some(auth) = config_map else { return Lookup::Found(AwsAuthFacts::default()) };
        match self.entries_and_roles(region, cluster, &auth).await {
            Ok((entries, role_arns)) => Lookup::Found(AwsAuthFacts { config_map: Some(auth), entries, role_arns }),
            Err(why) => Lookup::Failed(why),
        }
    }

    async fn entries_and_roles(
        &self,
        region: &str,
        cluster: &str,
        auth: &AwsAuth,
    ) -> Result<(Vec<AccessEntrySummary>, BTreeMap<String, String>), String> {
        let eks = self.eks_in(region);
        let mut pages = eks.list_access_entries().cluster_name(cluster).into_paginator().send();
        let mut entries = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| format!("eks:ListAccessEntries: {}", describe_sdk_error(&e)))?;
            entries.extend(page.access_entries().iter().map(|arn| AccessEntrySummary { principal_arn: arn.clone(), entry_type: None }));
        }
        // The names of the roles the ConfigMap maps, as written (IAM compares them
        // without case; so do the matches below).
        let names: Vec<String> = auth
            .mappings
            .iter()
            .filter_map(|m| match &m.kind {
                eks_access_doctor_core::kubernetes::MappingKind::Role { arn } => {
                    Arn::parse(arn).and_then(|a| a.principal()).map(|p| p.name.to_string())
                }
                _ => None,
            })
            .collect();
        let mapped: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
        // Entry types matter for node roles: describe the entries of mapped roles.
        let mut described = 0;
        for entry in &mut entries {
            let name = Arn::parse(&entry.principal_arn).and_then(|a| a.principal()).map(|p| p.name.to_lowercase());
            if described < MAX_DESCRIBED && name.is_some_and(|n| mapped.contains(&n)) {
                described += 1;
                if let Ok(out) = eks.describe_access_entry().cluster_name(cluster).principal_arn(&entry.principal_arn).send().await {
                    entry.entry_type = out.access_entry().and_then(|e| e.r#type()).map(str::to_string);
                }
            }
        }
        // Identity Center roles have paths the ConfigMap leaves out: IAM knows them.
        let mut role_arns = BTreeMap::new();
        for name in names.iter().filter(|n| n.to_lowercase().starts_with("awsreservedsso_")).take(MAX_DESCRIBED) {
            if let Ok(out) = self.iam.get_role().role_name(name).send().await {
                if let Some(role) = out.role() {
                    role_arns.insert(role.role_name().to_lowercase(), role.arn().to_string());
                }
            }
        }
        Ok((entries, role_arns))
    }
}

/// Any `Lookups` with the Kubernetes reads added.
pub struct KubernetesLookups<L> {
    pub inner: L,
    pub reads: ApiReads,
}

impl<L: Lookups> Lookups for KubernetesLookups<L> {
    fn cluster_auth_mode<'a>(&'a self, region: &'a str, cluster: &'a str) -> BoxFuture<'a, Lookup<String>> {
        self.inner.cluster_auth_mode(region, cluster)
    }
    fn access_entry<'a>(&'a self, region: &'a str, cluster: &'a str, principal: &'a str) -> BoxFuture<'a, Lookup<AccessEntryFacts>> {
        self.inner.access_entry(region, cluster, principal)
    }
    fn principal<'a>(&'a self, arn: &'a str) -> BoxFuture<'a, Lookup<PrincipalFacts>> {
        self.inner.principal(arn)
    }
    fn cluster_entries<'a>(&'a self, region: &'a str, cluster: &'a str) -> BoxFuture<'a, Lookup<Vec<String>>> {
        self.inner.cluster_entries(region, cluster)
    }
    fn bindings<'a>(&'a self, region: &'a str, cluster: &'a str) -> BoxFuture<'a, Lookup<Vec<Binding>>> {
        Box::pin(self.reads.bindings(region, cluster))
    }
    fn aws_auth<'a>(&'a self, region: &'a str, cluster: &'a str) -> BoxFuture<'a, Lookup<AwsAuthFacts>> {
        Box::pin(self.reads.aws_auth(region, cluster))
    }
    fn role_trust<'a>(&'a self, arn: &'a str) -> BoxFuture<'a, Lookup<RoleTrust>> {
        self.inner.role_trust(arn)
    }
    fn pod_associations<'a>(
        &'a self,
        region: &'a str,
        cluster: &'a str,
        namespace: &'a str,
        service_account: &'a str,
    ) -> BoxFuture<'a, Lookup<Vec<PodAssociation>>> {
        self.inner.pod_associations(region, cluster, namespace, service_account)
    }
    fn pod_identity_agent<'a>(&'a self, region: &'a str, cluster: &'a str) -> BoxFuture<'a, Lookup<PodIdentityAgent>> {
        self.inner.pod_identity_agent(region, cluster)
    }
}
