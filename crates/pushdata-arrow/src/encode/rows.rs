//! Encode a batch (usually a zero-copy slice of one) into a piece, by row or by column:
//! [`encode_piece`] writes the chunk encoder's base64 pieces directly (fused JSON + base64,
//! see [`PieceWriter`]); [`encode_json_piece`] writes plain JSON (the one-shot encoders).
//! Both write their segments with [`write_segments`]; [`write_chunk_json`] joins plain
//! pieces into a chunk. The tokens between segments are the [`Framing`]'s.

use std::cell::RefCell;

use arrow_array::RecordBatch;
use pushdata_core::wire::Orientation;

use super::base64::{FLUSH_BYTES, Overflow, PieceWriter};
use super::framing::{Framing, VALUE_SEPARATOR};
use super::values::{ColumnEncoder, ValueError, ZoneMode, make_encoder};
use crate::model::TableModel;

/// A piece as plain JSON: the segments of some consecutive rows, one after the other.
///
/// - ROW: one segment, the rows `[v,v],[v,v]` joined by `,`;
/// - COLUMN: one segment per column, its values `v,v` joined by `,`.
#[derive(Debug, Default)]
pub(crate) struct JsonPiece {
    pub(crate) rows: usize,
    /// The JSON text of the segments.
    pub(crate) json: Vec<u8>,
    /// End offset of each segment in `json`.
    pub(crate) seg_ends: Vec<usize>,
}

impl JsonPiece {
    /// The JSON of segment `s`.
    fn segment(&self, s: usize) -> &[u8] {
        let start = if s == 0 { 0 } else { self.seg_ends[s - 1] };
        &self.json[start..self.seg_ends[s]]
    }
}

/// A value that cannot be written: column index and row within the encoded batch.
#[derive(Debug)]
pub(crate) struct ValueFault {
    /// Column index in the table.
    pub(crate) column: usize,
    /// Row within the batch that was encoded.
    pub(crate) row: usize,
    /// What is wrong.
    pub(crate) error: ValueError,
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
                error: ValueError::Invalid("the batch has no such column".into()),
            });
        };
        let enc = make_encoder(field, array.as_ref(), col.mapping.text, zones).map_err(|e| {
            ValueFault {
                column: c,
                row: 0,
                error: ValueError::Arrow(e),
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
            out.push(VALUE_SEPARATOR);
        }
        enc.write(r, out).map_err(|m| fault(c, r, m))?;
    }
    out.push(b']');
    Ok(())
}

fn fault(column: usize, row: usize, error: ValueError) -> ValueFault {
    ValueFault { column, row, error }
}

/// Where [`write_segments`] writes a piece's segments.
trait SegmentSink {
    /// Why writing stops.
    type Fault: From<ValueFault>;
    /// The buffer the next values' JSON goes into.
    fn json(&mut self) -> &mut Vec<u8>;
    /// A segment starts.
    fn begin_segment(&mut self) -> Result<(), Self::Fault>;
    /// A row (ROW) or a value (COLUMN) was written.
    fn after_value(&mut self) -> Result<(), Self::Fault>;
    /// The segment ends.
    fn end_segment(&mut self) -> Result<(), Self::Fault>;
}

/// Write the `rows` rows of `encoders` as the segments of one piece: ROW one segment, the
/// rows `[v,v]` joined by `,`; COLUMN one segment per column, its values joined by `,`.
#[inline]
fn write_segments<S: SegmentSink>(
    encoders: &mut [ColumnEncoder<'_>],
    rows: usize,
    orientation: Orientation,
    sink: &mut S,
) -> Result<(), S::Fault> {
    match orientation {
        Orientation::Row => {
            sink.begin_segment()?;
            for r in 0..rows {
                let json = sink.json();
                if r > 0 {
                    json.push(VALUE_SEPARATOR);
                }
                write_row(encoders, r, json)?;
                sink.after_value()?;
            }
            sink.end_segment()?;
        }
        Orientation::Column => {
            for (c, enc) in encoders.iter_mut().enumerate() {
                sink.begin_segment()?;
                for r in 0..rows {
                    let json = sink.json();
                    if r > 0 {
                        json.push(VALUE_SEPARATOR);
                    }
                    enc.write(r, json).map_err(|m| fault(c, r, m))?;
                    sink.after_value()?;
                }
                sink.end_segment()?;
            }
        }
    }
    Ok(())
}

/// Plain JSON segments in one buffer.
struct JsonSink<'a> {
    json: &'a mut Vec<u8>,
    seg_ends: Vec<usize>,
}

impl SegmentSink for JsonSink<'_> {
    type Fault = ValueFault;

    fn json(&mut self) -> &mut Vec<u8> {
        self.json
    }

    fn begin_segment(&mut self) -> Result<(), ValueFault> {
        Ok(())
    }

    fn after_value(&mut self) -> Result<(), ValueFault> {
        Ok(())
    }

    fn end_segment(&mut self) -> Result<(), ValueFault> {
        self.seg_ends.push(self.json.len());
        Ok(())
    }
}

/// Encode all rows of `batch` (whose columns follow `table`'s schema) into a plain JSON
/// piece written into `buf` (cleared).
pub(crate) fn encode_json_piece(
    table: &TableModel,
    batch: &RecordBatch,
    orientation: Orientation,
    zones: ZoneMode,
    mut buf: Vec<u8>,
) -> Result<JsonPiece, ValueFault> {
    buf.clear();
    let schema = batch.schema();
    let mut encoders = make_encoders(table, batch, &schema, zones)?;
    let rows = batch.num_rows();
    let mut sink = JsonSink {
        json: &mut buf,
        seg_ends: Vec::with_capacity(Framing::new(orientation).segments(encoders.len())),
    };
    write_segments(&mut encoders, rows, orientation, &mut sink)?;
    let seg_ends = sink.seg_ends;
    Ok(JsonPiece {
        rows,
        json: buf,
        seg_ends,
    })
}

/// Some consecutive rows as a piece of a chunk's base64 data (see [`encode_piece`]); the
/// base64 is in the buffer given to it: one segment (ROW) or one per column (COLUMN), each
/// starting with a 4-character separator slot.
#[derive(Debug)]
pub(crate) struct EncodedPiece {
    pub(crate) rows: usize,
    /// End of each segment in the buffer.
    pub(crate) seg_ends: Vec<usize>,
    /// JSON bytes the piece stands for (padding and 3 per separator slot included).
    pub(crate) json_len: usize,
}

/// Why [`encode_piece`] produced no piece.
#[derive(Debug)]
pub(crate) enum PieceFault {
    /// A value cannot be written.
    Value(ValueFault),
    /// The base64 would be larger than the cap.
    Overflow,
}

impl From<ValueFault> for PieceFault {
    fn from(fault: ValueFault) -> Self {
        PieceFault::Value(fault)
    }
}

impl From<Overflow> for PieceFault {
    fn from(_: Overflow) -> Self {
        PieceFault::Overflow
    }
}

impl SegmentSink for PieceWriter<'_> {
    type Fault = PieceFault;

    fn json(&mut self) -> &mut Vec<u8> {
        self.json
    }

    fn begin_segment(&mut self) -> Result<(), PieceFault> {
        Ok(PieceWriter::begin_segment(self)?)
    }

    #[inline]
    fn after_value(&mut self) -> Result<(), PieceFault> {
        Ok(PieceWriter::maybe_flush(self)?)
    }

    fn end_segment(&mut self) -> Result<(), PieceFault> {
        Ok(PieceWriter::end_segment(self)?)
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
    let segments = Framing::new(orientation).segments(encoders.len());
    if scratch.capacity() < FLUSH_BYTES * 2 {
        scratch.reserve(FLUSH_BYTES * 2);
    }
    let mut w = PieceWriter::new(scratch, out, cap, segments);
    write_segments(&mut encoders, rows, orientation, &mut w)?;
    let (seg_ends, json_len) = w.finish();
    Ok(EncodedPiece {
        rows,
        seg_ends,
        json_len,
    })
}

/// Write the chunk JSON made of `pieces` (in order) through `sink`, framed as the
/// [`Framing`] of `orientation` says; pieces without rows are left out, and with no rows at
/// all this is the framing's empty chunk.
pub(crate) fn write_chunk_json(
    pieces: &[JsonPiece],
    orientation: Orientation,
    columns: usize,
    sink: &mut impl FnMut(&[u8]),
) {
    let framing = Framing::new(orientation);
    let pieces: Vec<&JsonPiece> = pieces.iter().filter(|p| p.rows > 0).collect();
    let segments = framing.segments(columns);
    if pieces.is_empty() || segments == 0 {
        sink(&framing.empty(columns));
        return;
    }
    for s in 0..segments {
        for (p, piece) in pieces.iter().enumerate() {
            sink(framing.separator(s, p));
            sink(piece.segment(s));
        }
    }
    sink(framing.end());
}
