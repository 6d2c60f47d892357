//! Durable file primitives: atomic JSON writes (temp file, fsync, rename, dir fsync),
//! Parquet table files and Arrow IPC staging files.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use serde::Serialize;

use crate::error::{Result, ServerError};

/// fsync a directory so a rename inside it is durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        let d = File::open(dir)
            .map_err(|e| ServerError::io(format!("opening {} to fsync", dir.display()), e))?;
        d.sync_all()
            .map_err(|e| ServerError::io(format!("fsync of {}", dir.display()), e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Write `value` as JSON to `path` atomically: a crash leaves either the old or the new
/// file, never a torn one.
pub fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| ServerError::Config(format!("{} has no parent", path.display())))?;
    let tmp = path.with_extension(format!("tmp-{}", crate::ids::new_token()));
    let bytes = serde_json::to_vec_pretty(value)
        .map_err(|e| ServerError::storage(format!("serializing {}", path.display()), e))?;
    {
        let mut f = File::create(&tmp)
            .map_err(|e| ServerError::io(format!("creating {}", tmp.display()), e))?;
        f.write_all(&bytes)
            .map_err(|e| ServerError::io(format!("writing {}", tmp.display()), e))?;
        f.sync_all()
            .map_err(|e| ServerError::io(format!("fsync of {}", tmp.display()), e))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        ServerError::io(
            format!("renaming {} to {}", tmp.display(), path.display()),
            e,
        )
    })?;
    sync_dir(dir)
}

/// Writes a Parquet table file (snappy) and fsyncs it on finish.
pub struct ParquetSink {
    writer: ArrowWriter<BufWriter<File>>,
    path: std::path::PathBuf,
}

impl ParquetSink {
    /// Create `path` for batches of `schema`.
    pub fn create(path: &Path, schema: SchemaRef) -> Result<Self> {
        let f = File::create(path)
            .map_err(|e| ServerError::io(format!("creating {}", path.display()), e))?;
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build();
        let writer =
            ArrowWriter::try_new(BufWriter::with_capacity(1 << 20, f), schema, Some(props))
                .map_err(|e| ServerError::storage(format!("opening {}", path.display()), e))?;
        Ok(ParquetSink {
            writer,
            path: path.to_path_buf(),
        })
    }

    /// Append a batch.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.writer
            .write(batch)
            .map_err(|e| ServerError::storage(format!("writing {}", self.path.display()), e))
    }

    /// Finish the file and fsync it.
    pub fn finish(self) -> Result<()> {
        let path = self.path;
        let buf = self
            .writer
            .into_inner()
            .map_err(|e| ServerError::storage(format!("finishing {}", path.display()), e))?;
        let f = buf
            .into_inner()
            .map_err(|e| ServerError::io(format!("flushing {}", path.display()), e.into_error()))?;
        f.sync_all()
            .map_err(|e| ServerError::io(format!("fsync of {}", path.display()), e))
    }
}

/// Batches of a Parquet file, read lazily.
pub fn read_parquet(path: &Path) -> Result<impl Iterator<Item = Result<RecordBatch>> + use<>> {
    let f =
        File::open(path).map_err(|e| ServerError::io(format!("opening {}", path.display()), e))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(f)
        .and_then(|b| b.with_batch_size(64 * 1024).build())
        .map_err(|e| ServerError::storage(format!("reading {}", path.display()), e))?;
    let p = path.display().to_string();
    Ok(reader.map(move |r| r.map_err(|e| ServerError::storage(format!("reading {p}"), e))))
}

/// The schema of a Parquet file (from its footer).
pub fn parquet_schema(path: &Path) -> Result<SchemaRef> {
    let f =
        File::open(path).map_err(|e| ServerError::io(format!("opening {}", path.display()), e))?;
    let b = ParquetRecordBatchReaderBuilder::try_new(f)
        .map_err(|e| ServerError::storage(format!("reading {}", path.display()), e))?;
    Ok(b.schema().clone())
}

/// Write one staged chunk as an Arrow IPC file (temp name, then rename into place).
pub fn write_ipc(path: &Path, batch: &RecordBatch) -> Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let f = File::create(&tmp)
            .map_err(|e| ServerError::io(format!("creating {}", tmp.display()), e))?;
        let mut w = arrow_ipc::writer::FileWriter::try_new(BufWriter::new(f), &batch.schema())
            .map_err(|e| ServerError::storage(format!("writing {}", tmp.display()), e))?;
        w.write(batch)
            .and_then(|_| w.finish())
            .map_err(|e| ServerError::storage(format!("writing {}", tmp.display()), e))?;
        let mut buf = w
            .into_inner()
            .map_err(|e| ServerError::storage(format!("writing {}", tmp.display()), e))?;
        buf.flush()
            .map_err(|e| ServerError::io(format!("writing {}", tmp.display()), e))?;
    }
    std::fs::rename(&tmp, path)
        .map_err(|e| ServerError::io(format!("renaming {}", tmp.display()), e))
}

/// The schema and batches of a staged chunk.
pub fn read_ipc(path: &Path) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let f =
        File::open(path).map_err(|e| ServerError::io(format!("opening {}", path.display()), e))?;
    let r = arrow_ipc::reader::FileReader::try_new(BufReader::new(f), None)
        .map_err(|e| ServerError::storage(format!("reading {}", path.display()), e))?;
    let schema = r.schema();
    let batches = r
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| ServerError::storage(format!("reading {}", path.display()), e))?;
    Ok((schema, batches))
}

/// The schema of a staged chunk, without reading its data.
pub fn ipc_schema(path: &Path) -> Result<SchemaRef> {
    let f =
        File::open(path).map_err(|e| ServerError::io(format!("opening {}", path.display()), e))?;
    let r = arrow_ipc::reader::FileReader::try_new(BufReader::new(f), None)
        .map_err(|e| ServerError::storage(format!("reading {}", path.display()), e))?;
    Ok(r.schema())
}
