//! Parse, diagnose with default facts, render every finding as json and check the
//! renderer's safety invariants (see src/lib.rs, check_json).
#![no_main]
use eks_access_doctor::facts::Facts;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() > eks_access_doctor_fuzz::RENDER_MAX_INPUT {
        return;
    }
    let (diagnoses, _ignored) = eks_access_doctor_fuzz::pipeline(data, &Facts::default());
    for d in &diagnoses {
        eks_access_doctor_fuzz::check_json(d);
    }
    for p in &_ignored {
        eks_access_doctor_fuzz::check_json_ignored(p);
    }
});
