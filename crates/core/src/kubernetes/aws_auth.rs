//! The `aws-auth` ConfigMap (`kube-system/aws-auth`): `data.mapRoles` and
//! `data.mapUsers` are YAML lists held as strings. Read as aws-iam-authenticator's
//! `ParseMap` reads them: field names in any case (it goes YAML → JSON → Go
//! structs, and Go matches JSON keys case-insensitively), blank data skipped, an
//! entry that is not valid dropped while the others are kept. Every problem is
//! named; nothing here panics on any input.

use std::collections::BTreeMap;
use yaml_rust2::{Yaml, YamlLoader};

/// Larger data is not parsed (a ConfigMap holds at most 1 MiB in all).
const MAX_DATA_BYTES: usize = 1 << 20;

/// What a mapping maps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MappingKind {
    /// `mapRoles` with `rolearn`.
    Role { arn: String },
    /// `mapRoles` with `sso: {permissionSetName, accountID, partition}`: every
    /// Identity Center role of that permission set in that account.
    SsoPermissionSet { partition: String, account: String, permission_set: String },
    /// `mapUsers` with `userarn`.
    User { arn: String },
}

/// One valid entry of `mapRoles` or `mapUsers`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    pub kind: MappingKind,
    /// The Kubernetes username (may hold `{{…}}` templates); empty when not given.
    pub username: String,
    pub groups: Vec<String>,
    /// Where it stands: `mapRoles[3]`.
    pub source: String,
}

impl Mapping {
    /// The ARN as written (for SSO mappings, the pattern the authenticator matches).
    pub fn arn_text(&self) -> String {
        match &self.kind {
            MappingKind::Role { arn } | MappingKind::User { arn } => arn.clone(),
            MappingKind::SsoPermissionSet { partition, account, permission_set } => {
                format!("arn:{partition}:iam::{account}:role/AWSReservedSSO_{permission_set}_*")
            }
        }
    }
}

/// The ConfigMap's mappings, and what is wrong with it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AwsAuth {
    pub mappings: Vec<Mapping>,
    /// `mapAccounts`: accounts every IAM identity of which the authenticator admits
    /// (username its ARN, no groups), whatever role or user it is.
    pub accounts: Vec<String>,
    /// Each entry or key the authenticator would drop or misread, with why.
    pub problems: Vec<String>,
}

impl AwsAuth {
    /// Reads the ConfigMap's `data`.
    pub fn parse(data: &BTreeMap<String, String>) -> AwsAuth {
        let mut auth = AwsAuth::default();
        for (key, user) in [("mapRoles", false), ("mapUsers", true)] {
            if let Some(text) = data.get(key) {
                auth.read_list(key, text, user);
            }
        }
        if let Some(text) = data.get("mapAccounts") {
            auth.read_accounts(text);
        }
        auth
    }

    /// Reads a ConfigMap object as the Kubernetes API returns it (`{"data": {...}}`).
    pub fn from_config_map(config_map: &serde_json::Value) -> AwsAuth {
        let data: BTreeMap<String, String> = config_map
            .get("data")
            .and_then(|d| d.as_object())
            .map(|d| d.iter().filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string()))).collect())
            .unwrap_or_default();
        AwsAuth::parse(&data)
    }

    /// `mapAccounts`: a YAML list of account ids, read as the authenticator's `ParseMap` reads it.
    fn read_accounts(&mut self, text: &str) {
        if skippable(text) {
            return;
        }
        if text.len() > MAX_DATA_BYTES {
            self.problems.push("mapAccounts is larger than 1 MiB and was not read".to_string());
            return;
        }
        match YamlLoader::load_from_str(text).map(|docs| docs.into_iter().next()) {
            Ok(Some(Yaml::Array(items))) => {
                for (index, item) in items.iter().enumerate() {
                    match item {
                        Yaml::String(account) => self.accounts.push(account.clone()),
                        _ => self.problems.push(format!("mapAccounts[{index}] is not a string: the authenticator ignores it")),
                    }
                }
            }
            Ok(Some(Yaml::Null) | None) => {}
            Ok(Some(_)) => self.problems.push("mapAccounts is not a YAML list: the authenticator reads no account from it".to_string()),
            Err(e) => self.problems.push(format!("mapAccounts is not valid YAML ({e}): the authenticator reads no account from it")),
        }
    }

    fn read_list(&mut self, key: &str, text: &str, user: bool) {
        if skippable(text) {
            return;
        }
        if text.len() > MAX_DATA_BYTES {
            self.problems.push(format!("{key} is larger than 1 MiB and was not read"));
            return;
        }
        let docs = match YamlLoader::load_from_str(text) {
            Ok(docs) => docs,
            Err(e) => {
                self.problems.push(format!("{key} is not valid YAML ({e}): the authenticator reads no mapping from it"));
                return;
            }
        };
        let items = match docs.first() {
            Some(Yaml::Array(items)) => items,
            Some(Yaml::Null) | None => return,
            Some(_) => {
                self.problems.push(format!("{key} is not a YAML list: the authenticator reads no mapping from it"));
                return;
            }
        };
        for (index, item) in items.iter().enumerate() {
            let source = format!("{key}[{index}]");
            match read_entry(item, user) {
                Ok(kind) => {
                    let (username, groups, problems) = username_and_groups(item, &source);
                    self.problems.extend(problems);
                    self.mappings.push(Mapping { kind, username, groups, source });
                }
                Err(why) => self.problems.push(format!("{source} is ignored by the authenticator: {why}")),
            }
        }
    }
}

/// `ParseMap`'s `isSkippable`: blank, or an empty quoted string.
fn skippable(text: &str) -> bool {
    matches!(text.trim(), "" | "``" | "\"\"" | "''")
}

/// A field of a YAML mapping, its key in any case.
fn field<'a>(item: &'a Yaml, name: &str) -> Option<&'a Yaml> {
    let Yaml::Hash(hash) = item else { return None };
    hash.iter().find(|(k, _)| matches!(k, Yaml::String(s) if s.eq_ignore_ascii_case(name))).map(|(_, v)| v)
}

/// A scalar as the string Go's JSON decoding would accept: strings only.
fn text_field(item: &Yaml, name: &str) -> Result<Option<String>, String> {
    match field(item, name) {
        None | Some(Yaml::Null) => Ok(None),
        Some(Yaml::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("{name} is not a string")),
    }
}

fn read_entry(item: &Yaml, user: bool) -> Result<MappingKind, String> {
    if !matches!(item, Yaml::Hash(_)) {
        return Err("not a mapping of keys to values".into());
    }
    if user {
        let arn = text_field(item, "userarn")?.filter(|a| !a.is_empty()).ok_or("value for userarn must be supplied")?;
        return Ok(MappingKind::User { arn });
    }
    let arn = text_field(item, "rolearn")?.filter(|a| !a.is_empty());
    let sso = field(item, "sso").filter(|s| !matches!(s, Yaml::Null));
    match (arn, sso) {
        (Some(_), Some(_)) => Err("only one of rolearn or sso can be supplied".into()),
        (None, None) => Err("one of rolearn or sso must be supplied".into()),
        (Some(arn), None) => Ok(MappingKind::Role { arn }),
        (None, Some(sso)) => {
            let account = text_field(sso, "accountID")?.unwrap_or_default();
            let permission_set = text_field(sso, "permissionSetName")?.unwrap_or_default();
            let partition = text_field(sso, "partition")?.filter(|p| !p.is_empty()).unwrap_or_else(|| "aws".into());
            if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("sso.accountID {account:?} is not a valid AWS account id"));
            }
            let valid_set = (1..=32).contains(&permission_set.len())
                && permission_set.chars().all(|c| c.is_alphanumeric() || c == '_' || "+=,.@-".contains(c));
            if !valid_set {
                return Err(format!("sso.permissionSetName {permission_set:?} is not a valid permission set name"));
            }
            Ok(MappingKind::SsoPermissionSet { partition, account, permission_set })
        }
    }
}

/// The username and groups; a malformed value is named and read as absent.
fn username_and_groups(item: &Yaml, source: &str) -> (String, Vec<String>, Vec<String>) {
    let mut problems = Vec::new();
    let username = text_field(item, "username").unwrap_or_else(|why| {
        problems.push(format!("{source}: {why}"));
        None
    });
    let groups = match field(item, "groups") {
        None | Some(Yaml::Null) => Vec::new(),
        Some(Yaml::Array(items)) => items
            .iter()
            .filter_map(|g| match g {
                Yaml::String(s) => Some(s.clone()),
                _ => {
                    problems.push(format!("{source}: a group is not a string"));
                    None
                }
            })
            .collect(),
        Some(_) => {
            problems.push(format!("{source}: groups is not a list"));
            Vec::new()
        }
    };
    (username.unwrap_or_default(), groups, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(roles: &str, users: &str) -> BTreeMap<String, String> {
        BTreeMap::from([("mapRoles".to_string(), roles.to_string()), ("mapUsers".to_string(), users.to_string())])
    }

    #[test]
    fn reads_roles_users_and_sso_in_any_key_case() {
        let roles = "- rolearn: arn:aws:iam::111122223333:role/NodeRole\n  username: system:node:{{EC2PrivateDNSName}}\n  groups:\n    - system:bootstrappers\n    - system:nodes\n- RoleArn: arn:aws:iam::111122223333:role/Admin\n  UserName: admin\n  Groups: [platform-admins]\n- sso:\n    permissionSetName: ReadOnly\n    accountID: \"111122223333\"\n  groups: [viewers]\n";
        let users = "- userarn: arn:aws:iam::111122223333:user/ops/alice\n  username: alice\n";
        let auth = AwsAuth::parse(&data(roles, users));
        assert_eq!(auth.problems, Vec::<String>::new());
        assert_eq!(auth.mappings.len(), 4);
        assert_eq!(auth.mappings[1].kind, MappingKind::Role { arn: "arn:aws:iam::111122223333:role/Admin".into() });
        assert_eq!(
            (auth.mappings[1].username.as_str(), auth.mappings[1].groups.as_slice()),
            ("admin", &["platform-admins".to_string()][..])
        );
        assert_eq!(auth.mappings[2].arn_text(), "arn:aws:iam::111122223333:role/AWSReservedSSO_ReadOnly_*");
        assert_eq!(auth.mappings[3].source, "mapUsers[0]");
    }

    #[test]
    fn names_every_problem_and_keeps_the_good_entries() {
        let roles = "- rolearn: arn:aws:iam::1:role/A\n  groups: ops\n- username: nobody\n- 42\n- rolearn: arn:aws:iam::1:role/B\n  sso: {permissionSetName: X, accountID: \"111122223333\"}\n- sso: {permissionSetName: X, accountID: \"12\"}\n- rolearn: [x]\n";
        let auth = AwsAuth::parse(&data(roles, "- username: u\n"));
        assert_eq!(auth.mappings.len(), 1, "{auth:?}");
        let problems = auth.problems.join("\n");
        for expected in [
            "mapRoles[0]: groups is not a list",
            "mapRoles[1] is ignored by the authenticator: one of rolearn or sso must be supplied",
            "mapRoles[2] is ignored by the authenticator: not a mapping",
            "mapRoles[3] is ignored by the authenticator: only one of rolearn or sso",
            "mapRoles[4] is ignored by the authenticator: sso.accountID \"12\"",
            "mapRoles[5] is ignored by the authenticator: rolearn is not a string",
            "mapUsers[0] is ignored by the authenticator: value for userarn must be supplied",
        ] {
            assert!(problems.contains(expected), "{expected} not in\n{problems}");
        }
    }

    #[test]
    fn blank_broken_and_odd_data() {
        assert_eq!(AwsAuth::parse(&data("''", "  ")), AwsAuth::default());
        let broken = AwsAuth::parse(&data("- rolearn: [unclosed", ""));
        assert!(broken.problems[0].starts_with("mapRoles is not valid YAML"), "{broken:?}");
        let scalar = AwsAuth::parse(&data("just text", ""));
        assert!(scalar.problems[0].contains("not a YAML list"));
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(!AwsAuth::parse(&data(&deep, "")).problems.is_empty());
        let from_api = serde_json::json!({"kind": "ConfigMap", "data": {"mapRoles": "- rolearn: arn:aws:iam::1:role/A\n"}});
        assert_eq!(AwsAuth::from_config_map(&from_api).mappings.len(), 1);
        assert_eq!(AwsAuth::from_config_map(&serde_json::json!({"data": 3})), AwsAuth::default());
    }
}
