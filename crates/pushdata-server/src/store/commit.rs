//! The atomic, versioned commit of a dataset: every changed table is merged into a new
//! version file, which is fsynced; then `current.json` is swapped (temp file, fsync,
//! rename, directory fsync). Until the rename, readers and a restarted server see the
//! previous version; after it, the new one. Files no manifest points to are removed.

use std::path::PathBuf;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use super::catalog::{CURRENT, Dataset, Definition, Manifest, TableDef, TableVersion};
use super::error::{Result, StoreError};
use super::files::{self, ParquetSink};
use super::merge::{self, MergePolicy, Uploaded};
use super::schema::{conform, stored_schema_for};
use super::staging::StagedData;
use crate::hook::PublishHook;

/// Where an upload's rows come from at commit.
#[derive(Debug)]
pub(crate) enum UploadSource {
    /// Staged chunks (in memory or files), in upload order.
    Staged(Vec<StagedData>),
    /// Batches decoded in memory (single-request workflow).
    Batches(Vec<RecordBatch>),
}

/// One table's part of a commit.
#[derive(Debug)]
pub(crate) struct TableUpload {
    /// The table id.
    pub(crate) table_id: String,
    /// How the rows are merged into the stored ones.
    pub(crate) policy: MergePolicy,
    /// The rows.
    pub(crate) source: UploadSource,
}

/// What a commit is told besides its uploads: the hook to run before the swap, and
/// whether the caller has given up on it.
pub(crate) struct CommitControl<'a> {
    pub(crate) hook: &'a dyn PublishHook,
    pub(crate) cancelled: &'a (dyn Fn() -> bool + Sync),
}

/// Where one table's new version goes, and the schema it is written with.
struct TablePlan<'d> {
    table: &'d TableDef,
    existing: Option<PathBuf>,
    schema: SchemaRef,
    rel: String,
    path: PathBuf,
}

impl<D: Definition> Dataset<D> {
    /// Merge the uploads and swap the manifest atomically. Blocking; call from a blocking
    /// thread while holding [`Dataset::publish_lock`].
    pub(crate) fn commit(
        &self,
        uploads: Vec<TableUpload>,
        control: CommitControl<'_>,
    ) -> Result<Manifest> {
        let cur = self.manifest();
        let mut next = (*cur).clone();
        next.version = cur.version + 1;
        let mut written: Vec<PathBuf> = Vec::new();
        let result = self
            .write_versions(&cur, &mut next, uploads, &mut written)
            .and_then(|()| self.check_before_swap(&next, &control));
        if let Err(e) = result {
            for p in &written {
                let _ = std::fs::remove_file(p);
            }
            return Err(e);
        }
        files::write_json_atomic(&self.dir.join(CURRENT), &next)?;
        *self.manifest.write() = std::sync::Arc::new(next.clone());
        self.collect_garbage(&cur, &next);
        Ok(next)
    }

    fn check_before_swap(&self, next: &Manifest, control: &CommitControl<'_>) -> Result<()> {
        control
            .hook
            .before_swap(self.def.id(), next.version)
            .map_err(|source| StoreError::Interrupted {
                dataset: self.def.id().to_string(),
                version: next.version,
                source,
            })?;
        if (control.cancelled)() {
            return Err(StoreError::Cancelled);
        }
        Ok(())
    }

    fn write_versions(
        &self,
        cur: &Manifest,
        next: &mut Manifest,
        uploads: Vec<TableUpload>,
        written: &mut Vec<PathBuf>,
    ) -> Result<()> {
        for up in uploads {
            let plan = self.plan_table(cur, next.version, &up)?;
            written.push(plan.path.clone());
            let rows = self.write_table(&plan, up)?;
            next.tables.insert(
                plan.table.id.clone(),
                TableVersion {
                    file: plan.rel,
                    rows,
                },
            );
        }
        Ok(())
    }

    /// Decide the new file of a table and the schema everything merged into it fits.
    fn plan_table(&self, cur: &Manifest, version: u64, up: &TableUpload) -> Result<TablePlan<'_>> {
        let table = self
            .table(&up.table_id)
            .ok_or_else(|| StoreError::UnknownTable {
                dataset: self.def.id().to_string(),
                table: up.table_id.clone(),
            })?;
        let existing = match cur.tables.get(&table.id) {
            Some(tv) if up.policy.keeps_stored_rows() => Some(self.dir.join(&tv.file)),
            _ => None,
        };
        let mut schemas = Vec::new();
        if let Some(p) = &existing {
            schemas.push(files::stored_schema(p)?);
        }
        match &up.source {
            UploadSource::Staged(chunks) => {
                for c in chunks {
                    schemas.extend(c.schema()?);
                }
            }
            UploadSource::Batches(bs) => schemas.extend(bs.iter().map(|b| b.schema())),
        }
        let rel = format!("tables/{}/v{version:010}.parquet", table.id);
        let path = self.dir.join(&rel);
        Ok(TablePlan {
            table,
            existing,
            schema: stored_schema_for(table, &schemas),
            rel,
            path,
        })
    }

    /// Merge the stored rows and the upload into the plan's new file; its row count.
    fn write_table(&self, plan: &TablePlan<'_>, up: TableUpload) -> Result<u64> {
        self.create_table_dir(&plan.path)?;
        let mut sink = ParquetSink::create(&plan.path, plan.schema.clone())?;
        let mut existing: Box<dyn Iterator<Item = Result<RecordBatch>>> = match &plan.existing {
            Some(p) => {
                let s = plan.schema.clone();
                let t = plan.table.name.clone();
                Box::new(
                    files::read_stored_parquet(p)?.map(move |b| b.and_then(|b| conform(b, &s, &t))),
                )
            }
            None => Box::new(std::iter::empty()),
        };
        let uploaded = Uploaded::new(up.source, plan.schema.clone(), plan.table.name.clone());
        let rows = merge::apply(
            up.policy,
            &plan.table.key_columns,
            &plan.table.name,
            &plan.schema,
            &mut existing,
            &uploaded,
            &mut |b| sink.write(&b),
        )?;
        sink.finish()?;
        if let Some(parent) = plan.path.parent() {
            files::sync_dir(parent)?;
        }
        Ok(rows)
    }

    /// Create the directory of a table's version files (and make it durable) if needed.
    fn create_table_dir(&self, path: &std::path::Path) -> Result<()> {
        if let Some(parent) = path.parent()
            && !parent.is_dir()
        {
            std::fs::create_dir_all(parent).map_err(|e| StoreError::io("creating", parent, e))?;
            files::sync_dir(&self.dir.join("tables"))?;
            files::sync_dir(&self.dir)?;
        }
        Ok(())
    }

    /// Remove version files that neither `next` nor `prev` points to.
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

    /// At start: remove the files of interrupted publishes, keeping only what `manifest`
    /// points to.
    pub(super) fn remove_unreferenced_files(&self, manifest: &Manifest) {
        self.collect_garbage(manifest, manifest);
        for t in self.def.tables() {
            if !manifest.tables.contains_key(&t.id) {
                let _ = std::fs::remove_dir_all(self.dir.join("tables").join(&t.id));
            }
        }
    }
}
