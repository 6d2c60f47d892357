//! Reading one table of a pinned snapshot: only the columns asked for plus those the view
//! filter needs (a Parquet projection mask), batch by batch, filtered, as the stored types
//! the grouped rows expect.

use std::collections::VecDeque;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions, RecordBatchReader};
use arrow_schema::{ArrowError, Field, Schema, SchemaRef};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ParquetRecordBatchReaderBuilder};
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

/// The columns `needed` (sorted) of one Parquet file, row group by row group: each
/// column of a row group is decoded whole by a reader of its own, the columns on all rayon
/// threads (a stored file usually has one row group, so row groups give no parallelism,
/// and columns of unequal sizes decoded a batch at a time leave threads waiting for the
/// largest). The batches are those one reader of all the columns would give; one row
/// group's columns are in memory at once.
struct ColumnReaders {
    /// The file.
    path: PathBuf,
    /// The file's metadata, read once.
    meta: ArrowReaderMetadata,
    /// The columns read, in groups each read by one reader (one column each, or one
    /// group of none or one column).
    groups: Vec<Vec<usize>>,
    /// The schema of the batches: the needed columns in order.
    schema: SchemaRef,
    /// The next row group to read.
    next_group: usize,
    /// Batches of the row group read, not handed out yet.
    ready: VecDeque<RecordBatch>,
    /// Set after an error.
    failed: bool,
}

impl ColumnReaders {
    /// Readers of columns `needed` (sorted) of the file at `path`.
    fn open(path: &Path, needed: &[usize]) -> Result<Self> {
        let f = File::open(path).map_err(CubeError::io("opening", path))?;
        let meta = ArrowReaderMetadata::load(&f, Default::default()).map_err(parquet_err(path))?;
        // No column or one: one reader (with no column it still counts the rows).
        let groups: Vec<Vec<usize>> = if needed.len() < 2 {
            vec![needed.to_vec()]
        } else {
            needed.iter().map(|c| vec![*c]).collect()
        };
        let mask = ProjectionMask::roots(meta.parquet_schema(), needed.iter().copied());
        let schema = ParquetRecordBatchReaderBuilder::new_with_metadata(f, meta.clone())
            .with_projection(mask)
            .build()
            .map_err(parquet_err(path))?
            .schema();
        Ok(ColumnReaders {
            path: path.to_path_buf(),
            meta,
            groups,
            schema,
            next_group: 0,
            ready: VecDeque::new(),
            failed: false,
        })
    }

    /// The batches of the columns of `group` in row group `rg`.
    fn read_group(&self, rg: usize, group: &[usize]) -> Result<Vec<RecordBatch>> {
        let path = &self.path;
        let f = File::open(path).map_err(CubeError::io("opening", path))?;
        let mask = ProjectionMask::roots(self.meta.parquet_schema(), group.iter().copied());
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(f, self.meta.clone())
            .with_projection(mask)
            .with_row_groups(vec![rg])
            .with_batch_size(READ_BATCH_ROWS)
            .build()
            .map_err(parquet_err(path))?;
        reader
            .map(|b| {
                b.map_err(|source| CubeError::ReadBatch {
                    path: path.clone(),
                    source,
                })
            })
            .collect()
    }

    /// Read row group `rg`, its columns in parallel, into `ready`.
    fn read_row_group(&mut self, rg: usize) -> Result<()> {
        let parts = self
            .groups
            .par_iter()
            .map(|g| self.read_group(rg, g))
            .collect::<Result<Vec<_>>>()?;
        let n = parts.iter().map(Vec::len).max().unwrap_or(0);
        let read_err = |source| CubeError::ReadBatch {
            path: self.path.clone(),
            source,
        };
        for i in 0..n {
            let mut columns = Vec::with_capacity(self.schema.fields().len());
            let mut rows = None;
            for p in &parts {
                let b = p.get(i).ok_or_else(|| {
                    read_err(ArrowError::ParquetError(
                        "a column ended before the others".to_string(),
                    ))
                })?;
                rows.get_or_insert(b.num_rows());
                columns.extend(b.columns().iter().cloned());
            }
            let opts = RecordBatchOptions::new().with_row_count(rows);
            let batch = RecordBatch::try_new_with_options(self.schema.clone(), columns, &opts)
                .map_err(read_err)?;
            self.ready.push_back(batch);
        }
        Ok(())
    }
}

impl Iterator for ColumnReaders {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.ready.is_empty() && !self.failed {
            let rg = self.next_group;
            if rg >= self.meta.metadata().num_row_groups() {
                return None;
            }
            self.next_group += 1;
            if let Err(e) = self.read_row_group(rg) {
                self.failed = true;
                return Some(Err(e));
            }
        }
        self.ready.pop_front().map(Ok)
    }
}

/// Wraps a Parquet error of reading the file at `path`.
fn parquet_err(path: &Path) -> impl Fn(parquet::errors::ParquetError) -> CubeError + '_ {
    move |source| CubeError::Parquet {
        path: PathBuf::from(path),
        source,
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
