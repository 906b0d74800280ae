//! Parse, then diagnose every event with default facts; catalogue invariants hold
//! (a failed call always gets a finding, commands keep every value shell-quoted, …).
#![no_main]
use eks_access_doctor_core::facts::Facts;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = eks_access_doctor_fuzz::pipeline(data, &Facts::default());
});
