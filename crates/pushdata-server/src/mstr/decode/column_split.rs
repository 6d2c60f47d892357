//! The parallel decode of a large COLUMN chunk: its JSON is cut between column arrays (at
//! `]`, `,`, `[`), and each column array is decoded into its column on its own rayon task.
//!
//! Only the first `columns - 1` cuts are looked for, so the last column array is never
//! scanned. A cut can only be wrong where such a sequence sits inside a string; then the
//! part that holds the string's start fails (the string does not end). Any failure (also a
//! wrong number of column arrays or unequal lengths) gives `None`, and the caller decodes
//! the chunk again on one thread, which gives the exact error.

use std::ops::Range;

use arrow_array::{ArrayRef, RecordBatch};
use rayon::prelude::*;

use super::column_arrays::column_array;
use super::columns::ColumnBuilder;
use super::error::Place;
use super::grammar::{Ctx, batch_of};
use super::layout::ChunkLayout;
use super::lexer::Lexer;
use super::split::{find_row_cut, is_ws};

/// The batch of a COLUMN chunk with its column arrays decoded in parallel; `None` when it
/// has fewer than two column arrays or any part fails.
pub(super) fn decode_columns(
    json: &[u8],
    layout: &ChunkLayout,
    place: &Place,
) -> Option<RecordBatch> {
    let n = layout.order.len();
    if n < 2 {
        return None;
    }
    let ranges = split_column_arrays(json, n)?;
    let ctx = Ctx { layout, place };
    let decoded: Vec<ArrayRef> = ranges
        .par_iter()
        .zip(layout.order.par_iter())
        .map(|(r, &col)| decode_column_array(json.get(r.clone())?, &ctx, col))
        .collect::<Option<Vec<_>>>()?;
    let rows = decoded.first()?.len();
    if decoded.iter().any(|a| a.len() != rows) {
        return None;
    }
    let mut by_column: Vec<Option<ArrayRef>> = vec![None; layout.columns.len()];
    for (a, &col) in decoded.into_iter().zip(&layout.order) {
        *by_column.get_mut(col)? = Some(a);
    }
    let arrays = by_column
        .into_iter()
        .zip(&layout.columns)
        .map(|(a, c)| a.or_else(|| nulls(c.data_type, rows)))
        .collect::<Option<Vec<_>>>()?;
    batch_of(&ctx, arrays, rows).ok()
}

/// A column of `rows` nulls, as the one-thread decode fills a column the chunk omits.
fn nulls(t: pushdata_core::wire::DataType, rows: usize) -> Option<ArrayRef> {
    let mut b = ColumnBuilder::new(t, rows);
    for _ in 0..rows {
        b.push_null();
    }
    b.finish().ok()
}

/// One column array `[v, v]` (with surrounding whitespace) into table column `col`.
fn decode_column_array(part: &[u8], ctx: &Ctx<'_>, col: usize) -> Option<ArrayRef> {
    let text = std::str::from_utf8(part).ok()?;
    let mut lex = Lexer::new(text);
    lex.expect(b'[', "[").ok()?;
    let t = ctx.layout.columns.get(col)?.data_type;
    let mut builder = ColumnBuilder::new(t, (text.len() / 6).min(1 << 20));
    column_array(&mut lex, &mut builder, &mut String::new(), ctx, col).ok()?;
    lex.end().ok()?;
    builder.finish().ok()
}

/// Cut the inside of a COLUMN chunk (`[` column arrays `]`) into `n` byte ranges, one
/// column array each, at the first `n - 1` `]` ws* `,` ws* `[` sequences. `None` when the
/// text is not an array or fewer cuts are found.
fn split_column_arrays(text: &[u8], n: usize) -> Option<Vec<Range<usize>>> {
    let open = text.iter().position(|&b| !is_ws(b))?;
    let close = text.iter().rposition(|&b| !is_ws(b))?;
    if text[open] != b'[' || text[close] != b']' || close <= open + 1 {
        return None;
    }
    let mut ranges = Vec::with_capacity(n);
    let mut from = open + 1;
    for _ in 1..n {
        let (end, next) = find_row_cut(text.get(from..close)?)?;
        ranges.push(from..from + end);
        from += next;
    }
    ranges.push(from..close);
    Some(ranges)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::mstr::decode::error::{DecodeError, SyntaxAt};
    use crate::mstr::decode::split::{PARALLEL_MIN_BYTES, decode_parallel};
    use crate::mstr::decode::tests::{b64, layout};
    use crate::mstr::decode::{decode_chunk_parts, decode_json};
    use pushdata_core::wire::{ChunkIndex, Orientation};

    /// The four column arrays of `rows` rows of the test layout (Year, Name, Cost,
    /// Amount): strings with `]`, `[`, `,` and escaped quotes (but never `]` `,` `[` in a
    /// row), nulls, and decimals whose scale grows late in the column.
    fn columns(rows: usize) -> [Vec<String>; 4] {
        let year = (0..rows).map(|r| r.to_string()).collect();
        let name = (0..rows)
            .map(|r| match (r % 5, r % 997) {
                (_, 0) => format!("\"a] ,x[ {r}\""),
                (_, 1) => format!("\"q\\\"],\\\"[x{r}\""),
                (1, _) => "null".to_string(),
                _ => format!("\"plain text value {r}\""),
            })
            .collect();
        let cost = (0..rows)
            .map(|r| {
                if r % 11 == 3 {
                    "null".into()
                } else {
                    format!("{r}.25")
                }
            })
            .collect();
        let amount = (0..rows)
            .map(|r| {
                if r > rows * 3 / 4 {
                    format!("{r}.12345")
                } else {
                    format!("-{r}.5")
                }
            })
            .collect();
        [year, name, cost, amount]
    }

    /// COLUMN chunk JSON of `arrays`, with whitespace around some tokens.
    fn chunk(arrays: &[Vec<String>]) -> String {
        let arrays: Vec<String> = arrays
            .iter()
            .map(|a| format!("[{}]", a.join(",")))
            .collect();
        format!(" [ {} ] ", arrays.join(" ,\n"))
    }

    fn on_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(f)
    }

    #[test]
    fn parallel_column_decode_matches_one_thread() {
        let text = chunk(&columns(120_000));
        assert!(text.len() > PARALLEL_MIN_BYTES);
        let l = layout(Orientation::Column);
        let t = Place::table("t");
        let serial = decode_json(&text, &l, &t).unwrap();
        for threads in [2, 3, 8] {
            let parallel = on_threads(threads, || decode_parallel(text.as_bytes(), &l, &t));
            let parallel = parallel.unwrap_or_else(|| panic!("{threads} threads: not parallel"));
            assert_eq!(parallel, vec![serial.clone()], "{threads} threads");
        }
        // Through base64, as a chunk upload arrives.
        let parts = on_threads(2, || decode_chunk_parts(b64(&text).as_bytes(), &l, &t)).unwrap();
        assert_eq!(parts, vec![serial]);
    }

    #[test]
    fn parallel_column_decode_fills_columns_the_chunk_omits() {
        let [year, name, _, amount] = columns(120_000);
        let text = chunk(&[amount, year, name]);
        let names = ["Amount", "Year", "Name"].map(String::from);
        let l = ChunkLayout::new(
            layout(Orientation::Column).columns,
            Some(&names),
            Orientation::Column,
            "t",
        )
        .unwrap();
        let t = Place::table("t");
        let serial = decode_json(&text, &l, &t).unwrap();
        assert_eq!(serial.column(2).null_count(), 120_000);
        let parallel = on_threads(2, || decode_parallel(text.as_bytes(), &l, &t)).unwrap();
        assert_eq!(parallel, vec![serial]);
    }

    #[test]
    fn parallel_column_decode_errors_name_column_and_row() {
        let l = layout(Orientation::Column);
        let place = Place::chunk("t", ChunkIndex(3));
        let decode = |arrays: &[Vec<String>]| {
            let text = chunk(arrays);
            let l = &l;
            let place = &place;
            on_threads(2, move || {
                assert!(decode_parallel(text.as_bytes(), l, place).is_none());
                decode_chunk_parts(b64(&text).as_bytes(), l, place).unwrap_err()
            })
        };

        // A value that does not fit, late in the third column.
        let mut bad = columns(120_000);
        bad[2][100_000] = "\"x\"".into();
        match decode(&bad) {
            DecodeError::Value {
                place: p,
                row,
                column,
                ..
            } => assert_eq!((p, row, column.as_str()), (place.clone(), 100_001, "Cost")),
            other => panic!("{other:?}"),
        }

        // A broken token in the first column.
        let mut bad = columns(120_000);
        bad[0][70_000] = "tru".into();
        match decode(&bad) {
            DecodeError::Syntax {
                at: SyntaxAt::Column { column, row },
                ..
            } => assert_eq!((column.as_str(), row), ("Year", 70_001)),
            other => panic!("{other:?}"),
        }

        // A column one value short.
        let mut bad = columns(120_000);
        bad[3].pop();
        match decode(&bad) {
            DecodeError::ColumnLengths {
                column,
                values,
                first,
                rows,
                ..
            } => assert_eq!(
                (column.as_str(), values, first.as_str(), rows),
                ("Amount", 119_999, "Year", 120_000)
            ),
            other => panic!("{other:?}"),
        }

        // A fifth column array.
        let mut bad = columns(120_000).to_vec();
        bad.push(vec!["1".into()]);
        match decode(&bad) {
            DecodeError::TooManyColumnArrays { expected, .. } => assert_eq!(expected, 4),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_cut_inside_a_string_falls_back_to_one_thread() {
        let mut arrays = columns(120_000);
        arrays[1][5] = "\"x],[y\"".into();
        let text = chunk(&arrays);
        let l = layout(Orientation::Column);
        let t = Place::table("t");
        let serial = decode_json(&text, &l, &t).unwrap();
        let parts = on_threads(2, || {
            assert!(decode_parallel(text.as_bytes(), &l, &t).is_none());
            decode_chunk_parts(b64(&text).as_bytes(), &l, &t).unwrap()
        });
        assert_eq!(parts, vec![serial]);
    }
}
