//! A Parquet object read by parquet's async reader: the footer, then each row group's
//! column chunks, fetched by ranged reads of the object as it was listed (its ETag);
//! never the whole object.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use arrow_array::RecordBatch;
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use object_store::OBJECT_STORE_COALESCE_DEFAULT;
use parquet::arrow::ParquetRecordBatchStreamBuilder;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use parquet::arrow::async_reader::{AsyncFileReader, SpawnedReader};
use parquet::errors::ParquetError;
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};

use super::location::{ObjectFile, is_changed_object};
use super::store::{block_on, io_handle};
use crate::error::{Error, Result};

/// What failed reading a Parquet object.
#[derive(Debug)]
pub(crate) enum ObjectParquetError {
    /// The object-store runtime could not start.
    Io(std::io::Error),
    /// Fetching or decoding the object.
    Parquet(ParquetError),
}

impl ObjectParquetError {
    /// As the crate's error for table `table` and the object at `path` (its URL): an object
    /// rewritten since it was listed is [`Error::FileChanged`].
    pub(crate) fn into_error(self, table: &str, path: &Path) -> Error {
        let changed = match &self {
            ObjectParquetError::Io(e) => is_changed_object(e),
            ObjectParquetError::Parquet(e) => is_changed_object(e),
        };
        if changed {
            return Error::FileChanged {
                table: table.to_string(),
                path: path.to_path_buf(),
            };
        }
        match self {
            ObjectParquetError::Io(source) => Error::Io {
                table: table.to_string(),
                path: path.to_path_buf(),
                source,
            },
            ObjectParquetError::Parquet(source) => Error::Parquet {
                table: table.to_string(),
                path: path.to_path_buf(),
                source,
            },
        }
    }
}

/// An object as parquet's async reader reads a file: ranged GETs of the version listed
/// (several ranges of a row group fetched together, coalesced as `object_store` does).
#[derive(Clone, Debug)]
struct ObjectReader(ObjectFile);

fn store_error(e: object_store::Error) -> ParquetError {
    ParquetError::External(Box::new(e))
}

impl AsyncFileReader for ObjectReader {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
        let o = &self.0;
        async move { o.read_range(range).await.map_err(store_error) }.boxed()
    }

    fn get_byte_ranges(
        &mut self,
        ranges: Vec<Range<u64>>,
    ) -> BoxFuture<'_, parquet::errors::Result<Vec<Bytes>>> {
        let o = &self.0;
        async move {
            let fetch = |range| o.read_range(range);
            object_store::coalesce_ranges(&ranges, fetch, OBJECT_STORE_COALESCE_DEFAULT)
                .await
                .map_err(store_error)
        }
        .boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        _options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, parquet::errors::Result<Arc<ParquetMetaData>>> {
        let size = self.0.size;
        async move {
            let metadata = ParquetMetaDataReader::new()
                .load_and_finish(self, size)
                .await?;
            Ok(Arc::new(metadata))
        }
        .boxed()
    }
}

/// The async reader of `object`, its I/O spawned on the object-store runtime.
fn reader(
    object: &ObjectFile,
) -> std::result::Result<SpawnedReader<ObjectReader>, ObjectParquetError> {
    let handle = io_handle().map_err(ObjectParquetError::Io)?;
    Ok(SpawnedReader::new(ObjectReader(object.clone()), handle))
}

/// The object's metadata and Arrow schema, from its footer.
pub(crate) fn load_metadata(
    object: &ObjectFile,
) -> std::result::Result<ArrowReaderMetadata, ObjectParquetError> {
    let mut reader = reader(object)?;
    block_on(ArrowReaderMetadata::load_async(
        &mut reader,
        ArrowReaderOptions::default(),
    ))
    .map_err(ObjectParquetError::Io)?
    .map_err(ObjectParquetError::Parquet)
}

/// One row group of a Parquet object, decoded into batches of `batch_rows` rows.
pub(crate) struct RowGroupRead<'a> {
    /// The object.
    pub(crate) object: &'a ObjectFile,
    /// Its metadata, as loaded once.
    pub(crate) metadata: &'a ArrowReaderMetadata,
    /// The row group.
    pub(crate) group: usize,
    /// Rows per batch.
    pub(crate) batch_rows: usize,
}

impl RowGroupRead<'_> {
    /// Decode the row group, passing its batches one by one to `send`, which returns
    /// whether to go on; stops at the first error, which is sent as `fail` makes it.
    /// Returns whether the row group was read to its end.
    pub(crate) fn send(
        self,
        send: &mut dyn FnMut(Result<RecordBatch>) -> bool,
        fail: impl Fn(ObjectParquetError) -> Error,
    ) -> bool {
        let stream = reader(self.object).and_then(|r| {
            ParquetRecordBatchStreamBuilder::new_with_metadata(r, self.metadata.clone())
                .with_row_groups(vec![self.group])
                .with_batch_size(self.batch_rows)
                .build()
                .map_err(ObjectParquetError::Parquet)
        });
        let mut stream = match stream {
            Ok(s) => s,
            Err(e) => {
                send(Err(fail(e)));
                return false;
            }
        };
        loop {
            let next = match block_on(stream.next()) {
                Ok(None) => return true,
                Ok(Some(batch)) => batch.map_err(ObjectParquetError::Parquet),
                Err(e) => Err(ObjectParquetError::Io(e)),
            };
            let stop = next.is_err();
            if !send(next.map_err(&fail)) || stop {
                return false;
            }
        }
    }
}
