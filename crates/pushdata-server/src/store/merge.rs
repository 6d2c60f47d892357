//! Merging an upload into a table's stored rows under a [`MergePolicy`], streaming: the
//! memory used is the uploaded rows' keys plus one batch at a time, whatever the sizes of
//! the upload and of the table.
//!
//! The key of a row is the values of the table's key columns (the caller says which);
//! the other columns are the payload. Keys are compared as `arrow-row` rows (one byte
//! string per key, no per-value allocation).
//!
//! | policy | stored rows of a key that is uploaded | uploaded rows of a key that is not stored |
//! |---|---|---|
//! | `Replace` | dropped (all stored rows are) | inserted (every uploaded row) |
//! | `Append` | kept | inserted (every uploaded row; no key needed) |
//! | `InsertNew` | kept unchanged; the uploaded rows of that key are skipped | all inserted |
//! | `Update` | replaced by all the uploaded rows of that key | skipped |
//! | `Upsert` | replaced by all the uploaded rows of that key | all inserted |
//! | `Delete` | dropped | ignored (uploaded rows only name keys) |
//!
//! Uploaded rows are never de-duplicated: two uploaded rows with one key are both written
//! (or both skipped). The rows `InsertNew` and `Update` skip are counted ([`Merged`]).
//! A table without key columns has no keyed merge: publish appends every row for
//! `InsertNew` there; `Update`, `Upsert` and `Delete` are refused.
//!
//! Output order: the stored rows that stay, in their order, then the uploaded rows that
//! are written, in upload order (chunk order, then row order). The merge runs in passes
//! ([`KeyedMerge`]) so that a caller can keep groups of stored rows the upload does not
//! change (a table's files) without reading or writing them whole.

use std::collections::HashMap;

use arrow_array::{ArrayRef, BooleanArray, RecordBatch, UInt32Array};
use arrow_row::{RowConverter, Rows, SortField};
use arrow_schema::SchemaRef;

use super::commit::UploadSource;
use super::error::{Result, StoreError};
use super::schema::conform;

/// How uploaded rows are merged into a table's stored rows (see the module table).
///
/// `Append` and `Delete` have no Push Data API policy; they are here for the Veracity
/// ingest service (its Append and Delete operations), which comes next on this store.
#[cfg_attr(not(test), allow(dead_code))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MergePolicy {
    /// The upload becomes the table.
    Replace,
    /// Every uploaded row is added.
    Append,
    /// Uploaded rows whose key is not stored are added.
    InsertNew,
    /// Stored rows whose key is uploaded take the uploaded values.
    Update,
    /// `Update`, and uploaded rows with a new key are added.
    Upsert,
    /// Stored rows whose key is uploaded are removed.
    Delete,
}

impl MergePolicy {
    /// The policy's name, for errors.
    pub(crate) fn name(self) -> &'static str {
        match self {
            MergePolicy::Replace => "replace",
            MergePolicy::Append => "append",
            MergePolicy::InsertNew => "insert-new",
            MergePolicy::Update => "update",
            MergePolicy::Upsert => "upsert",
            MergePolicy::Delete => "delete",
        }
    }

    /// Whether the merge reads the stored rows (all but `Replace`).
    pub(crate) fn keeps_stored_rows(self) -> bool {
        self != MergePolicy::Replace
    }

    /// Whether the merge compares keys (it needs key columns).
    pub(crate) fn needs_key(self) -> bool {
        matches!(
            self,
            MergePolicy::Update | MergePolicy::Upsert | MergePolicy::Delete
        )
    }
}

/// The uploaded rows of one table, as chunks that can be read more than once (in upload
/// order), conformed to the table's stored schema as they are read.
#[derive(Debug)]
pub(crate) struct Uploaded {
    source: UploadSource,
    schema: SchemaRef,
    table: String,
}

impl Uploaded {
    /// `source`'s rows, to be read with `schema`.
    pub(crate) fn new(source: UploadSource, schema: SchemaRef, table: String) -> Self {
        Uploaded {
            source,
            schema,
            table,
        }
    }

    /// The source, to be used as it is.
    pub(crate) fn into_source(self) -> UploadSource {
        self.source
    }

    fn len(&self) -> usize {
        match &self.source {
            UploadSource::Staged(c) => c.len(),
            UploadSource::Batches(b) => b.len(),
        }
    }

    /// Chunk `i` as the batches it was kept in, conformed.
    fn parts(&self, i: usize) -> Result<Vec<RecordBatch>> {
        let batches = match &self.source {
            UploadSource::Batches(b) => b.get(i).cloned().into_iter().collect(),
            UploadSource::Staged(chunks) => match chunks.get(i) {
                None => Vec::new(),
                Some(staged) => staged.batches()?,
            },
        };
        batches
            .into_iter()
            .map(|b| conform(b, &self.schema, &self.table))
            .collect()
    }

    /// Chunk `i` as one batch, conformed.
    fn load(&self, i: usize) -> Result<RecordBatch> {
        let mut parts = self.parts(i)?;
        match parts.len() {
            0 => Ok(RecordBatch::new_empty(self.schema.clone())),
            1 => Ok(parts.swap_remove(0)),
            _ => arrow_select::concat::concat_batches(&self.schema, &parts)
                .map_err(StoreError::arrow("concatenating a staged chunk")),
        }
    }
}

/// Where the output batches of a merge go.
pub(crate) type Sink<'s> = dyn FnMut(RecordBatch) -> Result<()> + 's;

/// What a merge wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Merged {
    /// Rows written: of the new version for a publish, of the uploaded rows for
    /// [`KeyedMerge::write`].
    pub(crate) rows: u64,
    /// Uploaded rows the policy did not write (`InsertNew`: their key was stored;
    /// `Update`: it was not).
    pub(crate) skipped: u64,
}

/// A keyed merge of an upload into a table's stored rows, in three passes: the keys of
/// every uploaded row ([`KeyedMerge::new`]); the stored rows in order, each batch either
/// filtered ([`KeyedMerge::filter`]: the rows that stay) or only looked up by its keys
/// ([`KeyedMerge::mark`]: whether the policy would change it); then the uploaded rows the
/// policy writes ([`KeyedMerge::write`]). Every stored row must go through `filter` or
/// `mark` (in any order) before `write`: which uploaded keys are stored decides what it
/// writes. A group of stored rows `mark` finds unchanged (a table's file) can be kept as
/// it is; filtering every stored batch and writing after them is the whole merge.
pub(crate) struct KeyedMerge<'k> {
    policy: MergePolicy,
    keys: Keys<'k>,
    /// The keys of every uploaded row, per chunk.
    upload: Vec<Rows>,
}

/// Each uploaded key, and whether a stored row has it (among the stored rows passed to
/// [`KeyedMerge::filter`] and [`KeyedMerge::mark`] so far). Every stored row is looked up
/// in it, so it hashes with aHash (SipHash, the standard one, was a tenth of a keyed
/// publish's CPU time).
pub(crate) struct Found<'u>(HashMap<&'u [u8], bool, ahash::RandomState>);

impl Found<'_> {
    /// Whether `key` is uploaded; if so it is marked as stored.
    fn mark(&mut self, key: &[u8]) -> bool {
        match self.0.get_mut(key) {
            Some(found) => {
                *found = true;
                true
            }
            None => false,
        }
    }
}

impl<'k> KeyedMerge<'k> {
    /// Pass 1: the keys of every uploaded row, for a merge under `policy` on the key
    /// columns `key_columns` (ascending) of `schema`. A table without key columns has no
    /// keyed merge ([`StoreError::NoKey`]): publish adds all the rows of `Replace`, `Append`
    /// and `InsertNew` there without one.
    pub(crate) fn new(
        policy: MergePolicy,
        key_columns: &'k [usize],
        table: &str,
        schema: &SchemaRef,
        uploaded: &Uploaded,
    ) -> Result<Self> {
        if key_columns.is_empty() {
            return Err(StoreError::NoKey {
                table: table.to_string(),
                policy: policy.name(),
            });
        }
        let keys = Keys::new(schema, key_columns)?;
        let mut upload = Vec::with_capacity(uploaded.len());
        for c in 0..uploaded.len() {
            upload.push(keys.of(&uploaded.load(c)?)?);
        }
        Ok(KeyedMerge {
            policy,
            keys,
            upload,
        })
    }

    /// Every uploaded key, none found among the stored rows yet.
    pub(crate) fn found(&self) -> Found<'_> {
        let total: usize = self.upload.iter().map(Rows::num_rows).sum();
        let mut set = HashMap::with_capacity_and_hasher(total, ahash::RandomState::new());
        for keys in &self.upload {
            for r in 0..keys.num_rows() {
                set.insert(keys.row(r).data(), false);
            }
        }
        Found(set)
    }

    /// Whether a stored row stays, its key uploaded or not.
    fn stays(&self, uploaded_key: bool) -> bool {
        match self.policy {
            MergePolicy::Replace => false,
            MergePolicy::Append | MergePolicy::InsertNew => true,
            MergePolicy::Update | MergePolicy::Upsert | MergePolicy::Delete => !uploaded_key,
        }
    }

    /// Whether an uploaded row is written, its key stored or not.
    fn writes(&self, stored_key: bool) -> bool {
        match self.policy {
            MergePolicy::InsertNew => !stored_key,
            MergePolicy::Update => stored_key,
            MergePolicy::Delete => false,
            MergePolicy::Replace | MergePolicy::Append | MergePolicy::Upsert => true,
        }
    }

    /// Per stored row of `keys`, whether it stays; marks the uploaded keys among them.
    fn staying(&self, found: &mut Found<'_>, keys: &Rows) -> Vec<bool> {
        (0..keys.num_rows())
            .map(|j| self.stays(found.mark(keys.row(j).data())))
            .collect()
    }

    /// Pass 2, for stored rows kept as they are if the policy leaves them so: marks the
    /// uploaded keys in `key_batch` (the key columns of stored rows, in key order) and says
    /// whether the policy drops any of its rows.
    pub(crate) fn mark(&self, found: &mut Found<'_>, key_batch: &RecordBatch) -> Result<bool> {
        let keys = self.keys.of_key_columns(key_batch)?;
        Ok(self.staying(found, &keys).contains(&false))
    }

    /// Pass 2: a stored batch without the rows the upload replaces or deletes; marks the
    /// uploaded keys found among its rows.
    pub(crate) fn filter(&self, found: &mut Found<'_>, b: RecordBatch) -> Result<RecordBatch> {
        let keep = self.staying(found, &self.keys.of(&b)?);
        if !keep.contains(&false) {
            return Ok(b);
        }
        arrow_select::filter::filter_record_batch(&b, &BooleanArray::from(keep))
            .map_err(StoreError::arrow("filtering stored rows"))
    }

    /// Whether [`KeyedMerge::write`] would write every uploaded row as it is (so the
    /// upload can go in as it was staged).
    pub(crate) fn writes_every_row(&self, found: &Found<'_>) -> bool {
        self.policy != MergePolicy::Delete && found.0.values().all(|&f| self.writes(f))
    }

    /// Pass 3: stream the uploaded chunks again and pass the rows the policy writes to
    /// `sink`, in upload order; says how many it wrote and how many it skipped (`Delete`
    /// writes none and skips none: its uploaded rows only name keys).
    pub(crate) fn write(
        &self,
        found: &Found<'_>,
        uploaded: &Uploaded,
        sink: &mut Sink<'_>,
    ) -> Result<Merged> {
        if self.policy == MergePolicy::Delete {
            return Ok(Merged::default());
        }
        let (mut rows, mut skipped) = (0u64, 0u64);
        for (c, keys) in self.upload.iter().enumerate() {
            let take: UInt32Array = (0..keys.num_rows())
                .filter(|&r| {
                    let stored = found.0.get(keys.row(r).data()).copied().unwrap_or(false);
                    let write = self.writes(stored);
                    skipped += u64::from(!write);
                    write
                })
                .filter_map(|r| u32::try_from(r).ok())
                .collect();
            if take.is_empty() {
                continue;
            }
            let b = uploaded.load(c)?;
            let b = if take.len() == b.num_rows() {
                b
            } else {
                arrow_select::take::take_record_batch(&b, &take)
                    .map_err(StoreError::arrow("selecting uploaded rows"))?
            };
            rows += b.num_rows() as u64;
            sink(b)?;
        }
        Ok(Merged { rows, skipped })
    }
}

/// Turns the key columns of batches into comparable rows.
struct Keys<'k> {
    conv: RowConverter,
    columns: &'k [usize],
}

impl<'k> Keys<'k> {
    fn new(schema: &SchemaRef, columns: &'k [usize]) -> Result<Self> {
        let fields = columns
            .iter()
            .map(|&i| SortField::new(schema.field(i).data_type().clone()))
            .collect::<Vec<_>>();
        let conv = RowConverter::new(fields).map_err(StoreError::arrow("comparing row keys"))?;
        Ok(Keys { conv, columns })
    }

    /// The keys of a batch holding only the key columns, in key order.
    fn of_key_columns(&self, b: &RecordBatch) -> Result<Rows> {
        self.conv
            .convert_columns(b.columns())
            .map_err(StoreError::arrow("comparing row keys"))
    }

    fn of(&self, b: &RecordBatch) -> Result<Rows> {
        let cols: Vec<ArrayRef> = self.columns.iter().map(|&i| b.column(i).clone()).collect();
        self.conv
            .convert_columns(&cols)
            .map_err(StoreError::arrow("comparing row keys"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;

    use arrow_array::{Int64Array, StringArray};
    use arrow_schema::{DataType, Field, Schema};

    use super::*;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("k", DataType::Utf8, true),
            Field::new("v", DataType::Int64, true),
        ]))
    }

    fn batch(rows: &[(&str, i64)]) -> RecordBatch {
        RecordBatch::try_new(
            schema(),
            vec![
                Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))),
                Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.1))),
            ],
        )
        .unwrap()
    }

    fn merge(policy: MergePolicy, keys: &[usize], upload: &[(&str, i64)]) -> Result<Vec<String>> {
        merge_counted(policy, keys, upload).map(|(rows, _)| rows)
    }

    fn texts(b: &RecordBatch) -> Vec<String> {
        let k = b.column(0).as_any().downcast_ref::<StringArray>().unwrap();
        let v = b.column(1).as_any().downcast_ref::<Int64Array>().unwrap();
        (0..b.num_rows())
            .map(|i| format!("{}={}", k.value(i), v.value(i)))
            .collect()
    }

    fn uploaded(rows: &[(&str, i64)]) -> Uploaded {
        Uploaded::new(
            UploadSource::Batches(vec![batch(rows)]),
            schema(),
            "t".into(),
        )
    }

    /// The whole merge of `upload` into the stored rows a=1, b=2, c=3: every stored row
    /// filtered, then the uploaded rows written.
    fn merge_counted(
        policy: MergePolicy,
        keys: &[usize],
        upload: &[(&str, i64)],
    ) -> Result<(Vec<String>, u64)> {
        let uploaded = uploaded(upload);
        let m = KeyedMerge::new(policy, keys, "t", &schema(), &uploaded)?;
        let mut found = m.found();
        let mut out = texts(&m.filter(&mut found, batch(&[("a", 1), ("b", 2), ("c", 3)]))?);
        let stayed = out.len();
        let merged = m.write(&found, &uploaded, &mut |b| {
            out.extend(texts(&b));
            Ok(())
        })?;
        assert_eq!(stayed + merged.rows as usize, out.len());
        Ok((out, merged.skipped))
    }

    #[test]
    fn every_policy_follows_the_table() {
        let up = [("b", 20), ("d", 40), ("d", 41), ("b", 21)];
        let keyed = |p| merge(p, &[0], &up).unwrap();
        assert_eq!(
            keyed(MergePolicy::Replace),
            ["b=20", "d=40", "d=41", "b=21"]
        );
        assert_eq!(
            keyed(MergePolicy::Append),
            ["a=1", "b=2", "c=3", "b=20", "d=40", "d=41", "b=21"]
        );
        // Uploaded rows are never de-duplicated: both rows of the new key d go in.
        assert_eq!(
            keyed(MergePolicy::InsertNew),
            ["a=1", "b=2", "c=3", "d=40", "d=41"]
        );
        // The stored rows of b are replaced by all the uploaded rows of b.
        assert_eq!(keyed(MergePolicy::Update), ["a=1", "c=3", "b=20", "b=21"]);
        assert_eq!(
            keyed(MergePolicy::Upsert),
            ["a=1", "c=3", "b=20", "d=40", "d=41", "b=21"]
        );
        assert_eq!(keyed(MergePolicy::Delete), ["a=1", "c=3"]);
    }

    #[test]
    fn skipped_rows_are_counted() {
        let up = [("b", 20), ("d", 40), ("d", 41), ("b", 21)];
        let skipped = |p| merge_counted(p, &[0], &up).unwrap().1;
        assert_eq!(
            skipped(MergePolicy::InsertNew),
            2,
            "both rows of the stored key b"
        );
        assert_eq!(
            skipped(MergePolicy::Update),
            2,
            "both rows of the new key d"
        );
        assert_eq!(skipped(MergePolicy::Upsert), 0);
        assert_eq!(skipped(MergePolicy::Replace), 0);
    }

    #[test]
    fn keyed_merges_need_key_columns() {
        for p in [
            MergePolicy::InsertNew,
            MergePolicy::Update,
            MergePolicy::Upsert,
            MergePolicy::Delete,
        ] {
            let err = merge(p, &[], &[("a", 1)]).unwrap_err();
            assert!(
                matches!(&err, StoreError::NoKey { table, policy } if table == "t" && *policy == p.name()),
                "{p:?}: {err}"
            );
        }
    }

    #[test]
    fn marking_keys_says_which_stored_rows_change_and_writes_the_same() {
        let up = [("b", 20), ("d", 40), ("b", 21)];
        let groups = [batch(&[("a", 1)]), batch(&[("b", 2), ("c", 3)])];
        for p in [
            MergePolicy::InsertNew,
            MergePolicy::Update,
            MergePolicy::Upsert,
            MergePolicy::Delete,
        ] {
            let uploaded = uploaded(&up);
            let m = KeyedMerge::new(p, &[0], "t", &schema(), &uploaded).unwrap();
            let mut found = m.found();
            let changes: Vec<bool> = groups
                .iter()
                .map(|g| m.mark(&mut found, &g.project(&[0]).unwrap()).unwrap())
                .collect();
            let drops = p != MergePolicy::InsertNew;
            assert_eq!(changes, [false, drops], "{p:?}: only the group of b");
            // Marked only, the uploaded rows written are those of the whole merge.
            let mut written = Vec::new();
            let merged = m
                .write(&found, &uploaded, &mut |b| {
                    written.extend(texts(&b));
                    Ok(())
                })
                .unwrap();
            let (whole, skipped) = merge_counted(p, &[0], &up).unwrap();
            assert_eq!(whole[whole.len() - written.len()..], written, "{p:?}");
            assert_eq!(merged.skipped, skipped, "{p:?}");
            assert_eq!(
                m.writes_every_row(&found),
                p == MergePolicy::Upsert,
                "{p:?}: d is not stored, b is"
            );
        }
    }
}
