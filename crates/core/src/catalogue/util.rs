//! Small helpers the causes share: `aws eks` command lines, links, wording checks.

use crate::arn::access_policy_arn;
use crate::command::Command;
use crate::event::Event;

pub const TROUBLESHOOTING: &str = "https://repost.aws/knowledge-center/eks-troubleshoot-access-entries";
pub const CREATING_ENTRIES: &str = "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html";
pub const AUTH_MODE: &str = "https://docs.aws.amazon.com/eks/latest/userguide/setting-up-access-entries.html";
pub const ACCESS_POLICIES: &str = "https://docs.aws.amazon.com/eks/latest/userguide/access-policies.html";
pub const MIGRATING: &str = "https://docs.aws.amazon.com/eks/latest/userguide/migrating-access-entries.html";

/// `aws eks SUBCOMMAND CLUSTER_FLAG CLUSTER`: the start of every `aws eks` line;
/// `finish` adds the event's region.
pub fn aws_eks(event: &Event, subcommand: &'static str, cluster_flag: &str) -> Command {
    Command::new("aws eks").literal(subcommand).arg(cluster_flag, event.cluster_or_placeholder())
}

/// The command with the event's region, as advice.
pub fn finish(event: &Event, command: Command) -> String {
    command.region(&event.region).into()
}

/// The ARNs of every access policy EKS offers, in the event's Region.
pub fn list_access_policies(event: &Event) -> String {
    finish(event, Command::new("aws eks list-access-policies").arg("--query", "accessPolicies[].arn"))
}

pub fn describe_auth_mode(event: &Event) -> String {
    finish(event, aws_eks(event, "describe-cluster", "--name").arg("--query", "cluster.accessConfig"))
}

pub fn update_auth_mode(event: &Event, mode: &str) -> String {
    finish(event, aws_eks(event, "update-cluster-config", "--name").arg("--access-config", &format!("authenticationMode={mode}")))
}

pub fn describe_entry(event: &Event) -> String {
    finish(event, aws_eks(event, "describe-access-entry", "--cluster-name").arg("--principal-arn", event.principal_or_placeholder()))
}

pub fn list_entries(event: &Event) -> String {
    finish(event, aws_eks(event, "list-access-entries", "--cluster-name"))
}

pub fn list_associated_policies(event: &Event) -> String {
    finish(
        event,
        aws_eks(event, "list-associated-access-policies", "--cluster-name").arg("--principal-arn", event.principal_or_placeholder()),
    )
}

/// Associates the access policy `policy_name`, written as an ARN in the event's partition.
pub fn associate_policy(event: &Event, principal: &str, policy_name: &str, scope: &str) -> String {
    let policy = access_policy_arn(event.partition(), policy_name);
    let command = aws_eks(event, "associate-access-policy", "--cluster-name")
        .arg("--principal-arn", principal)
        .arg("--policy-arn", &policy)
        .arg("--access-scope", scope);
    finish(event, command)
}

/// A `create-access-entry` line; empty optional parts are left out.
pub fn create_entry(event: &Event, principal: &str, entry_type: Option<&str>, username: Option<&str>, groups: &[&str]) -> String {
    let command = aws_eks(event, "create-access-entry", "--cluster-name")
        .arg("--principal-arn", principal)
        .arg_if("--type", entry_type)
        .arg_if("--username", username)
        .list("--kubernetes-groups", groups);
    finish(event, command)
}

/// An `update-access-entry` that sets a username and/or groups; `None` when there is
/// nothing to set, since such a call would change nothing.
pub fn update_entry(event: &Event, username: Option<&str>, groups: &[&str]) -> Option<String> {
    if username.is_none_or(str::is_empty) && groups.is_empty() {
        return None;
    }
    let command = aws_eks(event, "update-access-entry", "--cluster-name")
        .arg("--principal-arn", event.principal_or_placeholder())
        .arg_if("--username", username)
        .list("--kubernetes-groups", groups);
    Some(finish(event, command))
}

/// The same create or update call as the event, with a corrected username and groups;
/// `None` for an update that would change nothing.
pub fn retry_entry(event: &Event, username: Option<&str>, groups: &[&str]) -> Option<String> {
    if event.event_name == "UpdateAccessEntry" {
        update_entry(event, username, groups)
    } else {
        Some(create_entry(event, event.principal_or_placeholder(), event.entry_type(), username, groups))
    }
}

/// The event's own CreateCluster request again with `access_config` instead of the
/// refused one: every setting the event sent is repeated, so the retry differs only
/// there; what the event does not carry is a placeholder.
pub fn create_cluster_again(event: &Event, access_config: &str) -> String {
    let request = &event.request;
    let json = |value: &serde_json::Value| value.to_string();
    let mut command = aws_eks(event, "create-cluster", "--name")
        .arg_if("--kubernetes-version", request.version.as_deref())
        .arg("--role-arn", request.role_arn.as_deref().unwrap_or("CLUSTER_ROLE_ARN"))
        .arg(
            "--resources-vpc-config",
            &request.resources_vpc_config.as_ref().map_or_else(|| "subnetIds=SUBNET_1,SUBNET_2".to_string(), json),
        )
        .arg("--access-config", access_config);
    if let Some(compute) = &request.compute_config {
        let mut config = serde_json::Map::new();
        config.insert("enabled".into(), compute.enabled.unwrap_or(false).into());
        if let Some(pools) = &compute.node_pools {
            config.insert("nodePools".into(), pools.clone().into());
        }
        if let Some(role) = &compute.node_role_arn {
            config.insert("nodeRoleArn".into(), role.clone().into());
        }
        command = command.arg("--compute-config", &serde_json::Value::Object(config).to_string());
    }
    for (flag, value) in [
        ("--kubernetes-network-config", &request.kubernetes_network_config),
        ("--storage-config", &request.storage_config),
        ("--remote-network-config", &request.remote_network_config),
    ] {
        if let Some(value) = value {
            command = command.arg(flag, &json(value));
        }
    }
    finish(event, command)
}

/// `--access-config` for a CreateCluster retried in `mode`, keeping the request's own
/// choice of admin rights for the creator (EKS's default, true, when it made none).
pub fn access_config_in(event: &Event, mode: &str) -> String {
    let creator_admin = event.request.access_config.as_ref().and_then(|c| c.bootstrap_cluster_creator_admin_permissions).unwrap_or(true);
    format!("authenticationMode={mode},bootstrapClusterCreatorAdminPermissions={creator_admin}")
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
}
