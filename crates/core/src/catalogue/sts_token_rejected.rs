//! Authenticator: `error="sts getCallerIdentity failed: error from AWS (expected 200,
//! got 403). Body: {"Error":{"Code":"InvalidClientTokenId",…}}"`. STS refused the
//! presigned request inside the kubectl token, so the caller's identity is unknown.

use super::util;
use crate::command::Command;
use crate::event::{Event, Evidence};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "sts-token-rejected",
    severity: Severity::Error,
    title: "kubectl is Unauthorized: STS rejected the token's credentials",
    docs: util::TROUBLESHOOTING,
    evidence: &[Evidence::Authenticator],
    needs: &[],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source { page: "kubernetes-sigs/aws-iam-authenticator pkg/token/token.go", quote: "return nil, NewSTSError(fmt.Sprintf(\"error from AWS (expected 200, got %d) on %s endpoint. Body: %s\", response.StatusCode, stsRegion, responseStr))" },
        Source { page: "kubernetes-sigs/aws-iam-authenticator#130", quote: "Ok, I figured out the issue, I was using the wrong ClusterID in the configmap." },
        Source { page: "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_enable-regions.html", quote: "Session tokens from Regional AWS STS endpoints are valid in all AWS Regions. Session tokens from the global STS endpoint are valid only in AWS Regions that are enabled by default." },
        Source { page: "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_enable-regions.html", quote: "If you choose to use the global endpoint, you must change the Region compatibility of AWS STS session tokens for the global endpoint." },
    ],
};

/// The STS error code inside the logged response body (`"Code":"X"`, quotes possibly escaped).
pub fn sts_code(message: &str) -> Option<&str> {
    let after = &message[message.find("Code")? + "Code".len()..];
    let code = after.trim_start_matches(['\\', '"', ':', ' ']);
    let end = code.find(|c: char| !c.is_ascii_alphanumeric() && c != '.').unwrap_or(code.len());
    Some(&code[..end]).filter(|c| !c.is_empty())
}

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    let message = event.message();
    // A request that never reached STS is `sts-unreachable`, not a rejection.
    if !util::mentions(message, &["sts getcalleridentity failed"]) || util::mentions(message, &["error during get"]) {
        return None;
    }
    let cluster = event.cluster_or_placeholder();
    let code = sts_code(message);
    let (why, steps): (String, &[&str]) = match code {
        Some("InvalidClientTokenId") => (
            "the access key that signed the token is not valid: deleted or deactivated, or, in a Region that is not enabled by default, a session token from the global STS endpoint, which is valid only in the Regions enabled by default".to_string(),
            &[
                "Check the credentials kubectl uses (its exec plugin runs aws eks get-token with your profile): aws sts get-caller-identity must work with them.",
                "Rotate the access key if it was deleted or deactivated.",
                "If the cluster is in an opt-in Region and the credentials are a session from the global endpoint (sts.amazonaws.com), get them from the Regional STS endpoint instead (AWS_STS_REGIONAL_ENDPOINTS=regional, or the SDK's sts_regional_endpoints setting), or set the global endpoint's session tokens to be valid in all Regions (IAM account settings, Security Token Service).",
            ],
        ),
        Some("SignatureDoesNotMatch") => (
            "the signature does not match: most often the token was made for another cluster name (the x-k8s-aws-id header it signs), or signed with a wrong secret key or a clock far off".to_string(),
            &[
                "Make kubectl ask for a token for this exact cluster: update the kubeconfig (command below) so its exec arguments name the cluster as EKS knows it.",
                "Check the secret access key of the profile in use, and the client's clock.",
            ],
        ),
        Some("ExpiredToken") => (
            "the session credentials that signed the token had expired".to_string(),
            &["Refresh the session (aws sso login, or assume the role again) and retry: kubectl's exec plugin makes a new token each time."],
        ),
        Some(other) => (
            format!("STS answered {other}"),
            &["Check the credentials kubectl uses with aws sts get-caller-identity, and refresh them."],
        ),
        None => (
            "STS answered 403 (this authenticator version does not log the reason)".to_string(),
            &[
                "Check the credentials kubectl uses with aws sts get-caller-identity, and refresh them.",
                "Make kubectl ask for a token for this exact cluster: update the kubeconfig (command below).",
            ],
        ),
    };
    let mut finding = Finding::new(
        &CAUSE,
        format!(
            "A kubectl request to cluster {cluster} carried a token that STS rejected: {why}. EKS could not tell who made \
             the request, so it is Unauthorized before any access entry is consulted."
        ),
    );
    for step in steps {
        finding = finding.step(*step);
    }
    Some(
        finding
            .command(Command::new("aws sts get-caller-identity").to_string())
            .command(util::finish(event, util::aws_eks(event, "update-kubeconfig", "--name"))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_sts_code_escaped_or_not() {
        assert_eq!(sts_code(r#"Body: {\"Error\":{\"Code\":\"InvalidClientTokenId\",\"Message\""#), Some("InvalidClientTokenId"));
        assert_eq!(sts_code(r#"Body: {"Error":{"Code":"SignatureDoesNotMatch","Message""#), Some("SignatureDoesNotMatch"));
        assert_eq!(sts_code("error from AWS (expected 200, got 403)"), None);
    }
}
