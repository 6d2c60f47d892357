//! Durable file primitives: atomic JSON writes (temp file, fsync, rename, dir fsync) and
//! Parquet table files (version files and staged chunks).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::ArrowSchemaConverter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::arrow_writer::{ArrowColumnWriter, ArrowRowGroupWriterFactory, compute_leaves};
use parquet::arrow::{ArrowWriter, ProjectionMask};
use parquet::basic::{Compression, Encoding, Type as PhysicalType};
use parquet::errors::ParquetError;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::writer::SerializedFileWriter;
use serde::Serialize;

use super::error::{Result, StoreError};

/// fsync a directory so a rename inside it is durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        let d = File::open(dir).map_err(|e| StoreError::io("opening to fsync", dir, e))?;
        d.sync_all()
            .map_err(|e| StoreError::io("fsync of", dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Write `value` as JSON to `path` atomically: a crash leaves either the old or the new
/// file, never a torn one.
pub(crate) fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(value).map_err(|source| StoreError::Json {
        op: "serializing",
        path: path.to_path_buf(),
        source,
    })?;
    write_file_atomic(path, &bytes, false)
}

/// Write `bytes` to `path` atomically (temp file, fsync, rename, directory fsync): a crash
/// leaves either the old or the new file, never a torn one. A `private` file is readable
/// by its owner only (Unix), from its creation on.
pub(crate) fn write_file_atomic(path: &Path, bytes: &[u8], private: bool) -> Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| StoreError::io("writing", path, std::io::ErrorKind::InvalidInput.into()))?;
    let tmp = path.with_extension(format!("tmp-{}", crate::ids::new_token()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let written = options
        .open(&tmp)
        .map_err(|e| StoreError::io("creating", &tmp, e))
        .and_then(|mut f| {
            f.write_all(bytes)
                .map_err(|e| StoreError::io("writing", &tmp, e))?;
            f.sync_all()
                .map_err(|e| StoreError::io("fsync of", &tmp, e))
        })
        .and_then(|()| {
            std::fs::rename(&tmp, path)
                .map_err(|e| StoreError::io("renaming a new version onto", path, e))
        });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    sync_dir(dir)
}

/// Remove what interrupted [`write_file_atomic`] calls left in `dir` (its
/// `<name>.tmp-<token>` files).
pub(crate) fn remove_temporary_files(dir: &Path) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in rd.flatten() {
        if entry.file_name().to_string_lossy().contains(".tmp-") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// How table files are written, chosen for the speed of staging and publishing (measured
/// with `benches/bulk_load.rs`): no dictionary encoding (hashing every value was the
/// largest single cost of a publish) and no statistics (a comparison per value; this server
/// reads whole files). Columns of 32- and 64-bit Parquet integers (integers, dates, times,
/// timestamps, decimals of up to 18 digits) are delta bit-packed and not compressed
/// further: smaller than snappy makes them, for a fraction of its time (snappy was about a
/// quarter of the server's CPU time of a push). Other columns (strings, floats, booleans)
/// are plain and snappy-compressed (lz4_flex's LZ4_RAW was slower here).
fn table_file_properties(
    schema: &SchemaRef,
) -> std::result::Result<WriterProperties, ParquetError> {
    let parquet = ArrowSchemaConverter::new().convert(schema)?;
    let mut props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_dictionary_enabled(false)
        .set_statistics_enabled(EnabledStatistics::None);
    for column in parquet.columns() {
        if matches!(
            column.physical_type(),
            PhysicalType::INT32 | PhysicalType::INT64
        ) {
            props = props
                .set_column_encoding(column.path().clone(), Encoding::DELTA_BINARY_PACKED)
                .set_column_compression(column.path().clone(), Compression::UNCOMPRESSED);
        }
    }
    Ok(props.build())
}

/// Rows of a row group of a table file.
const ROW_GROUP_ROWS: usize = 1 << 20;

/// Writes a Parquet table file ([`table_file_properties`]) and fsyncs it on finish.
///
/// The columns of each batch are encoded in parallel on the rayon pool (one
/// [`ArrowColumnWriter`] per column, as arrow-rs documents for parallel writing); a row
/// group is closed every 1 Mi rows. Memory: the encoded, compressed pages of
/// the row group being written.
pub(crate) struct ParquetSink {
    file: SerializedFileWriter<BufWriter<File>>,
    factory: ArrowRowGroupWriterFactory,
    schema: SchemaRef,
    /// The column writers of the open row group.
    writers: Option<Vec<ArrowColumnWriter>>,
    group_rows: usize,
    groups: usize,
    path: std::path::PathBuf,
}

impl ParquetSink {
    /// Create `path` for batches of `schema`.
    pub(crate) fn create(path: &Path, schema: SchemaRef) -> Result<Self> {
        let f = File::create(path).map_err(|e| StoreError::io("creating", path, e))?;
        let err = |e| StoreError::parquet("opening", path, e);
        let props = table_file_properties(&schema).map_err(err)?;
        // The high-level writer embeds the Arrow schema in the file's metadata; its parts
        // are then driven column by column.
        let (file, factory) = ArrowWriter::try_new(
            BufWriter::with_capacity(1 << 20, f),
            schema.clone(),
            Some(props),
        )
        .and_then(|w| w.into_serialized_writer())
        .map_err(err)?;
        Ok(ParquetSink {
            file,
            factory,
            schema,
            writers: None,
            group_rows: 0,
            groups: 0,
            path: path.to_path_buf(),
        })
    }

    fn err(&self) -> impl Fn(ParquetError) -> StoreError + '_ {
        move |e| StoreError::parquet("writing", &self.path, e)
    }

    /// Append a batch.
    pub(crate) fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let n = batch.num_rows();
        let mut offset = 0;
        while offset < n {
            let len = (ROW_GROUP_ROWS - self.group_rows).min(n - offset);
            self.write_to_group(&batch.slice(offset, len))?;
            offset += len;
            if self.group_rows >= ROW_GROUP_ROWS {
                self.close_group()?;
            }
        }
        Ok(())
    }

    fn write_to_group(&mut self, batch: &RecordBatch) -> Result<()> {
        use rayon::prelude::*;
        let mut leaves = Vec::with_capacity(batch.num_columns());
        for (field, array) in self.schema.fields().iter().zip(batch.columns()) {
            leaves.extend(compute_leaves(field, array).map_err(self.err())?);
        }
        let mut writers = match self.writers.take() {
            Some(w) => w,
            None => self
                .factory
                .create_column_writers(self.groups)
                .map_err(self.err())?,
        };
        if writers.len() != leaves.len() {
            return Err(StoreError::parquet(
                "writing",
                &self.path,
                ParquetError::General(format!(
                    "{} column writers for {} leaf columns",
                    writers.len(),
                    leaves.len()
                )),
            ));
        }
        let result = writers
            .par_iter_mut()
            .zip(leaves.into_par_iter())
            .try_for_each(|(w, leaf)| w.write(&leaf));
        self.writers = Some(writers);
        result.map_err(self.err())?;
        self.group_rows += batch.num_rows();
        Ok(())
    }

    fn close_group(&mut self) -> Result<()> {
        use rayon::prelude::*;
        let Some(writers) = self.writers.take() else {
            return Ok(());
        };
        let chunks = writers
            .into_par_iter()
            .map(ArrowColumnWriter::close)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(self.err())?;
        let path = self.path.clone();
        let err = |e| StoreError::parquet("writing", &path, e);
        let mut group = self.file.next_row_group().map_err(err)?;
        for c in chunks {
            c.append_to_row_group(&mut group).map_err(err)?;
        }
        group.close().map_err(err)?;
        self.groups += 1;
        self.group_rows = 0;
        Ok(())
    }

    /// Finish the file and fsync it.
    pub(crate) fn finish(self) -> Result<()> {
        self.finish_with(|| ())
    }

    /// As [`finish`](Self::finish), calling `written` once the file's bytes are handed to
    /// the system and this sink's buffers are freed, before the fsync (which may take tens
    /// of milliseconds on a disk).
    pub(crate) fn finish_with(mut self, written: impl FnOnce()) -> Result<()> {
        if self.group_rows > 0 {
            self.close_group()?;
        }
        let path = self.path;
        let buf = self
            .file
            .into_inner()
            .map_err(|e| StoreError::parquet("finishing", &path, e))?;
        let f = buf
            .into_inner()
            .map_err(|e| StoreError::io("flushing", &path, e.into_error()))?;
        written();
        f.sync_all()
            .map_err(|e| StoreError::io("fsync of", path, e))
    }
}

/// Batches of a Parquet file, read lazily, with the types as stored.
pub(crate) fn read_stored_parquet(
    path: &Path,
) -> Result<impl Iterator<Item = Result<RecordBatch>> + use<>> {
    read_stored_columns(path, None)
}

/// Batches of the columns `columns` (ascending; `None`: all) of a Parquet file, read
/// lazily, with the types as stored.
pub(crate) fn read_stored_columns(
    path: &Path,
    columns: Option<&[usize]>,
) -> Result<impl Iterator<Item = Result<RecordBatch>> + use<>> {
    let f = File::open(path).map_err(|e| StoreError::io("opening", path, e))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(f)
        .and_then(|b| {
            let b = match columns {
                Some(c) => {
                    let mask = ProjectionMask::roots(b.parquet_schema(), c.iter().copied());
                    b.with_projection(mask)
                }
                None => b,
            };
            b.with_batch_size(64 * 1024).build()
        })
        .map_err(|e| StoreError::parquet("reading", path, e))?;
    let p = path.to_path_buf();
    Ok(reader.map(move |r| r.map_err(StoreError::arrow(format!("reading {}", p.display())))))
}

/// The schema of a Parquet file as stored (from its footer).
pub(crate) fn stored_schema(path: &Path) -> Result<SchemaRef> {
    let f = File::open(path).map_err(|e| StoreError::io("opening", path, e))?;
    let b = ParquetRecordBatchReaderBuilder::try_new(f)
        .map_err(|e| StoreError::parquet("reading", path, e))?;
    Ok(b.schema().clone())
}
