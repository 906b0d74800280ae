//! "The cluster's authentication mode must be set to one of [API,
//! API_AND_CONFIG_MAP] to perform this operation": the cluster is still CONFIG_MAP.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::{Fact, Facts};
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "access-entries-disabled",
    severity: Severity::Error,
    title: "Access entries are off: the cluster is in CONFIG_MAP mode",
    docs: util::AUTH_MODE,
    evidence: &[Evidence::CloudTrail],
    needs: &[Fact::ClusterAuthMode],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source { page: "terraform-aws-modules/terraform-aws-eks#3048", quote: "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/setting-up-access-entries.html", quote: "To begin using access entries, you must change the authentication mode of the cluster to either the API_AND_CONFIG_MAP or API modes." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/grant-k8s-access.html", quote: "Once the access entry method is enabled, it cannot be disabled." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/setting-up-access-entries.html", quote: "Wait for the status of the cluster to return to Active." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/migrating-access-entries.html", quote: "If you don't delete the entry from the ConfigMap, the settings for the access entry for the IAM principal ARN override the ConfigMap entry." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/grant-k8s-access.html", quote: "Note that each method stores separate entries; for example, if you add an access entry from the AWS CLI, the aws-auth ConfigMap is not updated." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html", quote: "If you want this user to have more access to your cluster than the permissions in the Kubernetes API discovery roles, then you need to associate an access policy to the access entry, since the --kubernetes-groups option isn't used." },
        Source { page: "kubernetes-sigs/aws-iam-authenticator pkg/server/server.go", quote: "for _, m := range h.backendMapper.mappers {" },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/grant-k8s-access.html", quote: "If you are using hybrid nodes with your cluster, you must use the API or API_AND_CONFIG_MAP cluster authentication modes." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/hybrid-nodes-cluster-prep.html", quote: "The CONFIG_MAP-only authentication mode is not supported for hybrid nodes-enabled Amazon EKS clusters." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/hybrid-nodes-cluster-prep.html", quote: "There is an Amazon EKS access entry type for hybrid nodes named HYBRID_LINUX that can be used with an IAM role." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/hybrid-nodes-cluster-prep.html", quote: "To use the aws-auth ConfigMap, your cluster must have been created with the API_AND_CONFIG_MAP authentication mode." },
    ],
};

fn diagnose(event: &Event, facts: &Facts) -> Option<Finding> {
    if !util::mentions(event.message(), &["authentication mode must be", "api"]) {
        return None;
    }
    let cluster = event.cluster_or_placeholder();
    let mut finding = Finding::new(
        &CAUSE,
        format!(
            "Cluster {cluster} only reads the aws-auth ConfigMap (authentication mode CONFIG_MAP), so it has no access \
             entries and refuses {}.",
            event.event_name
        ),
    )
    .step("Move the cluster to API_AND_CONFIG_MAP: aws-auth keeps working and access entries are switched on. This cannot be undone (the cluster can never return to CONFIG_MAP).")
    .step("Wait for the update to finish, then retry the call.")
    .step("Or, to stay on CONFIG_MAP, grant access through the aws-auth ConfigMap instead.")
    .command(util::describe_auth_mode(event))
    .command(util::update_auth_mode(event, "API_AND_CONFIG_MAP"));
    if event.event_name == "CreateAccessEntry" {
        let groups: Vec<&str> = event.groups().iter().map(String::as_str).collect();
        finding.commands.extend(util::retry_entry(event, event.request.username.as_deref(), &groups));
        finding = finding.step("If aws-auth already maps this principal, the new entry overrides that mapping as soon as it exists: give the entry the groups the mapping gave (an access policy instead of system:masters) in the same change, or the principal loses them.");
    }
    if event.entry_type().is_some_and(|t| t.eq_ignore_ascii_case("HYBRID_LINUX")) {
        finding = finding.step("Hybrid nodes need authentication mode API or API_AND_CONFIG_MAP and a HYBRID_LINUX entry for their role: CONFIG_MAP is not supported for them.");
    }
    if let Some(mode) = facts.cluster_auth_mode.found() {
        let reachable = util::reachable_modes(mode);
        finding = finding.note(if mode == "CONFIG_MAP" {
            format!("Live: the cluster is in CONFIG_MAP; it can move to {}.", reachable.join(", "))
        } else {
            format!("Live: the cluster is now in {mode}, so access entries work: retry the call.")
        });
    }
    Some(finding)
}
