//! The authenticator log read from CloudWatch Logs for `check-groups --reverse`: the
//! groups of every `access granted` line of the cluster's control-plane log group
//! (`/aws/eks/CLUSTER/cluster`, streams `authenticator-…`, where EKS writes it when the
//! cluster's `authenticator` log type is on) since a moment. Read-only: `logs:FilterLogEvents`.

use crate::describe_sdk_error;
use eks_access_doctor_core::kubernetes::reverse::groups_seen;
use std::time::{SystemTime, UNIX_EPOCH};

/// Pages of FilterLogEvents read at most (10,000 events each): the groups repeat, and a
/// busy cluster's day of lines need not all be read to know them.
const MAX_PAGES: usize = 20;

/// The groups granted since `since`, and whether the pages ran out before the end.
pub async fn granted_groups(
    logs: &aws_sdk_cloudwatchlogs::Client,
    cluster: &str,
    since: SystemTime,
) -> Result<(Vec<String>, bool), String> {
    let start = since.duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
    let mut pages = logs
        .filter_log_events()
        .log_group_name(format!("/aws/eks/{cluster}/cluster"))
        .log_stream_name_prefix("authenticator-")
        .filter_pattern("\"access granted\"")
        .start_time(start)
        .into_paginator()
        .send();
    let mut text = String::new();
    let mut read = 0;
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("logs:FilterLogEvents /aws/eks/{cluster}/cluster: {}", describe_sdk_error(&e)))?;
        for event in page.events() {
            text.push_str(event.message().unwrap_or_default());
            text.push('\n');
        }
        read += 1;
        if read == MAX_PAGES {
            return Ok((groups_seen(&text), true));
        }
    }
    Ok((groups_seen(&text), false))
}
