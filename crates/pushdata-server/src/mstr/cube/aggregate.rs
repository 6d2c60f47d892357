//! Grouping: rows in, one row per distinct key out, metrics aggregated
//! ([`super::accumulate`]).
//!
//! Input batches have the key columns first (`n_keys` of them), then the metric columns.
//!
//! Rows whose keys are all distinct (found by a hash of each row's keys,
//! [`super::distinct`]) are handed on as they are, each a group of its own, with no key
//! rows built; the check gives up at the first repeated hash, and the rows are then
//! grouped by their key rows.
//!
//! Memory: the groups held at once (with the distinct check, the input batches read until
//! it gives up). When the input has more rows than
//! `max_groups_in_memory`, it is first spilled to `ceil(rows / max_groups_in_memory)`
//! partition files (Arrow IPC) by a hash of the key, and each partition is grouped on its
//! own, so at most about `max_groups_in_memory` groups (plus one input batch) are in
//! memory. Groups come out in order of first appearance within a partition (with one
//! partition, the input's order).

use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchOptions, UInt32Array};
use arrow_ipc::writer::StreamWriter;
use arrow_row::{RowConverter, Rows, SortField};
use arrow_schema::{DataType as ArrowType, Field, Schema, SchemaRef};
use hashbrown::HashTable;
use rayon::prelude::*;

use super::accumulate::{Acc, aggregated_type};
use super::distinct::{DistinctCheck, row_parts};
use super::error::{CubeError, Result};

/// Groups held in memory at once before the input is partitioned (about 1M rows).
pub(crate) const MAX_GROUPS_IN_MEMORY: usize = 1 << 20;

/// The most spill partitions.
const MAX_PARTITIONS: usize = 4096;

/// What an Arrow error of grouping is wrapped with.
const GROUPING: &str = "grouping rows";

/// What an Arrow error of writing a partition is wrapped with.
const WRITING_PARTITION: &str = "writing a spill partition";

/// The schema of the grouped output of input `schema`.
pub(crate) fn output_schema(schema: &SchemaRef, n_keys: usize) -> SchemaRef {
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

/// Groups held in memory: each distinct key's row and its metrics' accumulators.
struct Groups {
    /// The schema of the input batches (keys first).
    schema: SchemaRef,
    /// Key columns at the start of the input.
    n_keys: usize,
    /// Converts keys to comparable rows.
    keys: RowConverter,
    /// Group numbers, found by the hash of their key row (the key rows are kept once,
    /// in `key_rows`).
    index: HashTable<usize>,
    /// Hashes key rows.
    hasher: ahash::RandomState,
    /// Groups so far.
    n_groups: usize,
    /// The key row of each group, in group order.
    key_rows: Rows,
    /// One accumulator per metric column.
    accs: Vec<Acc>,
    /// The key columns of the batches added, while every row has been a group of its own
    /// (`None` from the first repeated key): then they are the groups' keys as they are,
    /// and [`Groups::finish`] need not convert the key rows back into columns.
    distinct_keys: Option<Vec<Vec<ArrayRef>>>,
}

impl Groups {
    /// No groups yet, for input of `schema`, room for `capacity` groups.
    fn new(schema: &SchemaRef, n_keys: usize, capacity: usize) -> Result<Self> {
        let keys = key_converter(schema, n_keys)?;
        let capacity = capacity.clamp(1024, MAX_GROUPS_IN_MEMORY);
        let key_rows = keys.empty_rows(capacity, 64 * 1024);
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
            index: HashTable::with_capacity(capacity),
            hasher: ahash::RandomState::new(),
            n_groups: 0,
            key_rows,
            accs,
            distinct_keys: Some(Vec::new()),
        })
    }

    /// Add a batch's rows to their groups.
    fn add(&mut self, batch: &RecordBatch) -> Result<()> {
        let groups = if self.n_keys == 0 {
            // No key: every row is in the one group (the totals).
            if batch.num_rows() == 0 {
                return Ok(());
            }
            if self.n_groups == 0 {
                self.new_group();
            }
            vec![0; batch.num_rows()]
        } else {
            let before = self.n_groups;
            let groups = self.key_groups(batch)?;
            if self.n_groups - before == batch.num_rows() {
                if let Some(d) = &mut self.distinct_keys {
                    d.push(batch.columns()[..self.n_keys].to_vec());
                }
            } else {
                self.distinct_keys = None;
            }
            groups
        };
        for (i, acc) in self.accs.iter_mut().enumerate() {
            let c = self.n_keys + i;
            acc.update(batch.column(c), &groups, self.schema.field(c).name())?;
        }
        Ok(())
    }

    /// The group of each row of `batch` by its key (new keys get new groups).
    fn key_groups(&mut self, batch: &RecordBatch) -> Result<Vec<usize>> {
        let mut groups = Vec::with_capacity(batch.num_rows());
        for (rows, hashes) in self.key_rows_of(batch)? {
            for (r, hash) in rows.iter().zip(hashes) {
                let key = r.as_ref();
                let key_rows = &self.key_rows;
                let found = self
                    .index
                    .find(hash, |&g| key_rows.row(g).as_ref() == key)
                    .copied();
                let g = match found {
                    Some(g) => g,
                    None => {
                        self.key_rows.push(r);
                        let g = self.new_group();
                        let (key_rows, hasher) = (&self.key_rows, &self.hasher);
                        self.index
                            .insert_unique(hash, g, |&g| hasher.hash_one(key_rows.row(g).as_ref()));
                        g
                    }
                };
                groups.push(g);
            }
        }
        Ok(groups)
    }

    /// The key rows of `batch` and their hashes, in parts of consecutive rows converted
    /// and hashed on all threads (the grouping itself is sequential).
    fn key_rows_of(&self, batch: &RecordBatch) -> Result<Vec<(Rows, Vec<u64>)>> {
        let keys = &batch.columns()[..self.n_keys];
        row_parts(batch.num_rows())
            .into_par_iter()
            .map(|rows| {
                let cols: Vec<ArrayRef> = keys
                    .iter()
                    .map(|c| c.slice(rows.start, rows.len()))
                    .collect();
                let rows = self
                    .keys
                    .convert_columns(&cols)
                    .map_err(CubeError::arrow(GROUPING))?;
                let hashes = rows
                    .iter()
                    .map(|r| self.hasher.hash_one(r.as_ref()))
                    .collect();
                Ok((rows, hashes))
            })
            .collect()
    }

    /// Number a new group, with empty accumulators (its key row is already pushed).
    fn new_group(&mut self) -> usize {
        let g = self.n_groups;
        self.n_groups += 1;
        for a in &mut self.accs {
            a.push_group();
        }
        g
    }

    /// The grouped rows: the keys, then the aggregated metrics.
    fn finish(self) -> Result<RecordBatch> {
        let out_schema = output_schema(&self.schema, self.n_keys);
        let n = self.n_groups;
        let mut cols = match (self.n_keys, self.distinct_keys) {
            (0, _) => Vec::new(),
            (_, Some(batches)) if !batches.is_empty() => (0..self.n_keys)
                .map(|c| {
                    let parts: Vec<&dyn Array> = batches.iter().map(|b| b[c].as_ref()).collect();
                    arrow_select::concat::concat(&parts)
                })
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(CubeError::arrow(GROUPING))?,
            _ => self
                .keys
                .convert_rows(self.key_rows.iter())
                .map_err(CubeError::arrow(GROUPING))?,
        };
        for (i, acc) in self.accs.into_iter().enumerate() {
            cols.push(acc.finish(self.schema.field(self.n_keys + i))?);
        }
        let opts = RecordBatchOptions::new().with_row_count(Some(n));
        RecordBatch::try_new_with_options(out_schema, cols, &opts)
            .map_err(CubeError::arrow(GROUPING))
    }
}

/// A row converter for the first `n_keys` columns of `schema`.
fn key_converter(schema: &SchemaRef, n_keys: usize) -> Result<RowConverter> {
    RowConverter::new(
        schema
            .fields()
            .iter()
            .take(n_keys)
            .map(|f| SortField::new(f.data_type().clone()))
            .collect(),
    )
    .map_err(CubeError::arrow(GROUPING))
}

/// Group `input` (of `schema`, `rows_hint` rows in all) by its first `n_keys` columns and
/// hand the grouped batches to `sink`. With no key columns, the output is one row (the
/// totals) even for no input rows... unless there are no metrics either.
pub(crate) fn aggregate(
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
        let capacity = usize::try_from(rows_hint).unwrap_or(usize::MAX);
        return group(schema, n_keys, capacity, input, sink);
    }
    let parts = usize::try_from(parts)
        .unwrap_or(usize::MAX)
        .min(MAX_PARTITIONS);
    tracing::debug!(
        rows = rows_hint,
        partitions = parts,
        "grouping with spill partitions"
    );
    let paths = spill(schema, n_keys, input, parts, spill_dir)?;
    for p in &paths {
        let f = File::open(p).map_err(CubeError::io("opening", p))?;
        let r = arrow_ipc::reader::StreamReader::try_new(BufReader::new(f), None)
            .map_err(CubeError::arrow("reading a spill partition"))?;
        let mut batches = r.map(|b| b.map_err(CubeError::arrow("reading a spill partition")));
        let capacity = usize::try_from(rows_hint.div_ceil(parts as u64)).unwrap_or(usize::MAX);
        group(schema, n_keys, capacity, &mut batches, sink)?;
        let _ = std::fs::remove_file(p);
    }
    Ok(())
}

/// Group all of `input` in memory (about `capacity` groups expected) and hand the groups
/// (if any) to `sink`.
fn group(
    schema: &SchemaRef,
    n_keys: usize,
    capacity: usize,
    input: &mut dyn Iterator<Item = Result<RecordBatch>>,
    sink: &mut dyn FnMut(RecordBatch) -> Result<()>,
) -> Result<()> {
    let mut held = Vec::new();
    if let Some(mut check) = DistinctCheck::new(schema, n_keys, capacity) {
        loop {
            let Some(b) = input.next().transpose()? else {
                // Every key is distinct: each row is a group of its own.
                return ungrouped(schema, n_keys, held, sink);
            };
            let distinct = check.add(&b);
            held.push(b);
            if !distinct {
                break;
            }
        }
    }
    let mut g = Groups::new(schema, n_keys, capacity)?;
    for b in held.drain(..) {
        g.add(&b)?;
    }
    for b in input {
        g.add(&b?)?;
    }
    let out = g.finish()?;
    if out.num_rows() > 0 {
        sink(out)?;
    }
    Ok(())
}

/// Hand `batches` (of `schema`, keys all distinct) to `sink` as the groups they are: the
/// keys as they are, each metric aggregated over its one row (converted on all threads),
/// exactly as [`Groups`] would give them.
fn ungrouped(
    schema: &SchemaRef,
    n_keys: usize,
    batches: Vec<RecordBatch>,
    sink: &mut dyn FnMut(RecordBatch) -> Result<()>,
) -> Result<()> {
    let out_schema = output_schema(schema, n_keys);
    let out = batches
        .into_par_iter()
        .filter(|b| b.num_rows() > 0)
        .map(|b| {
            let n = b.num_rows();
            let groups: Vec<usize> = (0..n).collect();
            let mut cols = b.columns()[..n_keys].to_vec();
            for (c, f) in schema.fields().iter().enumerate().skip(n_keys) {
                let t = f.data_type();
                if t.is_integer()
                    || matches!(t, ArrowType::Decimal128(..) | ArrowType::Decimal256(..))
                {
                    // The sum of one integer or decimal is that value, widened exactly.
                    let sum = arrow_cast::cast(b.column(c), &aggregated_type(t))
                        .map_err(CubeError::arrow(GROUPING))?;
                    cols.push(sum);
                    continue;
                }
                let mut acc = Acc::new(t)?;
                (0..n).for_each(|_| acc.push_group());
                acc.update(b.column(c), &groups, f.name())?;
                cols.push(acc.finish(f)?);
            }
            let opts = RecordBatchOptions::new().with_row_count(Some(n));
            RecordBatch::try_new_with_options(out_schema.clone(), cols, &opts)
                .map_err(CubeError::arrow(GROUPING))
        })
        .collect::<Result<Vec<_>>>()?;
    out.into_iter().try_for_each(sink)
}

/// Write `input` to `parts` partition files under `spill_dir` by a hash of its key; their
/// paths.
fn spill(
    schema: &SchemaRef,
    n_keys: usize,
    input: &mut dyn Iterator<Item = Result<RecordBatch>>,
    parts: usize,
    spill_dir: &Path,
) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(spill_dir).map_err(CubeError::io("creating", spill_dir))?;
    let conv = key_converter(schema, n_keys)?;
    let paths: Vec<PathBuf> = (0..parts)
        .map(|p| spill_dir.join(format!("part-{p:05}.arrows")))
        .collect();
    let mut writers = Vec::with_capacity(parts);
    for p in &paths {
        let f = File::create(p).map_err(CubeError::io("creating", p))?;
        writers.push(
            StreamWriter::try_new(BufWriter::new(f), schema)
                .map_err(CubeError::arrow(WRITING_PARTITION))?,
        );
    }
    for b in input {
        partition(schema, &conv, &b?, n_keys, &mut writers)?;
    }
    for w in &mut writers {
        w.finish().map_err(CubeError::arrow(WRITING_PARTITION))?;
    }
    Ok(paths)
}

/// Write each row of `b` (of `schema`) to the partition of its key's hash.
fn partition(
    schema: &SchemaRef,
    conv: &RowConverter,
    b: &RecordBatch,
    n_keys: usize,
    writers: &mut [StreamWriter<BufWriter<File>>],
) -> Result<()> {
    let parts = writers.len();
    let rows = conv
        .convert_columns(&b.columns()[..n_keys])
        .map_err(CubeError::arrow(GROUPING))?;
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
            .map_err(CubeError::arrow("partitioning rows"))?;
        let part = RecordBatch::try_new(schema.clone(), cols)
            .map_err(CubeError::arrow("partitioning rows"))?;
        writers[p]
            .write(&part)
            .map_err(CubeError::arrow(WRITING_PARTITION))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use arrow_array::cast::AsArray;
    use arrow_array::types::Int64Type;
    use arrow_array::{Array, Int32Array, StringArray};
    use arrow_schema::DataType as ArrowType;

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

    /// Group `batches` of `(key, metric)` rows in memory; the groups in output order.
    fn group_rows(batches: Vec<Vec<(Option<&str>, i32)>>) -> Vec<(Option<String>, i64)> {
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", ArrowType::Utf8, true),
            Field::new("m", ArrowType::Int32, true),
        ]));
        let mut input = batches.into_iter().map(|rows| {
            let k = StringArray::from(rows.iter().map(|r| r.0).collect::<Vec<_>>());
            let m = Int32Array::from(rows.iter().map(|r| r.1).collect::<Vec<_>>());
            Ok(RecordBatch::try_new(schema.clone(), vec![Arc::new(k), Arc::new(m)]).unwrap())
        });
        let mut out = Vec::new();
        group(&schema, 1, 8, &mut input, &mut |b| {
            let k = b.column(0).as_string::<i32>();
            let m = b.column(1).as_primitive::<Int64Type>();
            out.extend(
                (0..b.num_rows())
                    .map(|i| (k.is_valid(i).then(|| k.value(i).to_string()), m.value(i))),
            );
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn distinct_keys_come_out_as_they_went_in_and_a_repeat_groups() {
        let distinct = group_rows(vec![
            vec![(Some("b"), 1), (None, 2)],
            vec![(Some("a"), 3), (Some(""), 4)],
        ]);
        let want = [(Some("b"), 1), (None, 2), (Some("a"), 3), (Some(""), 4)];
        let want: Vec<_> = want
            .iter()
            .map(|(k, m)| (k.map(str::to_string), *m))
            .collect();
        assert_eq!(distinct, want);
        let repeated = group_rows(vec![
            vec![(Some("b"), 1), (None, 2)],
            vec![(None, 3), (Some("b"), 4)],
        ]);
        assert_eq!(repeated, [(Some("b".to_string()), 5), (None, 5)]);
    }
}
