//! Authenticator: `error="mapper … renderTemplates error: error rendering username
//! template \"system:node:{{EC2PrivateDNSName}}\": …"` (older builds: `failed mapping
//! username: …`). A node identity could not be turned into its Kubernetes username.

use super::util;
use crate::command::Command;
use crate::event::{Event, Evidence};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "node-identity-unmapped",
    severity: Severity::Error,
    title: "A node identity could not be mapped: its username template failed",
    docs: util::CREATING_ENTRIES,
    evidence: &[Evidence::Authenticator],
    needs: &[],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source {
            page: "kubernetes-sigs/aws-iam-authenticator pkg/server/server.go",
            quote: "return \"\", fmt.Errorf(\"SessionName did not contain an instance id\")",
        },
        Source {
            page: "kubernetes-sigs/aws-iam-authenticator pkg/server/server.go",
            quote: "return \"\", nil, fmt.Errorf(\"mapper %s renderTemplates error: %v\", m.Name(), err)",
        },
        Source {
            page: "kubernetes-sigs/aws-iam-authenticator pkg/server/server.go",
            quote: "return \"\", nil, fmt.Errorf(\"error rendering username template %q: %s\", userPattern, err.Error())",
        },
        Source {
            page: "kubernetes-sigs/aws-iam-authenticator pkg/config/types.go",
            quote: "before calling ec2:DescribeInstances to determine the private DNS of the calling kubelet (EC2 Instance).",
        },
    ],
};

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    let message = event.message();
    let template = util::mentions(message, &["rendertemplates error"])
        || util::mentions(message, &["failed mapping username"])
        || util::mentions(message, &["error rendering", "template"]);
    if !template {
        return None;
    }
    let arn = event.principal_or_placeholder();
    let cluster = event.cluster_or_placeholder();
    let finding = if util::mentions(message, &["sessionname did not contain an instance id"]) {
        let role = crate::arn::Arn::parse(arn).and_then(|a| a.principal()).map_or("ROLE_NAME", |p| p.name);
        let role_arn = crate::command::role_arn_by_name(role);
        let describe = util::aws_eks(event, "describe-access-entry", "--cluster-name").arg_from("--principal-arn", &role_arn);
        Finding::new(
            &CAUSE,
            format!(
                "{arn} is mapped as a node (an EC2 access entry, or an aws-auth mapping to system:node:{{{{EC2PrivateDNSName}}}}), \
                 but the session that used it is not an EC2 instance: its session name is not an instance id. On cluster \
                 {cluster}, a person, a CI job or a controller (Karpenter, Crossplane) assumed the node role."
            ),
        )
        .step("Give that user its own role with a STANDARD entry, and stop it assuming the node role (its trust policy): node roles are for instances, and changing the node role's entry would cut off the nodes.")
        .step("Only if the role is not a node role at all (check the entry's type and which instance profiles use it), its entry has the wrong type: delete it and create it again as STANDARD (an entry's type cannot change).")
        .command(util::finish(event, describe))
        .command(Command::new("aws iam list-instance-profiles-for-role").arg("--role-name", role).to_string())
    } else if util::mentions(message, &["unauthorizedoperation"])
        || util::mentions(message, &["not authorized to perform", "ec2:describeinstances"])
    {
        let describe = util::aws_eks(event, "describe-cluster", "--name").literal("--query cluster.roleArn --output text");
        let policy = format!("arn:{}:iam::aws:policy/AmazonEKSClusterPolicy", event.partition());
        Finding::new(
            &CAUSE,
            format!(
                "A node of cluster {cluster} could not join: to name it system:node:{{{{EC2PrivateDNSName}}}}, EKS calls \
                 ec2:DescribeInstances with the cluster's IAM role, and that role may not. Nodes stay NotReady."
            ),
        )
        .step("Attach the AWS managed policy AmazonEKSClusterPolicy to the cluster role (it grants ec2:DescribeInstances), or restore that permission if a policy was narrowed.")
        .command(util::finish(event, describe))
        .command(Command::new("aws iam attach-role-policy").literal("--role-name CLUSTER_ROLE_NAME").arg("--policy-arn", &policy).to_string())
    } else if util::mentions(message, &["invalidinstanceid"]) {
        Finding::new(
            &CAUSE,
            format!(
                "A node of cluster {cluster} could not join: EKS looked up its instance to name it and did not find it. The \
                 instance runs in another account or region than the cluster: node entries (EC2 types) need the nodes' role \
                 and instances in the cluster's own account."
            ),
        )
        .step("Run the nodes in the cluster's account and region, with a node role from that account.")
    } else {
        Finding::new(
            &CAUSE,
            format!("The username or group template of {arn} on cluster {cluster} could not be rendered: {message}."),
        )
        .step("Check the entry's type and the aws-auth mapping of this role: node templates ({{EC2PrivateDNSName}}, {{SessionName}}) only work for EC2 instances' sessions.")
        .command(util::list_entries(event))
    };
    Some(finding)
}
