//! Authenticator: `msg="access denied" arn=… error="ARN is not mapped"` (newer builds:
//! `identity is not mapped`). The caller proved who it is to STS, and the cluster maps
//! that identity to no Kubernetes user: `kubectl` answers `Unauthorized`.

use super::util;
use crate::arn::{Arn, PrincipalKind};
use crate::event::{Event, Evidence};
use crate::facts::{Fact, Facts};
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "identity-not-mapped",
    severity: Severity::Error,
    title: "kubectl is Unauthorized: the caller's IAM identity has no access entry",
    docs: util::CREATING_ENTRIES,
    evidence: &[Evidence::Authenticator],
    needs: &[Fact::ClusterAuthMode, Fact::ClusterEntries, Fact::Principal],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source { page: "kubernetes-sigs/aws-iam-authenticator pkg/errutil/errors.go", quote: "var ErrNotMapped = errors.New(\"identity is not mapped\")" },
        Source { page: "kubernetes-sigs/aws-iam-authenticator pkg/mapper/dynamicfile/mapper.go", quote: "key = identity.UserID" },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html", quote: "Even though you don't see the IAM principal's roleID or userID for an access entry, Amazon EKS stores it with the access entry." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html", quote: "access entry creation and updates are eventually consistent, and may take several seconds to be effective after the initial API call returns successfully." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html", quote: "Similar to standard IAM behavior, access entry creation and updates are eventually consistent, and may take several seconds to be effective after the initial API call returns successfully." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html", quote: "Also, be sure to verify that the changes have been propagated before production workflows depend on them." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/security-iam-troubleshoot.html", quote: "The AWS IAM Authenticator doesn't permit a path in the role ARN used in the ConfigMap." },
    ],
};

fn diagnose(event: &Event, facts: &Facts) -> Option<Finding> {
    if !util::mentions(event.message(), &["is not mapped"]) {
        return None;
    }
    let arn = event.principal_or_placeholder();
    let cluster = event.cluster_or_placeholder();
    let principal = Arn::parse(arn).and_then(|a| a.principal());
    let mut finding = Finding::new(
        &CAUSE,
        format!(
            "{arn} proved its identity to STS, but cluster {cluster} maps it to no Kubernetes user, so every kubectl \
             request it makes is Unauthorized. EKS matches access entries by the principal's ARN and its unique id: \
             there is no entry for this identity."
        ),
    )
    .step(
        "If the entry was created or changed in the last few seconds, wait and try again: access entry creation and \
         updates are eventually consistent and take several seconds to apply.",
    )
    .step(
        "The authenticator logs a role without its path. List the cluster's entries for this name (first command): an entry \
         for the same name in another account, or a user entry whose path differs, never matches.",
    )
    .step(
        "If the aws-auth ConfigMap maps this role (modes CONFIG_MAP and API_AND_CONFIG_MAP), its rolearn must be written \
         without the role's path (arn:…:role/NAME): the authenticator does not permit a path there, and such a mapping \
         never matches.",
    );
    let name = principal.map_or("NAME", |p| p.name);
    let list =
        util::aws_eks(event, "list-access-entries", "--cluster-name").arg("--query", &format!("accessEntries[?contains(@, '{name}')]"));
    finding = finding.command(util::finish(event, list));
    // Delete first, and only when the live entries show an entry for exactly this
    // principal (it holds an earlier principal's id): otherwise there is nothing to delete.
    let recreated = recreated_entry(arn, facts);
    finding = match principal {
        Some(p) if p.kind != PrincipalKind::User => {
            // The real ARN, path included, from IAM: what the entry must name.
            let role_arn = crate::command::role_arn_by_name(p.name);
            let create = util::aws_eks(event, "create-access-entry", "--cluster-name").arg_from("--principal-arn", &role_arn);
            let delete = util::aws_eks(event, "delete-access-entry", "--cluster-name").arg_from("--principal-arn", &role_arn);
            let associate = util::aws_eks(event, "associate-access-policy", "--cluster-name")
                .arg_from("--principal-arn", &role_arn)
                .arg("--policy-arn", &crate::arn::access_policy_arn(event.partition(), "AmazonEKSViewPolicy"))
                .arg("--access-scope", "type=cluster");
            let mut finding = finding
                .step("Create the entry for the role's real ARN, path included (the commands below read it from IAM), then give it permissions with an access policy or Kubernetes groups.")
                .step("If an entry for exactly this role already exists, the role was deleted and created again: the entry still holds the old role's id and never matches the new role. Delete the entry (delete-access-entry), create it again, then associate its policies again.");
            if recreated {
                finding = finding.command(util::finish(event, delete));
            }
            let finding = finding.command(util::finish(event, create)).command(util::finish(event, associate));
            if p.permission_set().is_some() {
                finding.step("This is an IAM Identity Center role: its ARN includes /aws-reserved/sso.amazonaws.com/REGION/, and a new role (with a new id) is created when the permission set is deleted and assigned again.")
            } else {
                finding
            }
        }
        _ => {
            let mut finding = finding
                .step("Create the entry for this principal, then give it permissions with an access policy or Kubernetes groups.")
                .step("If an entry for exactly this user already exists, the user was deleted and created again: delete the entry (delete-access-entry) and create it again.");
            if recreated {
                let delete = util::aws_eks(event, "delete-access-entry", "--cluster-name").arg("--principal-arn", arn);
                finding = finding.command(util::finish(event, delete));
            }
            finding.command(util::create_entry(event, arn, None, None, &[])).command(util::associate_policy(
                event,
                arn,
                "AmazonEKSViewPolicy",
                "type=cluster",
            ))
        }
    };
    if let Some(note) = entries_note(arn, facts) {
        finding = finding.note(note);
    }
    finding = finding.note(match facts.cluster_auth_mode.found().map(String::as_str) {
        Some("API") => "Live: the cluster is in API mode: access entries are the only way in.".to_string(),
        Some(mode) => format!(
            "Live: the cluster is in {mode}: an aws-auth ConfigMap mapping could also grant this identity; it was not checked (it needs Kubernetes API access)."
        ),
        None => "In CONFIG_MAP or API_AND_CONFIG_MAP mode an aws-auth ConfigMap mapping could also grant this identity; it was not checked.".to_string(),
    });
    Some(finding)
}

/// What the cluster's entries say about this identity: an entry for exactly its ARN
/// (so the entry holds an earlier principal's id), entries for the same name under
/// other ARNs (which never match), or none.
fn entries_note(logged: &str, facts: &Facts) -> Option<String> {
    let entries = facts.cluster_entries.found()?;
    let iam = facts.principal.found();
    let real = real_arn(logged, facts);
    let name = |arn: &str| Arn::parse(arn).and_then(|a| a.principal()).map(|p| p.name.to_ascii_lowercase());
    let wanted = name(real)?;
    if recreated_entry(logged, facts) {
        let created = iam
            .map(|p| {
                format!(
                    " (IAM created the current one {}, id {})",
                    p.created.as_deref().unwrap_or("at an unknown time"),
                    p.id.as_deref().unwrap_or("unknown")
                )
            })
            .unwrap_or_default();
        return Some(format!(
            "Live: the cluster has an entry for exactly {real}, yet the identity is not mapped: the entry holds the id of an earlier principal of that name, deleted and created again{created}. Delete the entry and create it again (commands above)."
        ));
    }
    let siblings: Vec<&str> = entries.iter().filter(|e| name(e).as_deref() == Some(wanted.as_str())).map(String::as_str).collect();
    Some(if siblings.is_empty() {
        // ListAccessEntries is read up to a bound: past it, "none" is only "none seen".
        let read = if entries.len() >= MANY_ENTRIES { "first " } else { "" };
        format!("Live: none of the cluster's {read}{} access entries is for {real} or another principal of that name.", entries.len())
    } else {
        format!(
            "Live: the cluster has entries for the same name under other ARNs, which never match {real}: {}. Create the entry for {real} and delete the stale one.",
            siblings.join(", ")
        )
    })
}

/// From this many entries on, the listing may have stopped at its bound.
const MANY_ENTRIES: usize = 1000;

/// The principal's ARN as IAM has it (path included), else as the authenticator logged it.
fn real_arn<'a>(logged: &'a str, facts: &'a Facts) -> &'a str {
    facts.principal.found().and_then(|p| p.arn.as_deref()).unwrap_or(logged)
}

/// The live entries include one for exactly this principal.
fn recreated_entry(logged: &str, facts: &Facts) -> bool {
    let real = real_arn(logged, facts);
    facts.cluster_entries.found().is_some_and(|entries| entries.iter().any(|e| e == real))
}
