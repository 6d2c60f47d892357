//! The bytes a JSON string cannot hold as they are (RFC 8259): `"`, `\` and the control
//! characters U+0000..U+001F. Chunk encoders and decoders scan string bytes with this, eight
//! at a time.

/// Whether any of the 8 bytes of `w` is `"`, `\` or a control character (SWAR; exact).
///
/// ```
/// use pushdata_core::wire::word_needs_escape;
/// assert!(!word_needs_escape(u64::from_le_bytes(*b"plain ok")));
/// assert!(word_needs_escape(u64::from_le_bytes(*b"say \"hi!")));
/// assert!(word_needs_escape(u64::from_le_bytes(*b"tab\there")));
/// ```
#[inline]
pub fn word_needs_escape(w: u64) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let control = w.wrapping_sub(LO * 0x20) & !w & HI;
    let q = w ^ (LO * u64::from(b'"'));
    let quote = q.wrapping_sub(LO) & !q & HI;
    let b = w ^ (LO * u64::from(b'\\'));
    let backslash = b.wrapping_sub(LO) & !b & HI;
    (control | quote | backslash) != 0
}
