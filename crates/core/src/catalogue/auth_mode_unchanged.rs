//! "Unsupported authentication mode update from API_AND_CONFIG_MAP to
//! API_AND_CONFIG_MAP": the cluster is already in the requested mode.

use super::util::{self, auth_mode_update};
use crate::event::{Event, Evidence};
use crate::facts::Facts;
use crate::finding::{Cause, Finding, Reach, Severity, Source};

pub static CAUSE: Cause = Cause {
    id: "auth-mode-unchanged",
    severity: Severity::Warning,
    title: "The cluster is already in the requested authentication mode",
    docs: util::AUTH_MODE,
    evidence: &[Evidence::CloudTrail],
    needs: &[],
    diagnose,
    reach: Reach::Event,
    sources: &[
        Source { page: "aws/aws-cdk#31032", quote: "Now trying to deploy again the stack (without any other resources updates) with the new EKS cluster configuration fails with \"Unsupported authentication mode update from API_AND_CONFIG_MAP to API_AND_CONFIG_MAP\", because the actual resources already has the new configuration." },
        Source { page: "aws/aws-cdk#31043", quote: "The cluster resource handler would fail when updating the authMode with exactly the same mode." },
    ],
};

fn diagnose(event: &Event, _facts: &Facts) -> Option<Finding> {
    let (from, to) = auth_mode_update(event.message())?;
    if from != to {
        return None;
    }
    let cluster = event.cluster_or_placeholder();
    Some(
        Finding::new(
            &CAUSE,
            format!(
                "Cluster {cluster} is already in authentication mode {to}, so EKS refused an update that would change \
                 nothing. Infrastructure-as-code tools send this when they re-apply an unchanged access configuration."
            ),
        )
        .step("Nothing on the cluster needs fixing: it is already where the request wanted it.")
        .step("Drop the no-op update from the pipeline (or upgrade the tool that sends it) so future deployments do not fail here.")
        .command(util::describe_auth_mode(event)),
    )
}
