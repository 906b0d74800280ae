//! Whether a principal may make one Kubernetes request on an EKS cluster, and by what:
//! Kubernetes RBAC evaluated as the API server evaluates it, joined with the EKS
//! access policies associated with the principal's access entry.
//!
//! Sources:
//! - Kubernetes, `pkg/apis/rbac/v1/evaluation_helpers.go` (`VerbMatches`,
//!   `APIGroupMatches`, `ResourceMatches` with the `*/subresource` form,
//!   `ResourceNameMatches`, `NonResourceURLMatches` with a trailing `*`) and
//!   `pkg/registry/rbac/validation/rule.go` (`VisitRulesFor`: every
//!   ClusterRoleBinding, then the RoleBindings of the request's namespace only; a
//!   RoleBinding may refer to a ClusterRole, whose rules then hold in that namespace;
//!   `appliesTo`: `User` by name, `Group` by name, `ServiceAccount` as
//!   `system:serviceaccount:NS:NAME`). The API server adds `system:authenticated` to
//!   every authenticated user's groups (`pkg/authentication/request/union`,
//!   "the authenticated group"). Aggregated ClusterRoles are evaluated as stored: the
//!   authorizer reads their `rules`, which the aggregation controller fills.
//! - EKS User Guide, `latest/ug/manage-access/k8s-access/grant-k8s-access.adoc`
//!   ("Associate access policies with access entries"): "You can assign one or more
//!   access policies to access entries of type `STANDARD`"; "If you associate an
//!   access policy to an access entry that also has group names specified, then the
//!   IAM principal has all the permissions in all associated access policies. It also
//!   has all the permissions in any Kubernetes Role or ClusterRole object that is
//!   specified in any Kubernetes Role and RoleBinding objects that specify the group
//!   names."; "You can use wildcard characters for a namespace name. For example, if
//!   you want to scope an access policy to all namespaces that start with `dev-`, you
//!   can specify `dev-*`". The permissions of each policy: `access_policies`.
//!
//! Choices where the sources are silent: a `*` anywhere in a scope's namespace
//! matches any run of characters; a namespace-scoped association never allows a
//! cluster-scoped request nor a request across every namespace; a policy whose
//! rules AWS does not publish makes the answer "cannot tell" instead of a guess;
//! `cluster-admin`, when the cluster's ClusterRoles were not read or do not hold it,
//! is the built-in `*`/`*`/`*` every cluster stores.

use super::access_policies::{self, Permissions};
use super::rbac::Binding;
use serde::Serialize;

/// The group every authenticated request carries.
pub const AUTHENTICATED: &str = "system:authenticated";
/// The group the API server lets through whatever the bindings say.
pub const MASTERS: &str = "system:masters";

/// One rule of a Role or ClusterRole.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub verbs: Vec<String>,
    pub resource_names: Vec<String>,
    pub non_resource_urls: Vec<String>,
}

impl Rule {
    fn from_value(value: &serde_json::Value) -> Rule {
        let list = |key: &str| -> Vec<String> {
            value
                .get(key)
                .and_then(|v| v.as_array())
                .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
                .unwrap_or_default()
        };
        Rule {
            api_groups: list("apiGroups"),
            resources: list("resources"),
            verbs: list("verbs"),
            resource_names: list("resourceNames"),
            non_resource_urls: list("nonResourceURLs"),
        }
    }

    fn allows(&self, request: &Request) -> bool {
        rule_allows(&self.api_groups, &self.resources, &self.verbs, &self.resource_names, &self.non_resource_urls, request)
    }
}

/// A Role or ClusterRole, its rules as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RbacRole {
    /// `Role` or `ClusterRole`.
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub rules: Vec<Rule>,
    /// It has an `aggregationRule` (its rules are what the controller aggregated).
    pub aggregated: bool,
}

impl RbacRole {
    /// One item of a `RoleList` or `ClusterRoleList` (`kind` is the list's item kind).
    pub fn from_item(kind: &str, item: &serde_json::Value) -> Option<RbacRole> {
        let metadata = item.get("metadata")?;
        let name = metadata.get("name")?.as_str()?.to_string();
        let namespace = metadata.get("namespace").and_then(|n| n.as_str()).map(str::to_string);
        let rules = item.get("rules").and_then(|r| r.as_array()).map(|r| r.iter().map(Rule::from_value).collect()).unwrap_or_default();
        Some(RbacRole { kind: kind.to_string(), namespace, name, rules, aggregated: item.get("aggregationRule").is_some() })
    }
}

/// The cluster's RBAC objects.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rbac {
    pub bindings: Vec<Binding>,
    pub roles: Vec<RbacRole>,
}

impl Rbac {
    /// The rules a binding grants, or `None` when its role is not there (a dangling
    /// roleRef grants nothing). `cluster-admin` is built in when not read.
    pub(crate) fn rules_of(&self, binding: &Binding) -> Option<Vec<Rule>> {
        let (kind, name) = binding.role_ref();
        let namespace = if kind == "Role" { binding.namespace.as_deref() } else { None };
        if let Some(role) = self.roles.iter().find(|r| r.kind == kind && r.name == name && r.namespace.as_deref() == namespace) {
            return Some(role.rules.clone());
        }
        (kind == "ClusterRole" && name == "cluster-admin").then(|| {
            vec![
                Rule { api_groups: vec!["*".into()], resources: vec!["*".into()], verbs: vec!["*".into()], ..Rule::default() },
                Rule { non_resource_urls: vec!["*".into()], verbs: vec!["*".into()], ..Rule::default() },
            ]
        })
    }
}

/// One request's attributes, as the API server's RequestInfo gives them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Request {
    pub verb: String,
    /// `""` for the core group.
    pub api_group: String,
    /// `pods`, or `pods/log` with its subresource.
    pub resource: String,
    /// `None`: a cluster-scoped resource, or a namespaced one across every namespace.
    pub namespace: Option<String>,
    pub name: Option<String>,
    /// A non-resource URL (`/healthz`) instead of a resource.
    pub path: Option<String>,
}

impl Request {
    /// `kubectl`'s way of writing a resource: `secrets`, `deployments.apps`,
    /// `pods/log`, `deployments.apps/scale`. A resource written without its group
    /// takes the group of the built-in resource of that name (`deployments` → `apps`).
    pub fn new(verb: &str, resource: &str, namespace: Option<&str>, name: Option<&str>) -> Request {
        let (resource, sub) = match resource.split_once('/') {
            Some((resource, sub)) => (resource, Some(sub)),
            None => (resource, None),
        };
        let (plural, group) = match resource.split_once('.') {
            Some((plural, group)) => (plural.to_string(), group.to_string()),
            None => (resource.to_string(), builtin(resource).map(|b| b.group).unwrap_or("").to_string()),
        };
        let namespaced = builtin(&plural).is_none_or(|b| b.namespaced);
        Request {
            verb: verb.to_string(),
            api_group: group,
            resource: match sub {
                Some(sub) => format!("{plural}/{sub}"),
                None => plural,
            },
            namespace: namespace.filter(|ns| namespaced && !ns.is_empty()).map(str::to_string),
            name: name.filter(|n| !n.is_empty()).map(str::to_string),
            path: None,
        }
    }

    /// The resource without its subresource.
    pub(crate) fn plural(&self) -> &str {
        self.resource.split('/').next().unwrap_or_default()
    }

    /// Whether the resource lives in namespaces (unknown resources are taken to when a
    /// namespace was given).
    pub fn namespaced(&self) -> bool {
        builtin(self.plural()).map_or(self.namespace.is_some(), |b| b.namespaced)
    }

    /// `get secrets in namespace "payments"`, for people.
    pub fn describe(&self) -> String {
        if let Some(path) = &self.path {
            return format!("{} {path}", self.verb);
        }
        let resource = if self.api_group.is_empty() { self.resource.clone() } else { format!("{}.{}", self.resource, self.api_group) };
        let named = self.name.as_ref().map(|n| format!(" {n:?}")).unwrap_or_default();
        match (&self.namespace, self.namespaced()) {
            (Some(ns), _) => format!("{} {resource}{named} in namespace {ns:?}", self.verb),
            (None, true) => format!("{} {resource}{named} in every namespace", self.verb),
            (None, false) => format!("{} {resource}{named} (cluster-scoped)", self.verb),
        }
    }
}

/// A built-in resource: its group and whether it is namespaced (`kubectl api-resources`
/// on Kubernetes 1.31).
struct Builtin {
    group: &'static str,
    namespaced: bool,
}

fn builtin(plural: &str) -> Option<Builtin> {
    let (group, namespaced) = match plural {
        "pods"
        | "services"
        | "secrets"
        | "configmaps"
        | "serviceaccounts"
        | "endpoints"
        | "events"
        | "persistentvolumeclaims"
        | "replicationcontrollers"
        | "limitranges"
        | "resourcequotas"
        | "podtemplates"
        | "bindings" => ("", true),
        "nodes" | "namespaces" | "persistentvolumes" | "componentstatuses" => ("", false),
        "deployments" | "statefulsets" | "daemonsets" | "replicasets" | "controllerrevisions" => ("apps", true),
        "jobs" | "cronjobs" => ("batch", true),
        "horizontalpodautoscalers" => ("autoscaling", true),
        "poddisruptionbudgets" => ("policy", true),
        "ingresses" | "networkpolicies" => ("networking.k8s.io", true),
        "ingressclasses" => ("networking.k8s.io", false),
        "roles" | "rolebindings" => ("rbac.authorization.k8s.io", true),
        "clusterroles" | "clusterrolebindings" => ("rbac.authorization.k8s.io", false),
        "storageclasses" | "csidrivers" | "csinodes" | "volumeattachments" => ("storage.k8s.io", false),
        "customresourcedefinitions" => ("apiextensions.k8s.io", false),
        "leases" => ("coordination.k8s.io", true),
        "endpointslices" => ("discovery.k8s.io", true),
        "mutatingwebhookconfigurations" | "validatingwebhookconfigurations" => ("admissionregistration.k8s.io", false),
        "certificatesigningrequests" => ("certificates.k8s.io", false),
        "priorityclasses" => ("scheduling.k8s.io", false),
        "localsubjectaccessreviews" => ("authorization.k8s.io", true),
        "selfsubjectaccessreviews" | "subjectaccessreviews" => ("authorization.k8s.io", false),
        _ => return None,
    };
    Some(Builtin { group, namespaced })
}

/// `evaluation_helpers.go`, rule by rule.
pub fn rule_allows<S: AsRef<str>>(
    api_groups: &[S],
    resources: &[S],
    verbs: &[S],
    resource_names: &[S],
    non_resource_urls: &[S],
    request: &Request,
) -> bool {
    let has = |list: &[S], value: &str| list.iter().any(|v| v.as_ref() == "*" || v.as_ref() == value);
    if !has(verbs, &request.verb) {
        return false;
    }
    if let Some(path) = &request.path {
        return non_resource_urls.iter().any(|u| {
            let u = u.as_ref();
            u == "*" || u == path || u.strip_suffix('*').is_some_and(|prefix| path.starts_with(prefix))
        });
    }
    if !has(api_groups, &request.api_group) {
        return false;
    }
    let subresource = request.resource.split_once('/').map(|(_, sub)| sub);
    let resource_matches = resources.iter().any(|r| {
        let r = r.as_ref();
        r == "*" || r == request.resource || subresource.is_some_and(|sub| r.strip_prefix("*/").is_some_and(|rule_sub| rule_sub == sub))
    });
    if !resource_matches {
        return false;
    }
    resource_names.is_empty() || request.name.as_deref().is_some_and(|name| resource_names.iter().any(|n| n.as_ref() == name))
}

/// Where an access policy association holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Scope {
    Cluster,
    Namespace { namespaces: Vec<String> },
}

impl Scope {
    fn covers(&self, request: &Request) -> bool {
        match self {
            Scope::Cluster => true,
            Scope::Namespace { namespaces } => {
                request.namespaced() && request.namespace.as_deref().is_some_and(|ns| namespaces.iter().any(|pattern| glob(pattern, ns)))
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Scope::Cluster => "cluster".into(),
            Scope::Namespace { namespaces } => format!("namespaces {}", namespaces.join(", ")),
        }
    }
}

/// `*` matches any run of characters. Greedy with one backtrack point (the last star),
/// so a hostile pattern of many stars costs at most pattern × text steps.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((star_p, star_t)) = star {
            pi = star_p + 1;
            ti = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// An access policy associated with an access entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Association {
    pub policy_arn: String,
    pub scope: Scope,
}

impl Association {
    /// `AmazonEKSViewPolicy`.
    pub fn policy_name(&self) -> &str {
        self.policy_arn.rsplit('/').next().unwrap_or(&self.policy_arn)
    }
}

/// Who the cluster takes a principal for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Identity {
    /// As mapped, `{{SessionName}}` templates kept.
    pub username: String,
    pub groups: Vec<String>,
    /// The access policies of its access entry (only a `STANDARD` entry's count).
    pub associations: Vec<Association>,
    /// `access entry (STANDARD)`, `aws-auth mapRoles[2]`.
    pub source: String,
}

impl Identity {
    /// Its groups and access policies as report lines, each value escaped for a terminal.
    pub fn grant_lines(&self, indent: &str) -> String {
        use crate::escape::inline;
        let mut out = String::new();
        if !self.groups.is_empty() {
            let groups: Vec<String> = self.groups.iter().map(|g| format!("{:?}", inline(g))).collect();
            out.push_str(&format!("{indent}groups    {}\n", groups.join(", ")));
        }
        for a in &self.associations {
            out.push_str(&format!("{indent}policy    {} ({})\n", inline(a.policy_name()), inline(&a.scope.describe())));
        }
        out
    }
}

/// What grants a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Grant {
    /// The identity is in `system:masters`.
    Masters,
    /// A binding's role has a rule that matches.
    Binding { binding: String, subject: String },
    /// An associated access policy has a rule that matches, in its scope.
    AccessPolicy { policy: String, scope: String },
}

impl Grant {
    pub fn describe(&self) -> String {
        match self {
            Grant::Masters => format!("the group {MASTERS} (allowed whatever the bindings say)"),
            Grant::Binding { binding, subject } => format!("{binding}, which names {subject}"),
            Grant::AccessPolicy { policy, scope } => format!("the access policy {policy} ({scope} scope)"),
        }
    }
}

/// The answer for one request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub allowed: bool,
    /// Every grant that allows it.
    pub grants: Vec<Grant>,
    /// Associated policies whose rules AWS does not publish, that may allow it.
    pub cannot_tell: Vec<String>,
}

/// Every grant of `request` to `identity`.
pub fn evaluate(identity: &Identity, rbac: &Rbac, request: &Request) -> Decision {
    let mut grants = Vec::new();
    let groups: Vec<&str> = identity.groups.iter().map(String::as_str).chain([AUTHENTICATED]).collect();
    if groups.contains(&MASTERS) {
        grants.push(Grant::Masters);
    }
    for binding in &rbac.bindings {
        let applies = match (binding.kind.as_str(), &binding.namespace) {
            ("ClusterRoleBinding", _) => true,
            ("RoleBinding", Some(ns)) => request.namespace.as_deref() == Some(ns.as_str()) && request.namespaced(),
            _ => false,
        };
        if !applies {
            continue;
        }
        let subject = if binding.users.iter().any(|u| u == &identity.username) {
            format!("the user {:?}", identity.username)
        } else if let Some(group) = binding.groups.iter().find(|g| groups.contains(&g.as_str())) {
            format!("the group {group:?}")
        } else {
            continue;
        };
        if rbac.rules_of(binding).is_some_and(|rules| rules.iter().any(|rule| rule.allows(request))) {
            grants.push(Grant::Binding { binding: binding.describe(), subject });
        }
    }
    let mut cannot_tell = Vec::new();
    for association in &identity.associations {
        if !association.scope.covers(request) {
            continue;
        }
        let permissions = access_policies::find(&association.policy_arn)
            .map(|p| p.permissions)
            .or_else(|| access_policies::find_other(&association.policy_arn).map(|p| p.permissions));
        match permissions {
            Some(Permissions::Rules { rules }) => {
                let allows =
                    rules.iter().any(|r| rule_allows(r.api_groups, r.resources, r.verbs, r.resource_names, r.non_resource_urls, request));
                if allows {
                    grants.push(Grant::AccessPolicy { policy: association.policy_name().into(), scope: association.scope.describe() });
                }
            }
            Some(Permissions::Unpublished { .. }) | None => cannot_tell.push(association.policy_name().to_string()),
        }
    }
    Decision { allowed: !grants.is_empty(), grants, cannot_tell }
}

/// The user-facing access policies, least first: the smallest fix is the first that
/// allows. A read goes to AdminView (reads only, Secrets included) before Edit (writes).
const LEAST_FOR_READS: &[&str] =
    &["AmazonEKSViewPolicy", "AmazonEKSAdminViewPolicy", "AmazonEKSEditPolicy", "AmazonEKSAdminPolicy", "AmazonEKSClusterAdminPolicy"];
const LEAST_FOR_WRITES: &[&str] = &["AmazonEKSViewPolicy", "AmazonEKSEditPolicy", "AmazonEKSAdminPolicy", "AmazonEKSClusterAdminPolicy"];

/// The least user-facing access policy that allows `request`, with the scope it needs:
/// the request's namespace when it has one (cluster otherwise).
pub fn least_policy(request: &Request) -> Option<(&'static str, Scope)> {
    let scope = match (&request.namespace, request.namespaced()) {
        (Some(ns), true) => Scope::Namespace { namespaces: vec![ns.clone()] },
        _ => Scope::Cluster,
    };
    let order = if matches!(request.verb.as_str(), "get" | "list" | "watch") { LEAST_FOR_READS } else { LEAST_FOR_WRITES };
    order.iter().copied().find_map(|name| match access_policies::find(name)?.permissions {
        Permissions::Rules { rules } => rules
            .iter()
            .any(|r| rule_allows(r.api_groups, r.resources, r.verbs, r.resource_names, r.non_resource_urls, request))
            .then(|| (name, scope.clone())),
        Permissions::Unpublished { .. } => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn binding(kind: &str, ns: Option<&str>, role: &str, subjects: serde_json::Value) -> Binding {
        let mut meta = json!({"name": format!("b-{role}")});
        if let Some(ns) = ns {
            meta["namespace"] = json!(ns);
        }
        let (role_kind, role_name) = role.split_once('/').unwrap();
        Binding::from_item(kind, &json!({"metadata": meta, "roleRef": {"kind": role_kind, "name": role_name}, "subjects": subjects}))
            .unwrap()
    }

    fn role(kind: &str, ns: Option<&str>, name: &str, rules: serde_json::Value) -> RbacRole {
        let mut meta = json!({"name": name});
        if let Some(ns) = ns {
            meta["namespace"] = json!(ns);
        }
        RbacRole::from_item(kind, &json!({"metadata": meta, "rules": rules})).unwrap()
    }

    fn who(username: &str, groups: &[&str], associations: Vec<Association>) -> Identity {
        Identity { username: username.into(), groups: groups.iter().map(|g| g.to_string()).collect(), associations, source: "test".into() }
    }

    fn rbac() -> Rbac {
        Rbac {
            bindings: vec![
                binding("RoleBinding", Some("dev"), "ClusterRole/reader", json!([{"kind": "Group", "name": "devs"}])),
                binding("RoleBinding", Some("dev"), "Role/scaler", json!([{"kind": "User", "name": "alice"}])),
                binding("ClusterRoleBinding", None, "ClusterRole/node-reader", json!([{"kind": "Group", "name": AUTHENTICATED}])),
                binding("ClusterRoleBinding", None, "ClusterRole/cluster-admin", json!([{"kind": "Group", "name": "admins"}])),
                binding(
                    "RoleBinding",
                    Some("ops"),
                    "ClusterRole/one-secret",
                    json!([{"kind": "ServiceAccount", "name": "bot", "namespace": "ops"}]),
                ),
            ],
            roles: vec![
                role(
                    "ClusterRole",
                    None,
                    "reader",
                    json!([{"apiGroups": ["", "apps"], "resources": ["pods", "deployments"], "verbs": ["get", "list"]}]),
                ),
                role("Role", Some("dev"), "scaler", json!([{"apiGroups": ["apps"], "resources": ["*/scale"], "verbs": ["update"]}])),
                role("ClusterRole", None, "node-reader", json!([{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]}])),
                role(
                    "ClusterRole",
                    None,
                    "one-secret",
                    json!([{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"], "resourceNames": ["token"]}]),
                ),
            ],
        }
    }

    #[test]
    fn role_bindings_hold_only_in_their_namespace() {
        let dev = who("bob", &["devs"], vec![]);
        assert!(evaluate(&dev, &rbac(), &Request::new("list", "pods", Some("dev"), None)).allowed);
        assert!(evaluate(&dev, &rbac(), &Request::new("get", "deployments", Some("dev"), Some("web"))).allowed);
        assert!(!evaluate(&dev, &rbac(), &Request::new("list", "pods", Some("prod"), None)).allowed);
        assert!(!evaluate(&dev, &rbac(), &Request::new("list", "pods", None, None)).allowed, "across every namespace");
        assert!(!evaluate(&dev, &rbac(), &Request::new("delete", "pods", Some("dev"), Some("x"))).allowed);
    }

    #[test]
    fn subjects_users_service_accounts_and_the_authenticated_group() {
        let alice = who("alice", &[], vec![]);
        assert!(evaluate(&alice, &rbac(), &Request::new("update", "deployments.apps/scale", Some("dev"), Some("web"))).allowed);
        assert!(!evaluate(&alice, &rbac(), &Request::new("update", "deployments.apps", Some("dev"), Some("web"))).allowed);
        let decision = evaluate(&alice, &rbac(), &Request::new("get", "nodes", Some("ignored"), Some("n1")));
        assert!(decision.allowed && decision.grants[0].describe().contains("system:authenticated"), "{decision:?}");
        let bot = who("system:serviceaccount:ops:bot", &[], vec![]);
        assert!(evaluate(&bot, &rbac(), &Request::new("get", "secrets", Some("ops"), Some("token"))).allowed);
        assert!(!evaluate(&bot, &rbac(), &Request::new("get", "secrets", Some("ops"), Some("other"))).allowed);
        assert!(!evaluate(&bot, &rbac(), &Request::new("list", "secrets", Some("ops"), None)).allowed, "resourceNames need a name");
        assert!(evaluate(&who("x", &["admins"], vec![]), &rbac(), &Request::new("delete", "nodes", None, Some("n"))).allowed);
        assert_eq!(evaluate(&who("x", &[MASTERS], vec![]), &Rbac::default(), &Request::new("*", "*", None, None)).grants, [Grant::Masters]);
    }

    #[test]
    fn access_policies_in_their_scope() {
        let scoped = |namespaces: &[&str]| Association {
            policy_arn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy".into(),
            scope: Scope::Namespace { namespaces: namespaces.iter().map(|s| s.to_string()).collect() },
        };
        let dev = who("u", &[], vec![scoped(&["dev-*"])]);
        assert!(evaluate(&dev, &Rbac::default(), &Request::new("create", "deployments", Some("dev-payments"), None)).allowed);
        assert!(!evaluate(&dev, &Rbac::default(), &Request::new("create", "deployments", Some("prod"), None)).allowed);
        assert!(!evaluate(&dev, &Rbac::default(), &Request::new("get", "nodes", None, Some("n"))).allowed, "cluster-scoped");
        let view = who(
            "u",
            &[],
            vec![Association { policy_arn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy".into(), scope: Scope::Cluster }],
        );
        assert!(evaluate(&view, &Rbac::default(), &Request::new("list", "pods", None, None)).allowed);
        assert!(!evaluate(&view, &Rbac::default(), &Request::new("get", "secrets", Some("dev"), Some("s"))).allowed);
        let unknown = who(
            "u",
            &[],
            vec![Association { policy_arn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSNotAPolicy".into(), scope: Scope::Cluster }],
        );
        let decision = evaluate(&unknown, &Rbac::default(), &Request::new("get", "pods", Some("a"), None));
        assert!(!decision.allowed && decision.cannot_tell == ["AmazonEKSNotAPolicy"]);
    }

    #[test]
    fn the_least_policy_that_allows() {
        assert_eq!(least_policy(&Request::new("get", "pods", Some("a"), None)).unwrap().0, "AmazonEKSViewPolicy");
        assert_eq!(least_policy(&Request::new("get", "secrets", Some("a"), None)).unwrap().0, "AmazonEKSAdminViewPolicy");
        assert_eq!(least_policy(&Request::new("create", "secrets", Some("a"), None)).unwrap().0, "AmazonEKSEditPolicy");
        let (name, scope) = least_policy(&Request::new("create", "clusterroles", None, None)).unwrap();
        assert_eq!((name, scope), ("AmazonEKSClusterAdminPolicy", Scope::Cluster));
    }

    #[test]
    fn resources_as_kubectl_writes_them() {
        let r = Request::new("get", "deployments.apps/scale", Some("a"), Some("web"));
        assert_eq!((r.api_group.as_str(), r.resource.as_str()), ("apps", "deployments/scale"));
        assert_eq!(Request::new("get", "nodes", Some("a"), None).namespace, None, "cluster-scoped: the namespace is dropped");
        assert_eq!(Request::new("get", "widgets.example.com", Some("a"), None).api_group, "example.com");
        assert!(glob("dev-*", "dev-") && glob("*-prod", "a-prod") && !glob("dev-*", "prod") && glob("a*b*c", "aXbYc"));
        assert!(glob("*", "") && glob("a**", "a") && !glob("a", "ab") && !glob("ab", "a") && glob("é*", "éa"));
        // Many stars against a long name that almost matches: quick, not exponential.
        assert!(!glob(&"a*".repeat(30), &"a".repeat(29)));
        assert!(!glob(&format!("{}b", "*a".repeat(40)), &"a".repeat(200)));
        assert_eq!(Request::new("get", "secrets", Some("p"), None).describe(), "get secrets in namespace \"p\"");
    }
}
