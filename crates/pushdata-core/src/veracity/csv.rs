//! The bytes that matter in the CSV files of a Veracity upload (RFC 4180, `,` delimited):
//! the client's encoder quotes a text field holding one, and the reference server's reader
//! ends an unquoted field at one. Both take them from here.

/// The bytes special to the upload's CSV: the delimiter, the quote, LF and CR.
pub const SPECIAL: [u8; 4] = [b',', b'"', b'\n', b'\r'];

/// The high bit of every byte of `word` that is one of [`SPECIAL`], eight bytes at a time:
/// a byte equal to `c` is a zero byte of `word` XOR `c` repeated, flagged by the classic
/// bit trick. A flag above a flagged byte may be false, but never one below the lowest,
/// so whether any of the first bytes is special, and which is the first, are exact.
///
/// ```
/// use pushdata_core::veracity::csv::special_flags;
///
/// let word = u64::from_le_bytes(*b"ab,cd\"ef");
/// let flags = special_flags(word);
/// assert_eq!(flags.trailing_zeros() / 8, 2);
/// assert_eq!(special_flags(u64::from_le_bytes(*b"plain 12")), 0);
/// ```
#[inline(always)]
pub fn special_flags(word: u64) -> u64 {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = ONES << 7;
    let zero = |c: u8| {
        let x = word ^ (ONES * u64::from(c));
        x.wrapping_sub(ONES) & !x
    };
    // Written out: a fold over SPECIAL cost the client's encoder 1.5% more instructions.
    (zero(SPECIAL[0]) | zero(SPECIAL[1]) | zero(SPECIAL[2]) | zero(SPECIAL[3])) & HIGH
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first special byte of `bytes` (at most 8), by `special_flags`.
    fn first(bytes: &[u8]) -> Option<usize> {
        let mut word = [b'x'; 8];
        word[..bytes.len()].copy_from_slice(bytes);
        let flags = special_flags(u64::from_le_bytes(word));
        (flags != 0).then(|| (flags.trailing_zeros() / 8) as usize)
    }

    #[test]
    fn the_first_special_byte_of_a_word_is_found_at_every_position() {
        for &c in &SPECIAL {
            for at in 0..8 {
                // Bytes just above and below the special ones, and a high byte.
                let mut text: Vec<u8> = (0..8).map(|i| b"+-!#\x7fxy\xff"[i % 8]).collect();
                text[at] = c;
                assert_eq!(first(&text), Some(at), "{c} at {at}");
                // A second special byte after it does not move the first.
                if at < 7 {
                    text[7] = b',';
                    assert_eq!(first(&text), Some(at), "{c} at {at}, then a comma");
                }
            }
        }
        // A byte of 0x80 + c or c - 1 next to a special byte is not taken for it.
        assert_eq!(first(b"\xac\x2b\x0b\x21\x0cabc"), None);
        assert_eq!(first(b"\xac\x2b\x0b\x21\x0cab,"), Some(7));
    }
}
