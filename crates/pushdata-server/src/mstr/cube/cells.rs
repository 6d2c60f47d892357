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
use arrow_array::types::{Float64Type, Int32Type, Int64Type};
use arrow_array::{Array, ArrayRef};
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
    /// Temporal: the formatted text as a JSON string.
    Quoted,
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
}

/// Formatters for some columns of a batch.
pub(crate) struct TextColumns<'a> {
    cols: Vec<Col<'a>>,
}

/// Append `s` as a JSON string.
pub(crate) fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
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

/// Arrow's default display options.
static OPTIONS: std::sync::LazyLock<FormatOptions<'static>> =
    std::sync::LazyLock::new(FormatOptions::default);

impl<'a> TextColumns<'a> {
    /// Formatters for `arrays`.
    pub(crate) fn new(arrays: &[&'a ArrayRef]) -> Result<Self> {
        let mut cols = Vec::with_capacity(arrays.len());
        for a in arrays {
            let a: &'a ArrayRef = a;
            let kind = match a.data_type() {
                ArrowType::Utf8 | ArrowType::LargeUtf8 => Kind::Str,
                ArrowType::Float64 | ArrowType::Float32 => Kind::Float,
                ArrowType::Date32
                | ArrowType::Date64
                | ArrowType::Time32(_)
                | ArrowType::Time64(_)
                | ArrowType::Timestamp(_, _) => Kind::Quoted,
                ArrowType::Int32 => Kind::Int32,
                ArrowType::Int64 => Kind::Int64,
                _ => Kind::Plain,
            };
            let fmt = ArrayFormatter::try_new(a.as_ref(), &OPTIONS)
                .map_err(CubeError::arrow("formatting values"))?;
            cols.push(Col {
                array: a,
                kind,
                fmt,
            });
        }
        Ok(TextColumns { cols })
    }

    /// Whether column `c` is null at `row`.
    pub(crate) fn is_null(&self, c: usize, row: usize) -> bool {
        self.cols.get(c).is_none_or(|col| col.array.is_null(row))
    }

    /// Append the value of column `c`, row `row` as display text (null: nothing).
    pub(crate) fn text(&self, c: usize, row: usize, out: &mut String) {
        let Some(col) = self.cols.get(c) else { return };
        if col.array.is_null(row) {
            return;
        }
        match col.kind {
            Kind::Str => out.push_str(col.array.as_string::<i32>().value(row)),
            Kind::Int32 | Kind::Int64 => push_int(col, row, out),
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
        if col.array.is_null(row) {
            out.push_str("null");
            return;
        }
        match col.kind {
            Kind::Str => push_json_str(out, col.array.as_string::<i32>().value(row)),
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
            Kind::Quoted => {
                out.push('"');
                let _ = write!(out, "{}", col.fmt.value(row));
                out.push('"');
            }
            Kind::Int32 | Kind::Int64 => push_int(col, row, out),
            Kind::Plain => {
                let _ = write!(out, "{}", col.fmt.value(row));
            }
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
        Date32Array, Decimal128Array, Float64Array, Int32Array, Int64Array, StringArray,
    };

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
}
