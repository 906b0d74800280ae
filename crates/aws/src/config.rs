//! The function's settings, read once at init from the environment. Pure: takes a
//! lookup function so tests pass plain maps.

use super::routing::{glob, RouteFilter};
use eks_access_doctor_core::finding::Severity;
use eks_access_doctor_core::render::sns::MessageFormat;
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

/// One Slack destination and the findings it takes.
#[derive(Debug, Clone, PartialEq)]
pub struct SlackRoute {
    /// The sink's name: `slack` for the default route, `slack:NAME` for a named one.
    /// Partial deliveries are remembered by it, so it never changes between retries.
    pub sink: String,
    pub webhook: SlackWebhook,
    pub filter: RouteFilter,
}

/// The sink name of the default route, the one `SLACK_WEBHOOK_SECRET_ARN` names.
pub const DEFAULT_SLACK_SINK: &str = "slack";

/// A setting the function cannot start with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("no alert destination: set SNS_TOPIC_ARN and/or SLACK_WEBHOOK_SECRET_ARN (or SLACK_WEBHOOK_URL for local runs)")]
    NoDestination,
    #[error("MIN_SEVERITY: {0}")]
    MinSeverity(String),
    #[error("SLACK_ROUTES: {0:?} is not a route name (1 to 32 lowercase letters, digits and '-', starting with a letter or digit)")]
    SlackRouteName(String),
    #[error("SLACK_ROUTES: route {0:?} is listed twice")]
    DuplicateSlackRoute(String),
    #[error("Slack route {route:?}: set {prefix}_SECRET_ARN (or {prefix}_URL for local runs)")]
    SlackRouteWebhook { route: String, prefix: String },
    #[error("{variable}: {message}")]
    SlackRouteMinSeverity { variable: String, message: String },
    #[error("Slack route {route:?} is never used: route {before:?} before it takes every finding")]
    UnreachableSlackRoute { route: String, before: String },
    #[error(
        "with no SNS topic, findings that no Slack route takes would reach no one: add a route without cluster globs or \
         minimum severity (SLACK_WEBHOOK_SECRET_ARN, the default route) or set SNS_TOPIC_ARN"
    )]
    UnroutedFindings,
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
    #[error("KUBERNETES_ACCESS: {0:?} is neither off nor on")]
    KubernetesAccess(String),
    #[error("KUBERNETES_ENDPOINT and KUBERNETES_CA_DATA go together, and only with KUBERNETES_ACCESS=on")]
    KubernetesEndpoint,
}

/// Whether the function reads the clusters' Kubernetes API (RBAC bindings, the
/// `aws-auth` ConfigMap), and where.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum KubernetesAccess {
    /// The groups and `aws-auth` are not checked; the alerts say so.
    #[default]
    Off,
    /// Each cluster's API, at `DescribeCluster`'s endpoint, or at `endpoint` (with
    /// `ca_data`, base64 of the PEM as `DescribeCluster` gives it) for every cluster:
    /// a test server, or one cluster reached through a proxy.
    On { endpoint: Option<(String, String)> },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub sns_topic_arn: Option<String>,
    /// The body of SNS messages: plain text, or the AWS Chatbot custom notification.
    pub sns_message_format: MessageFormat,
    /// Tried in order; a finding goes to the first that takes it (see `routing`).
    /// The default route, when set, is last and takes everything.
    pub slack_routes: Vec<SlackRoute>,
    pub min_severity: Severity,
    pub include_clusters: Vec<String>,
    pub exclude_clusters: Vec<String>,
    /// Clusters named in metrics (`METRIC_CLUSTERS`, else `INCLUDE_CLUSTERS`); see `metrics`.
    pub metric_clusters: Vec<String>,
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
    /// `KUBERNETES_ACCESS` (`off`, `on`), `KUBERNETES_ENDPOINT`, `KUBERNETES_CA_DATA`.
    pub kubernetes: KubernetesAccess,
    /// The clusters the scheduled audit reads (`AUDIT_CLUSTERS`); none: every cluster
    /// of the function's region.
    pub audit_clusters: Vec<String>,
}

impl Settings {
    /// Reads `SNS_TOPIC_ARN`, `SNS_MESSAGE_FORMAT`, the Slack routes (`SLACK_ROUTES` and each route's
    /// `SLACK_ROUTE_<NAME>_*`, then the default `SLACK_WEBHOOK_SECRET_ARN` /
    /// `SLACK_WEBHOOK_URL`), `MIN_SEVERITY`, `INCLUDE_CLUSTERS`, `EXCLUDE_CLUSTERS`,
    /// `METRIC_CLUSTERS`, `ENRICHMENT_TIMEOUT_MS`, `IDEMPOTENCY_TABLE`,
    /// `FLOOD_WINDOW_SECONDS`, `MUTE_CAUSES`, `SECOND_LOOK_QUEUE_URL`,
    /// `SECOND_LOOK_DELAY_SECONDS`, `AUDIT_CLUSTERS`. Fails when a finding could reach no one: an
    /// alerting function that cannot alert must not start.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Settings, ConfigError> {
        let non_empty = |name: &str| get(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let list = |name: &str| -> Vec<String> {
            non_empty(name).map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()).unwrap_or_default()
        };
        let min_severity = match non_empty("MIN_SEVERITY") {
            Some(v) => v.parse().map_err(ConfigError::MinSeverity)?,
            None => Severity::Info,
        };
        let slack_routes = slack_routes(&non_empty, &list, min_severity)?;
        let sns_topic_arn = non_empty("SNS_TOPIC_ARN");
        let sns_message_format = match non_empty("SNS_MESSAGE_FORMAT") {
            Some(v) => v.parse().map_err(ConfigError::SnsMessageFormat)?,
            None => MessageFormat::Text,
        };
        if sns_topic_arn.is_none() && slack_routes.is_empty() {
            return Err(ConfigError::NoDestination);
        }
        if sns_topic_arn.is_none() && !slack_routes.iter().any(|r| r.filter.takes_everything_from(min_severity)) {
            return Err(ConfigError::UnroutedFindings);
        }
        let millis = match non_empty("ENRICHMENT_TIMEOUT_MS") {
            Some(v) => v.parse::<u64>().map_err(|_| ConfigError::EnrichmentTimeout(v.clone()))?,
            None => 1500,
        };
        let flood_window = match non_empty("FLOOD_WINDOW_SECONDS") {
            Some(v) => Duration::from_secs(v.parse::<u64>().map_err(|_| ConfigError::FloodWindow(v.clone()))?),
            None => Duration::from_secs(900),
        };
        let include_clusters = list("INCLUDE_CLUSTERS");
        let metric_clusters = match list("METRIC_CLUSTERS") {
            named if named.is_empty() => include_clusters.clone(),
            named => named,
        };
        let muted = list("MUTE_CAUSES")
            .into_iter()
            .map(|id| eks_access_doctor_core::catalogue::all_causes().find(|c| c.id == id).map(|c| c.id).ok_or(ConfigError::MuteCauses(id)))
            .collect::<Result<Vec<_>, _>>()?;
        let second_look_delay = match non_empty("SECOND_LOOK_DELAY_SECONDS") {
            Some(v) => v.parse::<u32>().ok().filter(|d| *d <= 900).ok_or(ConfigError::SecondLookDelay(v))?,
            None => 300,
        };
        let kubernetes = match non_empty("KUBERNETES_ACCESS").map(|v| v.to_ascii_lowercase()).as_deref() {
            None | Some("off" | "false") => KubernetesAccess::Off,
            Some("on" | "true") => KubernetesAccess::On { endpoint: None },
            Some(other) => return Err(ConfigError::KubernetesAccess(other.to_string())),
        };
        let kubernetes = match (kubernetes, non_empty("KUBERNETES_ENDPOINT"), non_empty("KUBERNETES_CA_DATA")) {
            (access, None, None) => access,
            (KubernetesAccess::On { .. }, Some(url), Some(ca)) => KubernetesAccess::On { endpoint: Some((url, ca)) },
            _ => return Err(ConfigError::KubernetesEndpoint),
        };
        Ok(Settings {
            sns_topic_arn,
            sns_message_format,
            slack_routes,
            min_severity,
            include_clusters,
            exclude_clusters: list("EXCLUDE_CLUSTERS"),
            metric_clusters,
            enrichment_budget: Duration::from_millis(millis),
            idempotency_table: non_empty("IDEMPOTENCY_TABLE"),
            flood_window,
            muted,
            second_look_queue: non_empty("SECOND_LOOK_QUEUE_URL"),
            second_look_delay,
            kubernetes,
            audit_clusters: list("AUDIT_CLUSTERS"),
        })
    }

    pub fn from_env() -> Result<Settings, ConfigError> {
        Settings::from_lookup(|name| std::env::var(name).ok())
    }

    /// Whether a finding is sent: not muted, and at or above `MIN_SEVERITY`.
    pub fn wants(&self, finding: &eks_access_doctor_core::finding::Finding) -> bool {
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

/// The named routes of `SLACK_ROUTES` in order, then the default route. A route
/// after one that takes every finding could never be used: that is a mistake, said.
fn slack_routes(
    non_empty: &impl Fn(&str) -> Option<String>,
    list: &impl Fn(&str) -> Vec<String>,
    floor: Severity,
) -> Result<Vec<SlackRoute>, ConfigError> {
    let mut routes: Vec<SlackRoute> = Vec::new();
    for name in list("SLACK_ROUTES") {
        if !is_route_name(&name) {
            return Err(ConfigError::SlackRouteName(name));
        }
        let sink = format!("{DEFAULT_SLACK_SINK}:{name}");
        if routes.iter().any(|r| r.sink == sink) {
            return Err(ConfigError::DuplicateSlackRoute(name));
        }
        let prefix = format!("SLACK_ROUTE_{}", name.to_ascii_uppercase().replace('-', "_"));
        let webhook = non_empty(&format!("{prefix}_SECRET_ARN"))
            .map(SlackWebhook::Secret)
            .or_else(|| non_empty(&format!("{prefix}_URL")).map(SlackWebhook::Url))
            .ok_or_else(|| ConfigError::SlackRouteWebhook { route: name.clone(), prefix: prefix.clone() })?;
        let variable = format!("{prefix}_MIN_SEVERITY");
        let min_severity = match non_empty(&variable) {
            Some(v) => v.parse().map_err(|message| ConfigError::SlackRouteMinSeverity { variable, message })?,
            None => Severity::Info,
        };
        routes.push(SlackRoute { sink, webhook, filter: RouteFilter { min_severity, clusters: list(&format!("{prefix}_CLUSTERS")) } });
    }
    let default =
        non_empty("SLACK_WEBHOOK_SECRET_ARN").map(SlackWebhook::Secret).or_else(|| non_empty("SLACK_WEBHOOK_URL").map(SlackWebhook::Url));
    if let Some(webhook) = default {
        routes.push(SlackRoute { sink: DEFAULT_SLACK_SINK.to_string(), webhook, filter: RouteFilter::everything() });
    }
    if let Some(at) = routes.iter().position(|r| r.filter.takes_everything_from(floor)) {
        if let Some(next) = routes.get(at + 1) {
            return Err(ConfigError::UnreachableSlackRoute { route: next.sink.clone(), before: routes[at].sink.clone() });
        }
    }
    Ok(routes)
}

/// Route names become sink names (`slack:NAME`) and environment variable names.
fn is_route_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (1..=32).contains(&bytes.len())
        && bytes[0].is_ascii_alphanumeric()
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
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
    fn kubernetes_access_is_opt_in() {
        assert_eq!(settings(&[("SNS_TOPIC_ARN", "t")]).unwrap().kubernetes, KubernetesAccess::Off);
        assert_eq!(
            settings(&[("SNS_TOPIC_ARN", "t"), ("KUBERNETES_ACCESS", "On")]).unwrap().kubernetes,
            KubernetesAccess::On { endpoint: None }
        );
        let with_endpoint = [
            ("SNS_TOPIC_ARN", "t"),
            ("KUBERNETES_ACCESS", "on"),
            ("KUBERNETES_ENDPOINT", "https://127.0.0.1:6443"),
            ("KUBERNETES_CA_DATA", "LS0t"),
        ];
        assert_eq!(
            settings(&with_endpoint).unwrap().kubernetes,
            KubernetesAccess::On { endpoint: Some(("https://127.0.0.1:6443".into(), "LS0t".into())) }
        );
        assert!(settings(&[("SNS_TOPIC_ARN", "t"), ("KUBERNETES_ACCESS", "yes")]).unwrap_err().contains("neither off nor on"));
        assert!(settings(&[("SNS_TOPIC_ARN", "t"), ("KUBERNETES_ENDPOINT", "https://x")]).unwrap_err().contains("go together"));
        assert!(settings(&[("SNS_TOPIC_ARN", "t"), ("KUBERNETES_ACCESS", "on"), ("KUBERNETES_CA_DATA", "x")]).is_err());
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
        let s = settings(&[
            ("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T0/B0/secret"),
            ("SLACK_ROUTES", "oncall"),
            ("SLACK_ROUTE_ONCALL_URL", "https://hooks.slack.com/services/T0/B1/other-secret"),
            ("SLACK_ROUTE_ONCALL_CLUSTERS", "prod-*"),
        ])
        .unwrap();
        assert!(!format!("{s:?}").contains("secret"), "{s:?}");
    }

    fn sinks(s: &Settings) -> Vec<&str> {
        s.slack_routes.iter().map(|r| r.sink.as_str()).collect()
    }

    #[test]
    fn named_slack_routes_come_before_the_default_route() {
        let s = settings(&[
            ("SLACK_ROUTES", " oncall , platform-eu "),
            ("SLACK_ROUTE_ONCALL_SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:1:secret:oncall"),
            ("SLACK_ROUTE_ONCALL_MIN_SEVERITY", "ERROR"),
            ("SLACK_ROUTE_ONCALL_CLUSTERS", "prod-*, payments"),
            ("SLACK_ROUTE_PLATFORM_EU_URL", "http://127.0.0.1:1/platform"),
            ("SLACK_ROUTE_PLATFORM_EU_CLUSTERS", "platform-*"),
            ("SLACK_WEBHOOK_SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:1:secret:team"),
        ])
        .unwrap();
        assert_eq!(sinks(&s), ["slack:oncall", "slack:platform-eu", "slack"]);
        let [oncall, platform, default] = &s.slack_routes[..] else { panic!("{s:?}") };
        assert_eq!(oncall.webhook, SlackWebhook::Secret("arn:aws:secretsmanager:eu-west-1:1:secret:oncall".into()));
        assert_eq!(oncall.filter, RouteFilter { min_severity: Severity::Error, clusters: vec!["prod-*".into(), "payments".into()] });
        assert_eq!(platform.webhook, SlackWebhook::Url("http://127.0.0.1:1/platform".into()));
        assert_eq!(platform.filter, RouteFilter { min_severity: Severity::Info, clusters: vec!["platform-*".into()] });
        assert_eq!(default.filter, RouteFilter::everything());
        // Without SLACK_ROUTES the default route is the only one, as before routes existed.
        let s = settings(&[("SLACK_WEBHOOK_URL", "http://127.0.0.1:1/team"), ("SLACK_ROUTE_ONCALL_URL", "http://127.0.0.1:1/x")]).unwrap();
        assert_eq!(sinks(&s), ["slack"]);
    }

    #[test]
    fn slack_route_mistakes_are_named() {
        let base = [("SNS_TOPIC_ARN", "t")];
        let fails = |extra: &[(&str, &str)]| settings(&[&base[..], extra].concat()).unwrap_err();
        for bad in ["On-Call", "-oncall", "on_call", "a".repeat(33).as_str(), "on call"] {
            assert!(fails(&[("SLACK_ROUTES", bad)]).contains("is not a route name"), "{bad}");
        }
        assert!(fails(&[("SLACK_ROUTES", "oncall,oncall"), ("SLACK_ROUTE_ONCALL_URL", "http://h/x")]).contains("listed twice"));
        let missing = fails(&[("SLACK_ROUTES", "on-call")]);
        assert!(missing.contains("SLACK_ROUTE_ON_CALL_SECRET_ARN") && missing.contains("SLACK_ROUTE_ON_CALL_URL"), "{missing}");
        let severity =
            fails(&[("SLACK_ROUTES", "oncall"), ("SLACK_ROUTE_ONCALL_URL", "http://h/x"), ("SLACK_ROUTE_ONCALL_MIN_SEVERITY", "loud")]);
        assert!(severity.starts_with("SLACK_ROUTE_ONCALL_MIN_SEVERITY: unknown severity"), "{severity}");
        // A route without globs or minimum severity takes everything: nothing after it is reached.
        let shadowed = fails(&[("SLACK_ROUTES", "oncall"), ("SLACK_ROUTE_ONCALL_URL", "http://h/x"), ("SLACK_WEBHOOK_URL", "http://h/y")]);
        assert!(shadowed.contains("route \"slack\" is never used: route \"slack:oncall\" before it"), "{shadowed}");
        // The same, once MIN_SEVERITY already drops what the route's minimum would.
        let floor = fails(&[
            ("MIN_SEVERITY", "error"),
            ("SLACK_ROUTES", "oncall"),
            ("SLACK_ROUTE_ONCALL_URL", "http://h/x"),
            ("SLACK_ROUTE_ONCALL_MIN_SEVERITY", "error"),
            ("SLACK_WEBHOOK_URL", "http://h/y"),
        ]);
        assert!(floor.contains("never used"), "{floor}");
    }

    #[test]
    fn without_sns_every_finding_needs_a_slack_route() {
        let oncall_only = [("SLACK_ROUTES", "oncall"), ("SLACK_ROUTE_ONCALL_URL", "http://h/x"), ("SLACK_ROUTE_ONCALL_CLUSTERS", "prod-*")];
        assert!(settings(&oncall_only).unwrap_err().contains("would reach no one"));
        assert!(settings(&[&oncall_only[..], &[("SNS_TOPIC_ARN", "t")]].concat()).is_ok());
        assert!(settings(&[&oncall_only[..], &[("SLACK_WEBHOOK_URL", "http://h/y")]].concat()).is_ok());
        let errors_only =
            [("SLACK_ROUTES", "oncall"), ("SLACK_ROUTE_ONCALL_URL", "http://h/x"), ("SLACK_ROUTE_ONCALL_MIN_SEVERITY", "error")];
        assert!(settings(&errors_only).unwrap_err().contains("would reach no one"));
        // MIN_SEVERITY=error already keeps only errors: the route takes every finding left.
        assert!(settings(&[&errors_only[..], &[("MIN_SEVERITY", "error")]].concat()).is_ok());
    }

    #[test]
    fn metric_clusters_default_to_the_included_clusters() {
        let s = settings(&[("SNS_TOPIC_ARN", "t"), ("INCLUDE_CLUSTERS", "prod-*")]).unwrap();
        assert_eq!(s.metric_clusters, ["prod-*"]);
        let s = settings(&[("SNS_TOPIC_ARN", "t"), ("INCLUDE_CLUSTERS", "prod-*"), ("METRIC_CLUSTERS", "prod-eu, prod-us")]).unwrap();
        assert_eq!(s.metric_clusters, ["prod-eu", "prod-us"]);
        assert!(settings(&[("SNS_TOPIC_ARN", "t")]).unwrap().metric_clusters.is_empty());
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
