//! Joining grouped tables on the attribute forms they share: a full outer hash join, or a
//! cross join (bounded by [`MAX_CROSS_ROWS`]) of tables that share none.
//!
//! Key columns are recognized by name (`a<attr>.<form>`, see [`super::plan::key_name`]);
//! a join keeps the left's columns, then the right's other columns. A shared key column
//! takes the left's value, or the right's on rows only the right has: the elements of an
//! attribute several tables hold are the union of theirs. Forms and metrics of a table
//! that has no row for an element are null there.
//!
//! Each table's rows carry a presence column ([`presence_name`], true on each of its
//! rows, so null where the table contributed nothing); [`keep_present`] then keeps the rows
//! on which each attribute shown or filtered has a value from some table holding it (see
//! `super::execute` for why).

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, BooleanArray, RecordBatch, RecordBatchOptions, UInt32Array};
use arrow_row::{RowConverter, SortField};
use arrow_schema::{DataType, Field, Schema};

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

/// The name of the presence column of the `ti`-th table read (`p<ti>`: neither a key,
/// `a…`, nor a metric, `m…`).
pub(crate) fn presence_name(ti: usize) -> String {
    format!("p{ti}")
}

impl Grouped {
    /// `rows` of `table`, the `ti`-th table read, with its presence column appended.
    pub(crate) fn new(table: String, rows: RecordBatch, ti: usize) -> Result<Grouped> {
        let mut fields: Vec<Field> = rows
            .schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields.push(Field::new(presence_name(ti), DataType::Boolean, true));
        let mut cols = rows.columns().to_vec();
        cols.push(Arc::new(BooleanArray::from(vec![true; rows.num_rows()])));
        let opts = RecordBatchOptions::new().with_row_count(Some(rows.num_rows()));
        let rows = RecordBatch::try_new_with_options(Arc::new(Schema::new(fields)), cols, &opts)
            .map_err(CubeError::arrow(JOINING))?;
        Ok(Grouped { table, rows })
    }
}

/// The rows of `joined` on which, for each group of `required` (indices of tables read),
/// some table of the group contributed (its presence column is set).
pub(crate) fn keep_present(joined: RecordBatch, required: &[Vec<usize>]) -> Result<RecordBatch> {
    let schema = joined.schema();
    let mut keep = vec![true; joined.num_rows()];
    for group in required {
        let cols = group
            .iter()
            .map(|ti| {
                schema
                    .index_of(&presence_name(*ti))
                    .map(|i| joined.column(i))
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(CubeError::arrow(JOINING))?;
        for (r, k) in keep.iter_mut().enumerate() {
            *k = *k && cols.iter().any(|c| c.is_valid(r));
        }
    }
    if keep.iter().all(|k| *k) {
        return Ok(joined);
    }
    arrow_select::filter::filter_record_batch(&joined, &BooleanArray::from(keep))
        .map_err(CubeError::arrow(JOINING))
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

/// Full outer hash join of two grouped tables on their shared attribute forms (a cross
/// join when they share none).
fn join(left: &RecordBatch, right: &RecordBatch) -> Result<RecordBatch> {
    let keys = shared_keys(left, right);
    let (li, ri, right_keys) = if keys.is_empty() {
        let (li, ri) = cross_rows(left.num_rows(), right.num_rows())?;
        (li, ri, Vec::new())
    } else {
        let lk = key_columns(left, &keys)?;
        let rk = cast_like(key_columns(right, &keys)?, &lk)?;
        let (li, ri) = matching_rows(&lk, &rk)?;
        (li, ri, rk)
    };
    take_joined(left, right, &keys, &right_keys, &li, &ri)
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

/// The right's key columns `rk` cast to the types of the left's, `lk`.
fn cast_like(rk: Vec<ArrayRef>, lk: &[ArrayRef]) -> Result<Vec<ArrayRef>> {
    rk.into_iter()
        .zip(lk)
        .map(|(c, l)| {
            if c.data_type() == l.data_type() {
                Ok(c)
            } else {
                arrow_cast::cast(&c, l.data_type()).map_err(CubeError::arrow(JOINING))
            }
        })
        .collect()
}

/// The pairs of rows whose keys are equal (`lk` and `rk`, of the same types), then each
/// left row without a match (paired with null), then each right row without one (paired
/// with null): a full outer join.
fn matching_rows(lk: &[ArrayRef], rk: &[ArrayRef]) -> Result<(UInt32Array, UInt32Array)> {
    let fields = lk
        .iter()
        .map(|c| SortField::new(c.data_type().clone()))
        .collect();
    let conv = RowConverter::new(fields).map_err(CubeError::arrow(JOINING))?;
    let rrows = conv
        .convert_columns(rk)
        .map_err(CubeError::arrow(JOINING))?;
    let mut index: HashMap<&[u8], Vec<u32>> = HashMap::new();
    for (i, r) in rrows.iter().enumerate() {
        index.entry(r.data()).or_default().push(i as u32);
    }
    let lrows = conv
        .convert_columns(lk)
        .map_err(CubeError::arrow(JOINING))?;
    let mut li = Vec::new();
    let mut ri = Vec::new();
    let mut right_matched = vec![false; rrows.num_rows()];
    for (i, r) in lrows.iter().enumerate() {
        match index.get(r.data()) {
            Some(m) => {
                for j in m {
                    li.push(Some(i as u32));
                    ri.push(Some(*j));
                    right_matched[*j as usize] = true;
                }
            }
            None => {
                li.push(Some(i as u32));
                ri.push(None);
            }
        }
    }
    for (j, _) in right_matched.iter().enumerate().filter(|(_, m)| !**m) {
        li.push(None);
        ri.push(Some(j as u32));
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

/// Rows `li` of the left beside rows `ri` of the right (without its `keys` columns; a
/// null index is a row the side does not have). A key column takes the right's value
/// (`right_keys`, cast to the left's types, in `keys` order) where the left has no row.
fn take_joined(
    left: &RecordBatch,
    right: &RecordBatch,
    keys: &[String],
    right_keys: &[ArrayRef],
    li: &UInt32Array,
    ri: &UInt32Array,
) -> Result<RecordBatch> {
    let take = |c: &ArrayRef, idx: &UInt32Array| {
        arrow_select::take::take(c, idx, None).map_err(CubeError::arrow(JOINING))
    };
    let ls = left.schema();
    let mut fields: Vec<Field> = ls.fields().iter().map(|f| f.as_ref().clone()).collect();
    let right_only: BooleanArray = (0..li.len()).map(|i| Some(li.is_null(i))).collect();
    let mut cols = Vec::with_capacity(fields.len());
    for (c, f) in left.columns().iter().zip(ls.fields()) {
        let taken = take(c, li)?;
        let right_key = keys
            .iter()
            .position(|k| k == f.name())
            .and_then(|k| right_keys.get(k));
        let col = match right_key {
            Some(rk) if right_only.true_count() > 0 => {
                let from_right = take(rk, ri)?;
                arrow_select::zip::zip(&right_only, &from_right, &taken)
                    .map_err(CubeError::arrow(JOINING))?
            }
            _ => taken,
        };
        cols.push(col);
    }
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
