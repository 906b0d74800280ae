//! Kubernetes groups against RBAC bindings. A `Group` subject of a RoleBinding or
//! ClusterRoleBinding names a group exactly: Kubernetes compares names byte for
//! byte, so `Platform-Admins`, `platform-admins ` and `platform-admin` are three
//! other groups. `system:masters` is the one group the API server's authorizer
//! lets through whatever the bindings say.

use serde::Serialize;

/// Groups Kubernetes grants without any binding of the cluster's.
const PRIVILEGED_GROUPS: &[&str] = &["system:masters"];
/// How many near names and bound groups a finding lists.
const MAX_LISTED: usize = 5;

/// One RoleBinding or ClusterRoleBinding, as far as groups go.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Binding {
    /// `RoleBinding` or `ClusterRoleBinding`.
    pub kind: String,
    /// The namespace of a RoleBinding.
    pub namespace: Option<String>,
    pub name: String,
    /// `ClusterRole/view`, `Role/deployer`.
    pub role: String,
    /// The names of its `Group` subjects.
    pub groups: Vec<String>,
    /// The usernames of its `User` subjects, and its `ServiceAccount` subjects as the
    /// API server names them (`system:serviceaccount:NAMESPACE:NAME`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<String>,
}

impl Binding {
    /// Reads one item of a `RoleBindingList` or `ClusterRoleBindingList` (`kind`
    /// is the list's item kind: items in a list carry none of their own).
    pub fn from_item(kind: &str, item: &serde_json::Value) -> Option<Binding> {
        let metadata = item.get("metadata")?;
        let name = metadata.get("name")?.as_str()?.to_string();
        let namespace = metadata.get("namespace").and_then(|n| n.as_str()).map(str::to_string);
        let role = match item.get("roleRef") {
            Some(r) => format!("{}/{}", r["kind"].as_str().unwrap_or("?"), r["name"].as_str().unwrap_or("?")),
            None => "?".into(),
        };
        let subjects = item.get("subjects").and_then(|s| s.as_array()).map(Vec::as_slice).unwrap_or_default();
        let (mut groups, mut users) = (Vec::new(), Vec::new());
        for subject in subjects {
            let Some(subject_name) = subject["name"].as_str() else { continue };
            match subject["kind"].as_str() {
                Some("Group") => groups.push(subject_name.to_string()),
                Some("User") => users.push(subject_name.to_string()),
                // A service account's subject without a namespace is the binding's own
                // namespace's (rule.go `appliesToUser`); a ClusterRoleBinding must name one.
                Some("ServiceAccount") => {
                    let ns = subject["namespace"].as_str().filter(|ns| !ns.is_empty()).or(namespace.as_deref());
                    if let Some(ns) = ns {
                        users.push(format!("system:serviceaccount:{ns}:{subject_name}"));
                    }
                }
                _ => {}
            }
        }
        Some(Binding { kind: kind.to_string(), namespace, name, role, groups, users })
    }

    /// The `roleRef`'s kind and name (`ClusterRole`, `view`).
    pub fn role_ref(&self) -> (&str, &str) {
        self.role.split_once('/').unwrap_or(("?", &self.role))
    }

    /// `ClusterRoleBinding/ops-view (ClusterRole/view)`, `RoleBinding dev/deployers (Role/deployer)`.
    pub fn describe(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {ns}/{} ({})", self.kind, self.name, self.role),
            None => format!("{} {} ({})", self.kind, self.name, self.role),
        }
    }
}

/// The verdict on one group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum GroupCheck {
    /// Some binding names it (the bindings, described).
    Bound { bindings: Vec<String> },
    /// Kubernetes grants it without a binding (`system:masters`).
    Privileged,
    /// No binding names it.
    Unbound {
        /// Bound group names that look like what was meant, nearest first, each with why.
        near: Vec<(String, String)>,
        /// Some group names that are bound (when none is near), to show what exists.
        bound_groups: Vec<String>,
    },
}

/// Checks `group` against every binding.
pub fn check(group: &str, bindings: &[Binding]) -> GroupCheck {
    if PRIVILEGED_GROUPS.contains(&group) {
        return GroupCheck::Privileged;
    }
    let bound: Vec<String> = bindings.iter().filter(|b| b.groups.iter().any(|g| g == group)).map(Binding::describe).collect();
    if !bound.is_empty() {
        return GroupCheck::Bound { bindings: bound };
    }
    let mut names: Vec<&str> = bindings.iter().flat_map(|b| b.groups.iter().map(String::as_str)).collect();
    names.sort_unstable();
    names.dedup();
    let near = nearest(group, names.iter().copied());
    let bound_groups = names.iter().take(MAX_LISTED * 4).map(|s| s.to_string()).collect();
    GroupCheck::Unbound { near, bound_groups }
}

/// The names among `candidates` that `group` was probably meant to be, nearest first,
/// each with why.
pub fn nearest<'a>(group: &str, candidates: impl Iterator<Item = &'a str>) -> Vec<(String, String)> {
    let mut near: Vec<(usize, String, String)> = candidates
        .filter(|&name| name != group)
        .filter_map(|name| likeness(group, name).map(|(d, why)| (d, name.to_string(), why)))
        .collect();
    near.sort();
    near.dedup();
    near.into_iter().take(MAX_LISTED).map(|(_, name, why)| (name, why)).collect()
}

/// How alike a requested group and a bound one are (smaller is nearer), and why,
/// when they are alike enough to be a slip: the same but for case or white space,
/// or a few edits apart.
fn likeness(wanted: &str, bound: &str) -> Option<(usize, String)> {
    if wanted.trim() == bound.trim() {
        return Some((0, "differs only in white space".into()));
    }
    let (w, b) = (wanted.trim().to_lowercase(), bound.trim().to_lowercase());
    if w == b {
        return Some((0, "differs only in case".into()));
    }
    let longest = w.chars().count().max(b.chars().count());
    let limit = (longest / 4).clamp(1, 3);
    let distance = edit_distance(&w, &b, limit)?;
    Some((distance, if distance == 1 { "1 character apart".to_string() } else { format!("{distance} characters apart") }))
}

/// Levenshtein distance, or `None` once it must exceed `limit` (long or unlike
/// names are cut off early, so a hostile list costs little).
fn edit_distance(a: &str, b: &str, limit: usize) -> Option<usize> {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().take(256).collect(), b.chars().take(256).collect());
    if a.len().abs_diff(b.len()) > limit {
        return None;
    }
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            current[j + 1] = (previous[j] + usize::from(ca != cb)).min(previous[j + 1] + 1).min(current[j] + 1);
        }
        if current.iter().min().is_some_and(|&m| m > limit) {
            return None;
        }
        previous = current;
    }
    previous.last().copied().filter(|&d| d <= limit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bindings() -> Vec<Binding> {
        vec![
            Binding::from_item(
                "ClusterRoleBinding",
                &json!({"metadata": {"name": "platform-admins"}, "roleRef": {"kind": "ClusterRole", "name": "cluster-admin"},
                        "subjects": [{"kind": "Group", "name": "platform-admins"}, {"kind": "User", "name": "viewers"}]}),
            )
            .unwrap(),
            Binding::from_item(
                "RoleBinding",
                &json!({"metadata": {"name": "deployers", "namespace": "checkout"}, "roleRef": {"kind": "Role", "name": "deployer"},
                        "subjects": [{"kind": "Group", "name": "checkout-deployers"}, {"kind": "Group", "name": "Ops"}]}),
            )
            .unwrap(),
        ]
    }

    #[test]
    fn bound_groups_name_their_bindings() {
        assert_eq!(
            check("platform-admins", &bindings()),
            GroupCheck::Bound { bindings: vec!["ClusterRoleBinding platform-admins (ClusterRole/cluster-admin)".into()] }
        );
        assert_eq!(
            check("checkout-deployers", &bindings()),
            GroupCheck::Bound { bindings: vec!["RoleBinding checkout/deployers (Role/deployer)".into()] }
        );
        assert_eq!(check("system:masters", &[]), GroupCheck::Privileged);
    }

    #[test]
    fn unbound_groups_get_the_nearest_bound_names() {
        let GroupCheck::Unbound { near, .. } = check("platform-admin", &bindings()) else { panic!() };
        assert_eq!(near, [("platform-admins".to_string(), "1 character apart".to_string())]);
        let GroupCheck::Unbound { near, .. } = check("ops", &bindings()) else { panic!() };
        assert_eq!(near[0], ("Ops".to_string(), "differs only in case".to_string()));
        let GroupCheck::Unbound { near, .. } = check("checkout-deployers ", &bindings()) else { panic!() };
        assert_eq!(near[0].1, "differs only in white space");
        // A User subject is not a group.
        let GroupCheck::Unbound { near, bound_groups } = check("viewers", &bindings()) else { panic!() };
        assert!(near.is_empty());
        assert_eq!(bound_groups, ["Ops", "checkout-deployers", "platform-admins"]);
    }

    #[test]
    fn distance_is_cut_off() {
        assert_eq!(edit_distance("kitten", "sitting", 3), Some(3));
        assert_eq!(edit_distance("kitten", "sitting", 2), None);
        assert_eq!(edit_distance("a", &"b".repeat(1000), 3), None);
        assert!(Binding::from_item("RoleBinding", &json!({"no": "metadata"})).is_none());
    }
}
