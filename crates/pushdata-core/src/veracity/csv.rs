//! The bytes that matter in the CSV files of a Veracity upload (RFC 4180, `,` delimited):
//! found by the client's encoder (a text field holding one is quoted) and by the reference
//! server's reader (an unquoted field ends at one), with one search.

/// The bytes special to the upload's CSV: the delimiter, the quote, LF and CR.
pub const SPECIAL: [u8; 4] = [b',', b'"', b'\n', b'\r'];

/// Whether each byte value is one of [`SPECIAL`].
static IS_SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < SPECIAL.len() {
        t[SPECIAL[i] as usize] = true;
        i += 1;
    }
    t
};

/// Where the first byte of [`SPECIAL`] at or after `from` is in `bytes`, or `bytes.len()`
/// when there is none (also when `from` is past the end).
///
/// Fields are short, too short for a vectorised search's setup: eight bytes at a time (a
/// byte equal to `c` is a zero byte of `x ^ c` repeated, and the lowest zero byte the
/// classic bit trick flags is exact), the rest one at a time.
///
/// ```
/// use pushdata_core::veracity::csv::first_special;
///
/// assert_eq!(first_special(b"plain text, then more", 0), 10);
/// assert_eq!(first_special(b"a \"quoted\" word", 3), 9);
/// assert_eq!(first_special(b"no special byte", 0), 15);
/// ```
#[inline]
pub fn first_special(bytes: &[u8], from: usize) -> usize {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = ONES << 7;
    let zero_bytes = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let mut at = from;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let found = SPECIAL
            .iter()
            .fold(0, |f, &c| f | zero_bytes(x ^ (ONES * u64::from(c))));
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    bytes
        .get(at..)
        .and_then(|rest| rest.iter().position(|&b| IS_SPECIAL[usize::from(b)]))
        .map_or(bytes.len(), |i| at + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_special_byte_is_found_at_every_offset_and_alignment() {
        for &c in &SPECIAL {
            for len in 0..40 {
                for at in 0..len {
                    // Bytes just above and below the special ones, and a high byte.
                    let mut text: Vec<u8> = (0..len).map(|i| b"+-!#\x7fxy\xff"[i % 8]).collect();
                    text[at] = c;
                    for from in 0..=len {
                        let want = if from <= at { at } else { len };
                        assert_eq!(first_special(&text, from), want, "{c} {len} {at} {from}");
                    }
                }
            }
        }
        assert_eq!(first_special(b"abc", 7), 3);
        // A byte of 0x80 + c or c - 1 next to a special byte is not taken for it.
        assert_eq!(first_special(b"\xac\x2b\x0b\x21\x0cabc,", 0), 8);
    }
}
