//! `lookup`: the zero-deployment way in. CloudTrail's event history (LookupEvents,
//! 90 days, no trail needed) is read for `eks.amazonaws.com` and then
//! `eks-auth.amazonaws.com` (one event source per call), region by region, at
//! most `CALLS_PER_SECOND` calls per region (LookupEvents' documented per-account,
//! per-region limit is 2 per second), backing off on throttling, then diagnosed
//! exactly as `replay` would.

use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use aws_sdk_cloudtrail::Client;
use std::time::{Duration, SystemTime};

use eks_access_doctor_core::event::EVENT_SOURCES;
/// Below LookupEvents' limit of 2 calls per second per account and region.
const CALLS_PER_SECOND: u32 = 2;
/// Throttled calls are retried this many times, the wait doubling from `FIRST_BACKOFF`.
const THROTTLE_RETRIES: u32 = 6;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// The most LookupEvents gives per page.
const PAGE_SIZE: i32 = 50;

/// Why a region's history could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{region}: cloudtrail:LookupEvents failed: {message}")]
pub struct LookupError {
    pub region: String,
    pub message: String,
}

/// One recorded event: its region and the CloudTrail record, as the JSON text LookupEvents gives.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub region: String,
    pub record: String,
    pub event_time: Option<SystemTime>,
    pub event_id: Option<String>,
}

/// Every event of every source this tool reads, recorded in `region` between `start`
/// and `end`: one source after the other (LookupEvents takes one attribute per call),
/// so the region's pace holds across both; `progress` is told the running count.
pub async fn region_history(
    client: &Client,
    region: &str,
    start: SystemTime,
    end: SystemTime,
    progress: &(dyn Fn(&str, usize) + Sync),
) -> Result<Vec<Recorded>, LookupError> {
    let mut events = Vec::new();
    for source in EVENT_SOURCES {
        let before = events.len();
        events = region_events(client, region, source, start, end, &|region, n| progress(region, before + n), events).await?;
    }
    Ok(events)
}

/// The events of `source` recorded in `region` between `start` and `end`, page by page,
/// appended to `events`; `progress` is told the running count of this source's after each page.
pub async fn region_events(
    client: &Client,
    region: &str,
    source: &str,
    start: SystemTime,
    end: SystemTime,
    progress: &(dyn Fn(&str, usize) + Sync),
    mut events: Vec<Recorded>,
) -> Result<Vec<Recorded>, LookupError> {
    let attribute = LookupAttribute::builder()
        .attribute_key(LookupAttributeKey::EventSource)
        .attribute_value(source)
        .build()
        .map_err(|e| LookupError { region: region.to_string(), message: e.to_string() })?;
    let first = events.len();
    let mut token: Option<String> = None;
    let interval = Duration::from_secs(1) / CALLS_PER_SECOND;
    loop {
        let mut backoff = FIRST_BACKOFF;
        let mut throttled = 0;
        let page = loop {
            let started = tokio::time::Instant::now();
            let sent = client
                .lookup_events()
                .lookup_attributes(attribute.clone())
                .start_time(start.into())
                .end_time(end.into())
                .max_results(PAGE_SIZE)
                .set_next_token(token.clone())
                .send()
                .await;
            // Pace every call, answered or not, so the region's limit holds.
            tokio::time::sleep_until(started + interval).await;
            match sent {
                Ok(page) => break page,
                Err(e) if super::sdk_error_code(&e) == Some("ThrottlingException") && throttled < THROTTLE_RETRIES => {
                    throttled += 1;
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                }
                Err(e) => return Err(LookupError { region: region.to_string(), message: super::describe_sdk_error(&e) }),
            }
        };
        for event in page.events() {
            let Some(record) = event.cloud_trail_event() else { continue };
            events.push(Recorded {
                region: region.to_string(),
                record: record.to_string(),
                event_time: event.event_time().and_then(|t| SystemTime::try_from(*t).ok()),
                event_id: event.event_id().map(str::to_string),
            });
        }
        progress(region, events.len() - first);
        match page.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_string()),
            _ => break,
        }
    }
    Ok(events)
}

/// Oldest first, as a log reads, and each event once.
pub fn in_order(mut events: Vec<Recorded>) -> Vec<Recorded> {
    events.sort_by(|a, b| (a.event_time, &a.event_id).cmp(&(b.event_time, &b.event_id)));
    events.dedup_by(|a, b| a.event_id.is_some() && a.event_id == b.event_id);
    events
}

/// `30m`, `12h`, `7d` (LookupEvents keeps 90 days).
pub fn parse_since(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().map_err(|_| format!("{text:?}: expected a number and a unit, such as 30m, 12h or 7d"))?;
    let seconds = match unit {
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{text:?}: the unit must be m, h or d (such as 30m, 12h or 7d)")),
    };
    let since = Duration::from_secs(n.saturating_mul(seconds));
    if since.is_zero() || since > Duration::from_secs(90 * 86_400) {
        return Err(format!("{text:?}: must be more than 0 and at most 90d (CloudTrail event history keeps 90 days)"));
    }
    Ok(since)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since() {
        assert_eq!(parse_since("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_since("30m"), Ok(Duration::from_secs(1800)));
        assert!(parse_since("91d").unwrap_err().contains("90d"));
        assert!(parse_since("0h").is_err());
        assert!(parse_since("7w").unwrap_err().contains("unit"));
        assert!(parse_since("d").is_err());
    }

    #[test]
    fn oldest_first_each_once() {
        let at = |s: u64, id: &str| Recorded {
            region: "r".into(),
            record: id.into(),
            event_time: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(s)),
            event_id: Some(id.into()),
        };
        let ids: Vec<String> = in_order(vec![at(3, "c"), at(1, "a"), at(2, "b"), at(1, "a")]).into_iter().map(|e| e.record).collect();
        assert_eq!(ids, ["a", "b", "c"]);
    }
}
