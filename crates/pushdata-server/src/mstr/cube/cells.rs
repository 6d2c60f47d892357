//! Values as they appear in the grid JSON: typed JSON tokens (`metricValues.raw`), display
//! text (`formValues`, `formatted`), and the text of attribute elements
//! (`ATTRIBUTE_ID:v1;v2` ids).
//!
//! Numbers are written with their exact digits (decimals at the stored scale), booleans
//! as `true`/`false`, text as JSON strings, DATE as `"YYYY-MM-DD"`, TIME as
//! `"hh:mm:ss[.f]"`, DATETIME as `"YYYY-MM-DDThh:mm:ss[.f]"`, null as `null`; a DOUBLE
//! that is NaN or infinite is `null`.

use std::fmt::Write;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Decimal128Type, Decimal256Type, Float64Type, Int32Type, Int64Type,
};
use arrow_array::{Array, ArrayRef};
use arrow_buffer::NullBuffer;
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_schema::DataType as ArrowType;

use super::error::{CubeError, Result};

/// How a column's values are written as JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Utf8: a JSON string.
    Str,
    /// Float64: a number, or null when not finite.
    Float,
    /// Date32: `YYYY-MM-DD` as a JSON string.
    Date32,
    /// Other temporal types: the formatted text as a JSON string.
    Quoted,
    /// Decimal128 or Decimal256 of this scale: the digits with the point.
    Decimal(i8),
    /// 32-bit integers: the digits.
    Int32,
    /// 64-bit integers: the digits.
    Int64,
    /// Decimals, booleans, other integers: the formatted text as is.
    Plain,
}

/// A column with its formatter.
struct Col<'a> {
    /// The column.
    array: &'a ArrayRef,
    /// How they are written as JSON.
    kind: Kind,
    /// Arrow's display formatter for it.
    fmt: ArrayFormatter<'a>,
    /// The values buffer of a fixed-width column, from its first value, and the width of
    /// a value in bytes (the bytes that tell two values apart, see [`TextColumns::key`]).
    fixed: Option<(arrow_buffer::Buffer, usize)>,
    /// Its validity (`None`: no nulls).
    nulls: Option<NullBuffer>,
}

/// The key of a value of a column that is an attribute's only form
/// ([`TextColumns::single_form_key`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SingleKey<'a> {
    /// The value's bytes.
    Bytes(&'a [u8]),
    /// The column's null.
    Null,
    /// Not a column keyed by its bytes: use [`TextColumns::key`].
    Other,
}

/// Formatters for some columns of a batch.
pub(crate) struct TextColumns<'a> {
    cols: Vec<Col<'a>>,
}

/// Append `s` as a JSON string.
pub(crate) fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    let mut rest = s;
    // Runs of characters that need no escape are copied whole.
    while let Some(at) = rest
        .bytes()
        .position(|b| b < 0x20 || b == b'"' || b == b'\\')
    {
        out.push_str(&rest[..at]);
        match rest.as_bytes()[at] {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b => {
                let _ = write!(out, "\\u{:04x}", b);
            }
        }
        rest = &rest[at + 1..];
    }
    out.push_str(rest);
    out.push('"');
}

impl Col<'_> {
    /// Whether the value at `row` is null.
    fn is_null(&self, row: usize) -> bool {
        self.nulls.as_ref().is_some_and(|n| n.is_null(row))
    }
}

/// Append the integer of column `col` (of kind `Int32` or `Int64`) at `row`, not null.
fn push_int(col: &Col<'_>, row: usize, out: &mut String) {
    let mut buf = itoa::Buffer::new();
    let text = match col.kind {
        Kind::Int32 => buf.format(col.array.as_primitive::<Int32Type>().value(row)),
        _ => buf.format(col.array.as_primitive::<Int64Type>().value(row)),
    };
    out.push_str(text);
}

/// The string of a Utf8 or LargeUtf8 column at `row`.
fn str_value(array: &ArrayRef, row: usize) -> &str {
    match array.as_string_opt::<i32>() {
        Some(a) => a.value(row),
        None => array.as_string::<i64>().value(row),
    }
}

/// Days from 0001-01-01 (chrono's day 1) to 1970-01-01.
const UNIX_EPOCH_FROM_CE: i32 = 719_163;

/// Append Date32 `days` as `YYYY-MM-DD`, as Arrow displays it; `false` (nothing written)
/// for a year outside 0..=9999, which Arrow writes with a sign.
fn push_date32(days: i32, out: &mut String) -> bool {
    use chrono::Datelike;
    let Some(d) = days
        .checked_add(UNIX_EPOCH_FROM_CE)
        .and_then(chrono::NaiveDate::from_num_days_from_ce_opt)
    else {
        return false;
    };
    let Ok(y) = u32::try_from(d.year()) else {
        return false;
    };
    if y > 9999 {
        return false;
    }
    let digit = |v: u32| char::from(b'0' + (v % 10) as u8);
    let (m, day) = (d.month(), d.day());
    out.extend([
        digit(y / 1000),
        digit(y / 100),
        digit(y / 10),
        digit(y),
        '-',
        digit(m / 10),
        digit(m),
        '-',
        digit(day / 10),
        digit(day),
    ]);
    true
}

/// Append decimal `v` of `scale` (at least 0) as Arrow displays it: the digits with a
/// point before the last `scale` of them (`-0.005`, `12.340`).
fn push_scaled(v: i128, scale: usize, out: &mut String) {
    let mut buf = itoa::Buffer::new();
    let magnitude = v.unsigned_abs();
    // 64-bit formatting is several times faster than 128-bit; most values fit.
    let digits = match u64::try_from(magnitude) {
        Ok(m) => buf.format(m),
        Err(_) => buf.format(magnitude),
    };
    if v < 0 {
        out.push('-');
    }
    if scale == 0 {
        out.push_str(digits);
    } else if digits.len() > scale {
        let (int, frac) = digits.split_at(digits.len() - scale);
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    } else {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', scale - digits.len()));
        out.push_str(digits);
    }
}

/// The value of a decimal column at `row` when it fits 128 bits.
fn decimal_value(array: &ArrayRef, row: usize) -> Option<i128> {
    match array.data_type() {
        ArrowType::Decimal128(_, _) => Some(array.as_primitive::<Decimal128Type>().value(row)),
        ArrowType::Decimal256(_, _) => array.as_primitive::<Decimal256Type>().value(row).to_i128(),
        _ => None,
    }
}

/// Arrow's default display options.
static OPTIONS: std::sync::LazyLock<FormatOptions<'static>> =
    std::sync::LazyLock::new(FormatOptions::default);

/// How a column of type `t` is written.
fn kind_of(t: &ArrowType) -> Kind {
    match t {
        ArrowType::Utf8 | ArrowType::LargeUtf8 => Kind::Str,
        ArrowType::Float64 | ArrowType::Float32 => Kind::Float,
        ArrowType::Date32 => Kind::Date32,
        ArrowType::Date64
        | ArrowType::Time32(_)
        | ArrowType::Time64(_)
        | ArrowType::Timestamp(_, _) => Kind::Quoted,
        ArrowType::Int32 => Kind::Int32,
        ArrowType::Int64 => Kind::Int64,
        ArrowType::Decimal128(_, s) | ArrowType::Decimal256(_, s) if *s >= 0 => Kind::Decimal(*s),
        _ => Kind::Plain,
    }
}

impl<'a> TextColumns<'a> {
    /// Formatters for `arrays`.
    pub(crate) fn new(arrays: &[&'a ArrayRef]) -> Result<Self> {
        let mut cols = Vec::with_capacity(arrays.len());
        for a in arrays {
            let a: &'a ArrayRef = a;
            let fmt = ArrayFormatter::try_new(a.as_ref(), &OPTIONS)
                .map_err(CubeError::arrow("formatting values"))?;
            let fixed = a.data_type().primitive_width().and_then(|w| {
                let data = a.to_data();
                let values = data.buffers().first()?;
                Some((values.slice(data.offset() * w), w))
            });
            cols.push(Col {
                array: a,
                kind: kind_of(a.data_type()),
                fmt,
                fixed,
                nulls: a.logical_nulls(),
            });
        }
        Ok(TextColumns { cols })
    }

    /// Whether column `c` is null at `row`.
    pub(crate) fn is_null(&self, c: usize, row: usize) -> bool {
        self.cols.get(c).is_none_or(|col| col.is_null(row))
    }

    /// The key of the value of column `c` at `row` when the column is an attribute's only
    /// form: the value's own bytes for a Utf8 or fixed-width column (they tell it apart
    /// from every other value of the column), [`SingleKey::Null`] for its nulls,
    /// [`SingleKey::Other`] for every value of other columns.
    pub(crate) fn single_form_key(&self, c: usize, row: usize) -> SingleKey<'_> {
        let Some(col) = self.cols.get(c) else {
            return SingleKey::Other;
        };
        match (&col.fixed, col.kind) {
            (None, k) if k != Kind::Str => SingleKey::Other,
            _ if col.is_null(row) => SingleKey::Null,
            (_, Kind::Str) => SingleKey::Bytes(str_value(col.array, row).as_bytes()),
            (Some((values, w)), _) => values
                .get(row * w..(row + 1) * w)
                .map_or(SingleKey::Other, SingleKey::Bytes),
            (None, _) => SingleKey::Other,
        }
    }

    /// The value of column `c` at `row` as a number, for a fixed-width column at most 8
    /// bytes wide (`None` for other columns): its value bytes, so two values of the column
    /// are equal exactly when these are. Nulls are not told apart here (see
    /// [`TextColumns::is_null`]).
    pub(crate) fn fixed_u64(&self, c: usize, row: usize) -> Option<u64> {
        let (values, w) = self.cols.get(c)?.fixed.as_ref()?;
        let bytes = values.get(row * w..(row + 1) * w)?;
        let mut word = [0u8; 8];
        word.get_mut(..*w)?.copy_from_slice(bytes);
        Some(u64::from_le_bytes(word))
    }

    /// Whether [`TextColumns::fixed_u64`] gives the values of column `c`.
    pub(crate) fn is_fixed_u64(&self, c: usize) -> bool {
        self.cols
            .get(c)
            .and_then(|col| col.fixed.as_ref())
            .is_some_and(|(_, w)| *w <= 8)
    }

    /// Append bytes that tell the value of column `c` at `row` apart from every other
    /// value of the column (null included): the value's own bytes, not its text.
    pub(crate) fn key(&self, c: usize, row: usize, out: &mut Vec<u8>) {
        let Some(col) = self.cols.get(c) else { return };
        if col.is_null(row) {
            out.push(0);
            return;
        }
        out.push(1);
        match (&col.fixed, col.kind) {
            (_, Kind::Str) => {
                let s = str_value(col.array, row);
                out.extend_from_slice(&(s.len() as u64).to_le_bytes());
                out.extend_from_slice(s.as_bytes());
            }
            (Some((values, w)), _) => out.extend_from_slice(&values[row * w..(row + 1) * w]),
            (None, _) => {
                let mut s = String::new();
                self.json(c, row, &mut s);
                out.extend_from_slice(&(s.len() as u64).to_le_bytes());
                out.extend_from_slice(s.as_bytes());
            }
        }
    }

    /// Append the value of column `c`, row `row` as display text (null: nothing).
    pub(crate) fn text(&self, c: usize, row: usize, out: &mut String) {
        let Some(col) = self.cols.get(c) else { return };
        if col.is_null(row) {
            return;
        }
        match col.kind {
            Kind::Str => out.push_str(str_value(col.array, row)),
            Kind::Int32 | Kind::Int64 => push_int(col, row, out),
            Kind::Date32 if push_date32(col.array.as_primitive::<Date32Type>().value(row), out) => {
            }
            Kind::Decimal(s) => match decimal_value(col.array, row) {
                Some(v) => push_scaled(v, s as usize, out),
                None => {
                    let _ = write!(out, "{}", col.fmt.value(row));
                }
            },
            _ => {
                let _ = write!(out, "{}", col.fmt.value(row));
            }
        }
    }

    /// Append the value of column `c`, row `row` as a JSON token.
    pub(crate) fn json(&self, c: usize, row: usize, out: &mut String) {
        let Some(col) = self.cols.get(c) else {
            out.push_str("null");
            return;
        };
        if col.is_null(row) {
            out.push_str("null");
            return;
        }
        match col.kind {
            Kind::Str => push_json_str(out, str_value(col.array, row)),
            Kind::Float => {
                let v = if col.array.data_type() == &ArrowType::Float64 {
                    col.array.as_primitive::<Float64Type>().value(row)
                } else {
                    0.0
                };
                if v.is_finite() {
                    // `Debug` is exact and shortest (`1e300`, `1.5`, `-0.0`): valid JSON.
                    let _ = write!(out, "{v:?}");
                } else {
                    out.push_str("null");
                }
            }
            Kind::Date32 | Kind::Quoted => {
                out.push('"');
                self.text(c, row, out);
                out.push('"');
            }
            Kind::Int32 | Kind::Int64 | Kind::Decimal(_) | Kind::Plain => self.text(c, row, out),
        }
    }

    /// Append the element text of a row: the columns' display texts joined by `;`.
    pub(crate) fn element_text(&self, row: usize, out: &mut String) {
        for c in 0..self.cols.len() {
            if c > 0 {
                out.push(';');
            }
            self.text(c, row, out);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;

    use arrow_array::{
        Date32Array, Decimal128Array, Decimal256Array, Float64Array, Int32Array, Int64Array,
        StringArray,
    };
    use arrow_buffer::i256;

    use super::*;

    #[test]
    fn integers_are_their_digits() {
        let a: ArrayRef = Arc::new(Int32Array::from(vec![Some(i32::MIN), None, Some(0)]));
        let b: ArrayRef = Arc::new(Int64Array::from(vec![Some(i64::MAX), Some(-5), None]));
        let t = TextColumns::new(&[&a, &b]).unwrap();
        let mut out = String::new();
        for row in 0..3 {
            for c in 0..2 {
                t.json(c, row, &mut out);
                out.push(',');
                t.text(c, row, &mut out);
                out.push('|');
            }
        }
        assert_eq!(
            out,
            "-2147483648,-2147483648|9223372036854775807,9223372036854775807|null,|-5,-5|0,0|null,|"
        );
    }

    #[test]
    fn tokens_are_json() {
        let s: ArrayRef = Arc::new(StringArray::from(vec![Some("a\"b\n"), None]));
        let d: ArrayRef = Arc::new(Date32Array::from(vec![Some(0), Some(18262)]));
        let f: ArrayRef = Arc::new(Float64Array::from(vec![Some(1e300), Some(f64::NAN)]));
        let dec: ArrayRef = Arc::new(
            Decimal128Array::from(vec![Some(-12340), None])
                .with_precision_and_scale(38, 3)
                .unwrap(),
        );
        let t = TextColumns::new(&[&s, &d, &f, &dec]).unwrap();
        let mut out = String::new();
        for row in 0..2 {
            for c in 0..4 {
                t.json(c, row, &mut out);
                out.push(',');
            }
        }
        assert_eq!(
            out,
            r#""a\"b\n","1970-01-01",1e300,-12.340,null,"2020-01-01",null,null,"#
        );
        let mut e = String::new();
        t.element_text(1, &mut e);
        assert_eq!(e, ";2020-01-01;NaN;");
    }

    #[test]
    fn dates_and_decimals_read_as_arrow_displays_them() {
        let days = [
            -719_528, -719_162, -1, 0, 10_957, 2_932_896, 2_932_897, -800_000,
        ];
        let d: ArrayRef = Arc::new(Date32Array::from(days.to_vec()));
        let values = [
            0,
            5,
            -5,
            12_340,
            -12_340,
            999,
            -1000,
            i128::MAX,
            i128::MIN + 1,
        ];
        let d3: ArrayRef = Arc::new(
            Decimal128Array::from(values.to_vec())
                .with_precision_and_scale(38, 3)
                .unwrap(),
        );
        let d0: ArrayRef = Arc::new(
            Decimal128Array::from(values.to_vec())
                .with_precision_and_scale(38, 0)
                .unwrap(),
        );
        let wide = [
            i256::from_i128(-7),
            i256::MAX,
            i256::MIN,
            i256::from_i128(123),
        ];
        let d256: ArrayRef = Arc::new(
            Decimal256Array::from(wide.to_vec())
                .with_precision_and_scale(76, 2)
                .unwrap(),
        );
        for a in [&d, &d3, &d0, &d256] {
            let t = TextColumns::new(&[a]).unwrap();
            let f = ArrayFormatter::try_new(a.as_ref(), &OPTIONS).unwrap();
            for row in 0..a.len() {
                let (mut ours, mut arrow) = (String::new(), String::new());
                t.text(0, row, &mut ours);
                let _ = write!(arrow, "{}", f.value(row));
                assert_eq!(ours, arrow, "{} row {row}", a.data_type());
            }
        }
    }

    #[test]
    fn keys_tell_values_apart() {
        let s: ArrayRef = Arc::new(StringArray::from(vec![
            Some("ab"),
            Some(""),
            None,
            Some("ab"),
        ]));
        let d: ArrayRef = Arc::new(Date32Array::from(vec![Some(1), Some(0), None, Some(1)]));
        let t = TextColumns::new(&[&s, &d]).unwrap();
        let key = |row| {
            let mut k = Vec::new();
            t.key(0, row, &mut k);
            t.key(1, row, &mut k);
            k
        };
        assert_eq!(key(0), key(3));
        assert_ne!(key(0), key(1));
        assert_ne!(key(1), key(2), "an empty string is not null");
    }
}
