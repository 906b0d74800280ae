//! `explain` on arbitrary text, as a pasted error: never a panic, and no character of the
//! paste reaches the terminal raw (only `escape::is_unsafe_char`'s set is shared with the
//! code under test).
#![no_main]
use eks_access_doctor_core::escape::is_unsafe_char;
use eks_access_doctor_core::pasted;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let out = pasted::render_text(&pasted::explain(&text));
    assert!(!out.chars().any(|c| c != '\n' && is_unsafe_char(c)), "a pasted character reached the terminal raw: {out:?}");
});
