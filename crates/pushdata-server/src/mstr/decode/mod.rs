//! Chunk decoding: base64 (SIMD) -> chunk JSON (ROW or COLUMN, or row objects) -> typed
//! Arrow arrays, in one pass with no intermediate JSON values.
//!
//! # Glossary
//!
//! One word per part of a chunk, used in the names of this module:
//!
//! - **body**: the HTTP request body of a chunk upload; it holds the envelope.
//! - **envelope**: the JSON object `{"tableName", "index", "data"}` ([`envelope`]).
//! - **data**: the base64 string in the envelope (or in a single-request table), the
//!   chunk JSON encoded ([`data`]).
//! - **chunk JSON** (`json`; `text` once it is known to be UTF-8): what the data decodes
//!   to, a JSON array of rows (ROW orientation) or of column arrays (COLUMN orientation)
//!   ([`grammar`]).
//! - **row**: an element of ROW chunk JSON, either a **row array** `[v, v]` (values in
//!   layout order) or a **row object** `{"col": v}` whose **members** pair a **key** (a
//!   column name) with a value ([`rows`]).
//! - **column array**: an element of COLUMN chunk JSON, `[v, v]`, the values of one
//!   column ([`column_arrays`]).
//! - **value**: one JSON scalar in a row or column array. The [`lexer`] reads it as a
//!   **token**; [`values`] parses its text formats; a **column builder** ([`columns`])
//!   appends it to its column.
//! - **column**: a column of the table (`col`: its index in the table); the **layout**
//!   says which table column each position of a row array or each column array fills
//!   ([`layout`]).
//! - **part**: a byte range of whole rows of a large ROW chunk, or one column array of a
//!   large COLUMN chunk, decoded on its own thread ([`split`], [`column_split`]); rows of
//!   a large ROW chunk are also cut off into parts while its body arrives ([`early`]).
//! - **place**: the chunk an error is about, `table "t", chunk 4` ([`error`]).
//! - **batch**: the decoded Arrow `RecordBatch`, with the table's columns.

mod column_arrays;
mod column_split;
mod columns;
mod data;
mod early;
mod envelope;
mod error;
mod grammar;
mod layout;
mod lexer;
mod rows;
mod split;
pub(crate) mod values;

use arrow_array::RecordBatch;

pub(crate) use early::EarlyRows;
pub(crate) use envelope::{ChunkBodyReader, Layouts, ReceivedChunk};
pub(crate) use error::{DecodeError, Place};
pub(crate) use layout::{ChunkLayout, find_column, list_columns};

use error::BatchError;
use grammar::{Frame, decode_text};

/// Decode a chunk's base64 `data` into one batch with the table's columns.
pub(crate) fn decode_chunk(
    data: &[u8],
    layout: &ChunkLayout,
    place: &Place,
) -> Result<RecordBatch, DecodeError> {
    let mut parts = decode_chunk_parts(data, layout, place)?;
    if parts.len() == 1 {
        return Ok(parts.swap_remove(0));
    }
    let batch_error = |source| DecodeError::Batch {
        place: place.clone(),
        source,
    };
    let schema = parts
        .first()
        .map(|b| b.schema())
        .ok_or_else(|| batch_error(BatchError::NoParts))?;
    arrow_select::concat::concat_batches(&schema, &parts)
        .map_err(|e| batch_error(BatchError::Join(e)))
}

/// Decode a chunk's base64 `data` into batches, as [`decode_json_parts`] does.
fn decode_chunk_parts(
    data: &[u8],
    layout: &ChunkLayout,
    place: &Place,
) -> Result<Vec<RecordBatch>, DecodeError> {
    let json = data::decode_base64(data, place)?;
    decode_json_parts(&json, layout, place)
}

/// Decode chunk JSON into batches (in row order, one schema) with the table's columns.
///
/// A large chunk is decoded in parts on all rayon threads ([`split`]); when that fails it
/// is decoded again on one thread, which gives the exact error.
pub(crate) fn decode_json_parts(
    json: &[u8],
    layout: &ChunkLayout,
    place: &Place,
) -> Result<Vec<RecordBatch>, DecodeError> {
    if let Some(parts) = split::decode_parallel(json, layout, place) {
        return Ok(parts);
    }
    let text = std::str::from_utf8(json).map_err(|source| DecodeError::NotUtf8 {
        place: place.clone(),
        source,
    })?;
    Ok(vec![decode_json(text, layout, place)?])
}

/// Decode chunk JSON into one batch with the table's columns, on this thread.
pub(crate) fn decode_json(
    text: &str,
    layout: &ChunkLayout,
    place: &Place,
) -> Result<RecordBatch, DecodeError> {
    decode_text(text, layout, place, Frame::Whole)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Decimal128Type, Float64Type, Int32Type};
    use pushdata_core::wire::{ChunkIndex, ColumnHeader, DataType, Orientation};

    /// The place of the tests that do not look at it.
    pub(super) fn t() -> Place {
        Place::table("t")
    }

    pub(super) fn layout(o: Orientation) -> ChunkLayout {
        ChunkLayout::new(
            vec![
                ColumnHeader::new("Year", DataType::Integer),
                ColumnHeader::new("Name", DataType::String),
                ColumnHeader::new("Cost", DataType::Double),
                ColumnHeader::new("Amount", DataType::BigDecimal),
            ],
            None,
            o,
            "t",
        )
        .unwrap()
    }

    #[test]
    fn row_column_and_objects_agree() {
        let a = decode_json(
            r#"[[2015,"a",1.5,-12.340],[null,"b\n",null,7]]"#,
            &layout(Orientation::Row),
            &t(),
        )
        .unwrap();
        let b = decode_json(
            r#"[[2015,null],["a","b\n"],[1.5,null],[-12.340,7]]"#,
            &layout(Orientation::Column),
            &t(),
        )
        .unwrap();
        let c = decode_json(
            r#"[{"Year":2015,"Name":"a","Cost":1.5,"Amount":-12.340},{"Name":"b\n","Amount":7}]"#,
            &layout(Orientation::Row),
            &t(),
        )
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.num_rows(), 2);
        assert_eq!(a.column(0).as_primitive::<Int32Type>().value(0), 2015);
        assert!(a.column(0).is_null(1));
        assert_eq!(a.column(2).as_primitive::<Float64Type>().value(0), 1.5);
        let d = a.column(3).as_primitive::<Decimal128Type>();
        assert_eq!(d.scale(), 3);
        assert_eq!(d.value(0), -12340);
        assert_eq!(d.value(1), 7000);
    }

    #[test]
    fn errors_name_row_and_column() {
        let e = decode_json(
            r#"[[1,"a",1.0,1],[2,"b","x",1]]"#,
            &layout(Orientation::Row),
            &Place::chunk("t", ChunkIndex(4)),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("chunk 4") && e.contains("row 2") && e.contains("\"Cost\""),
            "{e}"
        );
        let e = decode_json(r#"[[1,"a",1.0]]"#, &layout(Orientation::Row), &t())
            .unwrap_err()
            .to_string();
        assert!(e.contains("has 3 values, expected 4"), "{e}");
        let e = decode_json(
            r#"[[3000000000,"a",1.0,1]]"#,
            &layout(Orientation::Row),
            &t(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("out of range") && e.contains("\"Year\""), "{e}");
        let e = decode_json(r#"[[1],[1,2],[1],[1]]"#, &layout(Orientation::Column), &t())
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"Name\" has 2 values"), "{e}");
    }

    #[test]
    fn big_decimal_goes_256() {
        let l = ChunkLayout::new(
            vec![ColumnHeader::new("D", DataType::BigDecimal)],
            None,
            Orientation::Row,
            "t",
        )
        .unwrap();
        let b = decode_json(
            "[[123456789012345678901234567890123456789.5],[1]]",
            &l,
            &t(),
        )
        .unwrap();
        assert_eq!(
            b.column(0).data_type(),
            &arrow_schema::DataType::Decimal256(76, 1)
        );
    }

    /// Random mutations of valid chunks (byte flips, truncation, inserted multi-byte
    /// characters) never panic: every input is decoded or refused with an error.
    #[test]
    fn mutated_input_never_panics() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let seeds = [
            r#"[[2015,"a\"b",1.5,-12.340],[null,"b",null,7]]"#,
            r#"[{"Year":2015,"Name":"\u00e9","Cost":1e3,"Amount":"12.5"}]"#,
        ];
        let all = ChunkLayout::new(
            vec![
                ColumnHeader::new("Year", DataType::Integer),
                ColumnHeader::new("Name", DataType::String),
                ColumnHeader::new("D", DataType::Date),
                ColumnHeader::new("T", DataType::DateTime),
            ],
            None,
            Orientation::Row,
            "t",
        )
        .unwrap();
        let pieces = [
            "\u{e9}",
            "\\",
            "\"",
            "[",
            "]",
            "{",
            "}",
            ":",
            ",",
            "-",
            ".",
            "e",
            "+05:3\u{e9}",
            "\\u12",
        ];
        for i in 0..20_000 {
            let mut s = seeds[i % 2].to_string();
            for _ in 0..rng.random_range(1..4) {
                let len = s.len();
                let mut at = rng.random_range(0..=len);
                while !s.is_char_boundary(at) {
                    at -= 1;
                }
                match rng.random_range(0..3) {
                    0 => s.truncate(at),
                    1 => s.insert_str(at, pieces[rng.random_range(0..pieces.len())]),
                    _ => {
                        let mut end = (at + rng.random_range(1..4)).min(s.len());
                        while !s.is_char_boundary(end) {
                            end += 1;
                        }
                        s.replace_range(at..end, "");
                    }
                }
            }
            for o in [Orientation::Row, Orientation::Column] {
                let _ = decode_json(&s, &layout(o), &t());
                let mut l = all.clone();
                l.orientation = o;
                let _ = decode_json(&s, &l, &t());
            }
            let _ = decode_chunk(s.as_bytes(), &layout(Orientation::Row), &t());
        }
    }

    /// A ROW chunk over the parallel threshold, with strings holding `],[` (false cuts),
    /// escapes, nulls, and decimals whose scale differs between the parts.
    pub(super) fn big_row_chunk(rows: usize) -> String {
        let mut s = String::from(" [ ");
        for r in 0..rows {
            if r > 0 {
                s.push_str(if r % 7 == 0 { " , " } else { "," });
            }
            let name = match (r % 5, r % 997) {
                (_, 0) => format!("\"a],[b {r}\""),
                (_, 1) => format!("\"q\\\"],[\\\"x{r}\""),
                (1, _) => "null".to_string(),
                _ => format!("\"plain text value {r}\""),
            };
            // Late rows get a larger decimal scale than early ones.
            let amount = if r > rows * 3 / 4 {
                format!("{r}.12345")
            } else {
                format!("-{r}.5")
            };
            s.push_str(&format!("[{r},{name},{r}.25,{amount}]"));
        }
        s.push_str(" ] ");
        s
    }

    pub(super) fn b64(s: &str) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(s)
    }
}
