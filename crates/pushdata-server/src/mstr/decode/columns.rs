//! Typed column builders: JSON tokens in, Arrow arrays out, one builder per data type.

use std::sync::Arc;

use arrow_array::ArrayRef;
use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Float64Builder, Int32Builder, Int64Builder, StringBuilder,
    Time64MicrosecondBuilder, TimestampMicrosecondBuilder,
};
use pushdata_core::wire::DataType;

use super::lexer::{Lexer, Token};
use super::values;
use crate::store::DecimalColumn;

/// Builds one column of a chunk from tokens.
#[derive(Debug)]
pub(crate) enum ColumnBuilder {
    /// STRING.
    Utf8(StringBuilder),
    /// INTEGER.
    Int32(Int32Builder),
    /// BIGINTEGER.
    Int64(Int64Builder),
    /// BOOL.
    Bool(BooleanBuilder),
    /// DOUBLE.
    Float64(Float64Builder),
    /// BIGDECIMAL: mantissa and scale per value; the common scale is chosen at finish.
    Decimal(DecimalColumn),
    /// DATE.
    Date(Date32Builder),
    /// TIME.
    Time(Time64MicrosecondBuilder),
    /// DATETIME.
    DateTime(TimestampMicrosecondBuilder),
}

fn token_text<'t>(tok: &'t Token<'_>, scratch: &'t mut String) -> Result<&'t str, String> {
    match tok {
        Token::Number(n) => Ok(n),
        Token::Str(s) => s.value(scratch),
        Token::Bool(true) => Ok("true"),
        Token::Bool(false) => Ok("false"),
        Token::Null => Ok(""),
    }
}

/// `{text} is not {what}` when `refused`.
fn refuse_if(refused: bool, text: &str, what: &str) -> Result<(), String> {
    if refused {
        Err(format!("{text} is not {what}"))
    } else {
        Ok(())
    }
}

/// How a run of values through the fast path ([`ColumnBuilder::push_fast_run`]) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Run {
    /// The column array ended: its `]` is consumed.
    End,
    /// The next value is not in a form the fast path takes; nothing of it is consumed.
    Value,
    /// A value was taken, but neither `,` nor `]` follows it right away (whitespace, or
    /// an error for [`Lexer::array_next`] to describe).
    Separator,
}

/// Values from the cursor through `value` (one value each; false when it cannot take
/// the next one), each followed by `,` (go on) or `]` (the end).
#[inline(always)]
fn run(lex: &mut Lexer<'_>, mut value: impl FnMut(&mut Lexer<'_>) -> bool) -> Run {
    loop {
        lex.skip_value_ws();
        if !value(lex) {
            return Run::Value;
        }
        match lex.fast_array_next() {
            Some(true) => {}
            Some(false) => return Run::End,
            None => return Run::Separator,
        }
    }
}

/// The fast path for BIGINTEGER at the cursor: `null` or a plain whole number.
#[inline(always)]
fn fast_i64(b: &mut Int64Builder, lex: &mut Lexer<'_>) -> bool {
    if lex.fast_null() {
        b.append_null();
        return true;
    }
    lex.fast_plain_number(|v, s| (s == 0).then(|| b.append_value(v)))
        .is_some()
}

/// The fast path for INTEGER at the cursor: `null` or a plain whole number in range.
#[inline(always)]
fn fast_i32(b: &mut Int32Builder, lex: &mut Lexer<'_>) -> bool {
    if lex.fast_null() {
        b.append_null();
        return true;
    }
    lex.fast_plain_number(|v, s| {
        let v = i32::try_from(v).ok().filter(|_| s == 0)?;
        b.append_value(v);
        Some(())
    })
    .is_some()
}

/// The fast path for DOUBLE at the cursor: `null` or a number of digits, `-` and `.` in
/// JSON syntax.
#[inline(always)]
fn fast_f64(b: &mut Float64Builder, lex: &mut Lexer<'_>) -> bool {
    if lex.fast_null() {
        b.append_null();
        return true;
    }
    let mut probe = lex.clone();
    match probe
        .fast_number()
        // JSON number syntax (Rust's parser also takes `1.` and `.5`).
        .filter(|t| values::plain_number(t).is_some())
        .and_then(|t| std::str::from_utf8(t).ok())
        .and_then(|t| t.parse::<f64>().ok())
    {
        Some(v) => {
            b.append_value(v);
            *lex = probe;
            true
        }
        None => false,
    }
}

/// The fast path for BIGDECIMAL at the cursor: `null` or a plain number, while every
/// value fits 128 bits.
#[inline(always)]
fn fast_decimal(d: &mut DecimalColumn, lex: &mut Lexer<'_>) -> bool {
    if lex.fast_null() {
        d.push_null();
        return true;
    }
    if d.is_wide() {
        return false;
    }
    lex.fast_plain_number(|v, s| d.push_plain(v, s).then_some(()))
        .is_some()
}

/// The fast path for STRING at the cursor: `null` or a string without escapes.
#[inline(always)]
fn fast_utf8(b: &mut StringBuilder, lex: &mut Lexer<'_>) -> bool {
    if lex.fast_null() {
        b.append_null();
        return true;
    }
    match lex.fast_string() {
        Some(v) => {
            b.append_value(v);
            true
        }
        None => false,
    }
}

/// The fast path for DATE at the cursor: `null` or a `"YYYY-MM-DD"` date.
#[inline(always)]
fn fast_date(b: &mut Date32Builder, lex: &mut Lexer<'_>) -> bool {
    if lex.fast_null() {
        b.append_null();
        return true;
    }
    match lex.fast_date() {
        Some(days) => {
            b.append_value(days);
            true
        }
        None => false,
    }
}

impl ColumnBuilder {
    /// A builder for `t` with room for `capacity` values.
    pub(crate) fn new(t: DataType, capacity: usize) -> Self {
        match t {
            DataType::String => {
                ColumnBuilder::Utf8(StringBuilder::with_capacity(capacity, capacity * 8))
            }
            DataType::Integer => ColumnBuilder::Int32(Int32Builder::with_capacity(capacity)),
            DataType::BigInteger => ColumnBuilder::Int64(Int64Builder::with_capacity(capacity)),
            DataType::Bool => ColumnBuilder::Bool(BooleanBuilder::with_capacity(capacity)),
            DataType::Double => ColumnBuilder::Float64(Float64Builder::with_capacity(capacity)),
            DataType::BigDecimal => ColumnBuilder::Decimal(DecimalColumn::with_capacity(capacity)),
            DataType::Date => ColumnBuilder::Date(Date32Builder::with_capacity(capacity)),
            DataType::Time => {
                ColumnBuilder::Time(Time64MicrosecondBuilder::with_capacity(capacity))
            }
            DataType::DateTime => {
                ColumnBuilder::DateTime(TimestampMicrosecondBuilder::with_capacity(capacity))
            }
        }
    }

    /// Number of values appended so far.
    pub(crate) fn len(&self) -> usize {
        use arrow_array::builder::ArrayBuilder;
        match self {
            ColumnBuilder::Utf8(b) => b.len(),
            ColumnBuilder::Int32(b) => b.len(),
            ColumnBuilder::Int64(b) => b.len(),
            ColumnBuilder::Bool(b) => b.len(),
            ColumnBuilder::Float64(b) => b.len(),
            ColumnBuilder::Decimal(v) => v.len(),
            ColumnBuilder::Date(b) => b.len(),
            ColumnBuilder::Time(b) => b.len(),
            ColumnBuilder::DateTime(b) => b.len(),
        }
    }

    /// Append a null.
    pub(crate) fn push_null(&mut self) {
        match self {
            ColumnBuilder::Utf8(b) => b.append_null(),
            ColumnBuilder::Int32(b) => b.append_null(),
            ColumnBuilder::Int64(b) => b.append_null(),
            ColumnBuilder::Bool(b) => b.append_null(),
            ColumnBuilder::Float64(b) => b.append_null(),
            ColumnBuilder::Decimal(v) => v.push_null(),
            ColumnBuilder::Date(b) => b.append_null(),
            ColumnBuilder::Time(b) => b.append_null(),
            ColumnBuilder::DateTime(b) => b.append_null(),
        }
    }

    /// Append the next value of `lex` when it has one of the common forms (`null`, a plain
    /// number, a string without escapes, a `"YYYY-MM-DD"` date) that this column takes, and
    /// return true; else consume nothing and return false, and the caller reads the value
    /// with [`Lexer::scalar`] and [`ColumnBuilder::push`]. The result is the same as theirs.
    #[inline(always)]
    pub(crate) fn push_fast(&mut self, lex: &mut Lexer<'_>) -> bool {
        lex.skip_value_ws();
        self.fast_value(lex)
    }

    /// [`ColumnBuilder::push_fast`] after the whitespace.
    #[inline(always)]
    fn fast_value(&mut self, lex: &mut Lexer<'_>) -> bool {
        match self {
            ColumnBuilder::Int64(b) => fast_i64(b, lex),
            ColumnBuilder::Int32(b) => fast_i32(b, lex),
            ColumnBuilder::Decimal(d) => fast_decimal(d, lex),
            ColumnBuilder::Float64(b) => fast_f64(b, lex),
            ColumnBuilder::Utf8(b) => fast_utf8(b, lex),
            ColumnBuilder::Date(b) => fast_date(b, lex),
            _ => {
                if lex.fast_null() {
                    self.push_null();
                    true
                } else {
                    false
                }
            }
        }
    }

    /// Append the values of a column array from the cursor (after its `[` or a `,`) for
    /// as long as each is in a form [`ColumnBuilder::push_fast`] takes and is followed
    /// right away by `,` or `]`; the loop runs on the concrete builder, without a dispatch
    /// per value. The caller reads what stopped the run as [`Run`] says.
    pub(crate) fn push_fast_run(&mut self, lex: &mut Lexer<'_>) -> Run {
        match self {
            ColumnBuilder::Int64(b) => run(lex, |l| fast_i64(b, l)),
            ColumnBuilder::Int32(b) => run(lex, |l| fast_i32(b, l)),
            ColumnBuilder::Decimal(d) => run(lex, |l| fast_decimal(d, l)),
            ColumnBuilder::Float64(b) => run(lex, |l| fast_f64(b, l)),
            ColumnBuilder::Utf8(b) => run(lex, |l| fast_utf8(b, l)),
            ColumnBuilder::Date(b) => run(lex, |l| fast_date(b, l)),
            other => run(lex, |l| other.fast_value(l)),
        }
    }

    /// Append one value; the error says why it does not fit (the caller adds where).
    pub(crate) fn push(&mut self, tok: Token<'_>, scratch: &mut String) -> Result<(), String> {
        if tok == Token::Null {
            self.push_null();
            return Ok(());
        }
        let is_string = matches!(tok, Token::Str(_));
        let is_bool = matches!(tok, Token::Bool(_));
        let text = token_text(&tok, scratch)?;
        match self {
            ColumnBuilder::Utf8(b) => b.append_value(text),
            ColumnBuilder::Int32(b) => {
                refuse_if(is_bool, text, "an integer")?;
                let v = values::parse_i64(text)?;
                let v = i32::try_from(v)
                    .map_err(|_| format!("{v} is out of range for INTEGER (32-bit)"))?;
                b.append_value(v);
            }
            ColumnBuilder::Int64(b) => {
                refuse_if(is_bool, text, "an integer")?;
                b.append_value(values::parse_i64(text)?);
            }
            ColumnBuilder::Bool(b) => b.append_value(values::parse_bool(text)?),
            ColumnBuilder::Float64(b) => {
                refuse_if(is_bool, text, "a number")?;
                b.append_value(values::parse_f64(text)?);
            }
            ColumnBuilder::Decimal(v) => {
                refuse_if(is_bool, text, "a decimal number")?;
                v.push_text(text)?;
            }
            ColumnBuilder::Date(b) => {
                refuse_if(!is_string, text, "a date string (\"YYYY-MM-DD\")")?;
                b.append_value(values::parse_date(text)?);
            }
            ColumnBuilder::Time(b) => {
                refuse_if(!is_string, text, "a time string (\"hh:mm:ss\")")?;
                b.append_value(values::parse_time(text)?);
            }
            ColumnBuilder::DateTime(b) => {
                refuse_if(
                    !is_string,
                    text,
                    "a date-time string (\"YYYY-MM-DDThh:mm:ss\")",
                )?;
                b.append_value(values::parse_datetime(text)?);
            }
        }
        Ok(())
    }

    /// The finished array. Decimals get the largest scale seen: Decimal128(p, s) when every
    /// value fits 38 digits (p: the digits they need), else Decimal256(76, s). Errors name
    /// the 0-based row.
    pub(crate) fn finish(self) -> Result<ArrayRef, (usize, String)> {
        Ok(match self {
            ColumnBuilder::Utf8(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Int32(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Int64(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Bool(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Float64(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Date(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Time(mut b) => Arc::new(b.finish()),
            ColumnBuilder::DateTime(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Decimal(v) => v.finish()?,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use arrow_array::{Array, Decimal128Array};

    /// Each value through `push_fast` (when it takes it) gives the same array, or the same
    /// refusal, as through the generic `scalar` + `push`.
    #[test]
    fn fast_path_equals_generic_path() {
        let values = [
            "null",
            "0",
            "-0",
            "7",
            "-12",
            "123456789012345678",
            "1234567890123456789",
            "99999999999999999999",
            "3.0",
            "3.5",
            "-0.25",
            "12.340",
            "1e3",
            "2.5E-2",
            "1.",
            "-",
            "1.2.3",
            "007",
            "\"42\"",
            "\"2017-12-04\"",
            "\"2017-12-4\"",
            "\"2017-02-29\"",
            "\"2017-12-04T00:00:00\"",
            "\"text\"",
            "\"esc\\\"aped\"",
            "\"\"",
            "true",
            "false",
            "\"héllo ✓\"",
            "\"1.5\"",
            " 5",
            "5 ",
        ];
        let types = [
            DataType::Integer,
            DataType::BigInteger,
            DataType::BigDecimal,
            DataType::Double,
            DataType::String,
            DataType::Date,
            DataType::Bool,
        ];
        for t in types {
            for v in values {
                let text = format!("[{v}]");
                let mut fast = ColumnBuilder::new(t, 1);
                let mut lex = Lexer::new(&text);
                lex.expect(b'[', "[").unwrap();
                let took = fast.push_fast(&mut lex);
                let mut generic = ColumnBuilder::new(t, 1);
                let mut glex = Lexer::new(&text);
                glex.expect(b'[', "[").unwrap();
                let tok = glex.scalar();
                let pushed = tok.clone().map(|tok| generic.push(tok, &mut String::new()));
                if !took {
                    continue;
                }
                assert!(
                    matches!(pushed, Ok(Ok(()))),
                    "{t:?} {v}: fast path took a value the generic path refuses"
                );
                assert_eq!(lex.offset(), glex.offset(), "{t:?} {v}");
                let (a, b) = (fast.finish().unwrap(), generic.finish().unwrap());
                assert_eq!(a.as_ref(), b.as_ref(), "{t:?} {v}");
            }
        }
    }

    #[test]
    fn decimals_rescale_and_widen() {
        let mut d = ColumnBuilder::new(DataType::BigDecimal, 4);
        for v in ["1.5", "null", "-2", "0.125"] {
            let text = format!("[{v}]");
            let mut lex = Lexer::new(&text);
            lex.expect(b'[', "[").unwrap();
            assert!(d.push_fast(&mut lex));
        }
        let a = d.finish().unwrap();
        let a = a.as_any().downcast_ref::<Decimal128Array>().unwrap();
        assert_eq!(a.scale(), 3);
        assert_eq!(a.value_as_string(0), "1.500");
        assert!(a.is_null(1));
        assert_eq!(a.value_as_string(2), "-2.000");
        assert_eq!(a.value_as_string(3), "0.125");

        // 37 digits before the point and a scale of 2 elsewhere: 39 digits, 256 bits.
        let mut d = ColumnBuilder::new(DataType::BigDecimal, 2);
        d.push(
            Token::Number("1234567890123456789012345678901234567"),
            &mut String::new(),
        )
        .unwrap();
        d.push(Token::Number("0.01"), &mut String::new()).unwrap();
        let a = d.finish().unwrap();
        assert_eq!(a.data_type(), &arrow_schema::DataType::Decimal256(76, 2));
    }
}
