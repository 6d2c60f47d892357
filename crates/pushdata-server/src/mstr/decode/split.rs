//! The parallel decode of a large chunk. A ROW chunk's JSON is cut at row boundaries, the
//! parts are decoded on all rayon threads, and their decimal columns are unified to one
//! type; a COLUMN chunk is cut between its column arrays ([`column_split`]).
//!
//! A cut is placed at `]`, `,`, `[` between two rows. It can only be wrong where such a
//! sequence sits inside a string, and then the part that holds the string's start fails
//! (the string does not end), so on any failure the caller decodes the chunk again on one
//! thread, which also gives the exact error (row numbers are counted over the whole chunk).

use std::ops::Range;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{DataType as ArrowType, Field, Schema};
use pushdata_core::wire::Orientation;

use super::column_split;
use super::error::Place;
use super::grammar::{Frame, decode_text};
use super::layout::ChunkLayout;

/// Chunks whose JSON is smaller than this are decoded on one thread.
pub(crate) const PARALLEL_MIN_BYTES: usize = 4 << 20;

/// The batches of a large chunk decoded in parallel (in row order, one schema); `None`
/// when the chunk is not one (small, one thread) or any part fails.
pub(crate) fn decode_parallel(
    json: &[u8],
    layout: &ChunkLayout,
    place: &Place,
) -> Option<Vec<RecordBatch>> {
    let threads = rayon::current_num_threads();
    if json.len() < PARALLEL_MIN_BYTES || threads < 2 {
        return None;
    }
    match layout.orientation {
        Orientation::Row => {
            let ranges = split_rows(json, threads * 2)?;
            decode_row_parts(json, &ranges, layout, place)
        }
        Orientation::Column => column_split::decode_columns(json, layout, place).map(|b| vec![b]),
    }
}

pub(super) fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Cut the rows of a ROW chunk (`[` rows `]`) into about `parts` byte ranges of whole rows,
/// at `]` ws* `,` ws* `[` sequences. `None` when the text does not look like an array of
/// array rows or no cut is found.
fn split_rows(text: &[u8], parts: usize) -> Option<Vec<Range<usize>>> {
    let open = text.iter().position(|&b| !is_ws(b))?;
    let close = text.iter().rposition(|&b| !is_ws(b))?;
    if text[open] != b'[' || text[close] != b']' || close <= open + 1 {
        return None;
    }
    let (start, end) = (open + 1, close);
    let len = end - start;
    let mut ranges = Vec::with_capacity(parts);
    let mut from = start;
    for k in 1..parts {
        let target = (start + len / parts * k).max(from);
        let Some(cut) = find_row_cut(&text[target..end]) else {
            break;
        };
        let (row_end, next_start) = (target + cut.0, target + cut.1);
        ranges.push(from..row_end);
        from = next_start;
    }
    if ranges.is_empty() {
        return None;
    }
    ranges.push(from..end);
    Some(ranges)
}

/// In `s`, the first `]` ws* `,` ws* `[`: (the index after the `]`, the index of the `[`).
pub(super) fn find_row_cut(s: &[u8]) -> Option<(usize, usize)> {
    let skip_ws = |mut j: usize| {
        while j < s.len() && is_ws(s[j]) {
            j += 1;
        }
        j
    };
    let mut i = 0;
    while i < s.len() {
        let p = i + memchr::memchr(b']', &s[i..])?;
        let mut j = skip_ws(p + 1);
        if s.get(j) == Some(&b',') {
            j = skip_ws(j + 1);
            if s.get(j) == Some(&b'[') {
                return Some((p + 1, j));
            }
        }
        i = p + 1;
    }
    None
}

/// Decode the row ranges in parallel and give them one schema; `None` on any failure.
fn decode_row_parts(
    json: &[u8],
    ranges: &[Range<usize>],
    layout: &ChunkLayout,
    place: &Place,
) -> Option<Vec<RecordBatch>> {
    use rayon::prelude::*;
    let parts: Vec<RecordBatch> = ranges
        .par_iter()
        .map(|r| {
            let text = std::str::from_utf8(json.get(r.clone())?).ok()?;
            decode_text(text, layout, place, Frame::RowsPart).ok()
        })
        .collect::<Option<Vec<_>>>()?;
    unify(parts)
}

/// Cast the parts' decimal columns to one type (the largest scale; 256 bits if any part
/// needs it). `None` when a value does not fit (the one-thread decode then decides).
pub(super) fn unify(parts: Vec<RecordBatch>) -> Option<Vec<RecordBatch>> {
    let first = parts.first()?.schema();
    if parts.iter().all(|p| p.schema() == first) {
        return Some(parts);
    }
    let schema = common_schema(&parts, &first);
    parts.into_iter().map(|p| cast_part(p, &schema)).collect()
}

/// The first part's schema with each decimal column's type made common to all parts.
fn common_schema(parts: &[RecordBatch], first: &Schema) -> Arc<Schema> {
    let mut fields: Vec<Field> = first.fields().iter().map(|f| f.as_ref().clone()).collect();
    for (i, f) in fields.iter_mut().enumerate() {
        let types: Vec<&ArrowType> = parts
            .iter()
            .map(|p| p.schema_ref().field(i).data_type())
            .collect();
        if let Some(t) = crate::store::common_decimal(types.iter().copied()) {
            *f = Field::new(f.name(), t, true);
        }
    }
    Arc::new(Schema::new(fields))
}

/// `part` with its columns cast to `schema`; `None` when a value does not fit.
fn cast_part(part: RecordBatch, schema: &Arc<Schema>) -> Option<RecordBatch> {
    let opts = arrow_cast::CastOptions {
        safe: false,
        ..Default::default()
    };
    let cols = part
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(c, f)| {
            if c.data_type() == f.data_type() {
                Some(c.clone())
            } else {
                arrow_cast::cast_with_options(c, f.data_type(), &opts).ok()
            }
        })
        .collect::<Option<Vec<_>>>()?;
    let o = arrow_array::RecordBatchOptions::new().with_row_count(Some(part.num_rows()));
    RecordBatch::try_new_with_options(schema.clone(), cols, &o).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::mstr::decode::tests::{b64, big_row_chunk, layout};
    use crate::mstr::decode::{decode_chunk_parts, decode_json};

    #[test]
    fn parallel_row_decode_matches_one_thread() {
        let text = big_row_chunk(120_000);
        assert!(text.len() > PARALLEL_MIN_BYTES);
        let l = layout(Orientation::Row);
        let t = Place::table("t");
        let serial = decode_json(&text, &l, &t).unwrap();
        for threads in [2, 3, 8] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let parts = pool.install(|| decode_chunk_parts(b64(&text).as_bytes(), &l, &t).unwrap());
            assert!(parts.len() > 1, "{threads} threads: not split");
            let schema = parts[0].schema();
            assert!(parts.iter().all(|p| p.schema() == schema));
            let joined = arrow_select::concat::concat_batches(&schema, &parts).unwrap();
            assert_eq!(joined, serial, "{threads} threads");
        }
    }

    #[test]
    fn a_cut_inside_a_string_falls_back_to_one_thread() {
        // Around the middle, one row holds a long string made of `],[`: every cut placed
        // there is inside the string, so a part fails and the chunk is decoded whole.
        let mut text = big_row_chunk(120_000);
        let mid = text.len() / 2;
        let at = mid + text[mid..].find("],[").unwrap() + 2;
        let trap = format!("[0,\"{}\",0,0],", "],[".repeat(PARALLEL_MIN_BYTES / 3));
        text.insert_str(at, &trap);
        let l = layout(Orientation::Row);
        let t = Place::table("t");
        let serial = decode_json(&text, &l, &t).unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let parts = pool.install(|| decode_chunk_parts(b64(&text).as_bytes(), &l, &t).unwrap());
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0], serial);
    }

    #[test]
    fn parallel_row_decode_errors_like_one_thread() {
        let l = layout(Orientation::Row);
        let t = Place::table("t");
        let good = big_row_chunk(120_000);
        // A bad value late in the chunk, a broken string, a missing bracket.
        let cases = [
            good.replacen("[100000,", "[100000.5,", 1),
            good.replacen("\"plain text value 99998\"", "\"unterminated", 1),
            good.trim_end().trim_end_matches(']').to_string(),
        ];
        for bad in cases {
            let want = decode_json(&bad, &l, &t).unwrap_err().to_string();
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(4)
                .build()
                .unwrap();
            let got = pool
                .install(|| decode_chunk_parts(b64(&bad).as_bytes(), &l, &t))
                .unwrap_err()
                .to_string();
            assert_eq!(got, want);
        }
    }
}
