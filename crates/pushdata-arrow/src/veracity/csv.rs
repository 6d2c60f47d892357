//! Arrow batches → the CSV file of a Veracity ingest job, in parts ([`CsvParts`]).

use std::collections::VecDeque;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use bytes::Bytes;

use super::csv_part::{CsvPart, SlicePool};
use super::csv_slice::{Piece, encode_slice, write_header};
use super::error::VeracityError;
use super::schema::{SchemaColumn, schema_columns};

/// The default size of a part: 8 MiB (AzCopy's default block size too).
///
/// Parts are held whole on both sides: the client builds one while the one before waits
/// in the channel and another is appended (a part is the encoded slices it holds, not a
/// copy of them); the server parses an append's rows as a window
/// and holds their batches until they are staged. Against the reference server, lineitem
/// SF 0.1 with 8 MiB parts took less wall and client CPU time than with 32 MiB, and both
/// processes' peak RSS fell by about 30 to 45 MB, most of which had been pages touched for
/// the first time (see BENCHMARKS.md, "Veracity (session 10)").
pub const DEFAULT_PART_BYTES: usize = 8 * 1024 * 1024;

/// The largest part, in MiB, the `pushdata` command line and the Python package accept
/// (`--part-mb`, `part_mb=`): half the reference server's default body limit of 512 MiB.
/// [`VeracityPush::with_part_bytes`] itself takes any size.
///
/// [`VeracityPush::with_part_bytes`]: super::VeracityPush::with_part_bytes
pub const MAX_PART_MB: usize = 256;

/// Rows encoded first, alone, to measure the bytes per row.
const FIRST_SLICE_ROWS: usize = 1024;

/// The most bytes of one slice.
const MAX_SLICE_BYTES: usize = 1 << 20;

/// The first part is cut at this share of `part_bytes` (`1 / RAMP_FIRST`), and each next
/// one at twice the one before, until parts are `part_bytes` (never below
/// [`RAMP_MIN_BYTES`]): 1, 2, 4, then 8 MiB with the default parts. The server parses
/// an upload's rows as their append arrives, so it
/// starts after a few milliseconds of encoding and then parses a part while the client
/// encodes one about twice its size.
const RAMP_FIRST: usize = 16;

/// Parts are not cut below this size while they ramp up (a part costs a request).
const RAMP_MIN_BYTES: usize = 1 << 20;

/// Guess of the bytes per value before any row was seen.
const FIRST_GUESS_PER_VALUE: usize = 16;

/// Bytes (of capacity) of slice buffers kept for reuse once their parts were appended, at
/// most: this many parts of `part_bytes` (or of [`MAX_SLICE_BYTES`], if more).
const POOLED_PARTS: usize = 4;

/// What [`CsvParts::finish`] reports about the file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CsvSummary {
    /// Data rows (the header not counted).
    pub rows: u64,
    /// Parts emitted (at least 1: a file without rows is its header).
    pub parts: u64,
    /// Bytes of the file (all parts).
    pub bytes: u64,
}

/// A received batch not yet (entirely) encoded.
#[derive(Debug)]
struct Queued {
    batch: RecordBatch,
    /// File row of its first row.
    row: u64,
    /// Rows of it already encoded.
    done: usize,
}

/// Encodes a table's batches into the CSV file of a Veracity ingest job, cut into parts of
/// at most `part_bytes` that end at row ends (format and memory below). Feed batches with
/// [`push`](CsvParts::push), end with [`finish`](CsvParts::finish); every finished part is
/// passed to `emit` as a [`CsvPart`], in order, the first
/// starting with the header.
///
/// Batches are queued until there are rows for a group of slices, so a value that cannot be
/// written may be reported by a later `push` or by `finish` (always naming its column and
/// file row).
///
/// # The file
///
/// - a header row with every column name, then one line per row, fields separated by `,`,
///   every line (the last included) ended by `\n` (LF; Veracity's Spark and .NET readers
///   accept LF and CRLF alike);
/// - RFC 4180 quoting: a field is put in double quotes when it contains `,`, `"`, CR or LF,
///   or starts or ends with a space or tab (so readers that trim unquoted fields keep it); a
///   `"` inside is doubled;
/// - **a null is an empty field; an empty string is `""`**, so the two stay apart for
///   readers that tell them apart (Spark's default `nullValue` is the empty field, its
///   `emptyValue` the quoted one);
/// - integers in decimal; floats as the shortest text that reads back to the same value
///   (`1.5`, `1e20`), non-finite ones as `NaN`, `Infinity`, `-Infinity`; decimals exact, with
///   the column's scale (`12.340`, never through a float); booleans `true` / `false`;
/// - dates `YYYY-MM-DD`; timestamps in UTC with milliseconds, `2024-05-01T12:34:56.789Z`
///   (Veracity keeps milliseconds for uploaded files): finer units are truncated toward
///   the past; a zoned timestamp is converted to UTC (Arrow stores it as UTC already); a
///   timestamp without a zone is taken to be UTC. Years outside 0000..=9999 are refused.
///
/// Column types are the ones [`schema_columns`](super::schema_columns) maps; any other is
/// refused when the encoder is made.
///
/// # Parts and memory
///
/// [`CsvParts`] queues batches until there are rows for a group of slices (several per
/// thread) and encodes the slices in parallel, each into its own buffer, with the end of
/// every row noted. A part ([`CsvPart`]) is the ordered list of the slices' rows it holds,
/// as shared views of those buffers (a slice whose rows fall into two parts is shared by
/// both): no part is copied into a buffer of its own. A part is emitted when the next row
/// would take it past `part_bytes`, so parts end at row ends, are at most `part_bytes` (a
/// single row larger than that makes a part of its own), and only the first starts with
/// the header. The first parts are smaller: a sixteenth of `part_bytes` (but at least
/// 1 MiB), and each next one twice the one before until they are `part_bytes`, so the
/// upload (and the server's parse) starts sooner. The bytes written do not depend on the
/// number of threads.
///
/// A slice's buffer lives until every part holding its rows is dropped (after the upload
/// appended them), then goes back to the encoder for a later slice, so that steady-state
/// slices are written into memory already mapped. Held at once by the encoder: the slices
/// of the part being built (at most `part_bytes`), one group of encoded slices (at most
/// about `part_bytes / 2`, and 1 MiB per slice, each with room for a sixteenth more), the
/// batches queued for one group (shared with the caller, not copied), and buffers given
/// back and not yet reused (at most `4 * part_bytes` of capacity; they are only kept when
/// the slices they held were dropped, so they replace memory that was in use anyway). A
/// part handed to `emit` holds its slices until the caller drops it: the upload appends it
/// while the next one is encoded, so memory stays flat in the file size.
#[derive(Debug)]
pub struct CsvParts {
    schema: SchemaRef,
    columns: Vec<SchemaColumn>,
    part_bytes: usize,
    /// The part being built (the header, until the first part is emitted).
    part: CsvPart,
    parts: u64,
    bytes_out: u64,
    rows_in: u64,
    rows_out: u64,
    /// Bytes and rows encoded so far (the estimate of bytes per row).
    seen_bytes: u64,
    seen_rows: u64,
    group: usize,
    queue: VecDeque<Queued>,
    queued_rows: usize,
    /// Row ends of encoded slices, for reuse (their bytes are in the parts).
    spare: Vec<Piece>,
    /// Buffers of encoded slices, given back once their parts were appended.
    pool: SlicePool,
}

impl CsvParts {
    /// An encoder of batches of `schema` into parts of at most `part_bytes` (at least 1 KiB;
    /// a single row larger than that makes a part of its own). Refuses a schema with a column
    /// that has no Veracity type (see [`schema_columns`]), naming it.
    pub fn new(schema: SchemaRef, part_bytes: usize) -> Result<Self, VeracityError> {
        let columns = schema_columns(&schema)?;
        let part_bytes = part_bytes.max(1024);
        let mut header = Vec::new();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        write_header(&names, &mut header);
        let group = (rayon::current_num_threads() * 4).clamp(4, 64);
        Ok(CsvParts {
            schema,
            columns,
            part_bytes,
            part: CsvPart::starting_with(Bytes::from(header)),
            parts: 0,
            bytes_out: 0,
            rows_in: 0,
            rows_out: 0,
            seen_bytes: 0,
            seen_rows: 0,
            group,
            queue: VecDeque::new(),
            queued_rows: 0,
            spare: Vec::new(),
            pool: SlicePool::new(
                POOLED_PARTS.saturating_mul(part_bytes.max(MAX_SLICE_BYTES)),
                slice_capacity((part_bytes / 2 / group).min(MAX_SLICE_BYTES)),
            ),
        })
    }

    /// The file's columns, as a Veracity schema would declare them (none a key), for the
    /// checks of [`check_upload`](super::check_upload).
    pub fn columns(&self) -> &[SchemaColumn] {
        &self.columns
    }

    /// Take `batch` (rows following the ones pushed before), encoding the rows received so
    /// far and emitting the parts they fill. `emit`'s error stops the encoding and is
    /// returned as is.
    pub fn push<E: From<VeracityError>>(
        &mut self,
        batch: &RecordBatch,
        mut emit: impl FnMut(CsvPart) -> Result<(), E>,
    ) -> Result<(), E> {
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
        self.encode_queued(false, &mut emit)
    }

    /// Encode what is queued and emit the last part (a file without rows is one part, its
    /// header).
    pub fn finish<E: From<VeracityError>>(
        mut self,
        mut emit: impl FnMut(CsvPart) -> Result<(), E>,
    ) -> Result<CsvSummary, E> {
        self.encode_queued(true, &mut emit)?;
        if self.part.rows() > 0 || self.parts == 0 {
            self.flush(&mut emit)?;
        }
        Ok(CsvSummary {
            rows: self.rows_out,
            parts: self.parts,
            bytes: self.bytes_out,
        })
    }

    fn check_schema(&self, batch: &RecordBatch) -> Result<(), VeracityError> {
        let got = batch.schema();
        if got.fields().len() != self.schema.fields().len() {
            return Err(VeracityError::SchemaMismatch {
                message: format!(
                    "{} columns, the file has {}",
                    got.fields().len(),
                    self.schema.fields().len()
                ),
            });
        }
        for (g, w) in got.fields().iter().zip(self.schema.fields()) {
            if g.name() != w.name() || g.data_type() != w.data_type() {
                return Err(VeracityError::SchemaMismatch {
                    message: format!(
                        "column {:?} {} where the file has {:?} {}",
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

    /// Estimated bytes per row (running average).
    fn per_row(&self) -> f64 {
        if self.seen_rows == 0 {
            (FIRST_GUESS_PER_VALUE * self.columns.len().max(1)) as f64
        } else {
            (self.seen_bytes as f64 / self.seen_rows as f64).max(1.0)
        }
    }

    fn rows_per_slice(&self) -> usize {
        if self.seen_rows == 0 {
            return FIRST_SLICE_ROWS;
        }
        // A group of slices is at most about half a part, a slice at most MAX_SLICE_BYTES.
        let target =
            (self.part_target() as f64 / 2.0 / self.group as f64).min(MAX_SLICE_BYTES as f64);
        ((target / self.per_row()) as usize).clamp(1, 1 << 20)
    }

    /// Encode queued rows in groups of slices, in parallel: while a whole group is queued,
    /// or (`all`) until the queue is empty.
    fn encode_queued<E: From<VeracityError>>(
        &mut self,
        all: bool,
        emit: &mut impl FnMut(CsvPart) -> Result<(), E>,
    ) -> Result<(), E> {
        use rayon::prelude::*;
        while self.queued_rows > 0 {
            let per = self.rows_per_slice();
            let count = if self.seen_rows == 0 { 1 } else { self.group };
            if !all && self.queued_rows < per.saturating_mul(count) {
                break;
            }
            // Cut up to `count` slices of at most `per` rows off the queue front, each with
            // the room made for it at once.
            let per_row = self.per_row();
            let mut jobs: Vec<(RecordBatch, u64, Piece, usize)> = Vec::with_capacity(count);
            let (mut entry, mut done) = (0, self.queue.front().map_or(0, |q| q.done));
            while jobs.len() < count {
                let Some(q) = self.queue.get(entry) else {
                    break;
                };
                if done >= q.batch.num_rows() {
                    entry += 1;
                    done = 0;
                    continue;
                }
                // The batch's rest in slices of equal rows: no short slice at its end, whose
                // buffer would be held (with the pages of a full slice) for a few rows.
                let rest = q.batch.num_rows() - done;
                let len = rest.div_ceil(rest.div_ceil(per));
                let capacity = slice_capacity((len as f64 * per_row) as usize);
                let mut piece = self.spare.pop().unwrap_or_default();
                piece.bytes = self.pool.take(capacity);
                let slice = q.batch.slice(done, len);
                jobs.push((slice, q.row + done as u64, piece, capacity));
                done += len;
            }
            let results: Vec<Result<(), VeracityError>> = jobs
                .par_iter_mut()
                .map(|(slice, row, piece, capacity)| {
                    encode_slice(slice, *row, &self.columns, piece, *capacity)
                })
                .collect();
            for ((slice, _, mut piece, _), result) in jobs.into_iter().zip(results) {
                result?;
                self.advance(slice.num_rows());
                self.seen_bytes += piece.bytes.len() as u64;
                self.seen_rows += slice.num_rows() as u64;
                let bytes = self.pool.share(std::mem::take(&mut piece.bytes));
                self.accept(&bytes, &piece.ends, emit)?;
                self.spare.push(piece);
            }
            // Keep the buffers of one group at most.
            self.spare.truncate(self.group);
        }
        Ok(())
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

    /// Put the rows of an encoded slice (the next rows of the file; `ends`: the end of each
    /// in `bytes`) into parts, as slices of `bytes` (no copy).
    fn accept<E: From<VeracityError>>(
        &mut self,
        bytes: &Bytes,
        ends: &[usize],
        emit: &mut impl FnMut(CsvPart) -> Result<(), E>,
    ) -> Result<(), E> {
        // Row index (into `ends`) and byte offset of the next row to put.
        let (mut next, mut start) = (0usize, 0usize);
        while next < ends.len() {
            let room = self.part_target().saturating_sub(self.part.len());
            // Rows next..fit end within the room.
            let fit = next + ends[next..].partition_point(|&e| e - start <= room);
            let take = if fit > next {
                fit
            } else if self.part.rows() == 0 {
                // One row larger than a part (with the header, if first): a part of its own.
                next + 1
            } else {
                self.flush(emit)?;
                continue;
            };
            let end = ends[take - 1];
            self.part
                .push(bytes.slice(start..end), (take - next) as u64);
            next = take;
            start = end;
            if self.part.len() >= self.part_target() {
                self.flush(emit)?;
            }
        }
        Ok(())
    }

    /// The size the part being built is cut at: the first parts ramp up to `part_bytes`
    /// (see [`RAMP_FIRST`]), so that the server starts parsing the upload while the client
    /// still encodes.
    fn part_target(&self) -> usize {
        let first = (self.part_bytes / RAMP_FIRST).max(RAMP_MIN_BYTES);
        let doublings = u32::try_from(self.parts).unwrap_or(u32::MAX);
        if doublings >= first.leading_zeros() {
            self.part_bytes
        } else {
            (first << doublings).min(self.part_bytes)
        }
    }

    fn flush<E>(&mut self, emit: &mut impl FnMut(CsvPart) -> Result<(), E>) -> Result<(), E> {
        let part = std::mem::take(&mut self.part);
        self.parts += 1;
        self.bytes_out += part.len() as u64;
        self.rows_out += part.rows();
        emit(part)
    }
}

/// The room made at once for a slice of about `bytes` (a sixteenth more, and the slack of a
/// row).
fn slice_capacity(bytes: usize) -> usize {
    bytes.saturating_add(bytes / 16).saturating_add(64)
}

#[cfg(test)]
#[path = "csv_tests.rs"]
mod tests;
