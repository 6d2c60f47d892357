//! Grouping: rows in, one row per distinct key out, metrics summed.
//!
//! Input batches have the key columns first (`n_keys` of them), then the metric columns.
//! Numeric metrics are summed (SQL semantics: nulls are skipped, all-null is null;
//! integers in 128 bits, decimals in 256 bits at the input's scale); other metrics take
//! the largest value (in Arrow row order).
//!
//! Memory: the groups held at once. When the input has more rows than
//! `max_groups_in_memory`, it is first spilled to `ceil(rows / max_groups_in_memory)`
//! partition files (Arrow IPC) by a hash of the key, and each partition is grouped on its
//! own, so at most about `max_groups_in_memory` groups (plus one input batch) are in
//! memory. Groups come out in order of first appearance within a partition (with one
//! partition, the input's order).

use std::collections::HashMap;
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{BufReader, BufWriter};
use std::path::Path;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Decimal128Type, Decimal256Type, Int32Type, Int64Type};
use arrow_array::{
    Array, ArrayRef, Decimal256Array, Float64Array, Int64Array, RecordBatch, RecordBatchOptions,
    UInt32Array,
};
use arrow_buffer::i256;
use arrow_row::{OwnedRow, RowConverter, Rows, SortField};
use arrow_schema::{DataType as ArrowType, Field, Schema, SchemaRef};

use crate::mstr::error::{ApiError, Result};

/// Groups held in memory at once before the input is partitioned (about 1M rows).
pub const MAX_GROUPS_IN_MEMORY: usize = 1 << 20;

fn st(ctx: &'static str) -> impl Fn(arrow_schema::ArrowError) -> ApiError {
    move |e| ApiError::internal(ctx, e)
}

/// How one metric column is aggregated.
#[derive(Debug)]
enum Acc {
    /// Sum of Int32/Int64 values.
    Int(Vec<Option<i128>>),
    /// Sum of Float64 values.
    Float(Vec<Option<f64>>),
    /// Sum of decimals at one scale.
    Dec(i8, Vec<Option<i256>>),
    /// Largest value of any other type.
    Max(RowConverter, Vec<Option<OwnedRow>>),
}

impl Acc {
    fn new(t: &ArrowType) -> Result<Self> {
        Ok(match t {
            ArrowType::Int8
            | ArrowType::Int16
            | ArrowType::Int32
            | ArrowType::Int64
            | ArrowType::UInt8
            | ArrowType::UInt16
            | ArrowType::UInt32 => Acc::Int(Vec::new()),
            ArrowType::Float64 => Acc::Float(Vec::new()),
            ArrowType::Decimal128(_, s) | ArrowType::Decimal256(_, s) => Acc::Dec(*s, Vec::new()),
            other => Acc::Max(
                RowConverter::new(vec![SortField::new(other.clone())])
                    .map_err(st("grouping rows"))?,
                Vec::new(),
            ),
        })
    }

    fn push_group(&mut self) {
        match self {
            Acc::Int(v) => v.push(None),
            Acc::Float(v) => v.push(None),
            Acc::Dec(_, v) => v.push(None),
            Acc::Max(_, v) => v.push(None),
        }
    }

    /// Add `col[rows[i]]` into group `groups[i]`.
    fn update(&mut self, col: &ArrayRef, groups: &[usize], name: &str) -> Result<()> {
        let overflow = || {
            ApiError::bad_request(format!(
                "metric {name:?}: the sum overflows while grouping rows"
            ))
        };
        match self {
            Acc::Int(v) => {
                let vals: Vec<Option<i128>> = match col.data_type() {
                    ArrowType::Int32 => col
                        .as_primitive::<Int32Type>()
                        .iter()
                        .map(|x| x.map(i128::from))
                        .collect(),
                    ArrowType::Int64 => col
                        .as_primitive::<Int64Type>()
                        .iter()
                        .map(|x| x.map(i128::from))
                        .collect(),
                    _ => {
                        let c = arrow_cast::cast(col, &ArrowType::Int64)
                            .map_err(st("grouping rows"))?;
                        c.as_primitive::<Int64Type>()
                            .iter()
                            .map(|x| x.map(i128::from))
                            .collect()
                    }
                };
                for (g, x) in groups.iter().zip(vals) {
                    if let Some(x) = x {
                        let cur = v[*g].unwrap_or(0);
                        v[*g] = Some(cur.checked_add(x).ok_or_else(overflow)?);
                    }
                }
            }
            Acc::Float(v) => {
                let a = col.as_primitive::<arrow_array::types::Float64Type>();
                for (g, x) in groups.iter().zip(a.iter()) {
                    if let Some(x) = x {
                        v[*g] = Some(v[*g].unwrap_or(0.0) + x);
                    }
                }
            }
            Acc::Dec(scale, v) => {
                let vals: Vec<Option<i256>> = match col.data_type() {
                    ArrowType::Decimal128(_, s) if s == scale => col
                        .as_primitive::<Decimal128Type>()
                        .iter()
                        .map(|x| x.map(i256::from_i128))
                        .collect(),
                    ArrowType::Decimal256(_, s) if s == scale => {
                        col.as_primitive::<Decimal256Type>().iter().collect()
                    }
                    other => {
                        return Err(ApiError::internal(
                            format!("metric {name:?}"),
                            format!("expected a decimal of scale {scale}, found {other}"),
                        ));
                    }
                };
                for (g, x) in groups.iter().zip(vals) {
                    if let Some(x) = x {
                        let cur = v[*g].unwrap_or(i256::ZERO);
                        v[*g] = Some(cur.checked_add(x).ok_or_else(overflow)?);
                    }
                }
            }
            Acc::Max(conv, v) => {
                let rows = conv
                    .convert_columns(std::slice::from_ref(col))
                    .map_err(st("grouping rows"))?;
                for (i, g) in groups.iter().enumerate() {
                    if col.is_null(i) {
                        continue;
                    }
                    let r = rows.row(i);
                    let bigger = match &v[*g] {
                        None => true,
                        Some(cur) => r > cur.row(),
                    };
                    if bigger {
                        v[*g] = Some(r.owned());
                    }
                }
            }
        }
        Ok(())
    }

    /// The aggregated column, and its type.
    fn finish(self, field: &Field) -> Result<ArrayRef> {
        let name = field.name();
        Ok(match self {
            Acc::Int(v) => {
                let mut out = Vec::with_capacity(v.len());
                for x in v {
                    out.push(match x {
                        None => None,
                        Some(x) => Some(i64::try_from(x).map_err(|_| {
                            ApiError::bad_request(format!(
                                "metric {name:?}: the sum {x} does not fit a 64-bit integer"
                            ))
                        })?),
                    });
                }
                Arc::new(Int64Array::from(out))
            }
            Acc::Float(v) => Arc::new(Float64Array::from(v)),
            Acc::Dec(scale, v) => Arc::new(
                Decimal256Array::from(v)
                    .with_precision_and_scale(76, scale)
                    .map_err(st("grouping rows"))?,
            ),
            Acc::Max(conv, v) => {
                // Nulls: a row converted from a one-null array stands for them.
                let null_row = conv
                    .convert_columns(&[arrow_array::new_null_array(field.data_type(), 1)])
                    .map_err(st("grouping rows"))?;
                let rows = v.iter().map(|r| match r {
                    Some(r) => r.row(),
                    None => null_row.row(0),
                });
                let mut cols = conv.convert_rows(rows).map_err(st("grouping rows"))?;
                cols.pop().ok_or_else(|| {
                    ApiError::internal("grouping rows", "no column converted back")
                })?
            }
        })
    }
}

/// The output type of an aggregated metric column of type `t`.
pub fn aggregated_type(t: &ArrowType) -> ArrowType {
    match t {
        ArrowType::Int8
        | ArrowType::Int16
        | ArrowType::Int32
        | ArrowType::Int64
        | ArrowType::UInt8
        | ArrowType::UInt16
        | ArrowType::UInt32 => ArrowType::Int64,
        ArrowType::Decimal128(_, s) | ArrowType::Decimal256(_, s) => ArrowType::Decimal256(76, *s),
        other => other.clone(),
    }
}

/// The schema of the grouped output of input `schema`.
pub fn output_schema(schema: &SchemaRef, n_keys: usize) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            if i < n_keys {
                f.as_ref().clone().with_nullable(true)
            } else {
                Field::new(f.name(), aggregated_type(f.data_type()), true)
            }
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// Groups held in memory.
struct Groups {
    schema: SchemaRef,
    n_keys: usize,
    keys: RowConverter,
    index: HashMap<Box<[u8]>, usize>,
    key_rows: Rows,
    accs: Vec<Acc>,
}

impl Groups {
    fn new(schema: &SchemaRef, n_keys: usize) -> Result<Self> {
        let keys = key_converter(schema, n_keys)?;
        let key_rows = keys.empty_rows(1024, 64 * 1024);
        let accs = schema
            .fields()
            .iter()
            .skip(n_keys)
            .map(|f| Acc::new(f.data_type()))
            .collect::<Result<Vec<_>>>()?;
        Ok(Groups {
            schema: schema.clone(),
            n_keys,
            keys,
            index: HashMap::new(),
            key_rows,
            accs,
        })
    }

    fn add(&mut self, batch: &RecordBatch) -> Result<()> {
        if self.n_keys == 0 {
            // No key: every row is in the one group (the totals).
            if batch.num_rows() == 0 {
                return Ok(());
            }
            if self.index.is_empty() {
                self.index.insert(Box::from(&[][..]), 0);
                for a in &mut self.accs {
                    a.push_group();
                }
            }
            let groups = vec![0; batch.num_rows()];
            for (i, acc) in self.accs.iter_mut().enumerate() {
                let name = self.schema.field(i).name().clone();
                acc.update(batch.column(i), &groups, &name)?;
            }
            return Ok(());
        }
        let rows = self
            .keys
            .convert_columns(&batch.columns()[..self.n_keys])
            .map_err(st("grouping rows"))?;
        let mut groups = Vec::with_capacity(batch.num_rows());
        for r in rows.iter() {
            let bytes = r.as_ref();
            let g = match self.index.get(bytes) {
                Some(g) => *g,
                None => {
                    let g = self.index.len();
                    self.index.insert(bytes.into(), g);
                    self.key_rows.push(r);
                    for a in &mut self.accs {
                        a.push_group();
                    }
                    g
                }
            };
            groups.push(g);
        }
        for (i, acc) in self.accs.iter_mut().enumerate() {
            let name = self.schema.field(self.n_keys + i).name().clone();
            acc.update(batch.column(self.n_keys + i), &groups, &name)?;
        }
        Ok(())
    }

    fn finish(self) -> Result<RecordBatch> {
        let out_schema = output_schema(&self.schema, self.n_keys);
        let n = self.index.len();
        let mut cols = if self.n_keys > 0 {
            self.keys
                .convert_rows(self.key_rows.iter())
                .map_err(st("grouping rows"))?
        } else {
            Vec::new()
        };
        for (i, acc) in self.accs.into_iter().enumerate() {
            cols.push(acc.finish(self.schema.field(self.n_keys + i))?);
        }
        let opts = RecordBatchOptions::new().with_row_count(Some(n));
        RecordBatch::try_new_with_options(out_schema, cols, &opts).map_err(st("grouping rows"))
    }
}

fn key_converter(schema: &SchemaRef, n_keys: usize) -> Result<RowConverter> {
    RowConverter::new(
        schema
            .fields()
            .iter()
            .take(n_keys)
            .map(|f| SortField::new(f.data_type().clone()))
            .collect(),
    )
    .map_err(st("grouping rows"))
}

/// Group `input` (of `schema`, `rows_hint` rows in all) by its first `n_keys` columns and
/// hand the grouped batches to `sink`. With no key columns, the output is one row (the
/// totals) even for no input rows... unless there are no metrics either.
pub fn aggregate(
    schema: &SchemaRef,
    n_keys: usize,
    input: &mut dyn Iterator<Item = Result<RecordBatch>>,
    rows_hint: u64,
    max_groups_in_memory: usize,
    spill_dir: &Path,
    sink: &mut dyn FnMut(RecordBatch) -> Result<()>,
) -> Result<()> {
    let max = max_groups_in_memory.max(1) as u64;
    let parts = rows_hint.div_ceil(max).max(1);
    if parts == 1 || n_keys == 0 {
        let mut g = Groups::new(schema, n_keys)?;
        for b in input {
            g.add(&b?)?;
        }
        let out = g.finish()?;
        if out.num_rows() > 0 {
            sink(out)?;
        }
        return Ok(());
    }
    let parts = usize::try_from(parts).unwrap_or(usize::MAX).min(4096);
    tracing::debug!(
        rows = rows_hint,
        partitions = parts,
        "grouping with spill partitions"
    );
    std::fs::create_dir_all(spill_dir)
        .map_err(|e| ApiError::io(format!("creating {}", spill_dir.display()), e))?;
    let conv = key_converter(schema, n_keys)?;
    let paths: Vec<_> = (0..parts)
        .map(|p| spill_dir.join(format!("part-{p:05}.arrows")))
        .collect();
    {
        let mut writers = Vec::with_capacity(parts);
        for p in &paths {
            let f = File::create(p)
                .map_err(|e| ApiError::io(format!("creating {}", p.display()), e))?;
            writers.push(
                arrow_ipc::writer::StreamWriter::try_new(BufWriter::new(f), schema)
                    .map_err(st("writing a spill partition"))?,
            );
        }
        for b in input {
            let b = b?;
            let rows = conv
                .convert_columns(&b.columns()[..n_keys])
                .map_err(st("grouping rows"))?;
            let mut idx: Vec<Vec<u32>> = vec![Vec::new(); parts];
            for (i, r) in rows.iter().enumerate() {
                let mut h = std::hash::DefaultHasher::new();
                r.as_ref().hash(&mut h);
                let p = (h.finish() % parts as u64) as usize;
                idx[p].push(i as u32);
            }
            for (p, rows) in idx.into_iter().enumerate() {
                if rows.is_empty() {
                    continue;
                }
                let take = UInt32Array::from(rows);
                let cols = b
                    .columns()
                    .iter()
                    .map(|c| arrow_select::take::take(c, &take, None))
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(st("partitioning rows"))?;
                let part =
                    RecordBatch::try_new(schema.clone(), cols).map_err(st("partitioning rows"))?;
                writers[p]
                    .write(&part)
                    .map_err(st("writing a spill partition"))?;
            }
        }
        for w in &mut writers {
            w.finish().map_err(st("writing a spill partition"))?;
        }
    }
    for p in &paths {
        let f = File::open(p).map_err(|e| ApiError::io(format!("opening {}", p.display()), e))?;
        let r = arrow_ipc::reader::StreamReader::try_new(BufReader::new(f), None)
            .map_err(st("reading a spill partition"))?;
        let mut g = Groups::new(schema, n_keys)?;
        for b in r {
            g.add(&b.map_err(st("reading a spill partition"))?)?;
        }
        let out = g.finish()?;
        if out.num_rows() > 0 {
            sink(out)?;
        }
        let _ = std::fs::remove_file(p);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use arrow_array::{Int32Array, StringArray};

    fn input() -> (SchemaRef, Vec<RecordBatch>) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", ArrowType::Utf8, true),
            Field::new("m", ArrowType::Int32, true),
        ]));
        let mut batches = Vec::new();
        for b in 0..10 {
            let keys: Vec<Option<String>> = (0..100)
                .map(|i| {
                    if i == 7 {
                        None
                    } else {
                        Some(format!("k{}", (b * 100 + i) % 250))
                    }
                })
                .collect();
            let ms: Vec<Option<i32>> = (0..100).map(Some).collect();
            batches.push(
                RecordBatch::try_new(
                    schema.clone(),
                    vec![
                        Arc::new(StringArray::from(keys)),
                        Arc::new(Int32Array::from(ms)),
                    ],
                )
                .unwrap(),
            );
        }
        (schema, batches)
    }

    fn run(max: usize) -> Vec<(Option<String>, Option<i64>)> {
        let (schema, batches) = input();
        let dir = tempfile::tempdir().unwrap();
        let mut out = Vec::new();
        aggregate(
            &schema,
            1,
            &mut batches.into_iter().map(Ok),
            1000,
            max,
            dir.path(),
            &mut |b| {
                let k = b.column(0).as_string::<i32>();
                let m = b.column(1).as_primitive::<Int64Type>();
                for i in 0..b.num_rows() {
                    out.push((
                        k.is_valid(i).then(|| k.value(i).to_string()),
                        m.is_valid(i).then(|| m.value(i)),
                    ));
                }
                Ok(())
            },
        )
        .unwrap();
        out.sort();
        out
    }

    #[test]
    fn spilled_partitions_give_the_same_groups() {
        let a = run(1 << 20);
        let b = run(64);
        assert_eq!(a.len(), 251);
        assert_eq!(a, b);
        let total: i64 = a.iter().map(|(_, m)| m.unwrap()).sum();
        assert_eq!(total, 10 * (0..100).sum::<i64>());
    }
}
