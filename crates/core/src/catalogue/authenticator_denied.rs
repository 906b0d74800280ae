//! The fallback for authenticator denials no documented cause explains: a denial is
//! never silent.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "authenticator-denied",
    severity: Severity::Warning,
    title: "kubectl is Unauthorized for a reason not in the catalogue",
    docs: util::TROUBLESHOOTING,
    evidence: &[Evidence::Authenticator],
    needs: &[],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source { page: "kubernetes-sigs/aws-iam-authenticator pkg/server/server.go", quote: "return \"\", nil, fmt.Errorf(\"invalid username '%s' for mapper %s: username must not begin with with the following prefixes: %v\", username, m.Name(), m.UsernamePrefixReserveList())" },
        Source { page: "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html", quote: "It can't start with system:, eks:, aws:, amazon:, or iam:." },
    ],
};

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    // A granted line is checked (group-not-bound), never warned about.
    if !event.failed() {
        return None;
    }
    let error = event.error_message.as_deref().unwrap_or("(no error logged)");
    Some(
        Finding::new(
            &CAUSE,
            format!(
                "Cluster {} refused a kubectl request from {}: the authenticator logged {error:?}. No documented cause \
                 matches this error.",
                event.cluster_or_placeholder(),
                event.caller.as_deref().unwrap_or("an unknown caller")
            ),
        )
        .step("Read the authenticator's error above; it names the step that failed (token, STS, mapping).")
        .step("Compare with the AWS troubleshooting article (docs link).")
        .command(util::list_entries(event)),
    )
}
