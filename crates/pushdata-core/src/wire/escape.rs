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
    word_escape_mask(w) != 0
}

/// The bytes of `w` (read little-endian) that are `"`, `\` or a control character, as the
/// high bit of each byte: zero when there is none. The lowest set bit marks the first such
/// byte exactly; bits above it may also be set for bytes that are not (the subtraction's
/// borrow), so only the lowest is to be read.
///
/// ```
/// use pushdata_core::wire::word_escape_mask;
/// assert_eq!(word_escape_mask(u64::from_le_bytes(*b"plain ok")), 0);
/// let m = word_escape_mask(u64::from_le_bytes(*b"ab\"cdefg"));
/// assert_eq!(m.trailing_zeros() / 8, 2);
/// ```
#[inline]
pub fn word_escape_mask(w: u64) -> u64 {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let control = w.wrapping_sub(LO * 0x20) & !w & HI;
    let q = w ^ (LO * u64::from(b'"'));
    let quote = q.wrapping_sub(LO) & !q & HI;
    let b = w ^ (LO * u64::from(b'\\'));
    let backslash = b.wrapping_sub(LO) & !b & HI;
    control | quote | backslash
}
