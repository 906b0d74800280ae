//! A successful move to API mode: from now on EKS ignores the aws-auth ConfigMap,
//! and the cluster can never go back. Worth telling whoever did it.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::{Fact, Facts, Lookup};
use crate::finding::{Cause, Finding, Severity};

pub static CAUSE: Cause = Cause {
    id: "config-map-retired",
    severity: Severity::Info,
    title: "Cluster moved to API mode: the aws-auth ConfigMap is no longer read",
    docs: util::AUTH_MODE,
    evidence: &[Evidence::CloudTrail],
    needs: &[Fact::AwsAuth],
    diagnose,
};

fn diagnose(event: &Event, facts: &Facts) -> Option<Finding> {
    if util::successful_mode_change(event)? != "API" {
        return None;
    }
    let cluster = event.cluster_or_placeholder();
    let mut finding = Finding::new(
        &CAUSE,
        format!(
            "Cluster {cluster} is moving to authentication mode API. Once the update completes, only access entries \
                 grant access: every mapping left in the aws-auth ConfigMap stops working, and the cluster can never \
                 return to a mode that reads it."
        ),
    )
    .step("Check that every role and user that needs the cluster has an access entry before the update completes.")
    .step("Anyone who loses access must be given an access entry by a principal that still has one.")
    .command(util::list_entries(event))
    .command("kubectl get configmap aws-auth -n kube-system -o yaml")
    .command(util::finish(event, util::aws_eks(event, "list-updates", "--name")));
    finding = match (&facts.aws_auth, super::aws_auth_principal_loses_access::migration(event, facts)) {
        (Lookup::NotChecked, _) => finding.note(
            "The aws-auth mappings were not compared with the access entries: this run had no Kubernetes access (the \
             function's KubernetesAccess option, or `eks-access-doctor preflight` with your credentials, does it).",
        ),
        (Lookup::Found(found), _) if found.config_map.is_none() => {
            finding.note("The cluster has no aws-auth ConfigMap: no mapping is lost.")
        }
        (_, Some(m)) if m.unmatched.is_empty() && m.covered == 0 => {
            finding.note("The aws-auth ConfigMap maps no principal: no mapping is lost.")
        }
        (_, Some(m)) if m.unmatched.is_empty() => {
            finding.note(format!("Every one of the {} aws-auth mapping(s) that grant access has an equivalent access entry.", m.covered))
        }
        _ => finding,
    };
    Some(finding)
}
