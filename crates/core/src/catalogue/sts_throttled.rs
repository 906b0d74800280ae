//! Authenticator: `error="sts getCallerIdentity was throttled: …"`: the token was fine,
//! but STS refused to check it for now.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "sts-throttled",
    severity: Severity::Warning,
    title: "kubectl requests failed while STS throttled the token checks",
    docs: util::TROUBLESHOOTING,
    evidence: &[Evidence::Authenticator],
    needs: &[],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source { page: "kubernetes-sigs/aws-iam-authenticator pkg/server/server.go", quote: "w.WriteHeader(http.StatusTooManyRequests)" },
        Source { page: "kubernetes-sigs/aws-iam-authenticator pkg/token/token.go", quote: "return \"sts getCallerIdentity was throttled: \" + e.message" },
        Source { page: "kubernetes-sigs/aws-iam-authenticator#630", quote: "This PR will return 429 to api-server when authenticator got STS throttling from AWS STS service" },
        Source { page: "kubernetes-sigs/aws-iam-authenticator pkg/token/token.go", quote: "// response body for STS Throttling is {\"Error\":{\"Code\":\"Throttling\",\"Message\":\"Rate exceeded\",\"Type\":\"Sender\"},\"RequestId\":\"xxx\"}" },
    ],
};

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    if !util::mentions(event.message(), &["sts getcalleridentity was throttled"]) {
        return None;
    }
    Some(
        Finding::new(
            &CAUSE,
            format!(
                "Cluster {} could not verify a token because STS throttled GetCallerIdentity: requests failed with \
                 Unauthorized (HTTP 429) though the credentials are fine. Retries succeed once the rate drops.",
                event.cluster_or_placeholder()
            ),
        )
        .step("Find the client that makes new tokens for every request (a controller or script calling aws eks get-token in a loop) and let it reuse each token until its expirationTimestamp.")
        .step("Spread out bursts of kubectl sessions (CI jobs starting together)."),
    )
}
