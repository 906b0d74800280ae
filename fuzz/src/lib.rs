//! Shared by the fuzz targets: the pipeline (parse → diagnose → render) and the
//! invariants whose violation would be a security bug. A broken invariant panics,
//! which libFuzzer reports as a crash with the input that caused it.

pub mod fields;

use eks_access_doctor_core::escape::is_unsafe_char;
use eks_access_doctor_core::facts::Facts;
use eks_access_doctor_core::finding::Finding;
use eks_access_doctor_core::input::{parse_document, Parsed};
use eks_access_doctor_core::render::sns::MessageFormat;
use eks_access_doctor_core::render::{chatbot, json, markdown, slack, sns, text, Diagnosis};
use serde_json::Value;

/// Checks for two bugs the fuzzing work found (now fixed, with regression tests in
/// tests/it/fuzz_regressions.rs): Markdown prose letting HTML entities through, and a
/// list value starting with `--` becoming an extra option of a suggested command.
/// On by default; `EAD_FUZZ_STRICT=0` turns them off.
pub fn strict() -> bool {
    static STRICT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *STRICT.get_or_init(|| std::env::var_os("EAD_FUZZ_STRICT").is_none_or(|v| v != "0"))
}

/// Inputs larger than this are not interesting for the renderers and only slow down
/// the run (the parser targets take whatever `-max_len` allows).
pub const RENDER_MAX_INPUT: usize = 64 * 1024;

/// Text meant for a terminal, an e-mail or a ticket: none of the characters
/// `escape::is_unsafe_char` defines (control, format, line and paragraph
/// separators, invisible fillers and selectors) but the newline.
pub fn assert_printable(what: &str, text: &str) {
    if let Some((i, c)) = text.char_indices().find(|&(_, c)| c != '\n' && is_unsafe_char(c)) {
        panic!("{what}: character U+{:04X} at byte {i}: {:?}", c as u32, context(text, i));
    }
}

fn context(text: &str, i: usize) -> &str {
    let mut start = i.saturating_sub(60);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (i + 60).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    &text[start..end]
}

/// The body of every render target: parse arbitrary bytes (bounded), diagnose with
/// default facts, and run `check` on each diagnosis; returns the ignored records.
pub fn render_each(data: &[u8], check: fn(&Diagnosis)) -> Vec<Parsed> {
    if data.len() > RENDER_MAX_INPUT {
        return Vec::new();
    }
    let (diagnoses, ignored) = pipeline(data, &Facts::default());
    diagnoses.iter().for_each(check);
    ignored
}

/// Every diagnosable event in a document, diagnosed with `facts`; ignored records
/// and errors are returned too so the JSON renderer can draw them.
pub fn pipeline(data: &[u8], facts: &Facts) -> (Vec<Diagnosis>, Vec<Parsed>) {
    let mut diagnoses = Vec::new();
    let mut ignored = Vec::new();
    for record in parse_document(data) {
        match record.outcome {
            Ok(Parsed::Event(event)) => {
                let d = eks_access_doctor_core::diagnose(*event, facts);
                check_diagnosis(&d);
                diagnoses.push(d);
            }
            Ok(other) => ignored.push(other),
            Err(message) => assert!(!message.is_empty(), "an error without a message"),
        }
    }
    (diagnoses, ignored)
}

// ---------------------------------------------------------------- diagnosis

/// What the catalogue promises about any diagnosis.
pub fn check_diagnosis(d: &Diagnosis) {
    let ids: Vec<&str> = d.findings.iter().map(|f| f.cause.id).collect();
    // A failed access-management call is never silent (`unclassified` is the
    // fallback); failed CreateCluster/UpdateClusterConfig calls about other
    // settings (logging, networking) may have nothing to report.
    let e = &d.event;
    let lower = e.message().to_lowercase();
    let about_access = eks_access_doctor_core::event::ACCESS_ENTRY_CALLS.contains(&e.event_name.as_str())
        || e.error_code().starts_with("AccessDenied")
        || e.request.access_config.is_some()
        || lower.contains("authentication mode")
        || lower.contains("access entr");
    if e.failed() && about_access {
        assert!(!d.findings.is_empty(), "a failed access-management call got no finding");
    }
    for (i, id) in ids.iter().enumerate() {
        assert!(!ids[..i].contains(id), "cause {id} reported twice: {ids:?}");
    }
    if ids.contains(&"unclassified") {
        assert_eq!(ids.len(), 1, "unclassified beside documented causes: {ids:?}");
    }
    assert!(d.findings.windows(2).all(|w| w[0].severity() >= w[1].severity()), "findings not sorted by severity: {ids:?}");
    let _ = eks_access_doctor_core::catalogue::lookup_plan(&d.event);
    for f in &d.findings {
        assert!(eks_access_doctor_core::catalogue::cause_by_id(f.cause.id).is_some(), "unknown cause {}", f.cause.id);
        for command in &f.commands {
            check_shell_command(command);
        }
    }
}

/// Commands are pasted into a shell: every event-supplied value must be quoted, so
/// outside single quotes only a fixed set of harmless characters may appear, plus
/// the one deliberate pipe of the RBAC-binding search (`kubectl … | jq …`). The
/// Identity Center commands come in a little shell of the crate's own (fixed
/// templates, see `simple_commands`): each command inside is checked the same way.
pub fn check_shell_command(command: &str) {
    let mut simple = Vec::new();
    simple_commands(&Line::new(command), command, &mut simple);
    for line in &simple {
        check_simple_command(&line.text, command);
    }
}

/// A command line and its skeleton: the same bytes, except that every byte inside
/// single quotes is `v`, so the crate's own shell can be found without reading a value.
struct Line {
    text: String,
    skel: String,
}

impl Line {
    fn new(text: &str) -> Line {
        let (mut skel, mut quoted, mut escape) = (Vec::with_capacity(text.len()), false, false);
        for &b in text.as_bytes() {
            skel.push(if quoted && b != b'\'' { b'v' } else { b });
            if escape {
                escape = false;
            } else if b == b'\'' {
                quoted = !quoted;
            } else if b == b'\\' && !quoted {
                escape = true;
            }
        }
        // Quoted bytes became ASCII and the others are whole characters: still UTF-8.
        Line { text: text.to_string(), skel: String::from_utf8(skel).expect("skeleton is UTF-8") }
    }

    /// The part at `range` (found in the skeleton, so on character boundaries of `text`).
    fn slice(&self, range: std::ops::Range<usize>) -> Line {
        Line { text: self.text[range.clone()].to_string(), skel: self.skel[range].to_string() }
    }

    /// `range` replaced by `with` (harmless ASCII).
    fn splice(&self, range: std::ops::Range<usize>, with: &str) -> Line {
        let join = |s: &str| format!("{}{with}{}", &s[..range.start], &s[range.end..]);
        Line { text: join(&self.text), skel: join(&self.skel) }
    }

    /// The holes of `pieces[0] HOLE pieces[1] … HOLE pieces[n]`, if the line is that
    /// template. A piece cannot be part of a value: unquoted values are harmless
    /// characters only, and no piece has a `v`.
    fn holes(&self, pieces: &[&str]) -> Option<Vec<Line>> {
        let (first, rest) = pieces.split_first()?;
        let mut at = first.len();
        if !self.skel.starts_with(first) {
            return None;
        }
        let mut holes = Vec::new();
        for (i, piece) in rest.iter().enumerate() {
            let found = if i + 1 == rest.len() {
                (self.skel.len() >= at + piece.len() && self.skel.ends_with(piece)).then(|| self.skel.len() - piece.len())?
            } else {
                at + self.skel[at..].find(piece)?
            };
            holes.push(self.slice(at..found));
            at = found + piece.len();
        }
        Some(holes)
    }
}

/// The simple commands of `line`: the line itself, or what the catalogue's shell
/// templates hold: `INSTANCE_ARN="$(…)"`, the permission-set `for` loop (two
/// commands and one quoted name), the associations' `for ID` loop, `A || B`,
/// `… > current-policy.json` or `trust-policy.json`, and `--flag "$(…)"` arguments.
/// `"$INSTANCE_ARN"`, `"$PERMISSION_SET_ARN"`, `"$PS"` and `"$ID"` become a plain word.
fn simple_commands(line: &Line, command: &str, out: &mut Vec<Line>) {
    const FOR_LOOP: &[&str] = &["for PS in $(", "); do [ \"$(", ")\" = ", " ] && PERMISSION_SET_ARN=$PS; done"];
    const ASSOCIATIONS_LOOP: &[&str] = &["for ID in $(", "); do ", "; done"];
    if let Some([list, describe]) = line.holes(ASSOCIATIONS_LOOP).as_deref() {
        simple_commands(list, command, out);
        return simple_commands(describe, command, out);
    }
    if let Some(at) = line.skel.find(" || ") {
        simple_commands(&line.slice(0..at), command, out);
        return simple_commands(&line.slice(at + 4..line.skel.len()), command, out);
    }
    if let Some([inner]) = line.holes(&["", " > trust-policy.json"]).as_deref() {
        return simple_commands(inner, command, out);
    }
    if let Some([inner]) = line.holes(&["INSTANCE_ARN=\"$(", ")\""]).as_deref() {
        return simple_commands(inner, command, out);
    }
    if let Some([list, describe, name]) = line.holes(FOR_LOOP).as_deref() {
        check_unquoted(&name.text, b"@%+=:,./_-", command);
        simple_commands(list, command, out);
        return simple_commands(describe, command, out);
    }
    if let Some([inner]) = line.holes(&["", " > current-policy.json"]).as_deref() {
        return simple_commands(inner, command, out);
    }
    if let Some(start) = line.skel.find(" \"$(") {
        if let Some(end) = line.skel[start..].find(")\"").map(|at| start + at) {
            simple_commands(&line.slice(start + 4..end), command, out);
            return simple_commands(&line.splice(start..end + 2, " NESTED"), command, out);
        }
    }
    let mut line = line.slice(0..line.skel.len());
    for var in ["\"$INSTANCE_ARN\"", "\"$PERMISSION_SET_ARN\"", "\"$PS\"", "\"$ID\""] {
        while let Some(at) = line.skel.find(var) {
            line = line.splice(at..at + var.len(), "VAR");
        }
    }
    out.push(line);
}

/// One simple command of `command` (the whole line, for messages).
fn check_simple_command(simple: &str, command: &str) {
    let program = simple.split(' ').next().unwrap_or("");
    assert!(matches!(program, "aws" | "eksctl" | "kubectl"), "command starts with {program:?}: {command:?}");
    let allowed_pipes =
        usize::from(simple.starts_with("kubectl get clusterrolebindings,rolebindings ") && simple.contains(" | jq -r --arg g "));
    let pipes = check_unquoted(simple, b"@%+=:,./_- |", command);
    assert!(pipes <= allowed_pipes, "unquoted pipe in command {command:?}");
    if strict() && program != "kubectl" {
        check_options(simple, command);
    }
}

/// Outside single quotes (and `\'`), only ASCII alphanumerics and `safe`; the number of `|`.
fn check_unquoted(text: &str, safe: &[u8], command: &str) -> usize {
    let mut pipes = 0;
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            quoted = c != '\'';
            continue;
        }
        match c {
            '\'' => quoted = true,
            '\\' if chars.peek() == Some(&'\'') => {
                chars.next();
            }
            c if c.is_ascii_alphanumeric() || (c.is_ascii() && safe.contains(&(c as u8))) => pipes += usize::from(c == '|'),
            c => panic!("unquoted {c:?} in command {command:?}"),
        }
    }
    assert!(!quoted, "unterminated quote in command {command:?}");
    pipes
}

/// The options the catalogue's `aws`/`eksctl` commands use; a value can add none.
const OPTIONS: &[&str] = &[
    "--cluster-name",
    "--principal-arn",
    "--type",
    "--username",
    "--kubernetes-groups",
    "--region",
    "--name",
    "--query",
    "--policy-arn",
    "--access-scope",
    "--access-config",
    "--role-arn",
    "--resources-vpc-config",
    "--update-id",
    "--role-name",
    "--path-prefix",
    "--policy-name",
    "--policy-document",
    "--policy-source-arn",
    "--action-names",
    "--resource-arns",
    "--cluster",
    "--arn",
    "--output",
    "--version-id",
    "--set-as-default",
    "--user-name",
    "--policy-id",
    "--filter",
    "--target-id",
    "--target-type",
    "--instance-arn",
    "--permission-set-arn",
    "--inline-policy",
    "--child-id",
    "--lookup-attributes",
    "--group",
    "--kubernetes-version",
    "--compute-config",
    "--kubernetes-network-config",
    "--storage-config",
    "--remote-network-config",
    "--namespace",
    "--service-account",
    "--target-role-arn",
    "--policy",
    "--disable-session-tags",
    "--association-id",
    "--addon-name",
    "--assume-role-policy-document",
    "--path",
];

/// Each word the shell passes (quotes removed) that starts with `-` is one of the
/// command's own options, each at most once: an event value cannot add or repeat one.
fn check_options(simple: &str, command: &str) {
    let mut seen = Vec::new();
    for word in shell_words(simple) {
        if word.starts_with('-') {
            // `--option=VALUE` is how the catalogue passes values that start with `-`.
            let option = word.split_once('=').map_or(word.as_str(), |(option, _)| option).to_string();
            assert!(OPTIONS.contains(&option.as_str()), "value injected option {word:?} into {command:?}");
            assert!(!seen.contains(&option), "option {option:?} repeated in {command:?}");
            seen.push(option);
        }
    }
}

/// POSIX word splitting for the quoting `sh()` writes (single quotes, `\'`).
fn shell_words(command: &str) -> Vec<String> {
    let (mut words, mut word, mut quoted, mut any) = (Vec::new(), String::new(), false, false);
    let mut chars = command.chars();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '\'') => quoted = false,
            (true, c) => word.push(c),
            (false, '\'') => (quoted, any) = (true, true),
            (false, '\\') => word.extend(chars.next()),
            (false, ' ') => {
                if any || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                any = false;
            }
            (false, c) => word.push(c),
        }
    }
    if any || !word.is_empty() {
        words.push(word);
    }
    words
}

// ---------------------------------------------------------------- text

const OUR_SGR: &[&str] = &["\x1b[0m", "\x1b[1;31m", "\x1b[1;33m", "\x1b[1;36m", "\x1b[1m", "\x1b[32m"];

pub fn check_text(d: &Diagnosis) {
    let plain = text::render(d, false);
    assert_printable("text", &plain);
    assert_eq!(plain.matches('\n').count(), expected_text_lines(d), "text: a value forged or swallowed a line:\n{plain}");
    // With colour, the only escape sequences are the palette's own.
    let mut coloured = text::render(d, true);
    for sgr in OUR_SGR {
        coloured = coloured.replace(sgr, "");
    }
    assert_printable("coloured text", &coloured);
    assert_eq!(coloured, plain, "colour changed more than the escape sequences");
}

/// The number of lines `text::render` writes: each value is one line, whatever it holds.
fn expected_text_lines(d: &Diagnosis) -> usize {
    if d.findings.is_empty() {
        return 1;
    }
    d.findings.iter().map(|f| finding_text_lines(d, f)).sum()
}

fn finding_text_lines(d: &Diagnosis, f: &Finding) -> usize {
    let mut lines = 1 + d.fields().len() + 1 + 2;
    if !f.steps.is_empty() {
        lines += 2 + f.steps.len();
    }
    if !f.commands.is_empty() {
        lines += 1 + f.commands.len();
    }
    if let Some(policy) = &f.iam_policy {
        lines += 2 + serde_json::to_string_pretty(policy).unwrap().lines().count();
    }
    lines + 2 * f.notes.len() + 3
}

// ---------------------------------------------------------------- JSON

pub fn check_json(d: &Diagnosis) {
    let record = json::diagnosis(d);
    let value = serde_json::to_value(&record).expect("NDJSON record serializes");
    let line = record.to_json();
    assert!(!line.contains('\n'), "NDJSON record spans lines");
    let back: Value = serde_json::from_str(&line).expect("NDJSON record does not parse back");
    assert_eq!(back, value, "NDJSON record does not round-trip");
    assert_eq!(back["event_id"].as_str(), Some(d.event.event_id.as_str()), "event_id changed");
    assert_eq!(back["cluster"].as_str(), d.event.cluster.as_deref(), "cluster changed");
    let findings = back["findings"].as_array().expect("findings is a list");
    assert_eq!(findings.len(), d.findings.len());
    for (json, f) in findings.iter().zip(&d.findings) {
        assert_eq!(json["cause"].as_str(), Some(f.cause.id));
        assert_eq!(json["explanation"].as_str(), Some(f.explanation.as_str()));
        assert_eq!(json["commands"].as_array().map(Vec::len), Some(f.commands.len()));
    }
}

pub fn check_json_ignored(p: &Parsed) {
    if let Parsed::Ignored { event_id, event_time, event_name, why } = p {
        let reason = why.reason();
        let record = json::ignored(event_id.as_deref(), event_time.as_deref(), event_name.as_deref(), &reason);
        let value = serde_json::to_value(&record).expect("NDJSON record serializes");
        let line = record.to_json();
        assert!(!line.contains('\n'));
        assert_eq!(serde_json::from_str::<Value>(&line).unwrap(), value);
        assert_eq!(value["findings"].as_array().map(Vec::len), Some(0));
    }
}

// ---------------------------------------------------------------- Markdown

/// Parses the Markdown as CommonMark (with GFM tables and strikethrough, as ticket
/// systems render it) and checks what a reader would see: exactly the code blocks
/// the renderer meant, with exactly their bodies (so no value closed a fence early or
/// opened one), no HTML, no link but the finding's documentation, no image, and no
/// invisible character in the displayed text.
pub fn check_markdown(d: &Diagnosis) {
    use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
    let mut md = markdown::render(d);
    assert_printable("markdown source", &md);
    // Known bug (see `strict`): entities decode to invisible characters. Outside
    // strict mode `&` is swapped for a private-use character so they cannot decode.
    let mask = |s: String| if strict() { s } else { s.replace('&', "\u{E000}") };
    md = mask(md);
    let docs: Vec<&str> = d.findings.iter().map(|f| f.cause.docs).collect();
    let mut blocks: Vec<(String, String)> = Vec::new();
    let mut in_block: Option<(String, String)> = None;
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    for event in Parser::new_ext(&md, options) {
        match event {
            Event::Start(Tag::CodeBlock(kind)) => {
                let info = match kind {
                    CodeBlockKind::Fenced(info) => info.to_string(),
                    CodeBlockKind::Indented => "<indented>".to_string(),
                };
                in_block = Some((info, String::new()));
            }
            Event::End(TagEnd::CodeBlock) => blocks.push(in_block.take().expect("code block end without start")),
            Event::Text(t) => match &mut in_block {
                Some((_, body)) => body.push_str(&t),
                None => assert_printable("markdown as displayed", &t),
            },
            Event::Code(t) => assert_printable("markdown inline code", &t),
            Event::Html(h) | Event::InlineHtml(h) => panic!("HTML in markdown: {h:?}\n{md}"),
            Event::Start(Tag::Link { dest_url, .. }) => {
                assert!(docs.contains(&dest_url.as_ref()), "a link to {dest_url:?} in markdown\n{md}")
            }
            Event::Start(Tag::Image { dest_url, .. }) => panic!("an image {dest_url:?} in markdown\n{md}"),
            _ => {}
        }
    }
    let mut expected = Vec::new();
    for f in &d.findings {
        if !f.commands.is_empty() {
            let body: Vec<String> = f.commands.iter().map(|c| inline_like(c)).collect();
            expected.push(("sh".to_string(), mask(body.join("\n") + "\n")));
        }
        if let Some(policy) = &f.iam_policy {
            let pretty = serde_json::to_string_pretty(policy).unwrap();
            let body: Vec<String> = pretty.lines().map(inline_like).collect();
            expected.push(("json".to_string(), mask(body.join("\n") + "\n")));
        }
    }
    assert_eq!(blocks, expected, "markdown code blocks differ from the ones rendered:\n{md}");
}

/// `escape::inline`, re-implemented so the check does not trust the code it checks
/// (only the set of characters to escape is shared: `escape::is_unsafe_char`).
pub fn inline_like(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe_char(c) => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------- Slack

pub fn check_slack(d: &Diagnosis) {
    for f in &d.findings {
        check_slack_payload(d, f);
    }
}

fn check_slack_payload(d: &Diagnosis, f: &Finding) {
    let payload = serde_json::to_value(slack::payload(d, f)).expect("payload serializes");
    let link = format!("<{}|AWS documentation>", f.cause.docs);
    let blocks = payload["blocks"].as_array().expect("blocks");
    assert!(blocks.len() <= 50, "{} blocks", blocks.len());
    let top = payload["text"].as_str().expect("top-level text");
    check_slack_text("text", top, &link, slack::SECTION_LIMIT);
    for block in blocks {
        let kind = block["type"].as_str().expect("block type");
        if let Some(t) = block["text"]["text"].as_str() {
            let limit = if kind == "header" { slack::HEADER_LIMIT } else { slack::SECTION_LIMIT };
            check_slack_text(kind, t, &link, limit);
            assert!(t.matches("```").count() % 2 == 0, "unbalanced code fence in {t:?}");
        }
        if let Some(fields) = block["fields"].as_array() {
            assert!(fields.len() <= 10, "{} fields", fields.len());
            for field in fields {
                check_slack_text("field", field["text"].as_str().expect("field text"), &link, slack::FIELD_LIMIT);
            }
        }
        for element in block["elements"].as_array().into_iter().flatten() {
            check_slack_text("context", element["text"].as_str().expect("element text"), &link, slack::SECTION_LIMIT);
        }
    }
    // Nothing anywhere in the payload (whatever key) may mention or link.
    let whole = payload.to_string().replace(&link, "");
    for bad in ["<!", "<@", "<#", "<http", "<mailto", "<"] {
        assert!(!whole.contains(bad), "{bad:?} in the Slack payload: {whole}");
    }
}

/// One Slack text object: within `limit` characters, no entity cut in half, and the
/// only `<`/`>` are those of the documentation link the renderer adds.
fn check_slack_text(what: &str, t: &str, link: &str, limit: usize) {
    assert!(t.chars().count() <= limit, "Slack {what} text has {} characters, over {limit}", t.chars().count());
    let rest = t.replace(link, "");
    assert!(!rest.contains('<') && !rest.contains('>'), "Slack {what}: unescaped angle bracket in {t:?}");
    assert!(!rest.contains("<!") && !rest.contains("<@"), "Slack {what}: a mention in {t:?}");
    assert_printable(&format!("Slack {what}"), t);
    // A `&` must start one of the three entities mrkdwn escaping writes.
    for (i, _) in rest.match_indices('&') {
        let tail = &rest[i..];
        assert!(
            tail.starts_with("&amp;") || tail.starts_with("&lt;") || tail.starts_with("&gt;"),
            "Slack {what}: bare or cut entity at {:?}",
            &tail[..tail.len().min(12)]
        );
    }
}

// ---------------------------------------------------------------- SNS

pub fn check_sns(d: &Diagnosis) {
    for f in &d.findings {
        let m = sns::message(d, f, MessageFormat::Text);
        assert!(!m.subject.is_empty(), "empty SNS subject");
        assert!(m.subject.len() < 100, "SNS subject of {} bytes: {:?}", m.subject.len(), m.subject);
        assert!(m.subject.chars().all(|c| c.is_ascii_graphic() || c == ' '), "SNS subject not printable ASCII: {:?}", m.subject);
        assert!(m.message.len() <= sns::MESSAGE_LIMIT, "SNS message of {} bytes", m.message.len());
        assert!(!m.message.is_empty(), "empty SNS message");
        assert_printable("SNS message", &m.message);
        for key in ["cause", "severity", "cluster", "account", "region"] {
            let value = m.attributes.get(key).unwrap_or_else(|| panic!("no SNS attribute {key}"));
            assert!(!value.trim().is_empty(), "SNS attribute {key} empty");
            assert!(value.chars().count() <= 256, "SNS attribute {key} too long");
            assert_printable(&format!("SNS attribute {key}"), value);
        }
        assert_eq!(m.attributes["cause"], f.cause.id);
        let body = serde_json::to_string(&m).expect("SNS message serializes");
        assert!(body.len() <= 2 * sns::MESSAGE_LIMIT);
        // The Chatbot body: the same subject and attributes, the notification as the message.
        let c = sns::message(d, f, MessageFormat::Chatbot);
        assert_eq!((&c.subject, &c.attributes), (&m.subject, &m.attributes), "the Chatbot format changed the subject or attributes");
        assert!(c.message.len() <= sns::MESSAGE_LIMIT, "Chatbot SNS message of {} bytes", c.message.len());
        check_chatbot_notification(d, f, &serde_json::from_str(&c.message).expect("the Chatbot message is JSON"));
    }
}

// ---------------------------------------------------------------- Chatbot

/// The labels the notification's description writes in bold.
const CHATBOT_LABELS: &[&str] =
    &["*Cluster*", "*Principal*", "*Caller*", "*Call*", "*Region*", "*Time*", "*Event*", "*Commands*", "*Minimal IAM policy*", "*Note*"];

/// The documented shape and limits, and what a chat client would read as markup: each
/// backtick toggles code, so a value with a backtick left in it would shift every piece
/// after it. Prose holds no markup but the labels and the docs link; code no `<`; the
/// facts are one line each; nothing invisible anywhere.
pub fn check_chatbot_notification(d: &Diagnosis, f: &Finding, n: &Value) {
    assert_eq!((n["version"].as_str(), n["source"].as_str()), (Some("1.0"), Some("custom")));
    let (content, metadata) = (&n["content"], &n["metadata"]);
    assert_eq!(content["textType"], "client-markdown");
    assert_eq!(metadata["eventType"], f.cause.id);
    let count = |v: &Value| v.as_str().expect("a string").chars().count();
    let strings = |v: &Value| v.as_array().into_iter().flatten().map(|s| s.as_str().expect("a string").to_string()).collect::<Vec<_>>();
    assert!(count(&content["title"]) <= chatbot::TITLE_LIMIT, "Chatbot title over its limit");
    assert!(count(&content["description"]) <= chatbot::DESCRIPTION_LIMIT, "Chatbot description over its limit");
    assert!(strings(&content["nextSteps"]).iter().all(|s| s.chars().count() <= chatbot::NEXT_STEP_LIMIT), "a next step over its limit");
    assert!(strings(&content["keywords"]).iter().all(|s| s.chars().count() <= chatbot::KEYWORD_LIMIT), "a keyword over its limit");
    let description = content["description"].as_str().unwrap();
    let link = format!("<{}|AWS documentation>", f.cause.docs);
    assert!(description.ends_with(&format!("{link} · cause `{}`", f.cause.id)), "the docs line is not last: {description}");
    let mut prose: Vec<String> = description.split('`').step_by(2).map(|p| p.replace(&link, "")).collect();
    prose.extend([content["title"].as_str().unwrap().to_string(), metadata["summary"].as_str().unwrap().to_string()]);
    prose.extend(
        strings(&content["nextSteps"]).into_iter().chain(strings(&content["keywords"])).chain(strings(&metadata["relatedResources"])),
    );
    prose.extend(metadata["additionalContext"].as_object().expect("additionalContext").values().map(|v| v.as_str().unwrap().to_string()));
    for text in &prose {
        let bare = CHATBOT_LABELS.iter().fold(text.clone(), |t, label| t.replace(label, ""));
        for markup in ["<", ">", "&", "*", "~", "`", "]("] {
            assert!(!bare.contains(markup), "{markup:?} in Chatbot prose {text:?}");
        }
        let chars: Vec<char> = bare.chars().collect();
        let word = |j: Option<usize>| j.and_then(|j| chars.get(j)).is_some_and(|c| c.is_alphanumeric());
        for (i, c) in chars.iter().enumerate() {
            assert!(*c != '_' || (word(i.checked_sub(1)) && word(Some(i + 1))), "'_' outside a word in Chatbot prose {text:?}");
            assert!(*c != '@' || word(i.checked_sub(1)), "a mention in Chatbot prose {text:?}");
        }
        assert_printable("Chatbot prose", text);
    }
    for code in description.split('`').skip(1).step_by(2) {
        assert!(!code.contains('<'), "'<' in Chatbot code {code:?}");
        assert_printable("Chatbot code", code);
    }
    let facts = description.split("\n\n").next().unwrap();
    assert_eq!(facts.lines().count(), d.fields().len() + 1, "a value forged a Chatbot fact line:\n{facts}");
    for line in facts.lines() {
        assert!(CHATBOT_LABELS.iter().any(|l| line.starts_with(&format!("{l} `"))) && line.ends_with('`'), "Chatbot fact line {line:?}");
    }
}

/// Every renderer and every invariant, for targets that exercise them all.
pub fn check_all(d: &Diagnosis) {
    check_diagnosis(d);
    check_text(d);
    check_json(d);
    check_markdown(d);
    check_slack(d);
    check_sns(d);
}
