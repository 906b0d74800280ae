//! Authenticator: `error="sts getCallerIdentity failed: error during GET: … dial tcp …:
//! i/o timeout"`: the control plane could not reach STS to check the token, so the
//! caller's credentials were never judged.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "sts-unreachable",
    severity: Severity::Warning,
    title: "kubectl is Unauthorized because the cluster could not reach STS",
    docs: util::TROUBLESHOOTING,
    evidence: &[Evidence::Authenticator],
    needs: &[],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source {
            page: "kubernetes-sigs/aws-iam-authenticator pkg/token/token.go",
            quote: "return nil, NewSTSError(fmt.Sprintf(\"error during GET: %v on %s endpoint\", urlErr.Err, stsRegion))",
        },
        Source {
            page: "kubernetes-sigs/aws-iam-authenticator pkg/token/token.go",
            quote: "return \"sts getCallerIdentity failed: \" + e.message",
        },
        Source {
            page: "kubernetes-sigs/aws-iam-authenticator pkg/metrics/metrics.go",
            quote: "Help:      \"Sts call could not succeed or timedout\",",
        },
        Source {
            page: "kubernetes-sigs/aws-iam-authenticator pkg/server/server.go",
            quote: "} else if _, ok := err.(token.STSError); ok {",
        },
    ],
};

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    if !util::mentions(event.message(), &["error during get"]) {
        return None;
    }
    Some(
        Finding::new(
            &CAUSE,
            format!(
                "Cluster {}'s authenticator could not reach STS to check a token (the request failed before STS \
                 answered, for example a dial timeout). The caller's credentials were never judged: refreshing them \
                 changes nothing.",
                event.cluster_or_placeholder()
            ),
        )
        .step("Retry: a passing network or STS endpoint problem clears by itself.")
        .step("If it persists, check the AWS Health Dashboard for STS and EKS in the cluster's Region, and open a support case with the cluster name and the time: the authenticator runs in the EKS control plane, outside your VPC.")
        .command(util::describe_auth_mode(event)),
    )
}
