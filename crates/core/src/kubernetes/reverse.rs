//! `check-groups --reverse`: every `Group` subject of every binding, with what
//! produces it. Kubernetes keeps no inventory of groups, but on EKS one exists: the
//! groups of access entries, of `aws-auth` mappings (only in the modes that read it),
//! the groups Kubernetes and EKS give by themselves, and the groups the authenticator
//! logs on each `access granted` line. A binding whose group nothing produces grants
//! nothing; one produced only by `aws-auth` dies when the cluster moves to `API`.
//!
//! Built-in groups: Kubernetes' authentication docs ("Users in Kubernetes":
//! `system:authenticated`, `system:unauthenticated`, `system:serviceaccounts`,
//! `system:serviceaccounts:NAMESPACE`; `system:masters`); EKS gives node entries
//! (`EC2_LINUX`, `EC2_WINDOWS`, `HYBRID_LINUX`) and Fargate `system:nodes` and
//! `system:bootstrappers` (`creating-access-entries.adoc`: "Amazon EKS automatically
//! grants the other types of access entries the permissions required"); `eks:` names
//! are EKS's own, reserved to it ("group names ... can't start with ... `eks:`"), so
//! taken as produced by EKS.

use super::picture::ClusterState;
use super::rbac::{nearest, Binding};
use crate::authenticator;
use crate::escape::inline;
use serde::Serialize;

/// What becomes of a bound group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fate {
    /// Something produces it now and after a move to `API`.
    Fed,
    /// Kubernetes or EKS produces it.
    BuiltIn,
    /// Produced only by `aws-auth`: dead once the cluster is in `API` mode.
    DiesAtApi,
    /// Nothing produces it: its bindings grant nothing.
    Dead,
}

/// One group named by bindings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BoundGroup {
    pub group: String,
    pub bindings: Vec<String>,
    /// `access entry ARN`, `aws-auth mapRoles[2]`, `seen in the authenticator log`, `Kubernetes`.
    pub producers: Vec<String>,
    pub fate: Fate,
    /// For a dead group: produced names it was probably meant to be, with why.
    pub near: Vec<(String, String)>,
}

/// Who produces a built-in group, if `group` is one.
pub fn built_in(group: &str) -> Option<&'static str> {
    match group {
        "system:authenticated" | "system:unauthenticated" | "system:serviceaccounts" | "system:masters" => Some("Kubernetes"),
        "system:nodes" | "system:bootstrappers" | "system:node-proxier" => Some("EKS, for node and Fargate entries"),
        g if g.starts_with("system:serviceaccounts:") => Some("Kubernetes"),
        g if g.starts_with("eks:") => Some("EKS (reserved prefix)"),
        _ => None,
    }
}

/// Every group subject of `state`'s bindings, judged; `seen` are the groups of the
/// authenticator's `access granted` lines, when a log was read.
pub fn reverse(state: &ClusterState, seen: &[String]) -> Vec<BoundGroup> {
    let mut groups: Vec<(&str, Vec<&Binding>)> = Vec::new();
    for binding in &state.rbac.bindings {
        for group in &binding.groups {
            match groups.iter_mut().find(|(g, _)| g == group) {
                Some((_, bindings)) => bindings.push(binding),
                None => groups.push((group, vec![binding])),
            }
        }
    }
    groups.sort_by(|a, b| a.0.cmp(b.0));
    let entry_groups = |group: &str| -> Vec<String> {
        if !state.reads_entries() {
            return Vec::new();
        }
        state.entries.iter().filter(|e| e.groups.iter().any(|g| g == group)).map(|e| format!("access entry {}", e.principal_arn)).collect()
    };
    let auth_groups = |group: &str| -> Vec<String> {
        let Some(auth) = state.aws_auth.as_ref().filter(|_| state.reads_aws_auth()) else { return Vec::new() };
        auth.mappings
            .iter()
            .filter(|m| m.groups.iter().any(|g| g == group) && !state.overridden(m))
            .map(|m| format!("aws-auth {}", m.source))
            .collect()
    };
    let mut produced: Vec<String> = seen.to_vec();
    if state.reads_entries() {
        produced.extend(state.entries.iter().flat_map(|e| e.groups.iter().cloned()));
    }
    if let Some(auth) = state.aws_auth.as_ref().filter(|_| state.reads_aws_auth()) {
        produced.extend(auth.mappings.iter().filter(|m| !state.overridden(m)).flat_map(|m| m.groups.iter().cloned()));
    }
    produced.sort();
    produced.dedup();
    groups
        .into_iter()
        .map(|(group, bindings)| {
            let from_entries = entry_groups(group);
            let from_auth = auth_groups(group);
            let logged = seen.iter().any(|g| g == group);
            let mut producers: Vec<String> = from_entries.iter().chain(&from_auth).cloned().collect();
            if logged {
                producers.push("seen in the authenticator log (access granted)".into());
            }
            let fate = if let Some(by) = built_in(group) {
                producers.push(by.to_string());
                Fate::BuiltIn
            } else if !from_entries.is_empty() {
                Fate::Fed
            } else if !from_auth.is_empty() {
                Fate::DiesAtApi
            } else if logged {
                // Logged but from nothing read now (a mapping since removed, or one this
                // read could not see): alive as far as the log goes.
                Fate::Fed
            } else {
                Fate::Dead
            };
            let near = if fate == Fate::Dead { nearest(group, produced.iter().map(String::as_str)) } else { Vec::new() };
            BoundGroup { group: group.to_string(), bindings: bindings.iter().map(|b| b.describe()).collect(), producers, fate, near }
        })
        .collect()
}

/// For people: the dead groups and those that die in `API` mode first, then the fed.
pub fn text(cluster: &str, mode: &str, judged: &[BoundGroup], log_read: bool) -> String {
    let count = |fate: Fate| judged.iter().filter(|g| g.fate == fate).count();
    let mut out = format!(
        "cluster {} (authentication mode {}): {} group(s) named by bindings; {} dead, {} die in API mode{}\n",
        inline(cluster),
        inline(mode),
        judged.len(),
        count(Fate::Dead),
        count(Fate::DiesAtApi),
        if log_read { "" } else { " (no authenticator log given: --log adds the groups it saw)" }
    );
    for fate in [Fate::Dead, Fate::DiesAtApi, Fate::Fed, Fate::BuiltIn] {
        for g in judged.iter().filter(|g| g.fate == fate) {
            let label = match fate {
                Fate::Dead => "DEAD    ",
                Fate::DiesAtApi => "DIES@API",
                Fate::Fed => "fed     ",
                Fate::BuiltIn => "built-in",
            };
            out.push_str(&format!("\n  {label} {:?}\n", inline(&g.group)));
            for binding in &g.bindings {
                out.push_str(&format!("           bound by {}\n", inline(binding)));
            }
            for producer in &g.producers {
                out.push_str(&format!("           from {}\n", inline(producer)));
            }
            for (name, why) in &g.near {
                out.push_str(&format!("           did you mean {:?} ({})?\n", inline(name), inline(why)));
            }
        }
    }
    out
}

/// The groups of every `access granted` line of an authenticator log, as `aws logs
/// filter-log-events` prints it (`{"events": [{"message": …}, …]}`, every page of it
/// concatenated), as JSON lines with the line in `message` (CloudWatch Logs' exports),
/// or as plain lines (`aws logs tail`, a console export). Other lines are skipped.
pub fn groups_seen(log: &str) -> Vec<String> {
    let messages: Vec<String> = match cli_events(log) {
        Some(messages) => messages,
        None => log
            .lines()
            .map(|line| {
                serde_json::from_str::<serde_json::Value>(line)
                    .ok()
                    .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_string))
                    .unwrap_or_else(|| line.to_string())
            })
            .collect(),
    };
    let mut seen: Vec<String> = messages
        .iter()
        .filter_map(|message| {
            let parsed = authenticator::parse_line(message).ok()?;
            authenticator::Attempt::from_line(&parsed).ok().filter(|a| a.granted)
        })
        .flat_map(|attempt| attempt.groups)
        .collect();
    seen.sort();
    seen.dedup();
    seen
}

/// The messages of one or more `filter-log-events` / `get-log-events` outputs; `None`
/// when the text is not that.
fn cli_events(log: &str) -> Option<Vec<String>> {
    let mut messages = Vec::new();
    for document in serde_json::Deserializer::from_str(log).into_iter::<serde_json::Value>() {
        let document = document.ok()?;
        let events = document.get("events")?.as_array()?;
        messages.extend(events.iter().filter_map(|e| e.get("message")?.as_str().map(str::to_string)));
    }
    Some(messages)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubernetes::aws_auth::AwsAuth;
    use crate::kubernetes::picture::Entry;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn state(mode: &str) -> ClusterState {
        let binding = |name: &str, group: &str| {
            Binding::from_item(
                "ClusterRoleBinding",
                &json!({"metadata": {"name": name}, "roleRef": {"kind": "ClusterRole", "name": "view"}, "subjects": [{"kind": "Group", "name": group}]}),
            )
            .unwrap()
        };
        let data = BTreeMap::from([("mapRoles".to_string(), "- rolearn: arn:aws:iam::1:role/ops\n  groups: [ops-team]\n".to_string())]);
        ClusterState {
            authentication_mode: Some(mode.into()),
            entries: vec![Entry {
                principal_arn: "arn:aws:iam::1:role/dev".into(),
                entry_type: "STANDARD".into(),
                username: "dev".into(),
                groups: vec!["developers".into()],
                associations: vec![],
                created_at: None,
            }],
            aws_auth: Some(AwsAuth::parse(&data)),
            rbac: crate::kubernetes::authz::Rbac {
                bindings: vec![
                    binding("a", "developers"),
                    binding("b", "ops-team"),
                    binding("c", "developer"),
                    binding("d", "system:authenticated"),
                    binding("e", "from-log"),
                ],
                roles: vec![],
            },
            ..ClusterState::default()
        }
    }

    #[test]
    fn fates() {
        let judged = reverse(&state("API_AND_CONFIG_MAP"), &["from-log".to_string()]);
        let fate = |g: &str| judged.iter().find(|b| b.group == g).unwrap().fate;
        assert_eq!(fate("developers"), Fate::Fed);
        assert_eq!(fate("ops-team"), Fate::DiesAtApi);
        assert_eq!(fate("system:authenticated"), Fate::BuiltIn);
        assert_eq!(fate("from-log"), Fate::Fed);
        let dead = judged.iter().find(|b| b.group == "developer").unwrap();
        assert_eq!((dead.fate, dead.near[0].0.as_str()), (Fate::Dead, "developers"));
        // In API mode aws-auth produces nothing: its group is dead already.
        let judged = reverse(&state("API"), &[]);
        assert_eq!(judged.iter().find(|b| b.group == "ops-team").unwrap().fate, Fate::Dead);
        // In CONFIG_MAP mode entries produce nothing.
        let judged = reverse(&state("CONFIG_MAP"), &[]);
        assert_eq!(judged.iter().find(|b| b.group == "developers").unwrap().fate, Fate::Dead);
    }

    #[test]
    fn groups_of_granted_lines() {
        let log = concat!(
            "time=\"2026-12-01T10:00:00Z\" level=info msg=\"access granted\" arn=\"arn:aws:iam::1:role/a\" groups=\"[ops system:authenticated]\" username=a\n",
            "{\"message\": \"time=\\\"2026-12-01T10:00:00Z\\\" level=info msg=\\\"access granted\\\" groups=\\\"[devs]\\\" username=b\"}\n",
            "time=\"2026-12-01T10:00:00Z\" level=warning msg=\"access denied\" groups=\"[never]\"\n",
            "not a log line\n",
        );
        assert_eq!(groups_seen(log), ["devs", "ops", "system:authenticated"]);
        let cli = r#"{"events": [{"logStreamName": "authenticator-1", "message": "time=\"2026-12-01T10:00:00Z\" level=info msg=\"access granted\" groups=\"[team-a]\" username=a"}], "searchedLogStreams": []}
{"events": [{"message": "time=\"2026-12-01T10:00:00Z\" level=info msg=\"access granted\" groups=\"[team-b]\" username=b"}]}"#;
        assert_eq!(groups_seen(cli), ["team-a", "team-b"]);
        assert!(groups_seen("{\"events\": 7}").is_empty());
    }
}
