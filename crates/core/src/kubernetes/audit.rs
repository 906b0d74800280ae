//! `audit`: per principal, where its access to a cluster comes from, how far it
//! reaches, and what is wrong with it. Pure: the edge reads a [`ClusterState`].
//!
//! The flags and their sources:
//! - **cross-account**: the principal's account is not the cluster's (IAM Access
//!   Analyzer has no EKS resource type, so nothing else reports these).
//! - **creator-admin**: EKS User Guide `grant-k8s-access.adoc`, creating a cluster with
//!   `bootstrapClusterCreatorAdminPermissions` gives its creator an access entry with
//!   `AmazonEKSClusterAdminPolicy`. Read as: a `STANDARD` entry with that policy at
//!   cluster scope, made within [`CREATOR_WINDOW_SECONDS`] of the cluster (a choice:
//!   EKS keeps no other mark of it).
//! - **principal-deleted** / **principal-recreated**: IAM answers `NoSuchEntity`, or
//!   the principal's `CreateDate` is newer than the entry's `createdAt`: a role or
//!   user made again with the same name holds the old one's access (EKS matches roles
//!   by name).
//! - **grants-nothing**: a `STANDARD` entry with no access policy, no bound group and
//!   no binding of its username: it authenticates and may do nothing.
//! - **group-bound-nowhere**: a group of its mapping no binding names (`rbac::check`).
//! - **node-role-standard**: a node role (its trust policy lets `ec2.amazonaws.com`
//!   assume it, or `aws-auth` maps it to `system:nodes`) with a `STANDARD` entry: nodes
//!   need `EC2_LINUX`/`EC2_WINDOWS` (`creating-access-entries`), and the entry,
//!   taking precedence over `aws-auth`, stops its nodes from joining.
//! - **entry-overrides-aws-auth**: in `API_AND_CONFIG_MAP`, a principal with both an
//!   entry and an `aws-auth` mapping is the entry's (username, groups): the mapping is
//!   ignored, and differs.

use super::authz::{evaluate, Identity, Request, AUTHENTICATED, MASTERS};
use super::aws_auth::MappingKind;
use super::picture::{ClusterState, PrincipalState};
use super::rbac::{check, GroupCheck};
use crate::arn::Arn;
use crate::escape::{inline, markdown};
use serde::{Deserialize, Serialize};

/// How a `mapAccounts` line is named among the principals.
const EVERY_PRINCIPAL_OF: &str = "every IAM principal of account ";

/// How soon after the cluster its creator's entry is made.
pub const CREATOR_WINDOW_SECONDS: i64 = 300;

/// One flag on one principal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Flag {
    CrossAccount,
    CreatorAdmin,
    PrincipalDeleted,
    PrincipalRecreated,
    GrantsNothing,
    GroupBoundNowhere,
    NodeRoleStandard,
    EntryOverridesAwsAuth,
}

impl Flag {
    pub const ALL: [Flag; 8] = [
        Flag::CrossAccount,
        Flag::CreatorAdmin,
        Flag::PrincipalDeleted,
        Flag::PrincipalRecreated,
        Flag::GrantsNothing,
        Flag::GroupBoundNowhere,
        Flag::NodeRoleStandard,
        Flag::EntryOverridesAwsAuth,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Flag::CrossAccount => "cross-account",
            Flag::CreatorAdmin => "creator-admin",
            Flag::PrincipalDeleted => "principal-deleted",
            Flag::PrincipalRecreated => "principal-recreated",
            Flag::GrantsNothing => "grants-nothing",
            Flag::GroupBoundNowhere => "group-bound-nowhere",
            Flag::NodeRoleStandard => "node-role-standard",
            Flag::EntryOverridesAwsAuth => "entry-overrides-aws-auth",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Flag::CrossAccount => "A principal of another account can reach the cluster",
            Flag::CreatorAdmin => "The cluster creator's automatic cluster-admin entry",
            Flag::PrincipalDeleted => "The entry's IAM principal no longer exists",
            Flag::PrincipalRecreated => "The IAM principal was made again after its entry: the new one holds the old one's access",
            Flag::GrantsNothing => "The entry grants nothing: no access policy, no bound group, no binding of its username",
            Flag::GroupBoundNowhere => "A Kubernetes group of the principal is named by no binding",
            Flag::NodeRoleStandard => "A node role has a STANDARD entry: its nodes cannot join",
            Flag::EntryOverridesAwsAuth => "An access entry overrides a different aws-auth mapping of the same principal",
        }
    }

    /// SARIF's level.
    pub fn level(self) -> &'static str {
        match self {
            Flag::PrincipalRecreated | Flag::NodeRoleStandard => "error",
            Flag::CrossAccount | Flag::PrincipalDeleted | Flag::GroupBoundNowhere | Flag::EntryOverridesAwsAuth => "warning",
            Flag::CreatorAdmin | Flag::GrantsNothing => "note",
        }
    }
}

/// One flag with what it is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flagged {
    pub flag: Flag,
    pub detail: String,
}

/// How far a principal reaches.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reach {
    /// Every verb on every resource everywhere (`system:masters`, `cluster-admin`, the
    /// cluster-admin access policy).
    pub cluster_admin: bool,
    /// Something in every namespace.
    pub all_namespaces: bool,
    /// The namespaces it reaches (patterns of namespace-scoped policies kept as written).
    pub namespaces: Vec<String>,
    /// Reads Secrets: `every namespace`, or the namespaces.
    pub secrets: Vec<String>,
}

/// One principal of the audit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrincipalAccess {
    pub principal: String,
    /// Where its access comes from: `access entry (STANDARD)`, `aws-auth mapRoles[2]`.
    pub sources: Vec<String>,
    /// The identity the cluster uses (`None`: it cannot authenticate, e.g. an
    /// `aws-auth` mapping in `API` mode).
    pub identity: Option<Identity>,
    pub reach: Reach,
    pub flags: Vec<Flagged>,
}

/// The whole audit of one cluster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audit {
    /// When the picture was read (RFC 3339), set by whoever read it.
    #[serde(default)]
    pub audited_at: String,
    pub cluster: String,
    pub region: String,
    pub account: String,
    pub authentication_mode: String,
    pub principals: Vec<PrincipalAccess>,
    pub gaps: Vec<String>,
}

impl Audit {
    pub fn flagged(&self) -> usize {
        self.principals.iter().map(|p| p.flags.len()).sum()
    }

    /// A short digest of every flag (`principal|flag|detail`): what a scheduled run keeps to
    /// compare the next with (16 hex digits each, so 2,000 flags stay far under a
    /// DynamoDB item's 400 KB).
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.principals.iter().flat_map(|p| p.flags.iter().map(move |f| flag_key(p, f))).collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// The flags whose key is not in `before`, each with its principal.
    pub fn new_flags<'a>(&'a self, before: &'a [String]) -> impl Iterator<Item = (&'a PrincipalAccess, &'a Flagged)> + 'a {
        self.principals.iter().flat_map(|p| p.flags.iter().map(move |f| (p, f))).filter(move |(p, f)| !before.contains(&flag_key(p, f)))
    }
}

/// The principal, the flag and what it says: a role made again a second time, or another
/// group bound nowhere, is a new flag.
fn flag_key(p: &PrincipalAccess, f: &Flagged) -> String {
    fnv(&format!("{}|{}|{}", p.principal, f.flag.id(), f.detail))
}

/// FNV-1a, 64 bits, in hex: stable across builds and platforms.
pub fn fnv(text: &str) -> String {
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("{hash:016x}")
}

/// The name audit flags are shown under, as if a call.
pub const AUDIT: &str = "ScheduledAudit";

/// What a scheduled audit found of one principal, carried by its event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditNotice {
    pub flag: Flag,
    pub detail: String,
    pub principal: String,
    pub sources: Vec<String>,
    pub authentication_mode: String,
    pub identity: Option<Identity>,
}

/// Audits every principal the cluster maps.
pub fn audit(state: &ClusterState) -> Audit {
    let mut principals: Vec<PrincipalAccess> = Vec::new();
    for entry in &state.entries {
        principals.push(PrincipalAccess {
            principal: entry.principal_arn.clone(),
            sources: vec![format!("access entry ({})", entry.entry_type)],
            identity: state.identity(&entry.principal_arn),
            reach: Reach::default(),
            flags: Vec::new(),
        });
    }
    if let Some(auth) = &state.aws_auth {
        for mapping in &auth.mappings {
            let arn = mapping.arn_text();
            let source = if state.reads_aws_auth() {
                format!("aws-auth {}", mapping.source)
            } else {
                format!("aws-auth {} (not read in API mode)", mapping.source)
            };
            if let Some(known) = principals.iter_mut().find(|p| p.principal.eq_ignore_ascii_case(&arn) || same_role(&p.principal, &arn)) {
                known.sources.push(source);
                continue;
            }
            let identity = match &mapping.kind {
                MappingKind::SsoPermissionSet { .. } if state.reads_aws_auth() => Some(Identity {
                    username: mapping.username.clone(),
                    groups: mapping.groups.clone(),
                    associations: Vec::new(),
                    source: source.clone(),
                }),
                _ => state.identity(&arn),
            };
            principals.push(PrincipalAccess {
                principal: arn,
                sources: vec![source],
                identity,
                reach: Reach::default(),
                flags: Vec::new(),
            });
        }
        for account in &auth.accounts {
            let identity = state.reads_aws_auth().then(|| Identity {
                username: "(the caller's ARN)".into(),
                groups: Vec::new(),
                associations: Vec::new(),
                source: "aws-auth mapAccounts".into(),
            });
            principals.push(PrincipalAccess {
                principal: format!("{EVERY_PRINCIPAL_OF}{account}"),
                sources: vec!["aws-auth mapAccounts".into()],
                identity,
                reach: Reach::default(),
                flags: Vec::new(),
            });
        }
    }
    for p in &mut principals {
        if let Some(identity) = &p.identity {
            p.reach = reach(state, identity);
        }
        p.flags = flags(state, p);
    }
    Audit {
        audited_at: state.read_at.clone(),
        cluster: state.cluster.clone(),
        region: state.region.clone(),
        account: state.account.clone(),
        authentication_mode: state.mode().to_string(),
        principals,
        gaps: state.gaps.clone(),
    }
}

/// The same role, whatever the path (the entry's ARN has it, a mapping's may not).
fn same_role(a: &str, b: &str) -> bool {
    let role = |text: &str| {
        let arn = Arn::parse(text)?;
        let principal = arn.principal()?;
        principal.is_role().then(|| (arn.partition.to_string(), arn.account.to_string(), principal.name.to_lowercase()))
    };
    role(a).is_some_and(|r| Some(r) == role(b))
}

fn everything() -> Request {
    Request { verb: "*".into(), api_group: "*".into(), resource: "*".into(), ..Request::default() }
}

fn reach(state: &ClusterState, identity: &Identity) -> Reach {
    let mut reach = Reach { cluster_admin: evaluate(identity, &state.rbac, &everything()).allowed, ..Reach::default() };
    let groups: Vec<&str> = identity.groups.iter().map(String::as_str).chain([AUTHENTICATED]).collect();
    let names = |b: &super::rbac::Binding| b.users.contains(&identity.username) || b.groups.iter().any(|g| groups.contains(&g.as_str()));
    let mut namespaces: Vec<String> = Vec::new();
    // A binding whose role is missing or empty grants nothing.
    let grants = |b: &super::rbac::Binding| state.rbac.rules_of(b).is_some_and(|rules| !rules.is_empty());
    for binding in state.rbac.bindings.iter().filter(|b| names(b) && grants(b)) {
        // Bindings of system:authenticated alone (discovery, basic-user) reach no namespace.
        let personal =
            binding.users.contains(&identity.username) || binding.groups.iter().any(|g| g != AUTHENTICATED && groups.contains(&g.as_str()));
        match &binding.namespace {
            Some(ns) if personal => namespaces.push(ns.clone()),
            None if personal => reach.all_namespaces = true,
            _ => {}
        }
    }
    for association in &identity.associations {
        match &association.scope {
            super::authz::Scope::Cluster => reach.all_namespaces = true,
            super::authz::Scope::Namespace { namespaces: scoped } => namespaces.extend(scoped.iter().cloned()),
        }
    }
    if groups.contains(&MASTERS) {
        reach.all_namespaces = true;
    }
    namespaces.sort();
    namespaces.dedup();
    let reads_secrets = |ns: Option<&str>| evaluate(identity, &state.rbac, &Request::new("get", "secrets", ns, None)).allowed;
    if reads_secrets(None) {
        reach.secrets = vec!["every namespace".into()];
    } else {
        // A namespace pattern (`dev-*`) is tried as written: a scope covers its own pattern.
        reach.secrets = namespaces.iter().filter(|ns| reads_secrets(Some(ns))).cloned().collect();
    }
    reach.namespaces = namespaces;
    reach
}

fn flags(state: &ClusterState, p: &PrincipalAccess) -> Vec<Flagged> {
    let mut flags = Vec::new();
    let mut flag = |flag: Flag, detail: String| flags.push(Flagged { flag, detail });
    // A principal's account, or the account a `mapAccounts` line admits whole.
    let account = Arn::parse(&p.principal)
        .map(|a| a.account.to_string())
        .or_else(|| p.principal.strip_prefix(EVERY_PRINCIPAL_OF).map(str::to_string));
    if let Some(account) = account.filter(|a| !state.account.is_empty() && *a != state.account) {
        flag(Flag::CrossAccount, format!("account {account} (the cluster's is {})", state.account));
    }
    let entry = state.entries.iter().find(|e| e.principal_arn == p.principal);
    if let Some(entry) = entry {
        let admin =
            entry.associations.iter().any(|a| a.policy_name() == "AmazonEKSClusterAdminPolicy" && a.scope == super::authz::Scope::Cluster);
        if let (true, Some(made), Some(cluster)) = (admin && entry.entry_type == "STANDARD", entry.created_at, state.created_at) {
            if (made - cluster).abs() <= CREATOR_WINDOW_SECONDS {
                flag(Flag::CreatorAdmin, "made with the cluster, with AmazonEKSClusterAdminPolicy at cluster scope".into());
            }
        }
        match state.principal(&entry.principal_arn) {
            Some(PrincipalState::Deleted) => flag(Flag::PrincipalDeleted, "IAM has no such principal (NoSuchEntity)".into()),
            Some(PrincipalState::Exists { created_at: Some(born), .. }) if entry.created_at.is_some_and(|made| *born > made) => flag(
                Flag::PrincipalRecreated,
                format!("IAM created it at {born}, after the entry ({})", entry.created_at.unwrap_or_default()),
            ),
            _ => {}
        }
        let node_mapped = state.aws_auth.as_ref().is_some_and(|auth| {
            auth.mappings.iter().any(|m| same_role(&m.arn_text(), &entry.principal_arn) && m.groups.iter().any(|g| g == "system:nodes"))
        });
        let trusts_ec2 = matches!(state.principal(&entry.principal_arn), Some(PrincipalState::Exists { trusts_ec2: true, .. }));
        if entry.entry_type == "STANDARD" && (node_mapped || trusts_ec2) {
            let why = if node_mapped { "aws-auth maps it to system:nodes" } else { "its trust policy lets ec2.amazonaws.com assume it" };
            flag(Flag::NodeRoleStandard, format!("a node role ({why}) with a STANDARD entry; nodes need EC2_LINUX or EC2_WINDOWS"));
        }
        // Node and Fargate entries get their groups from EKS: only a STANDARD entry replaces a mapping's.
        if state.mode() == "API_AND_CONFIG_MAP" && entry.entry_type == "STANDARD" {
            if let Some(m) = state.aws_auth.as_ref().and_then(|auth| {
                auth.mappings
                    .iter()
                    .find(|m| m.arn_text().eq_ignore_ascii_case(&entry.principal_arn) || same_role(&m.arn_text(), &entry.principal_arn))
            }) {
                let sorted = |groups: &[String]| {
                    let mut groups = groups.to_vec();
                    groups.sort();
                    groups
                };
                let differs = (!m.username.is_empty() && m.username != entry.username) || sorted(&m.groups) != sorted(&entry.groups);
                if differs {
                    flag(
                        Flag::EntryOverridesAwsAuth,
                        format!("aws-auth {} (groups {:?}) is ignored for the entry (groups {:?})", m.source, m.groups, entry.groups),
                    );
                }
            }
        }
    }
    // Without the bindings, every group would look unbound and every entry idle.
    if let Some(identity) = p.identity.as_ref().filter(|_| state.read.rbac()) {
        // Kubernetes' and EKS's own groups are served without a binding of the cluster's.
        let unbound: Vec<&String> = identity
            .groups
            .iter()
            .filter(|g| super::reverse::built_in(g).is_none())
            .filter(|g| matches!(check(g, &state.rbac.bindings), GroupCheck::Unbound { .. }))
            .collect();
        if !unbound.is_empty() {
            flag(Flag::GroupBoundNowhere, format!("{unbound:?}"));
        }
        let standard = entry.is_some_and(|e| e.entry_type == "STANDARD");
        let granted = p.reach.cluster_admin || p.reach.all_namespaces || !p.reach.namespaces.is_empty();
        if standard && !granted {
            flag(Flag::GrantsNothing, "it authenticates, and no access policy or binding gives it anything".into());
        }
    }
    flags.sort_by_key(|f| f.flag);
    flags
}

/// For people.
pub fn text(audit: &Audit) -> String {
    let mut out = format!(
        "cluster {} ({}, account {}), authentication mode {}: {} principal(s), {} flag(s)\n",
        inline(&audit.cluster),
        inline(&audit.region),
        inline(&audit.account),
        inline(&audit.authentication_mode),
        audit.principals.len(),
        audit.flagged()
    );
    for p in &audit.principals {
        out.push_str(&format!("\n  {}\n", inline(&p.principal)));
        out.push_str(&format!("    from      {}\n", p.sources.iter().map(|s| inline(s)).collect::<Vec<_>>().join("; ")));
        match &p.identity {
            Some(identity) => {
                out.push_str(&format!("    username  {:?}\n", inline(&identity.username)));
                out.push_str(&identity.grant_lines("    "));
            }
            None => out.push_str("    cannot authenticate in this mode\n"),
        }
        out.push_str(&format!("    reach     {}\n", describe_reach(&p.reach)));
        for f in &p.flags {
            out.push_str(&format!("    FLAG {}: {} ({})\n", f.flag.id(), f.flag.title(), inline(&f.detail)));
        }
    }
    for gap in &audit.gaps {
        out.push_str(&format!("\nnot read: {}\n", inline(gap)));
    }
    out
}

fn describe_reach(reach: &Reach) -> String {
    let mut parts = Vec::new();
    if reach.cluster_admin {
        parts.push("cluster-admin equivalent".to_string());
    } else if reach.all_namespaces {
        parts.push("every namespace".to_string());
    } else if !reach.namespaces.is_empty() {
        parts.push(format!("namespaces {}", reach.namespaces.iter().map(|n| inline(n)).collect::<Vec<_>>().join(", ")));
    } else {
        parts.push("nothing".to_string());
    }
    if !reach.secrets.is_empty() {
        parts.push(format!("reads Secrets in {}", reach.secrets.iter().map(|n| inline(n)).collect::<Vec<_>>().join(", ")));
    }
    parts.join("; ")
}

/// A Markdown report: a table of principals, then the flags.
pub fn markdown_report(audit: &Audit) -> String {
    // `escape::markdown` escapes `|` already: a table cell needs nothing more.
    let cell = |text: &str| markdown(text);
    let mut out = format!(
        "# Access audit of `{}` ({}, account {})\n\nAuthentication mode **{}**: {} principal(s), {} flag(s).\n\n",
        inline(&audit.cluster).replace('`', "'"),
        cell(&audit.region),
        cell(&audit.account),
        cell(&audit.authentication_mode),
        audit.principals.len(),
        audit.flagged()
    );
    out.push_str("| principal | from | reach | flags |\n|---|---|---|---|\n");
    for p in &audit.principals {
        let flags = p.flags.iter().map(|f| f.flag.id()).collect::<Vec<_>>().join(", ");
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            cell(&p.principal),
            cell(&p.sources.join("; ")),
            cell(&describe_reach(&p.reach)),
            flags
        ));
    }
    let flagged: Vec<_> = audit.principals.iter().filter(|p| !p.flags.is_empty()).collect();
    if !flagged.is_empty() {
        out.push_str("\n## Flags\n");
        for p in flagged {
            for f in &p.flags {
                out.push_str(&format!("\n- **{}** {}: {} ({})\n", f.flag.id(), cell(&p.principal), f.flag.title(), cell(&f.detail)));
            }
        }
    }
    for gap in &audit.gaps {
        out.push_str(&format!("\n> Not read: {}\n", cell(gap)));
    }
    out
}

/// SARIF 2.1.0, one result per flag, its logical location the principal on the cluster.
pub fn sarif(audits: &[Audit], version: &str) -> serde_json::Value {
    let rules: Vec<serde_json::Value> = Flag::ALL
        .iter()
        .map(|f| {
            serde_json::json!({
                "id": f.id(),
                "name": f.id(),
                "shortDescription": {"text": f.title()},
                "helpUri": "https://docs.aws.amazon.com/eks/latest/userguide/access-entries.html",
                "defaultConfiguration": {"level": f.level()},
            })
        })
        .collect();
    let mut results = Vec::new();
    for audit in audits {
        for p in &audit.principals {
            for f in &p.flags {
                let where_ = format!("eks/{}/{}/{}", audit.account, audit.region, audit.cluster);
                results.push(serde_json::json!({
                    "ruleId": f.flag.id(),
                    "level": f.flag.level(),
                    "message": {"text": format!("{}: {} ({})", p.principal, f.flag.title(), f.detail)},
                    "locations": [{
                        "physicalLocation": {"artifactLocation": {"uri": where_}},
                        "logicalLocations": [{"fullyQualifiedName": format!("{where_}/{}", p.principal), "kind": "resource"}],
                    }],
                    "partialFingerprints": {"principalFlag/v1": format!("{}|{}|{}", where_, p.principal, f.flag.id())},
                }));
            }
        }
    }
    serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "eks-access-doctor",
                "version": version,
                "rules": rules,
            }},
            "results": results,
        }],
    })
}
