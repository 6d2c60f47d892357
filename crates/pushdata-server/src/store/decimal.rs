//! Exact decimal values, read from text: the one parser of decimal text (`-12.340`, `1e3`,
//! `2.5E-2`) and the column builder that gives the Arrow decimal the store keeps for it
//! (the largest scale of its values, the digits they need, 256 bits past 38 digits; see
//! `schema` for how stored decimals are merged and read back). Both services read decimals
//! through it: the Push Data API from JSON chunks, the Veracity emulation from CSV.

use std::sync::Arc;

use arrow_array::{ArrayRef, Decimal128Array, Decimal256Array};
use arrow_buffer::i256;

/// The fast path of number parsing: `-?\d+(\.\d+)?` with at most 18 digits in all, as a
/// mantissa and the number of digits after the point. `None` for anything else (more
/// digits, exponents, signs, spaces), which the general parsers then handle.
#[inline]
pub(crate) fn plain_number(b: &[u8]) -> Option<(i64, u8)> {
    let (neg, digits) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    // The digits before the point, then (after a point with a digit either side) the
    // digits after it: one test per byte.
    let mut v: u64 = 0;
    let mut i = 0;
    while let Some(&c) = digits.get(i) {
        let d = c.wrapping_sub(b'0');
        if d >= 10 {
            break;
        }
        v = v * 10 + u64::from(d);
        i += 1;
    }
    let scale = if i == digits.len() {
        if i > 18 {
            return None;
        }
        0
    } else {
        if digits[i] != b'.' || i == 0 || i + 1 == digits.len() {
            return None;
        }
        for &c in &digits[i + 1..] {
            let d = c.wrapping_sub(b'0');
            if d >= 10 {
                return None;
            }
            v = v * 10 + u64::from(d);
        }
        digits.len() - i - 1
    };
    // At most 18 digits: fits an i64 without overflow.
    let v = v as i64;
    Some((if neg { -v } else { v }, scale as u8))
}

/// An exact decimal: mantissa and scale (digits after the point). Accepts `-12.340`,
/// `1e3`, `2.5E-2` and strings of those.
pub(crate) fn parse_decimal(text: &str) -> Result<(i256, u8), String> {
    if let Some((v, s)) = plain_number(text.as_bytes()) {
        return Ok((i256::from_i128(i128::from(v)), s));
    }
    let t = text.trim();
    let bad = || format!("{t:?} is not a decimal number");
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (mant, exp) = match body.find(['e', 'E']) {
        Some(p) => (&body[..p], body[p + 1..].parse::<i32>().map_err(|_| bad())?),
        None => (body, 0),
    };
    let (int, frac) = match mant.split_once('.') {
        Some((a, b)) => (a, b),
        None => (mant, ""),
    };
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let ten = i256::from_i128(10);
    let overflow = || format!("{t:?} has more digits than a 76-digit decimal holds");
    let mut v = i256::ZERO;
    for b in int.bytes().chain(frac.bytes()) {
        v = v
            .checked_mul(ten)
            .and_then(|x| x.checked_add(i256::from_i128(i128::from(b - b'0'))))
            .ok_or_else(overflow)?;
    }
    let mut scale = i64::try_from(frac.len()).map_err(|_| overflow())? - i64::from(exp);
    // Bound the exponent before the loop: zero is zero whatever its exponent, and any other
    // value more than 76 places to the left overflows (a 13-byte `0e2147483647` must not
    // cost 2^31 multiplications).
    if scale < 0 && v == i256::ZERO {
        scale = 0;
    } else if scale < -76 {
        return Err(overflow());
    }
    while scale < 0 {
        v = v.checked_mul(ten).ok_or_else(overflow)?;
        scale += 1;
    }
    if scale > 76 {
        return Err(format!("{t:?} has more than 76 digits after the point"));
    }
    if neg {
        v = v.checked_neg().ok_or_else(overflow)?;
    }
    Ok((v, u8::try_from(scale).map_err(|_| overflow())?))
}

/// 10^n for n in 0..=38 as i128.
const POW10_128: [i128; 39] = {
    let mut t = [1i128; 39];
    let mut i = 1;
    while i < 39 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// The values of a decimal column as they are read (text or plain numbers): 128-bit
/// mantissas with a scale each while every value fits (the common case, and the fast one),
/// else 256-bit ones. [`DecimalColumn::finish`] gives the array the store keeps.
#[derive(Debug)]
pub(crate) struct DecimalColumn {
    /// Mantissas (0 for nulls) while every value fits an i128.
    narrow: Vec<i128>,
    /// Scale of each value once `mixed` (until then every value has `max_scale`; a null's
    /// scale does not matter).
    scales: Vec<u8>,
    nulls: arrow_buffer::NullBufferBuilder,
    max_scale: u8,
    /// Whether some value has a scale other than `max_scale` so far (rescale at finish).
    mixed: bool,
    /// Set once a value does not fit an i128: every value, 256-bit.
    wide: Option<Vec<Option<(i256, u8)>>>,
}

impl DecimalColumn {
    /// An empty column with room for `capacity` values.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        DecimalColumn {
            narrow: Vec::with_capacity(capacity),
            scales: Vec::new(),
            nulls: arrow_buffer::NullBufferBuilder::new(capacity),
            max_scale: 0,
            mixed: false,
            wide: None,
        }
    }

    /// The number of values so far.
    pub(crate) fn len(&self) -> usize {
        match &self.wide {
            Some(w) => w.len(),
            None => self.narrow.len(),
        }
    }

    /// Append a null.
    pub(crate) fn push_null(&mut self) {
        match &mut self.wide {
            Some(w) => w.push(None),
            None => {
                self.narrow.push(0);
                if self.mixed {
                    self.scales.push(0);
                }
                self.nulls.append_null();
            }
        }
    }

    /// Append a value written as text ([`parse_decimal`]'s forms); the error says why it
    /// is not a decimal.
    pub(crate) fn push_text(&mut self, text: &str) -> Result<(), String> {
        if let Some(w) = &mut self.wide {
            w.push(Some(parse_decimal(text)?));
            return Ok(());
        }
        let (v, s) = match plain_number(text.as_bytes()) {
            Some((v, s)) => (i128::from(v), s),
            None => {
                let (big, s) = parse_decimal(text)?;
                match big.to_i128() {
                    Some(v) => (v, s),
                    None => {
                        self.widen();
                        if let Some(w) = &mut self.wide {
                            w.push(Some((big, s)));
                        }
                        return Ok(());
                    }
                }
            }
        };
        self.push_narrow(v, s);
        Ok(())
    }

    /// Whether a value needed 256 bits (plain numbers then go through
    /// [`DecimalColumn::push_text`]).
    #[inline]
    pub(crate) fn is_wide(&self) -> bool {
        self.wide.is_some()
    }

    /// Append a plain number already split into mantissa and scale ([`plain_number`]'s
    /// result), unless a value needed 256 bits: then `false`, and the caller appends the
    /// value with [`DecimalColumn::push_text`].
    #[inline]
    pub(crate) fn push_plain(&mut self, mantissa: i64, scale: u8) -> bool {
        if self.wide.is_some() {
            return false;
        }
        self.push_narrow(i128::from(mantissa), scale);
        true
    }

    #[inline]
    fn push_narrow(&mut self, v: i128, s: u8) {
        if s != self.max_scale {
            self.other_scale(s);
        }
        self.narrow.push(v);
        if self.mixed {
            self.scales.push(s);
        }
        self.nulls.append_non_null();
    }

    /// A value of scale `s`, not `max_scale`, comes next: the first value sets the scale;
    /// after others, the scales are kept one per value from now on.
    #[cold]
    fn other_scale(&mut self, s: u8) {
        if !self.narrow.is_empty() && !self.mixed {
            self.mixed = true;
            self.scales = vec![self.max_scale; self.narrow.len()];
        }
        self.max_scale = self.max_scale.max(s);
    }

    /// The values so far in the 256-bit representation.
    fn wide_values(&mut self) -> Vec<Option<(i256, u8)>> {
        let nulls = self.nulls.finish();
        let narrow = std::mem::take(&mut self.narrow);
        let scales = std::mem::take(&mut self.scales);
        // Until the scales are mixed, every value has the largest.
        let scale_of = |i: usize| scales.get(i).copied().unwrap_or(self.max_scale);
        narrow
            .into_iter()
            .enumerate()
            .map(|(i, v)| (i, (v, scale_of(i))))
            .map(|(i, (v, s))| {
                nulls
                    .as_ref()
                    .is_none_or(|n| n.is_valid(i))
                    .then(|| (i256::from_i128(v), s))
            })
            .collect()
    }

    /// Move every value so far to the 256-bit representation.
    fn widen(&mut self) {
        let w = self.wide_values();
        self.wide = Some(w);
    }

    /// The array: every value at the largest scale seen, as Decimal128(p, s) when every
    /// value fits 38 digits (p: the digits they need, at least the scale), else
    /// Decimal256(76, s). The error names the 0-based row of a value that does not fit 76
    /// digits at that scale.
    pub(crate) fn finish(mut self) -> Result<ArrayRef, (usize, String)> {
        if let Some(w) = self.wide.take() {
            return finish_decimal(w);
        }
        let scale = self.max_scale;
        if scale > 38 {
            return finish_decimal(self.wide_values());
        }
        let limit = POW10_128[38].unsigned_abs();
        let rescaled: Option<Vec<i128>> = if self.mixed {
            self.narrow
                .iter()
                .zip(&self.scales)
                .map(|(&v, &s)| v.checked_mul(POW10_128[usize::from(scale - s)]))
                .collect()
        } else {
            Some(std::mem::take(&mut self.narrow))
        };
        // The widest value, in one pass: the bound and the precision.
        let widest = rescaled
            .as_ref()
            .and_then(|v| v.iter().map(|v| v.unsigned_abs()).max())
            .unwrap_or(0);
        let values = match rescaled {
            Some(values) if widest < limit => values,
            Some(values) if !self.mixed => {
                // Some value needs more than 38 digits: 256 bits, from the values as read.
                self.narrow = values;
                return finish_decimal(self.wide_values());
            }
            // Some value needs more than 38 digits at the common scale: 256 bits.
            _ => return finish_decimal(self.wide_values()),
        };
        let nulls = self.nulls.finish();
        let s = i8::try_from(scale).map_err(|_| (0, "decimal scale too large".to_string()))?;
        // The precision is the digits the values need (at least the scale): storage keeps
        // narrow decimals as 64-bit Parquet integers. Readers see Decimal128(38, s).
        let digits = POW10_128
            .iter()
            .position(|p| widest < p.unsigned_abs())
            .unwrap_or(38)
            .max(1);
        let precision = u8::try_from(digits).unwrap_or(38).max(scale).clamp(1, 38);
        Decimal128Array::new(values.into(), nulls)
            .with_precision_and_scale(precision, s)
            .map(|a| Arc::new(a) as ArrayRef)
            .map_err(|e| (0, e.to_string()))
    }
}

fn pow10(n: u8) -> i256 {
    let ten = i256::from_i128(10);
    let mut p = i256::ONE;
    for _ in 0..n {
        p = p.wrapping_mul(ten);
    }
    p
}

fn finish_decimal(v: Vec<Option<(i256, u8)>>) -> Result<ArrayRef, (usize, String)> {
    let scale = v.iter().flatten().map(|(_, s)| *s).max().unwrap_or(0);
    let mut out: Vec<Option<i256>> = Vec::with_capacity(v.len());
    let limit38 = pow10(38);
    let limit76 = pow10(76);
    let mut fits128 = scale <= 38;
    for (row, x) in v.into_iter().enumerate() {
        match x {
            None => out.push(None),
            Some((m, s)) => {
                let r = m.checked_mul(pow10(scale - s)).ok_or_else(|| {
                    (
                        row,
                        format!("decimal does not fit 76 digits at scale {scale}"),
                    )
                })?;
                let abs = r.checked_abs().unwrap_or(i256::MAX);
                if abs >= limit76 {
                    return Err((
                        row,
                        format!("decimal does not fit 76 digits at scale {scale}"),
                    ));
                }
                if abs >= limit38 {
                    fits128 = false;
                }
                out.push(Some(r));
            }
        }
    }
    let s = i8::try_from(scale).map_err(|_| (0, "decimal scale too large".to_string()))?;
    if fits128 {
        let arr: Decimal128Array = out
            .into_iter()
            .map(|x| x.and_then(|v| v.to_i128()))
            .collect();
        let arr = arr
            .with_precision_and_scale(38, s)
            .map_err(|e| (0, e.to_string()))?;
        Ok(Arc::new(arr))
    } else {
        let arr: Decimal256Array = out.into_iter().collect();
        let arr = arr
            .with_precision_and_scale(76, s)
            .map_err(|e| (0, e.to_string()))?;
        Ok(Arc::new(arr))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use arrow_array::Array;

    #[test]
    fn huge_exponents_are_bounded_before_any_loop() {
        // Before the bound, the first of these took 2^31 multiplications (seconds).
        assert_eq!(parse_decimal("0e2147483647").unwrap(), (i256::ZERO, 0));
        assert_eq!(parse_decimal("-0.000e2147483647").unwrap(), (i256::ZERO, 0));
        assert!(
            parse_decimal("1e2147483647")
                .unwrap_err()
                .contains("76-digit")
        );
        assert!(
            parse_decimal("1e-2147483648")
                .unwrap_err()
                .contains("after the point")
        );
        assert_eq!(parse_decimal("12e3").unwrap(), (i256::from_i128(12_000), 0));
    }

    #[test]
    fn decimals_exact() {
        assert_eq!(
            parse_decimal("-12.340").unwrap(),
            (i256::from_i128(-12340), 3)
        );
        assert_eq!(
            parse_decimal("18446744073709551615").unwrap(),
            (i256::from_i128(18446744073709551615), 0)
        );
        assert_eq!(parse_decimal("1e3").unwrap(), (i256::from_i128(1000), 0));
        assert_eq!(parse_decimal("2.5E-2").unwrap(), (i256::from_i128(25), 3));
        assert!(parse_decimal("abc").is_err());
    }

    #[test]
    fn a_column_takes_the_largest_scale_and_the_digits_it_needs() {
        let mut d = DecimalColumn::with_capacity(4);
        d.push_text("123456789012345.678901").unwrap();
        d.push_null();
        assert!(d.push_plain(-1, 6));
        d.push_text("2").unwrap();
        assert_eq!(d.len(), 4);
        let a = d.finish().unwrap();
        let a = a.as_any().downcast_ref::<Decimal128Array>().unwrap();
        assert_eq!((a.precision(), a.scale()), (21, 6));
        assert_eq!(a.value_as_string(0), "123456789012345.678901");
        assert!(a.is_null(1));
        assert_eq!(a.value_as_string(2), "-0.000001");
        assert_eq!(a.value_as_string(3), "2.000000");
        let mut d = DecimalColumn::with_capacity(1);
        assert!(d.push_text("1.5x").is_err());
        d.push_text("1e40").unwrap();
        assert!(!d.push_plain(1, 0), "wide: the caller pushes text");
        let a = d.finish().unwrap();
        assert_eq!(a.data_type(), &arrow_schema::DataType::Decimal256(76, 0));
    }

    #[test]
    fn scales_that_differ_late_or_after_nulls_keep_every_value() {
        let mut d = DecimalColumn::with_capacity(2);
        d.push_null();
        for t in ["1.5", "2.5", "3.25"] {
            d.push_text(t).unwrap();
        }
        d.push_null();
        let a = d.finish().unwrap();
        let a = a.as_any().downcast_ref::<Decimal128Array>().unwrap();
        assert_eq!(a.scale(), 2);
        let got: Vec<Option<String>> = (0..a.len())
            .map(|i| a.is_valid(i).then(|| a.value_as_string(i)))
            .collect();
        let want = [None, Some("1.50"), Some("2.50"), Some("3.25"), None];
        assert_eq!(got, want.map(|v| v.map(str::to_string)));
        // Mixed, then widened: every value at the largest scale, in 256 bits.
        let mut d = DecimalColumn::with_capacity(1);
        for t in ["1.5", "2.25", "1e40"] {
            d.push_text(t).unwrap();
        }
        d.push_null();
        let a = d.finish().unwrap();
        let a = a.as_any().downcast_ref::<Decimal256Array>().unwrap();
        assert_eq!((a.scale(), a.len()), (2, 4));
        assert_eq!(a.value_as_string(0), "1.50");
        assert_eq!(a.value_as_string(1), "2.25");
        assert_eq!(a.value_as_string(2), format!("1{}.00", "0".repeat(40)));
        assert!(a.is_null(3));
    }
}
