//! The files of a new table version that keeps rows as they are: files of the previous
//! version kept, staged Parquet files moved in (renamed, not rewritten), and small pieces
//! (chunks kept in memory, small staged files) written together into one new file per run
//! of adjacent small pieces, so many small chunks do not make many tiny files.
//!
//! When a version would have more than [`MAX_FILES`] files, the previous version's small
//! files (under [`FILE_ROWS`] rows) are coalesced too, with their neighbours: a table
//! added to many times in small steps is compacted now and then, and large files are never
//! rewritten.

use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use super::catalog::{DataFile, TableDef};
use super::error::{Result, StoreError};
use super::files::{self, ParquetSink};
use super::schema::{conform, stored_schema_for};
use super::staging::{CHUNK_FILE_ROWS, FILE_ROWS, StagedData};

/// Past this many files, a version's small files are coalesced.
pub(crate) const MAX_FILES: usize = 64;

/// A run of small pieces is cut into a new file once it holds this many rows.
const RUN_ROWS: u64 = 1 << 20;

/// A part of a new version, in row order.
#[derive(Debug)]
pub(super) enum Piece {
    /// A file of the previous version.
    Kept(DataFile),
    /// A staged chunk.
    Staged(StagedData),
    /// Rows in memory.
    Rows(Vec<RecordBatch>),
}

impl Piece {
    fn rows(&self) -> u64 {
        match self {
            Piece::Kept(f) => f.rows,
            Piece::Staged(s) => s.rows(),
            Piece::Rows(bs) => bs.iter().map(|b| b.num_rows() as u64).sum(),
        }
    }

    /// Whether the piece is written again with its neighbours rather than used as it is.
    fn is_small(&self, compact: bool) -> bool {
        match self {
            Piece::Kept(f) => compact && f.rows < FILE_ROWS,
            Piece::Staged(s @ StagedData::File(_)) => s.rows() < CHUNK_FILE_ROWS,
            Piece::Staged(StagedData::Memory(_)) | Piece::Rows(_) => true,
        }
    }
}

/// Where the new version's files go; every file it creates or moves in is recorded in
/// `written` (removed if the commit fails).
pub(super) struct Assembly<'a> {
    /// The dataset directory.
    pub(super) dir: &'a Path,
    pub(super) table: &'a TableDef,
    pub(super) version: u64,
    pub(super) written: &'a mut Vec<PathBuf>,
}

impl Assembly<'_> {
    /// The files of a version made of `pieces`, in order. New files are fsynced, and so is
    /// the table's directory (renames included).
    pub(super) fn files(&mut self, pieces: Vec<Piece>) -> Result<Vec<DataFile>> {
        let compact = pieces.len() > MAX_FILES;
        let before = self.written.len();
        let mut out = Vec::new();
        let mut run: Vec<Piece> = Vec::new();
        for p in pieces.into_iter().filter(|p| p.rows() > 0) {
            if p.is_small(compact) {
                run.push(p);
                if run.iter().map(Piece::rows).sum::<u64>() >= RUN_ROWS {
                    out.push(self.run_file(std::mem::take(&mut run))?);
                }
            } else {
                if !run.is_empty() {
                    out.push(self.run_file(std::mem::take(&mut run))?);
                }
                out.push(self.piece_file(p)?);
            }
        }
        if !run.is_empty() {
            out.push(self.run_file(run)?);
        }
        if self.written.len() > before {
            self.sync()?;
        }
        Ok(out)
    }

    /// fsync the table's directory (files created or renamed in it are durable).
    pub(super) fn sync(&self) -> Result<()> {
        files::sync_dir(&self.dir.join("tables").join(&self.table.id))
    }

    /// A name for a new file of this version, never used before: a file a manifest on disk
    /// points to is never truncated by a later publish.
    pub(super) fn new_file(&mut self) -> Result<(String, PathBuf)> {
        create_table_dir(self.dir, &self.table.id)?;
        let rel = format!(
            "tables/{}/v{:010}-{}.parquet",
            self.table.id,
            self.version,
            &crate::ids::new_token()[..12]
        );
        let path = self.dir.join(&rel);
        self.written.push(path.clone());
        Ok((rel, path))
    }

    /// A piece used as it is: a kept file stays, a staged file is moved in.
    fn piece_file(&mut self, p: Piece) -> Result<DataFile> {
        let rows = p.rows();
        match p {
            Piece::Kept(f) => Ok(f),
            Piece::Staged(StagedData::File(f)) => {
                let (rel, path) = self.new_file()?;
                std::fs::rename(f.path(), &path)
                    .map_err(|e| StoreError::io("moving a staged file to", &path, e))?;
                Ok(DataFile { file: rel, rows })
            }
            p => self.run_file(vec![p]),
        }
    }

    /// One new file of the rows of `run`, or the one piece of it as it is when it is a
    /// file already.
    fn run_file(&mut self, mut run: Vec<Piece>) -> Result<DataFile> {
        if run.len() == 1 && matches!(run[0], Piece::Kept(_) | Piece::Staged(StagedData::File(_))) {
            return self.piece_file(run.swap_remove(0));
        }
        let mut schemas = Vec::new();
        for p in &run {
            schemas.extend(self.schema(p)?);
        }
        let schema = stored_schema_for(self.table, &schemas);
        let (rel, path) = self.new_file()?;
        let mut sink = ParquetSink::create(&path, schema.clone())?;
        let mut rows = 0;
        // Batches are written in groups of about a staged file's rows (one wait for the
        // column tasks a group).
        let mut group = Vec::new();
        let mut group_rows = 0;
        for p in run {
            for b in self.batches(p)? {
                let b = conform(b?, &schema, &self.table.name)?;
                rows += b.num_rows() as u64;
                group_rows += b.num_rows() as u64;
                group.push(b);
                if group_rows >= FILE_ROWS {
                    sink.write_all(&std::mem::take(&mut group))?;
                    group_rows = 0;
                }
            }
        }
        sink.write_all(&group)?;
        sink.finish()?;
        Ok(DataFile { file: rel, rows })
    }

    fn schema(&self, p: &Piece) -> Result<Option<SchemaRef>> {
        match p {
            Piece::Kept(f) => files::stored_schema(&self.dir.join(&f.file)).map(Some),
            Piece::Staged(s) => s.schema(),
            Piece::Rows(bs) => Ok(bs.first().map(RecordBatch::schema)),
        }
    }

    fn batches(&self, p: Piece) -> Result<Box<dyn Iterator<Item = Result<RecordBatch>>>> {
        Ok(match p {
            Piece::Kept(f) => Box::new(files::read_stored_parquet(&self.dir.join(&f.file))?),
            Piece::Staged(s) => Box::new(s.batches()?.into_iter().map(Ok)),
            Piece::Rows(bs) => Box::new(bs.into_iter().map(Ok)),
        })
    }
}

/// Create the directory of a table's version files (and make it durable) if needed.
pub(super) fn create_table_dir(dir: &Path, table_id: &str) -> Result<()> {
    let tables = dir.join("tables");
    let parent = tables.join(table_id);
    if !parent.is_dir() {
        std::fs::create_dir_all(&parent).map_err(|e| StoreError::io("creating", &parent, e))?;
        files::sync_dir(&tables)?;
        files::sync_dir(dir)?;
    }
    Ok(())
}
