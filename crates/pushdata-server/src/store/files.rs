//! Durable file primitives: atomic JSON writes (temp file, fsync, rename, dir fsync) and
//! Parquet table files (version files and staged chunks).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::arrow_writer::{ArrowColumnWriter, ArrowRowGroupWriterFactory, compute_leaves};
use parquet::arrow::{ArrowWriter, ProjectionMask};
use parquet::errors::ParquetError;
use parquet::file::writer::SerializedFileWriter;
use serde::Serialize;

use super::encodings::table_file_properties;
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

/// Rows of a row group of a table file.
const ROW_GROUP_ROWS: usize = 1 << 20;

/// The writer of a table file, made at its first rows (they choose the columns'
/// encodings, [`table_file_properties`]).
struct FileWriter {
    file: SerializedFileWriter<BufWriter<File>>,
    factory: ArrowRowGroupWriterFactory,
}

/// Writes a Parquet table file ([`table_file_properties`]) and fsyncs it on finish.
///
/// The columns are encoded in parallel on the rayon pool (one [`ArrowColumnWriter`] per
/// column, as arrow-rs documents for parallel writing): each column's task takes its
/// values from every batch of a [`write_all`](Self::write_all) call, so a call of many
/// batches waits for the pool once, not once a batch. A row group is closed every 1 Mi
/// rows. Memory: the encoded, compressed pages of the row group being written.
pub(crate) struct ParquetSink {
    /// The created file, until the first rows make its writer.
    created: Option<File>,
    writer: Option<FileWriter>,
    schema: SchemaRef,
    /// The column writers of the open row group.
    columns: Option<Vec<ArrowColumnWriter>>,
    /// Rows of a row group ([`ROW_GROUP_ROWS`]; fewer in tests).
    group_limit: usize,
    group_rows: usize,
    groups: usize,
    path: std::path::PathBuf,
}

impl ParquetSink {
    /// Create `path` for batches of `schema`.
    pub(crate) fn create(path: &Path, schema: SchemaRef) -> Result<Self> {
        let f = File::create(path).map_err(|e| StoreError::io("creating", path, e))?;
        Ok(ParquetSink {
            created: Some(f),
            writer: None,
            schema,
            columns: None,
            group_limit: ROW_GROUP_ROWS,
            group_rows: 0,
            groups: 0,
            path: path.to_path_buf(),
        })
    }

    fn err(&self) -> impl Fn(ParquetError) -> StoreError + '_ {
        move |e| StoreError::parquet("writing", &self.path, e)
    }

    /// The file's writer, made at the first call with the encodings `first` (the file's
    /// first rows) chooses.
    fn writer(&mut self, first: Option<&RecordBatch>) -> Result<&mut FileWriter> {
        if let Some(f) = self.created.take() {
            let props = table_file_properties(&self.schema, first);
            // The high-level writer embeds the Arrow schema in the file's metadata; its
            // parts are then driven column by column.
            let (file, factory) = props
                .and_then(|props| {
                    ArrowWriter::try_new(
                        BufWriter::with_capacity(1 << 20, f),
                        self.schema.clone(),
                        Some(props),
                    )
                })
                .and_then(|w| w.into_serialized_writer())
                .map_err(|e| StoreError::parquet("opening", &self.path, e))?;
            self.writer = Some(FileWriter { file, factory });
        }
        let path = &self.path;
        self.writer
            .as_mut()
            .ok_or_else(|| StoreError::parquet("writing", path, not_opened()))
    }

    /// Append a batch.
    pub(crate) fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.write_all(std::slice::from_ref(batch))
    }

    /// Append `batches`, in order.
    pub(crate) fn write_all(&mut self, batches: &[RecordBatch]) -> Result<()> {
        let mut group = Vec::new();
        for batch in batches {
            let n = batch.num_rows();
            let mut offset = 0;
            while offset < n {
                let room = self.group_limit - self.group_rows - rows(&group);
                let len = room.min(n - offset);
                group.push(batch.slice(offset, len));
                offset += len;
                if self.group_rows + rows(&group) >= self.group_limit {
                    self.write_to_group(&std::mem::take(&mut group))?;
                    self.close_group()?;
                }
            }
        }
        if !group.is_empty() {
            self.write_to_group(&group)?;
        }
        Ok(())
    }

    /// Write `batches` into the open row group (one task a column).
    fn write_to_group(&mut self, batches: &[RecordBatch]) -> Result<()> {
        use rayon::prelude::*;
        let groups = self.groups;
        let columns = match self.columns.take() {
            Some(c) => Ok(c),
            None => {
                let writer = self.writer(batches.first())?;
                writer.factory.create_column_writers(groups)
            }
        };
        let mut columns = columns.map_err(self.err())?;
        let fields = self.schema.fields();
        if columns.len() != fields.len() {
            let message = format!(
                "{} column writers for {} columns (nested columns are not stored)",
                columns.len(),
                fields.len()
            );
            self.columns = Some(columns);
            return Err(self.err()(ParquetError::General(message)));
        }
        let result = columns
            .par_iter_mut()
            .zip(fields.par_iter())
            .enumerate()
            .try_for_each(|(i, (w, field))| {
                for b in batches {
                    for leaf in compute_leaves(field, b.column(i))? {
                        w.write(&leaf)?;
                    }
                }
                Ok(())
            });
        self.columns = Some(columns);
        result.map_err(self.err())?;
        self.group_rows += rows(batches);
        Ok(())
    }

    fn close_group(&mut self) -> Result<()> {
        use rayon::prelude::*;
        let Some(columns) = self.columns.take() else {
            return Ok(());
        };
        let chunks = columns
            .into_par_iter()
            .map(ArrowColumnWriter::close)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(self.err())?;
        let path = self.path.clone();
        let err = |e| StoreError::parquet("writing", &path, e);
        let writer = self.writer(None)?;
        let mut group = writer.file.next_row_group().map_err(err)?;
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
        self.writer(None)?;
        let path = self.path;
        let writer = self
            .writer
            .ok_or_else(|| StoreError::parquet("finishing", &path, not_opened()))?;
        let buf = writer
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

/// The error of a sink whose file's writer could not be made.
fn not_opened() -> ParquetError {
    ParquetError::General("the file's writer could not be made".into())
}

/// The rows of `batches`.
fn rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::num_rows).sum()
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;

    use arrow_array::{Int64Array, StringArray};
    use arrow_schema::{DataType, Field, Schema};

    use super::*;

    fn batch(schema: &SchemaRef, rows: std::ops::Range<i64>, few: bool) -> RecordBatch {
        let flag = rows.clone().map(|i| match few {
            true => ["AIR", "MAIL", "SHIP"][(i % 3) as usize].to_string(),
            false => format!("{i:>64}"),
        });
        let text = rows
            .clone()
            .map(|i| (i % 7 != 0).then(|| format!("{i} is a longer text")));
        RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from_iter_values(rows)),
                Arc::new(StringArray::from_iter_values(flag)),
                Arc::new(StringArray::from_iter(text)),
            ],
        )
        .unwrap()
    }

    #[test]
    fn batches_written_together_read_back_in_order_across_row_groups() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let schema = Arc::new(Schema::new(vec![
            Field::new("n", DataType::Int64, true),
            Field::new("flag", DataType::Utf8, true),
            Field::new("text", DataType::Utf8, true),
        ]));
        // The first rows choose a dictionary for `flag`; the later ones outgrow its page
        // (1 MiB) in the first row group.
        let written = vec![
            batch(&schema, 0..700, true),
            batch(&schema, 700..1500, true),
            batch(&schema, 1500..40_000, false),
        ];
        let mut sink = ParquetSink::create(&path, schema.clone()).unwrap();
        sink.group_limit = 25_000;
        sink.write_all(&written[..2]).unwrap();
        sink.write(&written[2]).unwrap();
        sink.finish().unwrap();
        let f = File::open(&path).unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(f).unwrap();
        let groups = reader.metadata().row_groups();
        let rows = groups.iter().map(|g| g.num_rows()).collect::<Vec<_>>();
        assert_eq!(rows, [25_000, 15_000]);
        let flag = groups[0].column(1).encodings().collect::<Vec<_>>();
        assert!(
            flag.contains(&parquet::basic::Encoding::RLE_DICTIONARY),
            "{flag:?}"
        );
        assert!(flag.contains(&parquet::basic::Encoding::PLAIN), "{flag:?}");
        let text = groups[0].column(2).encodings().collect::<Vec<_>>();
        assert!(
            text.contains(&parquet::basic::Encoding::DELTA_LENGTH_BYTE_ARRAY),
            "{text:?}"
        );
        let back = read_stored_parquet(&path)
            .unwrap()
            .collect::<Result<Vec<_>>>()
            .unwrap();
        let back = arrow_select::concat::concat_batches(&schema, &back).unwrap();
        let all = arrow_select::concat::concat_batches(&schema, &written).unwrap();
        assert_eq!(back, all);
    }

    #[test]
    fn a_file_without_rows_reads_back_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.parquet");
        let schema = Arc::new(Schema::new(vec![Field::new("s", DataType::Utf8, true)]));
        ParquetSink::create(&path, schema.clone())
            .unwrap()
            .finish()
            .unwrap();
        assert_eq!(stored_schema(&path).unwrap(), schema);
        assert_eq!(read_stored_parquet(&path).unwrap().count(), 0);
    }
}
