//! A successful entry that puts its principal in a Kubernetes group that no
//! RoleBinding or ClusterRoleBinding of the cluster names: checked, not guessed.
//! Needs the cluster's bindings (`Fact::Bindings`, read through the Kubernetes API);
//! without them `unbound-kubernetes-group` warns instead.

use super::{unbound_kubernetes_group::sets_groups, util};
use crate::command::Command;
use crate::event::{Event, Evidence};
use crate::facts::{Fact, Facts, Lookup};
use crate::finding::{Cause, Finding, Severity};
use crate::kubernetes::rbac::{check, GroupCheck};

pub static CAUSE: Cause = Cause {
    id: "group-not-bound",
    severity: Severity::Error,
    title: "A Kubernetes group of the entry is named by no RoleBinding or ClusterRoleBinding",
    docs: util::CREATING_ENTRIES,
    evidence: Evidence::CloudTrail,
    needs: &[Fact::Bindings],
    diagnose,
};

/// Groups checked per event (real entries carry a few).
const MAX_GROUPS: usize = 100;

/// A binding name Kubernetes accepts, made from a group name.
fn binding_name(group: &str) -> String {
    let name: String =
        group.trim().to_ascii_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' }).take(50).collect();
    format!("group-{}", name.trim_matches('-'))
}

fn diagnose(event: &Event, facts: &Facts) -> Option<Finding> {
    let Lookup::Found(bindings) = &facts.bindings else { return None };
    if !sets_groups(event) {
        return None;
    }
    let groups = &event.groups()[..event.groups().len().min(MAX_GROUPS)];
    let verdicts: Vec<(&String, GroupCheck)> = groups.iter().map(|g| (g, check(g, bindings))).collect();
    let unbound: Vec<_> = verdicts.iter().filter(|(_, v)| matches!(v, GroupCheck::Unbound { .. })).collect();
    if unbound.is_empty() {
        return None;
    }
    let principal = event.principal_or_placeholder();
    let names = unbound.iter().map(|(g, _)| format!("{g:?}")).collect::<Vec<_>>().join(", ");
    let mut finding = Finding::new(
        &CAUSE,
        format!(
            "The access entry for {principal} puts it in Kubernetes group(s) {names}, and none of the cluster's {} \
             RoleBindings and ClusterRoleBindings names {}. Requests that need those groups' permissions are forbidden.",
            bindings.len(),
            if unbound.len() == 1 { "it" } else { "them" }
        ),
    );
    // The groups with a near bound name replaced by it, when every unbound group has one.
    let mut corrected: Vec<&str> = Vec::new();
    let mut all_near = true;
    for (group, verdict) in &verdicts {
        match verdict {
            GroupCheck::Unbound { near, bound_groups } => match near.first() {
                Some((name, why)) => {
                    let others = near.iter().skip(1).map(|(n, w)| format!("{n:?} ({w})")).collect::<Vec<_>>();
                    let also = if others.is_empty() { String::new() } else { format!("; also near: {}", others.join(", ")) };
                    finding = finding.step(format!("{group:?} is bound nowhere. Did you mean the bound group {name:?} ({why}){also}?"));
                    corrected.push(name);
                }
                None => {
                    all_near = false;
                    let listed = if bound_groups.is_empty() {
                        "no binding of the cluster names any group".to_string()
                    } else {
                        format!("the bound groups are {}", bound_groups.iter().map(|g| format!("{g:?}")).collect::<Vec<_>>().join(", "))
                    };
                    finding = finding.step(format!("{group:?} is bound nowhere, and no bound group is spelt like it: {listed}."));
                }
            },
            GroupCheck::Bound { bindings: by } => {
                finding = finding.step(format!("{group:?} is bound by {}.", by.iter().take(3).cloned().collect::<Vec<_>>().join(", ")));
                corrected.push(group);
            }
            GroupCheck::Privileged => corrected.push(group),
        }
    }
    if all_near {
        finding = finding
            .step("If the near names are what was meant, correct the entry's groups:")
            .commands(util::update_entry(event, None, &corrected));
    }
    finding = finding.step("Or bind each group to the role it should have (view is read-only; pick yours):");
    for (group, _) in &unbound {
        finding = finding.command(
            Command::new("kubectl create clusterrolebinding")
                .arg("--clusterrole", "view")
                .arg("--group", group)
                .last_positional(&binding_name(group))
                .to_string(),
        );
    }
    Some(finding)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binding_names_are_valid_kubernetes_names() {
        assert_eq!(binding_name("Platform-Admins "), "group-platform-admins");
        assert_eq!(binding_name("$(x)"), "group-x");
    }
}
