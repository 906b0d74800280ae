//! `aws-auth` against access entries: which mappings have no equivalent entry, so
//! that the principals they map lose access when the cluster moves to `API`, and
//! the `create-access-entry` call that gives each its access back.
//!
//! Equivalence follows how each side matches the caller (see `kubernetes` for the
//! sources): the authenticator compares a role mapping's `rolearn` with the
//! caller's canonical ARN, `arn:P:iam::ACCOUNT:role/NAME`, case-insensitively, so a
//! `rolearn` with a path never matches anyone; an access entry names the role by
//! its full ARN, path included. IAM role names are unique in an account whatever
//! the path, so a role mapping and a role entry are the same principal when
//! partition, account and name agree. A user mapping matches the user's ARN
//! (path included) case-insensitively. A mapping into `system:nodes` is a node
//! role: its equivalent is an `EC2_LINUX`/`EC2_WINDOWS`/`FARGATE_LINUX`/`HYBRID_LINUX`
//! entry, not a `STANDARD` one. `mapAccounts` admits every identity of an account,
//! which no single access entry replaces.

use super::aws_auth::{AwsAuth, Mapping, MappingKind};
use crate::access_entry::reserved_prefix;
use crate::arn::{access_policy_arn, Arn, PrincipalKind};
use crate::command::Command;
use std::collections::BTreeMap;

/// One access entry of the cluster.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccessEntrySummary {
    pub principal_arn: String,
    /// `STANDARD`, `EC2_LINUX`, … when known (`DescribeAccessEntry`).
    pub entry_type: Option<String>,
}

use crate::access_entry::is_node_type;

/// A mapping that grants access through `aws-auth` only.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Unmatched {
    /// `mapRoles[2]`.
    pub source: String,
    /// The ARN (or SSO pattern) as the mapping writes it.
    pub mapped: String,
    pub username: String,
    pub groups: Vec<String>,
    /// The entry type it needs.
    pub entry_type: &'static str,
    /// Why no entry is equivalent.
    pub why: String,
    /// `create-access-entry` (and `associate-access-policy` for `system:masters`).
    pub commands: Vec<String>,
    /// What the commands cannot carry over.
    pub notes: Vec<String>,
}

/// The comparison of one `aws-auth` ConfigMap with the cluster's access entries.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Migration {
    pub unmatched: Vec<Unmatched>,
    /// Mappings that grant nothing now (a `rolearn` with a path, a session ARN), with why.
    pub ineffective: Vec<String>,
    /// How many mappings have an equivalent entry.
    pub covered: usize,
    /// The ConfigMap's own problems (entries the authenticator drops).
    pub problems: Vec<String>,
    /// `mapAccounts`: accounts whose every identity aws-auth admits, which lose access in
    /// `API` mode unless each identity that uses the cluster gets an entry.
    pub accounts: Vec<String>,
}

impl Migration {
    /// Whether anyone who authenticates through aws-auth today would be refused in `API` mode.
    pub fn loses_access(&self) -> bool {
        !self.unmatched.is_empty() || !self.accounts.is_empty()
    }

    /// What each `mapAccounts` account loses, for reports.
    pub fn account_losses(&self) -> impl Iterator<Item = String> + '_ {
        self.accounts.iter().map(|account| {
            format!(
                "mapAccounts admits every IAM role and user of account {account} (username its ARN, no groups): in API mode \
                 each of them that uses the cluster needs its own access entry, since no entry covers a whole account"
            )
        })
    }
}

/// Where the commands point.
#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    pub cluster: &'a str,
    /// Empty: leave `--region` out.
    pub region: &'a str,
}

/// Compares `auth` with `entries`. `role_arns` maps lower-cased role names to their
/// full ARNs as IAM gives them (path included), where known.
pub fn compare(auth: &AwsAuth, entries: &[AccessEntrySummary], role_arns: &BTreeMap<String, String>, target: Target) -> Migration {
    let mut migration = Migration { problems: auth.problems.clone(), accounts: auth.accounts.clone(), ..Migration::default() };
    let parsed: Vec<(Arn, &AccessEntrySummary)> = entries.iter().filter_map(|e| Arn::parse(&e.principal_arn).map(|a| (a, e))).collect();
    for mapping in &auth.mappings {
        let node_type = node_type(mapping);
        let found = match equivalent(mapping, &parsed) {
            Err(ineffective) => {
                migration.ineffective.push(format!("{}: {ineffective}", mapping.source));
                continue;
            }
            Ok(found) => found,
        };
        let why = match (found, node_type) {
            (Some(entry), Some(wanted)) => match entry.entry_type.as_deref() {
                Some(t) if !is_node_type(t) => Some(format!(
                    "the entry for {} is of type {t}, which does not put nodes in system:nodes (it needs {wanted})",
                    entry.principal_arn
                )),
                _ => None,
            },
            (Some(_), None) => None,
            (None, _) => Some("no access entry for this principal".to_string()),
        };
        match why {
            None => migration.covered += 1,
            Some(why) => migration.unmatched.push(unmatched(mapping, node_type, why, role_arns, target)),
        }
    }
    migration
}

/// The entry type of a node mapping (one into `system:nodes`), by the groups and
/// username EKS writes for each kind of node: Fargate profiles map
/// `system:node:{{SessionName}}` with `system:node-proxier`; hybrid nodes map
/// `system:node:{{SessionName}}` without it (hybrid-nodes-cluster-prep); EC2 nodes map
/// `system:node:{{EC2PrivateDNSName}}`, Windows ones with `eks:kube-proxy-windows`.
fn node_type(mapping: &Mapping) -> Option<&'static str> {
    let has = |g: &str| mapping.groups.iter().any(|m| m == g);
    if !has("system:nodes") {
        return None;
    }
    let session_named = mapping.username.contains("{{SessionName}}");
    Some(if has("eks:kube-proxy-windows") {
        "EC2_WINDOWS"
    } else if session_named && has("system:node-proxier") {
        "FARGATE_LINUX"
    } else if session_named {
        "HYBRID_LINUX"
    } else {
        "EC2_LINUX"
    })
}

/// The entry equivalent to `mapping`, if any; `Err(why)` for a mapping that can
/// match no caller at all.
fn equivalent<'e>(mapping: &Mapping, entries: &[(Arn, &'e AccessEntrySummary)]) -> Result<Option<&'e AccessEntrySummary>, String> {
    let same_role = |arn: &Arn, partition: &str, account: &str, name_matches: &dyn Fn(&str) -> bool| {
        arn.partition == partition
            && arn.account == account
            && arn.principal().is_some_and(|p| p.kind == PrincipalKind::Role && name_matches(p.name))
    };
    match &mapping.kind {
        MappingKind::Role { arn } => {
            let Some(principal) = Arn::parse(arn).and_then(|a| a.principal()) else {
                return Err(format!("{arn:?} is not an IAM role ARN, so it matches no caller"));
            };
            match principal.kind {
                PrincipalKind::AssumedRole => {
                    return Err(format!(
                        "{arn:?} is a role session; the authenticator compares the role's ARN without path, so it matches no caller"
                    ))
                }
                PrincipalKind::Role if principal.path != "/" => {
                    return Err(format!(
                        "{arn:?} has the path {:?}; the authenticator compares the caller's role ARN without its path, so this mapping matches no caller (write it as {})",
                        principal.path,
                        principal.role_arn_without_path().unwrap_or_default()
                    ))
                }
                PrincipalKind::User => return user_entry(arn, entries),
                PrincipalKind::Role => {}
            }
            let name = principal.name;
            Ok(entries
                .iter()
                .find(|(a, _)| same_role(a, principal.arn.partition, principal.arn.account, &|n| n.eq_ignore_ascii_case(name)))
                .map(|(_, e)| *e))
        }
        MappingKind::SsoPermissionSet { partition, account, permission_set } => {
            let prefix = format!("awsreservedsso_{}_", permission_set.to_lowercase());
            Ok(entries.iter().find(|(a, _)| same_role(a, partition, account, &|n| n.to_lowercase().starts_with(&prefix))).map(|(_, e)| *e))
        }
        MappingKind::User { arn } => user_entry(arn, entries),
    }
}

fn user_entry<'e>(arn: &str, entries: &[(Arn, &'e AccessEntrySummary)]) -> Result<Option<&'e AccessEntrySummary>, String> {
    if Arn::parse(arn).and_then(|a| a.principal()).is_none_or(|p| p.kind != PrincipalKind::User) {
        return Err(format!("{arn:?} is not an IAM user ARN, so it matches no caller"));
    }
    Ok(entries.iter().find(|(_, e)| e.principal_arn.eq_ignore_ascii_case(arn)).map(|(_, e)| *e))
}

/// The principal ARN an entry must name, as a command argument: the ARN IAM gives
/// when known; for an Identity Center role, whose path the mapping leaves out, IAM
/// is asked at run time; otherwise the mapping's own ARN.
enum EntryPrincipal {
    Known(String),
    AskIam(Command),
}

fn entry_principal(mapping: &Mapping, role_arns: &BTreeMap<String, String>) -> EntryPrincipal {
    match &mapping.kind {
        MappingKind::User { arn } => EntryPrincipal::Known(arn.clone()),
        MappingKind::Role { arn } => {
            let principal = Arn::parse(arn).and_then(|a| a.principal());
            let name = principal.map(|p| p.name).unwrap_or_default();
            if let Some(full) = role_arns.get(&name.to_lowercase()) {
                return EntryPrincipal::Known(full.clone());
            }
            if principal.is_some_and(|p| p.permission_set().is_some()) {
                return EntryPrincipal::AskIam(crate::command::role_arn_by_name(name));
            }
            EntryPrincipal::Known(arn.clone())
        }
        MappingKind::SsoPermissionSet { permission_set, .. } => {
            let prefix = format!("awsreservedsso_{}_", permission_set.to_lowercase());
            if let Some((_, full)) = role_arns.iter().find(|(name, _)| name.starts_with(&prefix)) {
                return EntryPrincipal::Known(full.clone());
            }
            EntryPrincipal::AskIam(
                Command::new("aws iam list-roles")
                    .literal("--path-prefix /aws-reserved/sso.amazonaws.com/")
                    .arg("--query", &format!("Roles[?starts_with(RoleName, 'AWSReservedSSO_{permission_set}_')].Arn | [0]"))
                    .literal("--output text"),
            )
        }
    }
}

fn unmatched(
    mapping: &Mapping,
    node_type: Option<&'static str>,
    why: String,
    role_arns: &BTreeMap<String, String>,
    target: Target,
) -> Unmatched {
    let partition = match &mapping.kind {
        MappingKind::SsoPermissionSet { partition, .. } => partition.clone(),
        MappingKind::Role { arn } | MappingKind::User { arn } => Arn::parse(arn).map_or("aws", |a| a.partition).to_string(),
    };
    let principal = entry_principal(mapping, role_arns);
    let with_principal = |command: Command| match &principal {
        EntryPrincipal::Known(arn) => command.arg("--principal-arn", arn),
        EntryPrincipal::AskIam(inner) => command.arg_from("--principal-arn", inner),
    };
    let mut notes = Vec::new();
    let mut commands = Vec::new();
    let create = with_principal(Command::new("aws eks create-access-entry").arg("--cluster-name", target.cluster));
    let entry_type = node_type.unwrap_or("STANDARD");
    if node_type.is_some() {
        commands.push(create.arg("--type", entry_type).region(target.region).to_string());
        notes.push(format!("EKS puts an {entry_type} entry in its node groups itself: no groups or username are given."));
    } else {
        let kept: Vec<&str> = mapping.groups.iter().map(String::as_str).filter(|g| reserved_prefix(g).is_none()).collect();
        let dropped: Vec<&str> = mapping.groups.iter().map(String::as_str).filter(|g| reserved_prefix(g).is_some()).collect();
        let username = Some(mapping.username.as_str()).filter(|u| !u.is_empty() && !is_default_username(mapping, u));
        let username = match username {
            Some(u) if reserved_prefix(u).is_some() => {
                notes.push(format!("The username {u:?} has a prefix access entries refuse: the entry gets EKS's default username."));
                None
            }
            other => other,
        };
        commands.push(
            create
                .arg("--type", "STANDARD")
                .arg_if("--username", username)
                .list("--kubernetes-groups", &kept)
                .region(target.region)
                .to_string(),
        );
        if dropped.contains(&"system:masters") {
            let policy = access_policy_arn(&partition, "AmazonEKSClusterAdminPolicy");
            commands.push(
                with_principal(Command::new("aws eks associate-access-policy").arg("--cluster-name", target.cluster))
                    .arg("--policy-arn", &policy)
                    .arg("--access-scope", "type=cluster")
                    .region(target.region)
                    .to_string(),
            );
            notes.push("system:masters cannot be an access entry group: the cluster-admin access policy grants the same rights.".into());
        }
        let others: Vec<&str> = dropped.into_iter().filter(|g| *g != "system:masters").collect();
        if !others.is_empty() {
            notes.push(format!(
                "Access entries refuse the reserved group(s) {}: grant what they gave with an access policy or a binding to another group.",
                others.iter().map(|g| format!("{g:?}")).collect::<Vec<_>>().join(", ")
            ));
        }
        if kept.is_empty() && !mapping.groups.iter().any(|g| g == "system:masters") {
            notes.push("The mapping has no group an entry can carry: the entry grants nothing until an access policy is associated or a binding names its username.".into());
        }
    }
    Unmatched {
        source: mapping.source.clone(),
        mapped: mapping.arn_text(),
        username: mapping.username.clone(),
        groups: mapping.groups.clone(),
        entry_type,
        why,
        commands,
        notes,
    }
}

/// Whether a mapping's username is what an access entry would give by default
/// (the session ARN with `{{SessionName}}` for a role, the ARN for a user), so it
/// need not be set.
fn is_default_username(mapping: &Mapping, username: &str) -> bool {
    match &mapping.kind {
        MappingKind::User { arn } => username.eq_ignore_ascii_case(arn),
        MappingKind::Role { arn } => Arn::parse(arn).and_then(|a| a.principal()).is_some_and(|p| {
            let session = format!("arn:{}:sts::{}:assumed-role/{}/{{{{SessionName}}}}", p.arn.partition, p.arn.account, p.name);
            username.eq_ignore_ascii_case(&session)
        }),
        MappingKind::SsoPermissionSet { .. } => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TARGET: Target = Target { cluster: "prod", region: "eu-west-1" };

    fn auth(roles: &str, users: &str) -> AwsAuth {
        AwsAuth::parse(&BTreeMap::from([("mapRoles".into(), roles.into()), ("mapUsers".into(), users.into())]))
    }

    fn entry(arn: &str, entry_type: &str) -> AccessEntrySummary {
        AccessEntrySummary { principal_arn: arn.into(), entry_type: Some(entry_type.into()).filter(|t: &String| !t.is_empty()) }
    }

    const ROLES: &str = "\
- rolearn: arn:aws:iam::111122223333:role/eks-node-role
  username: system:node:{{EC2PrivateDNSName}}
  groups: [system:bootstrappers, system:nodes]
- rolearn: arn:aws:iam::111122223333:role/AWSReservedSSO_PlatformAdmin_0123456789abcdef
  username: platform-admin:{{SessionName}}
  groups: [system:masters]
- rolearn: arn:aws:iam::111122223333:role/Deployer
  username: deployer
  groups: [deployers, system:authenticated]
- rolearn: arn:aws:iam::111122223333:role/team/Pathed
  groups: [ops]
- rolearn: arn:aws:iam::111122223333:role/Viewer
  username: arn:aws:sts::111122223333:assumed-role/Viewer/{{SessionName}}
  groups: [viewers]
";

    #[test]
    fn every_mapping_without_an_entry_gets_its_commands() {
        let m = compare(
            &auth(ROLES, "- userarn: arn:aws:iam::111122223333:user/ops/alice\n  username: alice\n  groups: [ops]\n"),
            &[],
            &BTreeMap::new(),
            TARGET,
        );
        let commands: Vec<&str> = m.unmatched.iter().flat_map(|u| u.commands.iter().map(String::as_str)).collect();
        assert_eq!(
            commands,
            [
                "aws eks create-access-entry --cluster-name prod --principal-arn arn:aws:iam::111122223333:role/eks-node-role --type EC2_LINUX --region eu-west-1",
                "aws eks create-access-entry --cluster-name prod --principal-arn \"$(aws iam get-role --role-name AWSReservedSSO_PlatformAdmin_0123456789abcdef --query Role.Arn --output text)\" --type STANDARD --username 'platform-admin:{{SessionName}}' --region eu-west-1",
                "aws eks associate-access-policy --cluster-name prod --principal-arn \"$(aws iam get-role --role-name AWSReservedSSO_PlatformAdmin_0123456789abcdef --query Role.Arn --output text)\" --policy-arn arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy --access-scope type=cluster --region eu-west-1",
                "aws eks create-access-entry --cluster-name prod --principal-arn arn:aws:iam::111122223333:role/Deployer --type STANDARD --username deployer --kubernetes-groups deployers --region eu-west-1",
                "aws eks create-access-entry --cluster-name prod --principal-arn arn:aws:iam::111122223333:role/Viewer --type STANDARD --kubernetes-groups viewers --region eu-west-1",
                "aws eks create-access-entry --cluster-name prod --principal-arn arn:aws:iam::111122223333:user/ops/alice --type STANDARD --username alice --kubernetes-groups ops --region eu-west-1",
            ]
        );
        assert_eq!(m.ineffective.len(), 1);
        assert!(
            m.ineffective[0].contains("mapRoles[3]") && m.ineffective[0].contains("arn:aws:iam::111122223333:role/Pathed"),
            "{:?}",
            m.ineffective
        );
        assert!(m.unmatched[2].notes.iter().any(|n| n.contains("\"system:authenticated\"")), "{:?}", m.unmatched[2].notes);
    }

    #[test]
    fn entries_match_by_name_whatever_the_path_and_case() {
        let entries = [
            entry("arn:aws:iam::111122223333:role/eks-node-role", "EC2_LINUX"),
            entry(
                "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_PlatformAdmin_0123456789abcdef",
                "STANDARD",
            ),
            entry("arn:aws:iam::111122223333:role/deployer", ""),
            entry("arn:aws:iam::444455556666:role/Viewer", "STANDARD"),
            entry("arn:aws:iam::111122223333:user/ops/ALICE", "STANDARD"),
        ];
        let m = compare(&auth(ROLES, "- userarn: arn:aws:iam::111122223333:user/ops/alice\n"), &entries, &BTreeMap::new(), TARGET);
        assert_eq!(m.covered, 4);
        assert_eq!(m.unmatched.len(), 1, "{:?}", m.unmatched);
        assert_eq!(m.unmatched[0].mapped, "arn:aws:iam::111122223333:role/Viewer", "another account's Viewer is not this one");
    }

    #[test]
    fn node_roles_need_node_entries_and_iam_gives_paths() {
        let entries = [entry("arn:aws:iam::111122223333:role/eks-node-role", "STANDARD")];
        let roles = BTreeMap::from([(
            "awsreservedsso_platformadmin_0123456789abcdef".to_string(),
            "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_PlatformAdmin_0123456789abcdef".to_string(),
        )]);
        let m = compare(&auth(ROLES, ""), &entries, &roles, TARGET);
        assert!(m.unmatched[0].why.contains("of type STANDARD"), "{:?}", m.unmatched[0]);
        assert!(m.unmatched[1].commands[0]
            .contains("--principal-arn arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_PlatformAdmin"));
        let windows =
            auth("- rolearn: arn:aws-cn:iam::1:role/win\n  groups: [system:bootstrappers, system:nodes, eks:kube-proxy-windows]\n", "");
        let m = compare(&windows, &[], &BTreeMap::new(), Target { cluster: "c", region: "" });
        assert_eq!(
            m.unmatched[0].commands,
            ["aws eks create-access-entry --cluster-name c --principal-arn arn:aws-cn:iam::1:role/win --type EC2_WINDOWS"]
        );
    }

    #[test]
    fn sso_mappings_and_hostile_values() {
        let sso = auth("- sso: {permissionSetName: ReadOnly, accountID: \"111122223333\", partition: aws-us-gov}\n  groups: [\"$(reboot)\", -x]\n  username: \"'; rm -rf /\"\n", "");
        let m = compare(
            &sso,
            &[entry("arn:aws-us-gov:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_ReadOnly_abc", "STANDARD")],
            &BTreeMap::new(),
            TARGET,
        );
        assert_eq!(m.covered, 1);
        let m = compare(&sso, &[], &BTreeMap::new(), TARGET);
        assert_eq!(
            m.unmatched[0].commands[0],
            r#"aws eks create-access-entry --cluster-name prod --principal-arn "$(aws iam list-roles --path-prefix /aws-reserved/sso.amazonaws.com/ --query 'Roles[?starts_with(RoleName, '\''AWSReservedSSO_ReadOnly_'\'')].Arn | [0]' --output text)" --type STANDARD --username ''\''; rm -rf /' --kubernetes-groups='["$(reboot)","-x"]' --region eu-west-1"#
        );
    }
}
