//! input::parse_document on arbitrary bytes: never a panic, one outcome per record,
//! record numbers 1, 2, 3, … in order; only an empty list may yield no outcome. The same
//! bytes as a pasted error (`explain`): never a panic, and no character of the paste
//! reaches the terminal raw.
#![no_main]
use eks_access_doctor_core::escape::is_unsafe_char;
use eks_access_doctor_core::input::parse_document;
use eks_access_doctor_core::pasted;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let out = pasted::render_text(&pasted::explain(text));
        assert!(!out.chars().any(|c| c != '\n' && is_unsafe_char(c)), "a pasted character reached the terminal raw: {out:?}");
    }
    let records = parse_document(data);
    // `[]` and `{"Records":[]}` hold no record at all; anything else has an outcome.
    let trimmed = data.trim_ascii();
    if !(trimmed.starts_with(b"[") || trimmed.starts_with(b"{") || trimmed.starts_with(&[0x1f, 0x8b])) {
        assert!(!records.is_empty(), "a document produced no outcome at all");
    }
    for (i, record) in records.iter().enumerate() {
        assert_eq!(record.number, i + 1, "record numbers out of order");
        if let Err(message) = &record.outcome {
            assert!(!message.is_empty());
        }
    }
});
