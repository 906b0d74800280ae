//! What a scheduled `audit` found that its last run had not: one finding per new flag
//! of one principal (`kubernetes::audit`, where each flag's source is quoted). The
//! function runs the audit on an EventBridge schedule and sends only the changes, so a
//! team hears of a cross-account entry, a recreated role or a dead group once, when it
//! appears, not at every run.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Reach, Severity, Source};
use crate::kubernetes::audit::Flag;

pub static CAUSE: Cause = Cause {
    id: "audit-flag",
    severity: Severity::Warning,
    title: "The scheduled access audit found something new",
    docs: util::CREATING_ENTRIES,
    evidence: &[Evidence::Audit],
    needs: &[],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html", quote: "If the type is STANDARD, the ARN can be in the same, or different, AWS account than the account that your cluster is in." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html", quote: "Amazon EKS doesn't confirm that any Kubernetes RBAC objects that exist on your cluster include any of the group names that you specify." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/access-policies.html", quote: "If you associate multiple access policies, the access entry's IAM principal has all permissions included in all associated access policies." },
        Source { page: "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html", quote: "If you delete the role and then recreate it, the role has a new principal ID" },
    ],
};

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    let notice = event.audit.as_deref()?;
    let cluster = event.cluster_or_placeholder();
    let principal = notice.principal.as_str();
    let from = notice.sources.join("; ");
    let explanation = format!(
        "New since the last audit of cluster {cluster} (authentication mode {}): {} — {principal} ({}). Its access comes from {from}.",
        notice.authentication_mode,
        notice.flag.title(),
        notice.detail,
    );
    // Entry commands only for a principal that has an access entry: an aws-auth mapping
    // (or a permission set's pattern) is no entry to describe or delete.
    let entry_arn = event.principal_arn.as_deref().filter(|_| notice.sources.iter().any(|s| s.starts_with("access entry")));
    let delete = |arn: &str| util::finish(event, util::aws_eks(event, "delete-access-entry", "--cluster-name").arg("--principal-arn", arn));
    let mut finding = Finding::new(&CAUSE, explanation);
    finding = match notice.flag {
        Flag::CrossAccount => finding
            .step("Confirm that the other account is one of yours and that this principal should reach the cluster; whoever controls that account decides who can assume it.")
            .step("If it should not, delete its access entry, or its line in aws-auth (mapRoles, mapUsers or mapAccounts).")
            .commands(entry_arn.map(|a| vec![util::describe_entry(event), delete(a)]).unwrap_or_default()),
        Flag::CreatorAdmin => finding
            .step("EKS made this entry for whoever created the cluster, with cluster-admin. If that identity should not keep it, first make sure another principal holds cluster-admin (audit shows who does), then disassociate the policy or delete the entry.")
            .commands(entry_arn.map(|a| vec![util::list_associated_policies(event), delete(a)]).unwrap_or_default()),
        Flag::PrincipalDeleted => finding
            .step("The IAM principal is gone, but its entry stays: anyone who creates a principal of that name later inherits its access. Delete the entry.")
            .commands(entry_arn.map(|a| vec![delete(a)]).unwrap_or_default()),
        Flag::PrincipalRecreated => finding
            .step("The principal was created again after its entry was made: the new one holds the old one's access. If that was not meant, delete the entry and create it again deliberately.")
            .commands(entry_arn.map(|a| vec![util::describe_entry(event), delete(a)]).unwrap_or_default()),
        Flag::GrantsNothing => finding
            .step("The entry authenticates its principal and grants nothing: associate an access policy, give it a group that a binding names, or delete it.")
            .commands(entry_arn.map(|_| vec![util::list_associated_policies(event)]).unwrap_or_default()),
        Flag::GroupBoundNowhere => finding
            .step(format!(
                "No RoleBinding or ClusterRoleBinding names the group: bind it, or correct the group name. `eks-access-doctor check-groups --cluster {} --reverse` lists the bound groups and the names near each.",
                crate::command::sh(cluster)
            ))
            .commands(entry_arn.map(|_| vec![util::describe_entry(event)]).unwrap_or_default()),
        // Only a role aws-auth maps to system:nodes is surely a node role: a role EC2 may
        // assume can be a bastion's or a CI runner's, whose STANDARD entry is right.
        Flag::NodeRoleStandard if notice.detail.contains("system:nodes") => finding
            .step("Nodes need an EC2_LINUX or EC2_WINDOWS entry (EC2 for EKS Auto Mode node classes): delete the STANDARD one and create the node type, or its nodes cannot join.")
            .commands(entry_arn.map(|a| vec![delete(a), util::create_entry(event, a, Some("EC2_LINUX"), None, &[])]).unwrap_or_default()),
        Flag::NodeRoleStandard => finding
            .step("If the role is a node role (its instances join the cluster as nodes), its entry must be EC2_LINUX, EC2_WINDOWS or, for EKS Auto Mode node classes, EC2: delete the STANDARD entry and create that type. If people or tools on EC2 use it with kubectl, the STANDARD entry is right and this flag can be left as is: it is sent once.")
            .commands(entry_arn.map(|_| vec![util::describe_entry(event)]).unwrap_or_default()),
        Flag::EntryOverridesAwsAuth => finding
            .step("The cluster reads the access entry first, so the aws-auth mapping of the same principal is ignored. Make the entry say what the mapping meant (groups, username), or remove the mapping.")
            .commands(entry_arn.map(|_| vec![util::describe_entry(event)]).unwrap_or_default()),
    };
    Some(finding)
}
