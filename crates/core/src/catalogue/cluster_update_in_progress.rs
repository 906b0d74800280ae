//! ResourceInUseException "Cannot AccessConfigUpdate because cluster NAME currently
//! has update UUID in progress": one cluster update at a time.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "cluster-update-in-progress",
    severity: Severity::Warning,
    title: "Another update to the cluster is still in progress",
    docs: util::AUTH_MODE,
    evidence: &[Evidence::CloudTrail],
    needs: &[],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source { page: "aws/aws-cdk#33452", quote: "Cannot AccessConfigUpdate because cluster Cluster9EE0221C-03ee55a59dca41a9b1aff0726f70b824 currently has update 0585fedb-0fa2-3ad0-9916-344273c73c9a in progress" },
        Source { page: "aws-controllers-k8s/community#1192", quote: "ResourceInUseException: Cannot EndpointAccessUpdate because cluster simple-cluster-8g270qljp064wjch4 currently has update 408c0738-828c-42b2-aaa5-38691b63f738 in progress" },
        Source { page: "aws/containers-roadmap#1500", quote: "But while automated update is underway, EKS does not prevent the user from applying another cluster update, which subsequently fails with a ResourceInUseException." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/setting-up-access-entries.html", quote: "Amazon EKS begins to update the cluster, the status of the cluster changes to UPDATING, and the change is recorded in the aws eks list-updates." },
    ],
};

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    if !util::mentions(event.message(), &["has update", "in progress"]) {
        return None;
    }
    let message = event.message();
    let update_id = message.split_once("has update ").and_then(|(_, rest)| rest.split_whitespace().next()).unwrap_or("UPDATE_ID");
    Some(
        Finding::new(
            &CAUSE,
            format!(
                "Cluster {} is still applying update {update_id}, and EKS runs one cluster update at a time.",
                event.cluster_or_placeholder()
            ),
        )
        .step("Wait until the running update reports Successful (or Failed), then retry the same call.")
        .step("In pipelines, wait for each update to finish before starting the next one.")
        .command(util::finish(event, util::aws_eks(event, "describe-update", "--name").arg("--update-id", update_id))),
    )
}
