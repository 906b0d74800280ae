//! Bugs found while building the fuzz targets, kept as regression tests.

use crate::support::*;

// Markdown decoded HTML entities into invisible characters (`&ZeroWidthSpace;`).
#[test]
fn markdown_prose_does_not_decode_entities_into_invisible_characters() {
    let bytes = edited_fixture("unbound-kubernetes-group.json", |r| {
        r["requestParameters"]["kubernetesGroups"] = serde_json::json!(["ad&ZeroWidthSpace;mins", "admins"])
    });
    let md = eks_access_doctor_core::render::markdown::render(&diagnose(parse_one(&bytes)));
    assert!(!md.contains(" \"ad&ZeroWidthSpace;"), "{md}");
    assert!(md.contains("\\&ZeroWidthSpace;"), "{md}");
}

// A group value starting with `--` became an option of the suggested command.
#[test]
fn a_group_value_cannot_add_an_option_to_a_command() {
    let bytes = edited_fixture("reserved-username-prefix.json", |r| {
        r["requestParameters"]["kubernetesGroups"] =
            serde_json::json!(["checkout-oncall", "--principal-arn", "arn:aws:iam::111122223333:role/Attacker"])
    });
    let d = diagnose(parse_one(&bytes));
    for f in &d.findings {
        for c in &f.commands {
            assert_eq!(c.matches(" --principal-arn ").count(), 1, "{c}");
        }
    }
}

// Look-alike checks compared every pair of groups: 30 000 groups took minutes.
#[test]
fn many_groups_are_diagnosed_quickly() {
    let bytes = edited_fixture("unbound-kubernetes-group.json", |r| {
        r["requestParameters"]["kubernetesGroups"] = serde_json::json!((0..30_000).map(|i| format!("g{i:05}")).collect::<Vec<_>>())
    });
    let started = std::time::Instant::now();
    let d = diagnose(parse_one(&bytes));
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
    assert!(d.findings[0].commands.len() <= 101);
}

// A single value starting with `-` (an IAM role named `-onboarding`) was read as an option.
#[test]
fn a_single_value_starting_with_a_dash_stays_a_value() {
    let bytes = edited_fixture("missing-iam-permission.json", |r| {
        r["errorMessage"] = serde_json::json!("User: arn:aws:sts::111122223333:assumed-role/-onboarding/s is not authorized to perform: eks:CreateAccessEntry on resource: arn:aws:eks:eu-west-1:111122223333:cluster/prod-eu");
        r["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"] = serde_json::json!("arn:aws:iam::111122223333:role/-onboarding");
    });
    let d = diagnose(parse_one(&bytes));
    let commands = d.findings[0].commands.join("\n");
    assert!(commands.contains("--role-name=-onboarding"), "{commands}");
    assert!(!commands.contains(" -onboarding"), "{commands}");
}

// The log-file scanner refused only repeated "detail" and "eventSource" keys; when the
// input shapes grew (awslogs, logEvents, events), `{"Records":[…],"events":[],"events":[]}`
// was split by the scanner although serde refuses the repeated field (found by scan_agrees).
#[test]
fn a_log_file_reads_the_same_with_or_without_the_scanner() {
    let outcomes = |text: &str| format!("{:?}", eks_access_doctor_core::input::parse_document(text.as_bytes()));
    for key in ["Records", "detail", "eventSource", "awslogs", "logEvents", "events", "QueryResultRows", "QueryStatus", "other"] {
        let doc = format!(r#"{{"Records":[{{"eventSource":"s3.amazonaws.com"}}],"{key}":[],"{key}":[]}}"#);
        // An escaped key makes the scanner unsure, so serde reads this one.
        let read_by_serde = format!("{},\"\\u0000\":0}}", &doc[..doc.len() - 1]);
        assert_eq!(outcomes(&doc), outcomes(&read_by_serde), "{doc}");
    }
}

// A Chatbot summary cut just after a `_` left it outside a word, where Slack's
// markdown could read it as the start of italics (found by the `fields` target).
#[test]
fn a_chatbot_cut_never_leaves_a_bare_underscore() {
    let mut cut_after_underscore = 0;
    for offset in 0..4 {
        let cluster = format!("{}{}", "a".repeat(offset), "b_".repeat(300));
        let bytes = edited_fixture("reserved-username-prefix.json", |r| r["requestParameters"]["name"] = serde_json::json!(cluster));
        let d = diagnose(parse_one(&bytes));
        let note = eks_access_doctor_core::render::chatbot::notification(&d, &d.findings[0]);
        for text in note.content.keywords.iter().chain([&note.metadata.summary]) {
            assert!(!text.contains("_…"), "{text}");
            cut_after_underscore += usize::from(text.ends_with("\u{FF3F}…"));
        }
    }
    assert!(cut_after_underscore > 0, "no cut landed just after an underscore: the test no longer tests anything");
}
