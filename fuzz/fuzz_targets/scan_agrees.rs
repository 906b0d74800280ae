//! The scanner's promise (crates/core/src/input/scan.rs): whenever it answers, serde agrees.
//! On arbitrary bytes (read as UTF-8, invalid sequences replaced):
//!
//! - `scan_head` answers only for what serde reads as one JSON object with the same
//!   `RecordHead` (the same five fields, each the same string or absent);
//! - `scan_log_file` answers only for one JSON object (then whitespace) whose
//!   `Records` list serde splits into the same items, text for text, each with the
//!   head `scan_head` gives for that text alone (checked as above), in a document the
//!   NDJSON path would not take;
//! - and end to end: `parse_document` gives exactly the same records when the scanner
//!   answers as when serde reads the same document (the scanner made unsure by an
//!   escaped key).
//!
//! "Unsure" (`None`) is always allowed: serde then decides.
#![no_main]
use eks_access_doctor_core::event::RecordHead;
use eks_access_doctor_core::input::{parse_document, scan_head, scan_log_file};
use libfuzzer_sys::fuzz_target;
use serde_json::value::RawValue;
use std::collections::BTreeMap;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    head_agrees(&text);
    log_file_agrees(&text);
});

type Fields<'a> = [Option<&'a str>; 5];

fn fields<'a>(h: &'a RecordHead) -> Fields<'a> {
    [&h.event_id, &h.event_time, &h.event_source, &h.event_name, &h.error_code].map(|f| f.as_deref())
}

fn head_agrees(raw: &str) {
    let Some(scanned) = scan_head(raw) else { return };
    let parsed = match serde_json::from_str::<RecordHead>(raw) {
        Ok(head) => head,
        Err(e) => panic!("scan read a head serde refuses ({e}): {raw:?}"),
    };
    assert_eq!(fields(&scanned), fields(&parsed), "scan and serde read different heads: {raw:?}");
    let value = serde_json::from_str::<&RawValue>(raw).unwrap_or_else(|e| panic!("scan read a head from invalid JSON ({e}): {raw:?}"));
    assert!(value.get().starts_with('{'), "scan read a head from a non-object: {raw:?}");
}

fn log_file_agrees(text: &str) {
    let Some(items) = scan_log_file(text) else { return };
    // `input::is_line_delimited`: the NDJSON path must not be the one serde would take.
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    if let (Some(first), Some(_)) = (lines.next(), lines.next()) {
        assert!(serde_json::from_str::<&RawValue>(first).is_err(), "scan split a document the NDJSON path reads: {text:?}");
    }
    // The generic path: a stream of JSON values, here exactly one object.
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<&RawValue>();
    let document = match stream.next() {
        Some(Ok(value)) => value,
        other => panic!("scan split a document serde does not read ({other:?}): {text:?}"),
    };
    assert!(stream.next().is_none(), "scan split a document serde reads as several values: {text:?}");
    let object: BTreeMap<String, &RawValue> = serde_json::from_str(document.get())
        .unwrap_or_else(|e| panic!("scan split a document serde does not read as an object ({e}): {text:?}"));
    let list = object.get("Records").unwrap_or_else(|| panic!("scan split a document serde finds no Records in: {text:?}"));
    let list: Vec<&RawValue> =
        serde_json::from_str(list.get()).unwrap_or_else(|e| panic!("scan split Records serde does not read as a list ({e}): {text:?}"));
    assert_eq!(items.len(), list.len(), "scan and serde count different records: {text:?}");
    for ((raw, head), want) in items.iter().zip(&list) {
        assert_eq!(*raw, want.get(), "scan and serde split records differently: {text:?}");
        let alone = scan_head(raw);
        assert_eq!(head.as_ref().map(fields), alone.as_ref().map(fields), "a head in the list differs from the record's own: {raw:?}");
        head_agrees(raw);
    }
    outcomes_agree(text);
}

/// `parse_document` on `text` (the scanner's path) and on `text` with an escaped key
/// no shape uses added last in its object (the scanner defers on escaped top-level keys,
/// so serde reads it; last, so error positions stay where they were): the same records,
/// numbers and outcomes.
fn outcomes_agree(text: &str) {
    let brace = text.rfind('}').expect("a log file ends with '}'");
    let slow = format!("{},\"\\u0000\":0{}", &text[..brace], &text[brace..]);
    assert!(scan_log_file(&slow).is_none(), "the scanner answered for an escaped key: {slow:?}");
    let (fast, slow) = (format!("{:?}", parse_document(text.as_bytes())), format!("{:?}", parse_document(slow.as_bytes())));
    assert_eq!(fast, slow, "the scanner's records differ from serde's: {text:?}");
}
