//! A successful move to `API`: EKS stops reading the `aws-auth` ConfigMap, so every
//! principal mapped there and nowhere else loses access, and the move is one-way.
//! Needs the ConfigMap (Kubernetes API) and the cluster's access entries
//! (`Fact::AwsAuth`); without them `config-map-retired` says it was not checked.

use super::util;
use crate::event::{Event, Evidence};
use crate::facts::{Fact, Facts, Lookup};
use crate::finding::{Cause, Finding, Reach, Severity, Source};
use crate::kubernetes::migration::{compare, Migration, Target};

pub static CAUSE: Cause = Cause {
    id: "aws-auth-principal-loses-access",
    severity: Severity::Error,
    title: "Principals mapped only in aws-auth lose access in API mode",
    docs: util::MIGRATING,
    evidence: &[Evidence::CloudTrail],
    needs: &[Fact::AwsAuth],
    diagnose,
    reach: Reach::Kubernetes { instead: "config-map-retired" },
    sources: &[
        Source {
            page: "https://docs.aws.amazon.com/eks/latest/userguide/hybrid-nodes-cluster-prep.html",
            quote: "There is an Amazon EKS access entry type for hybrid nodes named HYBRID_LINUX that can be used with an IAM role.",
        },
        Source {
            page: "kubernetes-sigs/aws-iam-authenticator README.md",
            quote: "# automatically map IAM ARN from these accounts to username.",
        },
        Source {
            page: "https://docs.aws.amazon.com/eks/latest/userguide/security-iam-troubleshoot.html",
            quote: "The AWS IAM Authenticator doesn't permit a path in the role ARN used in the ConfigMap.",
        },
        Source {
            page: "kubernetes-sigs/aws-iam-authenticator pkg/server/server.go",
            quote: "return \"\", fmt.Errorf(\"SessionName did not contain an instance id\")",
        },
    ],
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
    if !migration.loses_access() {
        return None;
    }
    let cluster = event.cluster_or_placeholder();
    let who = migration
        .unmatched
        .iter()
        .map(|u| format!("{} ({})", u.mapped, u.source))
        .chain(migration.accounts.iter().map(|a| format!("every identity of account {a} (mapAccounts)")))
        .collect::<Vec<_>>()
        .join(", ");
    let mut finding = Finding::new(
        &CAUSE,
        format!(
            "Cluster {cluster} is moving to authentication mode API, and {} aws-auth mapping(s) have no equivalent access \
             entry: {who}. Once the update completes these principals are Unauthorized, and the cluster can never read \
             aws-auth again.",
            migration.unmatched.len() + migration.accounts.len()
        ),
    )
    .step("Create the access entries below now (each command recreates one mapping). Any principal with the IAM permissions eks:CreateAccessEntry and eks:AssociateAccessPolicy can run them: no access to the cluster is needed, also after the switch.");
    for unmatched in &migration.unmatched {
        finding =
            finding.step(format!("{} {}: {}.", unmatched.source, unmatched.mapped, unmatched.why)).commands(unmatched.commands.clone());
        finding = finding.notes(unmatched.notes.iter().map(|n| format!("{}: {n}", unmatched.source)));
    }
    for loss in migration.account_losses() {
        finding = finding.step(format!("{loss}."));
    }
    if migration.covered > 0 {
        finding = finding.step(format!("{} other mapping(s) already have an equivalent access entry.", migration.covered));
    }
    finding = finding.notes(migration.ineffective.iter().map(|i| format!("Grants nothing today, so nothing is lost: {i}")));
    finding = finding.notes(migration.problems.iter().cloned());
    Some(finding.command(util::list_entries(event)))
}
