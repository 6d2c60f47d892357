//! Exact decimal text: the integer digits with the scale inserted, never through f64.

use arrow_buffer::i256;

/// Write `digits` (the magnitude, ASCII, no leading zeros unless it is `0`) with `scale`
/// fraction digits: `12340`, scale 3 -> `12.340`; scale -2 -> `1234000`.
#[inline]
pub fn write_scaled(negative: bool, digits: &[u8], scale: i8, out: &mut Vec<u8>) {
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
pub fn write_i128(v: i128, scale: i8, buf: &mut itoa::Buffer, out: &mut Vec<u8>) {
    let magnitude = v.unsigned_abs();
    // 64-bit formatting is several times faster than 128-bit; most decimals fit.
    let digits = match u64::try_from(magnitude) {
        Ok(m) => buf.format(m),
        Err(_) => buf.format(magnitude),
    };
    write_scaled(v < 0, digits.as_bytes(), scale, out);
}

/// Write an i256 decimal with `scale` (digits by long division, no allocation).
#[inline]
pub fn write_i256(v: i256, scale: i8, out: &mut Vec<u8>) {
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
