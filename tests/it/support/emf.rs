//! Checks lines against the CloudWatch Embedded Metric Format specification
//! (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html)
//! and against the metrics `aws::metrics` declares.

use eks_access_doctor_aws::metrics;
use serde_json::{Map, Value};

/// The units a MetricDefinition may name (the specification's JSON schema), space-separated.
const UNITS: &str = "Seconds Microseconds Milliseconds Bytes Kilobytes Megabytes Gigabytes Terabytes Bits Kilobits Megabits \
                     Gigabits Terabits Percent Count Bytes/Second Kilobytes/Second Megabytes/Second Gigabytes/Second \
                     Terabytes/Second Bits/Second Kilobits/Second Megabits/Second Gigabits/Second Terabits/Second \
                     Count/Second None";

/// One parsed EMF line: its metric's name and the root object.
#[derive(Debug, Clone)]
pub struct Line {
    pub metric: String,
    pub root: Map<String, Value>,
}

impl Line {
    pub fn text(&self, key: &str) -> &str {
        self.root[key].as_str().unwrap_or_else(|| panic!("{key} in {:?}", self.root))
    }

    pub fn number(&self, key: &str) -> u64 {
        self.root[key].as_u64().unwrap_or_else(|| panic!("{key} in {:?}", self.root))
    }
}

/// Parses and checks every line; panics with every problem found.
pub fn parse(lines: &[String]) -> Vec<Line> {
    lines
        .iter()
        .map(|line| {
            let found = problems(line);
            assert!(found.is_empty(), "{line}\n{found:#?}");
            let root = serde_json::from_str::<Map<String, Value>>(line).unwrap();
            let metric = root["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"].as_str().unwrap().to_string();
            Line { metric, root }
        })
        .collect()
}

fn keys(object: &Map<String, Value>) -> Vec<&str> {
    object.keys().map(String::as_str).collect()
}

/// Every way `line` breaks the specification or differs from the metric the code
/// declares; empty when it conforms.
pub fn problems(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    if line.contains('\n') {
        found.push("a log event is one line".to_string());
    }
    // The LogEvent MUST be a JSON object with nothing before or after it.
    let root: Map<String, Value> = match serde_json::from_str(line) {
        Ok(root) => root,
        Err(e) => return vec![format!("not one JSON object: {e}")],
    };
    let Some(aws) = root.get("_aws").and_then(Value::as_object) else { return vec!["no _aws object".to_string()] };
    // Objects the specification defines MUST NOT hold other members.
    if keys(aws) != ["Timestamp", "CloudWatchMetrics"] {
        found.push(format!("_aws holds {:?}", keys(aws)));
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    match aws.get("Timestamp").and_then(Value::as_u64) {
        // Milliseconds since the epoch: within a minute of now, not seconds.
        Some(ms) if ms.abs_diff(now) < 60_000 => {}
        other => found.push(format!("Timestamp {other:?} is not now in milliseconds")),
    }
    let directives = aws.get("CloudWatchMetrics").and_then(Value::as_array).cloned().unwrap_or_default();
    if directives.len() != 1 {
        found.push(format!("{} metric directives, expected one", directives.len()));
    }
    for directive in &directives {
        let Some(directive) = directive.as_object() else {
            found.push("a directive is not an object".to_string());
            continue;
        };
        if keys(directive) != ["Namespace", "Dimensions", "Metrics"] {
            found.push(format!("directive holds {:?}", keys(directive)));
        }
        if directive.get("Namespace").and_then(Value::as_str) != Some(metrics::NAMESPACE) {
            found.push(format!("namespace {:?}", directive.get("Namespace")));
        }
        let sets = directive.get("Dimensions").and_then(Value::as_array).cloned().unwrap_or_default();
        if sets.is_empty() {
            found.push("no dimension set".to_string());
        }
        let mut declared_sets: Vec<Vec<String>> = Vec::new();
        for set in &sets {
            let names: Vec<String> = set.as_array().into_iter().flatten().filter_map(|n| n.as_str().map(String::from)).collect();
            if set.as_array().map(Vec::len) != Some(names.len()) || names.len() > 30 {
                found.push(format!("dimension set {set} is not at most 30 names"));
            }
            for name in &names {
                if name.is_empty() || name.len() > 250 {
                    found.push(format!("dimension name {name:?} is not 1 to 250 characters"));
                }
                // Every dimension named is a top-level string: ASCII, no control
                // characters, something besides spaces, at most 1,024 characters.
                match root.get(name).and_then(Value::as_str) {
                    Some(v)
                        if !v.is_empty()
                            && v.len() <= 1024
                            && v.is_ascii()
                            && !v.chars().any(|c| c.is_control())
                            && !v.trim().is_empty() => {}
                    other => found.push(format!("dimension {name} has value {other:?}")),
                }
            }
            declared_sets.push(names);
        }
        let definitions = directive.get("Metrics").and_then(Value::as_array).cloned().unwrap_or_default();
        if definitions.len() != 1 || definitions.len() > 100 {
            found.push(format!("{} metric definitions, expected one", definitions.len()));
        }
        for definition in &definitions {
            let definition = definition.as_object().cloned().unwrap_or_default();
            if !keys(&definition).iter().all(|k| ["Name", "Unit", "StorageResolution"].contains(k)) {
                found.push(format!("metric definition holds {:?}", keys(&definition)));
            }
            let name = definition.get("Name").and_then(Value::as_str).unwrap_or_default();
            let unit = definition.get("Unit").and_then(Value::as_str).unwrap_or("None");
            if !UNITS.split_whitespace().any(|u| u == unit) {
                found.push(format!("unit {unit:?}"));
            }
            // Every metric named is a top-level number.
            if !root.get(name).is_some_and(Value::is_number) {
                found.push(format!("metric {name:?} has value {:?}", root.get(name)));
            }
            // ... and is one the code declares, with its unit and dimension sets.
            match metrics::ALL.iter().find(|m| m.name == name) {
                None => found.push(format!("metric {name:?} is not declared in aws::metrics::ALL")),
                Some(declared) => {
                    let sets: Vec<Vec<String>> =
                        declared.dimensions.iter().map(|set| set.iter().map(|d| d.to_string()).collect()).collect();
                    if sets != declared_sets {
                        found.push(format!("{name} published under {declared_sets:?}, declared {sets:?}"));
                    }
                    if serde_json::to_value(declared.unit).unwrap() != unit {
                        found.push(format!("{name} in {unit}, declared {:?}", declared.unit));
                    }
                }
            }
        }
    }
    found
}
