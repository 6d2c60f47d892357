//! The grouped rows of an instance, in batches of [`RESULT_BATCH_ROWS`] rows read page by
//! page (a page reads only the batches it covers): kept in memory while the server's
//! budget for instance results allows ([`Instances`](super::Instances) holds it), else
//! written once to an Arrow IPC file.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use arrow_ipc::writer::FileWriter;
use arrow_schema::SchemaRef;

use super::error::{CubeError, Result};
use crate::budget::{Budget, Charge};

/// Rows per batch of an instance's result (the unit a page read skips by).
pub(crate) const RESULT_BATCH_ROWS: usize = 8192;

/// What an Arrow error of writing is wrapped with.
const WRITING: &str = "writing a cube instance";

/// What an Arrow error of reading is wrapped with.
const READING: &str = "reading a cube instance";

/// Where the rows are.
#[derive(Debug)]
enum Rows {
    /// In memory, charged on the instances' budget.
    Memory {
        /// The batches.
        batches: Vec<RecordBatch>,
        /// Their bytes, given back when the instance goes.
        _charges: Vec<Charge>,
    },
    /// In an Arrow IPC file.
    File(PathBuf),
}

/// The grouped rows of an instance.
#[derive(Debug)]
pub(crate) struct ResultFile {
    /// The rows.
    rows: Rows,
    /// Row offset of each batch.
    pub(super) starts: Vec<u64>,
    /// Rows in all.
    pub(crate) total: u64,
}

/// The batches being written: in memory until `budget` refuses one, then in the file.
struct Writer<'a> {
    /// The schema of the batches.
    schema: &'a SchemaRef,
    /// The file, when the rows go there.
    path: &'a Path,
    /// The memory the batches held may use.
    budget: &'a Budget,
    /// The batches held in memory (none once in the file).
    held: Vec<RecordBatch>,
    /// Their charges.
    charges: Vec<Charge>,
    /// The file's writer, once the budget refused a batch.
    file: Option<FileWriter<BufWriter<File>>>,
    /// Row offset of each batch.
    starts: Vec<u64>,
    /// Rows so far.
    total: u64,
}

impl Writer<'_> {
    /// Add `b` (of the schema), in parts of at most [`RESULT_BATCH_ROWS`] rows.
    fn add(&mut self, b: RecordBatch) -> Result<()> {
        if self.file.is_none() {
            match self.budget.try_charge(b.get_array_memory_size()) {
                Some(c) => self.charges.push(c),
                None => self.spill_to_file()?,
            }
        }
        let mut off = 0;
        while off < b.num_rows() {
            let len = RESULT_BATCH_ROWS.min(b.num_rows() - off);
            let part = b.slice(off, len);
            let part = RecordBatch::try_new(self.schema.clone(), part.columns().to_vec())
                .map_err(CubeError::arrow(WRITING))?;
            match &mut self.file {
                Some(w) => w.write(&part).map_err(CubeError::arrow(WRITING))?,
                None => self.held.push(part),
            }
            self.starts.push(self.total);
            self.total += len as u64;
            off += len;
        }
        Ok(())
    }

    /// Move the batches held into the file, and write further batches there.
    fn spill_to_file(&mut self) -> Result<()> {
        tracing::debug!(path = %self.path.display(), "cube instance result over the memory budget: written to a file");
        let f = File::create(self.path).map_err(CubeError::io("creating", self.path))?;
        let mut w = FileWriter::try_new(BufWriter::new(f), self.schema)
            .map_err(CubeError::arrow(WRITING))?;
        for b in self.held.drain(..) {
            w.write(&b).map_err(CubeError::arrow(WRITING))?;
        }
        self.charges.clear();
        self.file = Some(w);
        Ok(())
    }

    /// The rows written.
    fn finish(self) -> Result<ResultFile> {
        let rows = match self.file {
            Some(mut w) => {
                w.finish().map_err(CubeError::arrow(WRITING))?;
                Rows::File(self.path.to_path_buf())
            }
            None => Rows::Memory {
                batches: self.held,
                _charges: self.charges,
            },
        };
        Ok(ResultFile {
            rows,
            starts: self.starts,
            total: self.total,
        })
    }
}

impl ResultFile {
    /// Keep the batches `fill` hands its sink (as `schema`, in batches of at most
    /// [`RESULT_BATCH_ROWS`] rows): in memory while `budget` allows, else all in a file
    /// at `path`.
    pub(crate) fn write(
        path: &Path,
        schema: &SchemaRef,
        budget: &Budget,
        fill: impl FnOnce(&mut dyn FnMut(RecordBatch) -> Result<()>) -> Result<()>,
    ) -> Result<Self> {
        let mut w = Writer {
            schema,
            path,
            budget,
            held: Vec::new(),
            charges: Vec::new(),
            file: None,
            starts: Vec::new(),
            total: 0,
        };
        fill(&mut |b| w.add(b))?;
        w.finish()
    }

    /// Whether the rows are in a file (not in memory).
    #[cfg(test)]
    pub(crate) fn in_file(&self) -> bool {
        matches!(self.rows, Rows::File(_))
    }

    /// Rows `offset..offset + limit` (fewer at the end).
    pub(crate) fn read(&self, offset: u64, limit: u64) -> Result<Vec<RecordBatch>> {
        let end = offset.saturating_add(limit).min(self.total);
        if offset >= end {
            return Ok(Vec::new());
        }
        let first = self
            .starts
            .partition_point(|s| *s <= offset)
            .saturating_sub(1);
        let start = self.starts.get(first).copied().unwrap_or(0);
        match &self.rows {
            Rows::Memory { batches, .. } => {
                let from = batches.iter().skip(first).cloned().map(Ok);
                cut(from, start, offset, end).map_err(CubeError::arrow(READING))
            }
            Rows::File(path) => {
                let f = File::open(path).map_err(CubeError::io("opening", path))?;
                let mut r = arrow_ipc::reader::FileReader::try_new(BufReader::new(f), None)
                    .map_err(CubeError::arrow(READING))?;
                r.set_index(first).map_err(CubeError::arrow(READING))?;
                cut(r, start, offset, end).map_err(CubeError::arrow(READING))
            }
        }
    }
}

/// Rows `offset..end` of `batches`, whose first starts at row `start`.
fn cut(
    batches: impl Iterator<Item = std::result::Result<RecordBatch, arrow_schema::ArrowError>>,
    mut start: u64,
    offset: u64,
    end: u64,
) -> std::result::Result<Vec<RecordBatch>, arrow_schema::ArrowError> {
    let mut out = Vec::new();
    for b in batches {
        if start >= end {
            break;
        }
        let b = b?;
        let n = b.num_rows() as u64;
        let lo = offset.max(start) - start;
        let hi = end.min(start + n) - start;
        if hi > lo {
            out.push(b.slice(lo as usize, (hi - lo) as usize));
        }
        start += n;
    }
    Ok(out)
}
