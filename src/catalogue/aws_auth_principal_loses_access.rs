//! A successful move to `API`: EKS stops reading the `aws-auth` ConfigMap, so every
//! principal mapped there and nowhere else loses access, and the move is one-way.
//! Needs the ConfigMap (Kubernetes API) and the cluster's access entries
//! (`Fact::AwsAuth`); without them `config-map-retired` says it was not checked.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::{Fact, Facts, Lookup};
use crate::finding::{Cause, Finding, Severity};
use crate::kubernetes::migration::{compare, Migration, Target};

pub static CAUSE: Cause = Cause {
    id: "aws-auth-principal-loses-access",
    severity: Severity::Error,
    title: "Principals mapped only in aws-auth lose access in API mode",
    docs: util::MIGRATING,
    evidence: &[Evidence::CloudTrail],
    needs: &[Fact::AwsAuth],
    diagnose,
};

/// The comparison for a move to `API`, when the facts are there.
pub(super) fn migration(event: &Event, facts: &Facts) -> Option<Migration> {
    if util::successful_mode_change(event)? != "API" {
        return None;
    }
    let Lookup::Found(found) = &facts.aws_auth else { return None };
    let auth = found.config_map.as_ref()?;
    Some(compare(auth, &found.entries, &found.role_arns, Target { cluster: event.cluster_or_placeholder(), region: &event.region }))
}

fn diagnose(event: &Event, facts: &Facts) -> Option<Finding> {
    let migration = migration(event, facts)?;
    if migration.unmatched.is_empty() {
        return None;
    }
    let cluster = event.cluster_or_placeholder();
    let who = migration.unmatched.iter().map(|u| format!("{} ({})", u.mapped, u.source)).collect::<Vec<_>>().join(", ");
    let mut finding = Finding::new(
        &CAUSE,
        format!(
            "Cluster {cluster} is moving to authentication mode API, and {} aws-auth mapping(s) have no equivalent access \
             entry: {who}. Once the update completes these principals are Unauthorized, and the cluster can never read \
             aws-auth again.",
            migration.unmatched.len()
        ),
    )
    .step("Create the access entries below now, as a principal that still has access (each command recreates one mapping).");
    for unmatched in &migration.unmatched {
        finding =
            finding.step(format!("{} {}: {}.", unmatched.source, unmatched.mapped, unmatched.why)).commands(unmatched.commands.clone());
        finding = finding.notes(unmatched.notes.iter().map(|n| format!("{}: {n}", unmatched.source)));
    }
    if migration.covered > 0 {
        finding = finding.step(format!("{} other mapping(s) already have an equivalent access entry.", migration.covered));
    }
    finding = finding.notes(migration.ineffective.iter().map(|i| format!("Grants nothing today, so nothing is lost: {i}")));
    finding = finding.notes(migration.problems.iter().cloned());
    Some(finding.command(util::list_entries(event)))
}
