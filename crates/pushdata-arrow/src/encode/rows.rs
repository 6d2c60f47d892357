//! Encode a batch (usually a zero-copy slice of one) into JSON values, by row or by column:
//! [`encode_piece`] writes the chunk encoder's base64 pieces directly (fused JSON + base64,
//! see [`PieceWriter`]); [`encode_rows`] writes plain JSON (the single-request workflow).

use std::cell::RefCell;

use arrow_array::RecordBatch;
use pushdata_core::wire::Orientation;

use super::base64::{FLUSH_BYTES, Overflow, PieceWriter};
use super::values::{ColumnEncoder, ZoneMode, make_encoder};
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

/// One encoder per column of `batch` (whose columns follow `table`'s schema).
fn make_encoders<'a>(
    table: &TableModel,
    batch: &'a RecordBatch,
    schema: &'a arrow_schema::Schema,
    zones: ZoneMode,
) -> Result<Vec<ColumnEncoder<'a>>, ValueFault> {
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
    Ok(encoders)
}

/// Write row `r` as a JSON array `[v,v,…]`.
#[inline]
fn write_row(
    encoders: &mut [ColumnEncoder<'_>],
    r: usize,
    out: &mut Vec<u8>,
) -> Result<(), ValueFault> {
    out.push(b'[');
    for (c, enc) in encoders.iter_mut().enumerate() {
        if c > 0 {
            out.push(b',');
        }
        enc.write(r, out).map_err(|m| fault(c, r, m))?;
    }
    out.push(b']');
    Ok(())
}

fn fault(column: usize, row: usize, message: String) -> ValueFault {
    ValueFault {
        column,
        row,
        message,
    }
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
    let mut encoders = make_encoders(table, batch, &schema, zones)?;
    let rows = batch.num_rows();
    let mut col_ends = Vec::new();
    match orientation {
        Orientation::Row => {
            for r in 0..rows {
                if r > 0 {
                    buf.push(b',');
                }
                write_row(&mut encoders, r, &mut buf)?;
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

/// Some consecutive rows as a piece of a chunk's base64 data (see [`encode_piece`]); the
/// base64 is in the buffer given to it: one segment (ROW) or one per column (COLUMN), each
/// starting with a 4-character separator slot.
#[derive(Debug)]
pub(crate) struct EncodedPiece {
    /// Number of rows.
    pub rows: usize,
    /// End of each segment in the buffer.
    pub seg_ends: Vec<usize>,
    /// JSON bytes the piece stands for (padding and 3 per separator slot included).
    pub json_len: usize,
}

/// Why [`encode_piece`] produced no piece.
#[derive(Debug)]
pub(crate) enum PieceFault {
    /// A value cannot be written.
    Value(ValueFault),
    /// The base64 would be larger than the cap.
    Overflow,
}

impl From<Overflow> for PieceFault {
    fn from(_: Overflow) -> Self {
        PieceFault::Overflow
    }
}

thread_local! {
    /// The JSON scratch of the encoding thread, reused by every piece it encodes.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Encode all rows of `batch` into `out`, a piece of at most `cap` bytes of base64 (fused:
/// the JSON goes through a small per-thread scratch, never a slice-sized buffer).
///
/// - ROW: one segment, the rows `[v,v],[v,v]` joined by `,`;
/// - COLUMN: one segment per column, its values `v,v` joined by `,`.
///
/// Each segment's JSON is padded with spaces to a multiple of 3 bytes and its base64 starts
/// with a 4-character slot for the separator that the chunk assembly writes (`[  `, `,  `,
/// `[[ ` or `],[`). Stops with [`PieceFault::Overflow`] as soon as the piece would exceed
/// `cap`.
pub(crate) fn encode_piece(
    table: &TableModel,
    batch: &RecordBatch,
    orientation: Orientation,
    zones: ZoneMode,
    out: &mut Vec<u8>,
    cap: usize,
) -> Result<EncodedPiece, PieceFault> {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => {
            let piece = encode_piece_with(table, batch, orientation, zones, out, cap, &mut scratch);
            // A huge value may have grown the scratch: do not keep that much per thread.
            if scratch.capacity() > 8 * FLUSH_BYTES {
                *scratch = Vec::new();
            }
            piece
        }
        // Only if encoding re-entered on this thread: a scratch of its own.
        Err(_) => encode_piece_with(table, batch, orientation, zones, out, cap, &mut Vec::new()),
    })
}

fn encode_piece_with(
    table: &TableModel,
    batch: &RecordBatch,
    orientation: Orientation,
    zones: ZoneMode,
    out: &mut Vec<u8>,
    cap: usize,
    scratch: &mut Vec<u8>,
) -> Result<EncodedPiece, PieceFault> {
    let schema = batch.schema();
    let mut encoders = make_encoders(table, batch, &schema, zones).map_err(PieceFault::Value)?;
    let rows = batch.num_rows();
    let segments = match orientation {
        Orientation::Row => 1,
        Orientation::Column => encoders.len(),
    };
    if scratch.capacity() < FLUSH_BYTES * 2 {
        scratch.reserve(FLUSH_BYTES * 2);
    }
    let mut w = PieceWriter::new(scratch, out, cap, segments);
    match orientation {
        Orientation::Row => {
            w.begin_segment()?;
            for r in 0..rows {
                let json = &mut *w.json;
                if r > 0 {
                    json.push(b',');
                }
                write_row(&mut encoders, r, json).map_err(PieceFault::Value)?;
                w.maybe_flush()?;
            }
            w.end_segment()?;
        }
        Orientation::Column => {
            for (c, enc) in encoders.iter_mut().enumerate() {
                w.begin_segment()?;
                for r in 0..rows {
                    if r > 0 {
                        w.json.push(b',');
                    }
                    enc.write(r, w.json)
                        .map_err(|m| PieceFault::Value(fault(c, r, m)))?;
                    w.maybe_flush()?;
                }
                w.end_segment()?;
            }
        }
    }
    let (seg_ends, json_len) = w.finish();
    Ok(EncodedPiece {
        rows,
        seg_ends,
        json_len,
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
