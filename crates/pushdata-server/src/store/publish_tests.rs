#![allow(clippy::unwrap_used)]
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{Int32Array, RecordBatch, StringArray};
use arrow_schema::{DataType as ArrowType, Field, Schema};
use proptest::prelude::*;
use pushdata_core::wire::{ColumnHeader, DataType as WireType};

use super::super::assemble::MAX_FILES;
use super::super::commit::{CommitControl, TableUpload, UploadSource};
use super::super::files::read_stored_parquet;
use super::super::staging::{FILE_ROWS, StagedData, Staging, reset_dir};
use super::super::testing::{Def, batch, control, def, upload, upload_with, values};
use super::super::{Catalog, Dataset, MergePolicy, StoreError, TableDef};
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

/// A row of the table of [`pairs_def`]: its key `k` and payload `w`.
type Row = (i32, i32);

/// Dataset `D` of one table `T`: an Int32 key `k` and an Int32 payload `w`.
fn pairs_def() -> Def {
    Def {
        id: "D".into(),
        tables: vec![TableDef {
            id: "T".into(),
            name: "t".into(),
            columns: vec![
                ColumnHeader::new("k", WireType::Integer),
                ColumnHeader::new("w", WireType::Integer),
            ],
            key_columns: vec![0],
        }],
    }
}

fn pairs(rows: &[Row]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("k", ArrowType::Int32, true),
        Field::new("w", ArrowType::Int32, true),
    ]));
    let k = Int32Array::from_iter_values(rows.iter().map(|r| r.0));
    let w = Int32Array::from_iter_values(rows.iter().map(|r| r.1));
    RecordBatch::try_new(schema, vec![Arc::new(k), Arc::new(w)]).unwrap()
}

fn rows_of(batches: &[RecordBatch]) -> Vec<Row> {
    let col = |b: &RecordBatch, i: usize| {
        let a = b.column(i).as_any().downcast_ref::<Int32Array>().unwrap();
        a.values().to_vec()
    };
    batches
        .iter()
        .flat_map(|b| col(b, 0).into_iter().zip(col(b, 1)))
        .collect()
}

/// The rows of the version file `file` of dataset `ds`.
fn file_rows(ds: &Dataset<Def>, file: &str) -> Vec<Row> {
    let batches = read_stored_parquet(&ds.dir.join(file))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    rows_of(&batches)
}

/// What the keyed merge of the whole table gives, as `merge`'s table says, row by row: the
/// rows of the new version and the uploaded rows skipped.
fn reference(policy: MergePolicy, stored: &[Row], upload: &[Row]) -> (Vec<Row>, u64) {
    let uploaded: HashSet<i32> = upload.iter().map(|r| r.0).collect();
    let stored_keys: HashSet<i32> = stored.iter().map(|r| r.0).collect();
    let stays = |k: &i32| policy == MergePolicy::InsertNew || !uploaded.contains(k);
    let writes = |k: &i32| match policy {
        MergePolicy::InsertNew => !stored_keys.contains(k),
        MergePolicy::Update => stored_keys.contains(k),
        MergePolicy::Delete => false,
        _ => true,
    };
    let mut rows: Vec<Row> = stored.iter().filter(|r| stays(&r.0)).copied().collect();
    rows.extend(upload.iter().filter(|r| writes(&r.0)));
    let skipped = match policy {
        MergePolicy::Delete => 0,
        _ => upload.iter().filter(|r| !writes(&r.0)).count() as u64,
    };
    (rows, skipped)
}

/// A table of one file per entry of `files` (a replace, then appends).
fn table_of_files(catalog: &Catalog<Def>, files_rows: &[Vec<Row>]) -> Arc<Dataset<Def>> {
    let ds = catalog.create(pairs_def()).unwrap();
    for (i, rows) in files_rows.iter().enumerate() {
        let policy = if i == 0 {
            MergePolicy::Replace
        } else {
            MergePolicy::Append
        };
        ds.commit(
            vec![pairs_upload(policy, std::slice::from_ref(rows))],
            control(),
        )
        .unwrap();
    }
    assert_eq!(files(&ds).len(), files_rows.len());
    ds
}

fn pairs_upload(policy: MergePolicy, chunks: &[Vec<Row>]) -> TableUpload {
    TableUpload {
        table_id: "T".into(),
        policy,
        source: UploadSource::Batches(chunks.iter().map(|c| pairs(c)).collect()),
    }
}

/// Publish `chunks` under `policy` into `ds` and check the new version against
/// [`reference`]: its rows in order and the counts; and that exactly the previous files
/// the policy changes are gone from it, the others kept under their names. Returns the
/// previous version's files and the new one's.
fn publish_and_check(
    ds: &Dataset<Def>,
    policy: MergePolicy,
    chunks: &[Vec<Row>],
) -> (Vec<String>, Vec<String>) {
    let before = files(ds);
    let stored = rows_of(&ds.snapshot().read_table("T").unwrap());
    let upload: Vec<Row> = chunks.concat();
    let keys: HashSet<i32> = upload.iter().map(|r| r.0).collect();
    let c = ds
        .commit(vec![pairs_upload(policy, chunks)], control())
        .unwrap();
    let (rows, skipped) = reference(policy, &stored, &upload);
    assert_eq!(rows_of(&ds.snapshot().read_table("T").unwrap()), rows);
    assert_eq!(c.tables[0].1.rows, rows.len() as u64);
    assert_eq!(c.tables[0].1.skipped, skipped);
    let after = files(ds);
    for f in &before {
        let changed = policy != MergePolicy::InsertNew
            && file_rows(ds, f).iter().any(|r| keys.contains(&r.0));
        assert_eq!(
            !after.contains(f),
            changed,
            "{policy:?} of {chunks:?}: {f} (rows {:?}), files {before:?} -> {after:?}",
            file_rows(ds, f)
        );
    }
    (before, after)
}

#[cfg(unix)]
#[test]
fn keyed_publishes_rewrite_only_the_files_holding_an_uploaded_key() {
    let dir = tempfile::tempdir().unwrap();
    let catalog: Catalog<Def> = Catalog::open(dir.path()).unwrap();
    let ds = table_of_files(
        &catalog,
        &[
            vec![(1, 10), (2, 20), (3, 30)],
            vec![(4, 40), (5, 50), (6, 60)],
            vec![(7, 70), (8, 80), (9, 90)],
        ],
    );
    let identities = |names: &[String]| -> Vec<_> {
        names
            .iter()
            .map(|f| identity(&dir.path().join("D").join(f)))
            .collect()
    };
    // Key 5 is in the second file, 10 is new, 5 is uploaded twice.
    let (before, after) = publish_and_check(
        &ds,
        MergePolicy::Upsert,
        &[vec![(5, 51), (10, 100)], vec![(5, 52)]],
    );
    assert_eq!(after.len(), 4, "{after:?}");
    assert_eq!([&after[0], &after[2]], [&before[0], &before[2]]);
    assert_eq!(
        identities(&[after[0].clone(), after[2].clone()]),
        identities(&[before[0].clone(), before[2].clone()]),
        "not rewritten"
    );
    assert_eq!(file_rows(&ds, &after[1]), [(4, 40), (6, 60)]);
    // Update: key 8 in the third file; key 11 is not stored (skipped), so the rows written
    // go into a new file.
    let (before, after) = publish_and_check(&ds, MergePolicy::Update, &[vec![(8, 81), (11, 110)]]);
    let kept = [&before[0], &before[1], &before[3]];
    assert_eq!([&after[0], &after[1], &after[3]], kept);
    assert_eq!(file_rows(&ds, &after[2]), [(7, 70), (9, 90)]);
    assert_eq!(file_rows(&ds, &after[4]), [(8, 81)]);
    // Delete: key 2 in the first file; 99 names no row.
    let (before, after) = publish_and_check(&ds, MergePolicy::Delete, &[vec![(2, 0), (99, 0)]]);
    assert_eq!(after[1..], before[1..]);
    assert_eq!(
        identities(&after[1..]),
        identities(&before[1..]),
        "not rewritten"
    );
    assert_eq!(
        rows_of(&ds.snapshot().read_table("T").unwrap()),
        [
            (1, 10),
            (3, 30),
            (4, 40),
            (6, 60),
            (7, 70),
            (9, 90),
            (5, 51),
            (10, 100),
            (5, 52),
            (8, 81)
        ]
    );
    // Every file touched, with a key stored twice: the whole table merged, as before.
    let (_, after) = publish_and_check(
        &ds,
        MergePolicy::Update,
        &[vec![
            (1, 1),
            (4, 4),
            (7, 7),
            (5, 5),
            (10, 0),
            (8, 8),
            (12, 0),
        ]],
    );
    assert_eq!(after.len(), 1, "one new file of every row: {after:?}");
    // Deleting every row leaves no file.
    let all: Vec<Row> = rows_of(&ds.snapshot().read_table("T").unwrap());
    let (_, after) = publish_and_check(&ds, MergePolicy::Delete, &[all]);
    assert!(after.is_empty(), "{after:?}");
}

#[test]
fn a_failed_keyed_publish_leaves_the_previous_version_and_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let catalog: Catalog<Def> = Catalog::open(dir.path()).unwrap();
    let ds = table_of_files(&catalog, &[vec![(1, 10)], vec![(2, 20)]]);
    let before = files(&ds);
    // The payload of the second chunk is text that is not a number.
    let schema = Arc::new(Schema::new(vec![
        Field::new("k", ArrowType::Int32, true),
        Field::new("w", ArrowType::Utf8, true),
    ]));
    let bad = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int32Array::from(vec![2])),
            Arc::new(StringArray::from(vec!["two"])),
        ],
    )
    .unwrap();
    for policy in [
        MergePolicy::InsertNew,
        MergePolicy::Update,
        MergePolicy::Upsert,
        MergePolicy::Delete,
    ] {
        let up = TableUpload {
            table_id: "T".into(),
            policy,
            source: UploadSource::Batches(vec![pairs(&[(1, 11)]), bad.clone()]),
        };
        let err = ds.commit(vec![up], control()).unwrap_err();
        assert!(
            matches!(&err, StoreError::DoesNotFit { table, column, .. } if table == "t" && column == "w"),
            "{policy:?}: {err}"
        );
        assert_eq!(files(&ds), before);
        assert_eq!(on_disk(dir.path()), before.iter().cloned().collect());
    }
    // A table without key columns has no keyed merge.
    let unkeyed = catalog
        .create(Def {
            id: "E".into(),
            ..def(false)
        })
        .unwrap();
    unkeyed.commit(vec![upload(&[1])], control()).unwrap();
    let err = unkeyed
        .commit(vec![upload_with(MergePolicy::Upsert, &[1])], control())
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::NoKey { table, policy: "upsert" } if table == "t"),
        "{err}"
    );
}

fn stored_rows() -> impl Strategy<Value = Vec<Row>> {
    prop::collection::vec((0..24i32, 0..1000i32), 1..8)
}

fn uploaded_rows() -> impl Strategy<Value = Vec<Row>> {
    prop::collection::vec((0..30i32, 1000..2000i32), 0..6)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// Random tables of several files (keys stored more than once, in several files) and
    /// random uploads (keys uploaded more than once, in several files, new keys): the new
    /// version is the merge of the whole table, and only the files it changes are new.
    #[test]
    fn a_keyed_publish_is_the_merge_of_the_whole_table(
        files_rows in prop::collection::vec(stored_rows(), 1..6),
        chunks in prop::collection::vec(uploaded_rows(), 1..4),
        policy in prop::sample::select(vec![
            MergePolicy::InsertNew,
            MergePolicy::Update,
            MergePolicy::Upsert,
            MergePolicy::Delete,
        ]),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let catalog: Catalog<Def> = Catalog::open(dir.path()).unwrap();
        let ds = table_of_files(&catalog, &files_rows);
        publish_and_check(&ds, policy, &chunks);
    }
}
