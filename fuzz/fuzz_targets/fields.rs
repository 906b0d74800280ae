//! Hostile values in every field the matchers and renderers read, inserted into a
//! fixture envelope (see src/fields.rs), with fuzzed live facts; every renderer and
//! every invariant is checked.
#![no_main]
use eks_access_doctor_fuzz::fields::Input;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: Input| {
    let (document, facts) = input.build();
    let (diagnoses, ignored) = eks_access_doctor_fuzz::pipeline(&document, &facts);
    for d in &diagnoses {
        eks_access_doctor_fuzz::check_all(d);
    }
    for p in &ignored {
        eks_access_doctor_fuzz::check_json_ignored(p);
    }
});
