//! The `eks-access-doctor` binary as a user runs it.

use eks_access_doctor_core::catalogue::cause_by_id;
use eks_access_doctor_core::finding::Reach;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_eks-access-doctor"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn json_lines(o: &Output) -> Vec<Value> {
    stdout(o).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// Whether a cause matches on live facts or the function's state alone (tests/it/catalogue.rs
/// checks them with their facts): offline, its fixture has no finding.
fn live_only(id: &str) -> bool {
    cause_by_id(id).is_some_and(|c| matches!(c.reach, Reach::Live { .. } | Reach::SecondLook { .. } | Reach::History))
}

/// For a cause that needs the cluster's Kubernetes API, the cause that speaks offline
/// instead (and says the check was not possible).
fn kubernetes_fallback(id: &str) -> Option<&'static str> {
    match cause_by_id(id)?.reach {
        Reach::Kubernetes { instead } => Some(instead),
        _ => None,
    }
}

#[test]
fn replay_json_gives_each_fixture_its_cause_id() {
    let out = run(&["replay", "events", "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let objects = json_lines(&out);
    for entry in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("events")).unwrap() {
        let path = entry.unwrap().path();
        let Some(stem) = path.file_name().unwrap().to_str().unwrap().strip_suffix(".json") else { continue };
        let fixture: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let id = fixture["detail"]["eventID"].as_str().unwrap();
        let object = objects.iter().find(|o| o["event_id"] == id).unwrap_or_else(|| panic!("{stem} missing"));
        if live_only(stem) {
            assert_eq!(object["findings"], serde_json::json!([]), "{stem} needs live facts: offline it has no finding");
            continue;
        }
        if let Some(fallback) = kubernetes_fallback(stem) {
            assert_eq!(object["findings"][0]["cause"], fallback, "{stem} needs the Kubernetes API: offline its fallback says so");
            assert!(object["findings"][0]["notes"].to_string().contains("no Kubernetes access"), "{stem}: {}", object["findings"][0]);
            continue;
        }
        let want = stem.strip_suffix("-explicit-deny").unwrap_or(stem);
        assert_eq!(object["findings"][0]["cause"], want, "{stem}");
        for key in ["event_time", "event_name", "cluster", "principal"] {
            assert!(object.get(key).is_some(), "{key}");
        }
        for key in ["cause", "severity", "title", "explanation", "remediation", "docs"] {
            assert!(object["findings"][0].get(key).is_some(), "{key}");
        }
    }
}

#[test]
fn one_object_per_input_record_in_input_order() {
    let log = "events/cloudtrail/111122223333_CloudTrail_eu-west-1_20261128T1015Z_3hZ8nGQf.json";
    let out = run(&["replay", log, "--format", "json"]);
    let records: Value = serde_json::from_str(&std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(log)).unwrap()).unwrap();
    let ids: Vec<&Value> = records["Records"].as_array().unwrap().iter().map(|r| &r["eventID"]).collect();
    let lines = json_lines(&out);
    let got: Vec<Value> = lines.iter().map(|o| o["event_id"].clone()).collect();
    assert_eq!(got.iter().collect::<Vec<_>>(), ids);
    // One shape for every line: the same keys in the same order; `ignored` only on skipped records.
    let keys = |o: &Value| o.as_object().unwrap().keys().filter(|k| *k != "ignored").cloned().collect::<Vec<_>>();
    let want = ["event_id", "event_time", "event_name", "cluster", "principal", "caller", "region", "account", "error_code", "findings"];
    assert!(lines.iter().any(|o| o.get("ignored").is_some()) && lines.iter().any(|o| o.get("ignored").is_none()));
    for line in &lines {
        assert_eq!(keys(line), want, "{line}");
    }
}

#[test]
fn unreadable_input_fails_the_run_but_not_the_other_records() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"Records\": [").unwrap();
    let out = run(&["replay", bad.to_str().unwrap(), "events/reserved-group-prefix.json", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.json: record 1: truncated JSON"), "{stderr}");
    assert_eq!(json_lines(&out)[0]["findings"][0]["cause"], "reserved-group-prefix");
}

/// Runs the binary: its output and its peak resident memory in bytes. A small launcher
/// (Python: fork, exec, `wait4`) stands between: Linux carries a process's peak RSS
/// across `execve`, and a child spawned straight from this test binary (vfork-style,
/// sharing its memory until exec) would report this large multi-threaded process's
/// peak as its own, so the figure would depend on which tests ran beside it.
#[cfg(unix)]
fn run_measured(args: &[&str]) -> (Output, u64) {
    const LAUNCHER: &str = "import os, sys\n\
        pid = os.fork()\n\
        if pid == 0:\n    os.execv(sys.argv[2], sys.argv[2:])\n\
        _, status, usage = os.wait4(pid, 0)\n\
        open(sys.argv[1], 'w').write(str(usage.ru_maxrss))\n\
        sys.exit(os.waitstatus_to_exitcode(status))\n";
    let report = tempfile::NamedTempFile::new().unwrap();
    let out = Command::new("python3")
        .args(["-c", LAUNCHER])
        .arg(report.path())
        .arg(env!("CARGO_BIN_EXE_eks-access-doctor"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run python3, the measuring launcher");
    let kib: u64 = std::fs::read_to_string(report.path()).unwrap().trim().parse().expect("the launcher reports ru_maxrss");
    (out, kib * 1024)
}

/// A hostile directory: a 2 GB file (sparse: no disk used), a symlink loop, a corrupt
/// gzip member after a good one, a truncated gzip object, a file whose read fails
/// (EIO, even for root), a FIFO and a device. Every readable record is processed (the
/// good member and the truncated object's whole records too), every problem is named,
/// nothing blocks, memory stays small (the big file is refused before a byte of it is
/// read), and the exit status is 1.
#[cfg(unix)]
#[test]
fn a_hostile_directory_names_every_problem_and_reads_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::File::create(d.join("huge.json")).unwrap().set_len(2 << 30).unwrap();
    std::os::unix::fs::symlink(d.join("loop-b.json"), d.join("loop-a.json")).unwrap();
    std::os::unix::fs::symlink(d.join("loop-a.json"), d.join("loop-b.json")).unwrap();
    let gzip = |bytes: &[u8]| {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, bytes).unwrap();
        gz.finish().unwrap()
    };
    let mut members = gzip(&std::fs::read("events/reserved-group-prefix.json").unwrap());
    members.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3]);
    std::fs::write(d.join("members.json.gz"), &members).unwrap();
    // An NDJSON object cut short (an interrupted upload): the first line survives whole.
    let first = std::fs::read_to_string("events/node-type-requires-role.json").unwrap();
    let filler: String = (0..200).map(|i| format!("{{\"eventVersion\":\"1.09\",\"eventID\":\"filler-{i}\"}}\n")).collect();
    let ndjson = format!("{}\n{filler}", serde_json::to_string(&serde_json::from_str::<Value>(&first).unwrap()).unwrap());
    let cut = gzip(ndjson.as_bytes());
    std::fs::write(d.join("truncated.ndjson.gz"), &cut[..cut.len() * 2 / 3]).unwrap();
    std::os::unix::fs::symlink("/proc/self/mem", d.join("eio.json")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", d.join("device.json")).unwrap();
    assert!(Command::new("mkfifo").arg(d.join("fifo.json")).status().unwrap().success());
    std::fs::copy("events/reserved-username-prefix.json", d.join("ok.json")).unwrap();

    let (out, peak) = run_measured(&["replay", d.to_str().unwrap(), "--format", "json", "--only-findings"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("huge.json: cannot read: 2147483648 bytes, more than the 1073741824 bytes one document may have"), "{stderr}");
    assert!(stderr.contains("loop-a.json: cannot read") && stderr.contains("loop-b.json: cannot read"), "{stderr}");
    assert!(stderr.contains("members.json.gz: record 2: cannot decompress gzip"), "{stderr}");
    assert!(stderr.contains("truncated.ndjson.gz: record"), "{stderr}");
    assert!(stderr.contains("eio.json: cannot read: Input/output error"), "{stderr}");
    for name in ["fifo.json", "device.json"] {
        assert!(stderr.contains(&format!("{name}: not a regular file (a FIFO, socket or device): not read")), "{stderr}");
    }
    let causes: Vec<Value> = json_lines(&out).iter().map(|o| o["findings"][0]["cause"].clone()).collect();
    assert_eq!(
        causes,
        ["reserved-group-prefix", "reserved-username-prefix", "node-type-requires-role"],
        "the good member, the readable file and the truncated object's whole first record are read"
    );
    assert!(peak < 64 << 20, "peak memory {peak} bytes");
}

#[test]
fn a_missing_path_is_a_usage_error() {
    let out = run(&["replay", "no/such/file.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/file.json"));
}

#[test]
fn min_severity_hides_lower_findings() {
    let out = run(&["replay", "events", "--format", "json", "--min-severity", "error", "--only-findings"]);
    let objects = json_lines(&out);
    assert!(!objects.is_empty());
    for o in objects {
        for f in o["findings"].as_array().unwrap() {
            assert_eq!(f["severity"], "error", "{o}");
        }
    }
}

#[test]
fn reads_standard_input() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_eks-access-doctor"))
        .args(["replay", "-", "--format", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let text = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("events/service-linked-role.json")).unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), &text).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(json_lines(&out)[0]["findings"][0]["cause"], "service-linked-role");
}

#[test]
fn text_output_has_no_colour_when_not_a_terminal_and_every_sample_is_diagnosed() {
    let out = run(&["replay", "events"]);
    let text = stdout(&out);
    assert!(!text.contains('\x1b'));
    assert!(text.contains("[auth-mode-irreversible]"));
    assert!(text.contains("nothing to report"));
}

#[test]
fn catalogue_page_matches_causes() {
    let table = stdout(&run(&["causes", "--format", "markdown"]));
    let page = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/src/catalogue.md")).unwrap();
    let section = page
        .split_once("<!-- causes:start -->\n")
        .and_then(|(_, rest)| rest.split_once("<!-- causes:end -->"))
        .map(|(section, _)| section)
        .expect("docs/src/catalogue.md has a causes section");
    assert_eq!(section, table, "docs/src/catalogue.md is out of date: paste `eks-access-doctor causes --format markdown`");
}

#[test]
fn causes_json_lists_every_id_once() {
    let out = run(&["causes", "--format", "json"]);
    let ids: Vec<String> = json_lines(&out).iter().map(|o| o["id"].as_str().unwrap().to_string()).collect();
    assert!(ids.len() >= 13);
    assert!(ids.contains(&"unclassified".to_string()));
    for cause in json_lines(&out) {
        let sources = cause["sources"].as_array().unwrap();
        assert!(!sources.is_empty(), "{} prints no sources", cause["id"]);
        assert!(sources.iter().all(|s| s["page"].is_string() && s["quote"].is_string()), "{}", cause["id"]);
    }
}

#[test]
fn doc_samples_match_what_the_tool_prints() {
    let text = stdout(&run(&["replay", "events/reserved-username-prefix.json", "--no-summary"]));
    assert_eq!(crate::support::doc_sample("text"), text, "the text sample is stale");
    let denial = stdout(&run(&["replay", "events/authenticator/identity-not-mapped.json", "--no-summary"]));
    assert_eq!(crate::support::doc_sample("authenticator"), denial, "the authenticator sample is stale");

    let sns: Value =
        serde_json::from_str(stdout(&run(&["replay", "events/node-type-requires-role.json", "--format", "sns"])).trim()).unwrap();
    let attributes: Vec<String> =
        sns["attributes"].as_object().unwrap().iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap())).collect();
    let want = format!(
        "Subject: {}\nAttributes: {}\n\n{}",
        sns["subject"].as_str().unwrap(),
        attributes.join(", "),
        sns["message"].as_str().unwrap()
    );
    assert_eq!(crate::support::doc_sample("sns"), want, "the SNS sample is stale");

    let slack: Value =
        serde_json::from_str(stdout(&run(&["replay", "events/node-type-requires-role.json", "--format", "slack"])).trim()).unwrap();
    let readme_slack: Value = serde_json::from_str(&crate::support::doc_sample("slack")).unwrap();
    assert_eq!(readme_slack, slack, "the Slack sample is stale");

    let chatbot: Value = serde_json::from_str(
        stdout(&run(&["replay", "events/reserved-username-prefix.json", "--format", "chatbot", "--no-summary"])).trim(),
    )
    .unwrap();
    let readme_chatbot: Value = serde_json::from_str(&crate::support::doc_sample("chatbot")).unwrap();
    assert_eq!(readme_chatbot, chatbot, "the Chatbot sample is stale");
}

/// `--format chatbot`: one notification per finding, one per line, each the JSON the
/// function publishes with SNS_MESSAGE_FORMAT=chatbot; events without findings print nothing.
#[test]
fn replay_chatbot_prints_one_notification_per_finding() {
    let findings: usize =
        json_lines(&run(&["replay", "events", "--format", "json"])).iter().map(|o| o["findings"].as_array().unwrap().len()).sum();
    let out = run(&["replay", "events", "--format", "chatbot"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let notifications = json_lines(&out);
    assert_eq!(notifications.len(), findings);
    for n in &notifications {
        assert_eq!((n["version"].as_str(), n["source"].as_str()), (Some("1.0"), Some("custom")), "{n}");
        assert_eq!(n["content"]["textType"], "client-markdown");
    }
}

/// Every saved shape beyond CloudTrail files: `lookup-events` output (CLI v1 with epoch
/// times, v2 with ISO times), CloudTrail Lake `get-query-results` output, and the
/// authenticator log as a subscription payload, `filter-log-events` output and
/// `aws logs tail` lines. Each record becomes one line.
#[test]
fn every_saved_shape_is_read() {
    let causes = |path: &str| -> Vec<(Value, Vec<String>)> {
        let out = run(&["replay", path, "--format", "json"]);
        assert!(out.status.success(), "{path}: {}", String::from_utf8_lossy(&out.stderr));
        json_lines(&out)
            .into_iter()
            .map(|o| {
                let ids = o["findings"].as_array().unwrap().iter().map(|f| f["cause"].as_str().unwrap().to_string()).collect();
                (o["ignored"].clone(), ids)
            })
            .collect()
    };
    for lookup in ["events/lookup-events/cli-v1.json", "events/lookup-events/cli-v2.json"] {
        let got: Vec<Vec<String>> = causes(lookup).into_iter().map(|(_, c)| c).collect();
        assert_eq!(got, [vec!["missing-iam-permission".to_string()], vec!["node-type-requires-role".to_string()]], "{lookup}");
    }
    // Three rows: a refused CreateAccessEntry, an S3 call (skipped, with why) and an AssociateAccessPolicy.
    let lake = causes("events/lake/get-query-results.json");
    assert_eq!(lake.len(), 3);
    assert_eq!(lake[0].1, ["reserved-username-prefix"]);
    assert_eq!(lake[1].0, "not an EKS event");
    assert_eq!(lake[2].1, ["access-scope-namespaces"]);
    // A granted line, an STS response line (both skipped, with why) and a denial.
    for log in ["events/authenticator/subscription.json", "events/authenticator/filter-log-events.json"] {
        let got = causes(log);
        assert_eq!(got.len(), 3, "{log}");
        assert!(
            got[0].0.as_str().unwrap().contains("granting access") && got[1].0.as_str().unwrap().contains("STS response"),
            "{log}: {got:?}"
        );
        assert_eq!(got[2].1, ["identity-not-mapped"], "{log}");
    }
    let tail: Vec<Vec<String>> = causes("events/authenticator/logs-tail.log").into_iter().map(|(_, c)| c).collect();
    assert_eq!(tail.concat(), ["identity-not-mapped", "sts-token-rejected"]);
    let control = causes("events/authenticator/control-message.json");
    assert_eq!(control.len(), 1);
    assert!(control[0].0.as_str().unwrap().contains("CONTROL_MESSAGE"));
}

/// A Lake query that did not select what diagnosis reads: each row is an error naming
/// the columns to add and the query to run, and the run fails.
#[test]
fn lake_rows_without_the_needed_columns_say_what_to_select() {
    let out = run(&["replay", "tests/fixtures/lake/missing-columns.json", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for n in [1, 2] {
        let want = format!(
            "missing-columns.json: record {n}: CloudTrail Lake row {n} lacks eventSource, eventName, awsRegion, recipientAccountId, requestParameters: select them in the query (SELECT eventID, eventTime, eventSource, eventName,"
        );
        assert!(stderr.contains(&want), "{stderr}");
    }
    assert!(json_lines(&out).is_empty());
}

/// A saved authenticator log with `access granted` lines: read, and without live facts
/// left alone with why (only the bindings can say a group is wrong), never a finding.
#[test]
fn replay_reads_granted_lines_and_says_why_they_were_not_checked() {
    let out = run(&["replay", "events/authenticator/group-not-bound.json", "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["findings"], serde_json::json!([]));
    let why = lines[0]["ignored"].as_str().unwrap();
    assert!(why.contains("granting access") && why.contains("not checked against the cluster's bindings"), "{why}");
    assert_eq!(lines[0]["event_name"], "Authenticate");
    let text = run(&["replay", "events/authenticator/group-not-bound.json"]);
    assert!(text.status.success());
    let summary = String::from_utf8_lossy(&text.stderr);
    assert!(summary.contains("1 record(s): 0 EKS access event(s), 1 ignored"), "{summary}");
}

/// Files finish out of order (one worker per core, a file as soon as one is free, and
/// here every fifth file is large), yet the output keeps the input's order, across far
/// more files than the reading window holds.
#[test]
fn many_files_print_in_path_order() {
    let dir = tempfile::tempdir().unwrap();
    let record = |n: usize| {
        format!(r#"{{"eventID":"id-{n:04}","eventTime":"2026-11-28T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject"}}"#)
    };
    for n in 0..300 {
        let copies = if n % 5 == 0 { 1000 } else { 1 };
        let records: Vec<String> = (0..copies).map(|_| record(n)).collect();
        std::fs::write(dir.path().join(format!("{n:04}.json")), format!("{{\"Records\":[{}]}}", records.join(","))).unwrap();
    }
    let out = run(&["replay", dir.path().to_str().unwrap(), "--format", "json", "--no-summary"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let ids: Vec<String> = json_lines(&out).iter().map(|o| o["event_id"].as_str().unwrap().to_string()).collect();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(ids.len(), 300 * 4 / 5 + 60 * 1000);
    assert!(ids == want, "replay printed files out of order");
}
