//! The CloudTrail record model, reduced to what diagnosis needs.
//!
//! `aws_lambda_events`' `AWSAPICall` has no `errorCode`/`errorMessage` and requires
//! fields that real records omit (`userAgent` for service calls), so the record is
//! modelled here; the EventBridge envelope uses `aws_lambda_events`' `EventBridgeEvent`.

use crate::arn::{partition_of_region, Arn, Principal};
use crate::authenticator::Attempt;
use crate::kubernetes::audit::{fnv, Audit, AuditNotice, Flagged, PrincipalAccess, AUDIT};
use percent_encoding::percent_decode_str;
use serde::Deserialize;

pub const EKS_EVENT_SOURCE: &str = "eks.amazonaws.com";
/// The EKS Auth API, which the Pod Identity Agent calls for each pod's credentials.
pub const EKS_AUTH_EVENT_SOURCE: &str = "eks-auth.amazonaws.com";
/// Every event source this tool reads, for the queries that select by source.
pub const EVENT_SOURCES: [&str; 2] = [EKS_EVENT_SOURCE, EKS_AUTH_EVENT_SOURCE];

/// The calls that manage access entries and their policy associations.
pub const ACCESS_ENTRY_CALLS: &[&str] = &[
    "CreateAccessEntry",
    "UpdateAccessEntry",
    "DeleteAccessEntry",
    "DescribeAccessEntry",
    "ListAccessEntries",
    "AssociateAccessPolicy",
    "DisassociateAccessPolicy",
    "ListAssociatedAccessPolicies",
    "ListAccessPolicies",
];

/// The calls that manage EKS Pod Identity associations.
pub const POD_IDENTITY_CALLS: &[&str] = &["CreatePodIdentityAssociation", "UpdatePodIdentityAssociation", "DeletePodIdentityAssociation"];

/// The EKS Auth call the Pod Identity Agent makes for a pod's credentials. Only its
/// failures matter: it succeeds for every pod, at every credential refresh.
pub const ASSUME_ROLE_FOR_POD_IDENTITY: &str = "AssumeRoleForPodIdentity";

/// A CloudTrail record as delivered in a log file, an EventBridge `detail`, or the console.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudTrailRecord {
    #[serde(rename = "eventID")]
    pub event_id: String,
    #[serde(default)]
    pub event_time: String,
    pub event_source: String,
    pub event_name: String,
    #[serde(default)]
    pub aws_region: String,
    #[serde(default)]
    pub recipient_account_id: Option<String>,
    #[serde(default)]
    pub user_identity: UserIdentity,
    #[serde(default)]
    pub error_code: Option<String>,
    #[serde(default)]
    pub error_message: Option<String>,
    #[serde(default)]
    pub request_parameters: Option<RequestParameters>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub arn: Option<String>,
    #[serde(default)]
    pub account_id: Option<String>,
    #[serde(default)]
    pub session_context: Option<SessionContext>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionContext {
    #[serde(default)]
    pub session_issuer: Option<SessionIssuer>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SessionIssuer {
    #[serde(default)]
    pub arn: Option<String>,
}

/// The request fields of the EKS calls we diagnose. Other services' parameters are
/// never deserialized: `is_relevant` rejects their records from the head alone.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RequestParameters {
    /// The cluster name for every cluster-scoped EKS call.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub cluster_name: Option<String>,
    #[serde(default)]
    pub principal_arn: Option<String>,
    #[serde(default)]
    pub kubernetes_groups: Option<Vec<String>>,
    #[serde(default, rename = "type")]
    pub entry_type: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub policy_arn: Option<String>,
    #[serde(default)]
    pub access_scope: Option<AccessScope>,
    #[serde(default)]
    pub access_config: Option<AccessConfig>,
    #[serde(default)]
    pub compute_config: Option<ComputeConfig>,
    /// CreateCluster's own settings, kept as sent so that a fix can repeat the request.
    #[serde(default)]
    pub role_arn: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub resources_vpc_config: Option<serde_json::Value>,
    #[serde(default)]
    pub kubernetes_network_config: Option<serde_json::Value>,
    #[serde(default)]
    pub storage_config: Option<serde_json::Value>,
    #[serde(default)]
    pub remote_network_config: Option<serde_json::Value>,
    /// A Pod Identity association's namespace and service account.
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub service_account: Option<String>,
    #[serde(default)]
    pub association_id: Option<String>,
    /// The role the association role assumes in turn (often in another account).
    #[serde(default)]
    pub target_role_arn: Option<String>,
    /// The association's session policy: an escaped JSON string in the API, kept as recorded.
    #[serde(default)]
    pub policy: Option<serde_json::Value>,
    #[serde(default)]
    pub disable_session_tags: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AccessScope {
    #[serde(default, rename = "type")]
    pub scope_type: Option<String>,
    #[serde(default)]
    pub namespaces: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AccessConfig {
    #[serde(default)]
    pub authentication_mode: Option<String>,
    #[serde(default)]
    pub bootstrap_cluster_creator_admin_permissions: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ComputeConfig {
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub node_pools: Option<Vec<String>>,
    #[serde(default)]
    pub node_role_arn: Option<String>,
}

/// The first fields of a record: enough to decide whether it can matter, without
/// building the full model (archives are ~99% other services).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordHead<'a> {
    #[serde(default, rename = "eventID", borrow)]
    pub event_id: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    pub event_time: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    pub event_source: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    pub event_name: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    pub error_code: Option<std::borrow::Cow<'a, str>>,
}

/// Why a record was deliberately left alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ignored {
    NotEks,
    NotAccessManagement,
    /// An authenticator line that records a granted request with no group to check
    /// (none, or only Kubernetes' own `system:` groups).
    AccessGranted,
    /// A granted request whose groups could be checked, but the cluster's bindings
    /// were not read (no Kubernetes access, or the read failed: the reason).
    GrantNotChecked(String),
    /// A log event that is not evidence (another authenticator message, a control
    /// message, another component's line), with what it is.
    OtherLogMessage(String),
    /// A saved audit of the cluster named that flagged nothing.
    CleanAudit(String),
    /// An EventBridge envelope whose `source` names another service than its record.
    SourceMismatch {
        envelope: String,
        record: String,
    },
}

impl Ignored {
    pub fn reason(&self) -> String {
        match self {
            Ignored::NotEks => "not an EKS event".to_string(),
            Ignored::NotAccessManagement => "not an EKS access-management call".to_string(),
            Ignored::AccessGranted => "an authenticator line granting access".to_string(),
            Ignored::GrantNotChecked(why) => {
                format!(
                    "an authenticator line granting access; its Kubernetes groups were not checked against the cluster's bindings: {why}"
                )
            }
            Ignored::OtherLogMessage(what) => what.clone(),
            Ignored::CleanAudit(cluster) => format!("an audit of cluster {cluster} that flagged nothing"),
            Ignored::SourceMismatch { envelope, record } => {
                format!("envelope source {envelope:?} disagrees with the record's eventSource {record:?}")
            }
        }
    }
}

/// Whether a record from this source/name can produce a finding at all.
pub fn relevance(event_source: &str, event_name: &str, error_code: Option<&str>) -> Result<(), Ignored> {
    let relevant = match event_source {
        EKS_EVENT_SOURCE => {
            let is_denial = error_code.is_some_and(|c| c.starts_with("AccessDenied"));
            is_denial
                || ACCESS_ENTRY_CALLS.contains(&event_name)
                || POD_IDENTITY_CALLS.contains(&event_name)
                || event_name == "UpdateClusterConfig"
                || event_name == "CreateCluster"
        }
        EKS_AUTH_EVENT_SOURCE => event_name == ASSUME_ROLE_FOR_POD_IDENTITY && error_code.is_some_and(|c| !c.is_empty()),
        _ => return Err(Ignored::NotEks),
    };
    if relevant {
        Ok(())
    } else {
        Err(Ignored::NotAccessManagement)
    }
}

/// One EKS call, normalised for the catalogue: decoded ARNs, the cluster wherever
/// the call put it, and the identity that made the call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Event {
    pub event_id: String,
    pub event_time: String,
    pub event_name: String,
    pub region: String,
    pub account: Option<String>,
    /// The ARN of the identity that made the call (`userIdentity.arn`).
    pub caller: Option<String>,
    /// For assumed roles, the role behind the session: where a policy fix goes.
    pub caller_role: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub cluster: Option<String>,
    pub principal_arn: Option<String>,
    pub request: RequestParameters,
    /// For evidence from the authenticator log: the attempt the line records.
    pub authenticator: Option<Box<Attempt>>,
    /// For evidence from a scheduled audit: the flag it raised.
    pub audit: Option<Box<AuditNotice>>,
}

/// Where an event's evidence comes from. The catalogue runs a cause only on the
/// evidence it was written for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Evidence {
    /// A CloudTrail record of an EKS API call.
    #[default]
    CloudTrail,
    /// A line of the cluster's authenticator log (`kubectl … Unauthorized`).
    Authenticator,
    /// A flag a scheduled `audit` raised that its last run had not.
    Audit,
}

/// Where an authenticator line was read: what the line itself does not say.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogContext {
    /// The log event's id (CloudWatch Logs), else one made from the line.
    pub event_id: Option<String>,
    pub cluster: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
}

/// The name authentication failures are shown under, as if a call.
pub const AUTHENTICATE: &str = "Authenticate";

impl Event {
    /// An authenticator denial as an event, and a granted request whose groups can be
    /// checked against the cluster's bindings (a success: no error). Other granted
    /// requests and other messages are left alone (with why).
    pub fn from_attempt(attempt: Attempt, raw: &str, context: &LogContext) -> Result<Event, Ignored> {
        if attempt.granted && attempt.checkable_groups().is_empty() {
            return Err(Ignored::AccessGranted);
        }
        let (error_code, error_message) =
            if attempt.granted { (None, None) } else { (Some("Unauthorized".to_string()), attempt.error.clone()) };
        let arn_account = attempt.arn.as_deref().and_then(Arn::parse).map(|a| a.account.to_string());
        Ok(Event {
            event_id: context.event_id.clone().unwrap_or_else(|| line_id(raw)),
            event_time: attempt.time.clone(),
            event_name: AUTHENTICATE.to_string(),
            region: context.region.clone().unwrap_or_default(),
            account: context.account.clone().or(arn_account),
            caller: attempt.arn.clone(),
            caller_role: None,
            error_code,
            error_message,
            cluster: context.cluster.clone(),
            principal_arn: attempt.arn.clone(),
            request: RequestParameters::default(),
            authenticator: Some(Box::new(attempt)),
            audit: None,
        })
    }

    /// One flag of `audit` as an event: the cluster, its account and region, the
    /// principal. `run` (a scheduled invocation's id) keeps each run's event ids apart,
    /// so a retry of the same run is a duplicate and a later run is not.
    pub fn from_audit(audit: &Audit, p: &PrincipalAccess, f: &Flagged, run: &str) -> Event {
        let id = format!("{run}|{}|{}|{}|{}|{}", audit.account, audit.region, audit.cluster, p.principal, f.flag.id());
        Event {
            event_id: format!("audit-{}", fnv(&id)),
            event_time: audit.audited_at.clone(),
            event_name: AUDIT.to_string(),
            region: audit.region.clone(),
            account: Some(audit.account.clone()).filter(|a| !a.is_empty()),
            cluster: Some(audit.cluster.clone()),
            principal_arn: Some(p.principal.clone()).filter(|a| a.starts_with("arn:")),
            audit: Some(Box::new(AuditNotice {
                flag: f.flag,
                detail: f.detail.clone(),
                principal: p.principal.clone(),
                sources: p.sources.clone(),
                authentication_mode: audit.authentication_mode.clone(),
                identity: p.identity.clone(),
            })),
            ..Event::default()
        }
    }

    /// The attempt of a granted authenticator line (its groups to check), if this is one.
    pub fn granted(&self) -> Option<&Attempt> {
        self.authenticator.as_deref().filter(|a| a.granted)
    }

    pub fn evidence(&self) -> Evidence {
        if self.audit.is_some() {
            Evidence::Audit
        } else if self.authenticator.is_some() {
            Evidence::Authenticator
        } else {
            Evidence::CloudTrail
        }
    }
}

/// A stable id for a line read without its CloudWatch event id: FNV-1a of its text.
fn line_id(raw: &str) -> String {
    let hash = raw.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("authenticator-{hash:016x}")
}

impl Event {
    pub fn from_record(record: CloudTrailRecord) -> Result<Event, Ignored> {
        relevance(&record.event_source, &record.event_name, record.error_code.as_deref())?;
        let request = record.request_parameters.unwrap_or_default();
        let principal_arn = request.principal_arn.as_deref().map(decode_path_parameter);
        let cluster = request
            .name
            .clone()
            .or_else(|| request.cluster_name.clone())
            .or_else(|| record.error_message.as_deref().and_then(cluster_in_message));
        let caller_role = record.user_identity.session_context.as_ref().and_then(|c| c.session_issuer.as_ref()).and_then(|i| i.arn.clone());
        // An UpdateClusterConfig about something else (endpoint access, logging, the
        // network) is no access-management failure unless IAM refused it.
        let denied = record.error_code.as_deref().is_some_and(|c| c.starts_with("AccessDenied"));
        if record.event_name == "UpdateClusterConfig" && record.error_code.is_some() && !denied && request.access_config.is_none() {
            return Err(Ignored::NotAccessManagement);
        }
        Ok(Event {
            event_id: record.event_id,
            event_time: record.event_time,
            event_name: record.event_name,
            region: record.aws_region,
            account: record.recipient_account_id.or(record.user_identity.account_id),
            caller: record.user_identity.arn,
            caller_role,
            error_code: record.error_code.filter(|c| !c.is_empty()),
            error_message: record.error_message,
            cluster,
            principal_arn,
            request,
            authenticator: None,
            audit: None,
        })
    }

    pub fn failed(&self) -> bool {
        self.error_code.is_some()
    }

    pub fn message(&self) -> &str {
        self.error_message.as_deref().unwrap_or("")
    }

    pub fn error_code(&self) -> &str {
        self.error_code.as_deref().unwrap_or("")
    }

    /// The cluster name, or a placeholder that reads well inside a command.
    pub fn cluster_or_placeholder(&self) -> &str {
        self.cluster.as_deref().unwrap_or("CLUSTER_NAME")
    }

    pub fn principal_or_placeholder(&self) -> &str {
        self.principal_arn.as_deref().unwrap_or("PRINCIPAL_ARN")
    }

    pub fn groups(&self) -> &[String] {
        self.request.kubernetes_groups.as_deref().unwrap_or(&[])
    }

    pub fn entry_type(&self) -> Option<&str> {
        self.request.entry_type.as_deref()
    }

    pub fn requested_auth_mode(&self) -> Option<&str> {
        self.request.access_config.as_ref()?.authentication_mode.as_deref()
    }

    /// Where the policy fix belongs: the role behind a session, else the caller itself.
    pub fn caller_principal(&self) -> Option<&str> {
        self.caller_role.as_deref().or(self.caller.as_deref())
    }

    /// The account the cluster lives in, from the event or the principal's ARN.
    pub fn account_or_placeholder(&self) -> &str {
        self.account.as_deref().unwrap_or("ACCOUNT_ID")
    }

    /// The event's own partition (`aws`, `aws-cn`, `aws-us-gov`, …): from the caller's
    /// ARN, else from the region. Every ARN the advice writes is in this partition.
    pub fn partition(&self) -> &str {
        [self.caller.as_deref(), self.caller_role.as_deref()]
            .into_iter()
            .flatten()
            .find_map(|arn| Arn::parse(arn).map(|arn| arn.partition))
            .unwrap_or_else(|| partition_of_region(&self.region))
    }

    /// The requested principal, when it is an IAM role, user or role session ARN.
    pub fn principal(&self) -> Option<Principal<'_>> {
        Arn::parse(self.principal_arn.as_deref()?)?.principal()
    }

    /// Whether the call is one of Pod Identity's: an association call or the agent's.
    pub fn is_pod_identity(&self) -> bool {
        POD_IDENTITY_CALLS.contains(&self.event_name.as_str()) || self.event_name == ASSUME_ROLE_FOR_POD_IDENTITY
    }

    /// The role an association call names (`roleArn`).
    pub fn association_role(&self) -> Option<&str> {
        self.request.role_arn.as_deref().filter(|_| self.is_pod_identity())
    }

    /// `arn:P:iam::ACCOUNT:role/NAME` in the event's partition and account: a placeholder
    /// role for commands that need one.
    pub fn placeholder_role_arn(&self, name: &str) -> String {
        crate::arn::iam_role_arn(self.partition(), self.account_or_placeholder(), "/", name)
    }
}

/// CloudTrail records path parameters (the principal ARN of per-entry calls) URL-encoded.
pub fn decode_path_parameter(value: &str) -> String {
    percent_decode_str(value).decode_utf8_lossy().into_owned()
}

/// The cluster named by an EKS resource ARN inside an error message
/// (`…:cluster/NAME` or `…:access-entry/NAME/…`).
pub fn cluster_in_message(message: &str) -> Option<String> {
    message.split_whitespace().filter_map(|token| Arn::parse(token.trim_end_matches(['.', ',']))).find_map(|arn| {
        let (kind, rest) = arn.resource.split_once('/')?;
        let is_cluster_resource = matches!(kind, "cluster" | "access-entry" | "nodegroup" | "addon" | "fargateprofile");
        let name = rest.split('/').next().unwrap_or(rest);
        (arn.service == "eks" && is_cluster_resource && !name.is_empty()).then(|| name.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_url_encoded_principal() {
        assert_eq!(decode_path_parameter("arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2FNode"), "arn:aws:iam::111122223333:role/Node");
    }

    #[test]
    fn finds_cluster_in_denial_message() {
        let m = "User: arn:aws:sts::1:assumed-role/R/s is not authorized to perform: eks:X on resource: arn:aws:eks:eu-west-1:1:access-entry/prod-eu/role/1/N/uuid with an explicit deny";
        assert_eq!(cluster_in_message(m).as_deref(), Some("prod-eu"));
        let m = "... on resource: arn:aws:eks:us-east-1:1:cluster/dev.";
        assert_eq!(cluster_in_message(m).as_deref(), Some("dev"));
        assert_eq!(cluster_in_message("no arn here"), None);
    }

    #[test]
    fn relevance_rejects_other_services_and_calls() {
        assert_eq!(relevance("s3.amazonaws.com", "CreateAccessEntry", None), Err(Ignored::NotEks));
        assert_eq!(relevance(EKS_EVENT_SOURCE, "CreateNodegroup", Some("InvalidParameterException")), Err(Ignored::NotAccessManagement));
        assert_eq!(relevance(EKS_EVENT_SOURCE, "CreateNodegroup", Some("AccessDenied")), Ok(()));
        assert_eq!(relevance(EKS_EVENT_SOURCE, "CreatePodIdentityAssociation", None), Ok(()));
        assert_eq!(relevance(EKS_AUTH_EVENT_SOURCE, ASSUME_ROLE_FOR_POD_IDENTITY, Some("AccessDeniedException")), Ok(()));
        // The agent's successful calls are the steady state, not evidence.
        assert_eq!(relevance(EKS_AUTH_EVENT_SOURCE, ASSUME_ROLE_FOR_POD_IDENTITY, None), Err(Ignored::NotAccessManagement));
        assert_eq!(relevance(EKS_AUTH_EVENT_SOURCE, "SomethingElse", Some("E")), Err(Ignored::NotAccessManagement));
    }

    /// A failed UpdateClusterConfig about the endpoint, logging or network is no access
    /// problem ("Cannot EndpointAccessUpdate because cluster … has update … in progress"),
    /// unless IAM denied it; one about the access config is.
    #[test]
    fn only_access_config_updates_are_access_management() {
        let record = |error: &str, request: serde_json::Value| {
            let record = serde_json::json!({"eventID": "e", "eventSource": EKS_EVENT_SOURCE, "eventName": "UpdateClusterConfig",
                "errorCode": error, "requestParameters": request});
            Event::from_record(serde_json::from_value(record).unwrap())
        };
        let endpoint = serde_json::json!({"name": "prod", "resourcesVpcConfig": {"endpointPublicAccess": false}});
        assert_eq!(record("ResourceInUseException", endpoint.clone()).err(), Some(Ignored::NotAccessManagement));
        assert!(record("AccessDeniedException", endpoint).is_ok());
        assert!(
            record("InvalidParameterException", serde_json::json!({"name": "prod", "accessConfig": {"authenticationMode": "API"}})).is_ok()
        );
    }
}
