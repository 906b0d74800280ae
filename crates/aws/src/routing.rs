//! Which Slack destination a finding goes to. Routes are tried in order and the
//! first that takes the finding gets it, alone: "production errors to on-call,
//! everything else to the team channel" is an on-call route before the default
//! route, and no finding pages twice. Pure, so the decisions are tested as data.

use eks_access_doctor_core::finding::Severity;
use std::sync::Arc;

/// What one route takes: findings at or above `min_severity`, on clusters matching
/// one of `clusters` (every cluster when empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteFilter {
    pub min_severity: Severity,
    pub clusters: Vec<String>,
}

impl RouteFilter {
    /// A filter that takes every finding.
    pub fn everything() -> RouteFilter {
        RouteFilter { min_severity: Severity::Info, clusters: Vec::new() }
    }

    /// An event whose cluster cannot be told matches no cluster glob: it goes to a
    /// route without globs (the default), never to one meant for named clusters.
    pub fn takes(&self, severity: Severity, cluster: Option<&str>) -> bool {
        let cluster_ok = self.clusters.is_empty() || cluster.is_some_and(|c| self.clusters.iter().any(|p| glob(p, c)));
        severity >= self.min_severity && cluster_ok
    }

    /// Whether every finding at or above `floor` (the function's `MIN_SEVERITY`) is taken.
    pub fn takes_everything_from(&self, floor: Severity) -> bool {
        self.clusters.is_empty() && self.min_severity <= floor
    }
}

/// The ordered routes, shared by the Slack sinks so each can tell whether a finding
/// is its own. Sink names are `'static` (a sink lives as long as the process).
#[derive(Debug, Clone, Default)]
pub struct Routes(Arc<[(&'static str, RouteFilter)]>);

impl Routes {
    pub fn new(routes: Vec<(&'static str, RouteFilter)>) -> Routes {
        Routes(routes.into())
    }

    /// The configured routes (sink name, filter), in order. Their sink names are
    /// leaked, once, at init: a sink lives as long as the process.
    pub fn of<'a>(routes: impl IntoIterator<Item = (&'a str, &'a RouteFilter)>) -> Routes {
        Routes::new(routes.into_iter().map(|(sink, filter)| (&*Box::leak(sink.to_owned().into_boxed_str()), filter.clone())).collect())
    }

    /// The sink names, in route order.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.iter().map(|(name, _)| *name)
    }

    /// The sink name of the first route that takes the finding, if any.
    pub fn pick(&self, severity: Severity, cluster: Option<&str>) -> Option<&'static str> {
        self.0.iter().find(|(_, filter)| filter.takes(severity, cluster)).map(|(name, _)| *name)
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
    use Severity::{Error, Info, Warning};

    fn filter(min_severity: Severity, clusters: &[&str]) -> RouteFilter {
        RouteFilter { min_severity, clusters: clusters.iter().map(|c| c.to_string()).collect() }
    }

    /// On-call takes production errors, platform takes warnings and up from two
    /// clusters, the default takes the rest.
    fn routes() -> Routes {
        Routes::new(vec![
            ("slack:oncall", filter(Error, &["prod-*"])),
            ("slack:platform", filter(Warning, &["platform", "shared-*"])),
            ("slack", RouteFilter::everything()),
        ])
    }

    #[test]
    fn the_first_route_that_takes_a_finding_gets_it() {
        let routes = routes();
        let cases = [
            (Error, Some("prod-eu"), "slack:oncall"),
            (Warning, Some("prod-eu"), "slack"),
            (Info, Some("prod-eu"), "slack"),
            (Error, Some("platform"), "slack:platform"),
            (Warning, Some("shared-tools"), "slack:platform"),
            (Info, Some("shared-tools"), "slack"),
            (Error, Some("staging-prod-eu"), "slack"),
            (Error, Some("platform-2"), "slack"),
            (Error, None, "slack"),
        ];
        for (severity, cluster, want) in cases {
            assert_eq!(routes.pick(severity, cluster), Some(want), "{severity} on {cluster:?}");
        }
    }

    #[test]
    fn without_a_catch_all_some_findings_go_to_no_route() {
        let routes = Routes::new(vec![("slack:oncall", filter(Error, &["prod-*"]))]);
        assert_eq!(routes.pick(Error, Some("prod-eu")), Some("slack:oncall"));
        assert_eq!(routes.pick(Warning, Some("prod-eu")), None);
        assert_eq!(routes.pick(Error, None), None);
        assert_eq!(Routes::default().pick(Error, Some("prod-eu")), None);
    }

    #[test]
    fn what_takes_everything() {
        assert!(RouteFilter::everything().takes_everything_from(Info));
        assert!(filter(Warning, &[]).takes_everything_from(Warning));
        assert!(filter(Warning, &[]).takes_everything_from(Error));
        assert!(!filter(Warning, &[]).takes_everything_from(Info));
        assert!(!filter(Info, &["*"]).takes_everything_from(Info), "a glob never takes events of unknown clusters");
    }
}
