//! Joining grouped tables on the attribute forms they share: an inner hash join, or a
//! cross join (bounded by [`MAX_CROSS_ROWS`]) of tables that share none.
//!
//! Key columns are recognized by name (`a<attr>.<form>`, see [`super::plan::key_name`]);
//! a join keeps the left's columns, then the right's other columns.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions, UInt32Array};
use arrow_row::{RowConverter, SortField};
use arrow_schema::{Field, Schema};

use super::error::{CubeError, Result};

/// The most rows a join of tables that share no attribute may produce.
pub(crate) const MAX_CROSS_ROWS: u64 = 10_000_000;

/// What an Arrow error of a join is wrapped with.
const JOINING: &str = "joining tables";

/// The grouped rows of one table.
#[derive(Debug)]
pub(crate) struct Grouped {
    /// The table's name.
    pub(crate) table: String,
    /// Its grouped rows.
    pub(crate) rows: RecordBatch,
}

/// Join `first` and the `tables`; each next table is one that shares an attribute with
/// the rows joined so far if any does (one that shares none is crossed: its metrics repeat
/// on every row, as a cube shows unrelated metrics).
pub(crate) fn join_all(first: Grouped, mut tables: Vec<Grouped>) -> Result<RecordBatch> {
    let mut joined = first.rows;
    let mut joined_names = vec![first.table];
    while !tables.is_empty() {
        let pos = tables
            .iter()
            .position(|g| !shared_keys(&joined, &g.rows).is_empty())
            .unwrap_or(0);
        let next = tables.remove(pos);
        joined = join(&joined, &next.rows).map_err(|e| CubeError::Join {
            table: next.table.clone(),
            joined: joined_names.clone(),
            source: Box::new(e),
        })?;
        joined_names.push(next.table);
    }
    Ok(joined)
}

/// The key columns `a` and `b` both have, in `a`'s order.
fn shared_keys(a: &RecordBatch, b: &RecordBatch) -> Vec<String> {
    let bs = b.schema();
    a.schema()
        .fields()
        .iter()
        .filter(|f| f.name().starts_with('a') && bs.index_of(f.name()).is_ok())
        .map(|f| f.name().clone())
        .collect()
}

/// Inner hash join of two grouped tables on their shared attribute forms (a cross join
/// when they share none).
fn join(left: &RecordBatch, right: &RecordBatch) -> Result<RecordBatch> {
    let keys = shared_keys(left, right);
    let (li, ri) = if keys.is_empty() {
        cross_rows(left.num_rows(), right.num_rows())?
    } else {
        matching_rows(left, right, &keys)?
    };
    take_joined(left, right, &keys, &li, &ri)
}

/// Every row of the left with every row of the right (400 past [`MAX_CROSS_ROWS`]).
fn cross_rows(left: usize, right: usize) -> Result<(UInt32Array, UInt32Array)> {
    let product = (left as u64).saturating_mul(right as u64);
    if product > MAX_CROSS_ROWS {
        return Err(CubeError::CrossTooLarge {
            left_rows: left,
            right_rows: right,
        });
    }
    let mut li = Vec::new();
    let mut ri = Vec::new();
    for i in 0..left as u32 {
        for j in 0..right as u32 {
            li.push(i);
            ri.push(j);
        }
    }
    Ok((UInt32Array::from(li), UInt32Array::from(ri)))
}

/// The pairs of rows whose `keys` are equal (the right's keys cast to the left's types).
fn matching_rows(
    left: &RecordBatch,
    right: &RecordBatch,
    keys: &[String],
) -> Result<(UInt32Array, UInt32Array)> {
    let lk = key_columns(left, keys)?;
    let rk: Vec<ArrayRef> = key_columns(right, keys)?
        .into_iter()
        .zip(&lk)
        .map(|(c, l)| {
            if c.data_type() == l.data_type() {
                Ok(c)
            } else {
                arrow_cast::cast(&c, l.data_type()).map_err(CubeError::arrow(JOINING))
            }
        })
        .collect::<Result<_>>()?;
    let fields = lk
        .iter()
        .map(|c| SortField::new(c.data_type().clone()))
        .collect();
    let conv = RowConverter::new(fields).map_err(CubeError::arrow(JOINING))?;
    let rrows = conv
        .convert_columns(&rk)
        .map_err(CubeError::arrow(JOINING))?;
    let mut index: HashMap<&[u8], Vec<u32>> = HashMap::new();
    for (i, r) in rrows.iter().enumerate() {
        index.entry(r.data()).or_default().push(i as u32);
    }
    let lrows = conv
        .convert_columns(&lk)
        .map_err(CubeError::arrow(JOINING))?;
    let mut li = Vec::new();
    let mut ri = Vec::new();
    for (i, r) in lrows.iter().enumerate() {
        if let Some(m) = index.get(r.data()) {
            for j in m {
                li.push(i as u32);
                ri.push(*j);
            }
        }
    }
    Ok((UInt32Array::from(li), UInt32Array::from(ri)))
}

/// The columns named `keys` of `b`.
fn key_columns(b: &RecordBatch, keys: &[String]) -> Result<Vec<ArrayRef>> {
    let schema = b.schema();
    keys.iter()
        .map(|k| schema.index_of(k).map(|i| b.column(i).clone()))
        .collect::<std::result::Result<_, _>>()
        .map_err(CubeError::arrow(JOINING))
}

/// Rows `li` of the left beside rows `ri` of the right (without its `keys` columns).
fn take_joined(
    left: &RecordBatch,
    right: &RecordBatch,
    keys: &[String],
    li: &UInt32Array,
    ri: &UInt32Array,
) -> Result<RecordBatch> {
    let take = |c: &ArrayRef, idx: &UInt32Array| {
        arrow_select::take::take(c, idx, None).map_err(CubeError::arrow(JOINING))
    };
    let mut fields: Vec<Field> = left
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    let mut cols: Vec<ArrayRef> = left
        .columns()
        .iter()
        .map(|c| take(c, li))
        .collect::<Result<_>>()?;
    let rs = right.schema();
    for (i, f) in rs.fields().iter().enumerate() {
        if keys.contains(f.name()) {
            continue;
        }
        fields.push(f.as_ref().clone());
        cols.push(take(right.column(i), ri)?);
    }
    let opts = RecordBatchOptions::new().with_row_count(Some(li.len()));
    RecordBatch::try_new_with_options(Arc::new(Schema::new(fields)), cols, &opts)
        .map_err(CubeError::arrow(JOINING))
}
