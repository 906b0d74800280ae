//! Parse, diagnose with default facts, render every finding as markdown and check the
//! renderer's safety invariants (see fuzz/src/lib.rs, check_markdown).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    eks_access_doctor_fuzz::render_each(data, eks_access_doctor_fuzz::check_markdown);
});
