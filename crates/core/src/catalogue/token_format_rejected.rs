//! Authenticator: `error="input token was not properly formatted: X-Amz-Date parameter
//! is expired (15 minute expiration) …"` and the other local checks of the token.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "token-format-rejected",
    severity: Severity::Error,
    title: "kubectl is Unauthorized: the token is expired or malformed",
    docs: util::TROUBLESHOOTING,
    evidence: &[Evidence::Authenticator],
    needs: &[],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source { page: "kubernetes-sigs/aws-iam-authenticator pkg/token/token.go", quote: "presignedURLExpiration = 15 * time.Minute" },
        Source { page: "kubernetes-sigs/aws-iam-authenticator pkg/token/token.go", quote: "return nil, FormatError{fmt.Sprintf(\"X-Amz-Date parameter is expired (%.f minute expiration) %s\", presignedURLExpiration.Minutes(), dateParam)}" },
        Source { page: "kubernetes-sigs/aws-iam-authenticator pkg/token/token.go", quote: "return nil, FormatError{fmt.Sprintf(\"client did not sign the %s header in the pre-signed URL\", clusterIDHeader)}" },
        Source { page: "kubernetes-sigs/aws-iam-authenticator#160", quote: "STS presigned urls expire after 15 minutes, and are not configurable, so we refresh tokens after 14 minutes to prevent getting occasional unauthorized responses." },
    ],
};

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    let message = event.message();
    if !util::mentions(message, &["input token was not properly formatted"]) {
        return None;
    }
    let cluster = event.cluster_or_placeholder();
    let finding = if util::mentions(message, &["x-amz-date", "expired"]) {
        Finding::new(
            &CAUSE,
            format!(
                "A kubectl request to cluster {cluster} carried a token signed more than 15 minutes before it arrived: the \
                 token was reused from a cache, or the client's clock is behind."
            ),
        )
        .step("Check the client's clock (timedatectl or chronyc tracking): a clock minutes behind makes every fresh token look old.")
        .step("Do not cache tokens past their expirationTimestamp: let kubectl's exec plugin run aws eks get-token for each session.")
        .command(util::finish(event, util::aws_eks(event, "get-token", "--cluster-name").literal("--query status.expirationTimestamp")))
    } else if util::mentions(message, &["x-k8s-aws-id"]) {
        Finding::new(
            &CAUSE,
            format!(
                "A kubectl request to cluster {cluster} carried a token that does not sign the x-k8s-aws-id header (the \
                 cluster name): an outdated or hand-written token generator made it."
            ),
        )
        .step("Use aws eks get-token (AWS CLI v2) or a current aws-iam-authenticator in the kubeconfig's exec section; update-kubeconfig writes it.")
        .command(util::finish(event, util::aws_eks(event, "update-kubeconfig", "--name")))
    } else {
        Finding::new(
            &CAUSE,
            format!("A kubectl request to cluster {cluster} carried a token the authenticator could not read: {}.", event.message()),
        )
        .step("Regenerate the kubeconfig so kubectl makes tokens with aws eks get-token, and retry.")
        .command(util::finish(event, util::aws_eks(event, "update-kubeconfig", "--name")))
    };
    Some(finding)
}
