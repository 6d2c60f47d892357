//! Exact decimal text: the integer digits with the scale inserted, never through f64.

use arrow_buffer::i256;

/// Write `digits` (the magnitude, ASCII, no leading zeros unless it is `0`) with `scale`
/// fraction digits: `12340`, scale 3 -> `12.340`; scale -2 -> `1234000`.
#[inline]
pub(crate) fn write_scaled(negative: bool, digits: &[u8], scale: i8, out: &mut Vec<u8>) {
    let zero = digits == b"0";
    if negative && !zero {
        out.push(b'-');
    }
    if scale <= 0 {
        out.extend_from_slice(digits);
        if !zero {
            for _ in 0..(-i16::from(scale)) {
                out.push(b'0');
            }
        }
        return;
    }
    let scale = scale as usize;
    if digits.len() > scale {
        let (int, frac) = digits.split_at(digits.len() - scale);
        out.extend_from_slice(int);
        out.push(b'.');
        out.extend_from_slice(frac);
    } else {
        out.extend_from_slice(b"0.");
        for _ in digits.len()..scale {
            out.push(b'0');
        }
        out.extend_from_slice(digits);
    }
}

/// Write an i128 decimal with `scale`.
#[inline]
pub(crate) fn write_i128(v: i128, scale: i8, buf: &mut itoa::Buffer, out: &mut Vec<u8>) {
    let magnitude = v.unsigned_abs();
    // 64-bit formatting is several times faster than 128-bit; most decimals fit.
    let digits = match u64::try_from(magnitude) {
        Ok(m) => {
            if (1..=MAX_FAST_SCALE).contains(&scale) {
                write_u64_scaled(v < 0, m, scale as usize, out);
                return;
            }
            buf.format(m)
        }
        Err(_) => buf.format(magnitude),
    };
    write_scaled(v < 0, digits.as_bytes(), scale, out);
}

/// The two digits of every number 0..100.
pub(crate) static DIGIT_PAIRS: [[u8; 2]; 100] = {
    let mut t = [[0u8; 2]; 100];
    let mut i = 0;
    while i < 100 {
        t[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        i += 1;
    }
    t
};

/// Powers of ten that fit a u64.
pub(crate) const POW10: [u64; 20] = {
    let mut t = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// The largest scale of the 64-bit fast path (`10^scale` fits a u64).
const MAX_FAST_SCALE: i8 = 19;

/// Room for a formatted number: sign, 20 digits, point, 19 digits.
const NUM_BUF: usize = 48;

/// Digits of `v` in `buf[..end]`, the last one at `end - 1`, exactly `width` of them
/// (zero-padded; `v` must have at most `width` digits).
#[inline(always)]
fn put_digits(buf: &mut [u8; NUM_BUF], mut v: u64, end: usize, width: usize) {
    let mut pos = end;
    let stop = end - width;
    while pos >= stop + 2 {
        let pair = DIGIT_PAIRS[(v % 100) as usize];
        v /= 100;
        buf[pos - 2] = pair[0];
        buf[pos - 1] = pair[1];
        pos -= 2;
    }
    if pos > stop {
        buf[pos - 1] = b'0' + (v % 10) as u8;
    }
}

/// Number of decimal digits of `v` (1 for 0).
#[inline(always)]
fn digit_count(v: u64) -> usize {
    v.checked_ilog10().map_or(1, |l| l as usize + 1)
}

/// Append `len` bytes written by `f` into [`NUM_BUF`] bytes appended to `out` (fixed-size
/// writes straight into the output: no `memcpy` call for a few bytes, and no stack buffer
/// read back right after its bytes were stored, which stalls store forwarding).
#[inline(always)]
fn append_with(out: &mut Vec<u8>, len: usize, f: impl FnOnce(&mut [u8; NUM_BUF])) {
    let at = out.len();
    out.extend_from_slice(&[0; NUM_BUF]);
    if let Some(dst) = out
        .get_mut(at..at + NUM_BUF)
        .and_then(|d| <&mut [u8; NUM_BUF]>::try_from(d).ok())
    {
        f(dst);
    }
    out.truncate(at + len);
}

/// Append the integer `-`(if `negative` and non-zero) `magnitude`.
#[inline]
pub(crate) fn write_u64_signed(negative: bool, magnitude: u64, out: &mut Vec<u8>) {
    let sign = usize::from(negative && magnitude != 0);
    let digits = digit_count(magnitude);
    append_with(out, sign + digits, |buf| {
        buf[0] = b'-';
        put_digits(buf, magnitude, sign + digits, digits);
    });
}

/// Append `magnitude` with `scale` (1..=19) fraction digits: `12340`, 3 -> `12.340`.
#[inline]
fn write_u64_scaled(negative: bool, magnitude: u64, scale: usize, out: &mut Vec<u8>) {
    let p = POW10[scale];
    let (int, frac) = (magnitude / p, magnitude % p);
    let sign = usize::from(negative && magnitude != 0);
    let int_digits = digit_count(int);
    let len = sign + int_digits + 1 + scale;
    append_with(out, len, |buf| {
        buf[0] = b'-';
        put_digits(buf, int, sign + int_digits, int_digits);
        buf[sign + int_digits] = b'.';
        put_digits(buf, frac, len, scale);
    });
}

/// Write an i256 decimal with `scale` (digits by long division, no allocation).
#[inline]
pub(crate) fn write_i256(v: i256, scale: i8, out: &mut Vec<u8>) {
    let negative = v < i256::ZERO;
    let (lo, hi) = v.to_parts();
    let mut limbs = [
        lo as u64,
        (lo >> 64) as u64,
        hi as u128 as u64,
        ((hi as u128) >> 64) as u64,
    ];
    if negative {
        // Two's complement negation of the 256-bit value gives the magnitude (i256::MIN too).
        let mut carry = true;
        for l in &mut limbs {
            let (n, c) = (!*l).overflowing_add(u64::from(carry));
            *l = n;
            carry = c;
        }
    }
    // 78 digits are enough for 2^256.
    let mut digits = [0u8; 80];
    let mut pos = digits.len();
    const CHUNK: u128 = 10_000_000_000_000_000_000; // 10^19
    loop {
        let mut rem: u128 = 0;
        for l in limbs.iter_mut().rev() {
            let cur = (rem << 64) | u128::from(*l);
            *l = (cur / CHUNK) as u64;
            rem = cur % CHUNK;
        }
        let done = limbs.iter().all(|l| *l == 0);
        let mut r = rem as u64;
        let mut written = 0;
        while written < 19 && (!done || r != 0 || written == 0) {
            pos -= 1;
            digits[pos] = b'0' + (r % 10) as u8;
            r /= 10;
            written += 1;
        }
        if done {
            break;
        }
    }
    write_scaled(negative, &digits[pos..], scale, out);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn d128(v: i128, s: i8) -> String {
        let mut out = Vec::new();
        write_i128(v, s, &mut itoa::Buffer::new(), &mut out);
        String::from_utf8(out).unwrap()
    }

    fn d256(v: i256, s: i8) -> String {
        let mut out = Vec::new();
        write_i256(v, s, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn fast_paths_match_the_general_one() {
        let mut values: Vec<i128> = vec![0, 1, -1, 9, 10, 99, 100, 101, -100, 12345, -5];
        for p in 0..20u32 {
            let v = 10i128.pow(p);
            values.extend([v - 1, v, v + 1, -(v - 1), -v, 7 * v / 3]);
        }
        values.extend([u64::MAX as i128, -(u64::MAX as i128), i64::MIN as i128]);
        for v in values {
            for s in [-3i8, 0, 1, 2, 3, 9, 18, 19, 20, 25] {
                let mut general = Vec::new();
                let m = v.unsigned_abs();
                write_scaled(v < 0, m.to_string().as_bytes(), s, &mut general);
                assert_eq!(
                    d128(v, s),
                    String::from_utf8(general).unwrap(),
                    "{v} scale {s}"
                );
            }
            if let Ok(m) = u64::try_from(v.unsigned_abs()) {
                let mut out = b"x".to_vec();
                write_u64_signed(v < 0, m, &mut out);
                assert_eq!(String::from_utf8(out).unwrap(), format!("x{v}"));
            }
        }
    }

    #[test]
    fn scales() {
        assert_eq!(d128(-12340, 3), "-12.340");
        assert_eq!(d128(12340, 0), "12340");
        assert_eq!(d128(5, 3), "0.005");
        assert_eq!(d128(-5, 3), "-0.005");
        assert_eq!(d128(0, 2), "0.00");
        assert_eq!(d128(123, -2), "12300");
        assert_eq!(d128(0, -2), "0");
        assert_eq!(d128(i128::MAX, 0), i128::MAX.to_string());
        assert_eq!(d128(i128::MIN, 0), i128::MIN.to_string());
    }

    #[test]
    fn i256_digits_match_display() {
        let big = i256::from_string(
            "-12345678901234567890123456789012345678901234567890123456789012345678901234567",
        )
        .unwrap();
        for v in [
            i256::ZERO,
            i256::ONE,
            i256::MINUS_ONE,
            i256::MAX,
            i256::MIN,
            big,
            i256::from_i128(10_000_000_000_000_000_000),
            i256::from_i128(i128::MIN),
        ] {
            assert_eq!(d256(v, 0), v.to_string());
        }
        assert_eq!(d256(big, 10), {
            let s = big.to_string();
            let (a, b) = s.split_at(s.len() - 10);
            format!("{a}.{b}")
        });
    }
}
