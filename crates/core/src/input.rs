//! Every shape a user has: EventBridge envelopes, bare CloudTrail records, CloudTrail
//! log files (`{"Records":[...]}`, plain or gzip), `aws cloudtrail lookup-events`
//! output, CloudTrail Lake `get-query-results` output, CloudWatch Logs subscription
//! payloads and CLI output, raw authenticator log lines, JSON arrays and NDJSON of any
//! of these. One bad record never hides the others: each gets its own outcome.

use crate::event::{relevance, CloudTrailRecord, Event, Ignored, RecordHead};
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::io::Read;

/// A decompressed document larger than this is refused (gzip bombs, runaway input).
pub const MAX_DOCUMENT_BYTES: u64 = 1 << 30;

/// What became of one input record.
#[derive(Debug)]
pub enum Parsed {
    /// An EKS access-management call, ready for diagnosis.
    Event(Box<Event>),
    /// Deliberately skipped, with what is known of it (its id, time and name are left
    /// out when parsed with `Ignoring::Count`).
    Ignored { event_id: Option<String>, event_time: Option<String>, event_name: Option<String>, why: Ignored },
}

/// One record's outcome and where it was found (1-based record number in its source).
#[derive(Debug)]
pub struct Record {
    pub number: usize,
    pub outcome: Result<Parsed, String>,
}

/// Records numbered as they are found: the next one is the source's record `len + 1`.
pub(crate) trait Numbered {
    fn add(&mut self, outcome: Result<Parsed, String>);
}

impl Numbered for Vec<Record> {
    fn add(&mut self, outcome: Result<Parsed, String>) {
        let number = self.len() + 1;
        self.push(Record { number, outcome });
    }
}

/// Reads bytes that may be gzip-compressed, up to `MAX_DOCUMENT_BYTES`.
pub fn decompress(bytes: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, String> {
    match decompress_what_reads(bytes) {
        (text, None) => Ok(text),
        (_, Some(e)) => Err(e),
    }
}

/// `decompress`, keeping what decoded before a corrupt or truncated gzip member
/// (the members before it are whole documents), with why it stopped. Nothing is kept
/// past the size limit. A whole single-member file (every CloudTrail log file) is
/// inflated in one call; anything else streams, and says what is wrong.
fn decompress_what_reads(bytes: &[u8]) -> (std::borrow::Cow<'_, [u8]>, Option<String>) {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return (std::borrow::Cow::Borrowed(bytes), None);
    }
    #[cfg(feature = "libdeflate")]
    if let Some(whole) = gunzip::single_member(bytes, MAX_DOCUMENT_BYTES as usize) {
        return (std::borrow::Cow::Owned(whole), None);
    }
    inflate_streaming(bytes)
}

/// The streaming gzip path (zlib-rs): every member, up to the limit, and the error
/// that stopped it.
fn inflate_streaming(bytes: &[u8]) -> (std::borrow::Cow<'_, [u8]>, Option<String>) {
    let mut out = Vec::with_capacity(bytes.len() * 8);
    let read = flate2::read::MultiGzDecoder::new(bytes).take(MAX_DOCUMENT_BYTES + 1).read_to_end(&mut out);
    if out.len() as u64 > MAX_DOCUMENT_BYTES {
        return (std::borrow::Cow::Borrowed(&[]), Some(format!("decompressed size exceeds {MAX_DOCUMENT_BYTES} bytes")));
    }
    let error = read.err().map(|e| format!("cannot decompress gzip: {e} (truncated or corrupt file?)"));
    (std::borrow::Cow::Owned(out), error)
}

/// For the `inflate_agrees` fuzz target only, not an API: what gzip input (starting
/// with the gzip magic; anything else is read as text) decodes to
/// by the path `parse_document` takes, and by the streaming path alone (the same
/// bytes and error, or the fast path is wrong).
#[doc(hidden)]
pub fn inflate_both_ways(bytes: &[u8]) -> [(Vec<u8>, Option<String>); 2] {
    [decompress_what_reads(bytes), inflate_streaming(bytes)].map(|(text, error)| (text.into_owned(), error))
}

/// What `parse_document_with` keeps of an ignored record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ignoring {
    /// Its id, time and name, to say what was skipped.
    Describe,
    /// Only that it was, and why: no copies of its fields. A replay's records are
    /// mostly other services', and only `--format json` without `--only-findings`
    /// lists them.
    Count,
}

/// Parses a whole document (possibly gzip) into records, in input order. When a gzip
/// member is corrupt, what decoded before it is read too, then the error is the last record.
pub fn parse_document(bytes: &[u8]) -> Vec<Record> {
    parse_document_with(bytes, Ignoring::Describe)
}

/// `parse_document`, keeping of ignored CloudTrail log records what `ignoring` says.
pub fn parse_document_with(bytes: &[u8], ignoring: Ignoring) -> Vec<Record> {
    let mut records = Vec::new();
    let (text, error) = decompress_what_reads(bytes);
    if error.is_none() || !text.iter().all(u8::is_ascii_whitespace) {
        parse_text(&text, &mut records, ignoring);
    }
    if let Some(e) = error {
        // The record the cut went through is unreadable because of it: one error says so.
        if records.last().is_some_and(|r| r.outcome.is_err()) {
            records.pop();
        }
        records.add(Err(e));
    }
    records
}

fn parse_text(text: &[u8], records: &mut Vec<Record>, ignoring: Ignoring) {
    let text = match std::str::from_utf8(text) {
        Ok(text) => text,
        Err(e) => {
            return records.add(Err(format!("not UTF-8 text: {e}")));
        }
    };
    if text.trim().is_empty() {
        return records.add(Err("empty input: no JSON document".to_string()));
    }
    // The common case, a CloudTrail log file, in one validating pass that also reads
    // every record's head. Exactly one JSON object with a "Records" list: then the
    // NDJSON and generic paths below would take the same records in the same order.
    if let Some(items) = scan::log_file(text) {
        for (raw, head) in items {
            let outcome = decide(raw, head, None, ignoring);
            records.add(outcome);
        }
        return;
    }
    if logs::is_log_text(text) {
        return logs::push_lines(text, records);
    }
    if is_line_delimited(text) {
        return parse_lines(text, records);
    }
    for value in serde_json::Deserializer::from_str(text).into_iter::<&RawValue>() {
        match value {
            Ok(value) => push_value(value, records),
            Err(e) => return records.add(Err(describe_json_error(&e))),
        }
    }
}

/// NDJSON: each line stands alone, so a bad line is one error and parsing goes on.
fn parse_lines(text: &str, records: &mut Vec<Record>) {
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<&RawValue>(line) {
            Ok(value) => push_value(value, records),
            Err(e) => records.add(Err(format!("line {}: {}", i + 1, describe_json_error(&e)))),
        }
    }
}

/// More than one non-empty line, and the first is a whole JSON value.
fn is_line_delimited(text: &str) -> bool {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let Some(first) = lines.next() else { return false };
    // The cheap test first: a one-line document (most log files) is never parsed twice.
    lines.next().is_some() && serde_json::from_str::<&RawValue>(first).is_ok()
}

fn describe_json_error(e: &serde_json::Error) -> String {
    match e.classify() {
        serde_json::error::Category::Eof => format!("truncated JSON: {e}"),
        _ => format!("invalid JSON: {e}"),
    }
}

/// The keys that tell the shapes apart.
#[derive(Deserialize)]
struct Shape<'a> {
    #[serde(rename = "Records", borrow, default)]
    records: Option<&'a RawValue>,
    #[serde(borrow, default)]
    detail: Option<&'a RawValue>,
    #[serde(rename = "eventSource", borrow, default)]
    event_source: Option<&'a RawValue>,
    #[serde(borrow, default)]
    awslogs: Option<&'a RawValue>,
    #[serde(rename = "logEvents", borrow, default)]
    log_events: Option<&'a RawValue>,
    #[serde(borrow, default)]
    events: Option<&'a RawValue>,
    #[serde(rename = "Events", borrow, default)]
    lookup_events: Option<&'a RawValue>,
    #[serde(rename = "CloudTrailEvent", borrow, default)]
    cloudtrail_event: Option<&'a RawValue>,
    #[serde(rename = "QueryResultRows", borrow, default)]
    query_result_rows: Option<&'a RawValue>,
    /// A failed Lake query's output may have a status and no rows.
    #[serde(rename = "QueryStatus", borrow, default)]
    query_status: Option<&'a RawValue>,
    /// `audit --format json`: one cluster's audit.
    #[serde(borrow, default)]
    principals: Option<&'a RawValue>,
}

/// One event of `aws cloudtrail lookup-events` output: the record is a JSON string.
#[derive(Deserialize)]
struct LookupEvent {
    #[serde(rename = "CloudTrailEvent", default)]
    cloudtrail_event: Option<String>,
}

/// `aws cloudtrail lookup-events` output (`{"Events":[…]}`, CLI v1 or v2), or one of its
/// events alone: each `CloudTrailEvent` is a record serialized as a string.
fn push_lookup_events(raw: &str, many: bool, records: &mut Vec<Record>) {
    #[derive(Deserialize)]
    struct Output {
        #[serde(rename = "Events")]
        events: Vec<LookupEvent>,
    }
    let events = if many {
        serde_json::from_str::<Output>(raw).map(|o| o.events)
    } else {
        serde_json::from_str::<LookupEvent>(raw).map(|e| vec![e])
    };
    let events = match events {
        Ok(events) => events,
        Err(e) => return records.add(Err(format!("not lookup-events output: {e}"))),
    };
    for event in events {
        let outcome = match event.cloudtrail_event {
            Some(record) => parse_record(&record, None),
            None => Err("a lookup-events event without CloudTrailEvent (a --query that dropped it?)".to_string()),
        };
        records.add(outcome);
    }
}

fn push_value(value: &RawValue, records: &mut Vec<Record>) {
    let raw = value.get();
    if raw.starts_with('[') {
        // A JSON array of documents, one level deep: nesting is not a shape anyone saves.
        match serde_json::from_str::<Vec<&RawValue>>(raw) {
            Ok(items) => {
                for item in items {
                    if item.get().starts_with('[') {
                        records.push(Record {
                            number: records.len() + 1,
                            outcome: Err("nested JSON arrays are not an event shape".to_string()),
                        });
                    } else {
                        push_object(item.get(), records);
                    }
                }
            }
            Err(e) => records.add(Err(describe_json_error(&e))),
        }
        return;
    }
    push_object(raw, records);
}

fn push_object(raw: &str, records: &mut Vec<Record>) {
    let shape = match serde_json::from_str::<Shape>(raw) {
        Ok(shape) => shape,
        Err(e) => {
            let message =
                if raw.starts_with('{') { describe_json_error(&e) } else { format!("expected a JSON object, found {}", kind_of(raw)) };
            return records.add(Err(message));
        }
    };
    if let Some(list) = shape.records {
        match serde_json::from_str::<Vec<&RawValue>>(list.get()) {
            Ok(items) => {
                for item in items {
                    let outcome = parse_record(item.get(), None);
                    records.add(outcome);
                }
            }
            Err(e) => records.add(Err(format!("\"Records\" is not a list of records: {e}"))),
        }
    } else if shape.detail.is_some() {
        records.add(parse_envelope(raw));
    } else if shape.event_source.is_some() {
        records.add(parse_record(raw, None));
    } else if shape.awslogs.is_some() {
        logs::push_subscription(raw, records);
    } else if shape.log_events.is_some() {
        logs::push_data_message(raw, records);
    } else if shape.events.is_some() {
        logs::push_cli_events(raw, records);
    } else if shape.lookup_events.is_some() {
        push_lookup_events(raw, true, records);
    } else if shape.cloudtrail_event.is_some() {
        push_lookup_events(raw, false, records);
    } else if shape.query_result_rows.is_some() || shape.query_status.is_some() {
        lake::push_query_results(raw, records);
    } else if shape.principals.is_some() {
        push_audit(raw, records);
    } else {
        records.push(Record {
            number: records.len() + 1,
            outcome: Err(
                "not a CloudTrail record, EventBridge event, CloudTrail log file, lookup-events output, CloudTrail Lake query results, CloudWatch Logs output or audit (no eventSource, detail, Records, Events, CloudTrailEvent, QueryResultRows, QueryStatus, awslogs, logEvents, events or principals key)".to_string()
            ),
        });
    }
}

/// A saved `audit --format json` (one cluster's): each flag is an event, as if every
/// flag were new; an audit with no flag is one ignored record.
fn push_audit(raw: &str, records: &mut Vec<Record>) {
    let audit = match serde_json::from_str::<crate::kubernetes::audit::Audit>(raw) {
        Ok(audit) => audit,
        Err(e) => return records.add(Err(format!("an audit that does not read as one: {}", describe_json_error(&e)))),
    };
    let events: Vec<Event> = audit.new_flags(&[]).map(|(p, f)| Event::from_audit(&audit, p, f, "saved")).collect();
    if events.is_empty() {
        let why = Ignored::CleanAudit(audit.cluster.clone());
        return records.add(Ok(Parsed::Ignored { event_id: None, event_time: None, event_name: None, why }));
    }
    for event in events {
        records.add(Ok(Parsed::Event(Box::new(event))));
    }
}

fn kind_of(raw: &str) -> &'static str {
    match raw.as_bytes().first() {
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

/// An EventBridge "AWS API Call via CloudTrail" event: the record is its `detail`.
pub fn parse_envelope(raw: &str) -> Result<Parsed, String> {
    let envelope: EventBridgeEvent<Box<RawValue>> = with_path(raw).map_err(|e| format!("not an EventBridge event: {e}"))?;
    parse_record(envelope.detail.get(), Some(&envelope.source))
}

/// Deserializes `raw`; on failure, deserializes it again with a path tracker so the
/// error names where it went wrong. The tracker costs several times the parse
/// itself, so the (common) success path does without it.
fn with_path<'de, T: Deserialize<'de>>(raw: &'de str) -> Result<T, String> {
    if let Ok(value) = T::deserialize(&mut serde_json::Deserializer::from_str(raw)) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_str(raw);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            e.inner().to_string()
        } else {
            format!("{path}: {}", e.inner())
        }
    })
}

/// One CloudTrail record; `envelope_source` is the EventBridge `source` it came in.
///
/// Most records of an archive belong to other services, so the head is first read
/// by `scan::head`, a validating single pass that borrows the five head fields;
/// whenever it cannot vouch for reading exactly what serde would (escapes in those
/// fields, duplicates, deep nesting, anything invalid) serde reads it instead, so
/// outcomes and error messages are the same either way.
pub fn parse_record(raw: &str, envelope_source: Option<&str>) -> Result<Parsed, String> {
    decide(raw, scan::head(raw), envelope_source, Ignoring::Describe)
}

/// `parse_record` with the head already scanned (or `None`: serde reads it).
fn decide(raw: &str, head: Option<RecordHead>, envelope_source: Option<&str>, ignoring: Ignoring) -> Result<Parsed, String> {
    let head: RecordHead = match head {
        Some(head) => head,
        None => with_path(raw).map_err(|e| format!("not a CloudTrail record: {e}"))?,
    };
    let owned = |v: &Option<std::borrow::Cow<str>>| v.as_deref().filter(|_| ignoring == Ignoring::Describe).map(str::to_string);
    let ignored = |why| Parsed::Ignored {
        event_id: owned(&head.event_id),
        event_time: owned(&head.event_time),
        event_name: owned(&head.event_name),
        why,
    };
    let source = head.event_source.as_deref().ok_or("not a CloudTrail record: no eventSource")?;
    if let Some(envelope) = envelope_source {
        let service = envelope.strip_prefix("aws.").unwrap_or(envelope);
        if source.split('.').next() != Some(service) {
            return Ok(ignored(Ignored::SourceMismatch { envelope: envelope.to_string(), record: source.to_string() }));
        }
    }
    if let Err(why) = relevance(source, head.event_name.as_deref().unwrap_or(""), head.error_code.as_deref()) {
        return Ok(ignored(why));
    }
    let record: CloudTrailRecord = with_path(raw).map_err(|e| format!("malformed CloudTrail record: {e}"))?;
    Event::from_record(record).map(|event| Parsed::Event(Box::new(event))).or_else(|why| Ok(ignored(why)))
}

mod lake;
/// The columns a CloudTrail Lake query must select for diagnosis.
pub use lake::NEEDED as LAKE_COLUMNS;
pub mod logs;
mod scan;

/// For the `scan_agrees` fuzz target only, not an API: `scan::head`, which gives a
/// record's head exactly as serde would, or `None` when unsure.
#[doc(hidden)]
pub fn scan_head(raw: &str) -> Option<RecordHead<'_>> {
    scan::head(raw)
}

/// For the `scan_agrees` fuzz target only, not an API: `scan::log_file`, which splits
/// a CloudTrail log file exactly as serde would, or gives `None` when unsure.
#[doc(hidden)]
pub fn scan_log_file(text: &str) -> Option<Vec<(&str, Option<RecordHead<'_>>)>> {
    scan::log_file(text)
}
