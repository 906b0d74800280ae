//! Parse, diagnose with default facts, render every finding as SNS messages (text and
//! Chatbot bodies) and check the renderer's safety invariants (see fuzz/src/lib.rs, check_sns).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    eks_access_doctor_fuzz::render_each(data, eks_access_doctor_fuzz::check_sns);
});
