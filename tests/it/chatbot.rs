//! AWS Chatbot custom notifications: every fixture's notification against the schema
//! transcribed from the documentation (tests/chatbot-notification.schema.json), threads,
//! related resources, and the limits under oversized values.

use crate::support::*;
use eks_access_doctor_core::catalogue::all_causes;
use eks_access_doctor_core::render::chatbot::{self, Notification};
use eks_access_doctor_core::render::Diagnosis;
use serde_json::{json, Value};

fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(include_str!("../chatbot-notification.schema.json")).unwrap();
    jsonschema::validator_for(&schema).expect("the transcribed schema is a valid JSON Schema")
}

fn errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator.iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path())).collect()
}

fn value(n: &Notification) -> Value {
    serde_json::from_str(&n.to_json()).unwrap()
}

/// Every cause's fixture (with the live facts the catalogue shows it with) and every variant, diagnosed.
fn every_fixture() -> Vec<(String, Diagnosis)> {
    let mut all: Vec<(String, Diagnosis)> = all_causes().map(|c| (cause_fixture(c), diagnose_cause_fixture(c))).collect();
    for entry in std::fs::read_dir(events_dir().join("variants")).unwrap() {
        let name = format!("variants/{}", entry.unwrap().file_name().into_string().unwrap());
        all.push((name.clone(), diagnose(fixture_event(&name))));
    }
    all
}

#[test]
fn every_fixture_gives_notifications_the_documented_schema_accepts() {
    let validator = validator();
    let fixtures = every_fixture();
    assert!(fixtures.len() > 30, "{} fixtures", fixtures.len());
    for (name, d) in &fixtures {
        assert!(!d.findings.is_empty(), "{name}");
        for f in &d.findings {
            let n = value(&chatbot::notification(d, f));
            assert_eq!(errors(&validator, &n), Vec::<String>::new(), "{name}: {n:#}");
            assert_eq!(n["metadata"]["eventType"], f.cause.id, "{name}");
            assert_eq!(n["content"]["keywords"][0], f.cause.id, "{name}");
            assert_eq!(n["content"]["nextSteps"].as_array().map_or(0, Vec::len), f.steps.len(), "{name}");
            let description = n["content"]["description"].as_str().unwrap();
            assert!(description.ends_with(&format!("<{}|AWS documentation> · cause `{}`", f.cause.docs, f.cause.id)), "{name}");
            if !f.commands.is_empty() {
                assert!(description.contains("*Commands*\n```\n"), "{name}: {description}");
            }
        }
    }
}

/// What a documented rule forbids, and how to break a good notification that way.
type Breakage = (&'static str, fn(&mut Value));

/// The schema is live: each documented rule refuses what breaks it.
#[test]
fn the_schema_refuses_what_the_documentation_forbids() {
    let validator = validator();
    let d = diagnose(fixture_event("node-type-requires-role.json"));
    let good = value(&chatbot::notification(&d, &d.findings[0]));
    assert!(validator.is_valid(&good));
    let broken: [Breakage; 8] = [
        ("version 2.0", |n| n["version"] = json!("2.0")),
        ("another source", |n| n["source"] = json!("aws.eks")),
        ("no description", |n| drop(n["content"].as_object_mut().unwrap().remove("description"))),
        ("plain textType", |n| n["content"]["textType"] = json!("markdown")),
        ("a 251-character title", |n| n["content"]["title"] = json!("t".repeat(251))),
        ("a 351-character step", |n| n["content"]["nextSteps"][0] = json!("s".repeat(351))),
        ("a 76-character keyword", |n| n["content"]["keywords"][0] = json!("k".repeat(76))),
        ("a misspelt key", |n| n["metadata"]["threadID"] = json!("x")),
    ];
    for (what, breaks) in broken {
        let mut n = good.clone();
        breaks(&mut n);
        assert!(!validator.is_valid(&n), "{what} was accepted");
    }
    let mut long = good.clone();
    long["content"]["description"] = json!("d".repeat(8001));
    assert!(!validator.is_valid(&long), "an 8,001-character description was accepted");
}

/// Repeats of one denial (same cause, cluster and principal) share a thread whatever
/// their event id and time; another principal or cluster starts its own.
#[test]
fn repeats_of_one_problem_thread_together() {
    let thread = |edit: fn(&mut Value)| {
        let d = diagnose(parse_one(&edited_fixture("reserved-username-prefix.json", edit)));
        chatbot::notification(&d, &d.findings[0]).metadata.thread_id
    };
    let first = thread(|_| {});
    assert_eq!(first.len(), 32);
    assert!(first.chars().all(|c| c.is_ascii_hexdigit()), "{first}");
    let repeat = thread(|r| {
        r["eventID"] = json!("8d9b4c1e-0000-4000-8000-000000000001");
        r["eventTime"] = json!("2026-11-29T08:00:00Z");
        r["requestParameters"]["username"] = json!("system:other");
    });
    assert_eq!(repeat, first, "a repeat of the same problem must join its thread");
    let other_principal = thread(|r| r["requestParameters"]["principalArn"] = json!("arn:aws:iam::111122223333:role/someone-else"));
    let other_cluster = thread(|r| r["requestParameters"]["name"] = json!("another-cluster"));
    assert_ne!(other_principal, first);
    assert_ne!(other_cluster, first);
    assert_ne!(other_cluster, other_principal);
}

/// The cluster's ARN is written in the event's own partition, and identities are named once.
#[test]
fn related_resources_are_in_the_event_partition() {
    for (stem, partition) in [("node-type-requires-role--govcloud", "aws-us-gov"), ("service-linked-role--china", "aws-cn")] {
        let d = diagnose(fixture_event(&format!("variants/{stem}.json")));
        let e = &d.event;
        let n = chatbot::notification(&d, &d.findings[0]);
        let cluster =
            format!("arn:{partition}:eks:{}:{}:cluster/{}", e.region, e.account.as_deref().unwrap(), e.cluster.as_deref().unwrap());
        assert_eq!(n.metadata.related_resources[0], cluster, "{stem}");
        assert!(n.metadata.related_resources.iter().all(|r| r.starts_with(&format!("arn:{partition}:"))), "{stem}: {:?}", n.metadata);
        let mut unique = n.metadata.related_resources.clone();
        unique.dedup();
        assert_eq!(unique, n.metadata.related_resources);
    }
    // The authenticator log names no region: no cluster ARN is guessed.
    let d = diagnose(fixture_event("authenticator/identity-not-mapped.json"));
    let n = chatbot::notification(&d, &d.findings[0]);
    assert!(n.metadata.related_resources.iter().all(|r| !r.contains(":cluster/")), "{:?}", n.metadata.related_resources);
    assert_eq!(n.metadata.related_resources, ["arn:aws:iam::111122223333:role/admin-test-role"]);
}

/// Values far over every limit: the notification still validates, and a cut command
/// block is still closed.
#[test]
fn oversized_values_are_cut_to_the_documented_limits() {
    let validator = validator();
    let long = "x".repeat(200_000);
    for (fixture, pointer) in [
        ("access-entries-disabled.json", "/requestParameters/name"),
        ("unclassified.json", "/errorMessage"),
        ("reserved-username-prefix.json", "/requestParameters/username"),
        ("unbound-kubernetes-group.json", "/requestParameters/kubernetesGroups"),
    ] {
        let bytes = edited_fixture(fixture, |record| {
            let v = if pointer.ends_with("Groups") { json!([long.clone()]) } else { json!(long.clone()) };
            *record.pointer_mut(pointer).unwrap() = v;
        });
        let d = diagnose(parse_one(&bytes));
        for f in &d.findings {
            let n = value(&chatbot::notification(&d, f));
            assert_eq!(errors(&validator, &n), Vec::<String>::new(), "{fixture} {pointer}");
            let description = n["content"]["description"].as_str().unwrap();
            assert_eq!(description.matches("```").count() % 2, 0, "{fixture}: a code block left open");
            if !f.commands.is_empty() {
                assert!(description.contains("*Commands*\n```\n"), "{fixture} {pointer}: the value crowded out the commands");
            }
            assert!(description.ends_with(&format!("<{}|AWS documentation> · cause `{}`", f.cause.docs, f.cause.id)), "{fixture}");
        }
    }
}
