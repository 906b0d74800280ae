//! A successful entry that sets `kubernetesGroups`. EKS never checks that a
//! RoleBinding or ClusterRoleBinding names the group, so a typo fails silently later.
//! With the cluster's bindings read (`Fact::Bindings`), `group-not-bound` judges each
//! group instead and this warning stays silent; without them it says why the groups
//! could not be checked.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::{Fact, Facts, Lookup};
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "unbound-kubernetes-group",
    severity: Severity::Warning,
    title: "Kubernetes groups are not checked against RBAC bindings",
    docs: util::TROUBLESHOOTING,
    evidence: &[Evidence::CloudTrail],
    needs: &[Fact::Bindings],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html", quote: "Amazon EKS doesn't confirm that any Kubernetes RBAC objects that exist on your cluster include any of the group names that you specify." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html", quote: "For example, if you create an access entry for group that currently doesn't exist, EKS will create the group instead of returning an error." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/access-policies.html", quote: "If you associate an access policy to an access entry that also has group names specified, then the IAM principal has all the permissions in all associated access policies." },
        Source { page: "https://repost.aws/knowledge-center/eks-troubleshoot-access-entries", quote: "Check whether the spelling and formatting is correct for references to a Kubernetes group in your access entry." },
    ],
};

/// How many groups are checked for suspicious spelling (real entries carry a few).
const MAX_GROUPS_CHECKED: usize = 100;

/// Why a group name looks like a mistake, if it does.
fn suspicion(group: &str, others: &[String]) -> Option<String> {
    if group.trim() != group {
        return Some(format!("{group:?} has leading or trailing white space"));
    }
    if group.is_empty() {
        return Some("an empty group name".to_string());
    }
    if !group.is_ascii() {
        return Some(format!("{group:?} contains non-ASCII characters (look-alike letters or invisible characters?)"));
    }
    let folded = group.to_ascii_lowercase();
    let twin = others.iter().find(|o| o.as_str() != group && near(&folded, &o.trim().to_lowercase()));
    if let Some(twin) = twin {
        return Some(format!("{group:?} differs from {twin:?} in the same request only by case, spacing or one character"));
    }
    group
        .chars()
        .any(|c| c.is_ascii_uppercase())
        .then(|| format!("{group:?} has upper-case letters; group names are case-sensitive and bindings usually use lower case"))
}

/// Equal, or one edit apart (insert, delete or substitute one character).
fn near(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a == b {
        return true;
    }
    let (short, long) = if a.len() <= b.len() { (&a, &b) } else { (&b, &a) };
    if long.len() - short.len() > 1 {
        return false;
    }
    let prefix = short.iter().zip(long.iter()).take_while(|(x, y)| x == y).count();
    short.get(prefix + usize::from(short.len() == long.len())..) == long.get(prefix + 1..)
}

/// Whether an event sets Kubernetes groups on an entry that now exists.
pub(super) fn sets_groups(event: &Event) -> bool {
    !event.failed() && !event.groups().is_empty() && matches!(event.event_name.as_str(), "CreateAccessEntry" | "UpdateAccessEntry")
}

fn diagnose(event: &Event, facts: &Facts) -> Option<Finding> {
    let groups = event.groups();
    if !sets_groups(event) || matches!(facts.bindings, Lookup::Found(_)) {
        return None;
    }
    let listed = groups.iter().map(|g| format!("{g:?}")).collect::<Vec<_>>().join(", ");
    let mut finding = Finding::new(
        &CAUSE,
        format!(
            "The access entry for {} now puts it in Kubernetes group(s) {listed}. EKS does not check that any \
             RoleBinding or ClusterRoleBinding names these groups: if none does, or a name is misspelt, the principal \
             authenticates but gets none of the permissions the group was meant to give (only what its access policies \
             and any binding of its username grant).",
            event.principal_or_placeholder()
        ),
    )
    .step("Check that each group is the subject of a RoleBinding or ClusterRoleBinding (the commands below list them).")
    .step("Check spelling and case: Kubernetes compares group names exactly.")
    .command(util::finish(event, util::aws_eks(event, "update-kubeconfig", "--name")));
    for group in groups.iter().take(MAX_GROUPS_CHECKED) {
        finding = finding.command(format!(
            "kubectl get clusterrolebindings,rolebindings --all-namespaces -o json | jq -r --arg g {} \
             '.items[] | select(any(.subjects[]?; .kind == \"Group\" and .name == $g)) | \"\\(.kind) \\(.metadata.namespace // \"-\") \\(.metadata.name)\"'",
            crate::command::sh(group)
        ));
    }
    // Look-alike checks compare every pair: bound them so a hostile request with
    // thousands of groups cannot stall the function.
    let checked = &groups[..groups.len().min(MAX_GROUPS_CHECKED)];
    let suspicious: Vec<String> = checked.iter().filter_map(|g| suspicion(g, checked)).collect();
    if !suspicious.is_empty() {
        finding = finding.step(format!("Suspicious spelling: {}.", suspicious.join("; ")));
    }
    if facts.bindings == Lookup::NotChecked {
        finding = finding.note(
            "The groups were not checked against the cluster's bindings: this run had no Kubernetes access (the function's \
             KubernetesAccess option, or `eks-access-doctor check-groups` with your credentials, reads them).",
        );
    }
    Some(finding)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn flags_look_alikes_and_spacing() {
        let groups = strings(&["platform-admins", "platform-admin", "dev ", "readonly", "Ops", "rеadonly"]);
        assert!(suspicion("platform-admin", &groups).unwrap().contains("one character"));
        assert!(suspicion("dev ", &groups).unwrap().contains("white space"));
        assert!(suspicion("Ops", &groups).unwrap().contains("upper-case"));
        assert!(suspicion("rеadonly", &groups).unwrap().contains("non-ASCII"));
        assert_eq!(suspicion("viewers", &strings(&["viewers", "editors"])), None);
    }

    #[test]
    fn near_means_one_edit() {
        assert!(near("admins", "admin"));
        assert!(near("admins", "odmins"));
        assert!(near("admin", "admins"));
        assert!(!near("admins", "users"));
        assert!(!near("ab", "ba"));
    }
}
