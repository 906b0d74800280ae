//! Structured input for the `fields` target: the fuzzer's bytes become the values of
//! the fields matchers and renderers read (errorMessage, username, kubernetesGroups,
//! principalArn, cluster name, …) inserted into one of the fixture envelopes from
//! `events/`, plus the live facts enrichment would add. Strings are built from
//! pieces: the fixture's own value, tokens known to be interesting (reserved
//! prefixes, Slack mentions, fences, escapes, message fragments) and raw text, so
//! mutations keep reaching the matchers instead of dying in JSON syntax.

use arbitrary::Arbitrary;
use eks_access_doctor_core::facts::{
    trust_document, AccessEntryFacts, Facts, Lookup, PodAssociation, PodIdentityAgent, PrincipalFacts, PrincipalKind, RoleTrust,
};

/// A trust policy EC2 alone may use: the start the fuzzer mutates.
const EC2_TRUST: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
use serde_json::{json, Value};
use std::sync::OnceLock;

/// Every fixture envelope in `events/` (the CloudTrail log file is left to the byte targets).
pub const FIXTURES: &[&str] = &[
    include_str!("../../events/access-entries-disabled.json"),
    include_str!("../../events/access-entry-already-exists.json"),
    include_str!("../../events/access-entry-not-found.json"),
    include_str!("../../events/access-policy-requires-standard.json"),
    include_str!("../../events/access-scope-namespaces.json"),
    include_str!("../../events/auth-mode-irreversible.json"),
    include_str!("../../events/auth-mode-two-step.json"),
    include_str!("../../events/auth-mode-unchanged.json"),
    include_str!("../../events/auto-mode-requires-access-entries.json"),
    include_str!("../../events/cluster-update-in-progress.json"),
    include_str!("../../events/config-map-migration-notice.json"),
    include_str!("../../events/config-map-retired.json"),
    include_str!("../../events/creator-admin-required-for-config-map.json"),
    include_str!("../../events/invalid-policy-arn.json"),
    include_str!("../../events/invalid-principal.json"),
    include_str!("../../events/missing-iam-permission-explicit-deny.json"),
    include_str!("../../events/missing-iam-permission.json"),
    include_str!("../../events/node-type-cross-account.json"),
    include_str!("../../events/node-type-rejects-groups.json"),
    include_str!("../../events/node-type-requires-role.json"),
    include_str!("../../events/principal-arn-format.json"),
    include_str!("../../events/reserved-group-prefix.json"),
    include_str!("../../events/reserved-username-prefix.json"),
    include_str!("../../events/service-linked-role.json"),
    include_str!("../../events/unbound-kubernetes-group.json"),
    include_str!("../../events/unclassified.json"),
    include_str!("../../events/pod-identity-trust-policy.json"),
    include_str!("../../events/pod-identity-association-exists.json"),
    include_str!("../../events/pod-identity-session-policy-needs-tags-off.json"),
    include_str!("../../events/pod-identity-role-not-found.json"),
    include_str!("../../events/pod-identity-role-other-account.json"),
    include_str!("../../events/pod-identity-agent-missing.json"),
    include_str!("../../events/pod-identity-role-not-assumable.json"),
    include_str!("../../events/pod-identity-token-rejected.json"),
    include_str!("../../events/pod-identity-association-gone.json"),
    include_str!("../../events/pod-identity-auth-unavailable.json"),
    include_str!("../../events/pod-identity-request-rejected.json"),
    include_str!("../../events/no-finding/associate-access-policy.json"),
    include_str!("../../events/no-finding/create-access-entry-standard.json"),
    include_str!("../../events/no-finding/describe-cluster.json"),
    include_str!("../../events/no-finding/s3-put-bucket-policy-denied.json"),
    include_str!("../../events/no-finding/update-cluster-config-logging.json"),
];

/// Substrings that steer matchers or attack renderers.
const HOSTILE: &[&str] = &[
    "system:",
    "eks:",
    "aws:",
    "amazon:",
    "iam:",
    "SYSTEM:",
    " system:masters",
    "<!channel>",
    "<!here>",
    "<@U123>",
    "<#C1>",
    "<https://evil.example|click>",
    "<",
    ">",
    "&",
    "&amp;",
    "&lt;",
    "&rlm;",
    "&ZeroWidthSpace;",
    "&#x202E;",
    "```",
    "`",
    "~~~",
    "\n```\n",
    "\n",
    "\r\n",
    "\t",
    "    ",
    "\n    ",
    "\n> ",
    "\n# ",
    "|",
    "\\",
    "\\|",
    "*",
    "_",
    "[x](https://evil.example)",
    "![x](https://e/p.png)",
    "<img src=x>",
    "\u{1b}[31m",
    "\u{1b}]8;;https://evil.example\u{7}",
    "\u{7}",
    "\u{0}",
    "\u{7f}",
    "\u{85}",
    "\u{9b}",
    "\u{202E}",
    "\u{2066}",
    "\u{200B}",
    "\u{FEFF}",
    "\u{AD}",
    "\u{2028}",
    "\u{2029}",
    "\u{E0041}",
    "\u{FE0F}",
    "\u{3164}",
    "'",
    "\"",
    "$(id)",
    "`id`",
    ";",
    "&&",
    "--endpoint-url",
    " --debug",
    "-",
    "…",
    "é",
    "\u{10FFFF}",
    "𝕏",
    "ａ",
    "arn:aws:iam::111122223333:role/",
    "arn:aws:iam::444455556666:role/",
    "arn:aws:iam::111122223333:user/",
    "arn:aws:iam::111122223333:role/aws-service-role/",
    "arn:aws:sts::111122223333:assumed-role/",
    "arn:aws:eks:eu-west-1:111122223333:cluster/",
    "arn:aws:eks:eu-west-1:111122223333:access-entry/",
    "arn:aws:eks::aws:cluster-access-policy/",
    "arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2F",
    "%",
    "%ff",
    "%0a",
    "{{SessionName}}",
    "CONFIG_MAP",
    "API_AND_CONFIG_MAP",
    "API",
    "STANDARD",
    "EC2_LINUX",
    "EC2_WINDOWS",
    "FARGATE_LINUX",
    "HYBRID_LINUX",
    "EC2",
    "cluster",
    "namespace",
    "authentication mode update from ",
    " to ",
    "group name ",
    "cannot start with",
    "is not authorized to perform: ",
    " on resource: ",
    " with an explicit deny",
    "because no identity-based policy allows the ",
    "eks:CreateAccessEntry",
    "eks:AssociateAccessPolicy",
    "eks:UpdateClusterConfig",
    "\"STANDARD\"",
    "already in use",
    "not found",
    "in progress",
    "invalid principal",
    "Trust policy of the role provided is invalid",
    "Role provided in the request does not exist",
    "Cross-account pass role is not allowed",
    "Unauthorized Exception! EKS does not have permissions to assume the associated role.",
    "Association already exists: ",
    "PackedPolicyTooLarge",
    "pods.eks.amazonaws.com",
    "eks-auth:AssumeRoleForPodIdentity",
    "iam:PassRole",
    "{\"Version\":\"2012-10-17\",\"Statement\":[",
];

const EVENT_NAMES: &[&str] = &[
    "CreateAccessEntry",
    "UpdateAccessEntry",
    "DeleteAccessEntry",
    "DescribeAccessEntry",
    "ListAccessEntries",
    "AssociateAccessPolicy",
    "DisassociateAccessPolicy",
    "ListAssociatedAccessPolicies",
    "ListAccessPolicies",
    "UpdateClusterConfig",
    "CreateCluster",
    "DescribeCluster",
    "CreateNodegroup",
    "CreatePodIdentityAssociation",
    "UpdatePodIdentityAssociation",
    "DeletePodIdentityAssociation",
    "AssumeRoleForPodIdentity",
];

const ERROR_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "InvalidParameterException",
    "InvalidRequestException",
    "ResourceInUseException",
    "ResourceNotFoundException",
    "ServerException",
    "ResourceLimitExceededException",
    "InvalidTokenException",
    "ExpiredTokenException",
    "ThrottlingException",
    "ServiceUnavailableException",
    "InternalServerException",
    "",
];

/// The fixture's string values, usable as pieces (messages, ARNs, names).
fn fixture_tokens() -> &'static [String] {
    static TOKENS: OnceLock<Vec<String>> = OnceLock::new();
    TOKENS.get_or_init(|| {
        let mut tokens = Vec::new();
        for fixture in FIXTURES {
            let value: Value = serde_json::from_str(fixture).expect("fixture is JSON");
            collect_strings(&value["detail"], &mut tokens);
        }
        tokens.sort();
        tokens.dedup();
        tokens
    })
}

fn collect_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

#[derive(Arbitrary, Debug, Clone)]
pub enum Piece {
    /// The value the fixture had in this place.
    Original,
    Hostile(u8),
    FromFixture(u16),
    Text(String),
    /// A long run, for the length limits.
    Repeat(u8, u16),
}

#[derive(Arbitrary, Debug, Clone)]
pub struct Str(pub Vec<Piece>);

impl Str {
    pub fn build(&self, original: Option<&str>) -> String {
        let mut out = String::new();
        for piece in &self.0 {
            match piece {
                Piece::Original => out.push_str(original.unwrap_or("")),
                Piece::Hostile(i) => out.push_str(HOSTILE[*i as usize % HOSTILE.len()]),
                Piece::FromFixture(i) => {
                    let tokens = fixture_tokens();
                    out.push_str(&tokens[*i as usize % tokens.len()]);
                }
                Piece::Text(s) => out.push_str(s),
                Piece::Repeat(i, n) => out.push_str(&HOSTILE[*i as usize % HOSTILE.len()].repeat((*n as usize).min(5000))),
            }
        }
        out
    }
}

/// What to do with one field of the fixture.
#[derive(Arbitrary, Debug, Clone)]
pub enum Edit {
    Keep,
    Remove,
    Null,
    Set(Str),
}

#[derive(Arbitrary, Debug, Clone)]
pub enum ListEdit {
    Keep,
    Remove,
    Set(Vec<Str>),
}

#[derive(Arbitrary, Debug, Clone)]
pub enum Choice {
    Keep,
    Known(u8),
    Custom(Str),
}

#[derive(Arbitrary, Debug, Clone)]
pub enum FuzzLookup<T> {
    NotChecked,
    Found(T),
    Absent,
    Failed(Str),
}

#[derive(Arbitrary, Debug, Clone)]
pub struct FuzzEntry {
    pub entry_type: Option<Str>,
    pub username: Option<Str>,
    pub groups: Vec<Str>,
    pub created_at: Option<Str>,
    pub policies: Vec<Str>,
}

#[derive(Arbitrary, Debug, Clone)]
pub struct FuzzFacts {
    pub auth_mode: FuzzLookup<Str>,
    pub entry: FuzzLookup<FuzzEntry>,
    pub principal: FuzzLookup<(bool, Str)>,
    /// The association role's trust policy, as IAM's (URL-encoded) JSON text.
    pub role_trust: FuzzLookup<Str>,
    /// Each association: its id, role and target role.
    pub associations: FuzzLookup<Vec<(Str, Option<Str>, Option<Str>)>>,
    /// `None`: Auto Mode; else the add-on's status.
    pub agent: FuzzLookup<Option<Str>>,
}

#[derive(Arbitrary, Debug, Clone)]
pub struct Input {
    pub fixture: u8,
    pub event_name: Choice,
    pub error_code: Choice,
    pub error_message: Edit,
    pub username: Edit,
    pub groups: ListEdit,
    pub principal_arn: Edit,
    pub cluster: Edit,
    pub cluster_name: Edit,
    pub entry_type: Edit,
    pub policy_arn: Edit,
    pub scope_type: Edit,
    pub namespaces: ListEdit,
    pub auth_mode: Edit,
    pub caller_arn: Edit,
    pub role_arn: Edit,
    pub target_role_arn: Edit,
    pub namespace: Edit,
    pub service_account: Edit,
    pub session_policy: Edit,
    pub association_id: Edit,
    pub caller_role: Edit,
    pub region: Edit,
    pub account: Edit,
    pub event_id: Edit,
    /// Wrap the record as a bare record or a log file instead of the envelope.
    pub shape: u8,
    pub facts: Option<FuzzFacts>,
}

fn lookup<T, U>(l: &FuzzLookup<T>, f: impl Fn(&T) -> U) -> Lookup<U> {
    match l {
        FuzzLookup::NotChecked => Lookup::NotChecked,
        FuzzLookup::Found(v) => Lookup::Found(f(v)),
        FuzzLookup::Absent => Lookup::Absent,
        FuzzLookup::Failed(s) => Lookup::Failed(s.build(Some("AccessDeniedException: denied"))),
    }
}

impl FuzzFacts {
    pub fn build(&self) -> Facts {
        Facts {
            cluster_auth_mode: lookup(&self.auth_mode, |s| s.build(Some("CONFIG_MAP"))),
            access_entry: lookup(&self.entry, |e| AccessEntryFacts {
                entry_type: e.entry_type.as_ref().map(|s| s.build(Some("STANDARD"))),
                username: e.username.as_ref().map(|s| s.build(Some("admin"))),
                kubernetes_groups: e.groups.iter().map(|s| s.build(Some("ops"))).collect(),
                created_at: e.created_at.as_ref().map(|s| s.build(Some("2026-11-28T10:00:00Z"))),
                policies: e.policies.iter().map(|s| s.build(Some("arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"))).collect(),
            }),
            principal: lookup(&self.principal, |(is_role, path)| PrincipalFacts {
                kind: if *is_role { PrincipalKind::Role } else { PrincipalKind::User },
                path: path.build(Some("/")),
                ..Default::default()
            }),
            association_role: lookup(&self.role_trust, |document| RoleTrust {
                arn: "arn:aws:iam::111122223333:role/orders-reader".into(),
                document: trust_document(&document.build(Some(EC2_TRUST))),
            }),
            pod_associations: lookup(&self.associations, |all| {
                all.iter()
                    .map(|(id, role, target)| PodAssociation {
                        association_id: id.build(Some("a-9qwzkz4yrf8uhnnm5")),
                        role_arn: role.as_ref().map(|r| r.build(Some("arn:aws:iam::111122223333:role/orders-reader"))),
                        target_role_arn: target.as_ref().map(|t| t.build(Some("arn:aws:iam::444455556666:role/orders-data"))),
                    })
                    .collect()
            }),
            pod_identity_agent: lookup(&self.agent, |agent| match agent {
                None => PodIdentityAgent::AutoMode,
                Some(status) => PodIdentityAgent::Addon { status: status.build(Some("ACTIVE")) },
            }),
            ..Default::default()
        }
    }
}

fn apply(record: &mut Value, pointer: &str, edit: &Edit) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    if matches!(edit, Edit::Keep) {
        return;
    }
    if record.pointer(parent).is_none_or(|p| !p.is_object()) {
        if matches!(edit, Edit::Remove) {
            return;
        }
        ensure_object(record, parent);
    }
    let original = record.pointer(pointer).and_then(Value::as_str).map(str::to_string);
    let parent = record.pointer_mut(parent).unwrap().as_object_mut().unwrap();
    match edit {
        Edit::Keep => {}
        Edit::Remove => {
            parent.remove(key);
        }
        Edit::Null => {
            parent.insert(key.to_string(), Value::Null);
        }
        Edit::Set(s) => {
            parent.insert(key.to_string(), Value::String(s.build(original.as_deref())));
        }
    }
}

fn apply_list(record: &mut Value, pointer: &str, edit: &ListEdit) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    match edit {
        ListEdit::Keep => {}
        ListEdit::Remove => {
            if let Some(p) = record.pointer_mut(parent).and_then(Value::as_object_mut) {
                p.remove(key);
            }
        }
        ListEdit::Set(items) => {
            let originals: Vec<String> = record
                .pointer(pointer)
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
                .unwrap_or_default();
            let values: Vec<Value> =
                items.iter().enumerate().map(|(i, s)| Value::String(s.build(originals.get(i).map(String::as_str)))).collect();
            ensure_object(record, parent);
            record.pointer_mut(parent).unwrap().as_object_mut().unwrap().insert(key.to_string(), Value::Array(values));
        }
    }
}

/// Makes every object on the way to `pointer` exist (replacing nulls and scalars).
fn ensure_object(record: &mut Value, pointer: &str) {
    let mut current = record;
    for key in pointer.split('/').skip(1) {
        if !current.is_object() {
            *current = json!({});
        }
        current = current.as_object_mut().unwrap().entry(key.to_string()).or_insert_with(|| json!({}));
    }
    if !current.is_object() {
        *current = json!({});
    }
}

fn choose(record: &mut Value, key: &str, choice: &Choice, known: &[&str]) {
    let original = record[key].as_str().map(str::to_string);
    match choice {
        Choice::Keep => {}
        Choice::Known(i) => record[key] = json!(known[*i as usize % known.len()]),
        Choice::Custom(s) => record[key] = json!(s.build(original.as_deref())),
    }
}

impl Input {
    /// The document bytes (JSON) and the facts to diagnose with.
    pub fn build(&self) -> (Vec<u8>, Facts) {
        let mut envelope: Value = serde_json::from_str(FIXTURES[self.fixture as usize % FIXTURES.len()]).unwrap();
        let record = &mut envelope["detail"];
        choose(record, "eventName", &self.event_name, EVENT_NAMES);
        choose(record, "errorCode", &self.error_code, ERROR_CODES);
        apply(record, "/errorMessage", &self.error_message);
        apply(record, "/requestParameters/username", &self.username);
        apply_list(record, "/requestParameters/kubernetesGroups", &self.groups);
        apply(record, "/requestParameters/principalArn", &self.principal_arn);
        apply(record, "/requestParameters/name", &self.cluster);
        apply(record, "/requestParameters/clusterName", &self.cluster_name);
        apply(record, "/requestParameters/type", &self.entry_type);
        apply(record, "/requestParameters/policyArn", &self.policy_arn);
        apply(record, "/requestParameters/accessScope/type", &self.scope_type);
        apply_list(record, "/requestParameters/accessScope/namespaces", &self.namespaces);
        apply(record, "/requestParameters/accessConfig/authenticationMode", &self.auth_mode);
        apply(record, "/userIdentity/arn", &self.caller_arn);
        apply(record, "/requestParameters/roleArn", &self.role_arn);
        apply(record, "/requestParameters/targetRoleArn", &self.target_role_arn);
        apply(record, "/requestParameters/namespace", &self.namespace);
        apply(record, "/requestParameters/serviceAccount", &self.service_account);
        apply(record, "/requestParameters/policy", &self.session_policy);
        apply(record, "/requestParameters/associationId", &self.association_id);
        apply(record, "/userIdentity/sessionContext/sessionIssuer/arn", &self.caller_role);
        apply(record, "/awsRegion", &self.region);
        apply(record, "/recipientAccountId", &self.account);
        apply(record, "/eventID", &self.event_id);
        let document = match self.shape % 3 {
            0 => envelope,
            1 => envelope["detail"].take(),
            _ => json!({ "Records": [envelope["detail"].take()] }),
        };
        let facts = self.facts.as_ref().map(FuzzFacts::build).unwrap_or_default();
        (serde_json::to_vec(&document).unwrap(), facts)
    }
}
