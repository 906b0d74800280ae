//! Best-effort live facts: the cluster's authentication mode, the existing access
//! entry, the principal in IAM. Every lookup runs inside one time budget; a lookup
//! that fails or runs late becomes a note in the alert, never a lost alert.

use super::{describe_sdk_error, sdk_error_code, BoxFuture};
use eks_access_doctor_core::arn::{self, Arn};
use eks_access_doctor_core::event::Event;
use eks_access_doctor_core::facts::{
    AccessEntryFacts, AwsAuthFacts, Facts, Lookup, LookupPlan, PodAssociation, PodIdentityAgent, PrincipalFacts, PrincipalKind, RoleTrust,
};
use eks_access_doctor_core::kubernetes::Binding;
use std::time::Duration;

/// The lookups enrichment can make. The AWS implementation is `AwsLookups`.
pub trait Lookups: Send + Sync {
    /// `region`: the event's region (empty: the client's own).
    fn cluster_auth_mode<'a>(&'a self, region: &'a str, cluster: &'a str) -> BoxFuture<'a, Lookup<String>>;
    fn access_entry<'a>(&'a self, region: &'a str, cluster: &'a str, principal: &'a str) -> BoxFuture<'a, Lookup<AccessEntryFacts>>;
    fn principal<'a>(&'a self, arn: &'a str) -> BoxFuture<'a, Lookup<PrincipalFacts>>;
    /// The principal ARNs of the cluster's access entries.
    fn cluster_entries<'a>(&'a self, region: &'a str, cluster: &'a str) -> BoxFuture<'a, Lookup<Vec<String>>>;
    /// The cluster's RoleBindings and ClusterRoleBindings (the Kubernetes API). Not
    /// read unless Kubernetes access is configured (`aws::kubernetes::KubernetesLookups`).
    fn bindings<'a>(&'a self, _region: &'a str, _cluster: &'a str) -> BoxFuture<'a, Lookup<Vec<Binding>>> {
        Box::pin(async { Lookup::NotChecked })
    }
    /// The `aws-auth` ConfigMap and the access entries it is compared with.
    fn aws_auth<'a>(&'a self, _region: &'a str, _cluster: &'a str) -> BoxFuture<'a, Lookup<AwsAuthFacts>> {
        Box::pin(async { Lookup::NotChecked })
    }
    /// A role's ARN and trust policy (`iam:GetRole`). (The Pod Identity lookups answer
    /// `NotChecked` by default, for lookups that stand in for only some of AWS; a wrapper
    /// forwards them.)
    fn role_trust<'a>(&'a self, _arn: &'a str) -> BoxFuture<'a, Lookup<RoleTrust>> {
        Box::pin(async { Lookup::NotChecked })
    }
    /// The Pod Identity associations of one service account.
    fn pod_associations<'a>(
        &'a self,
        _region: &'a str,
        _cluster: &'a str,
        _namespace: &'a str,
        _service_account: &'a str,
    ) -> BoxFuture<'a, Lookup<Vec<PodAssociation>>> {
        Box::pin(async { Lookup::NotChecked })
    }
    /// Whether the cluster runs the Pod Identity Agent: the add-on, or Auto Mode.
    fn pod_identity_agent<'a>(&'a self, _region: &'a str, _cluster: &'a str) -> BoxFuture<'a, Lookup<PodIdentityAgent>> {
        Box::pin(async { Lookup::NotChecked })
    }
}

/// Runs the planned lookups, concurrently, within `budget`. Events from another
/// account than the function's `home` (e.g. through an organization bus) are not
/// looked up: its role cannot see them.
pub async fn gather(lookups: &dyn Lookups, event: &Event, plan: LookupPlan, budget: Duration, home: &Home) -> Facts {
    if plan.is_empty() {
        return Facts::default();
    }
    if let Some(why) = home.why_not_here(event) {
        return Facts {
            cluster_auth_mode: not_here(plan.cluster, &why),
            access_entry: not_here(plan.access_entry, &why),
            principal: not_here(plan.principal, &why),
            cluster_entries: not_here(plan.cluster_entries, &why),
            bindings: not_here(plan.bindings, &why),
            aws_auth: not_here(plan.aws_auth, &why),
            association_role: not_here(plan.association_role, &why),
            pod_associations: not_here(plan.pod_associations, &why),
            pod_identity_agent: not_here(plan.pod_identity_agent, &why),
            ..Facts::default()
        };
    }
    let region = event.region.as_str();
    let cluster = event.cluster.as_deref().unwrap_or_default();
    let principal = event.principal_arn.as_deref().unwrap_or_default();
    let role = event.association_role().unwrap_or_default();
    let (namespace, service_account) =
        (event.request.namespace.as_deref().unwrap_or_default(), event.request.service_account.as_deref().unwrap_or_default());
    let (
        cluster_auth_mode,
        access_entry,
        principal,
        cluster_entries,
        bindings,
        aws_auth,
        association_role,
        pod_associations,
        pod_identity_agent,
    ) = tokio::join!(
        within(plan.cluster, budget, lookups.cluster_auth_mode(region, cluster)),
        within(plan.access_entry, budget, lookups.access_entry(region, cluster, principal)),
        in_home_iam(plan.principal, budget, home, principal, lookups.principal(principal)),
        within(plan.cluster_entries, budget, lookups.cluster_entries(region, cluster)),
        within(plan.bindings, budget, lookups.bindings(region, cluster)),
        within(plan.aws_auth, budget, lookups.aws_auth(region, cluster)),
        in_home_iam(plan.association_role, budget, home, role, lookups.role_trust(role)),
        within(plan.pod_associations, budget, lookups.pod_associations(region, cluster, namespace, service_account)),
        within(plan.pod_identity_agent, budget, lookups.pod_identity_agent(region, cluster)),
    );
    Facts {
        cluster_auth_mode,
        access_entry,
        principal,
        cluster_entries,
        bindings,
        aws_auth,
        association_role,
        pod_associations,
        pod_identity_agent,
        ..Facts::default()
    }
}

/// Where the function runs: its role only sees this account. (EKS lookups go to
/// the event's own region; IAM is global.)
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Home {
    pub account: Option<String>,
    /// The function's region: where a CloudWatch Logs subscription delivers from.
    pub region: Option<String>,
}

impl Home {
    /// Why this function cannot read `principal` in IAM: it belongs to another account.
    pub fn why_not_principal_here(&self, principal: &str) -> Option<String> {
        let own = self.account.as_deref()?;
        let theirs = Arn::parse(principal)?.account;
        (own != theirs).then(|| format!("the principal is in account {theirs} and this function reads IAM in account {own}"))
    }

    /// Why this function cannot look up the event's resources, if it cannot.
    pub fn why_not_here(&self, event: &Event) -> Option<String> {
        let (own, theirs) = (self.account.as_deref()?, event.account.as_deref()?);
        (own != theirs).then(|| format!("the event is from account {theirs} and this function runs in account {own}"))
    }
}

/// A lookup this function cannot make, with why, if it was wanted.
fn not_here<T>(wanted: bool, why: &str) -> Lookup<T> {
    if wanted {
        Lookup::Failed(why.to_string())
    } else {
        Lookup::NotChecked
    }
}

/// An IAM lookup of `arn` if `wanted`, made only for an identity of this function's
/// account: IAM answers for its own account, and a same-named one here is not the other's.
async fn in_home_iam<T>(wanted: bool, budget: Duration, home: &Home, arn: &str, lookup: BoxFuture<'_, Lookup<T>>) -> Lookup<T> {
    match home.why_not_principal_here(arn) {
        Some(why) => not_here(wanted, &why),
        None => within(wanted, budget, lookup).await,
    }
}

/// One lookup if `wanted`, cut off at `budget`.
async fn within<T>(wanted: bool, budget: Duration, lookup: BoxFuture<'_, Lookup<T>>) -> Lookup<T> {
    if !wanted {
        return Lookup::NotChecked;
    }
    tokio::time::timeout(budget, lookup)
        .await
        .unwrap_or_else(|_| Lookup::Failed(format!("no answer within the {} ms enrichment budget", budget.as_millis())))
}

/// Lookups against EKS and IAM.
#[derive(Clone, Debug)]
pub struct AwsLookups {
    pub eks: aws_sdk_eks::Client,
    pub iam: aws_sdk_iam::Client,
}

/// Not-found codes mean "the thing does not exist", which is itself a fact.
fn not_found_or_failed<T, E, R>(error: &aws_smithy_runtime_api::client::result::SdkError<E, R>) -> Lookup<T>
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match sdk_error_code(error) {
        Some("ResourceNotFoundException" | "NoSuchEntity") => Lookup::Absent,
        _ => Lookup::Failed(describe_sdk_error(error)),
    }
}

impl AwsLookups {
    /// The EKS client for the event's region, sharing the HTTP client and credentials.
    fn eks_in(&self, region: &str) -> aws_sdk_eks::Client {
        if region.is_empty() || self.eks.config().region().is_some_and(|r| r.as_ref() == region) {
            return self.eks.clone();
        }
        let config = self.eks.config().to_builder().region(aws_sdk_eks::config::Region::new(region.to_string())).build();
        aws_sdk_eks::Client::from_conf(config)
    }
}

impl Lookups for AwsLookups {
    fn cluster_auth_mode<'a>(&'a self, region: &'a str, cluster: &'a str) -> BoxFuture<'a, Lookup<String>> {
        Box::pin(async move {
            match self.eks_in(region).describe_cluster().name(cluster).send().await {
                Ok(out) => out
                    .cluster()
                    .and_then(|c| c.access_config())
                    .and_then(|a| a.authentication_mode())
                    .map(|m| Lookup::Found(m.as_str().to_string()))
                    .unwrap_or_else(|| Lookup::Failed("DescribeCluster returned no authentication mode".into())),
                Err(e) => not_found_or_failed(&e),
            }
        })
    }

    fn access_entry<'a>(&'a self, region: &'a str, cluster: &'a str, principal: &'a str) -> BoxFuture<'a, Lookup<AccessEntryFacts>> {
        Box::pin(async move {
            let eks = self.eks_in(region);
            let entry = eks.describe_access_entry().cluster_name(cluster).principal_arn(principal).send();
            let policies = eks.list_associated_access_policies().cluster_name(cluster).principal_arn(principal).send();
            let (entry, policies) = tokio::join!(entry, policies);
            let entry = match entry {
                Ok(out) => match out.access_entry {
                    Some(entry) => entry,
                    None => return Lookup::Absent,
                },
                Err(e) => return not_found_or_failed(&e),
            };
            let policies = match policies {
                Ok(out) => out.associated_access_policies().iter().filter_map(|p| p.policy_arn().map(String::from)).collect(),
                Err(e) => vec![format!("(not listed: {})", describe_sdk_error(&e))],
            };
            Lookup::Found(AccessEntryFacts {
                entry_type: entry.r#type().map(String::from),
                username: entry.username().filter(|u| !u.is_empty()).map(String::from),
                kubernetes_groups: entry.kubernetes_groups().to_vec(),
                created_at: entry.created_at().map(|t| t.to_string()),
                policies,
            })
        })
    }

    fn principal<'a>(&'a self, arn: &'a str) -> BoxFuture<'a, Lookup<PrincipalFacts>> {
        Box::pin(async move {
            let Some(principal) = Arn::parse(arn).and_then(|a| a.principal()) else {
                return Lookup::Failed("not an IAM ARN".into());
            };
            let name = principal.name;
            if principal.kind == arn::PrincipalKind::Role {
                match self.iam.get_role().role_name(name).send().await {
                    Ok(out) => out.role().map_or(Lookup::Absent, |r| {
                        let mut role = found_principal(PrincipalKind::Role, r.path(), r.arn(), r.role_id(), r.create_date());
                        role.trusted_services =
                            r.assume_role_policy_document().map(eks_access_doctor_core::facts::trusted_services).unwrap_or_default();
                        Lookup::Found(role)
                    }),
                    Err(e) => not_found_or_failed(&e),
                }
            } else if principal.kind == arn::PrincipalKind::User {
                match self.iam.get_user().user_name(name).send().await {
                    Ok(out) => out.user().map_or(Lookup::Absent, |u| {
                        Lookup::Found(found_principal(PrincipalKind::User, u.path(), u.arn(), u.user_id(), u.create_date()))
                    }),
                    Err(e) => not_found_or_failed(&e),
                }
            } else {
                Lookup::Failed(format!("{:?} is neither a role nor a user", principal.arn.resource))
            }
        })
    }

    fn cluster_entries<'a>(&'a self, region: &'a str, cluster: &'a str) -> BoxFuture<'a, Lookup<Vec<String>>> {
        Box::pin(async move {
            let mut pages = self.eks_in(region).list_access_entries().cluster_name(cluster).into_paginator().send();
            let mut arns = Vec::new();
            let mut read = 0;
            while let Some(page) = pages.next().await {
                match page {
                    Ok(page) => arns.extend(page.access_entries().iter().cloned()),
                    Err(e) => return not_found_or_failed(&e),
                }
                read += 1;
                if read == MAX_ENTRY_PAGES {
                    break;
                }
            }
            Lookup::Found(arns)
        })
    }

    fn role_trust<'a>(&'a self, arn: &'a str) -> BoxFuture<'a, Lookup<RoleTrust>> {
        Box::pin(async move {
            let Some(name) = Arn::parse(arn).and_then(|a| a.principal()).filter(|p| p.kind == arn::PrincipalKind::Role).map(|p| p.name)
            else {
                return Lookup::Failed("not an IAM role ARN".into());
            };
            match self.iam.get_role().role_name(name).send().await {
                Ok(out) => out.role().map_or(Lookup::Absent, |r| {
                    Lookup::Found(RoleTrust {
                        arn: r.arn().to_string(),
                        document: r.assume_role_policy_document().map(eks_access_doctor_core::facts::trust_document).unwrap_or_default(),
                    })
                }),
                Err(e) => not_found_or_failed(&e),
            }
        })
    }

    fn pod_associations<'a>(
        &'a self,
        region: &'a str,
        cluster: &'a str,
        namespace: &'a str,
        service_account: &'a str,
    ) -> BoxFuture<'a, Lookup<Vec<PodAssociation>>> {
        Box::pin(async move {
            let eks = self.eks_in(region);
            let listed =
                eks.list_pod_identity_associations().cluster_name(cluster).namespace(namespace).service_account(service_account).send();
            let ids: Vec<String> = match listed.await {
                Ok(out) => out.associations().iter().filter_map(|a| a.association_id().map(String::from)).collect(),
                Err(e) => return not_found_or_failed(&e),
            };
            // One association per service account: EKS refuses a second.
            let mut associations = Vec::new();
            for id in ids.into_iter().take(MAX_ASSOCIATIONS) {
                match eks.describe_pod_identity_association().cluster_name(cluster).association_id(&id).send().await {
                    Ok(out) => associations.push(PodAssociation {
                        role_arn: out.association().and_then(|a| a.role_arn()).map(String::from),
                        target_role_arn: out.association().and_then(|a| a.target_role_arn()).map(String::from),
                        association_id: id,
                    }),
                    Err(e) => return Lookup::Failed(describe_sdk_error(&e)),
                }
            }
            Lookup::Found(associations)
        })
    }

    fn pod_identity_agent<'a>(&'a self, region: &'a str, cluster: &'a str) -> BoxFuture<'a, Lookup<PodIdentityAgent>> {
        Box::pin(async move {
            let eks = self.eks_in(region);
            let addon = eks.describe_addon().cluster_name(cluster).addon_name(POD_IDENTITY_AGENT_ADDON).send();
            let described = eks.describe_cluster().name(cluster).send();
            let (addon, described) = tokio::join!(addon, described);
            match addon {
                Ok(out) => {
                    let status = out.addon().and_then(|a| a.status()).map_or_else(|| "UNKNOWN".to_string(), |s| s.as_str().to_string());
                    return Lookup::Found(PodIdentityAgent::Addon { status });
                }
                Err(e) if sdk_error_code(&e) != Some("ResourceNotFoundException") => return Lookup::Failed(describe_sdk_error(&e)),
                Err(_) => {}
            }
            match described {
                Ok(out) if out.cluster().and_then(|c| c.compute_config()).and_then(|c| c.enabled()) == Some(true) => {
                    Lookup::Found(PodIdentityAgent::AutoMode)
                }
                Ok(_) => Lookup::Absent,
                Err(e) => Lookup::Failed(describe_sdk_error(&e)),
            }
        })
    }
}

/// The add-on that runs the Pod Identity Agent on nodes EKS Auto Mode does not manage.
pub const POD_IDENTITY_AGENT_ADDON: &str = "eks-pod-identity-agent";
/// More associations than one service account can have: EKS allows one.
const MAX_ASSOCIATIONS: usize = 5;

/// What IAM says of a role or user.
fn found_principal(kind: PrincipalKind, path: &str, arn: &str, id: &str, created: &aws_smithy_types::DateTime) -> PrincipalFacts {
    PrincipalFacts {
        kind,
        path: path.to_string(),
        arn: Some(arn.to_string()),
        id: Some(id.to_string()),
        created: Some(created.to_string()),
        trusted_services: Vec::new(),
    }
}

/// At most this many pages of `ListAccessEntries` (100 entries each) within the budget.
const MAX_ENTRY_PAGES: usize = 10;
