//! "At least 1 namespace must be provided if the type is set as namespace" and
//! "accessScope should not include namespaces if the type is not set as namespace".

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "access-scope-namespaces",
    severity: Severity::Error,
    title: "The access scope's type and namespaces do not agree",
    docs: util::ACCESS_POLICIES,
    evidence: &[Evidence::CloudTrail],
    needs: &[],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/access-policies.html", quote: "You can use wildcard characters for a namespace name." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/access-policies.html", quote: "Amazon EKS doesn't confirm the spelling or existence of the namespaces on your cluster." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/access-policies.html", quote: "If you later want to change the scope of an associated access policy, run the previous command again with the new scope." },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/access-policies.html", quote: "If you want the IAM principal to have the permissions cluster-wide, replace type=namespace,namespaces=my-namespace1,my-namespace2 with type=cluster." },
    ],
};

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    let message = event.message();
    let missing = util::mentions(message, &["namespace must be provided"]);
    let extra = util::mentions(message, &["should not include namespaces"]);
    if !missing && !extra {
        return None;
    }
    let policy = event.request.policy_arn.as_deref().unwrap_or("AmazonEKSViewPolicy");
    let policy_name = policy.rsplit('/').next().unwrap_or(policy);
    let principal = event.principal_or_placeholder();
    let (explanation, scope) = if missing {
        (
            "The access scope has type namespace but lists no namespaces. A namespace scope needs at least one namespace (wildcards such as dev-* are allowed).",
            "type=namespace,namespaces=NAMESPACE",
        )
    } else {
        ("The access scope lists namespaces but its type is cluster. Namespaces belong only to a namespace scope.", "type=cluster")
    };
    Some(
        Finding::new(&CAUSE, explanation)
            .step(if missing {
                "Name the namespaces the policy should cover."
            } else {
                "Drop the namespaces for a cluster-wide grant, or set the type to namespace to limit it."
            })
            .step("EKS does not check that the namespaces exist, so check their spelling.")
            .command(util::associate_policy(event, principal, policy_name, scope)),
    )
}
