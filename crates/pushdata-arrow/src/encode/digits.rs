//! Integers and decimals as text, eight digits at a time: the digits of a number below
//! 10^8 are computed at once in the bytes of a u64 (no division per digit) and stored as
//! whole 8-byte words into a buffer with room to spare, the bytes past the number's end
//! left for the next value to overwrite.

use super::decimal::{DIGIT_PAIRS, POW10};

/// Room a writer of this module needs: a sign, 20 integer digits, a point, 16 fraction
/// digits, and the spill of the last 8-byte store.
pub(crate) const NUMBER_ROOM: usize = 48;

/// The largest scale [`write_decimal_u64`] writes.
pub(crate) const MAX_WORD_SCALE: usize = 16;

const ONES: u64 = u64::from_le_bytes([1; 8]);
/// `'0'` in every byte.
const ZEROS: u64 = ONES * b'0' as u64;
const E8: u64 = 100_000_000;

/// The 8 decimal digits of `v` (below 10^8), zero-padded, as byte values 0..=9 in the
/// bytes of the result, the most significant in the lowest byte (P. Khuong's method: both
/// halves of 4 digits divided by 100, then the four pairs by 10, with multiplications).
#[inline(always)]
fn digits8(v: u32) -> u64 {
    let merged = u64::from(v / 10_000) | (u64::from(v % 10_000) << 32);
    let top = ((merged * 10_486) >> 20) & ((0x7F << 32) | 0x7F);
    let hundreds = ((merged - 100 * top) << 16) + top;
    let mut tens = ((hundreds * 103) >> 10) & ((0xF << 48) | (0xF << 32) | (0xF << 16) | 0xF);
    tens += (hundreds - 10 * tens) << 8;
    tens
}

/// Store the 8 bytes of `word` at `dst[at..]`.
#[inline(always)]
fn store(dst: &mut [u8; NUMBER_ROOM], at: usize, word: u64) {
    if let Some(d) = dst.get_mut(at..at + 8) {
        d.copy_from_slice(&word.to_le_bytes());
    }
}

/// The 4 digits of every number below 10^4, zero-padded, as the bytes of a u32 (the most
/// significant first in memory).
static DIGITS4: [u32; 10_000] = {
    let mut t = [0u32; 10_000];
    let mut i = 0;
    while i < 10_000 {
        let d = [
            b'0' + (i / 1000) as u8,
            b'0' + (i / 100 % 10) as u8,
            b'0' + (i / 10 % 10) as u8,
            b'0' + (i % 10) as u8,
        ];
        t[i] = u32::from_le_bytes(d);
        i += 1;
    }
    t
};

/// The digits of `v` (below 10^4) without leading zeros in the low bytes of a u32, and
/// their number.
#[inline(always)]
fn below_e4(v: u32) -> (u32, usize) {
    let n = 1 + usize::from(v >= 10) + usize::from(v >= 100) + usize::from(v >= 1000);
    let padded = DIGITS4.get(v as usize).copied().unwrap_or(0);
    (padded >> (8 * (4 - n)), n)
}

/// Write `v` (below 10^8) without leading zeros at `dst[at..]`; returns its length.
#[inline(always)]
fn put_below_e8(dst: &mut [u8; NUMBER_ROOM], at: usize, v: u32) -> usize {
    if v < 10_000 {
        let (digits, n) = below_e4(v);
        store(dst, at, u64::from(digits));
        return n;
    }
    let (high, n) = below_e4(v / 10_000);
    let low = DIGITS4.get((v % 10_000) as usize).copied().unwrap_or(0);
    store(dst, at, u64::from(high) | (u64::from(low) << (8 * n)));
    n + 4
}

/// Write the last `width` (1..=8) digits of `v` (below 10^8), zero-padded, at `dst[at..]`.
#[inline(always)]
fn put_width(dst: &mut [u8; NUMBER_ROOM], at: usize, v: u32, width: usize) {
    store(dst, at, (digits8(v) >> (8 * (8 - width))) | ZEROS);
}

/// Write the 8 digits of `v` (below 10^8), zero-padded, at `dst[at..]`.
#[inline(always)]
fn put_full8(dst: &mut [u8; NUMBER_ROOM], at: usize, v: u32) {
    let digits4 = |v: u32| u64::from(DIGITS4.get(v as usize).copied().unwrap_or(0));
    store(dst, at, digits4(v / 10_000) | (digits4(v % 10_000) << 32));
}

/// Write `v` in decimal at `dst[at..]` (at most 20 digits, so `at` at most 20); returns
/// its length.
#[inline(always)]
pub(crate) fn put_u64(dst: &mut [u8; NUMBER_ROOM], at: usize, v: u64) -> usize {
    if v < E8 {
        return put_below_e8(dst, at, v as u32);
    }
    let (high, low) = (v / E8, (v % E8) as u32);
    let n = if high < E8 {
        put_below_e8(dst, at, high as u32)
    } else {
        // 17 to 20 digits: the first 1 to 4, then 8.
        let n = put_below_e8(dst, at, (high / E8) as u32);
        put_full8(dst, at + n, (high % E8) as u32);
        n + 8
    };
    put_full8(dst, at + n, low);
    n + 8
}

/// Write `v` in decimal at the start of `dst`; returns its length.
#[inline(always)]
pub(crate) fn write_i64(dst: &mut [u8; NUMBER_ROOM], v: i64) -> usize {
    dst[0] = b'-';
    let sign = usize::from(v < 0);
    sign + put_u64(dst, sign, v.unsigned_abs())
}

/// Write the decimal `-`(if `negative` and non-zero) `magnitude` / 10^`scale` (`scale` in
/// 1..=[`MAX_WORD_SCALE`]) with `scale` fraction digits at the start of `dst`: `12340`,
/// 3 -> `12.340`; returns its length.
#[inline(always)]
pub(crate) fn write_decimal_u64(
    dst: &mut [u8; NUMBER_ROOM],
    negative: bool,
    magnitude: u64,
    scale: usize,
) -> usize {
    // Scale 2 (money) has its own writer, `write_decimal2`.
    let p = POW10.get(scale).copied().unwrap_or(1);
    let (int, frac) = (magnitude / p, magnitude % p);
    dst[0] = b'-';
    let mut at = usize::from(negative && magnitude != 0);
    at += put_u64(dst, at, int);
    dst[at] = b'.';
    at += 1;
    if scale > 8 {
        // `frac` < 10^16: the first `scale - 8` digits, then 8.
        put_width(dst, at, (frac / E8) as u32, scale - 8);
        put_full8(dst, at + scale - 8, (frac % E8) as u32);
    } else {
        put_width(dst, at, frac as u32, scale);
    }
    at + scale
}

/// Write the decimal `-`(if `negative` and non-zero) `magnitude` / 100 with 2 fraction
/// digits (money) at the start of `dst`; returns its length.
#[inline(always)]
pub(crate) fn write_decimal2(dst: &mut [u8; NUMBER_ROOM], negative: bool, magnitude: u64) -> usize {
    dst[0] = b'-';
    let mut at = usize::from(negative && magnitude != 0);
    at += put_u64(dst, at, magnitude / 100);
    let [tens, ones] = DIGIT_PAIRS[(magnitude % 100) as usize];
    store(
        dst,
        at,
        u64::from_le_bytes([b'.', tens, ones, 0, 0, 0, 0, 0]),
    );
    at + 3
}

/// Whether `magnitude` with `scale` is written by [`write_decimal_u64`] (the fraction
/// below 10^16).
#[inline(always)]
pub(crate) fn word_scale(scale: i8) -> Option<usize> {
    usize::try_from(scale)
        .ok()
        .filter(|s| (1..=MAX_WORD_SCALE).contains(s))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn int(v: i64) -> String {
        let mut dst = [b'#'; NUMBER_ROOM];
        let n = write_i64(&mut dst, v);
        String::from_utf8(dst[..n].to_vec()).unwrap()
    }

    fn dec(v: i128, scale: usize) -> String {
        let mut dst = [b'#'; NUMBER_ROOM];
        let m = u64::try_from(v.unsigned_abs()).unwrap();
        let n = write_decimal_u64(&mut dst, v < 0, m, scale);
        String::from_utf8(dst[..n].to_vec()).unwrap()
    }

    /// Values at and around every power of ten and the integer limits.
    fn edges() -> Vec<i128> {
        let mut values: Vec<i128> = vec![0, 1, 9, 12_345, 99_999_999, 100_000_001];
        for p in 0..20u32 {
            let v = 10i128.pow(p);
            values.extend([v - 1, v, v + 1, 7 * v / 3]);
        }
        values.extend([
            i64::MAX.into(),
            u64::MAX.into(),
            i128::from(u64::MAX) - 1,
            i128::from(i64::MAX) + 1,
        ]);
        let negatives: Vec<i128> = values.iter().map(|v| -v).collect();
        values.extend(negatives);
        values.push(i64::MIN.into());
        values
    }

    #[test]
    fn eight_digit_words_match_display_below_1e8() {
        let strided = (0..100_000_000u32).step_by(9_973);
        for v in (0..100_000u32)
            .chain(strided)
            .chain(99_900_000..100_000_000)
        {
            let mut dst = [0; NUMBER_ROOM];
            let n = put_below_e8(&mut dst, 0, v);
            assert_eq!(&dst[..n], v.to_string().as_bytes(), "{v}");
            put_width(&mut dst, 3, v, 8);
            assert_eq!(&dst[3..11], format!("{v:08}").as_bytes(), "{v}");
            put_full8(&mut dst, 5, v);
            assert_eq!(&dst[5..13], format!("{v:08}").as_bytes(), "{v}");
            for width in 1..8 {
                put_width(&mut dst, 1, v % 10u32.pow(width as u32), width);
                let want = format!("{:0width$}", v % 10u32.pow(width as u32));
                assert_eq!(&dst[1..1 + width], want.as_bytes(), "{v} {width}");
            }
        }
    }

    #[test]
    fn integers_match_display_up_to_the_limits() {
        for v in edges() {
            if let Ok(v) = i64::try_from(v) {
                assert_eq!(int(v), v.to_string());
            }
            if let Ok(v) = u64::try_from(v) {
                let mut dst = [0; NUMBER_ROOM];
                let n = put_u64(&mut dst, 0, v);
                assert_eq!(&dst[..n], v.to_string().as_bytes());
            }
        }
        assert_eq!(int(i64::MIN), "-9223372036854775808");
        assert_eq!(int(-0), "0");
    }

    #[test]
    fn decimals_match_the_general_writer_at_every_scale() {
        for v in edges() {
            if u64::try_from(v.unsigned_abs()).is_err() {
                continue;
            }
            for scale in 1..=MAX_WORD_SCALE {
                let mut general = Vec::new();
                let digits = v.unsigned_abs().to_string();
                super::super::decimal::write_scaled(
                    v < 0,
                    digits.as_bytes(),
                    scale as i8,
                    &mut general,
                );
                let general = String::from_utf8(general).unwrap();
                assert_eq!(dec(v, scale), general, "{v} {scale}");
                if scale == 2 {
                    let mut dst = [b'#'; NUMBER_ROOM];
                    let m = u64::try_from(v.unsigned_abs()).unwrap();
                    let n = write_decimal2(&mut dst, v < 0, m);
                    assert_eq!(String::from_utf8(dst[..n].to_vec()).unwrap(), general);
                }
            }
        }
        assert_eq!(dec(-5, 2), "-0.05");
        assert_eq!(dec(0, 2), "0.00");
        assert_eq!(dec(-1_234_567, 2), "-12345.67");
        assert_eq!(dec(i128::from(u64::MAX), 16), "1844.6744073709551615");
    }

    #[test]
    fn word_scales() {
        assert_eq!(word_scale(0), None);
        assert_eq!(word_scale(-2), None);
        assert_eq!(word_scale(2), Some(2));
        assert_eq!(word_scale(16), Some(16));
        assert_eq!(word_scale(17), None);
    }
}
