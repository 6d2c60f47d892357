//! Job processing: the uploaded CSV is read with `arrow-csv` (every field as text), each
//! column is cast to its schema type (`Decimal` columns exactly, see `decimals`), and the
//! rows are committed through the store with the operation's merge policy (see `run`): a
//! job that fails leaves the dataset as it was and says why (row, column, message).
//!
//! Rows are numbered from 1 (the first data row; the header is row 0).

use std::path::Path;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch, StringArray, new_null_array};
use arrow_cast::CastOptions;
use arrow_schema::{DataType as ArrowType, Field, Schema as ArrowSchema, SchemaRef};
use pushdata_core::veracity::wire::{ColumnType, FileOperation, SchemaColumn};
use pushdata_core::wire::DataType;

use super::decimals::{Digits, read_decimals};
use super::definition::{TABLE_ID, VDataset, store_type};
use super::jobs::Failure;
use super::parallel::Parallel;
use super::staged::Staged;
use crate::store::{Definition, Kept, MergePolicy, StagedData, Staging, StoreError};

/// The rows of the CSV read.
pub(super) const BATCH_ROWS: usize = 8192;

/// The merge policy of an operation (Create writes a new dataset: Replace).
pub(crate) fn policy(op: &FileOperation) -> Option<MergePolicy> {
    Some(match op {
        FileOperation::Create | FileOperation::Overwrite => MergePolicy::Replace,
        FileOperation::Upsert => MergePolicy::Upsert,
        FileOperation::Delete => MergePolicy::Delete,
        FileOperation::Append => MergePolicy::Append,
        _ => return None,
    })
}

/// Where each schema column is in the file (`None`: absent, allowed for Delete only).
fn map_header(
    header: &[String],
    columns: &[SchemaColumn],
    delete: bool,
) -> Result<Vec<Option<usize>>, Failure> {
    let find = |name: &str| {
        header
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let mut map = Vec::with_capacity(columns.len());
    for c in columns {
        let at = find(&c.name);
        if at.is_none() && (!delete || c.is_key) {
            return Err(Failure::issue(
                Some(0),
                Some(&c.name),
                "the column is missing from the file's header",
            ));
        }
        map.push(at);
    }
    if !delete
        && let Some(extra) = header.iter().find(|h| {
            !columns
                .iter()
                .any(|c| c.name.eq_ignore_ascii_case(h.trim()))
        })
    {
        return Err(Failure::issue(
            Some(0),
            Some(extra),
            "the schema has no such column",
        ));
    }
    Ok(map)
}

/// Read the header line of the CSV from `reader` (the file, or its first line).
pub(super) fn read_header(reader: impl std::io::Read) -> Result<Vec<String>, Failure> {
    let (schema, _) = arrow_csv::reader::Format::default()
        .with_header(true)
        .infer_schema(reader, Some(0))
        .map_err(|e| Failure::issue(Some(0), None, format!("the header cannot be read: {e}")))?;
    Ok(schema.fields().iter().map(|f| f.name().clone()).collect())
}

/// The file's columns as text, and where each column of the dataset is among them.
pub(super) struct Layout {
    pub(super) text_schema: SchemaRef,
    pub(super) map: Vec<Option<usize>>,
}

impl Layout {
    /// The layout of a file with `header`, read for `def` (`delete`: key columns only).
    pub(super) fn new(header: &[String], def: &VDataset, delete: bool) -> Result<Self, Failure> {
        let map = map_header(header, &def.columns, delete)?;
        let text_schema = Arc::new(ArrowSchema::new(
            header
                .iter()
                .map(|h| Field::new(h, ArrowType::Utf8, true))
                .collect::<Vec<_>>(),
        ));
        Ok(Layout { text_schema, map })
    }
}

/// Cast one text column to the schema column's type; the first value that does not fit
/// is reported with its row.
fn cast_column(
    text: &ArrayRef,
    col: &SchemaColumn,
    target: &ArrowType,
    first_row: u64,
) -> Result<ArrayRef, Failure> {
    let opts = CastOptions {
        safe: true,
        ..Default::default()
    };
    let cast = arrow_cast::cast_with_options(text, target, &opts)
        .map_err(|e| Failure::issue(Some(first_row), Some(&col.name), e.to_string()))?;
    if cast.null_count() != text.null_count() {
        let strings = text.as_any().downcast_ref::<StringArray>();
        for i in 0..cast.len() {
            if cast.is_null(i) && !text.is_null(i) {
                let value = strings.map(|s| s.value(i).to_string()).unwrap_or_default();
                return Err(Failure::issue(
                    Some(first_row + i as u64),
                    Some(&col.name),
                    format!("value {value:?} is not a valid {}", col.data_type),
                ));
            }
        }
    }
    Ok(cast)
}

/// A key or required column must have a value in every row.
fn check_present(cast: &ArrayRef, col: &SchemaColumn, first_row: u64) -> Result<(), Failure> {
    if (col.is_key || col.is_required)
        && cast.null_count() > 0
        && let Some(i) = (0..cast.len()).find(|&i| cast.is_null(i))
    {
        let what = if col.is_key { "key" } else { "required" };
        return Err(Failure::issue(
            Some(first_row + i as u64),
            Some(&col.name),
            format!("the {what} column has no value"),
        ));
    }
    Ok(())
}

/// The Arrow type a schema column is read as (a decimal column's precision and scale come
/// from its values; a column the file does not give is null, of one decimal digit).
fn column_type(c: &SchemaColumn) -> ArrowType {
    match store_type(&c.data_type) {
        Some(DataType::BigDecimal) => ArrowType::Decimal128(1, 0),
        Some(t) => pushdata_core::arrow::arrow_type(t),
        None => ArrowType::Utf8,
    }
}

/// One batch of text (rows from `first_row`; `map`: where each column of `def` is in it)
/// as the typed columns of `def`'s table. `need` holds, per column, the digits the
/// decimal columns need so far, and is updated.
pub(super) fn typed(
    def: &VDataset,
    batch: &RecordBatch,
    map: &[Option<usize>],
    delete: bool,
    first_row: u64,
    need: &mut [Digits],
) -> Result<RecordBatch, Failure> {
    let mut cols = Vec::with_capacity(def.columns.len());
    for (k, (c, at)) in def.columns.iter().zip(map).enumerate() {
        let target = column_type(c);
        let column = match at.filter(|_| !delete || c.is_key) {
            Some(j) if c.data_type == ColumnType::Decimal => {
                read_decimals(batch.column(j), c, first_row, &mut need[k])?
            }
            Some(j) => cast_column(batch.column(j), c, &target, first_row)?,
            None => new_null_array(&target, batch.num_rows()),
        };
        check_present(&column, c, first_row)?;
        cols.push(column);
    }
    let fields: Vec<Field> = def
        .columns
        .iter()
        .zip(&cols)
        .map(|(c, a)| Field::new(&c.name, a.data_type().clone(), true))
        .collect();
    RecordBatch::try_new(Arc::new(ArrowSchema::new(fields)), cols)
        .map_err(|e| Failure::internal("building a batch", e))
}

/// What parsing a job's uploaded CSV needs.
pub(crate) struct CsvParse<'a> {
    /// The uploaded file.
    pub(crate) path: &'a Path,
    /// The dataset it is parsed for.
    pub(crate) def: &'a VDataset,
    /// The job's operation (Delete reads the key columns only).
    pub(crate) op: &'a FileOperation,
    /// Where parsed rows wait for the commit.
    pub(crate) staging: &'a Arc<Staging>,
    /// Spill files are named `{spill}-{n}.parquet`.
    pub(crate) spill: &'a Path,
    /// Per column, the digits the rows it is merged with need (decimal columns).
    pub(crate) stored_digits: Vec<Digits>,
    /// Whether the server is stopping (checked between batches).
    pub(crate) stopping: &'a (dyn Fn() -> bool + Sync),
}

impl CsvParse<'_> {
    /// Parse the uploaded CSV into batches of the dataset's table, staged as they are read
    /// (see `staged`: Parquet files of many rows when the commit keeps the rows as they
    /// are, else each batch in memory up to the server's budget, then as a file), so
    /// memory does not grow with the file. For Delete, only the key columns are read (the
    /// others are null).
    ///
    /// A file without quotes is parsed on all cores (see `parallel`); any other, or one
    /// the parallel reader gives back, is read here, on one thread.
    pub(crate) fn run(mut self) -> Result<Vec<StagedData>, Failure> {
        let delete = *self.op == FileOperation::Delete;
        let file = std::fs::File::open(self.path)
            .map_err(|e| Failure::internal("opening the upload", e))?;
        let Layout { text_schema, map } = Layout::new(&read_header(file)?, self.def, delete)?;
        if let Parallel::Done(staged) = self.run_parallel(&text_schema, &map, delete)? {
            return Ok(staged);
        }
        let file = std::fs::File::open(self.path)
            .map_err(|e| Failure::internal("opening the upload", e))?;
        let reader = arrow_csv::ReaderBuilder::new(text_schema)
            .with_header(true)
            .with_batch_size(BATCH_ROWS)
            .build(file)
            .map_err(|e| {
                Failure::issue(None, None, format!("the file cannot be read as CSV: {e}"))
            })?;
        let mut out = Staged::default();
        let mut first_row: u64 = 1;
        for batch in reader {
            if (self.stopping)() {
                return Err(Failure::Stopped);
            }
            let batch = batch.map_err(|e| {
                Failure::issue(None, None, format!("the file is not valid CSV: {e}"))
            })?;
            let typed = typed(
                self.def,
                &batch,
                &map,
                delete,
                first_row,
                &mut self.stored_digits,
            )?;
            first_row += batch.num_rows() as u64;
            out.push(&self, typed)?;
        }
        out.finish(&self)
    }

    /// Stage `typed`, the rows of staged piece number `n` (see `staged`).
    pub(super) fn stage(&self, typed: Vec<RecordBatch>, n: usize) -> Result<StagedData, Failure> {
        let file = || self.spill_file(n);
        StagedData::keep(self.staging, self.table()?, typed, file).map_err(store_failure)
    }

    /// As [`stage`](Self::stage), but a file that fits the quotas with room to spare is
    /// handed back unwritten, for the caller to write (see `StagedData::keep_or_defer`).
    pub(super) fn stage_or_defer(
        &self,
        typed: Vec<RecordBatch>,
        n: usize,
    ) -> Result<Kept, Failure> {
        let file = || self.spill_file(n);
        StagedData::keep_or_defer(self.staging, self.table()?, typed, file).map_err(store_failure)
    }

    /// The `n`th spill file's path.
    fn spill_file(&self, n: usize) -> std::path::PathBuf {
        let name = format!(
            "{}-{n}.parquet",
            self.spill
                .file_name()
                .map(|f| f.to_string_lossy())
                .unwrap_or_default()
        );
        self.spill.with_file_name(name)
    }

    /// The dataset's one table.
    fn table(&self) -> Result<&crate::store::TableDef, Failure> {
        self.def
            .tables()
            .first()
            .ok_or_else(|| Failure::issue(None, None, "the dataset has no table"))
    }
}

/// The failure a store error means for a job: the caller's data, the server stopping, or
/// the server's fault.
pub(crate) fn store_failure(e: StoreError) -> Failure {
    match e {
        StoreError::NoKey { .. } | StoreError::DoesNotFit { .. } | StoreError::DataQuota { .. } => {
            Failure::issue(None, None, e.to_string())
        }
        StoreError::Cancelled => Failure::Stopped,
        e => Failure::internal("committing the upload", e),
    }
}

/// The id of the one table.
pub(crate) fn table_id() -> String {
    TABLE_ID.to_string()
}
