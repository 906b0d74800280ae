//! Live facts that sharpen advice. The core only describes what it would like to
//! know (`LookupPlan`) and reads the answers (`Facts`); the Lambda edge fetches them.

use crate::event::Event;

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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrincipalKind {
    Role,
    User,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PrincipalFacts {
    pub kind: PrincipalKind,
    pub path: String,
}

impl PrincipalFacts {
    pub fn is_service_linked(&self) -> bool {
        self.kind == PrincipalKind::Role && self.path.starts_with("/aws-service-role/")
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Facts {
    pub cluster_auth_mode: Lookup<String>,
    pub access_entry: Lookup<AccessEntryFacts>,
    pub principal: Lookup<PrincipalFacts>,
}

impl Facts {
    /// Notes for every lookup that failed, so an alert says what it could not check.
    pub fn failure_notes(&self) -> Vec<String> {
        [
            self.cluster_auth_mode.failure_note("the cluster's current authentication mode"),
            self.access_entry.failure_note("the existing access entry"),
            self.principal.failure_note("the principal in IAM"),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// Which lookups could sharpen the advice for an event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LookupPlan {
    pub cluster: bool,
    pub access_entry: bool,
    pub principal: bool,
}

impl LookupPlan {
    pub fn for_event(event: &Event) -> LookupPlan {
        if !event.failed() || event.cluster.is_none() {
            return LookupPlan::default();
        }
        let code = event.error_code();
        let service_linked = event.message().contains("Service Linked Role")
            || event.principal_arn.as_deref().is_some_and(|arn| arn.contains(":role/aws-service-role/"));
        let auth_related =
            matches!(event.event_name.as_str(), "UpdateClusterConfig") || event.message().contains("authentication mode") || service_linked;
        let is_principal_arn_iam = event.principal_arn.as_deref().is_some_and(|arn| {
            crate::event::arn_account_and_resource(arn)
                .is_some_and(|(_, resource)| arn.contains(":iam::") && (resource.starts_with("role/") || resource.starts_with("user/")))
        });
        LookupPlan {
            cluster: auth_related,
            access_entry: event.principal_arn.is_some() && (code == "ResourceInUseException" || event.message().contains("\"STANDARD\"")),
            principal: is_principal_arn_iam && code != "AccessDenied" && code != "AccessDeniedException",
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == LookupPlan::default()
    }
}
