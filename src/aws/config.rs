//! The function's settings, read once at init from the environment. Pure: takes a
//! lookup function so tests pass plain maps.

use crate::finding::Severity;
use crate::render::sns::MessageFormat;
use std::time::Duration;

/// Where the Slack webhook URL comes from. The URL is a secret: it is never logged.
#[derive(Clone, PartialEq)]
pub enum SlackWebhook {
    /// A Secrets Manager secret (ARN or name) holding the URL, fetched once at init.
    Secret(String),
    /// The URL itself, for local runs (`cargo lambda watch`) and tests.
    Url(String),
}

impl std::fmt::Debug for SlackWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SlackWebhook::Secret(id) => write!(f, "Secret({id})"),
            SlackWebhook::Url(_) => f.write_str("Url(<redacted>)"),
        }
    }
}

/// A setting the function cannot start with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("no alert destination: set SNS_TOPIC_ARN and/or SLACK_WEBHOOK_SECRET_ARN (or SLACK_WEBHOOK_URL for local runs)")]
    NoDestination,
    #[error("MIN_SEVERITY: {0}")]
    MinSeverity(String),
    #[error("ENRICHMENT_TIMEOUT_MS: {0:?} is not a whole number of milliseconds")]
    EnrichmentTimeout(String),
    #[error("FLOOD_WINDOW_SECONDS: {0:?} is not a whole number of seconds")]
    FloodWindow(String),
    #[error("SNS_MESSAGE_FORMAT: {0}")]
    SnsMessageFormat(String),
    #[error("MUTE_CAUSES: {0:?} is not a cause id (eks-access-doctor causes lists them)")]
    MuteCauses(String),
    #[error("SECOND_LOOK_DELAY_SECONDS: {0:?} is not a whole number of seconds from 0 to 900 (SQS's longest delay)")]
    SecondLookDelay(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub sns_topic_arn: Option<String>,
    /// The body of SNS messages: plain text, or the AWS Chatbot custom notification.
    pub sns_message_format: MessageFormat,
    pub slack: Option<SlackWebhook>,
    pub min_severity: Severity,
    pub include_clusters: Vec<String>,
    pub exclude_clusters: Vec<String>,
    pub enrichment_budget: Duration,
    pub idempotency_table: Option<String>,
    /// One alert per cause, cluster and principal per window (`FLOOD_WINDOW_SECONDS`).
    pub flood_window: Duration,
    /// Cause ids never sent (`MUTE_CAUSES`), e.g. a risky-call check a team does not want.
    pub muted: Vec<&'static str>,
    /// The SQS delay queue for second looks (`SECOND_LOOK_QUEUE_URL`); without it,
    /// entries that grant nothing are not checked.
    pub second_look_queue: Option<String>,
    /// How long after its creation an entry is looked at again (`SECOND_LOOK_DELAY_SECONDS`).
    pub second_look_delay: u32,
}

impl Settings {
    /// Reads `SNS_TOPIC_ARN`, `SNS_MESSAGE_FORMAT`, `SLACK_WEBHOOK_SECRET_ARN` /
    /// `SLACK_WEBHOOK_URL`, `MIN_SEVERITY`, `INCLUDE_CLUSTERS`, `EXCLUDE_CLUSTERS`,
    /// `ENRICHMENT_TIMEOUT_MS`, `IDEMPOTENCY_TABLE`, `FLOOD_WINDOW_SECONDS`, `MUTE_CAUSES`,
    /// `SECOND_LOOK_QUEUE_URL`, `SECOND_LOOK_DELAY_SECONDS`. Fails when no sink is
    /// configured: an alerting function that cannot alert must not start.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Settings, ConfigError> {
        let non_empty = |name: &str| get(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let slack = non_empty("SLACK_WEBHOOK_SECRET_ARN")
            .map(SlackWebhook::Secret)
            .or_else(|| non_empty("SLACK_WEBHOOK_URL").map(SlackWebhook::Url));
        let sns_topic_arn = non_empty("SNS_TOPIC_ARN");
        if sns_topic_arn.is_none() && slack.is_none() {
            return Err(ConfigError::NoDestination);
        }
        let sns_message_format = match non_empty("SNS_MESSAGE_FORMAT") {
            Some(v) => v.parse().map_err(ConfigError::SnsMessageFormat)?,
            None => MessageFormat::Text,
        };
        let min_severity = match non_empty("MIN_SEVERITY") {
            Some(v) => v.parse().map_err(ConfigError::MinSeverity)?,
            None => Severity::Info,
        };
        let millis = match non_empty("ENRICHMENT_TIMEOUT_MS") {
            Some(v) => v.parse::<u64>().map_err(|_| ConfigError::EnrichmentTimeout(v.clone()))?,
            None => 1500,
        };
        let flood_window = match non_empty("FLOOD_WINDOW_SECONDS") {
            Some(v) => Duration::from_secs(v.parse::<u64>().map_err(|_| ConfigError::FloodWindow(v.clone()))?),
            None => Duration::from_secs(900),
        };
        let list = |name: &str| -> Vec<String> {
            non_empty(name).map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()).unwrap_or_default()
        };
        let muted = list("MUTE_CAUSES")
            .into_iter()
            .map(|id| crate::catalogue::all_causes().find(|c| c.id == id).map(|c| c.id).ok_or(ConfigError::MuteCauses(id)))
            .collect::<Result<Vec<_>, _>>()?;
        let second_look_delay = match non_empty("SECOND_LOOK_DELAY_SECONDS") {
            Some(v) => v.parse::<u32>().ok().filter(|d| *d <= 900).ok_or(ConfigError::SecondLookDelay(v))?,
            None => 300,
        };
        Ok(Settings {
            sns_topic_arn,
            sns_message_format,
            slack,
            min_severity,
            include_clusters: list("INCLUDE_CLUSTERS"),
            exclude_clusters: list("EXCLUDE_CLUSTERS"),
            enrichment_budget: Duration::from_millis(millis),
            idempotency_table: non_empty("IDEMPOTENCY_TABLE"),
            flood_window,
            muted,
            second_look_queue: non_empty("SECOND_LOOK_QUEUE_URL"),
            second_look_delay,
        })
    }

    pub fn from_env() -> Result<Settings, ConfigError> {
        Settings::from_lookup(|name| std::env::var(name).ok())
    }

    /// Whether a finding is sent: not muted, and at or above `MIN_SEVERITY`.
    pub fn wants(&self, finding: &crate::finding::Finding) -> bool {
        finding.severity() >= self.min_severity && !self.muted.contains(&finding.cause.id)
    }

    /// Whether alerts for this cluster are wanted. An unknown cluster is kept: a
    /// failed call whose cluster we cannot tell must still reach someone.
    pub fn wants_cluster(&self, cluster: Option<&str>) -> bool {
        let Some(cluster) = cluster else { return true };
        let included = self.include_clusters.is_empty() || self.include_clusters.iter().any(|p| glob(p, cluster));
        included && !self.exclude_clusters.iter().any(|p| glob(p, cluster))
    }
}

/// `*` matches any run of characters; everything else matches itself.
pub fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || !text[first.len()..].ends_with(last) || text.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, String> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_lookup(|k| map.get(k).cloned()).map_err(|e| e.to_string())
    }

    #[test]
    fn needs_at_least_one_sink() {
        assert!(settings(&[]).unwrap_err().contains("no alert destination"));
        assert!(settings(&[("SNS_TOPIC_ARN", " ")]).is_err());
        assert!(settings(&[("SNS_TOPIC_ARN", "arn:aws:sns:eu-west-1:1:t")]).is_ok());
        assert!(settings(&[("SLACK_WEBHOOK_URL", "http://127.0.0.1:1/hook")]).is_ok());
    }

    #[test]
    fn reads_every_setting_with_defaults() {
        let s = settings(&[("SNS_TOPIC_ARN", "t")]).unwrap();
        assert_eq!(s.min_severity, Severity::Info);
        assert_eq!(s.enrichment_budget, Duration::from_millis(1500));
        let s = settings(&[
            ("SNS_TOPIC_ARN", "t"),
            ("MIN_SEVERITY", "warning"),
            ("INCLUDE_CLUSTERS", "prod-*, payments"),
            ("EXCLUDE_CLUSTERS", "prod-sandbox"),
            ("ENRICHMENT_TIMEOUT_MS", "200"),
            ("IDEMPOTENCY_TABLE", "seen"),
        ])
        .unwrap();
        assert_eq!(s.min_severity, Severity::Warning);
        assert_eq!(s.include_clusters, ["prod-*", "payments"]);
        assert!(s.wants_cluster(Some("prod-eu")) && s.wants_cluster(Some("payments")) && s.wants_cluster(None));
        assert!(!s.wants_cluster(Some("prod-sandbox")) && !s.wants_cluster(Some("dev")));
        assert_eq!(s.idempotency_table.as_deref(), Some("seen"));
        assert!(settings(&[("SNS_TOPIC_ARN", "t"), ("MIN_SEVERITY", "loud")]).unwrap_err().contains("MIN_SEVERITY"));
    }

    #[test]
    fn sns_message_format_is_text_unless_chatbot_is_asked_for() {
        assert_eq!(settings(&[("SNS_TOPIC_ARN", "t")]).unwrap().sns_message_format, MessageFormat::Text);
        for (value, want) in [("chatbot", MessageFormat::Chatbot), (" Chatbot ", MessageFormat::Chatbot), ("text", MessageFormat::Text)] {
            assert_eq!(settings(&[("SNS_TOPIC_ARN", "t"), ("SNS_MESSAGE_FORMAT", value)]).unwrap().sns_message_format, want, "{value:?}");
        }
        let err = settings(&[("SNS_TOPIC_ARN", "t"), ("SNS_MESSAGE_FORMAT", "slack")]).unwrap_err();
        assert_eq!(err, "SNS_MESSAGE_FORMAT: \"slack\" is not a message format: expected text or chatbot");
    }

    #[test]
    fn the_webhook_url_never_shows_in_debug_output() {
        let s = settings(&[("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T0/B0/secret")]).unwrap();
        assert!(!format!("{s:?}").contains("secret"));
    }

    #[test]
    fn globs() {
        assert!(glob("prod-*", "prod-eu"));
        assert!(glob("*-eu", "prod-eu"));
        assert!(glob("p*d*u", "prod-eu"));
        assert!(!glob("prod-*", "dev"));
        assert!(glob("*", ""));
        assert!(!glob("a*a", "a"));
    }
}
