//! Durable storage under the data directory.
//!
//! ```text
//! <data_dir>/datasets/<DATASET_ID>/definition.json      the dataset definition
//! <data_dir>/datasets/<DATASET_ID>/current.json         the manifest: version + one file per table
//! <data_dir>/datasets/<DATASET_ID>/tables/<TABLE_ID>/v<version>.parquet
//! <data_dir>/staging/<UPLOAD_SESSION_ID>/...            chunks of open upload sessions (Arrow IPC)
//! ```
//!
//! Publishing writes every changed table to a new version file, fsyncs it, and then swaps
//! `current.json` (temp file, fsync, rename, directory fsync). Until the rename, readers
//! and a restarted server see the previous version; after it, the new one.

pub mod definition;
pub mod files;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_cast::CastOptions;
use arrow_schema::{DataType as ArrowType, Field, Schema, SchemaRef};
use parking_lot::RwLock;
use pushdata_core::wire::{DataType, UpdatePolicy};
use serde::{Deserialize, Serialize};

pub use definition::{DatasetDef, TableDef};

use crate::decode::columns::arrow_type;
use crate::error::{Result, ServerError};
use crate::policy::{self, ChunkSource};
use crate::sessions::StagedData;

/// The published version of one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableVersion {
    /// The Parquet file, relative to the dataset directory.
    pub file: String,
    /// Number of rows in it.
    pub rows: u64,
}

/// The pointer to a dataset's published data (`current.json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Increases by one per publish.
    pub version: u64,
    /// Table id -> its published file. Tables never published are absent.
    pub tables: BTreeMap<String, TableVersion>,
}

/// Where an upload's rows come from at publish.
#[derive(Debug)]
pub enum UploadSource {
    /// Staged chunks (in memory or files), in index order.
    Staged(Vec<StagedData>),
    /// Batches decoded in memory (single-request workflow).
    Batches(Vec<RecordBatch>),
}

/// One table's part of a publish.
#[derive(Debug)]
pub struct TableUpload {
    /// The table id.
    pub table_id: String,
    /// How to apply the rows.
    pub policy: UpdatePolicy,
    /// The rows.
    pub source: UploadSource,
}

/// A dataset: its definition, its current manifest and its publish lock.
#[derive(Debug)]
pub struct Dataset {
    /// The definition.
    pub def: DatasetDef,
    dir: PathBuf,
    manifest: RwLock<Arc<Manifest>>,
    /// Held for the whole of a publish: publishes to one dataset are serialized.
    pub publish_lock: tokio::sync::Mutex<()>,
}

const DEFINITION: &str = "definition.json";
const CURRENT: &str = "current.json";

fn st(ctx: &str) -> impl Fn(arrow_schema::ArrowError) -> ServerError + '_ {
    move |e| ServerError::storage(ctx, e)
}

/// The schema a table's data is stored with, given the schemas of everything being merged
/// (decimal columns take the largest scale seen, and 256 bits if any input needs it).
pub fn target_schema(table: &TableDef, inputs: &[SchemaRef]) -> SchemaRef {
    let fields = table
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let t = if c.data_type == DataType::BigDecimal {
                common_decimal(
                    inputs
                        .iter()
                        .filter_map(|s| s.fields().get(i).map(|f| f.data_type())),
                )
                .unwrap_or(ArrowType::Decimal128(38, 0))
            } else {
                arrow_type(c.data_type)
            };
            Field::new(&c.name, t, true)
        })
        .collect::<Vec<_>>();
    Arc::new(Schema::new(fields))
}

/// The one decimal type values of all `types` fit (`None` when none is a decimal): the
/// largest scale, and the integer digits the widest needs; 256 bits past 38 digits.
pub fn common_decimal<'t>(types: impl Iterator<Item = &'t ArrowType>) -> Option<ArrowType> {
    let mut scale = 0i8;
    let mut int_digits = 0i16;
    let mut wide = false;
    let mut any = false;
    for t in types {
        match t {
            ArrowType::Decimal128(p, s) => {
                any = true;
                scale = scale.max(*s);
                int_digits = int_digits.max(i16::from(*p) - i16::from(*s));
            }
            ArrowType::Decimal256(_, s) => {
                any = true;
                wide = true;
                scale = scale.max(*s);
            }
            _ => {}
        }
    }
    if !any {
        return None;
    }
    let precision = int_digits + i16::from(scale.max(0));
    Some(if wide || scale > 38 || precision > 38 {
        ArrowType::Decimal256(76, scale)
    } else {
        let p = u8::try_from(precision.max(1)).unwrap_or(38);
        ArrowType::Decimal128(p.max(scale.max(0) as u8).clamp(1, 38), scale)
    })
}

/// Cast a batch's columns to `schema` (decimal rescaling; other types already match).
pub fn conform(b: RecordBatch, schema: &SchemaRef, table: &str) -> Result<RecordBatch> {
    if b.num_columns() != schema.fields().len() {
        return Err(ServerError::storage(
            format!("table {table:?}"),
            format!(
                "stored data has {} columns, the definition {}",
                b.num_columns(),
                schema.fields().len()
            ),
        ));
    }
    let opts = CastOptions {
        safe: false,
        ..Default::default()
    };
    let mut cols = Vec::with_capacity(b.num_columns());
    for (i, f) in schema.fields().iter().enumerate() {
        let c = b.column(i);
        if c.data_type() == f.data_type() {
            cols.push(c.clone());
        } else if let Some(relabelled) = files::relabel_decimal(c, f.data_type()) {
            cols.push(relabelled);
        } else {
            let cast = arrow_cast::cast_with_options(c, f.data_type(), &opts).map_err(|e| {
                ServerError::bad_request(format!(
                    "table {table:?}, column {:?}: values do not fit {}: {e}",
                    f.name(),
                    f.data_type()
                ))
            })?;
            cols.push(cast);
        }
    }
    let opts = arrow_array::RecordBatchOptions::new().with_row_count(Some(b.num_rows()));
    RecordBatch::try_new_with_options(schema.clone(), cols, &opts).map_err(st("conforming a batch"))
}

impl Dataset {
    /// The dataset directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The current manifest (a snapshot: readers see one version throughout).
    pub fn manifest(&self) -> Arc<Manifest> {
        self.manifest.read().clone()
    }

    /// All published rows of a table (empty when never published).
    pub fn read_table(&self, table_id: &str) -> Result<Vec<RecordBatch>> {
        let m = self.manifest();
        read_table_at(&self.dir, &m, table_id)
    }

    /// Apply the uploads and swap the manifest atomically. Blocking; call from a blocking
    /// thread while holding [`Dataset::publish_lock`]. `cancelled` is checked before the
    /// swap. With `fail_after_staging` the new files are written and fsynced but the swap
    /// does not happen (test hook).
    pub fn publish(
        &self,
        uploads: Vec<TableUpload>,
        fail_after_staging: bool,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<Manifest> {
        let cur = self.manifest();
        let version = cur.version + 1;
        let mut next = (*cur).clone();
        next.version = version;
        let mut written: Vec<PathBuf> = Vec::new();
        let result = self.write_versions(&cur, &mut next, uploads, &mut written);
        if let Err(e) = result {
            for p in &written {
                let _ = std::fs::remove_file(p);
            }
            return Err(e);
        }
        if fail_after_staging {
            return Err(ServerError::Injected(format!(
                "publish of dataset {} interrupted after staging version {version}, before the swap (fault injection)",
                self.def.id
            )));
        }
        if cancelled() {
            for p in &written {
                let _ = std::fs::remove_file(p);
            }
            return Err(ServerError::Conflict(
                "the upload session was cancelled before its publish finished".into(),
            ));
        }
        files::write_json_atomic(&self.dir.join(CURRENT), &next)?;
        *self.manifest.write() = Arc::new(next.clone());
        self.collect_garbage(&cur, &next);
        Ok(next)
    }

    fn write_versions(
        &self,
        cur: &Manifest,
        next: &mut Manifest,
        uploads: Vec<TableUpload>,
        written: &mut Vec<PathBuf>,
    ) -> Result<()> {
        for up in uploads {
            let table = self
                .def
                .tables
                .iter()
                .find(|t| t.id == up.table_id)
                .ok_or_else(|| ServerError::not_found(format!("no table {}", up.table_id)))?;
            let existing = match (cur.tables.get(&table.id), up.policy) {
                (Some(tv), p) if p != UpdatePolicy::Replace => Some(self.dir.join(&tv.file)),
                _ => None,
            };
            let mut schemas = Vec::new();
            if let Some(p) = &existing {
                schemas.push(files::stored_schema(p)?);
            }
            match &up.source {
                UploadSource::Staged(chunks) => {
                    for c in chunks {
                        match c {
                            StagedData::File(p) => schemas.push(files::ipc_schema(p)?),
                            StagedData::Memory(m) => {
                                schemas.extend(m.batches.first().map(|b| b.schema()))
                            }
                        }
                    }
                }
                UploadSource::Batches(bs) => schemas.extend(bs.iter().map(|b| b.schema())),
            }
            let schema = target_schema(table, &schemas);
            let rel = format!(
                "tables/{}/v{version:010}.parquet",
                table.id,
                version = next.version
            );
            let path = self.dir.join(&rel);
            if let Some(parent) = path.parent()
                && !parent.is_dir()
            {
                std::fs::create_dir_all(parent)
                    .map_err(|e| ServerError::io(format!("creating {}", parent.display()), e))?;
                // Make the new directories themselves durable.
                files::sync_dir(&self.dir.join("tables"))?;
                files::sync_dir(&self.dir)?;
            }
            written.push(path.clone());
            let mut sink = files::ParquetSink::create(&path, schema.clone())?;
            let tname = table.name.clone();
            let mut existing_iter: Box<dyn Iterator<Item = Result<RecordBatch>>> = match &existing {
                Some(p) => {
                    let s = schema.clone();
                    let t = tname.clone();
                    Box::new(
                        files::read_stored_parquet(p)?
                            .map(move |b| b.and_then(|b| conform(b, &s, &t))),
                    )
                }
                None => Box::new(std::iter::empty()),
            };
            let chunks: Box<dyn ChunkSource> = match up.source {
                UploadSource::Staged(chunks) => Box::new(StagedChunks {
                    chunks,
                    schema: schema.clone(),
                    table: tname.clone(),
                }),
                UploadSource::Batches(batches) => Box::new(MemoryChunks {
                    batches,
                    schema: schema.clone(),
                    table: tname.clone(),
                }),
            };
            let rows = policy::apply(
                up.policy,
                &table.key_columns,
                &schema,
                &mut existing_iter,
                chunks.as_ref(),
                &mut |b| sink.write(&b),
            )
            .map_err(|e| match e {
                ServerError::BadRequest(m) => {
                    ServerError::BadRequest(format!("table {tname:?}: {m}"))
                }
                other => other,
            })?;
            sink.finish()?;
            if let Some(parent) = path.parent() {
                files::sync_dir(parent)?;
            }
            next.tables
                .insert(table.id.clone(), TableVersion { file: rel, rows });
        }
        Ok(())
    }

    fn collect_garbage(&self, prev: &Manifest, next: &Manifest) {
        for (tid, tv) in &next.tables {
            let keep_prev = prev.tables.get(tid).map(|p| p.file.clone());
            let dir = self.dir.join("tables").join(tid);
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in rd.flatten() {
                let rel = format!("tables/{tid}/{}", e.file_name().to_string_lossy());
                if rel != tv.file && Some(&rel) != keep_prev.as_ref() {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }
}

/// Staged chunks (files are read one at a time).
struct StagedChunks {
    chunks: Vec<StagedData>,
    schema: SchemaRef,
    table: String,
}

impl StagedChunks {
    /// The stored batches of chunk `i` and their schema.
    fn batches(&self, i: usize) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        match self.chunks.get(i) {
            None => Err(ServerError::storage(
                "staged chunks",
                format!("no chunk {i}"),
            )),
            Some(StagedData::File(path)) => files::read_ipc(path),
            Some(StagedData::Memory(m)) => {
                let schema = m
                    .batches
                    .first()
                    .map(|b| b.schema())
                    .unwrap_or_else(|| self.schema.clone());
                Ok((schema, m.batches.clone()))
            }
        }
    }
}

impl ChunkSource for StagedChunks {
    fn len(&self) -> usize {
        self.chunks.len()
    }

    fn load(&self, i: usize) -> Result<RecordBatch> {
        let (file_schema, mut batches) = self.batches(i)?;
        let b = match batches.len() {
            0 => RecordBatch::new_empty(file_schema),
            1 => batches.swap_remove(0),
            _ => arrow_select::concat::concat_batches(&file_schema, &batches)
                .map_err(st("concatenating a staged chunk"))?,
        };
        conform(b, &self.schema, &self.table)
    }

    fn load_parts(&self, i: usize) -> Result<Vec<RecordBatch>> {
        let (_, batches) = self.batches(i)?;
        batches
            .into_iter()
            .map(|b| conform(b, &self.schema, &self.table))
            .collect()
    }
}

/// Batches decoded in memory (single-request workflow).
struct MemoryChunks {
    batches: Vec<RecordBatch>,
    schema: SchemaRef,
    table: String,
}

impl ChunkSource for MemoryChunks {
    fn len(&self) -> usize {
        self.batches.len()
    }

    fn load(&self, i: usize) -> Result<RecordBatch> {
        let b = self
            .batches
            .get(i)
            .ok_or_else(|| ServerError::storage("uploaded batches", format!("no batch {i}")))?;
        conform(b.clone(), &self.schema, &self.table)
    }
}

fn read_table_at(dir: &Path, m: &Manifest, table_id: &str) -> Result<Vec<RecordBatch>> {
    match m.tables.get(table_id) {
        None => Ok(Vec::new()),
        Some(tv) => files::read_parquet(&dir.join(&tv.file))?.collect(),
    }
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let bytes = std::fs::read(path)
        .map_err(|e| ServerError::io(format!("reading {}", path.display()), e))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ServerError::storage(format!("parsing {}", path.display()), e))
}

/// Read a table's published rows straight from a data directory (no server needed).
/// `table` is the table id or name. For tests and tools.
#[doc(hidden)]
pub fn read_table(data_dir: &Path, dataset_id: &str, table: &str) -> Result<Vec<RecordBatch>> {
    let dir = data_dir.join("datasets").join(dataset_id);
    let def: DatasetDef = read_json(&dir.join(DEFINITION))?;
    let t = def.table(table).ok_or_else(|| {
        ServerError::not_found(format!("dataset {dataset_id} has no table {table:?}"))
    })?;
    let cur = dir.join(CURRENT);
    let m: Manifest = if cur.exists() {
        read_json(&cur)?
    } else {
        Manifest::default()
    };
    read_table_at(&dir, &m, &t.id)
}

/// All datasets, loaded from the data directory at start.
#[derive(Debug)]
pub struct Catalog {
    root: PathBuf,
    datasets: RwLock<HashMap<String, Arc<Dataset>>>,
}

impl Catalog {
    /// Open (or create) the data directory: load every dataset, clear stale staging files
    /// and remove table files that no manifest points to (leftovers of interrupted
    /// publishes).
    pub fn open(root: &Path) -> Result<Self> {
        let ds_dir = root.join("datasets");
        std::fs::create_dir_all(&ds_dir)
            .map_err(|e| ServerError::io(format!("creating {}", ds_dir.display()), e))?;
        let staging = root.join("staging");
        if staging.exists() {
            std::fs::remove_dir_all(&staging)
                .map_err(|e| ServerError::io(format!("clearing {}", staging.display()), e))?;
        }
        std::fs::create_dir_all(&staging)
            .map_err(|e| ServerError::io(format!("creating {}", staging.display()), e))?;
        let mut datasets = HashMap::new();
        let rd = std::fs::read_dir(&ds_dir)
            .map_err(|e| ServerError::io(format!("listing {}", ds_dir.display()), e))?;
        for e in rd.flatten() {
            let dir = e.path();
            let def_path = dir.join(DEFINITION);
            if !def_path.is_file() {
                continue;
            }
            let def: DatasetDef = read_json(&def_path)?;
            let cur = dir.join(CURRENT);
            let manifest: Manifest = if cur.is_file() {
                read_json(&cur)?
            } else {
                Manifest::default()
            };
            let ds = Dataset {
                def,
                dir,
                manifest: RwLock::new(Arc::new(manifest.clone())),
                publish_lock: tokio::sync::Mutex::new(()),
            };
            // Remove files of interrupted publishes: keep only what the manifest points to.
            ds.collect_garbage(&manifest, &manifest);
            for t in &ds.def.tables {
                if !manifest.tables.contains_key(&t.id) {
                    let _ = std::fs::remove_dir_all(ds.dir.join("tables").join(&t.id));
                }
            }
            datasets.insert(ds.def.id.clone(), Arc::new(ds));
        }
        tracing::info!(datasets = datasets.len(), dir = %root.display(), "opened data directory");
        Ok(Catalog {
            root: root.to_path_buf(),
            datasets: RwLock::new(datasets),
        })
    }

    /// The directory for staging files.
    pub fn staging_dir(&self) -> PathBuf {
        self.root.join("staging")
    }

    /// Store a new dataset definition (with an empty manifest).
    pub fn create(&self, def: DatasetDef) -> Result<Arc<Dataset>> {
        let dir = self.root.join("datasets").join(&def.id);
        std::fs::create_dir_all(&dir)
            .map_err(|e| ServerError::io(format!("creating {}", dir.display()), e))?;
        files::write_json_atomic(&dir.join(CURRENT), &Manifest::default())?;
        files::write_json_atomic(&dir.join(DEFINITION), &def)?;
        files::sync_dir(&self.root.join("datasets"))?;
        let ds = Arc::new(Dataset {
            def,
            dir,
            manifest: RwLock::new(Arc::new(Manifest::default())),
            publish_lock: tokio::sync::Mutex::new(()),
        });
        self.datasets.write().insert(ds.def.id.clone(), ds.clone());
        Ok(ds)
    }

    /// A dataset by id (any case).
    pub fn get(&self, id: &str) -> Option<Arc<Dataset>> {
        let map = self.datasets.read();
        map.get(id)
            .or_else(|| map.get(&id.to_ascii_uppercase()))
            .cloned()
    }

    /// All datasets.
    pub fn list(&self) -> Vec<Arc<Dataset>> {
        let mut v: Vec<_> = self.datasets.read().values().cloned().collect();
        v.sort_by(|a, b| a.def.name.cmp(&b.def.name));
        v
    }

    /// Delete a dataset and its files. Returns whether it existed.
    pub fn delete(&self, id: &str) -> Result<bool> {
        let Some(ds) = self.get(id) else {
            return Ok(false);
        };
        self.datasets.write().remove(&ds.def.id);
        let def = ds.dir.join(DEFINITION);
        std::fs::remove_file(&def)
            .map_err(|e| ServerError::io(format!("removing {}", def.display()), e))?;
        files::sync_dir(&ds.dir)?;
        std::fs::remove_dir_all(&ds.dir)
            .map_err(|e| ServerError::io(format!("removing {}", ds.dir.display()), e))?;
        Ok(true)
    }
}
