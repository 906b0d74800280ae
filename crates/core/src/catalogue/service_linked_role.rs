//! "The caller is not allowed to modify access entries with a principalArn value of
//! a Service Linked Role": access entries refuse roles under `role/aws-service-role/`.

use super::util;
use crate::command::Command;
use crate::event::{Event, Evidence};
use crate::facts::{Fact, Facts};
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "service-linked-role",
    severity: Severity::Error,
    title: "Access entries do not support service-linked roles",
    docs: util::TROUBLESHOOTING,
    evidence: &[Evidence::CloudTrail],
    needs: &[Fact::Principal, Fact::ClusterAuthMode],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html", quote: "You cannot create access entries where the principal ARN is a service linked role." },
        Source { page: "https://repost.aws/knowledge-center/eks-troubleshoot-access-entries", quote: "To grant service-linked roles access to your cluster, use the CONFIG_MAP or API_AND_CONFIG_MAP authentication mode to specify the service-linked role in the aws-auth ConfigMap." },
        Source { page: "https://docs.aws.amazon.com/emr/latest/EMR-on-EKS-DevelopmentGuide/setting-up-cluster-access.html", quote: "When you create a virtual cluster from an Amazon EKS cluster namespace, Amazon EMR automatically configures all of the necessary permissions, so you don't need to add any extra steps into your current workflows." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/eksctl/emr-access.html", quote: "eksctl provides a command that creates the required RBAC resources for EMR, and updates the aws-auth ConfigMap to bind the role with the SLR for EMR." },
    ],
};

fn diagnose(event: &Event, facts: &Facts) -> Option<Finding> {
    let said_so = util::mentions(event.message(), &["service linked role"]);
    let arn_says_so =
        event.principal().is_some_and(|p| p.is_service_linked()) || facts.principal.found().is_some_and(|p| p.is_service_linked());
    if !(said_so || (event.failed() && arn_says_so)) {
        return None;
    }
    let principal = event.principal_or_placeholder();
    let role = event.principal().filter(|p| p.is_role());
    let role_name = role.map_or("ROLE_NAME", |r| r.name);
    // aws-auth matches role ARNs without their path, in the role's own partition.
    let mapped_arn = role.and_then(|r| r.role_arn_without_path()).unwrap_or_else(|| event.placeholder_role_arn("ROLE_NAME"));
    let mut finding = Finding::new(
        &CAUSE,
        format!(
            "{principal} is a service-linked role (IAM keeps those under role/aws-service-role/), and access entries \
             cannot be created or changed for service-linked roles."
        ),
    )
    .step("If an AWS service integration uses this role (EMR on EKS, for example), let the service set up its access: EMR on EKS creates the access entry it needs when you create its virtual cluster, or, with aws-auth, `eksctl create iamidentitymapping --service-name emr-containers --namespace NAMESPACE` maps it with the RBAC the service needs. Your own code or IaC should not create the entry.")
    .step("Otherwise map the role in the aws-auth ConfigMap (authentication mode CONFIG_MAP or API_AND_CONFIG_MAP), with the role ARN written without its path (role/NAME) and a Kubernetes group that a RoleBinding or ClusterRoleBinding names: a mapping with a username and no group grants nothing unless a binding names that username.")
    .command(util::describe_auth_mode(event))
    .command(
        Command::new("eksctl create iamidentitymapping")
            .arg("--cluster", event.cluster_or_placeholder())
            .region(&event.region)
            .arg("--arn", &mapped_arn)
            .arg("--username", role_name)
            .arg("--group", "GROUP")
            .to_string(),
    );
    if facts.cluster_auth_mode.found().is_some_and(|m| m == "API") {
        finding = finding.note(
            "Live: the cluster is in API mode, which ignores aws-auth and cannot go back: only a service that creates \
             its own access entry (such as EMR on EKS) can give this role access; for your own workloads use a \
             regular IAM role.",
        );
    }
    Some(finding)
}
