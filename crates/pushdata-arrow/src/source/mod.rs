//! Where a table's record batches come from: files (Parquet, Arrow IPC, CSV, NDJSON; one,
//! a directory of them, or a glob), iterators, async streams, or batches already in memory.
//!
//! Files are listed and read through [`InputSource`]: a location is expanded into
//! [`DataFile`](input::DataFile)s, each read by the reader of its [`FileFormat`]. A store
//! other than the local file system (an object store) plugs in at those two points: the
//! listing of a location, and the opening of one file's bytes for its format's reader.

mod files;
mod format;
mod identity;
mod input;
mod location;
#[cfg(feature = "object-store")]
mod object_parquet;
mod parquet;
mod partition;
mod readers;
mod storage_options;
#[cfg(feature = "object-store")]
mod store;
mod unify;

use std::path::PathBuf;

use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, SchemaRef};
use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::sync::mpsc;

use crate::error::Error;

pub use self::format::FileFormat;
pub use self::input::{InputError, InputOptions, InputSource};
pub(crate) use self::parquet::DEFAULT_BATCH_ROWS;
pub use self::parquet::ParquetSource;
pub use self::storage_options::StorageOptions;
pub use self::unify::SchemaDifference;

/// An iterator of batches, as a `RecordBatchReader` yields them.
pub(crate) type BatchIter = Box<dyn Iterator<Item = Result<RecordBatch, ArrowError>> + Send>;

/// An async stream of batches.
pub(crate) type BatchStream = BoxStream<'static, Result<RecordBatch, ArrowError>>;

/// An item of a batch iterator or stream: a `RecordBatch`, or a `Result` of one (as a
/// `RecordBatchReader` yields).
pub trait BatchItem: Send + 'static {
    /// The batch, or the error reading it.
    fn into_batch(self) -> Result<RecordBatch, ArrowError>;
}

impl BatchItem for RecordBatch {
    fn into_batch(self) -> Result<RecordBatch, ArrowError> {
        Ok(self)
    }
}

impl BatchItem for Result<RecordBatch, ArrowError> {
    fn into_batch(self) -> Result<RecordBatch, ArrowError> {
        self
    }
}

/// Where one table's batches come from, as given to the push builder.
pub(crate) enum Source {
    /// A Parquet file (opened when the push starts).
    Parquet(PathBuf),
    /// Files already opened (schemas read): one, a directory's or a glob's.
    Input(InputSource),
    /// A blocking iterator of batches, with their schema.
    Iter(SchemaRef, BatchIter),
    /// An async stream of batches, with their schema.
    Stream(SchemaRef, BatchStream),
    /// Batches in memory, with their schema.
    Memory(SchemaRef, Vec<RecordBatch>),
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Parquet(p) => f.debug_tuple("Parquet").field(p).finish(),
            Source::Input(i) => f.debug_tuple("Input").field(&i.location()).finish(),
            Source::Iter(s, _) => write!(f, "Iter({} columns)", s.fields().len()),
            Source::Stream(s, _) => write!(f, "Stream({} columns)", s.fields().len()),
            Source::Memory(s, b) => {
                write!(
                    f,
                    "Memory({} columns, {} batches)",
                    s.fields().len(),
                    b.len()
                )
            }
        }
    }
}

/// How a Parquet source is read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReadOptions {
    /// Rows per batch.
    pub(crate) batch_rows: usize,
    /// Row groups decoded at once.
    pub(crate) read_parallelism: usize,
}

impl Source {
    /// The file of a Parquet source.
    pub(crate) fn path(&self) -> Option<&std::path::Path> {
        match self {
            Source::Parquet(path) => Some(path),
            Source::Input(input) => Some(input.location()),
            _ => None,
        }
    }

    /// Open the source of table `table` for reading on a blocking thread: its schema and
    /// its batches. A Parquet file's metadata is read here (off the async threads); a
    /// stream is forwarded by a task into a bounded channel the reader receives from.
    pub(crate) async fn open(
        self,
        table: &str,
        options: ReadOptions,
    ) -> Result<(SchemaRef, TableReader), Error> {
        Ok(match self {
            Source::Parquet(path) => {
                let name = table.to_string();
                let file = tokio::task::spawn_blocking(move || {
                    ParquetSource::open(&name, path).map(|p| {
                        p.with_batch_rows(options.batch_rows)
                            .with_read_parallelism(options.read_parallelism)
                    })
                })
                .await
                .map_err(|source| Error::Task {
                    task: "reading Parquet metadata".into(),
                    source,
                })??;
                (file.schema(), TableReader::Parquet(file))
            }
            Source::Input(input) => (input.schema(), TableReader::Input(input, options)),
            Source::Iter(schema, batches) => (schema, TableReader::Batches(batches)),
            Source::Stream(schema, stream) => {
                let mut rx = forward_stream(stream);
                let batches: BatchIter = Box::new(std::iter::from_fn(move || rx.blocking_recv()));
                (schema, TableReader::Batches(batches))
            }
            Source::Memory(schema, batches) => (
                schema,
                TableReader::Batches(Box::new(batches.into_iter().map(Ok))),
            ),
        })
    }
}

/// An opened [`Source`]: read it with [`TableReader::read`] on a blocking thread.
pub(crate) enum TableReader {
    /// Row groups decoded in parallel, in file order.
    Parquet(ParquetSource),
    /// Files read one after the other, each by its format's reader.
    Input(InputSource, ReadOptions),
    /// Batches from an iterator, an async stream (through a channel) or memory.
    Batches(BatchIter),
}

impl std::fmt::Debug for TableReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TableReader::Parquet(p) => f.debug_tuple("Parquet").field(&p.path()).finish(),
            TableReader::Input(i, _) => f.debug_tuple("Input").field(&i.location()).finish(),
            TableReader::Batches(_) => f.write_str("Batches"),
        }
    }
}

impl TableReader {
    /// Pass every batch of table `table` to `f`, in order; stops at the first error
    /// (including one returned by `f`). Blocks: call it off the async threads.
    pub(crate) fn read(
        self,
        table: &str,
        f: &mut dyn FnMut(RecordBatch) -> Result<(), Error>,
    ) -> Result<(), Error> {
        match self {
            TableReader::Parquet(p) => p.read(f),
            TableReader::Input(input, options) => input.read(options, f),
            TableReader::Batches(batches) => {
                for b in batches {
                    f(b.map_err(|source| Error::Arrow {
                        table: table.to_string(),
                        source,
                    })?)?;
                }
                Ok(())
            }
        }
    }
}

/// Forward an async stream into a bounded channel that a blocking thread receives from.
fn forward_stream(mut stream: BatchStream) -> mpsc::Receiver<Result<RecordBatch, ArrowError>> {
    let (tx, rx) = mpsc::channel(2);
    tokio::spawn(async move {
        while let Some(item) = stream.next().await {
            let stop = item.is_err();
            if tx.send(item).await.is_err() || stop {
                break;
            }
        }
    });
    rx
}
