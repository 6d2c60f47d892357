//! The fast path of the parallel reader: a piece of whole CSV rows split into fields a
//! batch of rows at a time (`spans`: the bytes that end a field found 64 at a time, see
//! `specials`), then each column's fields parsed in one loop straight into the column
//! arrow-csv builds for the same read schema (text, or a type whose text both parse with
//! the type's `Parser::parse`; an empty field is a null), without csv-core's per-byte
//! state machine and the copy of every field into its record buffer. Plain numbers (at
//! most 18 digits, `plain_number`) and `YYYY-MM-DD` dates have their own parsers, which
//! read those exactly as the general ones do and leave the rest to them. Text is checked
//! as UTF-8 once per column and batch; a number that is not ASCII fails its parser.
//!
//! It follows csv-core (quoting on, `""` an escape, no comments, no trimming) only where
//! that is simple: a carriage return outside quotes, a blank line, a quote inside an
//! unquoted field or after a closing quote anywhere but before a delimiter or a line end,
//! a row with another number of fields, invalid UTF-8 or a value that does not parse make
//! it give the piece back (`None`), and arrow-csv reads it as before (its errors, rows and
//! messages).

use std::sync::Arc;

use arrow_array::builder::PrimitiveBuilder;
use arrow_array::types::{Date32Type, Float64Type, Int32Type, Int64Type};
use arrow_array::{ArrayRef, ArrowPrimitiveType, RecordBatch, StringArray};
use arrow_buffer::{Buffer, NullBufferBuilder, OffsetBuffer, ScalarBuffer};
use arrow_cast::parse::Parser;
use arrow_schema::{DataType, SchemaRef};
use arrow_schema::{Field as ArrowField, Schema};

use super::process::BATCH_ROWS;
use super::spans::{Spans, value};

use crate::mstr::decode::values::plain_date;
use crate::store::{DecimalColumn, plain_number};

/// The metadata key of a text column of the read schema that holds decimals (see
/// [`decimal_text`]).
const DECIMAL: &str = "pushdata.veracity.decimal";

/// The read schema's field of a decimal column `name`: text for arrow-csv, read into
/// decimals (as `decimals::read_decimals` reads the text) by the fast path.
pub(super) fn decimal_text(name: &str) -> ArrowField {
    ArrowField::new(name, DataType::Utf8, true).with_metadata(std::collections::HashMap::from([(
        DECIMAL.to_string(),
        String::new(),
    )]))
}

/// One column being built.
enum Column {
    Text(TextColumn),
    Int32(PrimitiveBuilder<Int32Type>),
    Int64(PrimitiveBuilder<Int64Type>),
    Float64(PrimitiveBuilder<Float64Type>),
    Date32(PrimitiveBuilder<Date32Type>),
    Decimal(DecimalColumn),
}

impl Column {
    /// A column read as field `f` of the read schema (`None`: a type the fast path does
    /// not build), with room for a batch of rows and `text_bytes` bytes of text.
    fn new(f: &ArrowField, text_bytes: usize) -> Option<Self> {
        let rows = BATCH_ROWS;
        Some(match f.data_type() {
            DataType::Utf8 if f.metadata().contains_key(DECIMAL) => {
                Column::Decimal(DecimalColumn::with_capacity(rows))
            }
            DataType::Utf8 => Column::Text(TextColumn::with_capacity(rows, text_bytes)),
            DataType::Int32 => Column::Int32(PrimitiveBuilder::with_capacity(rows)),
            DataType::Int64 => Column::Int64(PrimitiveBuilder::with_capacity(rows)),
            DataType::Float64 => Column::Float64(PrimitiveBuilder::with_capacity(rows)),
            DataType::Date32 => Column::Date32(PrimitiveBuilder::with_capacity(rows)),
            _ => return None,
        })
    }

    /// Add the values `fields` (empty: a null); `None` when one does not parse.
    fn push_all(&mut self, fields: &[&[u8]]) -> Option<()> {
        match self {
            Column::Text(t) => {
                for f in fields {
                    t.push(f)?;
                }
            }
            Column::Int32(b) => push_parsed(b, fields, |s| {
                plain_int(s)
                    .and_then(|v| i32::try_from(v).ok())
                    .or_else(|| Int32Type::parse(std::str::from_utf8(s).ok()?))
            })?,
            Column::Int64(b) => push_parsed(b, fields, |s| {
                plain_int(s).or_else(|| Int64Type::parse(std::str::from_utf8(s).ok()?))
            })?,
            Column::Float64(b) => push_parsed(b, fields, |s| {
                Float64Type::parse(std::str::from_utf8(s).ok()?)
            })?,
            Column::Date32(b) => push_parsed(b, fields, |s| {
                plain_date(s).or_else(|| Date32Type::parse(std::str::from_utf8(s).ok()?))
            })?,
            Column::Decimal(d) => {
                for f in fields {
                    match *f {
                        [] => d.push_null(),
                        s => match plain_number(s) {
                            Some((m, scale)) if d.push_plain(m, scale) => {}
                            _ => d.push_text(std::str::from_utf8(s).ok()?).ok()?,
                        },
                    }
                }
            }
        }
        Some(())
    }

    /// The rows added so far, as an array; the column is left empty, with room for a
    /// batch like this one (a finished builder keeps no capacity, and growing it again
    /// from nothing copies its buffers over and over).
    fn finish(&mut self, f: &ArrowField) -> Option<ArrayRef> {
        let text_bytes = match self {
            Column::Text(t) => t.values.len(),
            _ => 0,
        };
        let next = Column::new(f, text_bytes + text_bytes / 8)?;
        Some(match std::mem::replace(self, next) {
            Column::Text(t) => Arc::new(t.finish()?),
            Column::Int32(mut b) => Arc::new(b.finish()),
            Column::Int64(mut b) => Arc::new(b.finish()),
            Column::Float64(mut b) => Arc::new(b.finish()),
            Column::Date32(mut b) => Arc::new(b.finish()),
            Column::Decimal(d) => d.finish().ok()?,
        })
    }
}

/// Add the fields `fields` to `b` (see [`Column::push_all`]), each parsed with `parse`.
#[inline]
fn push_parsed<T: ArrowPrimitiveType>(
    b: &mut PrimitiveBuilder<T>,
    fields: &[&[u8]],
    parse: impl Fn(&[u8]) -> Option<T::Native>,
) -> Option<()> {
    for f in fields {
        match *f {
            [] => b.append_null(),
            s => b.append_value(parse(s)?),
        }
    }
    Some(())
}

/// A text column being built: its values' bytes, where each ends and which are null,
/// checked to be UTF-8 once, when the array is made.
struct TextColumn {
    values: Vec<u8>,
    /// The end of each value in `values`, after a first 0.
    offsets: Vec<i32>,
    nulls: NullBufferBuilder,
}

impl TextColumn {
    /// An empty column with room for `rows` values of `bytes` bytes in all.
    fn with_capacity(rows: usize, bytes: usize) -> Self {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        TextColumn {
            values: Vec::with_capacity(bytes),
            offsets,
            nulls: NullBufferBuilder::new(rows),
        }
    }

    /// Add the value `s` (empty: a null); `None` when the values no longer fit 32-bit
    /// offsets.
    #[inline]
    fn push(&mut self, s: &[u8]) -> Option<()> {
        match s {
            [] => self.nulls.append_null(),
            // One byte (a flag, a code) without a call to copy it.
            &[b] => {
                self.values.push(b);
                self.nulls.append_non_null();
            }
            s => {
                self.values.extend_from_slice(s);
                self.nulls.append_non_null();
            }
        }
        self.offsets.push(i32::try_from(self.values.len()).ok()?);
        Some(())
    }

    /// The array; `None` when a value is not UTF-8.
    fn finish(mut self) -> Option<StringArray> {
        let offsets = OffsetBuffer::new(ScalarBuffer::from(self.offsets));
        StringArray::try_new(offsets, Buffer::from_vec(self.values), self.nulls.finish()).ok()
    }
}

/// A plain integer (`-?[0-9]{1,18}`, [`plain_number`] without a point), else `None` and
/// the type's parser reads it (signs, more digits, the bounds; the same values for the
/// text this reads).
#[inline]
fn plain_int(s: &[u8]) -> Option<i64> {
    match plain_number(s) {
        Some((v, 0)) => Some(v),
        _ => None,
    }
}

/// The rows of `piece` (whole rows, no header) as batches of `schema` (at most
/// [`BATCH_ROWS`] rows each), or `None` when arrow-csv must read it (see the module's
/// docs). Never inlined: profiles show the reader on its own.
#[inline(never)]
pub(super) fn read(piece: &[u8], schema: &SchemaRef) -> Option<Vec<RecordBatch>> {
    let mut columns = schema
        .fields()
        .iter()
        .map(|f| Column::new(f, BATCH_ROWS * 16))
        .collect::<Option<Vec<_>>>()?;
    let mut spans = Spans::for_piece(piece, columns.len())?;
    let mut batches = Vec::new();
    let mut pos = 0;
    loop {
        let (next, rows) = spans.split(pos)?;
        if rows == 0 {
            return Some(batches);
        }
        pos = next;
        for (c, column) in columns.iter_mut().enumerate() {
            if spans.escaped(c) {
                // Quoted fields with escaped quotes (rare): the column's values unescaped.
                let owned: Vec<Vec<u8>> = spans.column(c).iter().map(|f| value(f)).collect();
                let values: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
                column.push_all(&values)?;
            } else {
                column.push_all(spans.column(c))?;
            }
        }
        batches.push(finish(&mut columns, schema)?);
    }
}

/// The rows of `columns` as a batch: `schema`'s, but decimal columns as the decimals
/// they were read into.
fn finish(columns: &mut [Column], schema: &SchemaRef) -> Option<RecordBatch> {
    let arrays = columns
        .iter_mut()
        .zip(schema.fields())
        .map(|(c, f)| c.finish(f))
        .collect::<Option<Vec<_>>>()?;
    let fields: Vec<ArrowField> = schema
        .fields()
        .iter()
        .zip(&arrays)
        .map(|(f, a)| ArrowField::new(f.name(), a.data_type().clone(), true))
        .collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).ok()
}

#[cfg(test)]
#[path = "fields_tests.rs"]
mod tests;
