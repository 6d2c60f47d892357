//! Rust values Python sees as plain data: progress events and reports as dicts, batches as
//! a `pyarrow.Table`.

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use arrow::pyarrow::{IntoPyArrow, Table};
use pushdata_arrow::{ProgressEvent, PushPlan, PushReport};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::errors::internal;

/// A progress event as a dict: `{"event": "chunk_uploaded", "table": ..., ...}`.
pub(crate) fn event_dict<'py>(
    py: Python<'py>,
    event: &ProgressEvent,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let name = match event {
        ProgressEvent::DatasetCreated { dataset_id } => {
            d.set_item("dataset_id", dataset_id)?;
            "dataset_created"
        }
        ProgressEvent::SessionOpened {
            dataset_id,
            session_id,
        } => {
            d.set_item("dataset_id", dataset_id)?;
            d.set_item("session_id", session_id)?;
            "session_opened"
        }
        ProgressEvent::TableStarted { table } => {
            d.set_item("table", table)?;
            "table_started"
        }
        ProgressEvent::RowsRead { table, rows } => {
            d.set_item("table", table)?;
            d.set_item("rows", rows)?;
            "rows_read"
        }
        ProgressEvent::RowsEncoded { table, rows } => {
            d.set_item("table", table)?;
            d.set_item("rows", rows)?;
            "rows_encoded"
        }
        ProgressEvent::ChunkUploaded {
            table,
            index,
            rows,
            bytes,
        } => {
            d.set_item("table", table)?;
            d.set_item("index", index)?;
            d.set_item("rows", (rows.start, rows.end))?;
            d.set_item("bytes", bytes)?;
            "chunk_uploaded"
        }
        ProgressEvent::TableEncoded {
            table,
            rows,
            chunks,
        } => {
            d.set_item("table", table)?;
            d.set_item("rows", rows)?;
            d.set_item("chunks", chunks)?;
            "table_encoded"
        }
        ProgressEvent::Publishing { dataset_id } => {
            d.set_item("dataset_id", dataset_id)?;
            "publishing"
        }
        ProgressEvent::Published { dataset_id } => {
            d.set_item("dataset_id", dataset_id)?;
            "published"
        }
        ProgressEvent::DatasetDeleted { dataset_id } => {
            d.set_item("dataset_id", dataset_id)?;
            "dataset_deleted"
        }
        ProgressEvent::Cancelled {
            dataset_id,
            session_id,
        } => {
            d.set_item("dataset_id", dataset_id)?;
            d.set_item("session_id", session_id)?;
            "cancelled"
        }
        // Events added to the pipeline later reach Python by name only.
        other => {
            d.set_item("detail", format!("{other:?}"))?;
            "other"
        }
    };
    d.set_item("event", name)?;
    Ok(d)
}

/// A push report as a dict (the Python layer makes its `PushReport` of it).
pub(crate) fn push_report(py: Python<'_>, report: &PushReport) -> PyResult<Py<PyAny>> {
    let tables = PyList::empty(py);
    for t in &report.tables {
        let d = PyDict::new(py);
        d.set_item("name", &t.name)?;
        d.set_item("rows", t.rows)?;
        d.set_item("chunks", t.chunks)?;
        d.set_item("bytes", t.bytes)?;
        d.set_item("rows_skipped", t.rows_skipped)?;
        tables.append(d)?;
    }
    let d = PyDict::new(py);
    d.set_item("dataset_id", &report.dataset_id)?;
    d.set_item("session_id", &report.session_id)?;
    d.set_item("tables", tables)?;
    d.set_item("chunks", report.chunks)?;
    d.set_item("bytes", report.bytes)?;
    d.set_item("seconds", report.elapsed.as_secs_f64())?;
    Ok(d.into_any().unbind())
}

/// A dry run's plan as a dict: `dry_run` (True), `action` (`create` or `update`), `name`,
/// `dataset_id`, `found_by_name`, `folder_id`, `description`, `workflow`, `orientation`,
/// `tables` (name, rows, chunks, bytes, policy), `rows`, `chunks`, `bytes`, `model` (the
/// model as JSON text) and `tolerated` (the differences with an existing dataset the push
/// would carry).
pub(crate) fn push_plan(py: Python<'_>, plan: &PushPlan) -> PyResult<Py<PyAny>> {
    let summary = plan.summary();
    let d = PyDict::new(py);
    d.set_item("dry_run", summary.dry_run)?;
    d.set_item("action", summary.action)?;
    d.set_item("name", summary.name)?;
    d.set_item("dataset_id", summary.dataset_id)?;
    d.set_item("found_by_name", summary.found_by_name)?;
    d.set_item("folder_id", summary.folder_id)?;
    d.set_item("description", summary.description)?;
    d.set_item("workflow", summary.workflow)?;
    d.set_item("orientation", &summary.orientation)?;
    let tables = PyList::empty(py);
    for t in &summary.tables {
        let table = PyDict::new(py);
        table.set_item("name", t.name)?;
        table.set_item("rows", t.rows)?;
        table.set_item("chunks", t.chunks)?;
        table.set_item("bytes", t.bytes)?;
        table.set_item("policy", t.policy)?;
        tables.append(table)?;
    }
    d.set_item("tables", tables)?;
    d.set_item("rows", summary.rows)?;
    d.set_item("chunks", summary.chunks)?;
    d.set_item("bytes", summary.bytes)?;
    // The model the tables are encoded with, also when the dataset exists.
    let model = serde_json::to_string(&plan.model.to_dataset_model())
        .map_err(|e| internal(format!("writing the model as JSON: {e}")))?;
    d.set_item("model", model)?;
    d.set_item("tolerated", &summary.tolerated)?;
    Ok(d.into_any().unbind())
}

/// Batches as a `pyarrow.Table` (zero-copy, through the Arrow C data interface).
pub(crate) fn pyarrow_table(
    py: Python<'_>,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
) -> PyResult<Py<PyAny>> {
    let table = Table::try_new(batches, schema)
        .map_err(|e| internal(format!("the pulled batches do not share one schema: {e}")))?;
    Ok(table.into_pyarrow(py)?.unbind())
}
