//! "setting kubernetesGroups is not allowed when the type is "EC2_LINUX"" (and the
//! username variant): EKS names node identities itself.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "node-type-rejects-groups",
    severity: Severity::Error,
    title: "Node access entries take no Kubernetes groups or username",
    docs: util::CREATING_ENTRIES,
    evidence: &[Evidence::CloudTrail],
    needs: &[],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html", quote: "You can't use the --kubernetes-groups option when you specify a type other than STANDARD." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/updating-access-entries.html", quote: "You can't use the --kubernetes-groups option if the type of the access entry is a value other than STANDARD." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html", quote: "If the type of the access entry is STANDARD, you can specify a username for the access entry." },
        Source { page: "terraform-aws-modules/terraform-aws-eks#2896", quote: "Using an EC2_LINUX (or similar) type causes this module to attempt to reset the kuberentes_groups to [] - attempting to remove a system group." },
    ],
};

/// The type a message names: `… when the type is "EC2_LINUX"`.
fn quoted_type(message: &str) -> Option<&str> {
    let (_, rest) = message.split_once("type is ")?;
    let name = rest.trim_start_matches(['"', '\'']).split(['"', '\'', ' ', '.']).next()?;
    crate::access_entry::is_node_type(name).then_some(name)
}

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    let message = event.message();
    let groups = util::mentions(message, &["kubernetesgroups", "not allowed"]);
    let username = util::mentions(message, &["username", "not allowed"]);
    if !groups && !username {
        return None;
    }
    let entry_type = event.entry_type().or_else(|| quoted_type(message)).unwrap_or("EC2_LINUX");
    let field = if groups { "Kubernetes groups" } else { "a username" };
    let finding = Finding::new(
        &CAUSE,
        format!(
            "The {entry_type} entry for {} was given {field}. EKS assigns node identities itself (username \
             system:node:{{{{EC2PrivateDNSName}}}} or system:node:{{{{SessionName}}}}, group system:nodes), so \
             entries of a type other than STANDARD accept neither groups nor a username.",
            event.principal_or_placeholder()
        ),
    );
    // An update met an entry that exists and keeps its type: creating it again would be refused.
    Some(if event.event_name == "UpdateAccessEntry" {
        finding
            .step("The entry itself is fine: stop sending groups and a username for it. In infrastructure code, remove kubernetes_groups and user_name from this node entry (a module that sets them on every apply keeps failing).")
            .step("If this principal also needs extra Kubernetes permissions, it is not a node: give that work its own role with a STANDARD entry.")
            .command(util::describe_entry(event))
    } else {
        finding
            .step("Create the entry again without --kubernetes-groups and --username.")
            .step("If this principal also needs extra Kubernetes permissions, it is not a node: use a STANDARD entry instead.")
            .command(util::create_entry(event, event.principal_or_placeholder(), Some(entry_type), None, &[]))
    })
}
