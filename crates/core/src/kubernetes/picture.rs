//! A cluster's whole access picture as read at one moment (mode, access entries with
//! their policies, `aws-auth`, RBAC, the IAM principals), who the cluster takes each
//! principal for, and `explain --cluster`: may this principal make this request, by
//! what, and the smallest fix when not.
//!
//! Identity, as EKS resolves it: an access entry first, in the modes that read them
//! (`API`, `API_AND_CONFIG_MAP`); then `aws-auth` in the modes that read it
//! (`CONFIG_MAP`, `API_AND_CONFIG_MAP`); the kube-apiserver stand-in
//! (`tests/e2e/kube_apiserver_standin.py`) does the same. A role entry matches the
//! caller's role by name whatever its path (the entry's ARN has the path, the
//! caller's canonical ARN none); a user entry by ARN. The username EKS sets when none
//! is given (EKS User Guide `grant-k8s-access.adoc`, "Username value that Amazon EKS
//! automatically sets"): the user's ARN, or `arn:P:sts::A:assumed-role/NAME/{{SessionName}}`
//! ("If the ARN of the role that you specified contained a path, Amazon EKS removes
//! it in the generated username"). `DescribeAccessEntry` returns it filled in.

use super::authz::{self, evaluate, least_policy, Association, Decision, Identity, Rbac, Request, Scope};
use super::aws_auth::{AwsAuth, MappingKind};
use crate::arn::{access_policy_arn, Arn, PrincipalKind};
use crate::command::{role_arn_by_name, Command};
use crate::escape::inline;
use serde::Serialize;

/// One access entry, described.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub principal_arn: String,
    /// `STANDARD`, `EC2_LINUX`, `EC2_WINDOWS`, `FARGATE_LINUX`, `HYBRID_LINUX`, …
    pub entry_type: String,
    pub username: String,
    pub groups: Vec<String>,
    pub associations: Vec<Association>,
    /// Epoch seconds.
    pub created_at: Option<i64>,
}

/// What IAM says of an entry's principal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum PrincipalState {
    Exists {
        /// Epoch seconds.
        created_at: Option<i64>,
        /// Its trust policy lets `ec2.amazonaws.com` assume it (a node role).
        trusts_ec2: bool,
    },
    Deleted,
    /// Not looked up (another account, or denied): why.
    Unknown {
        why: String,
    },
}

/// Everything read of one cluster.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClusterState {
    /// When it was read (RFC 3339).
    pub read_at: String,
    pub cluster: String,
    pub region: String,
    pub account: String,
    pub partition: String,
    pub authentication_mode: Option<String>,
    /// Epoch seconds.
    pub created_at: Option<i64>,
    pub entries: Vec<Entry>,
    /// `None`: no ConfigMap, or a mode that does not read it.
    pub aws_auth: Option<AwsAuth>,
    pub rbac: Rbac,
    /// What was read: a part not read is known only as a gap, and the answers that
    /// need it are not given.
    pub read: Read,
    /// By entry principal ARN.
    pub principals: Vec<(String, PrincipalState)>,
    /// What could not be read, and so what the answers leave out.
    pub gaps: Vec<String>,
}

/// Which parts of the picture were read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Read {
    /// Every access entry, described with its policies (or the mode reads none).
    pub entries: bool,
    pub bindings: bool,
    pub roles: bool,
    /// The `aws-auth` ConfigMap, or that there is none.
    pub aws_auth: bool,
}

impl Read {
    /// Bindings and the roles they refer to: what RBAC answers need.
    pub fn rbac(&self) -> bool {
        self.bindings && self.roles
    }

    /// Everything: no answer leaves a part out.
    pub fn all(&self) -> bool {
        self.entries && self.rbac() && self.aws_auth
    }
}

impl ClusterState {
    pub fn mode(&self) -> &str {
        self.authentication_mode.as_deref().unwrap_or("CONFIG_MAP")
    }

    /// Whether EKS reads access entries in this mode.
    pub fn reads_entries(&self) -> bool {
        self.mode() != "CONFIG_MAP"
    }

    /// Whether EKS reads `aws-auth` in this mode.
    pub fn reads_aws_auth(&self) -> bool {
        self.mode() != "API"
    }

    pub fn principal(&self, arn: &str) -> Option<&PrincipalState> {
        self.principals.iter().find(|(a, _)| a == arn).map(|(_, s)| s)
    }

    /// The access entry that maps `principal` (an IAM role, user or role session ARN).
    pub fn entry_for(&self, principal: &str) -> Option<&Entry> {
        // The account root (a cluster creator's entry) is matched by its ARN as is.
        let Some(caller) = Caller::parse(principal) else { return self.entries.iter().find(|e| e.principal_arn == principal) };
        self.entries.iter().find(|e| Caller::parse(&e.principal_arn).is_some_and(|entry| entry.same_as(&caller)))
    }

    /// Whether an access entry of the same principal takes the mapping's place (the
    /// cluster reads entries first). An Identity Center permission-set mapping names
    /// many roles: never taken as overridden.
    pub fn overridden(&self, mapping: &super::aws_auth::Mapping) -> bool {
        match &mapping.kind {
            MappingKind::Role { arn } | MappingKind::User { arn } => self.reads_entries() && self.entry_for(arn).is_some(),
            MappingKind::SsoPermissionSet { .. } => false,
        }
    }

    /// Who the cluster takes `principal` for, or `None` when it cannot authenticate.
    pub fn identity(&self, principal: &str) -> Option<Identity> {
        if self.reads_entries() {
            if let Some(entry) = self.entry_for(principal) {
                let standard = entry.entry_type == "STANDARD";
                let username = match (entry.username.is_empty(), Caller::parse(principal)) {
                    (false, _) | (true, None) => entry.username.clone(),
                    (true, Some(caller)) if caller.kind == PrincipalKind::User => caller.arn.clone(),
                    (true, Some(caller)) => {
                        format!("arn:{}:sts::{}:assumed-role/{}/{{{{SessionName}}}}", caller.partition, caller.account, caller.name)
                    }
                };
                return Some(Identity {
                    username,
                    groups: entry.groups.clone(),
                    // Only a STANDARD entry takes access policies.
                    associations: if standard { entry.associations.clone() } else { Vec::new() },
                    source: format!("access entry ({})", entry.entry_type),
                });
            }
        }
        let caller = Caller::parse(principal)?;
        let auth = self.aws_auth.as_ref().filter(|_| self.reads_aws_auth())?;
        for mapping in &auth.mappings {
            let matches = match &mapping.kind {
                MappingKind::Role { arn } => caller.kind == PrincipalKind::Role && arn.eq_ignore_ascii_case(&caller.canonical()),
                MappingKind::User { arn } => caller.kind == PrincipalKind::User && arn.eq_ignore_ascii_case(&caller.canonical()),
                MappingKind::SsoPermissionSet { partition, account, permission_set } => {
                    caller.kind == PrincipalKind::Role
                        && partition == &caller.partition
                        && account == &caller.account
                        && caller.name.to_lowercase().starts_with(&format!("awsreservedsso_{}_", permission_set.to_lowercase()))
                }
            };
            if matches {
                let username = if mapping.username.is_empty() { caller.canonical() } else { mapping.username.clone() };
                return Some(Identity {
                    username,
                    groups: mapping.groups.clone(),
                    associations: Vec::new(),
                    source: format!("aws-auth {}", mapping.source),
                });
            }
        }
        auth.accounts.iter().any(|a| a == &caller.account).then(|| Identity {
            username: caller.canonical(),
            groups: Vec::new(),
            associations: Vec::new(),
            source: "aws-auth mapAccounts".into(),
        })
    }
}

/// An IAM principal as the authenticator canonicalises it: a role without its path
/// (a session is its role), or a user.
struct Caller {
    partition: String,
    account: String,
    kind: PrincipalKind,
    name: String,
    /// The ARN as given (users keep their path).
    arn: String,
}

impl Caller {
    fn parse(text: &str) -> Option<Caller> {
        let arn = Arn::parse(text)?;
        let principal = arn.principal()?;
        let kind = match principal.kind {
            PrincipalKind::AssumedRole => PrincipalKind::Role,
            kind => kind,
        };
        Some(Caller { partition: arn.partition.into(), account: arn.account.into(), kind, name: principal.name.into(), arn: text.into() })
    }

    fn canonical(&self) -> String {
        match self.kind {
            PrincipalKind::User => self.arn.clone(),
            _ => format!("arn:{}:iam::{}:role/{}", self.partition, self.account, self.name),
        }
    }

    fn same_as(&self, other: &Caller) -> bool {
        self.partition == other.partition
            && self.account == other.account
            && self.kind == other.kind
            && match self.kind {
                PrincipalKind::User => self.arn.eq_ignore_ascii_case(&other.arn),
                _ => self.name.eq_ignore_ascii_case(&other.name),
            }
    }
}

/// A fix for a denied request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fix {
    /// A shell command.
    Command { why: String, command: String },
    /// Kubernetes objects to apply (`kubectl apply -f`).
    Manifest { why: String, yaml: String },
}

/// `explain --cluster`'s answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Explanation {
    pub cluster: String,
    pub principal: String,
    pub request: Request,
    pub authentication_mode: String,
    /// `None`: the principal cannot authenticate.
    pub identity: Option<Identity>,
    pub decision: Option<Decision>,
    pub fixes: Vec<Fix>,
    pub gaps: Vec<String>,
}

impl Explanation {
    pub fn allowed(&self) -> bool {
        self.decision.as_ref().is_some_and(|d| d.allowed)
    }
}

/// May `principal` make `request` on this cluster?
pub fn explain(state: &ClusterState, principal: &str, request: &Request) -> Explanation {
    let identity = state.identity(principal);
    let decision = identity.as_ref().map(|i| evaluate(i, &state.rbac, request));
    let mut fixes = Vec::new();
    let denied = decision.as_ref().is_none_or(|d| !d.allowed && d.cannot_tell.is_empty());
    if denied {
        fixes = fixes_for(state, principal, identity.as_ref(), request);
    }
    Explanation {
        cluster: state.cluster.clone(),
        principal: principal.to_string(),
        request: request.clone(),
        authentication_mode: state.mode().to_string(),
        identity,
        decision,
        fixes,
        gaps: state.gaps.clone(),
    }
}

fn eks(state: &ClusterState, subcommand: &'static str) -> Command {
    Command::new(subcommand).arg("--cluster-name", &state.cluster)
}

/// The smallest fixes: the least access policy with the request's namespace as scope
/// (merged with the namespaces that policy already has), or a Role (ClusterRole for a
/// cluster-wide request) and a binding naming the identity's username.
fn fixes_for(state: &ClusterState, principal: &str, identity: Option<&Identity>, request: &Request) -> Vec<Fix> {
    let mut fixes = Vec::new();
    let entry = state.entry_for(principal).filter(|_| state.reads_entries());
    let policy = least_policy(request);
    // The entry's own ARN; else the role's, path included, which only IAM knows (a session
    // ARN, or a role ARN without its path, is not what create-access-entry takes).
    let principal_arn = match entry {
        Some(e) => Argument::Plain(e.principal_arn.clone()),
        None => match Caller::parse(principal) {
            Some(caller) if caller.kind == PrincipalKind::Role => Argument::Lookup(role_arn_by_name(&caller.name)),
            _ => Argument::Plain(principal.to_string()),
        },
    };
    if identity.is_none() {
        if !state.reads_entries() {
            fixes.push(Fix::Command {
                why: "The cluster reads only aws-auth (CONFIG_MAP): turn on access entries first (a one-way change; API_AND_CONFIG_MAP keeps aws-auth working).".into(),
                command: eks(state, "aws eks update-cluster-config")
                    .literal("--access-config authenticationMode=API_AND_CONFIG_MAP")
                    .region(&state.region)
                    .into(),
            });
        }
        fixes.push(Fix::Command {
            why: "The principal has no access entry (nor an aws-auth mapping the mode reads): it cannot authenticate at all.".into(),
            command: principal_arn.add(eks(state, "aws eks create-access-entry")).region(&state.region).into(),
        });
    }
    let standard = entry.is_none_or(|e| e.entry_type == "STANDARD");
    if let (Some((name, scope)), true) = (policy, standard && (identity.is_none() || entry.is_some())) {
        let existing = entry.and_then(|e| e.associations.iter().find(|a| a.policy_name() == name));
        let scope = match (scope, existing.map(|a| &a.scope)) {
            (Scope::Namespace { mut namespaces }, Some(Scope::Namespace { namespaces: had })) => {
                let mut all = had.clone();
                all.retain(|ns| !namespaces.contains(ns));
                all.append(&mut namespaces);
                Scope::Namespace { namespaces: all }
            }
            (scope, _) => scope,
        };
        let scope_arg = match &scope {
            Scope::Cluster => "type=cluster".to_string(),
            Scope::Namespace { namespaces } => format!("type=namespace,namespaces={}", namespaces.join(",")),
        };
        let why = match existing {
            Some(_) => format!(
                "{name} is associated already, but not in this namespace: associating it again sets its scope to {}.",
                scope.describe()
            ),
            None => format!("{name} is the least access policy that allows {}.", request.describe()),
        };
        fixes.push(Fix::Command {
            why,
            command: principal_arn
                .add(eks(state, "aws eks associate-access-policy"))
                .arg("--policy-arn", &access_policy_arn(&state.partition, name))
                .arg("--access-scope", &scope_arg)
                .region(&state.region)
                .into(),
        });
    }
    if let Some(identity) = identity {
        if let Some(fix) = rbac_fix(identity, request) {
            fixes.push(fix);
        }
    }
    fixes
}

/// A `--principal-arn` value: as is, or the output of a lookup.
enum Argument {
    Plain(String),
    Lookup(Command),
}

impl Argument {
    fn add(&self, command: Command) -> Command {
        match self {
            Argument::Plain(arn) => command.arg("--principal-arn", arn),
            Argument::Lookup(inner) => command.arg_from("--principal-arn", inner),
        }
    }
}

/// A Role and RoleBinding (a ClusterRole and ClusterRoleBinding for a request outside
/// any namespace) granting exactly the request to the identity's username, or to its
/// first group when the username depends on the session name.
fn rbac_fix(identity: &Identity, request: &Request) -> Option<Fix> {
    if request.path.is_some() {
        return None;
    }
    let (subject_kind, subject) = if !identity.username.contains("{{") {
        ("User", identity.username.clone())
    } else {
        ("Group", identity.groups.iter().find(|g| g.as_str() != authz::AUTHENTICATED)?.clone())
    };
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    // Named after what it grants and to whom, so applying a second fix adds a grant
    // instead of rewriting the first one's subjects.
    let what = format!("{subject_kind}|{subject}|{:?}|{}|{}|{:?}", request.namespace, request.api_group, request.resource, request.name);
    let name = format!("eks-access-doctor-{}-{}-{}", request.verb, request.plural().replace('.', "-"), &super::audit::fnv(&what)[..8]);
    let (role_kind, binding_kind, metadata) = match &request.namespace {
        Some(ns) => ("Role", "RoleBinding", format!("  name: {}\n  namespace: {}\n", q(&name), q(ns))),
        None => ("ClusterRole", "ClusterRoleBinding", format!("  name: {}\n", q(&name))),
    };
    let names = request.name.as_deref().map(|n| format!("  resourceNames: [{}]\n", q(n))).unwrap_or_default();
    let yaml = format!(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: {role_kind}\nmetadata:\n{metadata}rules:\n- apiGroups: [{}]\n  resources: [{}]\n  verbs: [{}]\n{names}---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: {binding_kind}\nmetadata:\n{metadata}roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: {role_kind}\n  name: {}\n\
         subjects:\n- apiGroup: rbac.authorization.k8s.io\n  kind: {subject_kind}\n  name: {}\n",
        q(&request.api_group),
        q(&request.resource),
        q(&request.verb),
        q(&name),
        q(&subject),
    );
    let why = match subject_kind {
        "User" => format!("Or grant exactly this with RBAC, bound to the username {subject:?}."),
        _ => format!("Or grant exactly this with RBAC, bound to the group {subject:?} (everyone in that group gets it too)."),
    };
    Some(Fix::Manifest { why, yaml })
}

/// For people: the verdict, the identity, what grants it or the fixes.
pub fn explanation_text(e: &Explanation) -> String {
    let mut out = format!(
        "cluster {} (authentication mode {}): may {} {}?\n",
        inline(&e.cluster),
        inline(&e.authentication_mode),
        inline(&e.principal),
        inline(&e.request.describe())
    );
    match (&e.identity, &e.decision) {
        (Some(identity), Some(decision)) => {
            out.push_str(&format!("  identity  {:?} from {}\n", inline(&identity.username), inline(&identity.source)));
            out.push_str(&identity.grant_lines("  "));
            if decision.allowed {
                out.push_str("ALLOWED by\n");
                for grant in &decision.grants {
                    out.push_str(&format!("  - {}\n", inline(&grant.describe())));
                }
            } else if !decision.cannot_tell.is_empty() {
                out.push_str(&format!(
                    "CANNOT TELL: no binding allows it, and AWS does not publish the Kubernetes permissions of {}\n",
                    decision.cannot_tell.iter().map(|p| inline(p)).collect::<Vec<_>>().join(", ")
                ));
            } else {
                out.push_str("DENIED: no access policy and no binding allows it (Forbidden)\n");
            }
        }
        _ => out.push_str("DENIED: the principal cannot authenticate (Unauthorized)\n"),
    }
    for fix in &e.fixes {
        match fix {
            Fix::Command { why, command } => out.push_str(&format!("\n{}\n  $ {}\n", inline(why), inline(command))),
            Fix::Manifest { why, yaml } => {
                out.push_str(&format!("\n{} (kubectl apply -f -):\n", inline(why)));
                for line in yaml.lines() {
                    out.push_str(&format!("  {}\n", inline(line)));
                }
            }
        }
    }
    for gap in &e.gaps {
        out.push_str(&format!("\nnot read: {}\n", inline(gap)));
    }
    out
}
