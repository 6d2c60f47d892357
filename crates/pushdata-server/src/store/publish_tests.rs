#![allow(clippy::unwrap_used)]
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::super::assemble::MAX_FILES;
use super::super::commit::{CommitControl, TableUpload, UploadSource};
use super::super::staging::{FILE_ROWS, StagedData, Staging, reset_dir};
use super::super::testing::{Def, batch, control, def, upload, upload_with, values};
use super::super::{Catalog, Dataset, MergePolicy};
use crate::hook::{HookError, PublishHook};

fn files(ds: &Dataset<Def>) -> Vec<String> {
    let m = ds.manifest();
    m.tables["T"].files.iter().map(|f| f.file.clone()).collect()
}

/// What identifies a file on disk: a rewrite makes a new inode.
#[cfg(unix)]
fn identity(path: &Path) -> (u64, std::time::SystemTime) {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).unwrap();
    (m.ino(), m.modified().unwrap())
}

/// The files under the table's directory.
fn on_disk(root: &Path) -> BTreeSet<String> {
    std::fs::read_dir(root.join("D/tables/T"))
        .map(|rd| {
            rd.map(|e| format!("tables/T/{}", e.unwrap().file_name().to_string_lossy()))
                .collect()
        })
        .unwrap_or_default()
}

fn staged(staging: &Staging, dir: &Path, n: usize, values: std::ops::Range<i32>) -> StagedData {
    let path = dir.join(format!("c{n}.parquet"));
    StagedData::keep(staging, &def(false).tables[0], vec![batch(values)], || path).unwrap()
}

fn staged_upload(policy: MergePolicy, chunks: Vec<StagedData>) -> TableUpload {
    TableUpload {
        table_id: "T".into(),
        policy,
        source: UploadSource::Staged(chunks),
    }
}

#[cfg(unix)]
#[test]
fn add_keeps_the_previous_files_as_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let catalog: Catalog<Def> = Catalog::open(dir.path()).unwrap();
    let ds = catalog.create(def(true)).unwrap();
    ds.commit(vec![upload(&[1, 2, 3])], control()).unwrap();
    let first = files(&ds);
    let before = identity(&dir.path().join("D").join(&first[0]));
    // `add` of new keys only: the upload goes in beside the stored file.
    let c = ds
        .commit(
            vec![upload_with(MergePolicy::InsertNew, &[4, 5])],
            control(),
        )
        .unwrap();
    assert_eq!((c.tables[0].1.rows, c.tables[0].1.skipped), (5, 0));
    // `add` with a stored key: the uploaded row of key 3 is skipped, the rest is a new file.
    let c = ds
        .commit(
            vec![upload_with(MergePolicy::InsertNew, &[3, 6])],
            control(),
        )
        .unwrap();
    assert_eq!((c.tables[0].1.rows, c.tables[0].1.skipped), (6, 1));
    let now = files(&ds);
    assert_eq!(now.len(), 3, "{now:?}");
    assert_eq!(
        now[0], first[0],
        "the first version's file is the version's first"
    );
    assert_eq!(
        identity(&dir.path().join("D").join(&now[0])),
        before,
        "and not rewritten"
    );
    assert_eq!(values(&ds.snapshot()), [1, 2, 3, 4, 5, 6]);
    // The same for Append (Veracity) on a table without keys.
    let ds2 = catalog
        .create(super::super::testing::Def {
            id: "E".into(),
            ..def(false)
        })
        .unwrap();
    ds2.commit(vec![upload(&[7])], control()).unwrap();
    let kept = ds2.manifest().tables["T"].files[0].clone();
    ds2.commit(vec![upload_with(MergePolicy::Append, &[7, 8])], control())
        .unwrap();
    assert_eq!(ds2.manifest().tables["T"].files[0], kept);
    assert_eq!(values(&ds2.snapshot()), [7, 7, 8]);
}

#[test]
fn files_shared_by_versions_are_removed_only_when_nothing_refers_to_them() {
    let dir = tempfile::tempdir().unwrap();
    let catalog: Catalog<Def> = Catalog::open(dir.path()).unwrap();
    let ds = catalog.create(def(false)).unwrap();
    ds.commit(vec![upload(&[1])], control()).unwrap();
    let a = files(&ds)[0].clone();
    let pinned = ds.snapshot();
    ds.commit(vec![upload_with(MergePolicy::Append, &[2])], control())
        .unwrap();
    let b = files(&ds)[1].clone();
    ds.commit(vec![upload_with(MergePolicy::Append, &[3])], control())
        .unwrap();
    // Versions 2 and 3 share `a` and `b` with version 1 and each other.
    assert!(on_disk(dir.path()).contains(&a) && on_disk(dir.path()).contains(&b));
    ds.commit(vec![upload(&[9])], control()).unwrap();
    ds.commit(vec![upload(&[10])], control()).unwrap();
    // No manifest refers to `a` or `b` any more; `a` is pinned by a reader of version 1.
    let left = on_disk(dir.path());
    assert!(left.contains(&a), "pinned: {left:?}");
    assert!(!left.contains(&b), "nothing refers to it: {left:?}");
    assert_eq!(values(&pinned), [1]);
    drop(pinned);
    ds.commit(vec![upload(&[11])], control()).unwrap();
    let left = on_disk(dir.path());
    assert!(!left.contains(&a), "{left:?}");
    let expected: BTreeSet<String> = files(&ds).into_iter().collect();
    assert!(expected.is_subset(&left));
    assert!(
        left.len() <= expected.len() + 1,
        "the previous version's file at most: {left:?}"
    );
}

#[test]
fn a_manifest_of_the_previous_format_opens_and_publishes_on() {
    let dir = tempfile::tempdir().unwrap();
    let ds_dir = dir.path().join("D");
    std::fs::create_dir_all(ds_dir.join("tables/T")).unwrap();
    let file = "tables/T/v0000000001-0123456789ab.parquet";
    let mut sink =
        super::super::files::ParquetSink::create(&ds_dir.join(file), batch(0..1).schema()).unwrap();
    sink.write(&batch([5, 6])).unwrap();
    sink.finish().unwrap();
    // The manifest as the previous release wrote it: one `file` per table.
    let old = format!(r#"{{"version": 1, "tables": {{"T": {{"file": "{file}", "rows": 2}}}}}}"#);
    std::fs::write(ds_dir.join("current.json"), old).unwrap();
    std::fs::write(
        ds_dir.join("definition.json"),
        serde_json::to_vec(&def(false)).unwrap(),
    )
    .unwrap();
    assert_eq!(
        super::super::read_table(dir.path(), "D", "t").unwrap()[0].num_rows(),
        2
    );
    let catalog: Catalog<Def> = Catalog::open(dir.path()).unwrap();
    let ds = catalog.get("D").unwrap();
    assert_eq!(values(&ds.snapshot()), [5, 6]);
    ds.commit(vec![upload_with(MergePolicy::Append, &[7])], control())
        .unwrap();
    assert_eq!(files(&ds)[0], file);
    assert_eq!(values(&ds.snapshot()), [5, 6, 7]);
    // The new manifest is in the new shape and opens again.
    drop(catalog);
    let catalog: Catalog<Def> = Catalog::open(dir.path()).unwrap();
    assert_eq!(values(&catalog.get("D").unwrap().snapshot()), [5, 6, 7]);
}

#[test]
fn many_small_chunks_are_coalesced_and_large_staged_files_moved_in() {
    let dir = tempfile::tempdir().unwrap();
    let catalog: Catalog<Def> = Catalog::open(&dir.path().join("datasets")).unwrap();
    let ds = catalog.create(def(false)).unwrap();
    let stage_dir = dir.path().join("staging");
    std::fs::create_dir_all(&stage_dir).unwrap();
    // 300 chunks of 10 rows: in memory, then (no memory) as small staged files.
    for memory in [1 << 30, 0] {
        let staging = Staging::new(memory, 1 << 30);
        let chunks: Vec<StagedData> = (0..300)
            .map(|i| staged(&staging, &stage_dir, i, i as i32 * 10..i as i32 * 10 + 10))
            .collect();
        assert_eq!(
            chunks
                .iter()
                .filter(|c| matches!(c, StagedData::File(_)))
                .count(),
            if memory == 0 { 300 } else { 0 }
        );
        ds.commit(vec![staged_upload(MergePolicy::Replace, chunks)], control())
            .unwrap();
        assert_eq!(files(&ds).len(), 1, "memory {memory}");
        assert_eq!(values(&ds.snapshot()), (0..3000).collect::<Vec<_>>());
    }
    // A chunk of FILE_ROWS rows is a file of its own from the start, moved in as it is.
    let staging = Staging::new(1 << 30, 1 << 30);
    let big = staged(&staging, &stage_dir, 1000, 0..FILE_ROWS as i32);
    let StagedData::File(f) = &big else {
        panic!("a large chunk is staged as a file");
    };
    #[cfg(unix)]
    let staged_inode = identity(f.path()).0;
    let small = staged(&staging, &stage_dir, 1001, 0..3);
    ds.commit(
        vec![staged_upload(MergePolicy::Replace, vec![big, small])],
        control(),
    )
    .unwrap();
    let now = files(&ds);
    assert_eq!(now.len(), 2);
    #[cfg(unix)]
    assert_eq!(
        identity(&dir.path().join("datasets/D").join(&now[0])).0,
        staged_inode
    );
    assert_eq!(ds.manifest().tables["T"].rows, FILE_ROWS + 3);
}

#[test]
fn a_version_of_too_many_files_is_compacted() {
    let dir = tempfile::tempdir().unwrap();
    let catalog: Catalog<Def> = Catalog::open(dir.path()).unwrap();
    let ds = catalog.create(def(false)).unwrap();
    let n = MAX_FILES as i32 + 20;
    for i in 0..n {
        ds.commit(vec![upload_with(MergePolicy::Append, &[i])], control())
            .unwrap();
        assert!(files(&ds).len() <= MAX_FILES, "{} files", files(&ds).len());
    }
    assert_eq!(values(&ds.snapshot()), (0..n).collect::<Vec<_>>());
}

/// Copies the data directory as it is on disk just before the manifest swap: what a
/// server killed at that moment leaves.
#[derive(Debug)]
struct ImageBeforeSwap {
    from: PathBuf,
    to: PathBuf,
}

impl PublishHook for ImageBeforeSwap {
    fn before_swap(&self, _dataset_id: &str, _version: u64) -> Result<(), HookError> {
        for e in walkdir::WalkDir::new(&self.from) {
            let e = e.unwrap();
            let target = self.to.join(e.path().strip_prefix(&self.from).unwrap());
            if e.file_type().is_dir() {
                std::fs::create_dir_all(&target).unwrap();
            } else {
                std::fs::copy(e.path(), &target).unwrap();
            }
        }
        Ok(())
    }
}

#[test]
fn a_crash_between_staging_and_the_swap_leaves_the_previous_version() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let catalog: Catalog<Def> = Catalog::open(&data.join("datasets")).unwrap();
    let ds = catalog.create(def(false)).unwrap();
    ds.commit(vec![upload(&[1, 2])], control()).unwrap();
    let previous = files(&ds);
    let stage_dir = data.join("staging");
    std::fs::create_dir_all(&stage_dir).unwrap();
    let staging = Staging::new(1 << 30, 1 << 30);
    let chunks = vec![
        staged(&staging, &stage_dir, 0, 0..FILE_ROWS as i32),
        staged(&staging, &stage_dir, 1, 0..5),
    ];
    let image = dir.path().join("image");
    let hook = ImageBeforeSwap {
        from: data.clone(),
        to: image.clone(),
    };
    let control = CommitControl {
        hook: &hook,
        cancelled: &|| false,
    };
    ds.commit(vec![staged_upload(MergePolicy::Append, chunks)], control)
        .unwrap();
    assert_eq!(ds.manifest().tables["T"].rows, 2 + FILE_ROWS + 5);
    // The image: new files in the table's directory, no manifest pointing to them.
    assert!(on_disk(&image.join("datasets")).len() > previous.len());
    reset_dir(&image).unwrap();
    assert_eq!(std::fs::read_dir(image.join("staging")).unwrap().count(), 0);
    let restarted: Catalog<Def> = Catalog::open(&image.join("datasets")).unwrap();
    let ds = restarted.get("D").unwrap();
    assert_eq!(values(&ds.snapshot()), [1, 2]);
    assert_eq!(files(&ds), previous);
    let left: Vec<String> = on_disk(&image.join("datasets")).into_iter().collect();
    assert_eq!(left, previous, "the orphaned files are removed");
}
