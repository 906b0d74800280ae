//! A successful entry that puts its principal in a Kubernetes group that no
//! RoleBinding or ClusterRoleBinding of the cluster names: checked, not guessed.
//! Needs the cluster's bindings (`Fact::Bindings`, read through the Kubernetes API);
//! without them `unbound-kubernetes-group` warns instead.
//!
//! Also read from the authenticator log: an `access granted` line names the groups
//! the identity was just given (from its access entry or its `aws-auth` mapping).
//! With the bindings read, an unbound group there is the same error; without them a
//! granted line says nothing (a grant alone is no problem). Kubernetes' own `system:`
//! groups are never checked.

use super::{unbound_kubernetes_group::sets_groups, util};
use crate::command::Command;
use crate::event::{Event, Evidence};
use crate::facts::{Fact, Facts, Lookup};
use crate::finding::{Cause, Finding, Reach, Severity, Source};
use crate::kubernetes::rbac::{check, GroupCheck};

pub static CAUSE: Cause = Cause {
    id: "group-not-bound",
    severity: Severity::Error,
    title: "A Kubernetes group of the entry is named by no RoleBinding or ClusterRoleBinding",
    docs: util::CREATING_ENTRIES,
    evidence: &[Evidence::CloudTrail, Evidence::Authenticator],
    needs: &[Fact::Bindings],
    diagnose,
    reach: Reach::Kubernetes { instead: "unbound-kubernetes-group" },
    sources: &[
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html", quote: "Create Kubernetes RoleBinding or ClusterRoleBinding objects on your cluster that specify the group name as a subject for kind: Group." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html", quote: "Amazon EKS doesn't confirm that any Kubernetes RBAC objects that exist on your cluster include any of the group names that you specify." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/troubleshooting.html", quote: "If it exists, it doesn't have the necessary Kubernetes group names defined for it, or doesn't have the proper access policy associated to it." },
        Source { page: "kubernetes-sigs/aws-iam-authenticator pkg/server/server.go", quote: "}).Info(\"access granted\")" },
    ],
};

/// Groups checked per event (real entries carry a few).
const MAX_GROUPS: usize = 100;

/// A binding name Kubernetes accepts, made from a group name.
fn binding_name(group: &str) -> String {
    let name: String =
        group.trim().to_ascii_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' }).take(50).collect();
    format!("group-{}", name.trim_matches('-'))
}

/// The groups of a granted authenticator line as the identity holds them: Go logs
/// the list joined by spaces, so a bound name with white space in it (`platform
/// admins`) comes back as several words; consecutive words that spell a bound name
/// are that one group again.
fn regroup(words: &[&str], bindings: &[crate::kubernetes::Binding]) -> Vec<String> {
    let spaced: Vec<Vec<&str>> = bindings
        .iter()
        .flat_map(|b| b.groups.iter())
        .filter(|g| g.split_whitespace().nth(1).is_some())
        .map(|g| g.split_whitespace().collect())
        .take(MAX_GROUPS)
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let longest = spaced.iter().filter(|name| words[i..].starts_with(name)).map(Vec::len).max();
        match longest {
            Some(n) => {
                let name = bindings.iter().flat_map(|b| b.groups.iter()).find(|g| g.split_whitespace().eq(words[i..i + n].iter().copied()));
                out.push(name.cloned().unwrap_or_else(|| words[i..i + n].join(" ")));
                i += n;
            }
            None => {
                out.push(words[i].to_string());
                i += 1;
            }
        }
    }
    out
}

fn diagnose(event: &Event, facts: &Facts) -> Option<Finding> {
    let Lookup::Found(bindings) = &facts.bindings else { return None };
    let granted = event.granted();
    let groups: Vec<String> = match granted {
        Some(attempt) => regroup(&attempt.checkable_groups(), bindings),
        None if sets_groups(event) => event.groups().iter().take(MAX_GROUPS).cloned().collect(),
        None => return None,
    };
    let verdicts: Vec<(&String, GroupCheck)> = groups.iter().map(|g| (g, check(g, bindings))).collect();
    let unbound: Vec<_> = verdicts.iter().filter(|(_, v)| matches!(v, GroupCheck::Unbound { .. })).collect();
    if unbound.is_empty() {
        return None;
    }
    let principal = event.principal_or_placeholder();
    let names = unbound.iter().map(|(g, _)| format!("{g:?}")).collect::<Vec<_>>().join(", ");
    let them = if unbound.len() == 1 { "it" } else { "them" };
    let explanation = match granted {
        Some(attempt) => format!(
            "{principal} authenticated to cluster {}{} in Kubernetes group(s) {names} (the authenticator's access granted \
             line), and none of the cluster's {} RoleBindings and ClusterRoleBindings names {them}. Its requests that need \
             those groups' permissions are forbidden.",
            event.cluster_or_placeholder(),
            attempt.username.as_deref().map(|u| format!(" as {u:?}")).unwrap_or_default(),
            bindings.len(),
        ),
        None => format!(
            "The access entry for {principal} puts it in Kubernetes group(s) {names}, and none of the cluster's {} \
             RoleBindings and ClusterRoleBindings names {them}. Requests that need those groups' permissions are forbidden.",
            bindings.len(),
        ),
    };
    let mut finding = Finding::new(&CAUSE, explanation);
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
        finding = match granted {
            None => finding
                .step("If the near names are what was meant, correct the entry's groups:")
                .commands(util::update_entry(event, None, &corrected)),
            Some(_) => granted_fix(finding, event, &corrected),
        };
    } else if granted.is_some() {
        finding = finding
            .step("The groups come from the identity's access entry or its aws-auth ConfigMap mapping (the commands below show both).");
        finding = finding.commands(where_groups_come_from(event));
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

/// Where a granted identity's groups come from, and how to correct them there: the
/// authenticator logs a role without its path, so the entry's ARN is read from IAM.
fn granted_fix(finding: Finding, event: &Event, corrected: &[&str]) -> Finding {
    let groups = corrected.join(",");
    let mut update = util::aws_eks(event, "update-access-entry", "--cluster-name");
    update = match role_name(event) {
        Some(name) => update.arg_from("--principal-arn", &crate::command::role_arn_by_name(name)),
        None => update.arg("--principal-arn", event.principal_or_placeholder()),
    };
    finding
        .step(
            "If the near names are what was meant, correct the groups where they are set: the identity's access entry (first \
             command shows it), or its mapRoles/mapUsers entry in the aws-auth ConfigMap (second command).",
        )
        .commands(where_groups_come_from(event))
        .command(util::finish(event, update.arg("--kubernetes-groups", &groups)))
}

/// The identity's access entry, and the aws-auth ConfigMap.
fn where_groups_come_from(event: &Event) -> Vec<String> {
    let mut describe = util::aws_eks(event, "describe-access-entry", "--cluster-name");
    describe = match role_name(event) {
        Some(name) => describe.arg_from("--principal-arn", &crate::command::role_arn_by_name(name)),
        None => describe.arg("--principal-arn", event.principal_or_placeholder()),
    };
    vec![
        util::finish(event, describe.literal("--query accessEntry.kubernetesGroups")),
        Command::new("kubectl get configmap aws-auth").arg("--namespace", "kube-system").literal("-o yaml").to_string(),
    ]
}

/// The role's name when the identity is a role (the authenticator logs it without its path).
fn role_name(event: &Event) -> Option<&str> {
    let principal = crate::arn::Arn::parse(event.principal_arn.as_deref()?)?.principal()?;
    (principal.kind != crate::arn::PrincipalKind::User).then_some(principal.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_of_a_spaced_group_name_are_one_group_again() {
        let bindings = vec![crate::kubernetes::Binding {
            kind: "ClusterRoleBinding".into(),
            namespace: None,
            name: "x".into(),
            role: "ClusterRole/view".into(),
            groups: vec!["platform  admins".into(), "ops".into()],
            users: vec![],
        }];
        assert_eq!(regroup(&["platform", "admins", "ops", "platform"], &bindings), ["platform  admins", "ops", "platform"]);
        assert_eq!(regroup(&[], &bindings), Vec::<String>::new());
    }

    #[test]
    fn binding_names_are_valid_kubernetes_names() {
        assert_eq!(binding_name("Platform-Admins "), "group-platform-admins");
        assert_eq!(binding_name("$(x)"), "group-x");
    }
}
