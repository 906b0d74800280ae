//! Authenticator: `error="mapper DynamicFile Map error: ARN does not match User ID"`.
//! EKS found an access entry by the caller's unique id, but the entry names another
//! ARN: the principal was renamed, or its entry was written for an older principal.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "identity-arn-mismatch",
    severity: Severity::Error,
    title: "kubectl is Unauthorized: the access entry names another ARN than the caller's",
    docs: util::CREATING_ENTRIES,
    evidence: &[Evidence::Authenticator],
    needs: &[],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source { page: "kubernetes-sigs/aws-iam-authenticator pkg/errutil/errors.go", quote: "var ErrIDAndARNMismatch = errors.New(\"ARN does not match User ID\")" },
        Source { page: "kubernetes-sigs/aws-iam-authenticator pkg/mapper/dynamicfile/mapper.go", quote: "if strippedArn != \"\" && canonicalARN != strings.ToLower(strippedArn) {" },
        Source { page: "kubernetes-sigs/aws-iam-authenticator#660", quote: "Check ARN when mapping based on User ID.  This is necessary because IAM User names/ARNs can change, and without this check, it would be difficult to determine which IAM users currently have access to a cluster." },
    ],
};

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    if !util::mentions(event.message(), &["does not match user id"]) {
        return None;
    }
    let arn = event.principal_or_placeholder();
    Some(
        Finding::new(
            &CAUSE,
            format!(
                "Cluster {} has an access entry holding the unique id of {arn}, but the entry names a different ARN. EKS \
                 stores the principal's id with its entry: after a rename or a new path (an IAM user changed with update-user \
                 --new-user-name or --new-path keeps its id), or an entry written for another principal, the two no \
                 longer agree and the request is refused.",
                event.cluster_or_placeholder()
            ),
        )
        .step("Find the entry whose ARN no longer belongs to this principal (first command) and delete it.")
        .step("Create the entry again for the principal's current ARN, then associate its access policies again.")
        .command(util::list_entries(event))
        .command(util::create_entry(event, arn, None, None, &[])),
    )
}
