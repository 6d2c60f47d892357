//! Uploaded rows waiting for a commit: a small chunk's decoded batches kept in memory up to
//! a budget shared by the whole server; a chunk of [`CHUNK_FILE_ROWS`] rows or more (or any
//! chunk past the budget) written as a Parquet file of the table's stored schema, fsynced, in the
//! staging directory, while the upload goes on. A commit moves such a file into the new
//! version as it is (no second write); small chunks are written at the commit, several
//! into one file. Staged data is not durable until a commit: the staging directory is
//! cleared at start.

use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use super::catalog::TableDef;
use super::error::{Result, StoreError};
use super::files::{self, ParquetSink};
use super::quota::DataQuota;
use super::schema::{conform, stored_schema_for};
use crate::budget::{Budget, Charge};

/// Rows a staged file gathers (the Veracity job's parse) and under which a version's file
/// counts as small for compaction.
pub(crate) const FILE_ROWS: u64 = 64 * 1024;

/// An uploaded chunk of at least this many rows is written as a Parquet file of its own
/// (after its PUT is answered) and moved into the version as it is; smaller chunks wait in
/// memory (while the budget allows) and are written together at the commit. Lower than
/// [`FILE_ROWS`] so that a client's small first chunk (`pushdata` cuts its first chunk at a
/// quarter of the target, about 27,000 lineitem rows by default) is written while the
/// upload goes on, not in the commit at the end.
pub(crate) const CHUNK_FILE_ROWS: u64 = 16 * 1024;

/// Clear and create the staging directory of a data directory (staged data does not
/// survive a restart).
pub(crate) fn reset_dir(data_dir: &std::path::Path) -> Result<PathBuf> {
    let staging = data_dir.join("staging");
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| StoreError::io("clearing", &staging, e))?;
    }
    std::fs::create_dir_all(&staging).map_err(|e| StoreError::io("creating", &staging, e))?;
    Ok(staging)
}

/// Where a staged chunk's decoded rows are kept until publish.
#[derive(Debug, Clone)]
pub(crate) enum StagedData {
    /// In memory, counted against the server's memory budget until the last clone is
    /// dropped.
    Memory(Arc<MemoryChunk>),
    /// A Parquet file (the table's stored schema, fsynced) in the staging directory,
    /// counted against the disk quota and removed when the last clone is dropped (unless a
    /// commit moved it into a version).
    File(Arc<SpilledFile>),
}

impl StagedData {
    /// The schema of the staged batches (`None` for an empty chunk kept in memory).
    pub(crate) fn schema(&self) -> Result<Option<SchemaRef>> {
        match self {
            StagedData::File(f) => Ok(Some(f.schema.clone())),
            StagedData::Memory(m) => Ok(m.batches.first().map(|b| b.schema())),
        }
    }

    /// The staged batches.
    pub(crate) fn batches(&self) -> Result<Vec<RecordBatch>> {
        match self {
            StagedData::File(f) => files::read_stored_parquet(&f.path)?.collect(),
            StagedData::Memory(m) => Ok(m.batches.clone()),
        }
    }

    /// The staged rows.
    pub(crate) fn rows(&self) -> u64 {
        match self {
            StagedData::File(f) => f.rows,
            StagedData::Memory(m) => m.batches.iter().map(|b| b.num_rows() as u64).sum(),
        }
    }

    /// Stage `batches` of `table`: in memory when they are fewer than [`FILE_ROWS`] rows and
    /// fit the memory budget, else as a Parquet file at `path` when it fits the disk quota
    /// (else [`StoreError::DiskQuota`]) and the data directory's quota (else
    /// [`StoreError::DataQuota`]).
    pub(crate) fn keep(
        staging: &Staging,
        table: &TableDef,
        batches: Vec<RecordBatch>,
        path: impl FnOnce() -> PathBuf,
    ) -> Result<Self> {
        match Self::in_memory(staging, table, batches, FILE_ROWS)? {
            Ok(kept) => Ok(kept),
            Err(batches) => FileWrite::new(table, batches, path(), None).write(staging, || ()),
        }
    }

    /// As [`keep`](Self::keep) (an uploaded chunk: in memory under [`CHUNK_FILE_ROWS`]
    /// rows), but a file that fits the quotas with room to spare (its
    /// batches' size in memory, charged until it is written) is handed back unwritten,
    /// for the caller to write later; a file near a quota is written now, so a full quota
    /// is reported here as [`keep`](Self::keep) reports it.
    pub(crate) fn keep_or_defer(
        staging: &Staging,
        table: &TableDef,
        batches: Vec<RecordBatch>,
        path: impl FnOnce() -> PathBuf,
    ) -> Result<Kept> {
        let batches = match Self::in_memory(staging, table, batches, CHUNK_FILE_ROWS)? {
            Ok(kept) => return Ok(Kept::Staged(kept)),
            Err(batches) => batches,
        };
        let estimate: usize = batches.iter().map(RecordBatch::get_array_memory_size).sum();
        let charge = staging
            .disk
            .try_charge(estimate)
            .filter(|_| staging.quota.check(estimate as u64).is_ok());
        let write = FileWrite::new(table, batches, path(), charge);
        if write.estimate.is_some() {
            return Ok(Kept::Later(write));
        }
        write.write(staging, || ()).map(Kept::Staged)
    }

    /// Keep `batches` of `table` in memory (as one schema) when they are fewer than
    /// `file_rows` rows and fit the memory budget; else give them back.
    fn in_memory(
        staging: &Staging,
        table: &TableDef,
        batches: Vec<RecordBatch>,
        file_rows: u64,
    ) -> Result<std::result::Result<Self, Vec<RecordBatch>>> {
        let bytes: usize = batches.iter().map(RecordBatch::get_array_memory_size).sum();
        let rows: u64 = batches.iter().map(|b| b.num_rows() as u64).sum();
        if rows < file_rows
            && let Some(charge) = staging.memory.try_charge(bytes)
        {
            return Ok(Ok(StagedData::Memory(Arc::new(MemoryChunk {
                batches: one_schema(table, batches)?,
                _charge: charge,
            }))));
        }
        Ok(Err(batches))
    }
}

/// What [`StagedData::keep_or_defer`] did with a chunk.
#[derive(Debug)]
pub(crate) enum Kept {
    /// Staged: in memory, or written as a file.
    Staged(StagedData),
    /// To be written as a file ([`FileWrite::write`]).
    Later(FileWrite),
}

/// A chunk's batches to be written as a staged Parquet file; dropping it unwritten gives
/// its estimated charge back and leaves no file.
#[derive(Debug)]
pub(crate) struct FileWrite {
    table: TableDef,
    batches: Vec<RecordBatch>,
    path: PathBuf,
    /// The disk quota charged for the file before it is written (its batches' size).
    estimate: Option<Charge>,
}

impl FileWrite {
    fn new(
        table: &TableDef,
        batches: Vec<RecordBatch>,
        path: PathBuf,
        estimate: Option<Charge>,
    ) -> Self {
        FileWrite {
            table: table.clone(),
            batches,
            path,
            estimate,
        }
    }

    /// Write the file (fsynced) and charge its size on the disk quota (else
    /// [`StoreError::DiskQuota`]), then check the data directory's quota (else
    /// [`StoreError::DataQuota`]); on error no file is left. `written` is called (or
    /// dropped, on an error before it) once the batches and the writer's buffers are
    /// freed, before the fsync.
    pub(crate) fn write(self, staging: &Staging, written: impl FnOnce()) -> Result<StagedData> {
        let FileWrite {
            table,
            batches,
            path,
            estimate,
        } = self;
        let rows: u64 = batches.iter().map(|b| b.num_rows() as u64).sum();
        let schema = match write_staged(&path, &table, batches, written) {
            Ok(schema) => schema,
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                return Err(e);
            }
        };
        // The estimate makes way for the file's real size.
        drop(estimate);
        let size = std::fs::metadata(&path)
            .map(|m| usize::try_from(m.len()).unwrap_or(usize::MAX))
            .map_err(|e| StoreError::io("reading the size of", &path, e));
        let charge = size
            .and_then(|size| {
                staging.disk.try_charge(size).ok_or(StoreError::DiskQuota {
                    quota: staging.disk.limit(),
                })
            })
            .and_then(|charge| staging.quota.check(0).map(|()| charge));
        match charge {
            Ok(charge) => Ok(StagedData::File(Arc::new(SpilledFile {
                path,
                rows,
                schema,
                _charge: charge,
            }))),
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                Err(e)
            }
        }
    }
}

/// Decoded batches of a chunk held in memory, with their charge on the budget.
#[derive(Debug)]
pub(crate) struct MemoryChunk {
    /// The batches, in row order, one schema.
    pub(crate) batches: Vec<RecordBatch>,
    _charge: Charge,
}

/// `batches` of `table` as one schema (their decimal columns may have been read at
/// different precisions): as they are when they share it, else each conformed to the
/// stored schema of them all.
fn one_schema(table: &TableDef, batches: Vec<RecordBatch>) -> Result<Vec<RecordBatch>> {
    let schemas: Vec<SchemaRef> = batches.iter().map(RecordBatch::schema).collect();
    if schemas.windows(2).all(|w| w[0] == w[1]) {
        return Ok(batches);
    }
    let schema = stored_schema_for(table, &schemas);
    batches
        .into_iter()
        .map(|b| conform(b, &schema, &table.name))
        .collect()
}

/// Write `batches` as a Parquet file of `table`'s stored schema at `path` (fsynced);
/// returns the schema.
fn write_staged(
    path: &std::path::Path,
    table: &TableDef,
    batches: Vec<RecordBatch>,
    written: impl FnOnce(),
) -> Result<SchemaRef> {
    let schemas: Vec<SchemaRef> = batches.iter().map(RecordBatch::schema).collect();
    let schema = stored_schema_for(table, &schemas);
    let batches = batches
        .into_iter()
        .map(|b| conform(b, &schema, &table.name))
        .collect::<Result<Vec<_>>>()?;
    let mut sink = ParquetSink::create(path, schema.clone())?;
    sink.write_all(&batches)?;
    drop(batches);
    sink.finish_with(written)?;
    Ok(schema)
}

/// A staged chunk's file, with its charge on the disk quota; removed on drop.
#[derive(Debug)]
pub(crate) struct SpilledFile {
    path: PathBuf,
    rows: u64,
    schema: SchemaRef,
    _charge: Charge,
}

impl SpilledFile {
    /// Where the file is (until a commit moves it).
    pub(crate) fn path(&self) -> &std::path::Path {
        &self.path
    }
}

impl Drop for SpilledFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Where uploads wait for their commit, shared by all sessions of a server: memory up to
/// one budget, then files up to a disk quota.
#[derive(Debug)]
pub(crate) struct Staging {
    memory: Budget,
    disk: Budget,
    /// The data directory's quota, which spilled files count on too.
    quota: DataQuota,
}

impl Staging {
    /// `memory` bytes of decoded batches in memory, `disk` bytes of spilled files.
    pub(crate) fn new(memory: usize, disk: usize) -> Self {
        Staging {
            memory: Budget::new(memory),
            disk: Budget::new(disk),
            quota: DataQuota::default(),
        }
    }

    /// Count spilled files on the data directory's quota too.
    pub(crate) fn with_quota(mut self, quota: DataQuota) -> Self {
        self.quota = quota;
        self
    }

    /// Bytes of memory in use.
    #[cfg(test)]
    pub(crate) fn memory_used(&self) -> usize {
        self.memory.used()
    }

    /// Bytes of files in use.
    #[cfg(test)]
    pub(crate) fn disk_used(&self) -> usize {
        self.disk.used()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use arrow_array::Int64Array;

    fn table() -> TableDef {
        TableDef {
            id: "T".into(),
            name: "t".into(),
            columns: vec![pushdata_core::wire::ColumnHeader::new(
                "v",
                pushdata_core::wire::DataType::BigInteger,
            )],
            key_columns: vec![],
        }
    }

    fn batch(n: i64) -> RecordBatch {
        RecordBatch::try_from_iter([("v", Arc::new(Int64Array::from_iter_values(0..n)) as _)])
            .unwrap()
    }

    #[test]
    fn staging_memory_is_bounded_and_given_back() {
        let dir = tempfile::tempdir().unwrap();
        let one = batch(1000).get_array_memory_size();
        let staging = Staging::new(one * 2, 0);
        let path = |n: &str| {
            let p = dir.path().join(n);
            move || p
        };
        let a = StagedData::keep(&staging, &table(), vec![batch(1000)], path("a")).unwrap();
        let b = StagedData::keep(&staging, &table(), vec![batch(1000)], path("b")).unwrap();
        assert_eq!(staging.memory_used(), one * 2);
        // Over the memory budget it would be a file; over the disk quota (0) it is refused
        // and leaves no file behind.
        let err = StagedData::keep(&staging, &table(), vec![batch(1000)], path("c")).unwrap_err();
        assert!(matches!(err, StoreError::DiskQuota { .. }), "{err}");
        assert!(!dir.path().join("c").exists());
        let clone = a.clone();
        drop(a);
        assert_eq!(
            staging.memory_used(),
            one * 2,
            "a clone still holds the rows"
        );
        drop(clone);
        drop(b);
        assert_eq!(staging.memory_used(), 0);
    }

    #[test]
    fn batches_kept_in_memory_share_one_schema() {
        use arrow_array::Decimal128Array;
        let mut t = table();
        t.columns[0] =
            pushdata_core::wire::ColumnHeader::new("v", pushdata_core::wire::DataType::BigDecimal);
        let dec = |v: i128, p: u8| {
            let a = Decimal128Array::from(vec![v])
                .with_precision_and_scale(p, 1)
                .unwrap();
            RecordBatch::try_from_iter([("v", Arc::new(a) as _)]).unwrap()
        };
        let staging = Staging::new(1 << 20, 0);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m");
        let kept = StagedData::keep(&staging, &t, vec![dec(12, 3), dec(12_345, 5)], || p).unwrap();
        let StagedData::Memory(m) = &kept else {
            panic!("small batches are kept in memory");
        };
        let want = arrow_schema::DataType::Decimal128(5, 1);
        for b in &m.batches {
            assert_eq!(b.schema().field(0).data_type(), &want);
        }
        assert_eq!(kept.schema().unwrap().unwrap().field(0).data_type(), &want);
    }

    #[test]
    fn a_deferred_file_is_charged_its_estimate_until_written_and_nothing_if_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let staging = Staging::new(0, 1 << 20);
        let estimate = batch(100).get_array_memory_size();
        let p = dir.path().join("d.parquet");
        let q = p.clone();
        let Kept::Later(write) =
            StagedData::keep_or_defer(&staging, &table(), vec![batch(100)], move || q).unwrap()
        else {
            panic!("a file far from the quota is written later");
        };
        assert!(!p.exists());
        assert_eq!(staging.disk_used(), estimate);
        let data = write.write(&staging, || ()).unwrap();
        assert!(p.exists());
        assert_eq!(
            staging.disk_used(),
            std::fs::metadata(&p).unwrap().len() as usize
        );
        assert_eq!(data.rows(), 100);
        assert_eq!(data.batches().unwrap()[0].num_rows(), 100);
        drop(data);
        assert_eq!(staging.disk_used(), 0);
        // Dropped unwritten: the estimate is given back and no file appears.
        let r = dir.path().join("never.parquet");
        let s = r.clone();
        let kept =
            StagedData::keep_or_defer(&staging, &table(), vec![batch(100)], move || s).unwrap();
        assert!(matches!(kept, Kept::Later(_)));
        drop(kept);
        assert_eq!(staging.disk_used(), 0);
        assert!(!r.exists());
    }

    #[test]
    fn a_file_near_the_quota_is_written_at_once_and_its_error_reported_there() {
        let dir = tempfile::tempdir().unwrap();
        // Room for the file, not for its batches' size in memory: written now.
        let staging = Staging::new(0, batch(10_000).get_array_memory_size() - 1);
        let p = dir.path().join("now.parquet");
        let q = p.clone();
        let kept =
            StagedData::keep_or_defer(&staging, &table(), vec![batch(10_000)], move || q).unwrap();
        assert!(matches!(kept, Kept::Staged(StagedData::File(_))));
        assert!(p.exists());
        drop(kept);
        // No room at all: refused here, as `keep` refuses it.
        let full = Staging::new(0, 16);
        let r = dir.path().join("full.parquet");
        let s = r.clone();
        let err = StagedData::keep_or_defer(&full, &table(), vec![batch(10)], move || s)
            .map(|_| ())
            .unwrap_err();
        assert!(matches!(err, StoreError::DiskQuota { quota: 16 }), "{err}");
        assert!(!r.exists());
    }

    #[test]
    fn a_deferred_write_that_fails_leaves_no_file_and_no_charge() {
        let dir = tempfile::tempdir().unwrap();
        let staging = Staging::new(0, 1 << 20);
        let p = dir.path().join("gone").join("f.parquet");
        let q = p.clone();
        let Kept::Later(write) =
            StagedData::keep_or_defer(&staging, &table(), vec![batch(100)], move || q).unwrap()
        else {
            panic!("deferred");
        };
        let err = write.write(&staging, || ()).map(|_| ()).unwrap_err();
        assert!(matches!(err, StoreError::Io { .. }), "{err}");
        assert!(!p.exists());
        assert_eq!(staging.disk_used(), 0);
    }

    #[test]
    fn spilled_files_count_on_the_disk_quota_and_go_with_their_last_clone() {
        let dir = tempfile::tempdir().unwrap();
        let staging = Staging::new(0, 1 << 20);
        let p = dir.path().join("s.parquet");
        let q = p.clone();
        let f = StagedData::keep(&staging, &table(), vec![batch(100)], move || q).unwrap();
        assert!(matches!(f, StagedData::File(_)));
        assert!(p.exists());
        assert!(staging.disk_used() > 0);
        assert_eq!(f.batches().unwrap()[0].num_rows(), 100);
        let clone = f.clone();
        drop(f);
        assert!(p.exists(), "a clone still needs the file");
        drop(clone);
        assert!(!p.exists());
        assert_eq!(staging.disk_used(), 0);
    }
}
