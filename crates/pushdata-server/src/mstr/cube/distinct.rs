//! Whether the key columns of the rows grouped are all distinct, found by a 64-bit hash
//! of each row's key: when no two rows' hashes are equal, no two keys are equal, every
//! row is a group of its own, and the grouping need not build key rows at all (see
//! [`super::aggregate`]). Two equal hashes only mean the check gives up (a repeated key
//! or, rarely, two keys whose hashes collide): the rows are then grouped as always, so the
//! result is exact either way.
//!
//! Rows are hashed column by column on all rayon threads (one type dispatch per column
//! and part, not per value); equal keys, as the grouping's row format compares them
//! (nulls equal, floats and everything else by their bits, strings by their bytes), give
//! equal hashes.

use std::ops::Range;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType as ArrowType, SchemaRef};
use hashbrown::HashTable;
use hashbrown::hash_table::Entry;
use rayon::prelude::*;

/// Rows of a batch below which its keys are hashed on one thread.
const MIN_PARALLEL_ROWS: usize = 4096;

/// What a null value of any column hashes to.
const NULL_HASH: u64 = 0x6e75_6c6c_6e75_6c6c;

/// The hashes of the keys seen so far.
pub(crate) struct DistinctCheck {
    /// Key columns at the start of a batch.
    n_keys: usize,
    /// Hashes values and combines them.
    state: ahash::RandomState,
    /// The row hashes seen (each is its own hash in the table).
    seen: HashTable<u64>,
}

impl DistinctCheck {
    /// A check of the first `n_keys` columns of `schema`, room for `capacity` rows; `None`
    /// when there is no key, or a key column's type is not hashed here (the rows are then
    /// grouped as always).
    pub(crate) fn new(schema: &SchemaRef, n_keys: usize, capacity: usize) -> Option<Self> {
        let hashed = schema
            .fields()
            .iter()
            .take(n_keys)
            .all(|f| hashed_type(f.data_type()));
        (n_keys > 0 && hashed).then(|| DistinctCheck {
            n_keys,
            state: ahash::RandomState::new(),
            seen: HashTable::with_capacity(capacity),
        })
    }

    /// Add the keys of `batch`'s rows; `false` once a row's hash equals one seen before.
    pub(crate) fn add(&mut self, batch: &RecordBatch) -> bool {
        let keys = &batch.columns()[..self.n_keys];
        let hashes: Vec<Vec<u64>> = row_parts(batch.num_rows())
            .into_par_iter()
            .map(|rows| self.hash_rows(keys, rows))
            .collect();
        for h in hashes.into_iter().flatten() {
            match self.seen.entry(h, |&x| x == h, |&x| x) {
                Entry::Occupied(_) => return false,
                Entry::Vacant(v) => {
                    v.insert(h);
                }
            }
        }
        true
    }

    /// The hashes of the keys of `rows`.
    fn hash_rows(&self, keys: &[ArrayRef], rows: Range<usize>) -> Vec<u64> {
        let mut out = vec![0u64; rows.len()];
        for c in keys {
            self.mix_column(c, rows.clone(), &mut out);
        }
        out
    }

    /// Mix the hash of each value of `col` at `rows` into `out` (one per row).
    fn mix_column(&self, col: &ArrayRef, rows: Range<usize>, out: &mut [u64]) {
        let dt = col.data_type();
        match dt {
            ArrowType::Boolean => {
                let a = col.as_boolean();
                self.mix(col, rows, out, |i| [u8::from(a.value(i))]);
            }
            ArrowType::Utf8 => {
                let a = col.as_string::<i32>();
                self.mix(col, rows, out, |i| a.value(i).as_bytes());
            }
            ArrowType::LargeUtf8 => {
                let a = col.as_string::<i64>();
                self.mix(col, rows, out, |i| a.value(i).as_bytes());
            }
            ArrowType::Utf8View => {
                let a = col.as_string_view();
                self.mix(col, rows, out, |i| a.value(i).as_bytes());
            }
            ArrowType::Binary => {
                let a = col.as_binary::<i32>();
                self.mix(col, rows, out, |i| a.value(i));
            }
            ArrowType::LargeBinary => {
                let a = col.as_binary::<i64>();
                self.mix(col, rows, out, |i| a.value(i));
            }
            ArrowType::BinaryView => {
                let a = col.as_binary_view();
                self.mix(col, rows, out, |i| a.value(i));
            }
            _ => {
                // A fixed-width type ([`hashed_type`]): its value bytes.
                let w = dt.primitive_width().unwrap_or(0);
                let data = col.to_data();
                let values = data.buffers().first().map(|b| b.as_slice()).unwrap_or(&[]);
                let base = data.offset() * w;
                self.mix(col, rows, out, |i| {
                    values.get(base + i * w..base + (i + 1) * w).unwrap_or(&[])
                });
            }
        }
    }

    /// Mix the hash of `value(i)` (or of null) for each row `i` of `rows` into `out`.
    fn mix<V: AsRef<[u8]>>(
        &self,
        col: &ArrayRef,
        rows: Range<usize>,
        out: &mut [u64],
        value: impl Fn(usize) -> V,
    ) {
        let nulls = col.logical_nulls();
        for (h, i) in out.iter_mut().zip(rows) {
            let v = if nulls.as_ref().is_some_and(|n| n.is_null(i)) {
                NULL_HASH
            } else {
                self.state.hash_one(value(i).as_ref())
            };
            *h = self.state.hash_one((*h, v));
        }
    }
}

/// Whether values of type `t` are hashed by [`DistinctCheck`]: booleans, strings, binary,
/// and fixed-width types compared by their value bytes.
fn hashed_type(t: &ArrowType) -> bool {
    matches!(
        t,
        ArrowType::Boolean
            | ArrowType::Utf8
            | ArrowType::LargeUtf8
            | ArrowType::Utf8View
            | ArrowType::Binary
            | ArrowType::LargeBinary
            | ArrowType::BinaryView
    ) || (t.is_primitive() && t.primitive_width().is_some())
}

/// `0..n` cut into one range of consecutive rows per rayon thread (one range when `n` is
/// small).
pub(crate) fn row_parts(n: usize) -> Vec<Range<usize>> {
    let parts = rayon::current_num_threads()
        .min(n / MIN_PARALLEL_ROWS)
        .max(1);
    let step = n.div_ceil(parts).max(1);
    (0..parts)
        .map(|p| (p * step).min(n)..((p + 1) * step).min(n))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;

    use arrow_array::{Float64Array, Int32Array, StringArray};
    use arrow_schema::{Field, Schema};

    use super::*;

    fn batch(k: Vec<Option<&str>>, f: Vec<Option<f64>>) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", ArrowType::Utf8, true),
            Field::new("f", ArrowType::Float64, true),
            Field::new("m", ArrowType::Int32, true),
        ]));
        let n = k.len() as i32;
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(k)),
                Arc::new(Float64Array::from(f)),
                Arc::new(Int32Array::from_iter_values(0..n)),
            ],
        )
        .unwrap()
    }

    fn distinct(batches: &[RecordBatch]) -> bool {
        let mut c = DistinctCheck::new(&batches[0].schema(), 2, 16).unwrap();
        batches.iter().all(|b| c.add(b))
    }

    #[test]
    fn equal_keys_are_found_within_and_across_batches_nulls_equal() {
        let a = batch(
            vec![Some("x"), None, Some("x")],
            vec![Some(1.0), None, Some(2.0)],
        );
        assert!(
            distinct(std::slice::from_ref(&a)),
            "the metric column is not a key"
        );
        let b = batch(vec![None], vec![None]);
        assert!(!distinct(&[a.clone(), b]), "null keys are equal");
        let c = batch(vec![Some("x")], vec![Some(2.0)]);
        assert!(!distinct(&[a.clone(), c]));
        // -0.0 and 0.0 are different keys in the row format, and here.
        let d = batch(vec![Some("y"), Some("y")], vec![Some(0.0), Some(-0.0)]);
        assert!(distinct(&[d]));
        // A sliced batch hashes the values it shows.
        let e = batch(vec![Some("x"), Some("z"), Some("z")], vec![Some(1.0); 3]);
        assert!(distinct(&[e.slice(0, 2)]));
        assert!(!distinct(&[e.slice(1, 2)]));
    }

    #[test]
    fn parts_cover_every_row_once() {
        for n in [0, 1, 4095, 4096, 100_001] {
            let parts = row_parts(n);
            assert_eq!(parts.first().unwrap().start, 0);
            assert_eq!(parts.last().unwrap().end, n);
            assert!(parts.windows(2).all(|w| w[0].end == w[1].start));
        }
    }
}
