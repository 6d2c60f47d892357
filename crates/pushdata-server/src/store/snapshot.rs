//! A published version of a dataset, pinned while it is read, and how a table of it is
//! read: its files in order, each file's batches conformed to the one schema of the
//! version (a decimal column takes the type every file's values fit).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{DataType as ArrowType, SchemaRef};
use parking_lot::Mutex;

use super::catalog::{Manifest, Pins, TableDef};
use super::error::Result;
use super::files;
use super::schema::{conform, read_type, version_schema, widen_decimals};

/// One published version of a dataset, pinned: what it reads stays the same whatever is
/// published meanwhile (its files are not collected while it lives).
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    dir: PathBuf,
    manifest: Arc<Manifest>,
    /// Per table id, the schema its files are read with (footers read once).
    schemas: Arc<Mutex<HashMap<String, Option<SchemaRef>>>>,
    _pin: Option<Arc<Pin>>,
}

/// Keeps a version's files from garbage collection until dropped.
#[derive(Debug)]
pub(super) struct Pin {
    files: Vec<String>,
    pins: Pins,
}

impl Pin {
    /// Pin `files` (each counted once per pin).
    pub(super) fn new(files: Vec<String>, pins: &Pins) -> Self {
        let mut map = pins.lock();
        for f in &files {
            *map.entry(f.clone()).or_insert(0) += 1;
        }
        drop(map);
        Pin {
            files,
            pins: pins.clone(),
        }
    }
}

impl Drop for Pin {
    fn drop(&mut self) {
        let mut pins = self.pins.lock();
        for f in &self.files {
            if let Some(n) = pins.get_mut(f) {
                *n -= 1;
                if *n == 0 {
                    pins.remove(f);
                }
            }
        }
    }
}

/// A file of a table version: where it is, and its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredFile {
    /// The Parquet file.
    pub(crate) path: PathBuf,
    /// Its rows.
    pub(crate) rows: u64,
}

impl Snapshot {
    /// The version `manifest` of the dataset in `dir`, its files held by `pin`.
    pub(super) fn pinned(dir: PathBuf, manifest: Arc<Manifest>, pin: Pin) -> Self {
        Snapshot {
            dir,
            manifest,
            schemas: Arc::default(),
            _pin: Some(Arc::new(pin)),
        }
    }

    /// The version `manifest` of the dataset in `dir`, read with no server running.
    pub(super) fn unpinned(dir: PathBuf, manifest: Arc<Manifest>) -> Self {
        Snapshot {
            dir,
            manifest,
            schemas: Arc::default(),
            _pin: None,
        }
    }

    /// The manifest of this version.
    pub(crate) fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The published files of table `table_id`, in row order (empty: never published).
    pub(crate) fn table_files(&self, table_id: &str) -> Vec<StoredFile> {
        self.manifest
            .tables
            .get(table_id)
            .map(|tv| {
                tv.files
                    .iter()
                    .map(|f| StoredFile {
                        path: self.dir.join(&f.file),
                        rows: f.rows,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The schema the files of `table_id` are read with, as stored (a decimal's precision
    /// is the digits the values of all files need); `None` when it has no files.
    pub(crate) fn stored_schema(&self, table_id: &str) -> Result<Option<SchemaRef>> {
        if let Some(s) = self.schemas.lock().get(table_id) {
            return Ok(s.clone());
        }
        let paths: Vec<PathBuf> = self
            .table_files(table_id)
            .into_iter()
            .map(|f| f.path)
            .collect();
        let schema = schema_of_files(&paths)?;
        self.schemas
            .lock()
            .insert(table_id.to_string(), schema.clone());
        Ok(schema)
    }

    /// The Arrow type readers see for column `col` of `table`.
    pub(crate) fn column_type(&self, table: &TableDef, col: usize) -> Option<ArrowType> {
        let c = table.columns.get(col)?;
        Some(read_type(
            c.data_type,
            self.stored_type(table, col).as_ref(),
        ))
    }

    /// The Arrow type column `col` of `table` is stored with in this version (a decimal's
    /// precision is the digits its values need); `None` when never published or unreadable.
    pub(crate) fn stored_type(&self, table: &TableDef, col: usize) -> Option<ArrowType> {
        let stored = self.stored_schema(&table.id).ok()??;
        stored.fields().get(col).map(|f| f.data_type().clone())
    }

    /// All rows of a table as readers see them (empty when never published).
    pub(crate) fn read_table(&self, table_id: &str) -> Result<Vec<RecordBatch>> {
        let Some(schema) = self.stored_schema(table_id)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for f in self.table_files(table_id) {
            for b in read_conformed(&f.path, &schema, table_id, None)? {
                let place = f.path.display().to_string();
                out.push(widen_decimals(b?, &place)?);
            }
        }
        Ok(out)
    }
}

/// The schema a table version made of the files at `paths` is read with (`None`: no files).
pub(super) fn schema_of_files(paths: &[PathBuf]) -> Result<Option<SchemaRef>> {
    let schemas = paths
        .iter()
        .map(|p| files::stored_schema(p))
        .collect::<Result<Vec<_>>>()?;
    Ok(version_schema(&schemas))
}

/// Batches of the version file at `path`, read lazily, conformed to the version's `schema`
/// (types as stored). With `columns` (ascending), only those are read, and `schema` is
/// theirs.
pub(super) fn read_conformed(
    path: &Path,
    schema: &SchemaRef,
    table: &str,
    columns: Option<&[usize]>,
) -> Result<impl Iterator<Item = Result<RecordBatch>> + use<>> {
    let (s, t) = (schema.clone(), table.to_string());
    let batches = files::read_stored_columns(path, columns)?;
    Ok(batches.map(move |b| b.and_then(|b| conform(b, &s, &t))))
}
