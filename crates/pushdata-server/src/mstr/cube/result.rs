//! The grouped rows of an instance: an Arrow IPC file written once in batches of
//! [`RESULT_BATCH_ROWS`] rows and read page by page (a page reads only the batches it
//! covers).

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use arrow_ipc::writer::FileWriter;
use arrow_schema::SchemaRef;

use super::error::{CubeError, Result};

/// Rows per batch of an instance's result file (the unit a page read skips by).
pub(crate) const RESULT_BATCH_ROWS: usize = 8192;

/// What an Arrow error of writing is wrapped with.
const WRITING: &str = "writing a cube instance";

/// What an Arrow error of reading is wrapped with.
const READING: &str = "reading a cube instance";

/// The grouped rows of an instance, in an Arrow IPC file.
#[derive(Debug)]
pub(crate) struct ResultFile {
    /// The Arrow IPC file.
    path: PathBuf,
    /// Row offset of each batch.
    pub(super) starts: Vec<u64>,
    /// Rows in all.
    pub(crate) total: u64,
}

impl ResultFile {
    /// Write the batches `fill` hands its sink to `path` (as `schema`, in batches of at most
    /// [`RESULT_BATCH_ROWS`] rows).
    pub(crate) fn write(
        path: &Path,
        schema: &SchemaRef,
        fill: impl FnOnce(&mut dyn FnMut(RecordBatch) -> Result<()>) -> Result<()>,
    ) -> Result<Self> {
        let f = File::create(path).map_err(CubeError::io("creating", path))?;
        let mut w =
            FileWriter::try_new(BufWriter::new(f), schema).map_err(CubeError::arrow(WRITING))?;
        let mut starts = Vec::new();
        let mut total = 0u64;
        fill(&mut |b: RecordBatch| {
            let mut off = 0;
            while off < b.num_rows() {
                let len = RESULT_BATCH_ROWS.min(b.num_rows() - off);
                let part = b.slice(off, len);
                let part = RecordBatch::try_new(schema.clone(), part.columns().to_vec())
                    .map_err(CubeError::arrow(WRITING))?;
                w.write(&part).map_err(CubeError::arrow(WRITING))?;
                starts.push(total);
                total += len as u64;
                off += len;
            }
            Ok(())
        })?;
        w.finish().map_err(CubeError::arrow(WRITING))?;
        Ok(ResultFile {
            path: path.to_path_buf(),
            starts,
            total,
        })
    }

    /// Rows `offset..offset + limit` (fewer at the end).
    pub(crate) fn read(&self, offset: u64, limit: u64) -> Result<Vec<RecordBatch>> {
        let end = offset.saturating_add(limit).min(self.total);
        if offset >= end {
            return Ok(Vec::new());
        }
        let f = File::open(&self.path).map_err(CubeError::io("opening", &self.path))?;
        let mut r = arrow_ipc::reader::FileReader::try_new(BufReader::new(f), None)
            .map_err(CubeError::arrow(READING))?;
        let first = self
            .starts
            .partition_point(|s| *s <= offset)
            .saturating_sub(1);
        let mut out = Vec::new();
        r.set_index(first).map_err(CubeError::arrow(READING))?;
        let mut start = self.starts.get(first).copied().unwrap_or(0);
        while start < end {
            let Some(b) = r.next() else { break };
            let b = b.map_err(CubeError::arrow(READING))?;
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
}
