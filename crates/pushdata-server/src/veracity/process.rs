//! Job processing: the uploaded CSV is read with `arrow-csv` (every field as text), each
//! column is cast to its schema type, and the rows are committed through the store with
//! the operation's merge policy, under the dataset's publish lock: a job that fails leaves
//! the dataset as it was and says why (row, column, message).
//!
//! Rows are numbered from 1 (the first data row; the header is row 0).

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch, StringArray, new_null_array};
use arrow_cast::CastOptions;
use arrow_schema::{DataType as ArrowType, Field, Schema as ArrowSchema};
use pushdata_core::veracity::wire::{FileOperation, SchemaColumn};

use super::definition::{TABLE_ID, VDataset, store_type};
use super::jobs::Failure;
use crate::store::{MergePolicy, StagedData, Staging, StoreError};

/// The rows of the CSV read.
const BATCH_ROWS: usize = 8192;

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

/// Read the header line of the CSV.
fn read_header(path: &std::path::Path) -> Result<Vec<String>, Failure> {
    let file = std::fs::File::open(path).map_err(|e| Failure::internal("opening the upload", e))?;
    let (schema, _) = arrow_csv::reader::Format::default()
        .with_header(true)
        .infer_schema(file, Some(0))
        .map_err(|e| Failure::issue(Some(0), None, format!("the header cannot be read: {e}")))?;
    Ok(schema.fields().iter().map(|f| f.name().clone()).collect())
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
    if (col.is_key || col.is_required)
        && let Some(i) = (0..cast.len()).find(|&i| cast.is_null(i))
    {
        let what = if col.is_key { "key" } else { "required" };
        return Err(Failure::issue(
            Some(first_row + i as u64),
            Some(&col.name),
            format!("the {what} column has no value"),
        ));
    }
    Ok(cast)
}

/// The table's Arrow schema (the types the store stores).
fn table_schema(def: &VDataset) -> Arc<ArrowSchema> {
    let fields: Vec<Field> = def
        .columns
        .iter()
        .map(|c| {
            let t = store_type(&c.data_type).unwrap_or(pushdata_core::wire::DataType::String);
            Field::new(&c.name, pushdata_core::arrow::arrow_type(t), true)
        })
        .collect();
    Arc::new(ArrowSchema::new(fields))
}

/// Parse the uploaded CSV at `path` into batches of `def`'s table, staged as they are read
/// (in memory up to the server's budget, then as files `{spill}-{n}.arrow`), so memory does
/// not grow with the file. For Delete, only the key columns are read (the others are null).
pub(crate) fn parse_csv(
    path: &std::path::Path,
    def: &VDataset,
    op: &FileOperation,
    staging: &Staging,
    spill: &std::path::Path,
) -> Result<Vec<StagedData>, Failure> {
    let delete = *op == FileOperation::Delete;
    let header = read_header(path)?;
    let map = map_header(&header, &def.columns, delete)?;
    let text_schema = Arc::new(ArrowSchema::new(
        header
            .iter()
            .map(|h| Field::new(h, ArrowType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let file = std::fs::File::open(path).map_err(|e| Failure::internal("opening the upload", e))?;
    let reader = arrow_csv::ReaderBuilder::new(text_schema)
        .with_header(true)
        .with_batch_size(BATCH_ROWS)
        .build(file)
        .map_err(|e| Failure::issue(None, None, format!("the file cannot be read as CSV: {e}")))?;
    let schema = table_schema(def);
    let mut out = Vec::new();
    let mut first_row: u64 = 1;
    for batch in reader {
        let batch = batch
            .map_err(|e| Failure::issue(None, None, format!("the file is not valid CSV: {e}")))?;
        let mut cols = Vec::with_capacity(def.columns.len());
        for ((c, at), field) in def.columns.iter().zip(&map).zip(schema.fields()) {
            let keep = at.filter(|_| !delete || c.is_key);
            cols.push(match keep {
                Some(j) => cast_column(batch.column(j), c, field.data_type(), first_row)?,
                None => new_null_array(field.data_type(), batch.num_rows()),
            });
        }
        let rows = batch.num_rows();
        let typed = RecordBatch::try_new(schema.clone(), cols)
            .map_err(|e| Failure::internal("building a batch", e))?;
        let n = out.len();
        let name = format!(
            "{}-{n}.arrow",
            spill
                .file_name()
                .map(|f| f.to_string_lossy())
                .unwrap_or_default()
        );
        let file = || spill.with_file_name(name);
        out.push(StagedData::keep(staging, vec![typed], file).map_err(store_failure)?);
        first_row += rows as u64;
    }
    Ok(out)
}

/// The failure a store error means for a job: the caller's data, or the server's fault.
pub(crate) fn store_failure(e: StoreError) -> Failure {
    match e {
        StoreError::NoKey { .. } | StoreError::DoesNotFit { .. } => {
            Failure::issue(None, None, e.to_string())
        }
        e => Failure::internal("committing the upload", e),
    }
}

/// The id of the one table.
pub(crate) fn table_id() -> String {
    TABLE_ID.to_string()
}
