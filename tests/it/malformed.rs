//! Bad input gets a clear error naming the record, never a panic, and never hides
//! the good records beside it.

use crate::support::*;
use eks_access_doctor_core::input::{parse_document, Parsed};
use std::io::Write;

fn errors(bytes: &[u8]) -> Vec<String> {
    parse_document(bytes).into_iter().filter_map(|r| r.outcome.err()).collect()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn each_bad_input_gets_a_named_error() {
    let ten_mb = format!("{{\"eventSource\":\"eks.amazonaws.com\",\"eventName\":\"CreateAccessEntry\",\"eventID\":\"x\",\"errorCode\":\"E\",\"errorMessage\":\"{}\"", "a".repeat(10 << 20));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("invalid JSON", b"{not json".to_vec(), "invalid JSON"),
        ("truncated JSON", fixture_text("reserved-group-prefix.json").as_bytes()[..200].to_vec(), "truncated JSON"),
        ("empty file", Vec::new(), "empty input"),
        ("white space only", b"  \n\t ".to_vec(), "empty input"),
        ("a bare string", b"\"hello\"".to_vec(), "expected a JSON object, found a string"),
        ("an unknown object", b"{\"hello\": 1}".to_vec(), "not a CloudTrail record"),
        (
            "wrong type for groups",
            edited_fixture("reserved-group-prefix.json", |r| r["requestParameters"]["kubernetesGroups"] = serde_json::json!([5])),
            "requestParameters.kubernetesGroups[0]",
        ),
        ("eventSource a number", b"{\"eventSource\": 5, \"eventID\": \"x\"}".to_vec(), "eventSource"),
        (
            "missing eventID",
            b"{\"eventSource\":\"eks.amazonaws.com\",\"eventName\":\"CreateAccessEntry\"}".to_vec(),
            "missing field `eventID`",
        ),
        ("Records not a list", b"{\"Records\": 7}".to_vec(), "\"Records\" is not a list"),
        ("invalid UTF-8", b"{\"Records\":[\"\xff\xfe\"]}".to_vec(), "not UTF-8"),
        (
            "truncated gzip",
            {
                let g = gzip(fixture_text("reserved-group-prefix.json").as_bytes());
                g[..g.len() / 2].to_vec()
            },
            "cannot decompress gzip",
        ),
        ("10 MB string, truncated", ten_mb.into_bytes(), "truncated JSON"),
        ("arrays nested 10 000 deep", format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes(), "nested JSON arrays"),
        (
            "objects nested 10 000 deep",
            format!("{}{}", "{\"a\":".repeat(10_000), "1}".to_string() + &"}".repeat(9_999)).into_bytes(),
            "not a CloudTrail record",
        ),
    ];
    for (name, bytes, want) in cases {
        let errs = errors(&bytes);
        assert_eq!(errs.len(), 1, "{name}: {errs:?}");
        assert!(errs[0].contains(want), "{name}: {:?} lacks {want:?}", errs[0]);
    }
}

#[test]
fn a_ten_megabyte_username_is_diagnosed_and_bounded() {
    let bytes = edited_fixture("reserved-username-prefix.json", |r| {
        r["requestParameters"]["username"] = serde_json::json!(format!("system:{}", "x".repeat(10 << 20)));
    });
    let d = diagnose(parse_one(&bytes));
    assert_eq!(cause_ids(&d), ["reserved-username-prefix"]);
    let slack = eks_access_doctor_core::render::slack::payload(&d, &d.findings[0]).to_json();
    assert!(slack.len() < 40_000, "slack payload {} bytes", slack.len());
    let sns = eks_access_doctor_core::render::sns::message(&d, &d.findings[0], eks_access_doctor_core::render::sns::MessageFormat::Text);
    assert!(sns.message.len() <= eks_access_doctor_core::render::sns::MESSAGE_LIMIT);
}

#[test]
fn good_records_survive_beside_bad_ones_in_ndjson() {
    let good =
        serde_json::to_string(&serde_json::from_str::<serde_json::Value>(&fixture_text("reserved-group-prefix.json")).unwrap()).unwrap();
    let text = format!("{good}\n{{broken\n\n{good}\n");
    let records = parse_document(text.as_bytes());
    assert_eq!(records.len(), 3);
    assert!(matches!(records[0].outcome, Ok(Parsed::Event(_))));
    assert!(records[1].outcome.as_ref().unwrap_err().starts_with("line 2:"));
    assert!(matches!(records[2].outcome, Ok(Parsed::Event(_))));
}

#[test]
fn a_bad_record_in_a_log_file_does_not_hide_the_others() {
    let record = serde_json::from_str::<serde_json::Value>(&fixture_text("reserved-group-prefix.json")).unwrap()["detail"].clone();
    let log = serde_json::json!({"Records": [record, {"eventSource": "eks.amazonaws.com", "eventName": "CreateAccessEntry"}, record]});
    let records = parse_document(&gzip(log.to_string().as_bytes()));
    let outcomes: Vec<bool> = records.iter().map(|r| r.outcome.is_ok()).collect();
    assert_eq!(outcomes, [true, false, true]);
    assert_eq!(records[1].number, 2);
}

#[test]
fn every_input_shape_is_read() {
    let envelope: serde_json::Value = serde_json::from_str(&fixture_text("reserved-group-prefix.json")).unwrap();
    let record = envelope["detail"].clone();
    let shapes: Vec<(&str, Vec<u8>)> = vec![
        ("EventBridge envelope", envelope.to_string().into_bytes()),
        ("bare record", record.to_string().into_bytes()),
        ("log file", serde_json::json!({"Records": [record]}).to_string().into_bytes()),
        ("gzip log file", gzip(serde_json::json!({"Records": [record]}).to_string().as_bytes())),
        ("JSON array", serde_json::json!([envelope]).to_string().into_bytes()),
        ("pretty-printed", serde_json::to_string_pretty(&record).unwrap().into_bytes()),
        ("CloudTrail Lake rows, maps and structs cast to JSON", lake_rows(&record)),
    ];
    for (name, bytes) in shapes {
        let event = parse_one(&bytes);
        assert_eq!(event.cluster.as_deref(), Some("data-platform"), "{name}");
    }
}

/// `record` as `get-query-results` output of a query that cast `userIdentity` and
/// `requestParameters` to JSON: every value a string, a nested request field JSON text
/// inside the map's JSON (`json_format(CAST(requestParameters AS JSON))`).
fn lake_rows(record: &serde_json::Value) -> Vec<u8> {
    let text = |v: &serde_json::Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
    let params: serde_json::Map<String, serde_json::Value> =
        record["requestParameters"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), text(v).into())).collect();
    let row: Vec<serde_json::Value> = eks_access_doctor_core::input::LAKE_COLUMNS
        .iter()
        .map(|&k| match k {
            "requestParameters" => serde_json::json!({ k: serde_json::Value::Object(params.clone()).to_string() }),
            _ => serde_json::json!({ k: text(&record[k]) }),
        })
        .collect();
    serde_json::json!({"QueryStatus": "FINISHED", "QueryResultRows": [row]}).to_string().into_bytes()
}

#[test]
fn an_envelope_whose_source_lies_is_skipped_with_the_reason() {
    let mut envelope: serde_json::Value = serde_json::from_str(&fixture_text("reserved-group-prefix.json")).unwrap();
    envelope["source"] = serde_json::json!("aws.s3");
    let records = parse_document(envelope.to_string().as_bytes());
    match &records[0].outcome {
        Ok(Parsed::Ignored { why, .. }) => assert!(why.reason().contains("disagrees"), "{}", why.reason()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn deep_nesting_inside_ignored_fields_is_skipped_without_recursion() {
    let text = format!(
        "{{\"eventSource\":\"eks.amazonaws.com\",\"eventName\":\"CreateAccessEntry\",\"eventID\":\"x\",\"requestParameters\":{{\"name\":\"c\",\"extra\":{}1{}}}}}",
        "{\"a\":".repeat(10_000),
        "}".repeat(10_000)
    );
    let event = parse_one(text.as_bytes());
    assert_eq!(event.cluster.as_deref(), Some("c"));
}

/// The one-call inflate (libdeflate) and the streaming one (zlib-rs) read every gzip
/// shape the same way: the same bytes and the same error (a whole single member takes
/// the fast path; the rest stream, so their errors are the streaming ones).
#[test]
fn gzip_reads_the_same_by_either_path() {
    let log = fixture_text("reserved-group-prefix.json").into_bytes();
    let one = gzip(&log);
    let two = [gzip(&log), gzip(b"{\"Records\":[]}")].concat();
    let mut corrupt = one.clone();
    let middle = corrupt.len() / 2;
    corrupt[middle] ^= 0x55;
    let mut bad_crc = one.clone();
    let crc_at = bad_crc.len() - 8;
    bad_crc[crc_at] ^= 1;
    // A trailer claiming 4 GiB - 1 for a few bytes: no such buffer may be made.
    let mut lying_size = one.clone();
    let size_at = lying_size.len() - 4;
    lying_size[size_at..].copy_from_slice(&u32::MAX.to_le_bytes());
    let mut short_size = one.clone();
    short_size[size_at..].copy_from_slice(&((log.len() - 1) as u32).to_le_bytes());
    // (name, bytes, whether it reads without error)
    let cases: Vec<(&str, Vec<u8>, bool)> = vec![
        ("one member", one.clone(), true),
        ("two members", two, true),
        ("trailing garbage", [one.clone(), b"garbage".to_vec()].concat(), false),
        ("truncated", one[..one.len() - 10].to_vec(), false),
        ("truncated in the header", one[..5].to_vec(), false),
        ("corrupt deflate data", corrupt, false),
        ("bad CRC", bad_crc, false),
        ("lying size", lying_size, false),
        ("short size", short_size, false),
        ("empty member", gzip(b""), true),
    ];
    for (name, bytes, reads) in cases {
        let [used, streamed] = eks_access_doctor_core::input::inflate_both_ways(&bytes);
        assert_eq!(used, streamed, "{name}: the paths disagree");
        assert_eq!(streamed.1.is_none(), reads, "{name}: {:?}", streamed.1);
        if name == "one member" {
            assert_eq!(used.0, log);
        }
        // The fast path answers for whole single members only.
        #[cfg(feature = "libdeflate")]
        assert_eq!(gunzip::single_member(&bytes, usize::MAX).is_some(), reads && name != "two members", "{name}");
    }
}

/// Counting ignored records (what `replay` does unless it lists them) drops only their
/// ids, times and names: every outcome, error and event is the same.
#[test]
fn counting_ignored_records_changes_nothing_else() {
    use eks_access_doctor_core::input::{parse_document_with, Ignoring};
    for entry in std::fs::read_dir(events_dir().join("cloudtrail")).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let (described, counted) = (parse_document_with(&bytes, Ignoring::Describe), parse_document_with(&bytes, Ignoring::Count));
        assert_eq!(described.len(), counted.len());
        let mut ignored = 0;
        for (d, c) in described.iter().zip(&counted) {
            match (&d.outcome, &c.outcome) {
                (
                    Ok(Parsed::Ignored { event_id, why, .. }),
                    Ok(Parsed::Ignored { event_id: None, event_time: None, event_name: None, why: w }),
                ) => {
                    assert!(event_id.is_some());
                    assert_eq!(why.reason(), w.reason());
                    ignored += 1;
                }
                (d, c) => assert_eq!(format!("{d:?}"), format!("{c:?}")),
            }
        }
        assert!(ignored > 0, "the bundled log files hold other services' records");
    }
}
