//! "Unsupported authentication mode update from API to CONFIG_MAP": a cluster's
//! authentication mode only moves forward (CONFIG_MAP → API_AND_CONFIG_MAP → API).

use super::util::{self, auth_mode_rank, auth_mode_update, reachable_modes};
use crate::event::{Event, Evidence};
use crate::facts::{Fact, Facts};
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "auth-mode-irreversible",
    severity: Severity::Error,
    title: "Authentication mode changes cannot be reversed",
    docs: util::TROUBLESHOOTING,
    evidence: &[Evidence::CloudTrail],
    needs: &[Fact::ClusterAuthMode],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source { page: "https://repost.aws/knowledge-center/eks-troubleshoot-access-entries", quote: "When you set the authentication mode, you can't reverse the operation. For example, after you change the mode to API, you can't return to CONFIG_MAP or API_AND_CONFIG_MAP." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/grant-k8s-access.html", quote: "Once the access entry method is enabled, it cannot be disabled." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/setting-up-access-entries.html", quote: "If you want to disable the ConfigMap method permanently, replace API_AND_CONFIG_MAP with API." },
        Source { page: "pulumi/pulumi-aws#4789", quote: "Other transitions are not allowed by AWS and require tearing the cluster down before recreating it." },
    ],
};

fn diagnose(event: &Event, facts: &Facts) -> Option<Finding> {
    let (from, to) = auth_mode_update(event.message())?;
    if auth_mode_rank(&to)? >= auth_mode_rank(&from)? {
        return None;
    }
    let cluster = event.cluster_or_placeholder();
    let mut finding = Finding::new(
        &CAUSE,
        format!(
            "Cluster {cluster} uses authentication mode {from}, and the request asked to go back to {to}. \
             EKS only moves clusters forward (CONFIG_MAP → API_AND_CONFIG_MAP → API); once a cluster has \
             left a mode it can never return to it."
        ),
    )
    .step(format!("Keep the cluster in {from}: no API call, console action or support case can move it back to {to}."))
    .step(format!(
        "If a tool (Terraform, CloudFormation, CDK, eksctl) sent this request, set its authentication mode to {from} \
         so it stops trying to revert the cluster."
    ));
    if to.contains("CONFIG_MAP") && from == "API" {
        finding = finding.step(
            "The aws-auth ConfigMap is not read in API mode: grant each mapped role or user an access entry instead \
             (create-access-entry, then associate-access-policy or Kubernetes groups).",
        );
    }
    finding = finding
        .step(format!("If the cluster truly must use {to}, create a new cluster in that mode and move workloads to it."))
        .command(util::describe_auth_mode(event))
        .command(util::list_entries(event));
    if let Some(current) = facts.cluster_auth_mode.found() {
        let reachable = reachable_modes(current);
        let onward = if reachable.is_empty() { "nothing: this is the final mode".to_string() } else { reachable.join(", ") };
        finding = finding.note(format!("Live: the cluster is now in {current}; it can still move to {onward}."));
    }
    Some(finding)
}
