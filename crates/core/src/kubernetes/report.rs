//! What `preflight` and `check-groups` print: text for a person (every value from
//! the cluster through `escape::inline`, so no terminal control character
//! or line break from a ConfigMap reaches the screen raw) and JSON for scripts.

use super::migration::Migration;
use super::rbac::GroupCheck;
use super::reverse::{BoundGroup, Fate};
use crate::escape::inline;
use serde::Serialize;

/// The groups of one access entry, each judged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EntryGroups {
    pub principal_arn: String,
    pub groups: Vec<JudgedGroup>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JudgedGroup {
    pub group: String,
    #[serde(flatten)]
    pub check: GroupCheck,
}

impl EntryGroups {
    pub fn unbound(&self) -> usize {
        self.groups.iter().filter(|g| matches!(g.check, GroupCheck::Unbound { .. })).count()
    }
}

/// The preflight of a move to `API`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Preflight {
    pub cluster: String,
    pub region: String,
    /// The authentication mode now.
    pub authentication_mode: Option<String>,
    /// False when the cluster has no `aws-auth` ConfigMap.
    pub config_map: bool,
    pub migration: Migration,
    /// Bindings whose group nothing produces, or only `aws-auth` (dead in `API` mode).
    pub bindings: Vec<BoundGroup>,
    /// Why the bindings were not checked, when they were not.
    pub bindings_not_checked: Option<String>,
}

fn quoted(values: &[String]) -> String {
    values.iter().map(|v| format!("{:?}", inline(v))).collect::<Vec<_>>().join(", ")
}

pub fn preflight_text(p: &Preflight) -> String {
    let mut out = String::new();
    let mode = p.authentication_mode.as_deref().unwrap_or("unknown");
    out.push_str(&format!("cluster {} ({}), authentication mode {}\n", inline(&p.cluster), inline(&p.region), inline(mode)));
    if mode == "API" {
        out.push_str(
            "The cluster is already in API mode: EKS no longer reads aws-auth, and what follows is who lost access when it moved.\n",
        );
    }
    if !p.config_map {
        out.push_str("No aws-auth ConfigMap: moving to API takes no mapping away.\n");
    } else {
        migration_text(&p.migration, &mut out);
    }
    bindings_text(p, &mut out);
    out
}

/// The bindings that grant nothing now, and those that will in `API` mode.
fn bindings_text(p: &Preflight, out: &mut String) {
    if let Some(why) = &p.bindings_not_checked {
        out.push_str(&format!("bindings not checked: {}\n", inline(why)));
        return;
    }
    for (fate, heading) in [
        (Fate::DiesAtApi, "Bindings that die in API mode (only aws-auth produces their group):"),
        (Fate::Dead, "Bindings nothing feeds (no access entry, no aws-auth mapping the mode reads, nor Kubernetes, produces their group):"),
    ] {
        let groups: Vec<&BoundGroup> = p.bindings.iter().filter(|g| g.fate == fate).collect();
        if groups.is_empty() {
            continue;
        }
        out.push_str(&format!("\n{heading}\n"));
        for g in groups {
            out.push_str(&format!("  {:?}: {}\n", inline(&g.group), g.bindings.iter().map(|b| inline(b)).collect::<Vec<_>>().join(", ")));
            for producer in &g.producers {
                out.push_str(&format!("    from {}\n", inline(producer)));
            }
            for (name, why) in &g.near {
                out.push_str(&format!("    did you mean {:?} ({})?\n", inline(name), inline(why)));
            }
        }
    }
}

fn migration_text(m: &Migration, out: &mut String) {
    if !m.loses_access() {
        out.push_str(&format!(
            "Every aws-auth mapping that grants access ({}) has an equivalent access entry: nobody loses access in API mode.\n",
            m.covered
        ));
    } else {
        out.push_str(&format!(
            "{} aws-auth mapping(s) have no equivalent access entry: these principals lose access in API mode.\n",
            m.unmatched.len()
        ));
    }
    for u in &m.unmatched {
        out.push_str(&format!("\n  {} {}\n", inline(&u.source), inline(&u.mapped)));
        if !u.username.is_empty() {
            out.push_str(&format!("    username  {:?}\n", inline(&u.username)));
        }
        if !u.groups.is_empty() {
            out.push_str(&format!("    groups    {}\n", quoted(&u.groups)));
        }
        out.push_str(&format!("    why       {}\n", inline(&u.why)));
        for command in &u.commands {
            out.push_str(&format!("    $ {}\n", inline(command)));
        }
        for note in &u.notes {
            out.push_str(&format!("    note: {}\n", inline(note)));
        }
    }
    for loss in m.account_losses() {
        out.push_str(&format!("\n  mapAccounts: {}\n", inline(&loss)));
    }
    if !m.unmatched.is_empty() && m.covered > 0 {
        out.push_str(&format!("\n{} other mapping(s) already have an equivalent access entry.\n", m.covered));
    }
    for line in &m.ineffective {
        out.push_str(&format!("grants nothing today (nothing lost): {}\n", inline(line)));
    }
    for line in &m.problems {
        out.push_str(&format!("aws-auth problem: {}\n", inline(line)));
    }
}

pub fn groups_text(cluster: &str, entries: &[EntryGroups], bindings: usize) -> String {
    let mut out = format!("cluster {}: {bindings} RoleBindings and ClusterRoleBindings read\n", inline(cluster));
    for entry in entries {
        out.push_str(&format!("\n  {}\n", inline(&entry.principal_arn)));
        if entry.groups.is_empty() {
            out.push_str("    (no Kubernetes groups)\n");
        }
        for judged in &entry.groups {
            let group = format!("{:?}", inline(&judged.group));
            match &judged.check {
                GroupCheck::Bound { bindings } => out.push_str(&format!(
                    "    ok       {group}: bound by {}\n",
                    bindings.iter().map(|b| inline(b)).collect::<Vec<_>>().join(", ")
                )),
                GroupCheck::Privileged => out.push_str(&format!("    ok       {group}: Kubernetes grants it without a binding\n")),
                GroupCheck::Unbound { near, bound_groups } => {
                    out.push_str(&format!("    UNBOUND  {group}: no RoleBinding or ClusterRoleBinding names it\n"));
                    for (name, why) in near {
                        out.push_str(&format!("             did you mean {:?} ({})?\n", inline(name), inline(why)));
                    }
                    if near.is_empty() {
                        out.push_str(&format!("             bound groups: {}\n", quoted(bound_groups)));
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubernetes::migration::Unmatched;

    #[test]
    fn cluster_values_are_escaped() {
        let p = Preflight {
            cluster: "prod".into(),
            region: "eu-west-1".into(),
            authentication_mode: Some("API_AND_CONFIG_MAP".into()),
            config_map: true,
            bindings: vec![],
            bindings_not_checked: None,
            migration: Migration {
                unmatched: vec![Unmatched {
                    source: "mapRoles[0]".into(),
                    mapped: "arn:aws:iam::1:role/A\u{1b}[31m".into(),
                    username: "a\nb".into(),
                    groups: vec!["g\u{7}".into()],
                    entry_type: "STANDARD",
                    why: "no access entry for this principal".into(),
                    commands: vec!["aws eks create-access-entry".into()],
                    notes: vec![],
                }],
                ..Migration::default()
            },
        };
        let text = preflight_text(&p);
        assert!(!text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains("a\nb"), "{text}");
        assert!(text.contains("1 aws-auth mapping(s) have no equivalent access entry"));
        let groups = [EntryGroups {
            principal_arn: "arn:aws:iam::1:role/A".into(),
            groups: vec![JudgedGroup {
                group: "x\u{1b}".into(),
                check: GroupCheck::Unbound { near: vec![], bound_groups: vec!["ops".into()] },
            }],
        }];
        let text = groups_text("prod", &groups, 3);
        assert!(text.contains("UNBOUND") && !text.contains('\u{1b}'), "{text}");
        assert_eq!(groups[0].unbound(), 1);
    }
}
