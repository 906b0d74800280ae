//! Live facts that sharpen advice. The core only describes what it would like to
//! know (`LookupPlan`) and reads the answers (`Facts`); the Lambda edge fetches them.

use crate::event::Event;
use crate::kubernetes::{AccessEntrySummary, AwsAuth, Binding};
use std::collections::BTreeMap;

/// The answer to one best-effort lookup.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Lookup<T> {
    /// Not attempted (replay, or not useful for this event).
    #[default]
    NotChecked,
    Found(T),
    /// The lookup worked and the thing does not exist.
    Absent,
    /// The lookup failed; the reason is told to the reader.
    Failed(String),
}

impl<T> Lookup<T> {
    pub fn found(&self) -> Option<&T> {
        match self {
            Lookup::Found(value) => Some(value),
            _ => None,
        }
    }

    /// "Could not check X: reason", for a finding's notes.
    pub fn failure_note(&self, what: &str) -> Option<String> {
        match self {
            Lookup::Failed(reason) => Some(format!("Could not check {what}: {reason}")),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct AccessEntryFacts {
    pub entry_type: Option<String>,
    pub username: Option<String>,
    pub kubernetes_groups: Vec<String>,
    pub created_at: Option<String>,
    pub policies: Vec<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PrincipalKind {
    #[default]
    Role,
    User,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct PrincipalFacts {
    pub kind: PrincipalKind,
    pub path: String,
    /// The full ARN, path included.
    pub arn: Option<String>,
    /// The unique id (`AROA…`, `AIDA…`): a principal deleted and created again gets a new one.
    pub id: Option<String>,
    /// When IAM created it (RFC 3339).
    pub created: Option<String>,
    /// The AWS services its trust policy lets assume it (roles): `ec2.amazonaws.com` marks an instance role.
    pub trusted_services: Vec<String>,
}

/// The services an IAM trust policy allows (`Principal.Service` of its `Allow`
/// statements), from the document as IAM returns it (URL-encoded JSON). An unreadable
/// document trusts no service as far as advice goes.
pub fn trusted_services(document: &str) -> Vec<String> {
    crate::trust::allowed_services(&trust_document(document))
}

impl PrincipalFacts {
    /// Whether EC2 may assume the role: the mark of a node (or other instance) role.
    pub fn ec2_may_assume(&self) -> bool {
        self.trusted_services.iter().any(|s| s == "ec2.amazonaws.com")
    }

    pub fn is_service_linked(&self) -> bool {
        self.kind == PrincipalKind::Role && self.path.starts_with("/aws-service-role/")
    }
}

/// A role as IAM describes it for Pod Identity advice: its ARN (path included) and its
/// trust policy, decoded.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RoleTrust {
    pub arn: String,
    /// The trust policy document; `Null` when IAM's answer could not be read.
    pub document: serde_json::Value,
}

/// One Pod Identity association as `DescribePodIdentityAssociation` gives it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PodAssociation {
    pub association_id: String,
    pub role_arn: Option<String>,
    pub target_role_arn: Option<String>,
}

/// Who delivers Pod Identity credentials on the cluster's nodes.
#[derive(Clone, Debug, PartialEq)]
pub enum PodIdentityAgent {
    /// The `eks-pod-identity-agent` add-on, with its status (`ACTIVE`, `DEGRADED`, …).
    Addon { status: String },
    /// EKS Auto Mode runs the agent itself on the nodes it manages.
    AutoMode,
}

/// The trust document of a role as IAM returns it (URL-encoded JSON), decoded; `Null`
/// when it cannot be read.
pub fn trust_document(document: &str) -> serde_json::Value {
    let decoded = percent_encoding::percent_decode_str(document).decode_utf8_lossy();
    serde_json::from_str(&decoded).unwrap_or(serde_json::Value::Null)
}

/// A live fact a cause can ask for. Each cause declares the facts it reads
/// (`Cause::needs`); the lookups made for an event are the union over the causes
/// that match it, so planning and matching can never disagree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fact {
    /// `DescribeCluster`: the cluster's authentication mode.
    ClusterAuthMode,
    /// `DescribeAccessEntry` + `ListAssociatedAccessPolicies` for the requested principal.
    AccessEntry,
    /// `iam:GetRole` / `iam:GetUser` for the requested principal.
    Principal,
    /// `ListAccessEntries`: the principal ARNs the cluster has entries for.
    ClusterEntries,
    /// How long the deleted entry lived: the function's own record of its creation.
    EntryHistory,
    /// The access entry as it stands a while after its creation (the delayed second look).
    SettledEntry,
    /// The cluster's RoleBindings and ClusterRoleBindings (the Kubernetes API).
    Bindings,
    /// The `aws-auth` ConfigMap (the Kubernetes API) and the cluster's access entries.
    AwsAuth,
    /// `iam:GetRole` for the role a Pod Identity association names: its trust policy.
    AssociationRole,
    /// `ListPodIdentityAssociations` + `DescribePodIdentityAssociation` for the request's
    /// namespace and service account.
    PodAssociations,
    /// `DescribeAddon` (`eks-pod-identity-agent`) and `DescribeCluster` (Auto Mode).
    PodIdentityAgent,
}

impl Fact {
    /// What the fact is, for "Could not check …" notes and what `explain` would need.
    pub fn what(self) -> &'static str {
        match self {
            Fact::ClusterAuthMode => "the cluster's current authentication mode",
            Fact::AccessEntry => "the existing access entry",
            Fact::Principal => "the principal in IAM",
            Fact::ClusterEntries => "the cluster's access entries",
            Fact::EntryHistory => "when the entry was created",
            Fact::SettledEntry => "the access entry after the delay",
            Fact::Bindings => "the cluster's RBAC bindings",
            Fact::AwsAuth => "the aws-auth ConfigMap against the access entries",
            Fact::AssociationRole => "the association's IAM role",
            Fact::PodAssociations => "the service account's Pod Identity associations",
            Fact::PodIdentityAgent => "the Pod Identity Agent on the cluster",
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Facts {
    pub cluster_auth_mode: Lookup<String>,
    pub access_entry: Lookup<AccessEntryFacts>,
    pub principal: Lookup<PrincipalFacts>,
    pub cluster_entries: Lookup<Vec<String>>,
    /// Seconds between the entry's creation and its deletion.
    pub entry_lifetime: Lookup<u64>,
    pub settled_entry: Lookup<AccessEntryFacts>,
    /// Every RoleBinding and ClusterRoleBinding of the cluster.
    pub bindings: Lookup<Vec<Binding>>,
    /// The `aws-auth` ConfigMap and the access entries it is compared with.
    pub aws_auth: Lookup<AwsAuthFacts>,
    pub association_role: Lookup<RoleTrust>,
    /// The associations of the request's namespace and service account.
    pub pod_associations: Lookup<Vec<PodAssociation>>,
    /// `Absent`: neither the add-on nor Auto Mode.
    pub pod_identity_agent: Lookup<PodIdentityAgent>,
}

/// What the move to `API` is judged on.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AwsAuthFacts {
    /// `None`: the cluster has no `aws-auth` ConfigMap.
    pub config_map: Option<AwsAuth>,
    pub entries: Vec<AccessEntrySummary>,
    /// Full role ARNs (path included) by lower-cased role name, as IAM gives them.
    pub role_arns: BTreeMap<String, String>,
}

impl Facts {
    /// The note for `fact` when its lookup failed, so an alert says what it could not check.
    pub fn failure_note(&self, fact: Fact) -> Option<String> {
        match fact {
            Fact::ClusterAuthMode => self.cluster_auth_mode.failure_note(fact.what()),
            Fact::AccessEntry => self.access_entry.failure_note(fact.what()),
            Fact::Principal => self.principal.failure_note(fact.what()),
            Fact::ClusterEntries => self.cluster_entries.failure_note(fact.what()),
            Fact::EntryHistory => self.entry_lifetime.failure_note(fact.what()),
            Fact::SettledEntry => self.settled_entry.failure_note(fact.what()),
            Fact::Bindings => self.bindings.failure_note(fact.what()),
            Fact::AwsAuth => self.aws_auth.failure_note(fact.what()),
            Fact::AssociationRole => self.association_role.failure_note(fact.what()),
            Fact::PodAssociations => self.pod_associations.failure_note(fact.what()),
            Fact::PodIdentityAgent => self.pod_identity_agent.failure_note(fact.what()),
        }
    }
}

/// Which lookups to make for an event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LookupPlan {
    pub cluster: bool,
    pub access_entry: bool,
    pub principal: bool,
    pub cluster_entries: bool,
    /// RoleBindings and ClusterRoleBindings, from the Kubernetes API.
    pub bindings: bool,
    /// The `aws-auth` ConfigMap (Kubernetes API) and the access entries (EKS).
    pub aws_auth: bool,
    /// The association's role (`iam:GetRole`).
    pub association_role: bool,
    /// The associations of the request's namespace and service account.
    pub pod_associations: bool,
    pub pod_identity_agent: bool,
}

impl LookupPlan {
    /// The facts `needed` that this event has the keys for: a cluster name for the
    /// cluster, and an IAM role or user ARN for the entry and the principal.
    pub fn new(event: &Event, needed: impl IntoIterator<Item = Fact>) -> LookupPlan {
        let mut plan = LookupPlan::default();
        if event.cluster.is_none() {
            return plan;
        }
        let iam_principal = event.principal().is_some_and(|p| p.session.is_none());
        let association_role = event
            .association_role()
            .and_then(crate::arn::Arn::parse)
            .and_then(|a| a.principal())
            .is_some_and(|p| p.kind == crate::arn::PrincipalKind::Role && p.session.is_none());
        let service_account = event.request.namespace.is_some() && event.request.service_account.is_some();
        for fact in needed {
            match fact {
                Fact::ClusterAuthMode => plan.cluster = true,
                Fact::AccessEntry => plan.access_entry |= iam_principal,
                Fact::Principal => plan.principal |= iam_principal,
                Fact::ClusterEntries => plan.cluster_entries = true,
                Fact::Bindings => plan.bindings = true,
                Fact::AwsAuth => plan.aws_auth = true,
                Fact::AssociationRole => plan.association_role |= association_role,
                Fact::PodAssociations => plan.pod_associations |= service_account,
                Fact::PodIdentityAgent => plan.pod_identity_agent = true,
                // Not AWS lookups: the handler knows these from its own state.
                Fact::EntryHistory | Fact::SettledEntry => {}
            }
        }
        plan
    }

    pub fn is_empty(&self) -> bool {
        *self == LookupPlan::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_policies_as_iam_returns_them() {
        let ec2 = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22ec2.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D";
        assert_eq!(trusted_services(ec2), ["ec2.amazonaws.com"]);
        let many = r#"{"Statement":{"Effect":"Allow","Principal":{"Service":["lambda.amazonaws.com","ec2.amazonaws.com"]}}}"#;
        assert_eq!(trusted_services(many), ["ec2.amazonaws.com", "lambda.amazonaws.com"]);
        let denied = r#"{"Statement":[{"Effect":"Deny","Principal":{"Service":"ec2.amazonaws.com"}},{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"}}]}"#;
        assert!(trusted_services(denied).is_empty());
        assert!(trusted_services("not json").is_empty());
    }
}
