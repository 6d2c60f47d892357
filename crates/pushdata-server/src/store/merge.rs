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
//! A table without key columns: `InsertNew` appends every row; `Update`, `Upsert` and
//! `Delete` are refused.
//!
//! Output order: the stored rows that stay, in their order, then the uploaded rows that
//! are written, in upload order (chunk order, then row order).

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
type Sink<'s> = dyn FnMut(RecordBatch) -> Result<()> + 's;

/// Counts the rows passed on to the sink (empty batches are not passed on).
struct Counted<'a, 's> {
    sink: &'a mut Sink<'s>,
    rows: u64,
}

impl Counted<'_, '_> {
    fn emit(&mut self, b: RecordBatch) -> Result<()> {
        self.rows += b.num_rows() as u64;
        if b.num_rows() > 0 {
            (self.sink)(b)
        } else {
            Ok(())
        }
    }
}

/// What a merge wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Merged {
    /// Rows of the new version.
    pub(crate) rows: u64,
    /// Uploaded rows the policy did not write (`InsertNew`: their key was stored;
    /// `Update`: it was not).
    pub(crate) skipped: u64,
}

/// Merge the uploaded chunks into `existing` under `policy`, passing output batches to
/// `sink`. Stored batches must already have `schema`.
pub(crate) fn apply(
    policy: MergePolicy,
    key_columns: &[usize],
    table: &str,
    schema: &SchemaRef,
    existing: &mut dyn Iterator<Item = Result<RecordBatch>>,
    uploaded: &Uploaded,
    sink: &mut Sink<'_>,
) -> Result<Merged> {
    let mut out = Counted { sink, rows: 0 };
    let unkeyed = key_columns.is_empty() && policy == MergePolicy::InsertNew;
    if matches!(policy, MergePolicy::Replace | MergePolicy::Append) || unkeyed {
        if policy != MergePolicy::Replace {
            for b in existing {
                out.emit(b?)?;
            }
        }
        for c in 0..uploaded.len() {
            for b in uploaded.parts(c)? {
                out.emit(b)?;
            }
        }
        return Ok(Merged {
            rows: out.rows,
            skipped: 0,
        });
    }
    if key_columns.is_empty() {
        return Err(StoreError::NoKey {
            table: table.to_string(),
            policy: policy.name(),
        });
    }
    let keys = Keys::new(schema, key_columns)?;
    let upload = UploadKeys::collect(&keys, uploaded)?;
    let mut stored = upload.key_set();
    for b in existing {
        out.emit(filter_stored(policy, &keys, &mut stored, b?)?)?;
    }
    let skipped = upload.write(policy, &stored, uploaded, &mut out)?;
    Ok(Merged {
        rows: out.rows,
        skipped,
    })
}

/// `InsertNew` of `uploaded` into stored rows that stay as they are (a keyed table):
/// `None` when no uploaded key is among `stored_keys` (batches of the stored rows' key
/// columns only, in key order): every uploaded row goes in, as staged. Else the uploaded
/// rows of keys not stored are passed to `sink`, and the counts are of those rows.
pub(crate) fn insert_new(
    key_columns: &[usize],
    schema: &SchemaRef,
    stored_keys: &mut dyn Iterator<Item = Result<RecordBatch>>,
    uploaded: &Uploaded,
    sink: &mut Sink<'_>,
) -> Result<Option<Merged>> {
    let keys = Keys::new(schema, key_columns)?;
    let upload = UploadKeys::collect(&keys, uploaded)?;
    let mut stored = upload.key_set();
    for b in stored_keys {
        let rows = keys.of_key_columns(&b?)?;
        for j in 0..rows.num_rows() {
            if let Some(found) = stored.get_mut(rows.row(j).data()) {
                *found = true;
            }
        }
    }
    if !stored.values().any(|found| *found) {
        return Ok(None);
    }
    let mut out = Counted { sink, rows: 0 };
    let skipped = upload.write(MergePolicy::InsertNew, &stored, uploaded, &mut out)?;
    Ok(Some(Merged {
        rows: out.rows,
        skipped,
    }))
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

/// The keys of every uploaded row, per chunk.
struct UploadKeys {
    chunks: Vec<Rows>,
}

/// Each uploaded key, and whether a stored row has it.
type KeySet<'k> = HashMap<&'k [u8], bool>;

impl UploadKeys {
    /// Pass 1: the keys of every uploaded row.
    fn collect(keys: &Keys<'_>, uploaded: &Uploaded) -> Result<Self> {
        let mut chunks = Vec::with_capacity(uploaded.len());
        for c in 0..uploaded.len() {
            chunks.push(keys.of(&uploaded.load(c)?)?);
        }
        Ok(UploadKeys { chunks })
    }

    /// Every uploaded key, none found among the stored rows yet.
    fn key_set(&self) -> KeySet<'_> {
        let total: usize = self.chunks.iter().map(Rows::num_rows).sum();
        let mut set = HashMap::with_capacity(total);
        for keys in &self.chunks {
            for r in 0..keys.num_rows() {
                set.insert(keys.row(r).data(), false);
            }
        }
        set
    }

    /// Pass 3: stream the uploaded chunks again and write the rows the policy asks for;
    /// returns how many it skipped.
    fn write(
        &self,
        policy: MergePolicy,
        stored: &KeySet<'_>,
        uploaded: &Uploaded,
        out: &mut Counted<'_, '_>,
    ) -> Result<u64> {
        if policy == MergePolicy::Delete {
            return Ok(0);
        }
        let mut skipped = 0u64;
        for (c, keys) in self.chunks.iter().enumerate() {
            let take: UInt32Array = (0..keys.num_rows())
                .filter(|&r| {
                    let found = stored.get(keys.row(r).data()).copied().unwrap_or(false);
                    let write = match policy {
                        MergePolicy::InsertNew => !found,
                        MergePolicy::Update => found,
                        _ => true,
                    };
                    skipped += u64::from(!write);
                    write
                })
                .filter_map(|r| u32::try_from(r).ok())
                .collect();
            if take.is_empty() {
                continue;
            }
            let b = uploaded.load(c)?;
            let rows = if take.len() == b.num_rows() {
                b
            } else {
                arrow_select::take::take_record_batch(&b, &take)
                    .map_err(StoreError::arrow("selecting uploaded rows"))?
            };
            out.emit(rows)?;
        }
        Ok(skipped)
    }
}

/// Pass 2: a stored batch without the rows the upload replaces or deletes; marks the
/// uploaded keys found among the stored rows.
fn filter_stored(
    policy: MergePolicy,
    keys: &Keys<'_>,
    uploaded_keys: &mut KeySet<'_>,
    b: RecordBatch,
) -> Result<RecordBatch> {
    let stored = keys.of(&b)?;
    let keep_matched = policy == MergePolicy::InsertNew;
    let mut keep = Vec::with_capacity(b.num_rows());
    let mut dropped = false;
    for j in 0..b.num_rows() {
        match uploaded_keys.get_mut(stored.row(j).data()) {
            Some(found) => {
                *found = true;
                dropped |= !keep_matched;
                keep.push(keep_matched);
            }
            None => keep.push(true),
        }
    }
    if !dropped {
        return Ok(b);
    }
    arrow_select::filter::filter_record_batch(&b, &BooleanArray::from(keep))
        .map_err(StoreError::arrow("filtering stored rows"))
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

    fn merge_counted(
        policy: MergePolicy,
        keys: &[usize],
        upload: &[(&str, i64)],
    ) -> Result<(Vec<String>, u64)> {
        let stored = batch(&[("a", 1), ("b", 2), ("c", 3)]);
        let uploaded = Uploaded::new(
            UploadSource::Batches(vec![batch(upload)]),
            schema(),
            "t".into(),
        );
        let mut out = Vec::new();
        let merged = apply(
            policy,
            keys,
            "t",
            &schema(),
            &mut std::iter::once(Ok(stored)),
            &uploaded,
            &mut |b| {
                let k = b.column(0).as_any().downcast_ref::<StringArray>().unwrap();
                let v = b.column(1).as_any().downcast_ref::<Int64Array>().unwrap();
                out.extend((0..b.num_rows()).map(|i| format!("{}={}", k.value(i), v.value(i))));
                Ok(())
            },
        )?;
        assert_eq!(merged.rows as usize, out.len());
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
            MergePolicy::Update,
            MergePolicy::Upsert,
            MergePolicy::Delete,
        ] {
            let err = merge(p, &[], &[("a", 1)]).unwrap_err();
            assert!(matches!(err, StoreError::NoKey { .. }), "{p:?}: {err}");
        }
        // Without a key every row is new.
        assert_eq!(
            merge(MergePolicy::InsertNew, &[], &[("a", 9)]).unwrap(),
            ["a=1", "b=2", "c=3", "a=9"]
        );
    }
}
