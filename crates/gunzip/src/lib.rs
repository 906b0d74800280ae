//! Whole-buffer gzip inflate with libdeflate, about twice as fast as a streaming
//! inflate for CloudTrail's log files: one gzip member each, a few kB to a few MB,
//! whose trailer gives the inflated size so the output is allocated once, exactly.
//!
//! The only `unsafe` of the project lives here, behind one safe function. Anything
//! that is not a whole, well-formed single member gets `None`, and the caller's
//! streaming decoder takes it and says precisely what is wrong (a truncated file, a
//! corrupt member, several members, a size over the limit).

use libdeflate_sys::{
    libdeflate_alloc_decompressor, libdeflate_decompressor, libdeflate_free_decompressor, libdeflate_gzip_decompress_ex,
    libdeflate_result_LIBDEFLATE_SUCCESS,
};

/// Deflate cannot expand its input more than this (a 258-byte match per 2 bits, and
/// then some): a trailer claiming more is lying, so no buffer that large is allocated.
const MAX_EXPANSION: usize = 1032;

/// The gzip header (10 bytes) and trailer (CRC-32, ISIZE) around the deflate data.
const FRAMING: usize = 18;

/// Inflates `gz` when it is exactly one whole gzip member inflating to at most
/// `limit` bytes; `None` otherwise.
pub fn single_member(gz: &[u8], limit: usize) -> Option<Vec<u8>> {
    if gz.len() < FRAMING || !gz.starts_with(&[0x1f, 0x8b]) {
        return None;
    }
    let trailer: [u8; 4] = gz[gz.len() - 4..].try_into().ok()?;
    // ISIZE is the size modulo 2^32: a larger member fails below for lack of space.
    let size = u32::from_le_bytes(trailer) as usize;
    if size > limit || size > gz.len().saturating_mul(MAX_EXPANSION) {
        return None;
    }
    let decompressor = Decompressor::new()?;
    let mut out = Vec::<u8>::with_capacity(size);
    let (mut read, mut written) = (0usize, 0usize);
    // SAFETY: the input is a live slice of `gz.len()` bytes; the output is `out`'s
    // spare capacity of at least `size` bytes, of which libdeflate writes at most
    // `size` and reports how many in `written`; the decompressor is live and ours alone.
    let result = unsafe {
        libdeflate_gzip_decompress_ex(decompressor.0, gz.as_ptr().cast(), gz.len(), out.as_mut_ptr().cast(), size, &mut read, &mut written)
    };
    // A second member (or trailing bytes) leaves input unread: the streaming path decides.
    if result != libdeflate_result_LIBDEFLATE_SUCCESS || read != gz.len() || written != size {
        return None;
    }
    // SAFETY: libdeflate initialised exactly `written` (= `size` ≤ capacity) bytes.
    unsafe { out.set_len(written) };
    Some(out)
}

/// An owned libdeflate decompressor, freed on drop.
struct Decompressor(*mut libdeflate_decompressor);

impl Decompressor {
    fn new() -> Option<Decompressor> {
        // SAFETY: no preconditions; a null result (out of memory) is checked.
        let raw = unsafe { libdeflate_alloc_decompressor() };
        (!raw.is_null()).then_some(Decompressor(raw))
    }
}

impl Drop for Decompressor {
    fn drop(&mut self) {
        // SAFETY: allocated by `libdeflate_alloc_decompressor`, freed once.
        unsafe { libdeflate_free_decompressor(self.0) }
    }
}
