//! Applying an upload to a table's published rows under an update policy.
//!
//! The key of a row is the values of the table's columns that feed attributes (any form);
//! the other columns are the payload. Keys are compared as `arrow-row` rows (one byte
//! string per key, no per-value allocation).
//!
//! | policy | existing row, key uploaded | uploaded row, key new |
//! |---|---|---|
//! | `replace` | dropped (all existing rows are) | inserted (every uploaded row, duplicates kept) |
//! | `add` | left untouched | inserted |
//! | `update` | payload replaced | ignored |
//! | `upsert` | payload replaced | inserted |
//!
//! Duplicate keys inside one upload: `add` keeps the FIRST uploaded row of a key;
//! `update` and `upsert` use the LAST uploaded row of a key. `replace` keeps all rows.
//! A table without attribute columns has no key: `add` then appends every row, and
//! `update`/`upsert` are refused (400).
//!
//! Output order: the existing rows in their order (updated in place), then the inserted
//! rows in upload order.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use arrow_array::{ArrayRef, RecordBatch, UInt32Array};
use arrow_row::{RowConverter, SortField};
use arrow_schema::SchemaRef;
use arrow_select::concat::concat_batches;
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

/// Merge `uploaded` into `existing` under `policy`, passing output batches to `sink`.
/// Returns the number of output rows. All batches must already have `schema`.
pub fn apply(
    policy: UpdatePolicy,
    key_columns: &[usize],
    schema: &SchemaRef,
    existing: &mut dyn Iterator<Item = Result<RecordBatch>>,
    uploaded: &mut dyn Iterator<Item = Result<RecordBatch>>,
    sink: &mut dyn FnMut(RecordBatch) -> Result<()>,
) -> Result<u64> {
    let mut rows = 0u64;
    if policy == UpdatePolicy::Replace || (policy == UpdatePolicy::Add && key_columns.is_empty()) {
        if policy == UpdatePolicy::Add {
            for b in existing {
                let b = b?;
                rows += b.num_rows() as u64;
                sink(b)?;
            }
        }
        for b in uploaded {
            let b = b?;
            rows += b.num_rows() as u64;
            sink(b)?;
        }
        return Ok(rows);
    }
    check_policy(policy, key_columns, "table")?;
    let batches = uploaded.collect::<Result<Vec<_>>>()?;
    let new = concat_batches(schema, &batches).map_err(st)?;
    drop(batches);
    let fields = key_columns
        .iter()
        .map(|&i| SortField::new(schema.field(i).data_type().clone()))
        .collect::<Vec<_>>();
    let conv = RowConverter::new(fields).map_err(st)?;
    let keys_of = |b: &RecordBatch| -> Vec<ArrayRef> {
        key_columns.iter().map(|&i| b.column(i).clone()).collect()
    };
    let new_rows = conv.convert_columns(&keys_of(&new)).map_err(st)?;
    let mut first_or_last: HashMap<&[u8], usize> = HashMap::with_capacity(new.num_rows());
    for i in 0..new.num_rows() {
        let k = new_rows.row(i);
        let k: &[u8] = k.data();
        match first_or_last.entry(k) {
            Entry::Occupied(mut o) => {
                if policy != UpdatePolicy::Add {
                    o.insert(i);
                }
            }
            Entry::Vacant(v) => {
                v.insert(i);
            }
        }
    }
    let mut matched = vec![false; new.num_rows()];
    for b in existing {
        let b = b?;
        let er = conv.convert_columns(&keys_of(&b)).map_err(st)?;
        let mut idx: Vec<(usize, usize)> = Vec::with_capacity(b.num_rows());
        let mut changed = false;
        for j in 0..b.num_rows() {
            match first_or_last.get(er.row(j).data()) {
                Some(&i) => {
                    matched[i] = true;
                    if policy == UpdatePolicy::Add {
                        idx.push((0, j));
                    } else {
                        changed = true;
                        idx.push((1, i));
                    }
                }
                None => idx.push((0, j)),
            }
        }
        let out = if changed {
            let cols = (0..schema.fields().len())
                .map(|c| {
                    arrow_select::interleave::interleave(
                        &[b.column(c).as_ref(), new.column(c).as_ref()],
                        &idx,
                    )
                })
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(st)?;
            RecordBatch::try_new(schema.clone(), cols).map_err(st)?
        } else {
            b
        };
        rows += out.num_rows() as u64;
        sink(out)?;
    }
    if matches!(policy, UpdatePolicy::Add | UpdatePolicy::Upsert) {
        let take: UInt32Array = (0..new.num_rows())
            .filter(|&i| !matched[i] && first_or_last.get(new_rows.row(i).data()) == Some(&i))
            .filter_map(|i| u32::try_from(i).ok())
            .collect();
        if !take.is_empty() {
            let out = arrow_select::take::take_record_batch(&new, &take).map_err(st)?;
            rows += out.num_rows() as u64;
            sink(out)?;
        }
    }
    Ok(rows)
}
