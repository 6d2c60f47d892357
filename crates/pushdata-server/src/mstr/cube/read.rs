//! Reading one table of a pinned snapshot: only the columns asked for plus those the view
//! filter needs (a Parquet projection mask), batch by batch, filtered, as the stored types
//! the grouped rows expect.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions, RecordBatchReader};
use arrow_schema::{ArrowError, Field, Schema, SchemaRef};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use pushdata_core::wire::ViewFilter;
use rayon::prelude::*;

use super::error::{CubeError, Result};
use super::filter::{self, FilterColumns};
use super::plan::column_arrow_type;
use super::tables::TableRead;
use crate::mstr::DatasetDef;
use crate::mstr::decode::find_column;
use crate::store::{Snapshot, TableDef};

/// Rows per batch read from Parquet.
const READ_BATCH_ROWS: usize = 64 * 1024;

/// Batches read from a table.
pub(crate) type Batches = Box<dyn Iterator<Item = Result<RecordBatch>>>;

/// Stream the rows of `read.table` in `snap`: its columns (named as in `read`), filtered
/// by `filter`. Returns their schema and the batches (none when the table has no data).
pub(crate) fn read_table(
    def: &DatasetDef,
    snap: &Snapshot,
    read: &TableRead<'_>,
    filter: Option<&ViewFilter>,
) -> Result<(SchemaRef, Batches)> {
    let t = read.table;
    let fields: Vec<Field> = read
        .columns
        .iter()
        .map(|c| Field::new(&c.name, column_arrow_type(snap, t, c.column), true))
        .collect();
    let schema: SchemaRef = Arc::new(Schema::new(fields));
    let files = snap.table_files(&t.id);
    if files.is_empty() {
        return Ok((schema, Box::new(std::iter::empty())));
    }
    let mut filter_cols = filter
        .map(|f| filter_columns(def, f, t))
        .unwrap_or_default();
    let mut needed: Vec<usize> = read.columns.iter().map(|c| c.column).collect();
    needed.extend(filter_cols.iter().flat_map(|a| a.columns.iter().copied()));
    needed.sort_unstable();
    needed.dedup();
    // Columns come out of the reader in table order, one per needed column.
    let pos = |c: usize| needed.iter().position(|x| *x == c).unwrap_or(0);
    for a in &mut filter_cols {
        a.columns.iter_mut().for_each(|c| *c = pos(*c));
    }
    let shape = Shape {
        filter: filter.cloned(),
        filter_cols,
        out_idx: read.columns.iter().map(|c| pos(c.column)).collect(),
        schema: schema.clone(),
    };
    // The files of the version, in order, each opened when the one before is read.
    let shape = Arc::new(shape);
    let iter = files.into_iter().flat_map(move |f| {
        let shape = shape.clone();
        let batches: Batches = match ColumnReaders::open(&f.path, &needed) {
            Ok(reader) => Box::new(reader.map(move |r| shape.apply(r?))),
            Err(e) => Box::new(std::iter::once(Err(e))),
        };
        batches
    });
    Ok((schema, Box::new(iter)))
}

/// Per attribute the filter names, the columns of `t` holding its forms (attributes `t`
/// does not hold are left out: they leave rows in).
fn filter_columns(def: &DatasetDef, f: &ViewFilter, t: &TableDef) -> Vec<FilterColumns> {
    let mut out = Vec::new();
    for id in filter::named_attributes(f) {
        let Some(ai) = def.attribute_index(&id) else {
            continue;
        };
        let columns: Vec<usize> = def.attributes[ai]
            .attribute_forms
            .iter()
            .filter_map(|fm| {
                fm.expressions
                    .iter()
                    .find(|e| e.table_name == t.name)
                    .and_then(|e| find_column(&t.columns, &e.column_name))
            })
            .collect();
        if !columns.is_empty() {
            out.push(FilterColumns {
                attribute_id: def.attributes[ai].id.clone(),
                columns,
            });
        }
    }
    out
}

/// A reader of the Parquet file at `path` giving only the columns `needed` (sorted).
fn open_projected(path: &Path, needed: &[usize]) -> Result<ParquetRecordBatchReader> {
    let parquet_err = |source| CubeError::Parquet {
        path: PathBuf::from(path),
        source,
    };
    let f = File::open(path).map_err(CubeError::io("opening", path))?;
    let b = ParquetRecordBatchReaderBuilder::try_new(f).map_err(parquet_err)?;
    let mask = ProjectionMask::roots(b.parquet_schema(), needed.iter().copied());
    b.with_projection(mask)
        .with_batch_size(READ_BATCH_ROWS)
        .build()
        .map_err(parquet_err)
}

/// The columns `needed` of one Parquet file, each decoded by a reader of its own, the
/// readers advanced together on all rayon threads: a batch of every column is decoded in
/// parallel (a stored file usually has one row group, so row groups give no parallelism).
/// The batches are those one reader of all the columns would give.
struct ColumnReaders {
    /// The file (for errors).
    path: PathBuf,
    /// One reader per needed column, in `needed` order.
    readers: Vec<ParquetRecordBatchReader>,
    /// The schema of the batches: the readers' fields in order.
    schema: SchemaRef,
    /// Set after the last batch or an error.
    done: bool,
}

impl ColumnReaders {
    /// Readers of columns `needed` (sorted) of the file at `path`.
    fn open(path: &Path, needed: &[usize]) -> Result<Self> {
        // No column or one: one reader (with no column it still counts the rows).
        let groups: Vec<&[usize]> = if needed.len() < 2 {
            vec![needed]
        } else {
            needed.chunks(1).collect()
        };
        let readers = groups
            .into_par_iter()
            .map(|cols| open_projected(path, cols))
            .collect::<Result<Vec<_>>>()?;
        let fields: Vec<_> = readers
            .iter()
            .flat_map(|r| r.schema().fields().iter().cloned().collect::<Vec<_>>())
            .collect();
        Ok(ColumnReaders {
            path: path.to_path_buf(),
            readers,
            schema: Arc::new(Schema::new(fields)),
            done: false,
        })
    }

    /// The next batch of every column, decoded in parallel.
    fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        let parts = self
            .readers
            .par_iter_mut()
            .map(Iterator::next)
            .collect::<Vec<_>>();
        let read_err = |source| CubeError::ReadBatch {
            path: self.path.clone(),
            source,
        };
        if parts.iter().all(Option::is_none) {
            return Ok(None);
        }
        let mut columns = Vec::with_capacity(parts.len());
        let mut rows = None;
        for p in parts {
            let b = p
                .ok_or_else(|| {
                    ArrowError::ParquetError("a column ended before the others".to_string())
                })
                .and_then(|r| r)
                .map_err(read_err)?;
            rows.get_or_insert(b.num_rows());
            columns.extend(b.columns().iter().cloned());
        }
        let opts = RecordBatchOptions::new().with_row_count(rows);
        RecordBatch::try_new_with_options(self.schema.clone(), columns, &opts)
            .map(Some)
            .map_err(read_err)
    }
}

impl Iterator for ColumnReaders {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let next = self.next_batch().transpose();
        self.done = !matches!(next, Some(Ok(_)));
        next
    }
}

/// How a batch as read becomes a batch as grouped: filtered, then its output columns
/// picked and cast to the schema.
struct Shape {
    /// The view filter, evaluated on each batch.
    filter: Option<ViewFilter>,
    /// The batch positions of the forms of the attributes the filter names.
    filter_cols: Vec<FilterColumns>,
    /// The batch position of each output column.
    out_idx: Vec<usize>,
    /// The schema of the batches handed out.
    schema: SchemaRef,
}

impl Shape {
    /// Filter and reshape one batch read.
    fn apply(&self, b: RecordBatch) -> Result<RecordBatch> {
        let b = match &self.filter {
            Some(f) => {
                let mask = filter::evaluate(f, &b, &self.filter_cols)?;
                arrow_select::filter::filter_record_batch(&b, &mask)
                    .map_err(CubeError::arrow("filtering rows"))?
            }
            None => b,
        };
        let picked = b
            .project(&self.out_idx)
            .map_err(CubeError::arrow("reading a table"))?;
        cast_to(&picked, &self.schema, "reading a table")
    }
}

/// `b` with its columns cast to the types of `schema` (same order and count): the types
/// readers see, wherever a batch leaves the cube code.
pub(super) fn cast_to(
    b: &RecordBatch,
    schema: &SchemaRef,
    context: &'static str,
) -> Result<RecordBatch> {
    let cols = b
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(c, f)| {
            if c.data_type() == f.data_type() {
                Ok(c.clone())
            } else {
                arrow_cast::cast(c, f.data_type()).map_err(CubeError::arrow(context))
            }
        })
        .collect::<Result<Vec<ArrayRef>>>()?;
    let opts = RecordBatchOptions::new().with_row_count(Some(b.num_rows()));
    RecordBatch::try_new_with_options(schema.clone(), cols, &opts)
        .map_err(CubeError::arrow(context))
}
