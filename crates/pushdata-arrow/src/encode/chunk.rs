//! Cut a table's batches into chunks of a target size, never inside a row.
//!
//! Batches are cut into zero-copy slices (`RecordBatch::slice`) of an estimated number of rows
//! (bytes per row measured on the first slice, then a running average), a group of slices is
//! encoded in parallel with rayon, and encoded slices are collected until the next one would
//! take the chunk's base64 data past the target. A slice that alone exceeds the target is
//! split in halves and re-encoded, down to one row; only a single row larger than the target
//! makes a chunk larger than the target.
//!
//! Memory: the encoded slices of one chunk (about `target * 3/4` bytes of JSON), one group of
//! slices being encoded (about half of that), and the chunk body being written
//! (about `target`). Slice buffers are pooled and reused.

use std::ops::Range;

use arrow_array::RecordBatch;
use pushdata_core::wire::{ChunkBody, ChunkBodyWriter, Orientation};

use super::base64::Base64Stream;
use super::rows::{EncodedRows, ValueFault, chunk_json_len, encode_rows, write_chunk_json};
use super::values::ZoneMode;
use crate::error::{Error, Result};
use crate::model::TableModel;

/// Default chunk target: 100 MB of base64 data, the API's recommended chunk size.
pub const DEFAULT_CHUNK_BYTES: usize = 100 * 1024 * 1024;

/// Rows encoded first to measure the bytes per row.
const FIRST_SLICE_ROWS: usize = 1024;

/// Fewest rows of a slice cut only to spread a small batch over the threads.
const MIN_SLICE_ROWS: usize = 512;

/// A finished chunk of one table.
#[derive(Debug, Clone)]
pub struct EncodedChunk {
    /// Table name.
    pub table: String,
    /// Chunk index within the table (1-based).
    pub index: u64,
    /// Rows of the table it carries (0-based, end exclusive).
    pub rows: Range<u64>,
    /// Size of the chunk's JSON before base64.
    pub json_bytes: usize,
    /// The PUT body, base64 written in place.
    pub body: ChunkBody,
}

/// Cuts one table's batches into chunks. Feed batches with [`Chunker::push`], end with
/// [`Chunker::finish`]; every finished chunk is passed to `emit`, in order.
pub struct Chunker<'m> {
    table: &'m TableModel,
    orientation: Orientation,
    zones: ZoneMode,
    /// Target of the JSON size of a chunk (3/4 of the base64 target).
    json_budget: usize,
    pending: Vec<EncodedRows>,
    pending_json: usize,
    pending_rows: u64,
    /// First row of the pending rows.
    chunk_start: u64,
    /// Rows of the table received so far (start of the next batch).
    rows_in: u64,
    next_index: u64,
    seen_json: u64,
    seen_rows: u64,
    pool: Vec<Vec<u8>>,
    group: usize,
}

impl<'m> Chunker<'m> {
    /// A chunker for `table`; `target_bytes` is the target size of a chunk's base64 data.
    pub fn new(
        table: &'m TableModel,
        orientation: Orientation,
        zones: ZoneMode,
        target_bytes: usize,
    ) -> Self {
        let group = rayon::current_num_threads().clamp(4, 64);
        Chunker {
            table,
            orientation,
            zones,
            json_budget: (target_bytes / 4 * 3).max(64),
            pending: Vec::new(),
            pending_json: 0,
            pending_rows: 0,
            chunk_start: 0,
            rows_in: 0,
            next_index: 1,
            seen_json: 0,
            seen_rows: 0,
            pool: Vec::new(),
            group,
        }
    }

    /// Rows received so far.
    pub fn rows_in(&self) -> u64 {
        self.rows_in
    }

    /// Chunks emitted so far.
    pub fn chunks_out(&self) -> u64 {
        self.next_index - 1
    }

    fn rows_per_slice(&self) -> usize {
        if self.seen_rows == 0 {
            return FIRST_SLICE_ROWS;
        }
        let per_row = (self.seen_json as f64 / self.seen_rows as f64).max(1.0);
        // A group of slices is about half a chunk.
        let target = self.json_budget as f64 / 2.0 / self.group as f64;
        ((target / per_row) as usize).clamp(1, 1 << 20)
    }

    fn check_schema(&self, batch: &RecordBatch) -> Result<()> {
        let want = &self.table.schema;
        let got = batch.schema();
        if got.fields().len() != want.fields().len() {
            return Err(Error::SchemaMismatch {
                table: self.table.name.clone(),
                message: format!(
                    "{} columns, the table has {}",
                    got.fields().len(),
                    want.fields().len()
                ),
            });
        }
        for (g, w) in got.fields().iter().zip(want.fields()) {
            if g.name() != w.name() || g.data_type() != w.data_type() {
                return Err(Error::SchemaMismatch {
                    table: self.table.name.clone(),
                    message: format!(
                        "column {:?} {} where the table has {:?} {}",
                        g.name(),
                        g.data_type(),
                        w.name(),
                        w.data_type()
                    ),
                });
            }
        }
        Ok(())
    }

    fn encode(&self, batch: &RecordBatch, buf: Vec<u8>, base_row: u64) -> Result<EncodedRows> {
        encode_rows(self.table, batch, self.orientation, self.zones, buf).map_err(
            |ValueFault {
                 column,
                 row,
                 message,
             }| Error::Value {
                table: self.table.name.clone(),
                column: self
                    .table
                    .columns
                    .get(column)
                    .map(|c| c.name.clone())
                    .unwrap_or_default(),
                row: base_row + row as u64,
                message,
            },
        )
    }

    /// Encode `batch` (rows following the ones pushed before), emitting the chunks it fills.
    pub fn push(
        &mut self,
        batch: &RecordBatch,
        emit: &mut dyn FnMut(EncodedChunk) -> Result<()>,
    ) -> Result<()> {
        use rayon::prelude::*;
        self.check_schema(batch)?;
        let n = batch.num_rows();
        let base = self.rows_in;
        let mut offset = 0;
        while offset < n {
            // A batch smaller than a group of slices (a Parquet source yields 8192 rows) is
            // cut into one slice per thread, so that it is encoded on all threads.
            let per = self
                .rows_per_slice()
                .min(n.div_ceil(rayon::current_num_threads()).max(MIN_SLICE_ROWS));
            let count = if self.seen_rows == 0 { 1 } else { self.group };
            // Bytes per row seen so far (+1/8), to size each slice's buffer once.
            let per_row = self.seen_json.div_ceil(self.seen_rows.max(1)) as usize;
            let per_row = per_row + per_row / 8;
            let mut slices = Vec::with_capacity(count);
            while slices.len() < count && offset < n {
                let len = per.min(n - offset);
                let mut buf = self.pool.pop().unwrap_or_default();
                buf.clear();
                buf.reserve(len * per_row);
                slices.push((offset, len, buf));
                offset += len;
            }
            let encoded: Vec<(usize, Result<EncodedRows>)> = slices
                .into_par_iter()
                .map(|(off, len, buf)| {
                    (
                        off,
                        self.encode(&batch.slice(off, len), buf, base + off as u64),
                    )
                })
                .collect();
            for (off, enc) in encoded {
                let enc = enc?;
                self.seen_json += enc.json.len() as u64;
                self.seen_rows += enc.rows as u64;
                self.accept(batch, off, enc, emit)?;
            }
        }
        self.rows_in += n as u64;
        Ok(())
    }

    fn fits(&self, extra: usize) -> bool {
        chunk_json_len(
            self.pending_json + extra,
            self.pending.len() + 1,
            self.orientation,
            self.table.columns.len(),
        ) <= self.json_budget
    }

    /// Add encoded rows that start at `slice_start` within `batch`.
    fn accept(
        &mut self,
        batch: &RecordBatch,
        slice_start: usize,
        enc: EncodedRows,
        emit: &mut dyn FnMut(EncodedChunk) -> Result<()>,
    ) -> Result<()> {
        if enc.rows == 0 {
            self.pool.push(enc.json);
            return Ok(());
        }
        if self.fits(enc.json.len()) {
            self.pending_json += enc.json.len();
            self.pending_rows += enc.rows as u64;
            self.pending.push(enc);
            return Ok(());
        }
        if !self.pending.is_empty() {
            self.flush(emit)?;
            return self.accept(batch, slice_start, enc, emit);
        }
        if enc.rows == 1 {
            // One row larger than the target: it makes a chunk of its own.
            tracing::warn!(
                table = %self.table.name,
                row = self.chunk_start,
                bytes = enc.json.len(),
                "a single row is larger than the chunk target; sending it as its own chunk"
            );
            self.pending_json += enc.json.len();
            self.pending_rows += 1;
            self.pending.push(enc);
            return self.flush(emit);
        }
        // Too big alone: split in halves and encode again.
        let rows = enc.rows;
        let base = self.rows_in;
        let mut buf = enc.json;
        let half = rows / 2;
        for (off, len) in [(slice_start, half), (slice_start + half, rows - half)] {
            let part = self.encode(&batch.slice(off, len), buf, base + off as u64)?;
            buf = self.pool.pop().unwrap_or_default();
            self.accept(batch, off, part, emit)?;
        }
        self.pool.push(buf);
        Ok(())
    }

    fn flush(&mut self, emit: &mut dyn FnMut(EncodedChunk) -> Result<()>) -> Result<()> {
        let chunk = self.build_chunk();
        for p in self.pending.drain(..) {
            self.pool.push(p.json);
        }
        // The pool keeps the buffers of one chunk's parts (at most one chunk of JSON, which
        // the memory bound counts anyway): reusing them spares the page faults of fresh
        // allocations for every slice.
        self.chunk_start += self.pending_rows;
        self.pending_rows = 0;
        self.pending_json = 0;
        self.next_index += 1;
        emit(chunk)
    }

    fn build_chunk(&self) -> EncodedChunk {
        let columns = self.table.columns.len();
        let json_bytes = chunk_json_len(
            self.pending_json,
            self.pending.len(),
            self.orientation,
            columns,
        );
        let mut w = ChunkBodyWriter::new(&self.table.name, self.next_index, json_bytes / 3 * 4 + 4);
        let mut stream = Base64Stream::new(w.buffer());
        write_chunk_json(&self.pending, self.orientation, columns, &mut |b| {
            stream.write(b)
        });
        stream.finish();
        EncodedChunk {
            table: self.table.name.clone(),
            index: self.next_index,
            rows: self.chunk_start..self.chunk_start + self.pending_rows,
            json_bytes,
            body: w.finish(),
        }
    }

    /// Emit the last chunk. A table that received no rows gets one empty chunk, so the
    /// upload session sees the table (an empty `replace` empties it).
    pub fn finish(mut self, emit: &mut dyn FnMut(EncodedChunk) -> Result<()>) -> Result<()> {
        if !self.pending.is_empty() || self.next_index == 1 {
            self.flush(emit)?;
        }
        Ok(())
    }
}

/// Encode whole batches into one base64 string (the single-request workflow's `data`).
pub fn encode_base64(
    table: &TableModel,
    batches: &[RecordBatch],
    orientation: Orientation,
    zones: ZoneMode,
) -> Result<String> {
    let parts = encode_parts(table, batches, orientation, zones)?;
    let mut out = Vec::new();
    let mut stream = Base64Stream::new(&mut out);
    write_chunk_json(&parts, orientation, table.columns.len(), &mut |b| {
        stream.write(b)
    });
    stream.finish();
    String::from_utf8(out).map_err(|e| Error::Internal(format!("base64 is not ASCII: {e}")))
}

/// Encode whole batches into the chunk JSON (before base64), as one chunk.
pub fn encode_json(
    table: &TableModel,
    batches: &[RecordBatch],
    orientation: Orientation,
    zones: ZoneMode,
) -> Result<Vec<u8>> {
    let parts = encode_parts(table, batches, orientation, zones)?;
    let mut out = Vec::new();
    write_chunk_json(&parts, orientation, table.columns.len(), &mut |b| {
        out.extend_from_slice(b)
    });
    Ok(out)
}

fn encode_parts(
    table: &TableModel,
    batches: &[RecordBatch],
    orientation: Orientation,
    zones: ZoneMode,
) -> Result<Vec<EncodedRows>> {
    let chunker = Chunker::new(table, orientation, zones, usize::MAX);
    let mut base = 0u64;
    let mut parts = Vec::with_capacity(batches.len());
    for b in batches {
        chunker.check_schema(b)?;
        parts.push(chunker.encode(b, Vec::new(), base)?);
        base += b.num_rows() as u64;
    }
    Ok(parts)
}
