//! Where a table's record batches come from: Parquet files, iterators, async streams, or
//! batches already in memory.

mod parquet;

use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, SchemaRef};
use futures::stream::BoxStream;

pub use self::parquet::{DEFAULT_BATCH_ROWS, ParquetSource};

/// An iterator of batches, as a `RecordBatchReader` yields them.
pub type BatchIter = Box<dyn Iterator<Item = Result<RecordBatch, ArrowError>> + Send>;

/// An async stream of batches.
pub type BatchStream = BoxStream<'static, Result<RecordBatch, ArrowError>>;

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

/// The batches of one table.
pub enum Source {
    /// A Parquet file (opened when the push starts).
    Parquet(std::path::PathBuf),
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
