//! Encode a batch (usually a zero-copy slice of one) into JSON values, by row or by column.

use arrow_array::RecordBatch;
use pushdata_core::wire::Orientation;

use super::values::{ZoneMode, make_encoder};
use crate::model::TableModel;

/// The JSON text of some consecutive rows, ready to be joined into a chunk.
///
/// - ROW: the rows `[v,v],[v,v]` joined by `,` (no outer brackets);
/// - COLUMN: for each column its values `v,v` joined by `,`, one after the other;
///   `col_ends[c]` is where column `c` ends in `json`.
#[derive(Debug, Default)]
pub struct EncodedRows {
    /// Number of rows.
    pub rows: usize,
    /// The JSON text.
    pub json: Vec<u8>,
    /// COLUMN orientation: end offset of each column's values in `json`.
    pub col_ends: Vec<usize>,
}

/// A value that cannot be written: column index and row within the encoded batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueFault {
    /// Column index in the table.
    pub column: usize,
    /// Row within the batch that was encoded.
    pub row: usize,
    /// What is wrong.
    pub message: String,
}

/// Encode all rows of `batch` (whose columns follow `table`'s schema) into `buf` (cleared).
pub fn encode_rows(
    table: &TableModel,
    batch: &RecordBatch,
    orientation: Orientation,
    zones: ZoneMode,
    mut buf: Vec<u8>,
) -> Result<EncodedRows, ValueFault> {
    buf.clear();
    let schema = batch.schema();
    let fields = schema.fields();
    let mut encoders = Vec::with_capacity(table.columns.len());
    for (c, col) in table.columns.iter().enumerate() {
        let (Some(field), Some(array)) = (fields.get(c), batch.columns().get(c)) else {
            return Err(ValueFault {
                column: c,
                row: 0,
                message: "the batch has no such column".into(),
            });
        };
        let enc = make_encoder(field, array.as_ref(), col.mapping.text, zones).map_err(|e| {
            ValueFault {
                column: c,
                row: 0,
                message: e.to_string(),
            }
        })?;
        encoders.push(enc);
    }
    let rows = batch.num_rows();
    let fault = |column: usize, row: usize, message: String| ValueFault {
        column,
        row,
        message,
    };
    let mut col_ends = Vec::new();
    match orientation {
        Orientation::Row => {
            for r in 0..rows {
                if r > 0 {
                    buf.push(b',');
                }
                buf.push(b'[');
                for (c, enc) in encoders.iter_mut().enumerate() {
                    if c > 0 {
                        buf.push(b',');
                    }
                    enc.write(r, &mut buf).map_err(|m| fault(c, r, m))?;
                }
                buf.push(b']');
            }
        }
        Orientation::Column => {
            col_ends.reserve(encoders.len());
            for (c, enc) in encoders.iter_mut().enumerate() {
                for r in 0..rows {
                    if r > 0 {
                        buf.push(b',');
                    }
                    enc.write(r, &mut buf).map_err(|m| fault(c, r, m))?;
                }
                col_ends.push(buf.len());
            }
        }
    }
    Ok(EncodedRows {
        rows,
        json: buf,
        col_ends,
    })
}

/// Write the chunk JSON made of `parts` (in order) through `sink`.
///
/// ROW: `[` rows `]`; COLUMN: `[[` column 1 `],[` column 2 `]]`. With no parts (or no rows)
/// this is `[]` (ROW) or `[[],[],…]` with one empty array per column (COLUMN).
pub fn write_chunk_json(
    parts: &[EncodedRows],
    orientation: Orientation,
    columns: usize,
    sink: &mut impl FnMut(&[u8]),
) {
    let parts = parts.iter().filter(|p| p.rows > 0);
    sink(b"[");
    match orientation {
        Orientation::Row => {
            for (i, p) in parts.enumerate() {
                if i > 0 {
                    sink(b",");
                }
                sink(&p.json);
            }
        }
        Orientation::Column => {
            let parts: Vec<&EncodedRows> = parts.collect();
            for c in 0..columns {
                sink(if c > 0 { b",[" } else { b"[" });
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        sink(b",");
                    }
                    let start = if c == 0 { 0 } else { p.col_ends[c - 1] };
                    sink(&p.json[start..p.col_ends[c]]);
                }
                sink(b"]");
            }
        }
    }
    sink(b"]");
}

/// The JSON size of a chunk made of parts whose JSON totals `json_bytes`.
pub fn chunk_json_len(
    json_bytes: usize,
    parts: usize,
    orientation: Orientation,
    columns: usize,
) -> usize {
    match orientation {
        Orientation::Row => json_bytes + 2 + parts.saturating_sub(1),
        Orientation::Column => {
            json_bytes
                + 2
                + columns * 2
                + columns.saturating_sub(1)
                + columns * parts.saturating_sub(1)
        }
    }
}
