//! A successful move to API mode: from now on EKS ignores the aws-auth ConfigMap,
//! and the cluster can never go back. Worth telling whoever did it.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::{Fact, Facts, Lookup};
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "config-map-retired",
    severity: Severity::Info,
    title: "Cluster moved to API mode: the aws-auth ConfigMap is no longer read",
    docs: util::AUTH_MODE,
    evidence: &[Evidence::CloudTrail],
    needs: &[Fact::AwsAuth],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/setting-up-access-entries.html", quote: "If you want to disable the ConfigMap method permanently, replace API_AND_CONFIG_MAP with API." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/access-entries.html", quote: "If misconfigurations occur, you can restore cluster access through the Amazon EKS API without requiring direct Kubernetes API access." },
        Source { page: "aws/containers-roadmap#185", quote: "As the long as the Console user has IAM permissions to call EKS access entry APIs, they can give themselves Kubernetes permissions from the Console itself without needing create aws-auth ConfigMap entries anymore." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/access-entries.html", quote: "An IAM principal with the following permissions for your cluster: CreateAccessEntry, ListAccessEntries, DescribeAccessEntry, DeleteAccessEntry, and UpdateAccessEntry." },
    ],
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
    .step("Anyone who loses access can be given an access entry through the EKS API by any principal with the IAM permission eks:CreateAccessEntry: no access to the cluster itself is needed.")
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
        (_, Some(m)) if !m.loses_access() && m.covered == 0 => {
            finding.note("The aws-auth ConfigMap maps no principal: no mapping is lost.")
        }
        (_, Some(m)) if !m.loses_access() => {
            finding.note(format!("Every one of the {} aws-auth mapping(s) that grant access has an equivalent access entry.", m.covered))
        }
        _ => finding,
    };
    Some(finding)
}
