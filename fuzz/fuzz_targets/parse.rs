//! input::parse_document on arbitrary bytes: never a panic, one outcome per record,
//! record numbers 1, 2, 3, … in order; only an empty list may yield no outcome.
#![no_main]
use eks_access_doctor_core::input::parse_document;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
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
