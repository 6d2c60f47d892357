//! The fast path of the parallel reader: a piece of whole CSV rows split into fields (the
//! bytes that end a field found 64 at a time, see `specials`) and each field parsed straight
//! into its column, the columns arrow-csv builds
//! for the same read schema (text, or a type whose text both parse with the type's
//! `Parser::parse`; an empty field is a null), without csv-core's per-byte state machine
//! and the copy of every field into its record buffer.
//!
//! It follows csv-core (quoting on, `""` an escape, no comments, no trimming) only where
//! that is simple: a carriage return anywhere, a blank line, a quote inside an unquoted
//! field or after a closing quote anywhere but before a delimiter or a line end, a row with
//! another number of fields, invalid UTF-8 or a value that does not parse make it give the
//! piece back (`None`), and arrow-csv reads it as before.

use std::sync::Arc;

use arrow_array::builder::{PrimitiveBuilder, StringBuilder};
use arrow_array::types::{Date32Type, Float64Type, Int32Type, Int64Type};
use arrow_array::{ArrayRef, ArrowPrimitiveType, RecordBatch};
use arrow_cast::parse::Parser;
use arrow_schema::{DataType, SchemaRef};
use arrow_schema::{Field as ArrowField, Schema};

use super::process::BATCH_ROWS;
use super::specials::Specials;

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
    Text(StringBuilder),
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
            DataType::Utf8 => Column::Text(StringBuilder::with_capacity(rows, text_bytes)),
            DataType::Int32 => Column::Int32(PrimitiveBuilder::with_capacity(rows)),
            DataType::Int64 => Column::Int64(PrimitiveBuilder::with_capacity(rows)),
            DataType::Float64 => Column::Float64(PrimitiveBuilder::with_capacity(rows)),
            DataType::Date32 => Column::Date32(PrimitiveBuilder::with_capacity(rows)),
            _ => return None,
        })
    }

    /// Add the fields `values` (empty: a null; `None`: not where the fast path can read
    /// it); `None` when one does not parse.
    fn push_all<'t>(&mut self, values: impl Iterator<Item = Option<&'t str>>) -> Option<()> {
        match self {
            Column::Text(b) => {
                for s in values {
                    match s? {
                        "" => b.append_null(),
                        s => b.append_value(s),
                    }
                }
            }
            Column::Int32(b) => push_parsed(b, values, |s| {
                short_int(s.as_bytes(), 9)
                    .and_then(|v| i32::try_from(v).ok())
                    .or_else(|| Int32Type::parse(s))
            })?,
            Column::Int64(b) => push_parsed(b, values, |s| {
                short_int(s.as_bytes(), 18).or_else(|| Int64Type::parse(s))
            })?,
            Column::Float64(b) => push_parsed(b, values, Float64Type::parse)?,
            Column::Date32(b) => push_parsed(b, values, |s| {
                plain_date(s.as_bytes()).or_else(|| Date32Type::parse(s))
            })?,
            Column::Decimal(d) => {
                for s in values {
                    match s? {
                        "" => d.push_null(),
                        s => match plain_number(s.as_bytes()) {
                            Some((m, scale)) if d.push_plain(m, scale) => {}
                            _ => d.push_text(s).ok()?,
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
            Column::Text(b) => b.values_slice().len(),
            _ => 0,
        };
        let next = Column::new(f, text_bytes + text_bytes / 8)?;
        Some(match std::mem::replace(self, next) {
            Column::Text(mut b) => Arc::new(b.finish()),
            Column::Int32(mut b) => Arc::new(b.finish()),
            Column::Int64(mut b) => Arc::new(b.finish()),
            Column::Float64(mut b) => Arc::new(b.finish()),
            Column::Date32(mut b) => Arc::new(b.finish()),
            Column::Decimal(d) => d.finish().ok()?,
        })
    }
}

/// Add the fields `values` to `b` (see [`Column::push_all`]), each parsed with `parse`.
#[inline]
fn push_parsed<'t, T: ArrowPrimitiveType>(
    b: &mut PrimitiveBuilder<T>,
    values: impl Iterator<Item = Option<&'t str>>,
    parse: impl Fn(&str) -> Option<T::Native>,
) -> Option<()> {
    for s in values {
        match s? {
            "" => b.append_null(),
            s => b.append_value(parse(s)?),
        }
    }
    Some(())
}

/// `-?[0-9]{1,max_digits}` as an integer (`max_digits` at most 18: no overflow), else
/// `None` and the type's parser reads it (signs, more digits, the bounds; the same values
/// for the text this reads).
#[inline]
fn short_int(s: &[u8], max_digits: usize) -> Option<i64> {
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > max_digits.min(18) {
        return None;
    }
    let mut v: i64 = 0;
    for &c in digits {
        let d = c.wrapping_sub(b'0');
        if d >= 10 {
            return None;
        }
        v = v * 10 + i64::from(d);
    }
    Some(if neg { -v } else { v })
}

/// The fields of a batch of rows, by rows then columns: where each value is in the text.
#[derive(Default)]
struct Spans {
    /// Start and end of each field's value in the text; a start of [`UNESCAPED`]: the value
    /// is `unescaped[end]`.
    spans: Vec<(u32, u32)>,
    /// The values of quoted fields with escaped quotes, unescaped.
    unescaped: Vec<String>,
}

/// The start of a span whose value is an unescaped one (no text is this long: see
/// [`read`]).
const UNESCAPED: u32 = u32::MAX;

impl Spans {
    /// The value of field `span` of `text`; `None` when it is not there (never for the
    /// spans [`split_rows`] gives).
    #[inline]
    fn value<'t>(&'t self, text: &'t str, (start, end): (u32, u32)) -> Option<&'t str> {
        if start == UNESCAPED {
            self.unescaped.get(end as usize).map(String::as_str)
        } else {
            text.get(start as usize..end as usize)
        }
    }

    /// Column `c`'s values of the rows, each row having `columns` fields.
    fn column<'t>(
        &'t self,
        text: &'t str,
        c: usize,
        columns: usize,
    ) -> impl Iterator<Item = Option<&'t str>> {
        self.spans
            .iter()
            .skip(c)
            .step_by(columns)
            .map(move |&span| self.value(text, span))
    }
}

/// The field of `text` starting at `pos` (`specials`: the special bytes from `pos` on not
/// taken), added to `spans`; the position of the byte after it (a delimiter, LF, the text's
/// end, or a byte the fast path does not follow there).
#[inline(always)]
fn field(text: &str, pos: usize, specials: &mut Specials<'_>, spans: &mut Spans) -> Option<usize> {
    if text.as_bytes().get(pos) == Some(&b'"') {
        let end = quoted(text, pos, spans)?;
        specials.seek(end + 1);
        Some(end)
    } else {
        let end = specials.take();
        spans.spans.push((pos as u32, end as u32));
        Some(end)
    }
}

/// The quoted field whose opening quote is at `pos`, added to `spans`; the position just
/// after its closing quote (a delimiter, a line end or the text's end).
fn quoted(text: &str, pos: usize, spans: &mut Spans) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut from = pos + 1;
    let mut value: Option<String> = None;
    loop {
        let q = from + memchr::memchr(b'"', &bytes[from..])?;
        match bytes.get(q + 1) {
            Some(b'"') => {
                value.get_or_insert_default().push_str(&text[from..=q]);
                from = q + 2;
            }
            Some(b',' | b'\n') | None => {
                let span = match value {
                    None => (pos as u32 + 1, q as u32),
                    Some(mut v) => {
                        v.push_str(&text[from..q]);
                        spans.unescaped.push(v);
                        (UNESCAPED, (spans.unescaped.len() - 1) as u32)
                    }
                };
                spans.spans.push(span);
                return Some(q + 1);
            }
            Some(_) => return None,
        }
    }
}

/// The rows of `text` from `pos` on, at most [`BATCH_ROWS`], split into `spans` (cleared
/// first), each of `columns` fields; the position after them and the number of rows.
/// `None` when the fast path does not follow csv-core there (see the module's docs).
fn split_rows(
    text: &str,
    mut pos: usize,
    columns: usize,
    specials: &mut Specials<'_>,
    spans: &mut Spans,
) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    spans.spans.clear();
    spans.unescaped.clear();
    let mut rows = 0;
    while rows < BATCH_ROWS {
        match bytes.get(pos) {
            None => break,
            // A blank line, which csv-core skips.
            Some(b'\n') => return None,
            Some(_) => {}
        }
        for _ in 1..columns {
            let end = field(text, pos, specials, spans)?;
            if bytes.get(end) != Some(&b',') {
                return None;
            }
            pos = end + 1;
        }
        let end = field(text, pos, specials, spans)?;
        if !matches!(bytes.get(end), None | Some(b'\n')) {
            return None;
        }
        pos = end + 1;
        rows += 1;
    }
    Some((pos, rows))
}

/// The rows of `piece` (whole rows, no header) as batches of `schema` (at most
/// [`BATCH_ROWS`] rows each), or `None` when arrow-csv must read it (see the module's
/// docs). Never inlined: profiles show the reader on its own.
#[inline(never)]
pub(super) fn read(piece: &[u8], schema: &SchemaRef) -> Option<Vec<RecordBatch>> {
    // Spans are 32-bit, and no text is as long as `UNESCAPED`.
    if u32::try_from(piece.len()).ok()? == UNESCAPED {
        return None;
    }
    let text = std::str::from_utf8(piece).ok()?;
    let mut columns = schema
        .fields()
        .iter()
        .map(|f| Column::new(f, BATCH_ROWS * 16))
        .collect::<Option<Vec<_>>>()?;
    if columns.is_empty() {
        return None;
    }
    let mut batches = Vec::new();
    let mut pos = 0;
    let mut spans = Spans::default();
    let mut specials = Specials::new(piece);
    while pos < text.len() {
        let (next, rows) = split_rows(text, pos, columns.len(), &mut specials, &mut spans)?;
        pos = next;
        if rows == 0 {
            break;
        }
        let n = columns.len();
        for (c, column) in columns.iter_mut().enumerate() {
            column.push_all(spans.column(text, c, n))?;
        }
        batches.push(finish(&mut columns, schema)?);
    }
    Some(batches)
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
mod tests {
    #![allow(clippy::unwrap_used)]

    use arrow_schema::{Field, Schema};

    use super::*;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int64, true),
            Field::new("b", DataType::Utf8, true),
            Field::new("c", DataType::Float64, true),
            Field::new("d", DataType::Date32, true),
            Field::new("e", DataType::Int32, true),
        ]))
    }

    /// What arrow-csv reads from `text` with `schema`.
    fn arrow_csv(text: &str, schema: &SchemaRef) -> Result<Vec<RecordBatch>, ()> {
        arrow_csv::ReaderBuilder::new(schema.clone())
            .with_header(false)
            .with_batch_size(BATCH_ROWS)
            .build_buffered(text.as_bytes())
            .map_err(|_| ())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| ())
    }

    #[test]
    fn fields_are_read_as_arrow_csv_reads_them() {
        let s = schema();
        for text in [
            "1,x,1.5,2024-02-29,7\n2,,,,\n",
            "3,\"a,\nb\",-2e3,1999-12-31,-1\n4,\"say \"\"hi\"\"\",0,2024-1-5,0",
            "5,\"\",1,+2024-01-01,1\n6,\"\"\"\",2,2024-01-01T10:00:00,2\n",
            "7,é ü,3, 2024-01-01 ,3\n",
            "",
        ] {
            let want = arrow_csv(text, &s).unwrap();
            let got = read(text.as_bytes(), &s).unwrap_or_else(|| panic!("{text:?}"));
            assert_eq!(got, want, "{text:?}");
        }
        // More rows than a batch: the same batches.
        let many: String = (0..BATCH_ROWS + 10)
            .map(|i| format!("{i},n{i},{i}.25,2024-03-{:02},{}\n", i % 28 + 1, i % 5))
            .collect();
        let got = read(many.as_bytes(), &s).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got, arrow_csv(&many, &s).unwrap());
    }

    #[test]
    fn decimals_are_read_as_the_text_column_is_read() {
        use pushdata_core::veracity::wire::{ColumnType, SchemaColumn};

        use crate::veracity::decimals::{Digits, read_decimals};

        let s: SchemaRef = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int64, true),
            decimal_text("b"),
        ]));
        let text = "1,12.5\n2,\n3,-0.125\n4,\"1e3\"\n5,123456789012345678901234567890\n";
        let text_batch = &arrow_csv(text, &s).unwrap()[0];
        let col = SchemaColumn::new("b", ColumnType::Decimal);
        let want = read_decimals(text_batch.column(1), &col, 1, &mut Digits::default()).unwrap();
        let got = read(text.as_bytes(), &s).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].column(1), &want);
        assert_eq!(got[0].column(0), text_batch.column(0));
        assert!(read(b"1,1.2.3\n", &s).is_none(), "not a decimal");
    }

    #[test]
    fn what_the_fast_path_does_not_follow_is_given_back() {
        let s = schema();
        for text in [
            "1,x,1.5,2024-01-01,7\r\n",
            "1,x,1.5,2024-01-01,7\n\n2,y,1,2024-01-01,1\n",
            "1,a\"b,1.5,2024-01-01,7\n",
            "1,\"a\"b,1.5,2024-01-01,7\n",
            "1,\"open,1.5,2024-01-01,7\n",
            "1,x,1.5,2024-01-01\n",
            "1,x,1.5,2024-01-01,7,8\n",
            "1,x,no,2024-01-01,7\n",
            "1,x,1,2024-02-30,7\n",
            "99999999999,x,1,2024-01-01,99999999999\n",
        ] {
            assert!(read(text.as_bytes(), &s).is_none(), "{text:?}");
        }
        assert!(
            read(b"1,\xff,1,2024-01-01,1\n", &s).is_none(),
            "invalid UTF-8"
        );
    }
}
