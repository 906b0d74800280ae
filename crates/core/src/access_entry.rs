//! What EKS accepts in an access entry: its types and what each admits, and the
//! prefixes its names may not start with. The one place every cause and the migration
//! report read them from.

/// The node types: machines that authenticate with an IAM role of the cluster's own
/// account and get their Kubernetes identity from EKS (no groups, no username).
pub const NODE_TYPES: &[&str] = &["EC2_LINUX", "EC2_WINDOWS", "FARGATE_LINUX", "HYBRID_LINUX", "HYPERPOD_LINUX", "EC2"];

pub fn is_node_type(entry_type: &str) -> bool {
    NODE_TYPES.iter().any(|t| t.eq_ignore_ascii_case(entry_type.trim()))
}

/// The node types as a list for prose: "EC2_LINUX, EC2_WINDOWS, …".
pub fn node_types_listed() -> String {
    NODE_TYPES.join(", ")
}

/// The access policy a node type needs: an Auto Mode node role's `EC2` entry takes
/// `AmazonEKSAutoNodePolicy`; every other node type takes none.
pub fn node_policy(entry_type: &str) -> Option<&'static str> {
    entry_type.trim().eq_ignore_ascii_case("EC2").then_some("AmazonEKSAutoNodePolicy")
}

/// Prefixes EKS reserves for itself in usernames and group names.
pub const RESERVED_PREFIXES: &[&str] = &["system:", "eks:", "aws:", "amazon:", "iam:"];

pub fn reserved_prefix(value: &str) -> Option<&'static str> {
    let lower = value.trim_start().to_ascii_lowercase();
    RESERVED_PREFIXES.iter().copied().find(|p| lower.starts_with(p))
}

/// `value` without the reserved prefix it starts with, when something is left: the
/// name the advice suggests instead (`system:admin-jdoe` becomes `admin-jdoe`).
pub fn without_reserved_prefix(value: &str) -> Option<&str> {
    let prefix = reserved_prefix(value)?;
    value.trim_start().get(prefix.len()..).filter(|rest| !rest.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reserved_prefix_is_found_in_any_case_and_what_is_left_is_suggested() {
        assert_eq!(reserved_prefix(" System:admin"), Some("system:"));
        assert_eq!(without_reserved_prefix(" System:admin"), Some("admin"));
        assert_eq!(without_reserved_prefix("eks:"), None);
        assert_eq!(without_reserved_prefix("USERNAME"), None);
        assert_eq!(reserved_prefix("ops:admin"), None);
    }

    #[test]
    fn node_types_and_their_policies() {
        assert!(is_node_type("hybrid_linux") && is_node_type("HYPERPOD_LINUX") && is_node_type("EC2"));
        assert!(!is_node_type("STANDARD"));
        assert_eq!(node_policy("EC2"), Some("AmazonEKSAutoNodePolicy"));
        assert_eq!(node_policy("EC2_LINUX"), None);
    }
}
