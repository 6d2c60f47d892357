//! The atomic, versioned commit of a dataset: every changed table gets a new version (its
//! files written or moved in, fsynced, with their directory; see `publish`); then
//! `current.json` is swapped (temp file, fsync, rename, directory fsync). Until the rename,
//! readers and a restarted server see the previous version; after it, the new one. Files no
//! manifest points to are removed.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::RecordBatch;

use super::assemble::Assembly;
use super::catalog::{CURRENT, Dataset, Definition, Manifest, read_manifest};
use super::error::{Result, StoreError};
use super::files;
use super::merge::{MergePolicy, Merged};
use super::publish::publish_table;
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

/// What a commit did: the new manifest, and per table what its merge wrote.
#[derive(Debug)]
pub(crate) struct Committed {
    pub(crate) manifest: Manifest,
    /// Per upload, in order: the table id and its merge's counts.
    pub(crate) tables: Vec<(String, Merged)>,
}

/// What a commit is told besides its uploads: the hook to run before the swap, and
/// whether the caller has given up on it.
pub(crate) struct CommitControl<'a> {
    pub(crate) hook: &'a dyn PublishHook,
    pub(crate) cancelled: &'a (dyn Fn() -> bool + Sync),
}

impl<D: Definition> Dataset<D> {
    /// Merge the uploads and swap the manifest atomically. Blocking; call from a blocking
    /// thread while holding [`Dataset::publish_lock`].
    pub(crate) fn commit(
        &self,
        uploads: Vec<TableUpload>,
        control: CommitControl<'_>,
    ) -> Result<Committed> {
        if self.is_deleted() {
            return Err(StoreError::Deleted {
                dataset: self.def.id().to_string(),
            });
        }
        let cur = self.manifest();
        let mut next = (*cur).clone();
        next.version = cur.version + 1;
        let mut written: Vec<PathBuf> = Vec::new();
        let result = self
            .write_versions(&cur, &mut next, uploads, &mut written)
            .and_then(|tables| self.check_before_swap(&next, &control).map(|()| tables));
        let tables = match result {
            Ok(tables) => tables,
            Err(e) => {
                remove_all(&written);
                return Err(e);
            }
        };
        if let Err(e) = files::write_json_atomic(&self.dir.join(CURRENT), &next) {
            self.reconcile_after_failed_swap(&next, &written);
            return Err(e);
        }
        *self.manifest.write() = Arc::new(next.clone());
        self.collect_garbage(&cur, &next);
        Ok(Committed {
            manifest: next,
            tables,
        })
    }

    /// After the manifest swap failed, believe the disk: the rename may have happened
    /// before a later step (the directory fsync) failed. Memory takes the manifest on disk;
    /// the new files are removed only if that manifest does not point to them.
    fn reconcile_after_failed_swap(&self, next: &Manifest, written: &[PathBuf]) {
        match read_manifest(&self.dir) {
            Ok(on_disk) => {
                let swapped = on_disk == *next;
                *self.manifest.write() = Arc::new(on_disk);
                if !swapped {
                    remove_all(written);
                }
            }
            Err(e) => {
                tracing::error!(dataset = %self.def.id(), "manifest unreadable after a failed swap; keeping every file: {e}");
            }
        }
    }

    fn check_before_swap(&self, next: &Manifest, control: &CommitControl<'_>) -> Result<()> {
        if self.is_deleted() {
            return Err(StoreError::Deleted {
                dataset: self.def.id().to_string(),
            });
        }
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
        // The new version's files are written: the data directory must hold them.
        self.quota.check(0)
    }

    fn write_versions(
        &self,
        cur: &Manifest,
        next: &mut Manifest,
        uploads: Vec<TableUpload>,
        written: &mut Vec<PathBuf>,
    ) -> Result<Vec<(String, Merged)>> {
        let mut tables = Vec::with_capacity(uploads.len());
        for up in uploads {
            let table = self
                .table(&up.table_id)
                .ok_or_else(|| StoreError::UnknownTable {
                    dataset: self.def.id().to_string(),
                    table: up.table_id.clone(),
                })?;
            let asm = Assembly {
                dir: &self.dir,
                table,
                version: next.version,
                written: &mut *written,
            };
            let (version, merged) = publish_table(asm, cur.tables.get(&table.id), up)?;
            next.tables.insert(table.id.clone(), version);
            tables.push((table.id.clone(), merged));
        }
        Ok(tables)
    }

    /// Remove the version files of the tables of `next` that neither `next` nor `prev`
    /// points to and no reader has pinned (a file two versions share stays while either
    /// refers to it).
    fn collect_garbage(&self, prev: &Manifest, next: &Manifest) {
        let keep: HashSet<&str> = prev.files().chain(next.files()).collect();
        for tid in next.tables.keys() {
            let dir = self.dir.join("tables").join(tid);
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in rd.flatten() {
                let rel = format!("tables/{tid}/{}", e.file_name().to_string_lossy());
                if !keep.contains(rel.as_str()) && !self.is_pinned(&rel) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }

    /// At start: remove the files of interrupted publishes, keeping only what `manifest`
    /// points to, and temporary files of interrupted manifest writes.
    pub(super) fn remove_unreferenced_files(&self, manifest: &Manifest) {
        files::remove_temporary_files(&self.dir);
        self.collect_garbage(manifest, manifest);
        for t in self.def.tables() {
            if !manifest.tables.contains_key(&t.id) {
                let _ = std::fs::remove_dir_all(self.dir.join("tables").join(&t.id));
            }
        }
    }
}

fn remove_all(paths: &[PathBuf]) {
    for p in paths {
        let _ = std::fs::remove_file(p);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::store::Catalog;
    use crate::store::testing::{Def, control, def, upload, values};

    #[test]
    fn a_pinned_snapshot_reads_its_version_whatever_is_published_meanwhile() {
        let dir = tempfile::tempdir().unwrap();
        let catalog: Catalog<Def> = Catalog::open(dir.path()).unwrap();
        let ds = catalog.create(def(false)).unwrap();
        ds.commit(vec![upload(&[1])], control()).unwrap();
        let pinned = ds.snapshot();
        // Two publishes: without the pin, the second collects version 1's file.
        ds.commit(vec![upload(&[2])], control()).unwrap();
        ds.commit(vec![upload(&[3])], control()).unwrap();
        assert_eq!(values(&pinned), [1]);
        assert_eq!(values(&ds.snapshot()), [3]);
        // Unpinned, it goes at the next publish.
        let file = dir
            .path()
            .join("D")
            .join(&pinned.manifest().tables["T"].files[0].file);
        drop(pinned);
        ds.commit(vec![upload(&[4])], control()).unwrap();
        assert!(!file.exists());
    }

    #[test]
    fn a_version_file_name_is_never_used_twice() {
        let dir = tempfile::tempdir().unwrap();
        let catalog: Catalog<Def> = Catalog::open(dir.path()).unwrap();
        let ds = catalog.create(def(false)).unwrap();
        ds.commit(vec![upload(&[1, 2])], control()).unwrap();
        let on_disk = ds.snapshot();
        // Planning the same version twice (as a commit did when memory had fallen out of
        // step with the manifest on disk) never picks the same file: a file a manifest
        // points to is never truncated by a later publish.
        let up = upload(&[3]);
        let mut written = Vec::new();
        let mut asm = Assembly {
            dir: &ds.dir,
            table: &ds.def.tables[0],
            version: 1,
            written: &mut written,
        };
        let (a, _) = asm.new_file().unwrap();
        let (b, _) = asm.new_file().unwrap();
        assert_ne!(a, b);
        assert_ne!(a, on_disk.manifest().tables["T"].files[0].file);
        ds.commit(vec![up], control()).unwrap();
        assert_eq!(values(&on_disk), [1, 2], "the previous version is kept");
        assert_eq!(values(&ds.snapshot()), [3]);
    }
}
