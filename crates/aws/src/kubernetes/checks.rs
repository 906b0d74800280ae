//! The on-demand checks of the CLI (`preflight`, `check-groups`), with the
//! caller's own credentials: the same reads and the same pure comparisons as the
//! function's alerts.

use super::ApiReads;
use eks_access_doctor_core::facts::Lookup;
use eks_access_doctor_core::kubernetes::migration::{compare, Target};
use eks_access_doctor_core::kubernetes::rbac::check;
use eks_access_doctor_core::kubernetes::report::{EntryGroups, JudgedGroup, Preflight};
use eks_access_doctor_core::kubernetes::reverse::{reverse, Fate};
use eks_access_doctor_core::kubernetes::Binding;

/// Entries whose groups `check-groups` reads when no principal is named, at most.
const MAX_ENTRIES: usize = 200;

/// Every `aws-auth` mapping with no equivalent access entry.
pub async fn preflight(reads: &ApiReads, region: &str, cluster: &str) -> Result<Preflight, String> {
    let mode = match reads.eks_in(region).describe_cluster().name(cluster).send().await {
        Ok(out) => out.cluster().and_then(|c| c.access_config()).and_then(|a| a.authentication_mode()).map(|m| m.as_str().to_string()),
        Err(e) => return Err(format!("eks:DescribeCluster: {}", super::describe_sdk_error(&e))),
    };
    let facts = match reads.aws_auth(region, cluster).await {
        Lookup::Found(facts) => facts,
        Lookup::Failed(why) => return Err(why),
        other => return Err(format!("aws-auth not read: {other:?}")),
    };
    let migration = facts
        .config_map
        .as_ref()
        .map(|auth| compare(auth, &facts.entries, &facts.role_arns, Target { cluster, region }))
        .unwrap_or_default();
    // The bindings against what produces their groups: read as `check-groups --reverse` reads them.
    let (bindings, bindings_not_checked) = match super::picture::read_state(reads, region, cluster, true, None).await {
        Ok(state) if state.read.entries && state.read.bindings => {
            let judged = reverse(&state, &[]);
            (judged.into_iter().filter(|g| matches!(g.fate, Fate::Dead | Fate::DiesAtApi)).collect(), None)
        }
        Ok(state) => (Vec::new(), Some(state.gaps.join("; "))),
        Err(why) => (Vec::new(), Some(why)),
    };
    Ok(Preflight {
        cluster: cluster.to_string(),
        region: region.to_string(),
        authentication_mode: mode,
        config_map: facts.config_map.is_some(),
        migration,
        bindings,
        bindings_not_checked,
    })
}

/// The groups of the named principals' access entries (every entry when none is
/// named), each checked against the cluster's bindings; the bindings read too.
pub async fn check_groups(
    reads: &ApiReads,
    region: &str,
    cluster: &str,
    principals: &[String],
) -> Result<(Vec<EntryGroups>, Vec<Binding>), String> {
    let bindings = match reads.bindings(region, cluster).await {
        Lookup::Found(bindings) => bindings,
        Lookup::Failed(why) => return Err(why),
        other => return Err(format!("bindings not read: {other:?}")),
    };
    let eks = reads.eks_in(region);
    let principals = if principals.is_empty() {
        let mut all = Vec::new();
        let mut pages = eks.list_access_entries().cluster_name(cluster).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| format!("eks:ListAccessEntries: {}", super::describe_sdk_error(&e)))?;
            all.extend(page.access_entries().iter().cloned());
        }
        all.truncate(MAX_ENTRIES);
        all
    } else {
        principals.to_vec()
    };
    let mut out = Vec::new();
    for principal in principals {
        let entry = eks
            .describe_access_entry()
            .cluster_name(cluster)
            .principal_arn(&principal)
            .send()
            .await
            .map_err(|e| format!("eks:DescribeAccessEntry {principal}: {}", super::describe_sdk_error(&e)))?;
        let groups = entry.access_entry().map(|e| e.kubernetes_groups().to_vec()).unwrap_or_default();
        let groups = groups.into_iter().map(|group| JudgedGroup { check: check(&group, &bindings), group }).collect();
        out.push(EntryGroups { principal_arn: principal, groups });
    }
    Ok((out, bindings))
}
