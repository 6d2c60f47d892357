//! A Parquet file as a source of record batches, row groups decoded in parallel, in order.

use std::collections::VecDeque;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};

use super::identity::FileIdentity;
use super::location::FileLocation;
use crate::error::{Error, Result};

/// Decoded batches a row group's decoder may run ahead of the consumer.
const BATCHES_AHEAD: usize = 4;

/// Rows per record batch read from Parquet (default).
pub(crate) const DEFAULT_BATCH_ROWS: usize = 8192;

/// A Parquet file opened for reading: its metadata and Arrow schema are loaded once. Use it
/// to see a file's schema and row count before pushing it (for example to check its model
/// with [`infer_model`](crate::infer_model)).
///
/// A push reads it by decoding up to `read_parallelism` row groups at a time in parallel
/// and streaming their batches on in file order, so memory holds a few decoded batches per
/// row group being decoded, never whole row groups.
#[derive(Debug, Clone)]
pub struct ParquetSource {
    table: String,
    path: PathBuf,
    metadata: ArrowReaderMetadata,
    /// The local file as it was opened (`None` for an object, or where the system does
    /// not say): each row group checks that the path still names it.
    identity: Option<FileIdentity>,
    /// The object the file is, when it is one (read in ranges by parquet's async reader).
    #[cfg(feature = "object-store")]
    object: Option<super::location::ObjectFile>,
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
            identity: FileIdentity::of(&file).ok(),
            #[cfg(feature = "object-store")]
            object: None,
            batch_rows: DEFAULT_BATCH_ROWS,
            read_parallelism: 2,
        })
    }

    /// Open the file (or object) at `location` for table `table` and read its metadata:
    /// an object's footer is fetched by ranged reads, never the whole object.
    pub(crate) fn open_at(table: &str, location: &FileLocation) -> Result<Self> {
        #[cfg(feature = "object-store")]
        if let Some(object) = &location.object {
            let metadata = super::object_parquet::load_metadata(object)
                .map_err(|e| e.into_error(table, location.path()))?;
            return Ok(ParquetSource {
                table: table.to_string(),
                path: location.path().to_path_buf(),
                metadata,
                identity: None,
                object: Some(object.clone()),
                batch_rows: DEFAULT_BATCH_ROWS,
                read_parallelism: 2,
            });
        }
        ParquetSource::open(table, location.path())
    }

    /// Rows per batch (default [`DEFAULT_BATCH_ROWS`]).
    pub(crate) fn with_batch_rows(mut self, rows: usize) -> Self {
        self.batch_rows = rows.max(1);
        self
    }

    /// Row groups decoded at once (default 2).
    pub(crate) fn with_read_parallelism(mut self, n: usize) -> Self {
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

    /// Whether `file` (just opened at the path) is still the file this source opened:
    /// else [`Error::FileChanged`].
    fn unchanged(&self, file: &File) -> Result<()> {
        match (&self.identity, FileIdentity::of(file)) {
            (Some(opened), Ok(now)) if *opened != now => Err(self.changed()),
            _ => Ok(()),
        }
    }

    fn changed(&self) -> Error {
        Error::FileChanged {
            table: self.table.clone(),
            path: self.path.clone(),
        }
    }

    /// Decode row group `group`, sending its batches one by one to `tx` (blocks while the
    /// channel is full; stops when the receiver is gone).
    fn decode_row_group(&self, group: usize, tx: SyncSender<Result<RecordBatch>>) {
        #[cfg(feature = "object-store")]
        if let Some(object) = &self.object {
            let builder = super::object_parquet::RowGroupRead {
                object,
                metadata: &self.metadata,
                group,
                batch_rows: self.batch_rows,
            };
            let fail = |e: super::object_parquet::ObjectParquetError| {
                e.into_error(&self.table, &self.path)
            };
            return builder.send(tx, fail);
        }
        let reader = File::open(&self.path)
            .map_err(|source| Error::Io {
                table: self.table.clone(),
                path: self.path.clone(),
                source,
            })
            .and_then(|file| self.unchanged(&file).map(|()| file))
            .and_then(|file| {
                ParquetRecordBatchReaderBuilder::new_with_metadata(file, self.metadata.clone())
                    .with_row_groups(vec![group])
                    .with_batch_size(self.batch_rows)
                    .build()
                    .map_err(|e| self.parquet_err(e))
            });
        let reader = match reader {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        };
        for b in reader {
            // A row group that cannot be read (a corrupt page, or a file cut short since
            // its footer was read) names the file.
            let b = b.map_err(|source| {
                self.parquet_err(parquet::errors::ParquetError::External(Box::new(source)))
            });
            let stop = b.is_err();
            if tx.send(b).is_err() || stop {
                return;
            }
        }
    }

    /// Read every batch in file order, passing each to `f`; stops at the first error
    /// (including one returned by `f`).
    ///
    /// Up to `read_parallelism` row groups are decoded at once, each on its own thread,
    /// streaming its batches through a channel of `BATCHES_AHEAD` (4) batches: decoding
    /// overlaps the caller's work, and memory holds at most
    /// `read_parallelism × BATCHES_AHEAD` decoded batches, whatever the row group size.
    pub(crate) fn read(&self, f: &mut dyn FnMut(RecordBatch) -> Result<()>) -> Result<()> {
        let groups = self.num_row_groups();
        std::thread::scope(|scope| {
            let mut window: VecDeque<Receiver<Result<RecordBatch>>> = VecDeque::new();
            let mut next = 0;
            loop {
                while window.len() < self.read_parallelism && next < groups {
                    let (tx, rx) = sync_channel(BATCHES_AHEAD);
                    let group = next;
                    scope.spawn(move || self.decode_row_group(group, tx));
                    window.push_back(rx);
                    next += 1;
                }
                let Some(rx) = window.pop_front() else {
                    // A change after the last row group was opened is still this push's.
                    return match (&self.identity, FileIdentity::at(&self.path)) {
                        (Some(opened), Ok(now)) if *opened != now => Err(self.changed()),
                        _ => Ok(()),
                    };
                };
                // On an error, returning drops the receivers: the decoders stop at their
                // next send and the scope joins them.
                for b in rx {
                    f(b?)?;
                }
            }
        })
    }
}
