//! The datasets of one service under its directory: each a definition the service owns,
//! the manifest of its published version, and its publish lock.
//!
//! ```text
//! <root>/<DATASET_ID>/definition.json      the service's definition (tables, key columns, ...)
//! <root>/<DATASET_ID>/current.json         the manifest: version + the files of each table
//! <root>/<DATASET_ID>/tables/<TABLE_ID>/v<version>-<token>.parquet
//! ```
//!
//! A table version is a list of Parquet files read in order; two versions may share files
//! (an `add` keeps the previous version's files and adds its own). A manifest of the
//! previous format (one `file` per table) is read as a list of one file.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use arrow_array::RecordBatch;
use parking_lot::{Mutex, RwLock};
use pushdata_core::wire::ColumnHeader;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::error::{Result, StoreError};
use super::files;
use super::quota::DataQuota;
use super::snapshot::{Pin, Snapshot};

/// What a service stores about a dataset: its tables, and whatever else it needs (the store
/// keeps it in `definition.json` and never looks inside).
pub(crate) trait Definition:
    Serialize + DeserializeOwned + fmt::Debug + Send + Sync + 'static
{
    /// The dataset id (32 upper-case hex digits).
    fn id(&self) -> &str;
    /// The dataset name, for listings.
    fn name(&self) -> &str;
    /// The tables, in order.
    fn tables(&self) -> &[TableDef];
}

/// A table as the store keeps it: typed columns, and which of them form the row key of a
/// keyed merge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TableDef {
    /// Table id (32 upper-case hex).
    pub(crate) id: String,
    /// Table name.
    pub(crate) name: String,
    /// Columns in order, with their API types.
    pub(crate) columns: Vec<ColumnHeader>,
    /// Indexes of the key columns, ascending.
    pub(crate) key_columns: Vec<usize>,
}

/// One Parquet file of a table version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DataFile {
    /// The Parquet file, relative to the dataset directory.
    pub(crate) file: String,
    /// Number of rows in it.
    pub(crate) rows: u64,
}

/// The published version of one table: its files, read in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "TableVersionOnDisk")]
pub(crate) struct TableVersion {
    /// The Parquet files, in row order.
    pub(crate) files: Vec<DataFile>,
    /// Number of rows in all of them.
    pub(crate) rows: u64,
}

impl TableVersion {
    /// A version made of `files`.
    pub(crate) fn new(files: Vec<DataFile>) -> Self {
        let rows = files.iter().map(|f| f.rows).sum();
        TableVersion { files, rows }
    }

    /// A text naming exactly this version's files (one file: its name, as before versions
    /// had several files).
    pub(crate) fn token(&self) -> String {
        let names: Vec<&str> = self.files.iter().map(|f| f.file.as_str()).collect();
        names.join("\n")
    }
}

/// A table version as manifests hold it: `files` (this format) or the one `file` of the
/// previous format.
#[derive(Deserialize)]
struct TableVersionOnDisk {
    #[serde(default)]
    files: Vec<DataFile>,
    #[serde(default)]
    file: Option<String>,
    rows: u64,
}

impl From<TableVersionOnDisk> for TableVersion {
    fn from(v: TableVersionOnDisk) -> Self {
        let mut files = v.files;
        if let Some(file) = v.file.filter(|_| files.is_empty()) {
            files.push(DataFile { file, rows: v.rows });
        }
        TableVersion {
            files,
            rows: v.rows,
        }
    }
}

impl Manifest {
    /// Every file of every table of this version.
    pub(crate) fn files(&self) -> impl Iterator<Item = &str> {
        self.tables
            .values()
            .flat_map(|t| t.files.iter().map(|f| f.file.as_str()))
    }
}

/// The pointer to a dataset's published data (`current.json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Manifest {
    /// Increases by one per publish.
    pub(crate) version: u64,
    /// Table id -> its published file. Tables never published are absent.
    pub(crate) tables: BTreeMap<String, TableVersion>,
}

/// A dataset: its definition, its current manifest and its publish lock.
#[derive(Debug)]
pub(crate) struct Dataset<D> {
    /// The service's definition.
    pub(crate) def: D,
    pub(super) dir: PathBuf,
    pub(super) manifest: RwLock<Arc<Manifest>>,
    /// Held for the whole of a publish: publishes to one dataset are serialized.
    pub(crate) publish_lock: tokio::sync::Mutex<()>,
    /// Set when the dataset is deleted: a commit that was waiting for the lock fails
    /// instead of recreating its directory.
    pub(super) deleted: AtomicBool,
    /// Version files readers have pinned (file -> readers): garbage collection keeps them.
    pub(super) pins: Pins,
    /// The data directory's quota, checked before a commit's swap.
    pub(super) quota: DataQuota,
}

/// Readers of each pinned version file (file -> readers).
pub(super) type Pins = Arc<Mutex<HashMap<String, usize>>>;

pub(super) const DEFINITION: &str = "definition.json";
pub(super) const CURRENT: &str = "current.json";

impl<D: Definition> Dataset<D> {
    /// The current manifest (a snapshot: readers see one version throughout).
    pub(crate) fn manifest(&self) -> Arc<Manifest> {
        self.manifest.read().clone()
    }

    /// The current version, pinned for reading: its files stay until the snapshot (and
    /// every clone of it) is dropped, whatever is published meanwhile.
    pub(crate) fn snapshot(&self) -> Snapshot {
        // Pin under the manifest's read lock: a commit swaps the manifest under its write
        // lock before it collects garbage, so it sees the pins of every version it replaces.
        let current = self.manifest.read();
        let manifest = current.clone();
        let pin = Pin::new(manifest.files().map(str::to_string).collect(), &self.pins);
        drop(current);
        Snapshot::pinned(self.dir.clone(), manifest, pin)
    }

    /// Whether a reader has pinned the version file `rel`.
    pub(super) fn is_pinned(&self, rel: &str) -> bool {
        self.pins.lock().contains_key(rel)
    }

    /// Whether the dataset was deleted (it only lives on in the hands of earlier callers).
    pub(crate) fn is_deleted(&self) -> bool {
        self.deleted.load(Ordering::SeqCst)
    }

    /// A table by id.
    pub(crate) fn table(&self, table_id: &str) -> Option<&TableDef> {
        self.def.tables().iter().find(|t| t.id == table_id)
    }
}

impl<D: Definition> Dataset<D> {
    /// Load a dataset directory and remove what its manifest does not point to.
    fn load(dir: PathBuf, quota: DataQuota) -> Result<Self> {
        let def: D = read_json(&dir.join(DEFINITION))?;
        let manifest = read_manifest(&dir)?;
        for file in manifest.files() {
            let f = dir.join(file);
            if !f.is_file() {
                return Err(StoreError::io(
                    "finding the published file",
                    f,
                    std::io::ErrorKind::NotFound.into(),
                ));
            }
        }
        let ds = Dataset {
            def,
            dir,
            manifest: RwLock::new(Arc::new(manifest.clone())),
            publish_lock: tokio::sync::Mutex::new(()),
            deleted: AtomicBool::new(false),
            pins: Arc::default(),
            quota,
        };
        ds.remove_unreferenced_files(&manifest);
        Ok(ds)
    }
}

/// Move a dataset directory that cannot be loaded out of the way, so that the server
/// starts with the others; nothing is deleted.
fn quarantine(root: &Path, dir: &Path, err: &StoreError) {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let target_dir = root.parent().unwrap_or(root).join("quarantine");
    let target = target_dir.join(format!("{name}-{}", &crate::ids::new_token()[..8]));
    let moved = std::fs::create_dir_all(&target_dir).and_then(|()| std::fs::rename(dir, &target));
    match moved {
        Ok(()) => {
            tracing::error!(dataset = %name, moved_to = %target.display(), "dataset cannot be loaded and was quarantined: {err}")
        }
        Err(e) => {
            tracing::error!(dataset = %name, "dataset cannot be loaded ({err}) and could not be quarantined ({e}); it is skipped")
        }
    }
}

pub(super) fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = std::fs::read(path).map_err(|e| StoreError::io("reading", path, e))?;
    serde_json::from_slice(&bytes).map_err(|source| StoreError::Json {
        op: "parsing",
        path: path.to_path_buf(),
        source,
    })
}

pub(super) fn read_manifest(dir: &Path) -> Result<Manifest> {
    let cur = dir.join(CURRENT);
    if cur.is_file() {
        read_json(&cur)
    } else {
        Ok(Manifest::default())
    }
}

/// The tables of any service's definition (the rest of the file is not read).
#[derive(Deserialize)]
struct TablesOnly {
    tables: Vec<TableDef>,
}

/// Read a table's published rows straight from a dataset directory under `root` (no
/// server needed). `table` is the table id or name (exact, then any case).
pub(crate) fn read_table(root: &Path, dataset_id: &str, table: &str) -> Result<Vec<RecordBatch>> {
    let dir = root.join(dataset_id);
    let def: TablesOnly = read_json(&dir.join(DEFINITION))?;
    let t = def
        .tables
        .iter()
        .find(|t| t.id.eq_ignore_ascii_case(table))
        .or_else(|| {
            pushdata_core::wire::position_by_name(&def.tables, table, |t| &t.name)
                .map(|i| &def.tables[i])
        })
        .ok_or_else(|| StoreError::UnknownTable {
            dataset: dataset_id.to_string(),
            table: format!("{table:?}"),
        })?;
    let manifest = Arc::new(read_manifest(&dir)?);
    Snapshot::unpinned(dir, manifest).read_table(&t.id)
}

/// All datasets of one service, loaded from its directory at start.
#[derive(Debug)]
pub(crate) struct Catalog<D> {
    root: PathBuf,
    datasets: RwLock<HashMap<String, Arc<Dataset<D>>>>,
    /// The data directory's quota, which the datasets' commits count on.
    quota: DataQuota,
}

impl<D: Definition> Catalog<D> {
    /// Open (or create) the service's directory: load every dataset and remove table files
    /// that no manifest points to (leftovers of interrupted publishes), directories without
    /// a definition (leftovers of deletes) and temporary files. A dataset whose files cannot
    /// be read is moved aside to `<root>/../quarantine/` and logged; the others load.
    #[cfg(test)]
    pub(crate) fn open(root: &Path) -> Result<Self> {
        Self::open_with_quota(root, DataQuota::default())
    }

    /// [`open`](Self::open), the datasets' commits counting on `quota`.
    pub(crate) fn open_with_quota(root: &Path, quota: DataQuota) -> Result<Self> {
        std::fs::create_dir_all(root).map_err(|e| StoreError::io("creating", root, e))?;
        let mut datasets = HashMap::new();
        let rd = std::fs::read_dir(root).map_err(|e| StoreError::io("listing", root, e))?;
        for e in rd.flatten() {
            let dir = e.path();
            if !dir.is_dir() {
                continue;
            }
            if !dir.join(DEFINITION).is_file() {
                tracing::info!(dir = %dir.display(), "removing a dataset directory without a definition (an interrupted delete)");
                let _ = std::fs::remove_dir_all(&dir);
                continue;
            }
            match Dataset::<D>::load(dir.clone(), quota.clone()) {
                Ok(ds) => {
                    datasets.insert(ds.def.id().to_string(), Arc::new(ds));
                }
                Err(err) => quarantine(root, &dir, &err),
            }
        }
        tracing::info!(datasets = datasets.len(), dir = %root.display(), "opened datasets");
        Ok(Catalog {
            root: root.to_path_buf(),
            datasets: RwLock::new(datasets),
            quota,
        })
    }

    /// Store a new dataset definition (with an empty manifest).
    ///
    /// The directory appears complete or not at all: the manifest is written first, the
    /// definition last (a directory without a definition is removed at start-up).
    pub(crate) fn create(&self, def: D) -> Result<Arc<Dataset<D>>> {
        let dir = self.root.join(def.id());
        std::fs::create_dir_all(&dir).map_err(|e| StoreError::io("creating", &dir, e))?;
        files::write_json_atomic(&dir.join(CURRENT), &Manifest::default())?;
        files::write_json_atomic(&dir.join(DEFINITION), &def)?;
        files::sync_dir(&self.root)?;
        let ds = Arc::new(Dataset {
            def,
            dir,
            manifest: RwLock::new(Arc::new(Manifest::default())),
            publish_lock: tokio::sync::Mutex::new(()),
            deleted: AtomicBool::new(false),
            pins: Arc::default(),
            quota: self.quota.clone(),
        });
        self.datasets
            .write()
            .insert(ds.def.id().to_string(), ds.clone());
        Ok(ds)
    }

    /// A dataset by id (any case).
    pub(crate) fn get(&self, id: &str) -> Option<Arc<Dataset<D>>> {
        let map = self.datasets.read();
        map.get(id)
            .or_else(|| map.get(&id.to_ascii_uppercase()))
            .cloned()
    }

    /// All datasets, by name.
    pub(crate) fn list(&self) -> Vec<Arc<Dataset<D>>> {
        let mut v: Vec<_> = self.datasets.read().values().cloned().collect();
        v.sort_by(|a, b| a.def.name().cmp(b.def.name()));
        v
    }

    /// Delete a dataset and its files; call it holding the dataset's publish lock. Returns
    /// whether it existed.
    ///
    /// The definition goes first (durably): from then on the dataset is gone for a
    /// restarted server too, and it is forgotten here. The rest of its directory is removed
    /// now, or at the next start if that fails.
    pub(crate) fn delete(&self, id: &str) -> Result<bool> {
        let Some(ds) = self.get(id) else {
            return Ok(false);
        };
        let def = ds.dir.join(DEFINITION);
        std::fs::remove_file(&def).map_err(|e| StoreError::io("removing", &def, e))?;
        files::sync_dir(&ds.dir)?;
        ds.deleted.store(true, Ordering::SeqCst);
        self.datasets.write().remove(ds.def.id());
        if let Err(e) = std::fs::remove_dir_all(&ds.dir) {
            tracing::warn!(dir = %ds.dir.display(), "removing a deleted dataset's files failed (retried at the next start): {e}");
        }
        Ok(true)
    }
}
