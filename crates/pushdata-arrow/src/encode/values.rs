//! One encoder per Arrow type, each writing a non-null value's JSON token straight into a
//! byte buffer (in the style of arrow-json's writer encoders). Nulls are handled by
//! [`ColumnEncoder`], which writes `null`.

use std::sync::LazyLock;

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{
    Array, ArrowPrimitiveType, BooleanArray, DictionaryArray, GenericBinaryArray,
    GenericStringArray, OffsetSizeTrait, PrimitiveArray,
};
use arrow_buffer::NullBuffer;
use arrow_schema::{ArrowError, DataType as ArrowType, FieldRef, TimeUnit};

use super::decimal::{write_i128, write_i256, write_u64_signed};
use super::json::{write_inline_view, write_json_string};
use super::temporal::{
    NANOS_PER_SEC, SECS_PER_DAY, parse_fixed_offset, split_timestamp, write_date,
    write_date_quoted, write_datetime, write_time,
};
use crate::model::ValueText;

/// Why a value (or a column) cannot be written; column and row are added by the caller.
#[derive(Debug)]
pub(crate) enum ValueError {
    /// Our own description of what is wrong with the value.
    Invalid(String),
    /// Arrow could not format the value (or make the column's formatter).
    Arrow(ArrowError),
}

impl From<String> for ValueError {
    fn from(message: String) -> Self {
        ValueError::Invalid(message)
    }
}

/// Writes one non-null value. An `Err` says what is wrong with that value.
pub(crate) trait ValueEncoder {
    /// Write the JSON token of the (non-null) value at `idx`.
    fn encode(&mut self, idx: usize, out: &mut Vec<u8>) -> Result<(), ValueError>;
}

/// A value encoder plus the column's logical nulls.
pub(crate) struct ColumnEncoder<'a> {
    inner: Box<dyn ValueEncoder + 'a>,
    nulls: Option<NullBuffer>,
}

impl ColumnEncoder<'_> {
    /// Write the value at `idx`, or `null`.
    #[inline]
    pub(crate) fn write(&mut self, idx: usize, out: &mut Vec<u8>) -> Result<(), ValueError> {
        if self.nulls.as_ref().is_some_and(|n| n.is_null(idx)) {
            out.extend_from_slice(b"null");
            Ok(())
        } else {
            self.inner.encode(idx, out)
        }
    }
}

/// How zoned timestamps are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ZoneMode {
    /// Convert to UTC.
    Utc,
    /// Keep the zone's local wall time (fixed offsets only).
    Local,
}

static JSON_OPTIONS: LazyLock<arrow_json::writer::EncoderOptions> =
    LazyLock::new(|| arrow_json::writer::EncoderOptions::default().with_explicit_nulls(true));

static DISPLAY_OPTIONS: LazyLock<arrow_cast::display::FormatOptions<'static>> =
    LazyLock::new(arrow_cast::display::FormatOptions::default);

/// Build the encoder for `array` (a column of `field`), writing values as `text` says.
pub(crate) fn make_encoder<'a>(
    field: &'a FieldRef,
    array: &'a dyn Array,
    text: ValueText,
    zones: ZoneMode,
) -> Result<ColumnEncoder<'a>, ArrowError> {
    let nulls = array.logical_nulls();
    if let ArrowType::Dictionary(k, _) = array.data_type() {
        use ArrowType as A;
        let inner = match k.as_ref() {
            A::Int8 => dict::<Int8Type>(field, array, text, zones)?,
            A::Int16 => dict::<Int16Type>(field, array, text, zones)?,
            A::Int32 => dict::<Int32Type>(field, array, text, zones)?,
            A::Int64 => dict::<Int64Type>(field, array, text, zones)?,
            A::UInt8 => dict::<UInt8Type>(field, array, text, zones)?,
            A::UInt16 => dict::<UInt16Type>(field, array, text, zones)?,
            A::UInt32 => dict::<UInt32Type>(field, array, text, zones)?,
            A::UInt64 => dict::<UInt64Type>(field, array, text, zones)?,
            _ => return Err(unsupported(array.data_type())),
        };
        return Ok(ColumnEncoder { inner, nulls });
    }
    let inner: Box<dyn ValueEncoder + 'a> = match text {
        ValueText::Native => native_encoder(array, zones)?,
        ValueText::JsonText => {
            let enc = arrow_json::writer::make_encoder(field, array, &JSON_OPTIONS)?;
            Box::new(JsonTextEncoder {
                enc,
                scratch: Vec::new(),
            })
        }
        ValueText::Base64 => binary_encoder(array)?,
        ValueText::DisplayText => Box::new(DisplayTextEncoder {
            fmt: arrow_cast::display::ArrayFormatter::try_new(array, &DISPLAY_OPTIONS)?,
            scratch: String::new(),
        }),
    };
    Ok(ColumnEncoder { inner, nulls })
}

fn unsupported(t: &ArrowType) -> ArrowError {
    ArrowError::NotYetImplemented(format!("no chunk encoder for Arrow type {t}"))
}

fn native_encoder<'a>(
    array: &'a dyn Array,
    zones: ZoneMode,
) -> Result<Box<dyn ValueEncoder + 'a>, ArrowError> {
    use ArrowType as A;
    let t = array.data_type();
    Ok(match t {
        A::Int8 => int::<Int8Type>(array),
        A::Int16 => int::<Int16Type>(array),
        A::Int32 => int::<Int32Type>(array),
        A::Int64 => int::<Int64Type>(array),
        A::UInt8 => int::<UInt8Type>(array),
        A::UInt16 => int::<UInt16Type>(array),
        A::UInt32 => int::<UInt32Type>(array),
        A::UInt64 => int::<UInt64Type>(array),
        A::Float16 => Box::new(Float16Encoder(array.as_primitive(), ryu::Buffer::new())),
        A::Float32 => Box::new(Float32Encoder(array.as_primitive(), ryu::Buffer::new())),
        A::Float64 => Box::new(Float64Encoder(array.as_primitive(), ryu::Buffer::new())),
        A::Decimal32(_, s) => Box::new(SmallDecimalEncoder::<Decimal32Type>::new(array, *s)),
        A::Decimal64(_, s) => Box::new(SmallDecimalEncoder::<Decimal64Type>::new(array, *s)),
        A::Decimal128(_, s) => Box::new(SmallDecimalEncoder::<Decimal128Type>::new(array, *s)),
        A::Decimal256(_, s) => Box::new(Decimal256Encoder(array.as_primitive(), *s)),
        A::Utf8 => Box::new(StringEncoder(array.as_string::<i32>())),
        A::LargeUtf8 => Box::new(StringEncoder(array.as_string::<i64>())),
        A::Utf8View => Box::new(StringViewEncoder(array.as_string_view())),
        A::Null => Box::new(NullEncoder),
        A::Boolean => Box::new(BoolEncoder(array.as_boolean())),
        A::Date32 => Box::new(Date32Encoder(array.as_primitive())),
        A::Date64 => Box::new(Date64Encoder(array.as_primitive())),
        A::Time32(TimeUnit::Second) => time::<Time32SecondType>(array, 1),
        A::Time32(TimeUnit::Millisecond) => time::<Time32MillisecondType>(array, 1_000),
        A::Time64(TimeUnit::Microsecond) => time::<Time64MicrosecondType>(array, 1_000_000),
        A::Time64(TimeUnit::Nanosecond) => time::<Time64NanosecondType>(array, NANOS_PER_SEC),
        A::Timestamp(unit, zone) => {
            let offset = match (zone, zones) {
                (Some(z), ZoneMode::Local) => match parse_fixed_offset(z) {
                    Some(o) => i64::from(o),
                    None => {
                        return Err(ArrowError::InvalidArgumentError(format!(
                            "time zone {z:?} is not a fixed offset; local wall time needs one \
                             (named zones are written in UTC only)"
                        )));
                    }
                },
                _ => 0,
            };
            match *unit {
                u @ TimeUnit::Second => ts::<TimestampSecondType>(array, u, offset),
                u @ TimeUnit::Millisecond => ts::<TimestampMillisecondType>(array, u, offset),
                u @ TimeUnit::Microsecond => ts::<TimestampMicrosecondType>(array, u, offset),
                u @ TimeUnit::Nanosecond => ts::<TimestampNanosecondType>(array, u, offset),
            }
        }
        _ => return Err(unsupported(t)),
    })
}

// ---- integers -------------------------------------------------------------------------

struct IntEncoder<'a, T: ArrowPrimitiveType>(&'a PrimitiveArray<T>);

fn int<'a, T>(array: &'a dyn Array) -> Box<dyn ValueEncoder + 'a>
where
    T: ArrowPrimitiveType,
    T::Native: Into<i128>,
{
    Box::new(IntEncoder::<T>(array.as_primitive()))
}

impl<T> ValueEncoder for IntEncoder<'_, T>
where
    T: ArrowPrimitiveType,
    T::Native: Into<i128>,
{
    #[inline]
    fn encode(&mut self, idx: usize, out: &mut Vec<u8>) -> Result<(), ValueError> {
        let v: i128 = self.0.value(idx).into();
        // Every integer type up to 64 bits has a magnitude that fits a u64.
        write_u64_signed(v < 0, v.unsigned_abs() as u64, out);
        Ok(())
    }
}

// ---- floats: shortest round-trip of the Arrow width; NaN and infinities -> null -----------

struct Float16Encoder<'a>(&'a PrimitiveArray<Float16Type>, ryu::Buffer);
struct Float32Encoder<'a>(&'a PrimitiveArray<Float32Type>, ryu::Buffer);
struct Float64Encoder<'a>(&'a PrimitiveArray<Float64Type>, ryu::Buffer);

impl ValueEncoder for Float16Encoder<'_> {
    #[inline]
    fn encode(&mut self, idx: usize, out: &mut Vec<u8>) -> Result<(), ValueError> {
        let v = self.0.value(idx).to_f32();
        if v.is_finite() {
            out.extend_from_slice(self.1.format_finite(v).as_bytes());
        } else {
            out.extend_from_slice(b"null");
        }
        Ok(())
    }
}

impl ValueEncoder for Float32Encoder<'_> {
    #[inline]
    fn encode(&mut self, idx: usize, out: &mut Vec<u8>) -> Result<(), ValueError> {
        let v = self.0.value(idx);
        if v.is_finite() {
            out.extend_from_slice(self.1.format_finite(v).as_bytes());
        } else {
            out.extend_from_slice(b"null");
        }
        Ok(())
    }
}

impl ValueEncoder for Float64Encoder<'_> {
    #[inline]
    fn encode(&mut self, idx: usize, out: &mut Vec<u8>) -> Result<(), ValueError> {
        let v = self.0.value(idx);
        if v.is_finite() {
            out.extend_from_slice(self.1.format_finite(v).as_bytes());
        } else {
            out.extend_from_slice(b"null");
        }
        Ok(())
    }
}

// ---- decimals: exact digits ----------------------------------------------------------------

struct SmallDecimalEncoder<'a, T: ArrowPrimitiveType> {
    array: &'a PrimitiveArray<T>,
    scale: i8,
    buf: itoa::Buffer,
}

impl<'a, T: ArrowPrimitiveType> SmallDecimalEncoder<'a, T> {
    fn new(array: &'a dyn Array, scale: i8) -> Self {
        SmallDecimalEncoder {
            array: array.as_primitive(),
            scale,
            buf: itoa::Buffer::new(),
        }
    }
}

impl<T> ValueEncoder for SmallDecimalEncoder<'_, T>
where
    T: ArrowPrimitiveType,
    T::Native: Into<i128>,
{
    #[inline]
    fn encode(&mut self, idx: usize, out: &mut Vec<u8>) -> Result<(), ValueError> {
        write_i128(self.array.value(idx).into(), self.scale, &mut self.buf, out);
        Ok(())
    }
}

struct Decimal256Encoder<'a>(&'a PrimitiveArray<Decimal256Type>, i8);

impl ValueEncoder for Decimal256Encoder<'_> {
    #[inline]
    fn encode(&mut self, idx: usize, out: &mut Vec<u8>) -> Result<(), ValueError> {
        write_i256(self.0.value(idx), self.1, out);
        Ok(())
    }
}

// ---- strings, bools, nulls -----------------------------------------------------------------

struct StringEncoder<'a, O: OffsetSizeTrait>(&'a GenericStringArray<O>);

impl<O: OffsetSizeTrait> ValueEncoder for StringEncoder<'_, O> {
    #[inline]
    fn encode(&mut self, idx: usize, out: &mut Vec<u8>) -> Result<(), ValueError> {
        write_json_string(self.0.value(idx).as_bytes(), out);
        Ok(())
    }
}

struct StringViewEncoder<'a>(&'a arrow_array::StringViewArray);

impl ValueEncoder for StringViewEncoder<'_> {
    #[inline]
    fn encode(&mut self, idx: usize, out: &mut Vec<u8>) -> Result<(), ValueError> {
        // Short strings live in the view itself: copied without a call to `memcpy`.
        if let Some(&view) = self.0.views().get(idx) {
            let len = view as u32 as usize;
            if len <= 12 && write_inline_view(view, len, out) {
                return Ok(());
            }
        }
        write_json_string(self.0.value(idx).as_bytes(), out);
        Ok(())
    }
}

struct BoolEncoder<'a>(&'a BooleanArray);

impl ValueEncoder for BoolEncoder<'_> {
    #[inline]
    fn encode(&mut self, idx: usize, out: &mut Vec<u8>) -> Result<(), ValueError> {
        out.extend_from_slice(if self.0.value(idx) { b"true" } else { b"false" });
        Ok(())
    }
}

struct NullEncoder;

impl ValueEncoder for NullEncoder {
    fn encode(&mut self, _idx: usize, out: &mut Vec<u8>) -> Result<(), ValueError> {
        out.extend_from_slice(b"null");
        Ok(())
    }
}

// ---- dates, times, timestamps ----------------------------------------------------------------

struct Date32Encoder<'a>(&'a PrimitiveArray<Date32Type>);

impl ValueEncoder for Date32Encoder<'_> {
    #[inline]
    fn encode(&mut self, idx: usize, out: &mut Vec<u8>) -> Result<(), ValueError> {
        Ok(write_date_quoted(i64::from(self.0.value(idx)), out)?)
    }
}

struct Date64Encoder<'a>(&'a PrimitiveArray<Date64Type>);

impl ValueEncoder for Date64Encoder<'_> {
    #[inline]
    fn encode(&mut self, idx: usize, out: &mut Vec<u8>) -> Result<(), ValueError> {
        out.push(b'"');
        write_date(self.0.value(idx).div_euclid(SECS_PER_DAY * 1000), out)?;
        out.push(b'"');
        Ok(())
    }
}

struct TimeEncoder<'a, T: ArrowPrimitiveType> {
    array: &'a PrimitiveArray<T>,
    per_sec: i64,
}

fn time<'a, T>(array: &'a dyn Array, per_sec: i64) -> Box<dyn ValueEncoder + 'a>
where
    T: ArrowPrimitiveType,
    T::Native: Into<i64>,
{
    Box::new(TimeEncoder::<T> {
        array: array.as_primitive(),
        per_sec,
    })
}

impl<T> ValueEncoder for TimeEncoder<'_, T>
where
    T: ArrowPrimitiveType,
    T::Native: Into<i64>,
{
    #[inline]
    fn encode(&mut self, idx: usize, out: &mut Vec<u8>) -> Result<(), ValueError> {
        let v: i64 = self.array.value(idx).into();
        if v < 0 || v >= SECS_PER_DAY * self.per_sec {
            return Err(ValueError::Invalid(format!(
                "time value {v} (units of 1/{} s) is outside one day",
                self.per_sec
            )));
        }
        let secs = (v / self.per_sec) as u32;
        let nanos = ((v % self.per_sec) * (NANOS_PER_SEC / self.per_sec)) as u32;
        out.push(b'"');
        write_time(secs, nanos, out);
        out.push(b'"');
        Ok(())
    }
}

struct TimestampEncoder<'a, T: ArrowPrimitiveType> {
    array: &'a PrimitiveArray<T>,
    unit: TimeUnit,
    offset_secs: i64,
}

fn ts<'a, T>(array: &'a dyn Array, unit: TimeUnit, offset_secs: i64) -> Box<dyn ValueEncoder + 'a>
where
    T: ArrowPrimitiveType<Native = i64>,
{
    Box::new(TimestampEncoder::<T> {
        array: array.as_primitive(),
        unit,
        offset_secs,
    })
}

impl<T> ValueEncoder for TimestampEncoder<'_, T>
where
    T: ArrowPrimitiveType<Native = i64>,
{
    #[inline]
    fn encode(&mut self, idx: usize, out: &mut Vec<u8>) -> Result<(), ValueError> {
        let (secs, nanos) = split_timestamp(self.array.value(idx), self.unit);
        let secs = secs
            .checked_add(self.offset_secs)
            .ok_or_else(|| format!("timestamp {secs} s is out of range"))?;
        out.push(b'"');
        write_datetime(secs, nanos, out)?;
        out.push(b'"');
        Ok(())
    }
}

// ---- dictionaries ------------------------------------------------------------------------

struct DictEncoder<'a, K: ArrowDictionaryKeyType> {
    keys: &'a PrimitiveArray<K>,
    values: ColumnEncoder<'a>,
}

fn dict<'a, K: ArrowDictionaryKeyType>(
    field: &'a FieldRef,
    array: &'a dyn Array,
    text: ValueText,
    zones: ZoneMode,
) -> Result<Box<dyn ValueEncoder + 'a>, ArrowError> {
    let d: &'a DictionaryArray<K> = array.as_dictionary();
    let values = make_encoder(field, d.values().as_ref(), text, zones)?;
    Ok(Box::new(DictEncoder {
        keys: d.keys(),
        values,
    }))
}

impl<K: ArrowDictionaryKeyType> ValueEncoder for DictEncoder<'_, K> {
    #[inline]
    fn encode(&mut self, idx: usize, out: &mut Vec<u8>) -> Result<(), ValueError> {
        let key = self.keys.value(idx);
        let k = arrow_buffer::ArrowNativeType::as_usize(key);
        self.values.write(k, out)
    }
}

// ---- text fallback -------------------------------------------------------------------------

struct JsonTextEncoder<'a> {
    enc: arrow_json::writer::NullableEncoder<'a>,
    scratch: Vec<u8>,
}

impl ValueEncoder for JsonTextEncoder<'_> {
    fn encode(&mut self, idx: usize, out: &mut Vec<u8>) -> Result<(), ValueError> {
        self.scratch.clear();
        self.enc.encode(idx, &mut self.scratch);
        write_json_string(&self.scratch, out);
        Ok(())
    }
}

struct DisplayTextEncoder<'a> {
    fmt: arrow_cast::display::ArrayFormatter<'a>,
    scratch: String,
}

impl ValueEncoder for DisplayTextEncoder<'_> {
    fn encode(&mut self, idx: usize, out: &mut Vec<u8>) -> Result<(), ValueError> {
        self.scratch.clear();
        self.fmt
            .value(idx)
            .write(&mut self.scratch)
            .map_err(ValueError::Arrow)?;
        write_json_string(self.scratch.as_bytes(), out);
        Ok(())
    }
}

struct BinaryB64<'a, O: OffsetSizeTrait>(&'a GenericBinaryArray<O>);
struct BinaryViewB64<'a>(&'a arrow_array::BinaryViewArray);
struct FixedB64<'a>(&'a arrow_array::FixedSizeBinaryArray);

macro_rules! b64_impl {
    ($t:ty $(, $g:ident)?) => {
        impl<$($g: OffsetSizeTrait)?> ValueEncoder for $t {
            #[inline]
            fn encode(&mut self, idx: usize, out: &mut Vec<u8>) -> Result<(), ValueError> {
                out.push(b'"');
                base64_simd::STANDARD.encode_append(self.0.value(idx), out);
                out.push(b'"');
                Ok(())
            }
        }
    };
}
b64_impl!(BinaryB64<'_, O>, O);
b64_impl!(BinaryViewB64<'_>);
b64_impl!(FixedB64<'_>);

fn binary_encoder(array: &dyn Array) -> Result<Box<dyn ValueEncoder + '_>, ArrowError> {
    Ok(match array.data_type() {
        ArrowType::Binary => Box::new(BinaryB64(array.as_binary::<i32>())),
        ArrowType::LargeBinary => Box::new(BinaryB64(array.as_binary::<i64>())),
        ArrowType::BinaryView => Box::new(BinaryViewB64(array.as_binary_view())),
        ArrowType::FixedSizeBinary(_) => Box::new(FixedB64(array.as_fixed_size_binary())),
        t => return Err(unsupported(t)),
    })
}
