//! A Parquet file as a source of record batches, row groups decoded in parallel, in order.

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use rayon::prelude::*;

use crate::error::{Error, Result};

/// Rows per record batch read from Parquet (default).
pub const DEFAULT_BATCH_ROWS: usize = 8192;

/// A Parquet file opened for reading: its metadata and Arrow schema are loaded once.
///
/// [`ParquetSource::read`] decodes up to `read_parallelism` row groups at a time in
/// parallel (rayon) and hands their batches on in file order, so memory holds at most that
/// many decoded row groups.
#[derive(Debug, Clone)]
pub struct ParquetSource {
    table: String,
    path: PathBuf,
    metadata: ArrowReaderMetadata,
    batch_rows: usize,
    read_parallelism: usize,
}

impl ParquetSource {
    /// Open `path` for table `table` (the name is used in errors) and read its metadata.
    pub fn open(table: &str, path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = File::open(&path).map_err(|source| Error::Io {
            table: table.to_string(),
            path: path.clone(),
            source,
        })?;
        let metadata =
            ArrowReaderMetadata::load(&file, ArrowReaderOptions::default()).map_err(|source| {
                Error::Parquet {
                    table: table.to_string(),
                    path: path.clone(),
                    source,
                }
            })?;
        Ok(ParquetSource {
            table: table.to_string(),
            path,
            metadata,
            batch_rows: DEFAULT_BATCH_ROWS,
            read_parallelism: 2,
        })
    }

    /// Rows per batch (default [`DEFAULT_BATCH_ROWS`]).
    pub fn with_batch_rows(mut self, rows: usize) -> Self {
        self.batch_rows = rows.max(1);
        self
    }

    /// Row groups decoded at once (default 2).
    pub fn with_read_parallelism(mut self, n: usize) -> Self {
        self.read_parallelism = n.max(1);
        self
    }

    /// The file's Arrow schema.
    pub fn schema(&self) -> SchemaRef {
        self.metadata.schema().clone()
    }

    /// Number of rows in the file.
    pub fn num_rows(&self) -> u64 {
        u64::try_from(self.metadata.metadata().file_metadata().num_rows()).unwrap_or(0)
    }

    /// Number of row groups.
    pub fn num_row_groups(&self) -> usize {
        self.metadata.metadata().num_row_groups()
    }

    /// The file path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn parquet_err(&self, source: parquet::errors::ParquetError) -> Error {
        Error::Parquet {
            table: self.table.clone(),
            path: self.path.clone(),
            source,
        }
    }

    fn read_row_group(&self, group: usize) -> Result<Vec<RecordBatch>> {
        let file = File::open(&self.path).map_err(|source| Error::Io {
            table: self.table.clone(),
            path: self.path.clone(),
            source,
        })?;
        let reader =
            ParquetRecordBatchReaderBuilder::new_with_metadata(file, self.metadata.clone())
                .with_row_groups(vec![group])
                .with_batch_size(self.batch_rows)
                .build()
                .map_err(|e| self.parquet_err(e))?;
        reader
            .map(|b| {
                b.map_err(|source| Error::Arrow {
                    table: self.table.clone(),
                    source,
                })
            })
            .collect()
    }

    /// Read every batch in file order, passing each to `f`; stops at the first error
    /// (including one returned by `f`).
    pub fn read(&self, f: &mut dyn FnMut(RecordBatch) -> Result<()>) -> Result<()> {
        let groups: Vec<usize> = (0..self.num_row_groups()).collect();
        for window in groups.chunks(self.read_parallelism) {
            let decoded: Vec<Result<Vec<RecordBatch>>> =
                window.par_iter().map(|g| self.read_row_group(*g)).collect();
            for batches in decoded {
                for b in batches? {
                    f(b)?;
                }
            }
        }
        Ok(())
    }
}
