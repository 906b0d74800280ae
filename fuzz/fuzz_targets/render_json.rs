//! Parse, diagnose with default facts, render every finding as json and check the
//! renderer's safety invariants (see fuzz/src/lib.rs, check_json).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for p in &eks_access_doctor_fuzz::render_each(data, eks_access_doctor_fuzz::check_json) {
        eks_access_doctor_fuzz::check_json_ignored(p);
    }
});
