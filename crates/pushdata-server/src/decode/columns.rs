//! Typed column builders: JSON tokens in, Arrow arrays out, one builder per data type.

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Float64Builder, Int32Builder, Int64Builder, StringBuilder,
    Time64MicrosecondBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, Decimal128Array, Decimal256Array};
use arrow_buffer::i256;
use arrow_schema::DataType as ArrowType;
use pushdata_core::wire::DataType;

use super::json::Token;
use super::values;

/// The Arrow type a column of `t` is stored as (decimals: the scale is decided per batch).
pub fn arrow_type(t: DataType) -> ArrowType {
    match t {
        DataType::String => ArrowType::Utf8,
        DataType::Integer => ArrowType::Int32,
        DataType::BigInteger => ArrowType::Int64,
        DataType::Bool => ArrowType::Boolean,
        DataType::Double => ArrowType::Float64,
        DataType::BigDecimal => ArrowType::Decimal128(38, 0),
        DataType::Date => ArrowType::Date32,
        DataType::Time => ArrowType::Time64(arrow_schema::TimeUnit::Microsecond),
        DataType::DateTime => ArrowType::Timestamp(arrow_schema::TimeUnit::Microsecond, None),
    }
}

/// Builds one column of a chunk from tokens.
#[derive(Debug)]
pub enum ColumnBuilder {
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
    Decimal(Vec<Option<(i256, u8)>>),
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

impl ColumnBuilder {
    /// A builder for `t` with room for `capacity` values.
    pub fn new(t: DataType, capacity: usize) -> Self {
        match t {
            DataType::String => {
                ColumnBuilder::Utf8(StringBuilder::with_capacity(capacity, capacity * 8))
            }
            DataType::Integer => ColumnBuilder::Int32(Int32Builder::with_capacity(capacity)),
            DataType::BigInteger => ColumnBuilder::Int64(Int64Builder::with_capacity(capacity)),
            DataType::Bool => ColumnBuilder::Bool(BooleanBuilder::with_capacity(capacity)),
            DataType::Double => ColumnBuilder::Float64(Float64Builder::with_capacity(capacity)),
            DataType::BigDecimal => ColumnBuilder::Decimal(Vec::with_capacity(capacity)),
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
    pub fn len(&self) -> usize {
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

    /// Whether no value was appended.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Append a null.
    pub fn push_null(&mut self) {
        match self {
            ColumnBuilder::Utf8(b) => b.append_null(),
            ColumnBuilder::Int32(b) => b.append_null(),
            ColumnBuilder::Int64(b) => b.append_null(),
            ColumnBuilder::Bool(b) => b.append_null(),
            ColumnBuilder::Float64(b) => b.append_null(),
            ColumnBuilder::Decimal(v) => v.push(None),
            ColumnBuilder::Date(b) => b.append_null(),
            ColumnBuilder::Time(b) => b.append_null(),
            ColumnBuilder::DateTime(b) => b.append_null(),
        }
    }

    /// Append one value; the error says why it does not fit (the caller adds where).
    pub fn push(&mut self, tok: Token<'_>, scratch: &mut String) -> Result<(), String> {
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
                if is_bool {
                    return Err(format!("{text} is not an integer"));
                }
                let v = values::parse_i64(text)?;
                let v = i32::try_from(v)
                    .map_err(|_| format!("{v} is out of range for INTEGER (32-bit)"))?;
                b.append_value(v);
            }
            ColumnBuilder::Int64(b) => {
                if is_bool {
                    return Err(format!("{text} is not an integer"));
                }
                b.append_value(values::parse_i64(text)?);
            }
            ColumnBuilder::Bool(b) => b.append_value(values::parse_bool(text)?),
            ColumnBuilder::Float64(b) => {
                if is_bool {
                    return Err(format!("{text} is not a number"));
                }
                b.append_value(values::parse_f64(text)?);
            }
            ColumnBuilder::Decimal(v) => {
                if is_bool {
                    return Err(format!("{text} is not a decimal number"));
                }
                v.push(Some(values::parse_decimal(text)?));
            }
            ColumnBuilder::Date(b) => {
                if !is_string {
                    return Err(format!("{text} is not a date string (\"YYYY-MM-DD\")"));
                }
                b.append_value(values::parse_date(text)?);
            }
            ColumnBuilder::Time(b) => {
                if !is_string {
                    return Err(format!("{text} is not a time string (\"hh:mm:ss\")"));
                }
                b.append_value(values::parse_time(text)?);
            }
            ColumnBuilder::DateTime(b) => {
                if !is_string {
                    return Err(format!(
                        "{text} is not a date-time string (\"YYYY-MM-DDThh:mm:ss\")"
                    ));
                }
                b.append_value(values::parse_datetime(text)?);
            }
        }
        Ok(())
    }

    /// The finished array. Decimals get the largest scale seen: Decimal128(38, s) when every
    /// value fits 38 digits, else Decimal256(76, s). Errors name the 0-based row.
    pub fn finish(self) -> Result<ArrayRef, (usize, String)> {
        Ok(match self {
            ColumnBuilder::Utf8(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Int32(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Int64(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Bool(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Float64(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Date(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Time(mut b) => Arc::new(b.finish()),
            ColumnBuilder::DateTime(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Decimal(v) => finish_decimal(v)?,
        })
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
