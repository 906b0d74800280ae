//! Authenticator: `error="invalid username 'system:ci' for mapper DynamicFile: username
//! must not begin with with the following prefixes: […]"`: the identity is mapped,
//! but to a username Kubernetes reserves, so the authenticator refuses it.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "authenticator-reserved-username",
    severity: Severity::Error,
    title: "kubectl is Unauthorized: the identity maps to a reserved username",
    docs: util::CREATING_ENTRIES,
    evidence: &[Evidence::Authenticator],
    needs: &[],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source { page: "kubernetes-sigs/aws-iam-authenticator pkg/server/server.go", quote: "return \"\", nil, fmt.Errorf(\"invalid username '%s' for mapper %s: username must not begin with with the following prefixes: %v\", username, m.Name(), m.UsernamePrefixReserveList())" },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html", quote: "It can't start with system:, eks:, aws:, amazon:, or iam:." },
    ],
};

/// The username the line quotes: `invalid username 'NAME' for mapper …`.
fn username(message: &str) -> Option<&str> {
    let (_, rest) = message.split_once("invalid username ")?;
    let rest = rest.strip_prefix('\'').or_else(|| rest.strip_prefix('"'))?;
    rest.split(['\'', '"']).next()
}

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    let message = event.message();
    if !util::mentions(message, &["invalid username", "must not begin with"]) {
        return None;
    }
    let name = username(message).unwrap_or("USERNAME");
    let prefix = crate::access_entry::reserved_prefix(name).unwrap_or("system:");
    let renamed = crate::access_entry::without_reserved_prefix(name).unwrap_or("my-user");
    let principal = event.principal_or_placeholder();
    let from_config_map = util::mentions(message, &["configmap"]);
    let finding = Finding::new(
        &CAUSE,
        format!(
            "{principal} is mapped to the Kubernetes username {name:?}, which starts with {prefix:?}. Usernames may not \
             start with system:, eks:, aws:, amazon: or iam:, so the authenticator refuses the mapping and every \
             request of this identity is Unauthorized."
        ),
    );
    Some(if from_config_map {
        finding
            .step(format!("The mapping is in the aws-auth ConfigMap: change its username to one without the prefix (for example {renamed:?}) and bind that name, or a group, in RBAC."))
            .command("kubectl edit configmap aws-auth -n kube-system")
    } else {
        finding
            .step(format!("The mapping is the access entry's username: set one without the prefix (for example {renamed:?}), and update the RoleBindings that name the old one."))
            .step("For a role, a username with {{SessionName}} needs a colon before it (name:{{SessionName}}).")
            .command(util::describe_entry(event))
            .commands(util::update_entry(event, Some(renamed), &[]))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_quoted_username() {
        let m = "invalid username 'system:ci' for mapper DynamicFile: username must not begin with with the following prefixes: [system:]";
        assert_eq!(super::username(m), Some("system:ci"));
        assert_eq!(super::username("invalid username"), None);
    }
}
