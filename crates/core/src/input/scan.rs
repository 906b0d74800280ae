//! A validating JSON scan that reads a record's head without building anything.
//!
//! Its promise: whenever it answers, serde agrees. `head` gives exactly the
//! `RecordHead` serde would deserialize, and `log_file` splits a CloudTrail log file
//! into exactly the records serde would; when it is unsure (escapes in the fields it
//! borrows, duplicated keys, deep nesting, anything invalid) it answers `None` and
//! the caller defers to serde, so outcomes and error messages are the same either way.
//!
//! It exists for speed: archives are ~99% other services' records, and one
//! validating pass that borrows five head fields decides most of them far faster
//! than deserializing each through serde. Safe Rust only (the crate forbids `unsafe`).
//! The `scan_agrees` fuzz target checks the promise on arbitrary bytes.

use crate::event::RecordHead;
use std::borrow::Cow;
use wide::u8x16;

/// Nesting deeper than this is left to serde (and its recursion limit).
const MAX_DEPTH: u32 = 64;

/// A document with more top-level keys than this is left to serde.
const MAX_TOP_KEYS: usize = 8;

/// The head of `raw` if `raw` is one valid JSON object whose `eventID`,
/// `eventTime`, `eventSource`, `eventName` and `errorCode` each appear at most
/// once at the top level, as strings without escapes or `null`. Then the result
/// is exactly what serde makes of it; otherwise `None` and serde decides.
pub(super) fn head(raw: &str) -> Option<RecordHead<'_>> {
    let mut s = Scanner { b: raw.as_bytes(), i: 0 };
    s.ws();
    let head = head_object(&mut s, raw)?;
    s.ws();
    (s.i == s.b.len()).then_some(head)
}

/// A CloudTrail log file: exactly one valid JSON object (then only whitespace)
/// with a "Records" key holding a list, no repeated top-level key (serde refuses a
/// repeated field of `input::Shape`, whichever fields that has) and no escaped
/// top-level key. Gives each list item's exact text with its head when `head`
/// would give one for that text alone. `None`: not sure, use serde.
pub(super) fn log_file(text: &str) -> Option<Vec<(&str, Option<RecordHead<'_>>)>> {
    let mut s = Scanner { b: text.as_bytes(), i: 0 };
    let mut items = None;
    let mut keys: Vec<&str> = Vec::new();
    s.ws();
    s.eat(b'{')?;
    s.ws();
    if s.peek()? == b'}' {
        return None;
    }
    loop {
        let key = s.key(text)?;
        // A log file has one key: more than a few is not one, and the check stays cheap.
        if keys.contains(&key) || keys.len() == MAX_TOP_KEYS {
            return None;
        }
        keys.push(key);
        if key == "Records" {
            if s.peek()? != b'[' {
                return None;
            }
            items = Some(records(&mut s, text)?);
        } else {
            s.value(1)?;
        }
        s.ws();
        match s.next()? {
            b',' => s.ws(),
            b'}' => break,
            _ => return None,
        }
    }
    s.ws();
    if s.i != s.b.len() {
        return None;
    }
    items
}

/// The items of the list at `s` (one level below the document object).
fn records<'a>(s: &mut Scanner, text: &'a str) -> Option<Vec<(&'a str, Option<RecordHead<'a>>)>> {
    let mut items = Vec::with_capacity(s.b.len() / 1500 + 1);
    s.i += 1;
    s.ws();
    if s.peek()? == b']' {
        s.i += 1;
        return Some(items);
    }
    loop {
        let start = s.i;
        let mut head = None;
        if s.peek()? == b'{' {
            head = head_object(s, text);
        }
        if head.is_none() {
            s.i = start;
            s.value(2)?;
        }
        items.push((&text[start..s.i], head));
        s.ws();
        match s.next()? {
            b',' => s.ws(),
            b']' => return Some(items),
            _ => return None,
        }
    }
}

/// The object at `s`, its head read as `head` describes.
fn head_object<'a>(s: &mut Scanner, raw: &'a str) -> Option<RecordHead<'a>> {
    let mut head = RecordHead { event_id: None, event_time: None, event_source: None, event_name: None, error_code: None };
    let mut seen = [false; 5];
    s.eat(b'{')?;
    s.ws();
    if s.peek()? == b'}' {
        s.i += 1;
    } else {
        loop {
            let field = match s.key(raw)? {
                "eventID" => Some(0),
                "eventTime" => Some(1),
                "eventSource" => Some(2),
                "eventName" => Some(3),
                "errorCode" => Some(4),
                _ => None,
            };
            match field {
                Some(n) => {
                    if std::mem::replace(&mut seen[n], true) {
                        return None;
                    }
                    let value = match s.peek()? {
                        b'"' => {
                            let (start, end, escaped) = s.string()?;
                            if escaped {
                                return None;
                            }
                            Some(Cow::Borrowed(&raw[start..end]))
                        }
                        b'n' => {
                            s.literal(b"null")?;
                            None
                        }
                        _ => return None,
                    };
                    let slot = match n {
                        0 => &mut head.event_id,
                        1 => &mut head.event_time,
                        2 => &mut head.event_source,
                        3 => &mut head.event_name,
                        _ => &mut head.error_code,
                    };
                    *slot = value;
                }
                None => s.value(1)?,
            }
            s.ws();
            match s.next()? {
                b',' => s.ws(),
                b'}' => break,
                _ => return None,
            }
        }
    }
    Some(head)
}

/// The index of the first `"`, `\\` or control character in `b`: where a string's
/// plain run ends. Sixteen bytes at a time with SIMD (`wide`: SSE2 or NEON, both in
/// every x86_64 and aarch64 target), the last fifteen with `string_stop_swar`.
fn string_stop(b: &[u8]) -> Option<usize> {
    let (quote, backslash, below_space) = (u8x16::splat(b'"'), u8x16::splat(b'\\'), u8x16::splat(0x1f));
    let mut chunks = b.chunks_exact(16);
    let mut offset = 0;
    for chunk in chunks.by_ref() {
        let x = u8x16::new(chunk.try_into().expect("16 bytes"));
        // `min(x, 0x1f) == x` is `x < 0x20`, unsigned, in two instructions.
        let hits = x.simd_eq(quote) | x.simd_eq(backslash) | x.min(below_space).simd_eq(x);
        let mask = hits.to_bitmask();
        if mask != 0 {
            return Some(offset + mask.trailing_zeros() as usize);
        }
        offset += 16;
    }
    string_stop_swar(chunks.remainder()).map(|at| offset + at)
}

/// `string_stop` eight bytes at a time in a `u64` (SWAR), for what is too short for SIMD.
fn string_stop_swar(b: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH: u64 = ONES * 0x80;
    let mut chunks = b.chunks_exact(8);
    let mut offset = 0;
    for chunk in chunks.by_ref() {
        let x = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        let quote = x ^ (ONES * u64::from(b'"'));
        let backslash = x ^ (ONES * u64::from(b'\\'));
        // Each term flags its lowest matching byte exactly (borrows only run upwards).
        let hits =
            (quote.wrapping_sub(ONES) & !quote | backslash.wrapping_sub(ONES) & !backslash | x.wrapping_sub(ONES * 0x20) & !x) & HIGH;
        if hits != 0 {
            return Some(offset + (hits.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    chunks.remainder().iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20).map(|at| offset + at)
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.next()? == c).then_some(())
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.i.checked_add(word.len())?;
        (self.b.get(self.i..end)? == word).then(|| self.i = end)
    }

    /// An object key without escapes and its `:`, leaving `self` at the value.
    /// `None` for anything else (the caller then lets serde decide).
    fn key<'t>(&mut self, text: &'t str) -> Option<&'t str> {
        if self.peek()? != b'"' {
            return None;
        }
        let (start, end, escaped) = self.string()?;
        if escaped {
            return None;
        }
        self.ws();
        self.eat(b':')?;
        self.ws();
        Some(&text[start..end])
    }

    /// At an opening quote: the content's range and whether it has escapes.
    fn string(&mut self) -> Option<(usize, usize, bool)> {
        self.i += 1;
        let start = self.i;
        let mut escaped = false;
        loop {
            self.i += string_stop(&self.b[self.i..])?;
            match self.b[self.i] {
                b'"' => {
                    self.i += 1;
                    return Some((start, self.i - 1, escaped));
                }
                b'\\' => escaped = true,
                _ => return None,
            }
            match *self.b.get(self.i + 1)? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.i += 2,
                b'u' => {
                    let hex = self.b.get(self.i + 2..self.i + 6)?;
                    if !hex.iter().all(u8::is_ascii_hexdigit) {
                        return None;
                    }
                    self.i += 6;
                }
                _ => return None,
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        self.i - start
    }

    /// RFC 8259 numbers, as serde_json accepts them when ignoring a value.
    fn number(&mut self) -> Option<()> {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => {
                self.i += 1;
                if self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    return None;
                }
            }
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return None;
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if self.digits() == 0 {
                return None;
            }
        }
        Some(())
    }

    fn value(&mut self, depth: u32) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b'{' | b'[' if depth >= MAX_DEPTH => None,
            b'{' => {
                self.i += 1;
                self.ws();
                if self.peek()? == b'}' {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    if self.peek()? != b'"' {
                        return None;
                    }
                    self.string()?;
                    self.ws();
                    self.eat(b':')?;
                    self.ws();
                    self.value(depth + 1)?;
                    self.ws();
                    match self.next()? {
                        b',' => self.ws(),
                        b'}' => return Some(()),
                        _ => return None,
                    }
                }
            }
            b'[' => {
                self.i += 1;
                self.ws();
                if self.peek()? == b']' {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.value(depth + 1)?;
                    self.ws();
                    match self.next()? {
                        b',' => self.ws(),
                        b']' => return Some(()),
                        _ => return None,
                    }
                }
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{head, string_stop};
    use crate::event::RecordHead;

    fn serde_head(raw: &str) -> Option<[Option<String>; 5]> {
        serde_json::from_str::<RecordHead>(raw).ok().map(|h| fields(&h))
    }

    fn fields(h: &RecordHead) -> [Option<String>; 5] {
        [&h.event_id, &h.event_time, &h.event_source, &h.event_name, &h.error_code].map(|f| f.as_deref().map(str::to_string))
    }

    /// Whenever the scan answers, serde agrees; `expect_scan` says whether it should answer.
    fn check(raw: &str, expect_scan: bool) {
        let scanned = head(raw).map(|h| fields(&h));
        assert_eq!(scanned.is_some(), expect_scan, "scan answered {scanned:?} for {raw}");
        if let Some(scanned) = scanned {
            assert_eq!(Some(scanned), serde_head(raw), "{raw}");
        }
    }

    #[test]
    fn agrees_with_serde_on_every_bundled_record() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events");
        let mut seen = 0;
        for sub in ["", "no-finding", "cloudtrail"] {
            for entry in std::fs::read_dir(dir.join(sub)).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_none_or(|x| x != "json") {
                    continue;
                }
                let value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
                let records = match value.get("Records") {
                    Some(list) => list.as_array().unwrap().clone(),
                    None => vec![value["detail"].clone()],
                };
                for record in records {
                    check(&record.to_string(), true);
                    check(&serde_json::to_string_pretty(&record).unwrap(), true);
                    seen += 1;
                }
            }
        }
        assert!(seen > 30);
    }

    /// The fast path's records are the generic path's records.
    fn same_records(text: &str, expect_fast: bool) {
        let fast = super::log_file(text);
        assert_eq!(fast.is_some(), expect_fast, "{text}");
        if let Some(items) = fast {
            let shape: serde_json::Value = serde_json::from_str(text).unwrap();
            let list: Vec<&serde_json::value::RawValue> = serde_json::from_str(
                serde_json::from_str::<std::collections::HashMap<String, &serde_json::value::RawValue>>(text).unwrap()["Records"].get(),
            )
            .unwrap();
            assert!(shape["Records"].is_array());
            assert_eq!(items.len(), list.len());
            for ((raw, head), want) in items.iter().zip(list) {
                assert_eq!(*raw, want.get());
                assert_eq!(head.as_ref().map(fields), super::head(raw).map(|h| fields(&h)));
            }
        }
    }

    #[test]
    fn log_files_split_as_serde_splits_them() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/cloudtrail");
        for entry in std::fs::read_dir(path).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            same_records(&text, true);
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            same_records(&serde_json::to_string_pretty(&value).unwrap(), true);
        }
        for text in [
            r#"{"Records":[]}"#,
            r#" {"Records" : [ 1 , "x" , [ ] , {"eventID":"a","eventID":"b"} , {"eventSource":"e\u0041"}, {} ] , "other":{"Records":1}} "#,
            r#"{"detail":1,"eventSource":2,"Records":[{"eventSource":"s3.amazonaws.com"}]}"#,
        ] {
            same_records(text, true);
        }
        for text in [
            r#"{}"#,
            r#"{"Records":{}}"#,
            r#"{"Records":[],"Records":[]}"#,
            r#"{"Reco\u0072ds":[]}"#,
            r#"{"detail":1,"detail":2,"Records":[]}"#,
            r#"{"Records":[],"events":[],"events":[]}"#,
            r#"{"x":1,"Records":[],"x":2}"#,
            r#"{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"Records":[]}"#,
            r#"{"Records":[]} {"Records":[]}"#,
            r#"{"Records":[1,]}"#,
            r#"[{"Records":[]}]"#,
            r#"{"Records":[{"eventSource":"s3.amazonaws.com"}"#,
        ] {
            same_records(text, false);
        }
    }

    #[test]
    fn answers_for_valid_objects() {
        for raw in [
            "{}",
            " { } \n",
            r#"{"eventSource":"s3.amazonaws.com"}"#,
            r#"{"eventSource":null,"eventID":"a","x":[1,-2.5e+3,0,0.1,true,false,null,{"y":[]},"\u00e9\n"]}"#,
            r#"{"eventName":"X","eventName2":"Y","eventname":"Z","x":1,"x":2}"#,
            r#"{"eventSource":"eks.amazonaws.com","errorCode":"AccessDenied","p":"\\\"q\/"}"#,
        ] {
            check(raw, true);
        }
    }

    #[test]
    fn string_stop_finds_the_first_quote_backslash_or_control_byte() {
        let naive = |b: &[u8]| b.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20);
        for len in 0..40 {
            for at in 0..len {
                for stop in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
                    for filler in [b'a', 0x20, 0x7f, 0xc3, 0xff] {
                        let mut bytes = vec![filler; len];
                        bytes[at] = stop;
                        if at + 1 < len {
                            bytes[at + 1] = b'"';
                        }
                        assert_eq!(string_stop(&bytes), naive(&bytes), "{bytes:?}");
                    }
                }
            }
            assert_eq!(string_stop(&vec![b'x'; len]), None);
        }
    }

    #[test]
    fn defers_to_serde_when_unsure() {
        for raw in [
            "",
            "[]",
            r#"["a","b","c","d","e"]"#,
            r#"{"eventSource":"eks\u002eamazonaws.com"}"#,
            r#"{"event\u0053ource":"s3.amazonaws.com"}"#,
            r#"{"eventID":"a","eventID":"b"}"#,
            r#"{"eventID":1}"#,
            r#"{"eventID":{"x":1}}"#,
            r#"{"x":tru}"#,
            r#"{"x":01}"#,
            r#"{"x":1.}"#,
            r#"{"x":-}"#,
            r#"{"x":1e}"#,
            r#"{"x":"a\qb"}"#,
            r#"{"x":"\u12g4"}"#,
            "{\"x\":\"tab\there\"}",
            r#"{"x":1,}"#,
            r#"{"x":[1,]}"#,
            r#"{"x":1} {}"#,
            r#"{"x":1"#,
            r#"{"x":"abc"#,
            r#"{x:1}"#,
            r#"{"x" 1}"#,
        ] {
            check(raw, false);
        }
        let deep = format!("{{\"x\":{}{}}}", "[".repeat(70), "]".repeat(70));
        check(&deep, false);
        let fine = format!("{{\"x\":{}{}}}", "[".repeat(40), "]".repeat(40));
        check(&fine, true);
    }
}
