//! One slice of a batch → its CSV lines ([`encode_slice`]): every column resolved once into
//! a [`Col`] (its values' slice and how to write them), then row by row, field by field,
//! written into a [`SliceOut`].

use std::cell::Cell;

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef, BooleanArray, RecordBatch};
use arrow_buffer::{Buffer, NullBuffer, i256};
use arrow_schema::{DataType, TimeUnit};

use super::csv_out::{
    ROW_SLACK, SliceOut, put_bool, put_bytes, put_date, put_decimal, put_decimal2,
    put_inline_plain, put_inline_text, put_int, put_text_in,
};
use super::error::VeracityError;
use super::schema::SchemaColumn;
use crate::encode::decimal::{write_i128, write_i256};
use crate::encode::digits::word_scale;
use crate::encode::temporal::{SECS_PER_DAY, date_bytes, split_timestamp, table_date, write_date};

/// An encoded slice: its CSV lines, and the end of every line in it.
#[derive(Debug, Default)]
pub(super) struct Piece {
    pub(super) bytes: Vec<u8>,
    pub(super) ends: Vec<usize>,
}

/// A decimal column's scale, and how its values that fit a u64 are written.
#[derive(Clone, Copy)]
struct Scale {
    scale: i8,
    fast: Fast,
}

/// How a decimal column's values that fit a u64 are written.
#[derive(Clone, Copy)]
enum Fast {
    /// Scale 2, by [`put_decimal2`].
    Two,
    /// Scale 1..=16, by [`put_decimal`].
    Word(usize),
    /// Scale 0, as integers (if they fit an i64).
    Int,
    /// By the general writer.
    Slow,
}

/// The most room for texts every row of a slice gets (else each row gets its own).
pub(super) const MAX_SHARED_TEXT_ROOM: usize = 64 * 1024;

/// The message of a row whose bytes outgrew the room made for them (its bound is wrong).
const NO_ROOM: &str = "internal error: the row's values outgrew the room made for them";

/// A column of a slice, ready to write values of.
enum Col<'a> {
    I8(&'a [i8]),
    I16(&'a [i16]),
    I32(&'a [i32]),
    I64(&'a [i64]),
    U8(&'a [u8]),
    U16(&'a [u16]),
    U32(&'a [u32]),
    F16(&'a [<Float16Type as arrow_array::ArrowPrimitiveType>::Native]),
    F32(&'a [f32]),
    F64(&'a [f64]),
    D32(&'a [i32], Scale),
    D64(&'a [i64], Scale),
    D128(&'a [i128], Scale),
    D256(&'a [i256], i8),
    Bool(&'a BooleanArray),
    Str(&'a [i32], &'a [u8]),
    LargeStr(&'a [i64], &'a [u8]),
    View(&'a [u128], &'a [Buffer], Box<Seen>),
    Date32(&'a [i32]),
    Date64(&'a [i64]),
    Ts(&'a [i64], TimeUnit),
}

/// Scratch of the writers that do not write into a [`SliceOut`] directly.
struct Fmt {
    int: itoa::Buffer,
    float: ryu::Buffer,
    bytes: Vec<u8>,
}

impl Fmt {
    /// Write what `write` writes into the scratch bytes.
    #[inline(never)]
    fn through(
        &mut self,
        room: &mut [u8],
        k: usize,
        write: impl FnOnce(&mut Self) -> Result<(), String>,
    ) -> Result<usize, String> {
        self.bytes.clear();
        write(self)?;
        put_bytes(room, k, &self.bytes).ok_or_else(|| NO_ROOM.into())
    }
}

impl Col<'_> {
    /// Write the (non-null) value at `i` into `room` from `k`; returns the offset after it.
    #[inline(always)]
    fn write(&self, i: usize, f: &mut Fmt, room: &mut [u8], k: usize) -> Result<usize, String> {
        let end = match self {
            Col::I8(v) => put_int(room, k, v[i].into()),
            Col::I16(v) => put_int(room, k, v[i].into()),
            Col::I32(v) => put_int(room, k, v[i].into()),
            Col::I64(v) => put_int(room, k, v[i]),
            Col::U8(v) => put_int(room, k, v[i].into()),
            Col::U16(v) => put_int(room, k, v[i].into()),
            Col::U32(v) => put_int(room, k, v[i].into()),
            Col::F16(v) => write_float(f64::from(v[i].to_f32()), f, room, k),
            Col::F32(v) => {
                let x = v[i];
                if x.is_finite() {
                    put_bytes(room, k, f.float.format_finite(x).as_bytes())
                } else {
                    write_float(f64::from(x), f, room, k)
                }
            }
            Col::F64(v) => write_float(v[i], f, room, k),
            Col::D32(v, s) => return write_decimal(v[i].into(), *s, f, room, k),
            Col::D64(v, s) => return write_decimal(v[i].into(), *s, f, room, k),
            Col::D128(v, s) => return write_decimal(v[i], *s, f, room, k),
            Col::D256(v, s) => {
                return f.through(room, k, |f| {
                    write_i256(v[i], *s, &mut f.bytes);
                    Ok(())
                });
            }
            Col::Bool(a) => put_bool(room, k, a.value(i)),
            Col::Str(offsets, data) => return write_offset_text(offsets, i, data, room, k),
            Col::LargeStr(offsets, data) => return write_offset_text(offsets, i, data, room, k),
            Col::View(views, buffers, seen) => return write_view(views[i], buffers, seen, room, k),
            Col::Date32(v) => return write_date_days(v[i].into(), room, k),
            Col::Date64(v) => {
                return write_date_days(v[i].div_euclid(SECS_PER_DAY * 1000), room, k);
            }
            Col::Ts(v, unit) => {
                return f.through(room, k, |f| write_timestamp(v[i], *unit, &mut f.bytes));
            }
        };
        end.ok_or_else(|| NO_ROOM.into())
    }

    /// The most bytes a value of this column takes, and its separator (texts: the bytes
    /// besides the text's own, see [`Col::text_len`]).
    fn width(&self) -> usize {
        1 + match self {
            Col::I8(_) | Col::I16(_) | Col::I32(_) | Col::I64(_) => 20,
            Col::U8(_) | Col::U16(_) | Col::U32(_) => 10,
            // Sign, 17 digits, point, `e`, exponent sign and 3 digits (`-Infinity` fits).
            Col::F16(_) | Col::F32(_) | Col::F64(_) => 32,
            // Sign, 39 digits, a point (or `0.`), and as many zeros as the scale: after the
            // digits for a negative one, before them (`0.000…`) for a positive one.
            Col::D32(_, s) | Col::D64(_, s) | Col::D128(_, s) => {
                42 + s.scale.unsigned_abs() as usize
            }
            // The same with 78 digits.
            Col::D256(_, s) => 81 + s.unsigned_abs() as usize,
            Col::Bool(_) => 5,
            Col::Str(..) | Col::LargeStr(..) | Col::View(..) => 2,
            Col::Date32(_) | Col::Date64(_) => 10,
            Col::Ts(..) => 24,
        }
    }

    /// For a text column, the most room [`Col::text_len`] of one of its texts.
    fn longest_text(&self) -> usize {
        fn longest<O: Copy + TryInto<usize>>(offsets: &[O]) -> usize {
            let len = |w: &[O]| match w {
                [a, b] => offset_len(&[*a, *b], 0),
                _ => 0,
            };
            offsets.windows(2).map(len).max().unwrap_or(0)
        }
        let len = match self {
            Col::Str(offsets, _) => longest(offsets),
            Col::LargeStr(offsets, _) => longest(offsets),
            Col::View(views, ..) => views.iter().map(|v| *v as u32).max().unwrap_or(0) as usize,
            _ => 0,
        };
        2 * len
    }

    /// For a text column, the room the text at `i` needs besides [`Col::width`]: twice
    /// its bytes (every `"` doubled, at worst).
    #[inline(always)]
    fn text_len(&self, i: usize) -> usize {
        let len = match self {
            Col::Str(offsets, _) => offset_len(offsets, i),
            Col::LargeStr(offsets, _) => offset_len(offsets, i),
            Col::View(views, ..) => views[i] as u32 as usize,
            _ => 0,
        };
        2 * len
    }
}

/// The length of the value at `i` of a string array with `offsets` (0 if they are wrong,
/// which the writer then reports).
#[inline(always)]
fn offset_len<O: Copy + TryInto<usize>>(offsets: &[O], i: usize) -> usize {
    match (offsets[i].try_into(), offsets[i + 1].try_into()) {
        (Ok(start), Ok(end)) => end.saturating_sub(start),
        _ => 0,
    }
}

/// The message of a text value that is not where its array says.
const TEXT_OUT_OF_BOUNDS: &str = "the string array's offsets point outside its data";

/// Write the text at `i` of a string array with `offsets` into `data`.
#[inline(always)]
fn write_offset_text<O: Copy + TryInto<usize>>(
    offsets: &[O],
    i: usize,
    data: &[u8],
    room: &mut [u8],
    k: usize,
) -> Result<usize, String> {
    let (Ok(start), Ok(end)) = (offsets[i].try_into(), offsets[i + 1].try_into()) else {
        return Err(TEXT_OUT_OF_BOUNDS.into());
    };
    put_text_in(room, k, data, start, end.saturating_sub(start))
        .ok_or_else(|| TEXT_OUT_OF_BOUNDS.into())
}

/// Short texts of a string view column lately written as they are (unquoted), by a hash of
/// their view: a column of few distinct short values (flags, modes, codes) then costs a
/// comparison per value instead of the look for special bytes. An empty slot holds
/// `u128::MAX`, which is no view of a short text (its length would be `u32::MAX`).
struct Seen([Cell<u128>; SEEN_SLOTS]);

impl Default for Seen {
    fn default() -> Self {
        Seen(std::array::from_fn(|_| Cell::new(u128::MAX)))
    }
}

const SEEN_SLOTS: usize = 8;

impl Seen {
    /// The slot of `view`.
    #[inline(always)]
    fn slot(&self, view: u128) -> &Cell<u128> {
        // Length and first 4 bytes, and the next 8, mixed; the top 3 bits pick the slot.
        let mixed = (view as u64 ^ (view >> 64) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        &self.0[(mixed >> 61) as usize % SEEN_SLOTS]
    }
}

/// Write the text of an Arrow string view: held in the view up to 12 bytes, else in one of
/// `buffers` (index and offset in the view's high 64 bits).
#[inline(always)]
fn write_view(
    view: u128,
    buffers: &[Buffer],
    seen: &Seen,
    room: &mut [u8],
    k: usize,
) -> Result<usize, String> {
    let len = view as u32 as usize;
    if len <= 12 {
        let slot = seen.slot(view);
        let end = if slot.get() == view {
            put_inline_plain(room, k, view)
        } else {
            let end = put_inline_text(room, k, view);
            if end == Some(k + len) {
                slot.set(view);
            }
            end
        };
        return end.ok_or_else(|| NO_ROOM.into());
    }
    let (index, offset) = ((view >> 64) as u32 as usize, (view >> 96) as u32 as usize);
    buffers
        .get(index)
        .and_then(|data| put_text_in(room, k, data.as_slice(), offset, len))
        .ok_or_else(|| "a string view points outside the array's data buffers".into())
}

/// Write the date of `days` since the epoch.
#[inline(always)]
fn write_date_days(days: i64, room: &mut [u8], k: usize) -> Result<usize, String> {
    match table_date(days) {
        Some(text) => put_date(room, k, text),
        None => put_date(room, k, &date_bytes(days)?),
    }
    .ok_or_else(|| NO_ROOM.into())
}

/// Write a decimal: magnitudes that fit a u64 with a scale of 0 to 16 straight into `room`,
/// others through the general writer.
#[inline(always)]
fn write_decimal(
    v: i128,
    s: Scale,
    f: &mut Fmt,
    room: &mut [u8],
    k: usize,
) -> Result<usize, String> {
    let end = match (s.fast, u64::try_from(v.unsigned_abs())) {
        (Fast::Two, Ok(m)) => put_decimal2(room, k, v < 0, m),
        (Fast::Word(scale), Ok(m)) => put_decimal(room, k, v < 0, m, scale),
        (Fast::Int, _) => match i64::try_from(v) {
            Ok(v) => put_int(room, k, v),
            Err(_) => return write_decimal_slow(v, s.scale, f, room, k),
        },
        _ => return write_decimal_slow(v, s.scale, f, room, k),
    };
    end.ok_or_else(|| NO_ROOM.into())
}

#[cold]
fn write_decimal_slow(
    v: i128,
    scale: i8,
    f: &mut Fmt,
    room: &mut [u8],
    k: usize,
) -> Result<usize, String> {
    f.through(room, k, |f| {
        write_i128(v, scale, &mut f.int, &mut f.bytes);
        Ok(())
    })
}

/// The writer of `array` (a column of a type [`schema_columns`](super::schema_columns)
/// maps; dictionaries are decoded first by [`decode_dictionary`]).
fn column(array: &dyn Array) -> Option<Col<'_>> {
    use DataType as A;
    let scale = |scale: i8| Scale {
        scale,
        fast: match (scale, word_scale(scale)) {
            (2, _) => Fast::Two,
            (0, _) => Fast::Int,
            (_, Some(s)) => Fast::Word(s),
            (_, None) => Fast::Slow,
        },
    };
    Some(match array.data_type() {
        A::Int8 => Col::I8(array.as_primitive::<Int8Type>().values()),
        A::Int16 => Col::I16(array.as_primitive::<Int16Type>().values()),
        A::Int32 => Col::I32(array.as_primitive::<Int32Type>().values()),
        A::Int64 => Col::I64(array.as_primitive::<Int64Type>().values()),
        A::UInt8 => Col::U8(array.as_primitive::<UInt8Type>().values()),
        A::UInt16 => Col::U16(array.as_primitive::<UInt16Type>().values()),
        A::UInt32 => Col::U32(array.as_primitive::<UInt32Type>().values()),
        A::Float16 => Col::F16(array.as_primitive::<Float16Type>().values()),
        A::Float32 => Col::F32(array.as_primitive::<Float32Type>().values()),
        A::Float64 => Col::F64(array.as_primitive::<Float64Type>().values()),
        A::Decimal32(_, s) => Col::D32(array.as_primitive::<Decimal32Type>().values(), scale(*s)),
        A::Decimal64(_, s) => Col::D64(array.as_primitive::<Decimal64Type>().values(), scale(*s)),
        A::Decimal128(_, s) => {
            Col::D128(array.as_primitive::<Decimal128Type>().values(), scale(*s))
        }
        A::Decimal256(_, s) => Col::D256(array.as_primitive::<Decimal256Type>().values(), *s),
        A::Boolean => Col::Bool(array.as_boolean()),
        A::Utf8 => {
            let a = array.as_string::<i32>();
            Col::Str(a.value_offsets(), a.value_data())
        }
        A::LargeUtf8 => {
            let a = array.as_string::<i64>();
            Col::LargeStr(a.value_offsets(), a.value_data())
        }
        A::Utf8View => {
            let a = array.as_string_view();
            Col::View(a.views(), a.data_buffers(), Box::default())
        }
        A::Date32 => Col::Date32(array.as_primitive::<Date32Type>().values()),
        A::Date64 => Col::Date64(array.as_primitive::<Date64Type>().values()),
        A::Timestamp(unit, _) => {
            // Every timestamp array's values are i64, whatever its unit.
            let values = match unit {
                TimeUnit::Second => array.as_primitive::<TimestampSecondType>().values(),
                TimeUnit::Millisecond => array.as_primitive::<TimestampMillisecondType>().values(),
                TimeUnit::Microsecond => array.as_primitive::<TimestampMicrosecondType>().values(),
                TimeUnit::Nanosecond => array.as_primitive::<TimestampNanosecondType>().values(),
            };
            Col::Ts(values, *unit)
        }
        _ => return None,
    })
}

/// A dictionary column's values, decoded (the writers read plain string arrays).
fn decode_dictionary(array: &ArrayRef) -> Result<Option<ArrayRef>, arrow_schema::ArrowError> {
    match array.data_type() {
        DataType::Dictionary(_, v) => arrow_cast::cast(array, v).map(Some),
        _ => Ok(None),
    }
}

/// Write the header line: every column name, as a text field.
pub(super) fn write_header(names: &[&str], out: &mut Vec<u8>) {
    let bound = names.iter().map(|n| 2 * n.len() + 3).sum::<usize>() + ROW_SLACK;
    let mut out = SliceOut::new(out, 0);
    let room = out.room(bound);
    let mut k = 0;
    for (i, name) in names.iter().enumerate() {
        // The bound has room for every name (each whole in its own bytes) and separator.
        if i > 0 {
            k = put_bytes(room, k, b",").unwrap_or(k);
        }
        k = put_text_in(room, k, name.as_bytes(), 0, name.len()).unwrap_or(k);
    }
    if let Some(end) = room.get_mut(k) {
        *end = b'\n';
    }
    out.commit(k + 1);
    out.finish();
}

/// Encode the rows of `slice` (file rows from `row0`) into `piece` (room for `capacity`
/// bytes made at once), noting every row's end.
pub(super) fn encode_slice(
    slice: &RecordBatch,
    row0: u64,
    columns: &[SchemaColumn],
    piece: &mut Piece,
    capacity: usize,
) -> Result<(), VeracityError> {
    let name = |c: usize| columns.get(c).map(|c| c.name.clone()).unwrap_or_default();
    let decoded = slice
        .columns()
        .iter()
        .enumerate()
        .map(|(c, a)| {
            decode_dictionary(a).map_err(|e| VeracityError::Value {
                column: name(c),
                row: row0,
                message: "the dictionary column cannot be decoded".into(),
                source: Some(e),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let arrays: Vec<&dyn Array> = slice
        .columns()
        .iter()
        .zip(&decoded)
        .map(|(a, d)| d.as_deref().unwrap_or(a.as_ref()))
        .collect();
    // Each column's writer, and its nulls if it has any.
    let cols = arrays
        .iter()
        .enumerate()
        .map(|(c, a)| {
            let nulls = a.nulls().filter(|n| n.null_count() > 0);
            match column(*a) {
                Some(col) => Ok((col, nulls)),
                None => Err(VeracityError::UnsupportedType {
                    column: name(c),
                    arrow_type: a.data_type().to_string(),
                    hint: "",
                }),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut f = Fmt {
        int: itoa::Buffer::new(),
        float: ryu::Buffer::new(),
        bytes: Vec::new(),
    };
    // Room of a row: the columns' widths, its texts' lengths, and the stores' slack.
    let fixed = cols.iter().map(|(c, _)| c.width()).sum::<usize>() + ROW_SLACK;
    let texts: Vec<&Col<'_>> = cols
        .iter()
        .map(|(c, _)| c)
        .filter(|c| matches!(c, Col::Str(..) | Col::LargeStr(..) | Col::View(..)))
        .collect();
    // Texts short enough: every row gets the room of the slice's longest texts, found
    // column by column; else each row its own.
    let longest: usize = texts.iter().map(|c| c.longest_text()).sum();
    let shared = (longest <= MAX_SHARED_TEXT_ROOM).then_some(fixed + longest);
    let room_of = |i: usize| match shared {
        Some(room) => room,
        None => texts.iter().fold(fixed, |b, c| b + c.text_len(i)),
    };
    piece.ends.clear();
    piece.ends.reserve(slice.num_rows());
    let mut out = SliceOut::new(&mut piece.bytes, capacity);
    let rows = (slice.num_rows(), &mut f, &mut out, &mut piece.ends);
    let written = if cols.iter().any(|(_, n)| n.is_some()) {
        write_rows::<true>(&cols, room_of, rows)
    } else {
        write_rows::<false>(&cols, room_of, rows)
    };
    written.map_err(|(c, i, message)| VeracityError::Value {
        column: name(c),
        row: row0 + i as u64,
        message,
        source: None,
    })?;
    out.finish();
    Ok(())
}

/// Where a value could not be written: its column, its row in the slice, and why.
type Failed = (usize, usize, String);

/// Write `rows` rows of `cols` (each with its nulls, checked only if `NULLS`), each into
/// the room `room_of` its index, noting their ends.
#[inline(always)]
fn write_rows<const NULLS: bool>(
    cols: &[(Col<'_>, Option<&NullBuffer>)],
    room_of: impl Fn(usize) -> usize + Copy,
    (rows, f, out, ends): (usize, &mut Fmt, &mut SliceOut<'_>, &mut Vec<usize>),
) -> Result<(), Failed> {
    for i in 0..rows {
        let room = out.room(room_of(i));
        // Every field is followed by `,`, the row's last one replaced by LF.
        let mut k = 0;
        for entry in cols {
            let (col, nulls) = entry;
            if !NULLS || !nulls.is_some_and(|n| n.is_null(i)) {
                k = col.write(i, f, room, k).map_err(move |message| {
                    let c = cols.iter().position(|e| std::ptr::eq(e, entry));
                    (c.unwrap_or_default(), i, message)
                })?;
            }
            if let Some(sep) = room.get_mut(k) {
                *sep = b',';
            }
            k += 1;
        }
        if cols.is_empty() {
            k += 1;
        }
        if let Some(end) = room.get_mut(k - 1) {
            *end = b'\n';
        }
        out.commit(k);
        ends.push(out.len());
    }
    Ok(())
}

/// Write a float: the shortest round-trip text, or `NaN`, `Infinity`, `-Infinity`.
#[inline]
fn write_float(v: f64, f: &mut Fmt, room: &mut [u8], k: usize) -> Option<usize> {
    if v.is_finite() {
        put_bytes(room, k, f.float.format_finite(v).as_bytes())
    } else if v.is_nan() {
        put_bytes(room, k, b"NaN")
    } else if v > 0.0 {
        put_bytes(room, k, b"Infinity")
    } else {
        put_bytes(room, k, b"-Infinity")
    }
}

/// Write `YYYY-MM-DDThh:mm:ss.fffZ` for a timestamp `v` of `unit` (UTC; truncated to the
/// millisecond, toward the past).
#[inline]
fn write_timestamp(v: i64, unit: TimeUnit, out: &mut Vec<u8>) -> Result<(), String> {
    let (secs, nanos) = split_timestamp(v, unit);
    write_date(secs.div_euclid(SECS_PER_DAY), out)?;
    let sod = secs.rem_euclid(SECS_PER_DAY) as u32;
    let ms = nanos / 1_000_000;
    let (h, m, s) = (sod / 3600, sod / 60 % 60, sod % 60);
    let d = |v: u32| b'0' + (v % 10) as u8;
    out.extend_from_slice(&[
        b'T',
        d(h / 10),
        d(h),
        b':',
        d(m / 10),
        d(m),
        b':',
        d(s / 10),
        d(s),
        b'.',
        d(ms / 100),
        d(ms / 10),
        d(ms),
        b'Z',
    ]);
    Ok(())
}
