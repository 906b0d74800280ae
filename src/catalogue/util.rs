//! Small helpers the causes share: shell quoting, `aws eks` command lines, links.

use crate::event::Event;

pub const TROUBLESHOOTING: &str = "https://repost.aws/knowledge-center/eks-troubleshoot-access-entries";
pub const CREATING_ENTRIES: &str = "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html";
pub const AUTH_MODE: &str = "https://docs.aws.amazon.com/eks/latest/userguide/setting-up-access-entries.html";
pub const ACCESS_POLICIES: &str = "https://docs.aws.amazon.com/eks/latest/userguide/access-policies.html";
pub const MIGRATING: &str = "https://docs.aws.amazon.com/eks/latest/userguide/migrating-access-entries.html";

/// Quotes a value for POSIX shells so a hostile username or group name pasted from
/// an alert can never run as a command.
pub fn sh(value: &str) -> String {
    let plain = !value.is_empty() && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./_-".contains(&b));
    if plain {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', r#"'\''"#))
    }
}

/// `FLAG VALUE`, quoted; `FLAG=VALUE` when the value starts with `-`, which a
/// command would otherwise read as an option of its own.
pub fn arg(flag: &str, value: &str) -> String {
    if value.starts_with('-') {
        format!("{flag}={}", sh(value))
    } else {
        format!("{flag} {}", sh(value))
    }
}

/// `aws eks SUBCOMMAND --cluster-name C ... --region R` with quoted values.
/// `args` are (flag, value) pairs; a flag with several values repeats none of it.
pub fn aws_eks(event: &Event, subcommand: &str, cluster_flag: &str, args: &[(&str, &[&str])]) -> String {
    let mut line = format!("aws eks {subcommand} {}", arg(cluster_flag, event.cluster_or_placeholder()));
    for (flag, values) in args {
        line.push(' ');
        match values {
            [] => line.push_str(flag),
            [value] => line.push_str(&arg(flag, value)),
            // A list with a value starting with `-` goes as one JSON argument, which
            // the AWS CLI accepts for lists, so no value can become an option.
            many if many.iter().any(|v| v.starts_with('-')) => {
                line.push_str(&format!("{flag}={}", sh(&serde_json::to_string(many).unwrap_or_default())));
            }
            many => {
                line.push_str(flag);
                for value in *many {
                    line.push(' ');
                    line.push_str(&sh(value));
                }
            }
        }
    }
    if !event.region.is_empty() {
        line.push(' ');
        line.push_str(&arg("--region", &event.region));
    }
    line
}

pub fn describe_auth_mode(event: &Event) -> String {
    aws_eks(event, "describe-cluster", "--name", &[("--query", &["cluster.accessConfig"])])
}

pub fn update_auth_mode(event: &Event, mode: &str) -> String {
    let config = format!("authenticationMode={mode}");
    aws_eks(event, "update-cluster-config", "--name", &[("--access-config", &[&config])])
}

pub fn describe_entry(event: &Event) -> String {
    aws_eks(event, "describe-access-entry", "--cluster-name", &[("--principal-arn", &[event.principal_or_placeholder()])])
}

pub fn list_entries(event: &Event) -> String {
    aws_eks(event, "list-access-entries", "--cluster-name", &[])
}

pub fn list_associated_policies(event: &Event) -> String {
    aws_eks(event, "list-associated-access-policies", "--cluster-name", &[("--principal-arn", &[event.principal_or_placeholder()])])
}

pub fn associate_policy(event: &Event, principal: &str, policy_name: &str, scope: &str) -> String {
    let policy = format!("arn:aws:eks::aws:cluster-access-policy/{policy_name}");
    aws_eks(
        event,
        "associate-access-policy",
        "--cluster-name",
        &[("--principal-arn", &[principal]), ("--policy-arn", &[&policy]), ("--access-scope", &[scope])],
    )
}

/// A `create-access-entry` line; empty optional parts are left out.
pub fn create_entry(event: &Event, principal: &str, entry_type: Option<&str>, username: Option<&str>, groups: &[&str]) -> String {
    let mut args: Vec<(&str, Vec<&str>)> = vec![("--principal-arn", vec![principal])];
    if let Some(t) = entry_type {
        args.push(("--type", vec![t]));
    }
    if let Some(u) = username {
        args.push(("--username", vec![u]));
    }
    if !groups.is_empty() {
        args.push(("--kubernetes-groups", groups.to_vec()));
    }
    let args: Vec<(&str, &[&str])> = args.iter().map(|(f, v)| (*f, v.as_slice())).collect();
    aws_eks(event, "create-access-entry", "--cluster-name", &args)
}

/// The same create or update call as the event, with a corrected username and groups.
pub fn retry_entry(event: &Event, username: Option<&str>, groups: &[&str]) -> String {
    if event.event_name == "UpdateAccessEntry" {
        let mut args: Vec<(&str, Vec<&str>)> = vec![("--principal-arn", vec![event.principal_or_placeholder()])];
        if let Some(u) = username {
            args.push(("--username", vec![u]));
        }
        if !groups.is_empty() {
            args.push(("--kubernetes-groups", groups.to_vec()));
        }
        let args: Vec<(&str, &[&str])> = args.iter().map(|(f, v)| (*f, v.as_slice())).collect();
        aws_eks(event, "update-access-entry", "--cluster-name", &args)
    } else {
        create_entry(event, event.principal_or_placeholder(), event.entry_type(), username, groups)
    }
}

/// The EKS authentication modes in the only order a cluster may move through them.
pub const AUTH_MODES: [&str; 3] = ["CONFIG_MAP", "API_AND_CONFIG_MAP", "API"];

pub fn auth_mode_rank(mode: &str) -> Option<usize> {
    AUTH_MODES.iter().position(|m| m.eq_ignore_ascii_case(mode.trim()))
}

/// The modes a cluster in `mode` can still move to.
pub fn reachable_modes(mode: &str) -> &'static [&'static str] {
    auth_mode_rank(mode).map_or(&[], |rank| &AUTH_MODES[rank + 1..])
}

/// The mode a successful `UpdateClusterConfig` moved the cluster to.
pub fn successful_mode_change(event: &Event) -> Option<&str> {
    (!event.failed() && event.event_name == "UpdateClusterConfig").then(|| event.requested_auth_mode()).flatten()
}

/// Parses "Unsupported authentication mode update from X to Y" in any casing or punctuation.
pub fn auth_mode_update(message: &str) -> Option<(String, String)> {
    let lower = message.to_ascii_lowercase();
    let at = lower.find("authentication mode update from ")?;
    let rest = &message[at + "authentication mode update from ".len()..];
    let mut words = rest.split_whitespace().map(|w| w.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '_'));
    let from = words.next()?.to_string();
    let to = match words.next()? {
        w if w.eq_ignore_ascii_case("to") => words.next()?.to_string(),
        _ => return None,
    };
    Some((from.to_ascii_uppercase(), to.to_ascii_uppercase()))
}

/// True when the lower-cased message contains every fragment: matching on meaning,
/// not one exact string, so rewording, quoting and punctuation do not break it.
/// Fragments are lower case. An ASCII message (every AWS message) is searched in
/// place, without allocating its lower-cased copy once per cause.
pub fn mentions(message: &str, fragments: &[&str]) -> bool {
    if !message.is_ascii() {
        let lower = message.to_lowercase();
        return fragments.iter().all(|f| lower.contains(f));
    }
    fragments.iter().all(|f| contains_ignore_ascii_case(message.as_bytes(), f.as_bytes()))
}

/// Candidates by their first byte in either case (memchr), then the rest compared.
fn contains_ignore_ascii_case(haystack: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else { return true };
    let mut at = 0;
    while let Some(found) = memchr::memchr2(first.to_ascii_lowercase(), first.to_ascii_uppercase(), &haystack[at..]) {
        let start = at + found + 1;
        if haystack.get(start..start + rest.len()).is_some_and(|w| w.eq_ignore_ascii_case(rest)) {
            return true;
        }
        at = start;
    }
    false
}

/// Prefixes EKS reserves for itself in usernames and group names.
pub const RESERVED_PREFIXES: &[&str] = &["system:", "eks:", "aws:", "amazon:", "iam:"];

pub fn reserved_prefix(value: &str) -> Option<&'static str> {
    let lower = value.trim_start().to_ascii_lowercase();
    RESERVED_PREFIXES.iter().copied().find(|p| lower.starts_with(p))
}

/// `role/aws-service-role/...` is where IAM keeps service-linked roles.
pub fn is_service_linked_role_arn(arn: &str) -> bool {
    arn.contains(":role/aws-service-role/")
}

/// The role ARN behind an `sts` assumed-role session ARN, when the path is unknown.
pub fn role_arn_from_session(arn: &str) -> Option<String> {
    let (account, resource) = crate::event::arn_account_and_resource(arn)?;
    let role = resource.strip_prefix("assumed-role/")?.split('/').next()?;
    let partition = arn.split(':').nth(1)?;
    Some(format!("arn:{partition}:iam::{account}:role/{role}"))
}

/// `(account, role name)` for an IAM role ARN, dropping any path.
pub fn arn_role_name(arn: &str) -> Option<(&str, &str)> {
    let (account, resource) = crate::event::arn_account_and_resource(arn)?;
    let path_and_name = resource.strip_prefix("role/")?;
    Some((account, path_and_name.rsplit('/').next()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_ignores_case_in_any_script() {
        assert!(mentions("The Username must NOT begin with system:", &["username", "not begin with"]));
        assert!(mentions("Ünïcode USERNAME", &["username"]));
        assert!(!mentions("user name", &["username"]));
        assert!(mentions("anything", &[""]));
    }

    #[test]
    fn shell_quotes_hostile_values() {
        assert_eq!(sh("prod-eu"), "prod-eu");
        assert_eq!(sh("arn:aws:iam::1:role/x"), "arn:aws:iam::1:role/x");
        assert_eq!(sh("$(rm -rf ~)"), "'$(rm -rf ~)'");
        assert_eq!(sh("it's"), r#"'it'\''s'"#);
        assert_eq!(sh(""), "''");
    }

    #[test]
    fn parses_auth_mode_updates_in_any_wording() {
        let want = Some(("API".to_string(), "CONFIG_MAP".to_string()));
        assert_eq!(auth_mode_update("Unsupported authentication mode update from API to CONFIG_MAP."), want);
        assert_eq!(auth_mode_update("unsupported Authentication Mode update from 'API' to \"CONFIG_MAP\""), want);
        assert_eq!(auth_mode_update("something else"), None);
    }

    #[test]
    fn modes_only_move_forward() {
        assert_eq!(reachable_modes("CONFIG_MAP"), &["API_AND_CONFIG_MAP", "API"]);
        assert!(reachable_modes("API").is_empty());
    }

    #[test]
    fn finds_the_role_behind_a_session() {
        assert_eq!(
            role_arn_from_session("arn:aws:sts::111122223333:assumed-role/Deployer/jdoe").as_deref(),
            Some("arn:aws:iam::111122223333:role/Deployer")
        );
        assert_eq!(role_arn_from_session("arn:aws:iam::1:user/x"), None);
    }
}
