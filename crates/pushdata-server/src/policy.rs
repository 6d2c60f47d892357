//! Applying an upload to a table's published rows under an update policy, streaming: the
//! memory used is the uploaded rows' keys plus one batch at a time, whatever the sizes of
//! the upload and of the table.
//!
//! The key of a row is the values of the table's columns that feed attributes (any form);
//! the other columns are the payload. Keys are compared as `arrow-row` rows (one byte
//! string per key, no per-value allocation).
//!
//! | policy | existing row whose key is uploaded | uploaded row with a new key |
//! |---|---|---|
//! | `replace` | dropped (all existing rows are) | inserted (every uploaded row, duplicates kept) |
//! | `add` | kept unchanged | inserted |
//! | `update` | replaced by the uploaded row | ignored |
//! | `upsert` | replaced by the uploaded row | inserted |
//!
//! Duplicate keys inside one upload: `add` uses the FIRST uploaded row of a key;
//! `update` and `upsert` use the LAST uploaded row of a key (upload order = chunk index
//! order, then row order). `replace` keeps all rows.
//! A table without attribute columns has no key: `add` then appends every row, and
//! `update`/`upsert` are refused (400).
//!
//! Output order: the existing rows that stay, in their order, then the uploaded rows that
//! are written (replacements and insertions), in upload order.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use arrow_array::{ArrayRef, BooleanArray, RecordBatch, UInt32Array};
use arrow_row::{RowConverter, Rows, SortField};
use arrow_schema::SchemaRef;
use pushdata_core::wire::UpdatePolicy;

use crate::error::{Result, ServerError};

fn st(e: impl std::fmt::Display) -> ServerError {
    ServerError::storage("applying the update policy", e)
}

/// Whether `policy` can be applied to a table with `key_columns`.
pub fn check_policy(policy: UpdatePolicy, key_columns: &[usize], table: &str) -> Result<()> {
    if key_columns.is_empty() && matches!(policy, UpdatePolicy::Update | UpdatePolicy::Upsert) {
        return Err(ServerError::bad_request(format!(
            "update policy {policy} needs a row key, but table {table:?} has no columns that feed attributes; use add or replace, or map a column to an attribute"
        )));
    }
    Ok(())
}

/// The uploaded rows, as chunks that can be read more than once (in upload order).
pub trait ChunkSource {
    /// Number of chunks.
    fn len(&self) -> usize;
    /// Whether there are no chunks.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Chunk `i`, already conformed to the table's schema.
    fn load(&self, i: usize) -> Result<RecordBatch>;
    /// Chunk `i` as the batches it was stored in (no concatenation), conformed.
    fn load_parts(&self, i: usize) -> Result<Vec<RecordBatch>> {
        Ok(vec![self.load(i)?])
    }
}

/// Merge the uploaded chunks into `existing` under `policy`, passing output batches to
/// `sink`. Returns the number of output rows. All batches must already have `schema`.
pub fn apply(
    policy: UpdatePolicy,
    key_columns: &[usize],
    schema: &SchemaRef,
    existing: &mut dyn Iterator<Item = Result<RecordBatch>>,
    uploaded: &dyn ChunkSource,
    sink: &mut dyn FnMut(RecordBatch) -> Result<()>,
) -> Result<u64> {
    let mut rows = 0u64;
    let mut emit = |b: RecordBatch, sink: &mut dyn FnMut(RecordBatch) -> Result<()>| {
        rows += b.num_rows() as u64;
        if b.num_rows() > 0 { sink(b) } else { Ok(()) }
    };
    if policy == UpdatePolicy::Replace || (policy == UpdatePolicy::Add && key_columns.is_empty()) {
        if policy == UpdatePolicy::Add {
            for b in existing {
                emit(b?, sink)?;
            }
        }
        for c in 0..uploaded.len() {
            for b in uploaded.load_parts(c)? {
                emit(b, sink)?;
            }
        }
        return Ok(rows);
    }
    check_policy(policy, key_columns, "table")?;
    let fields = key_columns
        .iter()
        .map(|&i| SortField::new(schema.field(i).data_type().clone()))
        .collect::<Vec<_>>();
    let conv = RowConverter::new(fields).map_err(st)?;
    let keys_of = |b: &RecordBatch| -> Result<Rows> {
        let cols: Vec<ArrayRef> = key_columns.iter().map(|&i| b.column(i).clone()).collect();
        conv.convert_columns(&cols).map_err(st)
    };

    // Pass 1: the keys of every uploaded row; which row represents each key.
    let mut chunk_keys: Vec<Rows> = Vec::with_capacity(uploaded.len());
    for c in 0..uploaded.len() {
        chunk_keys.push(keys_of(&uploaded.load(c)?)?);
    }
    let total: usize = chunk_keys.iter().map(Rows::num_rows).sum();
    let mut chosen: HashMap<&[u8], (u32, u32)> = HashMap::with_capacity(total);
    for (c, keys) in chunk_keys.iter().enumerate() {
        let c = u32::try_from(c).map_err(st)?;
        for r in 0..keys.num_rows() {
            let at = (c, u32::try_from(r).map_err(st)?);
            match chosen.entry(keys.row(r).data()) {
                Entry::Occupied(mut o) => {
                    if policy != UpdatePolicy::Add {
                        o.insert(at);
                    }
                }
                Entry::Vacant(v) => {
                    v.insert(at);
                }
            }
        }
    }

    // Pass 2: stream the existing rows; keep the ones the upload does not replace.
    let mut matched: Vec<Vec<bool>> = chunk_keys
        .iter()
        .map(|k| vec![false; k.num_rows()])
        .collect();
    for b in existing {
        let b = b?;
        let ek = keys_of(&b)?;
        let mut keep = Vec::with_capacity(b.num_rows());
        let mut dropped = false;
        for j in 0..b.num_rows() {
            match chosen.get(ek.row(j).data()) {
                Some(&(c, r)) => {
                    matched[c as usize][r as usize] = true;
                    let k = policy == UpdatePolicy::Add;
                    dropped |= !k;
                    keep.push(k);
                }
                None => keep.push(true),
            }
        }
        let out = if dropped {
            arrow_select::filter::filter_record_batch(&b, &BooleanArray::from(keep)).map_err(st)?
        } else {
            b
        };
        emit(out, sink)?;
    }

    // Pass 3: stream the uploaded chunks again; write the representative rows the policy
    // asks for.
    for (c, keys) in chunk_keys.iter().enumerate() {
        let take: UInt32Array = (0..keys.num_rows())
            .filter(|&r| {
                let is_rep = chosen
                    .get(keys.row(r).data())
                    .is_some_and(|&(cc, rr)| cc as usize == c && rr as usize == r);
                is_rep
                    && match policy {
                        UpdatePolicy::Add => !matched[c][r],
                        UpdatePolicy::Update => matched[c][r],
                        UpdatePolicy::Upsert | UpdatePolicy::Replace => true,
                    }
            })
            .filter_map(|r| u32::try_from(r).ok())
            .collect();
        if take.is_empty() {
            continue;
        }
        let b = uploaded.load(c)?;
        let out = if take.len() == b.num_rows() {
            b
        } else {
            arrow_select::take::take_record_batch(&b, &take).map_err(st)?
        };
        emit(out, sink)?;
    }
    Ok(rows)
}
