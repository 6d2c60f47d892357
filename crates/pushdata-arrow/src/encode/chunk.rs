//! Cut a table's batches into chunks of a target size, never inside a row.
//!
//! Batches are queued until there are rows for a group of slices (several per thread);
//! the group is cut into zero-copy slices (`RecordBatch::slice`) of an estimated number of
//! rows (bytes per row measured on the first slice, then a running average) and encoded in
//! parallel with rayon, each slice straight into a *piece* of the chunk's base64 data (JSON
//! through a small per-thread scratch, see [`encode_piece`]); pieces are collected until the
//! next one would take the chunk past the target. A slice that alone exceeds the target is
//! split in halves and encoded again, down to one row; only a single row larger than the
//! target makes a chunk larger than the target.
//!
//! # The chunk's JSON
//!
//! Every piece's JSON is padded with spaces (JSON whitespace) to a multiple of 3 bytes, so
//! its base64 starts on a 3-byte boundary of the chunk's JSON, and the pieces are joined
//! with fixed 3-byte separators, each 4 base64 characters written into a slot at the start
//! of the piece when the chunk is assembled:
//!
//! - ROW: `[  ` before the first piece, `,  ` before every other one, `]` at the end:
//!   `[  [1,"a"],[2,"b"] ,  [3,"c"]  ]`;
//! - COLUMN: one piece per (slice, column): `[[ ` before column 0 of the first slice, `],[`
//!   before the first slice of every other column, `,  ` before further slices of the same
//!   column, `]]` at the end.
//!
//! An empty chunk is `[]` (ROW) or `[[],[],…]` with one empty array per column (COLUMN).
//! The body is not copied into one buffer: it goes out as its pieces ([`ChunkBody`]).
//!
//! # Memory
//!
//! Without a budget: the pieces of the chunk being built (at most `target` bytes), one group
//! of slices being encoded (each piece's buffer sized from the estimate), the queued
//! batches of one group, and a JSON scratch of about 48 KB per thread. With a
//! [`MemoryBudget`] ([`Chunker::with_budget`]) every piece is written into a buffer taken
//! from the budget before the slice is encoded (sized from the bytes per row seen, plus
//! 1/16; the encoder never writes past it, and a slice that needs more is encoded again
//! with a larger buffer); a piece then takes the room of its buffer in the chunk (so two
//! chunks fit in a budget of two chunks), and the buffer goes back to the budget, for
//! reuse, when the chunk's body is dropped. See [`super::budget`] for the rules that keep
//! this from deadlocking.

use std::ops::Range;
use std::sync::Arc;

use arrow_array::RecordBatch;
use bytes::Bytes;
use pushdata_core::wire::{ChunkBody, Orientation};

use super::base64::Base64Stream;
use super::budget::{MemoryBudget, PieceBuf, Reserve};
use super::framing::{Framing, SLOT_LEN};
use super::rows::{
    EncodedPiece, JsonPiece, PieceFault, ValueFault, encode_json_piece, encode_piece,
    write_chunk_json,
};
use super::values::{ValueError, ZoneMode};
use crate::error::{Error, Result};
use crate::model::TableModel;

/// Default chunk target: 20 MiB of base64 data (why not the API's 100 MB: see
/// [`crate::encoding::DEFAULT_CHUNK_BYTES`]).
pub(crate) const DEFAULT_CHUNK_BYTES: usize = 20 * 1024 * 1024;

/// From this target on, a table's first chunk is cut at a [`FIRST_CHUNK_PART`] of it: the
/// server can only start decoding once the first chunk is whole, and while it decodes
/// that chunk the client's memory budget (about 1.5 chunks) lets it encode only half of
/// the next, so a large first chunk leaves one side idle at the start of every push.
/// (`benches/bulk_load.rs`, lineitem SF 0.1, default 20 MiB: the first chunk was
/// acknowledged 80 ms into a push of about 0.4 s.) The Veracity CSV encoder cuts its first
/// part the same way, for the same reason (the server parses each append as it arrives).
pub(crate) const FIRST_CHUNK_FROM: usize = 8 << 20;

/// The first chunk's share of the target (from [`FIRST_CHUNK_FROM`] on).
pub(crate) const FIRST_CHUNK_PART: usize = 4;

/// Rows encoded first to measure the bytes per row.
const FIRST_SLICE_ROWS: usize = 1024;

/// The most base64 bytes of one slice: small enough that a group has several slices per
/// thread (work-stealing evens out the threads), large enough that the per-slice work
/// (encoders, allocation) does not count.
const MAX_SLICE_BYTES: usize = 1 << 20;

/// Guess of the base64 bytes per value before any row was seen (generous: a first slice
/// that needs more is encoded again with a larger reservation).
const FIRST_GUESS_PER_VALUE: usize = 48;

/// A finished chunk of one table.
#[derive(Debug)]
pub(crate) struct EncodedChunk {
    pub(crate) table: String,
    /// Chunk index within the table (1-based).
    pub(crate) index: u64,
    /// Rows of the table it carries (0-based, end exclusive).
    pub(crate) rows: Range<u64>,
    /// Size of the chunk's JSON before base64, including the whitespace that pads every
    /// piece to a multiple of 3 bytes (the base64 data is `json_bytes.div_ceil(3) * 4`
    /// bytes).
    pub(crate) json_bytes: usize,
    /// The PUT body: the envelope and the base64 pieces as written, not joined. With a
    /// [`MemoryBudget`] the pieces' buffers go back to it when the last of their bytes is
    /// dropped.
    pub(crate) body: ChunkBody,
}

/// A piece waiting in the chunk being built, in its buffer.
#[derive(Debug)]
struct Piece {
    enc: EncodedPiece,
    buf: PieceBuf,
}

/// A slice to encode: `len` rows of the table from `row`.
#[derive(Debug)]
struct Job {
    /// The rows (a zero-copy slice of a received batch).
    slice: RecordBatch,
    /// Table row of its first row.
    row: u64,
    len: usize,
    /// Bytes reserved for its base64.
    reserve: usize,
    /// A single row larger than the target: encoded without the target as its cap.
    uncapped: bool,
}

/// A received batch not yet (entirely) encoded.
#[derive(Debug)]
struct Queued {
    batch: RecordBatch,
    /// Table row of its first row.
    row: u64,
    /// Rows of it already encoded.
    done: usize,
}

/// Cuts one table's batches into chunks. Feed batches with [`Chunker::push`], end with
/// [`Chunker::finish`]; every finished chunk is passed to `emit`, in order.
///
/// Batches are queued until there are rows for a whole group of slices (several per
/// thread), so that small batches are encoded on all threads with few synchronisations; a
/// value that cannot be encoded is therefore reported by a later `push` or by `finish`
/// (always naming its table row).
pub(crate) struct Chunker<'m> {
    table: &'m TableModel,
    orientation: Orientation,
    zones: ZoneMode,
    /// Target of the base64 data size of a chunk.
    target: usize,
    budget: Option<Arc<MemoryBudget>>,
    pending: Vec<Piece>,
    /// Base64 bytes of the pending pieces.
    pending_data: usize,
    /// Room the pending pieces take in the chunk: their bytes, or with a budget their
    /// buffers' capacity.
    pending_size: usize,
    /// Bytes counted in the budget for the pending pieces' buffers.
    pending_counted: usize,
    pending_rows: u64,
    /// First row of the pending rows.
    chunk_start: u64,
    /// Rows of the table received so far (start of the next batch).
    rows_in: u64,
    next_index: u64,
    /// Base64 bytes and rows of the pieces accepted so far.
    seen_data: u64,
    seen_rows: u64,
    /// Slices encoded at once.
    group: usize,
    /// Batches received, not yet encoded.
    queue: std::collections::VecDeque<Queued>,
    queued_rows: usize,
    /// A slice to encode again first (it overflowed its cap).
    retry: Option<Job>,
}

impl<'m> Chunker<'m> {
    /// A chunker for `table`; `target_bytes` is the target size of a chunk's base64 data.
    pub(crate) fn new(
        table: &'m TableModel,
        orientation: Orientation,
        zones: ZoneMode,
        target_bytes: usize,
    ) -> Self {
        let group = (rayon::current_num_threads() * 4).clamp(4, 64);
        Chunker {
            table,
            orientation,
            zones,
            target: target_bytes.max(64),
            budget: None,
            pending: Vec::new(),
            pending_data: 0,
            pending_size: 0,
            pending_counted: 0,
            pending_rows: 0,
            chunk_start: 0,
            rows_in: 0,
            next_index: 1,
            seen_data: 0,
            seen_rows: 0,
            group,
            queue: std::collections::VecDeque::new(),
            queued_rows: 0,
            retry: None,
        }
    }

    /// Count every piece's bytes in `budget` from before it is encoded until the chunk
    /// holding it is dropped, waiting (blocking the calling thread) while the budget is
    /// full. See [`super::budget`] for the rules; with a budget smaller than the target,
    /// chunks are cut at about the budget.
    pub(crate) fn with_budget(mut self, budget: Arc<MemoryBudget>) -> Self {
        self.budget = Some(budget);
        self
    }

    /// Rows received so far.
    pub(crate) fn rows_in(&self) -> u64 {
        self.rows_in
    }

    /// Segments of a piece (each has a separator slot and up to 2 bytes of padding).
    fn segments(&self) -> usize {
        match self.orientation {
            Orientation::Row => 1,
            Orientation::Column => self.table.columns.len().max(1),
        }
    }

    /// The most base64 bytes of one piece: what fits in an empty chunk.
    fn piece_cap(&self) -> usize {
        self.chunk_target().saturating_sub(SLOT_LEN).max(16)
    }

    /// Estimated base64 bytes per row (running average).
    fn per_row(&self) -> f64 {
        if self.seen_rows == 0 {
            (FIRST_GUESS_PER_VALUE * self.table.columns.len().max(1)) as f64
        } else {
            (self.seen_data as f64 / self.seen_rows as f64).max(1.0)
        }
    }

    /// Bytes to reserve for a slice of `rows` rows: the estimate plus 1/16, plus the
    /// separator slots and padding. (A slice that needs more is encoded again.)
    fn estimate(&self, rows: usize) -> usize {
        let data = rows as f64 * self.per_row() * 1.0625;
        data as usize + self.segments() * 8 + 64
    }

    fn rows_per_slice(&self) -> usize {
        let per_row = self.per_row();
        let rows = if self.seen_rows == 0 {
            FIRST_SLICE_ROWS
        } else {
            // A group of slices is at most about half a chunk, a slice at most
            // `MAX_SLICE_BYTES`.
            let target =
                (self.chunk_target() as f64 / 2.0 / self.group as f64).min(MAX_SLICE_BYTES as f64);
            ((target / per_row) as usize).clamp(1, 1 << 20)
        };
        match &self.budget {
            // And a slice at most a quarter of the budget, so that several fit.
            Some(b) => rows.min(((b.limit() as f64 / 4.0 / per_row) as usize).max(1)),
            None => rows,
        }
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

    fn value_error(&self, fault: ValueFault, base_row: u64) -> Error {
        let ValueFault { column, row, error } = fault;
        let (message, source) = match error {
            ValueError::Invalid(message) => (message, None),
            ValueError::Arrow(e) => ("the value cannot be written as text".to_string(), Some(e)),
        };
        Error::Value {
            table: self.table.name.clone(),
            column: self
                .table
                .columns
                .get(column)
                .map(|c| c.name.clone())
                .unwrap_or_default(),
            row: base_row + row as u64,
            message,
            source,
        }
    }

    fn encode(&self, batch: &RecordBatch, buf: Vec<u8>, base_row: u64) -> Result<JsonPiece> {
        encode_json_piece(self.table, batch, self.orientation, self.zones, buf)
            .map_err(|f| self.value_error(f, base_row))
    }

    /// A buffer of `bytes` for the next slice, waiting while the budget is full; when only
    /// the chunk being built holds bytes, it is sent first (it cannot be released
    /// otherwise).
    fn reserve_blocking(
        &mut self,
        bytes: usize,
        emit: &mut dyn FnMut(EncodedChunk) -> Result<()>,
    ) -> Result<PieceBuf> {
        let Some(budget) = self.budget.clone() else {
            return Ok(PieceBuf::unlimited(bytes));
        };
        loop {
            match budget.reserve(bytes, self.pending_counted) {
                Reserve::Granted(b) => return Ok(b),
                Reserve::MustFlush => {
                    tracing::debug!(
                        table = %self.table.name,
                        bytes = self.pending_data,
                        limit = budget.limit(),
                        "memory budget full with the chunk being built; sending it early"
                    );
                    self.flush(emit)?;
                }
            }
        }
    }

    /// A buffer of `bytes` if one can be had now.
    fn try_reserve(&self, bytes: usize) -> Option<PieceBuf> {
        match &self.budget {
            None => Some(PieceBuf::unlimited(bytes)),
            Some(b) => b.try_reserve(bytes),
        }
    }

    /// What to encode after `job` overflowed its cap.
    fn retry_after_overflow(&self, job: Job) -> Job {
        let limit = self.budget.as_ref().map_or(usize::MAX, |b| b.limit());
        let grow = |reserve: usize| {
            let doubled = reserve.saturating_mul(2);
            if reserve < limit {
                doubled.min(limit)
            } else {
                doubled
            }
        };
        if job.uncapped {
            // One row larger than the target, denser than its buffer.
            Job {
                reserve: grow(job.reserve),
                ..job
            }
        } else if job.reserve < self.piece_cap() {
            // The buffer was the cap: the slice is denser than estimated.
            Job {
                reserve: grow(job.reserve).min(self.piece_cap()),
                ..job
            }
        } else if job.len > 1 {
            // Too big for an empty chunk: split in halves (the second half comes next).
            let len = job.len / 2;
            Job {
                slice: job.slice.slice(0, len),
                row: job.row,
                len,
                reserve: self.estimate(len).min(self.piece_cap()),
                uncapped: false,
            }
        } else {
            // One row larger than the target: it makes a chunk of its own.
            Job {
                reserve: grow(job.reserve.max(self.piece_cap())),
                uncapped: true,
                ..job
            }
        }
    }

    /// Take `batch` (rows following the ones pushed before), encoding and emitting what
    /// the rows received so far fill.
    pub(crate) fn push(
        &mut self,
        batch: &RecordBatch,
        emit: &mut dyn FnMut(EncodedChunk) -> Result<()>,
    ) -> Result<()> {
        self.check_schema(batch)?;
        let n = batch.num_rows();
        if n > 0 {
            self.queue.push_back(Queued {
                batch: batch.clone(),
                row: self.rows_in,
                done: 0,
            });
            self.queued_rows += n;
            self.rows_in += n as u64;
        }
        self.encode_queued(false, emit)
    }

    /// The next slice of at most `per` rows at the queue position `(entry, done)`; the rest
    /// of a batch is cut into slices of equal size (so their buffers are alike and reused).
    fn slice_at(&self, entry: usize, done: usize, per: usize) -> Option<Job> {
        let q = self.queue.get(entry)?;
        let rest = q.batch.num_rows() - done;
        let len = rest.div_ceil(rest.div_ceil(per.max(1)).max(1));
        Some(Job {
            slice: q.batch.slice(done, len),
            row: q.row + done as u64,
            len,
            reserve: self.estimate(len).min(self.piece_cap()),
            uncapped: false,
        })
    }

    /// Mark the `len` rows at the front of the queue encoded.
    fn advance(&mut self, len: usize) {
        if let Some(q) = self.queue.front_mut() {
            q.done += len;
            if q.done >= q.batch.num_rows() {
                self.queue.pop_front();
            }
        }
        self.queued_rows -= len.min(self.queued_rows);
    }

    /// Encode queued rows in groups of slices, in parallel: while a whole group is queued,
    /// or (`all`) until the queue is empty.
    fn encode_queued(
        &mut self,
        all: bool,
        emit: &mut dyn FnMut(EncodedChunk) -> Result<()>,
    ) -> Result<()> {
        use rayon::prelude::*;
        while self.queued_rows > 0 {
            let per = self.rows_per_slice();
            let count = if self.seen_rows == 0 { 1 } else { self.group };
            if !all && self.retry.is_none() && self.queued_rows < per.saturating_mul(count) {
                break;
            }
            let Some(first) = self
                .retry
                .take()
                .or_else(|| self.slice_at(0, self.queue.front().map_or(0, |q| q.done), per))
            else {
                break;
            };
            // The first slice waits for its bytes; the others join the group only if
            // theirs are free now.
            let buf = self.reserve_blocking(first.reserve, emit)?;
            let (mut entry, mut done) = (0, self.queue.front().map_or(0, |q| q.done) + first.len);
            let mut jobs = vec![(first, buf)];
            while jobs.len() < count {
                if self
                    .queue
                    .get(entry)
                    .is_some_and(|q| done >= q.batch.num_rows())
                {
                    entry += 1;
                    done = 0;
                }
                let Some(job) = self.slice_at(entry, done, per) else {
                    break;
                };
                let Some(buf) = self.try_reserve(job.reserve) else {
                    break;
                };
                done += job.len;
                jobs.push((job, buf));
            }
            let piece_cap = self.piece_cap();
            let this = &*self;
            let encoded: Vec<std::result::Result<EncodedPiece, PieceFault>> = jobs
                .par_iter_mut()
                .map(|(job, buf)| {
                    // Never past the buffer's capacity: that is what the budget counts.
                    let room = buf.vec().capacity();
                    let cap = if job.uncapped {
                        room
                    } else {
                        room.min(piece_cap)
                    };
                    encode_piece(
                        this.table,
                        &job.slice,
                        this.orientation,
                        this.zones,
                        buf.vec(),
                        cap,
                    )
                })
                .collect();
            for ((mut job, mut buf), piece) in jobs.into_iter().zip(encoded) {
                match piece {
                    Ok(enc) => {
                        self.advance(job.len);
                        self.accept(Piece { enc, buf }, emit)?;
                    }
                    Err(PieceFault::Value(f)) => {
                        return Err(self.value_error(f, job.row));
                    }
                    Err(PieceFault::Overflow) => {
                        // The slices after this one are dropped (their buffers given back)
                        // and encoded again after it.
                        job.reserve = job.reserve.max(buf.vec().capacity());
                        drop(buf);
                        self.retry = Some(self.retry_after_overflow(job));
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether `extra` more bytes of pieces fit in the chunk being built.
    fn fits(&self, extra: usize) -> bool {
        self.pending_size + extra + SLOT_LEN <= self.chunk_target()
    }

    /// The target of the chunk being built: a table's first chunk is smaller when the
    /// target is large (see [`FIRST_CHUNK_FROM`]), the others are cut at the target.
    fn chunk_target(&self) -> usize {
        if self.next_index == 1 && self.target >= FIRST_CHUNK_FROM {
            self.target / FIRST_CHUNK_PART
        } else {
            self.target
        }
    }

    /// Add an encoded piece (the next rows of the table).
    fn accept(
        &mut self,
        piece: Piece,
        emit: &mut dyn FnMut(EncodedChunk) -> Result<()>,
    ) -> Result<()> {
        let (data, rows) = (piece.buf.len(), piece.enc.rows);
        if rows == 0 {
            return Ok(());
        }
        // With a budget a piece takes the room of its buffer, so that two chunks fit in a
        // budget of two chunks (double buffering) whatever the buffers' slack.
        let size = if self.budget.is_some() {
            piece.buf.counted().max(data)
        } else {
            data
        };
        self.seen_data += data as u64;
        self.seen_rows += rows as u64;
        if !self.fits(size) && !self.pending.is_empty() {
            self.flush(emit)?;
        }
        let alone_too_big = !self.fits(size);
        self.pending_data += data;
        self.pending_size += size;
        self.pending_counted += piece.buf.counted();
        self.pending_rows += rows as u64;
        self.pending.push(piece);
        if alone_too_big {
            if !self.fits(data) {
                // Only a single row gets here (larger slices are split before).
                tracing::warn!(
                    table = %self.table.name,
                    row = self.chunk_start,
                    rows,
                    bytes = data,
                    "a single row is larger than the chunk target; sending it as its own chunk"
                );
            }
            self.flush(emit)?;
        }
        Ok(())
    }

    fn flush(&mut self, emit: &mut dyn FnMut(EncodedChunk) -> Result<()>) -> Result<()> {
        let chunk = self.build_chunk();
        self.chunk_start += self.pending_rows;
        self.pending_rows = 0;
        self.pending_data = 0;
        self.pending_size = 0;
        self.pending_counted = 0;
        self.next_index += 1;
        emit(chunk)
    }

    /// Assemble the pending pieces: separators into the slots of the first piece's
    /// segments (the others keep the next-piece separator they were written with), pieces
    /// frozen as [`Bytes`] (no copy), every piece's segment 0 first, the end last.
    fn build_chunk(&mut self) -> EncodedChunk {
        let pieces = std::mem::take(&mut self.pending);
        let framing = Framing::new(self.orientation);
        let (data, json_bytes) = if pieces.is_empty() {
            // `[]` or `[[],[],…]`: unpadded, encoded in one go.
            let json = framing.empty(self.table.columns.len());
            let data = Bytes::from(base64_simd::STANDARD.encode_to_string(&json));
            (vec![data], json.len())
        } else {
            assemble(pieces, framing)
        };
        EncodedChunk {
            table: self.table.name.clone(),
            index: self.next_index,
            rows: self.chunk_start..self.chunk_start + self.pending_rows,
            json_bytes,
            body: ChunkBody::from_segments(&self.table.name, self.next_index, data),
        }
    }

    /// Emit the last chunk. A table that received no rows gets one empty chunk, so the
    /// upload session sees the table (an empty `replace` empties it).
    pub(crate) fn finish(mut self, emit: &mut dyn FnMut(EncodedChunk) -> Result<()>) -> Result<()> {
        self.encode_queued(true, emit)?;
        if !self.pending.is_empty() || self.next_index == 1 {
            self.flush(emit)?;
        }
        Ok(())
    }
}

/// The data of a chunk of (at least one) `pieces`, and the JSON bytes it stands for.
fn assemble(pieces: Vec<Piece>, framing: Framing) -> (Vec<Bytes>, usize) {
    let mut json_bytes = 0usize;
    let mut frozen: Vec<(Bytes, Vec<usize>)> = Vec::with_capacity(pieces.len());
    for (p, Piece { enc, mut buf }) in pieces.into_iter().enumerate() {
        if p == 0 {
            let mut start = 0;
            for (s, &end) in enc.seg_ends.iter().enumerate() {
                write_slot(buf.vec(), start, framing.separator_slot(s, p));
                start = end;
            }
        }
        json_bytes += enc.json_len;
        frozen.push((buf.into_bytes(), enc.seg_ends));
    }
    let segments = frozen.first().map_or(0, |(_, ends)| ends.len());
    let mut data = Vec::with_capacity(frozen.len() * segments + 1);
    for s in 0..segments {
        for (bytes, ends) in &frozen {
            let start = if s == 0 { 0 } else { ends[s - 1] };
            data.push(bytes.slice(start..ends[s]));
        }
    }
    data.push(Bytes::from_static(framing.end_base64()));
    json_bytes += framing.end().len();
    (data, json_bytes)
}

/// Write a separator's base64 into the slot at `at` (the slot is always there: every
/// segment starts with one).
fn write_slot(out: &mut [u8], at: usize, slot: [u8; SLOT_LEN]) {
    if let Some(dst) = out.get_mut(at..at + SLOT_LEN) {
        dst.copy_from_slice(&slot);
    }
}

/// Encode whole batches into one base64 string (the single-request workflow's `data`).
pub(crate) fn encode_base64(
    table: &TableModel,
    batches: &[RecordBatch],
    orientation: Orientation,
    zones: ZoneMode,
) -> Result<String> {
    let pieces = encode_json_pieces(table, batches, orientation, zones)?;
    let mut out = Vec::new();
    let mut stream = Base64Stream::new(&mut out);
    write_chunk_json(&pieces, orientation, table.columns.len(), &mut |b| {
        stream.write(b)
    });
    stream.finish();
    String::from_utf8(out).map_err(|e| {
        Error::Internal(format!(
            "the base64 of table {:?} is not ASCII from byte {}",
            table.name,
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Encode whole batches into the chunk JSON (before base64), as one chunk.
pub(crate) fn encode_json(
    table: &TableModel,
    batches: &[RecordBatch],
    orientation: Orientation,
    zones: ZoneMode,
) -> Result<Vec<u8>> {
    let pieces = encode_json_pieces(table, batches, orientation, zones)?;
    let mut out = Vec::new();
    write_chunk_json(&pieces, orientation, table.columns.len(), &mut |b| {
        out.extend_from_slice(b)
    });
    Ok(out)
}

/// One plain JSON piece per batch.
fn encode_json_pieces(
    table: &TableModel,
    batches: &[RecordBatch],
    orientation: Orientation,
    zones: ZoneMode,
) -> Result<Vec<JsonPiece>> {
    let chunker = Chunker::new(table, orientation, zones, usize::MAX);
    let mut base = 0u64;
    let mut pieces = Vec::with_capacity(batches.len());
    for b in batches {
        chunker.check_schema(b)?;
        pieces.push(chunker.encode(b, Vec::new(), base)?);
        base += b.num_rows() as u64;
    }
    Ok(pieces)
}
