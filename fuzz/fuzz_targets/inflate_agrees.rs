//! The one-call inflate (libdeflate, crates/gunzip) against the streaming one
//! (zlib-rs): on any bytes, `parse_document`'s path gives exactly what streaming
//! gives, bytes and error. Inputs are made gzip-shaped (the magic prefixed, or a
//! real member of the data with some of its bytes then overwritten) so that most
//! reach the decoders.
#![no_main]
use eks_access_doctor_core::input::inflate_both_ways;
use libfuzzer_sys::fuzz_target;
use std::io::Write;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let bytes = match mode % 3 {
        0 => [&[0x1f, 0x8b][..], rest].concat(),
        1 => {
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            encoder.write_all(rest).unwrap();
            let mut member = encoder.finish().unwrap();
            // Flip one byte the input picks, trailer included.
            if let Some(&at) = rest.first() {
                let at = at as usize % member.len();
                member[at] ^= mode | 1;
            }
            member
        }
        _ => rest.to_vec(),
    };
    // Anything else is not gzip to `parse_document`: it reads it as text, inflating nothing.
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return;
    }
    let [used, streamed] = inflate_both_ways(&bytes);
    assert_eq!(used, streamed, "the one-call and streaming inflates disagree on {bytes:?}");
});
