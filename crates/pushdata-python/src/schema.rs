//! `pushdata.schema(data, ...)`: the model a push would create, from the schemas only.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::RecordBatchReader;
use arrow::datatypes::Schema;
use arrow::pyarrow::PyArrowType;
use pushdata_arrow::{InputSource, StorageOptions, TableSchema, infer_model};
use pyo3::prelude::*;

use crate::client::input;
use crate::errors::{arrow_error, internal};
use crate::push::{Opened, model_options};

/// The dataset model (the body of `POST /api/datasets/models`) as JSON, for `tables`
/// (pairs of table name and data) as a push named `dataset` would create it. Only schemas
/// are read: Parquet footers, `__arrow_c_schema__`, or the head of an Arrow stream.
#[pyfunction]
#[pyo3(signature = (dataset, tables, attributes=Vec::new(), metrics=Vec::new(), forms=Vec::new(), storage_options=HashMap::new()))]
pub(crate) fn schema(
    py: Python<'_>,
    dataset: &str,
    tables: Vec<(String, Bound<'_, PyAny>)>,
    attributes: Vec<String>,
    metrics: Vec<String>,
    forms: Vec<(String, String, String)>,
    storage_options: HashMap<String, String>,
) -> PyResult<String> {
    let storage: StorageOptions = storage_options.into_iter().collect();
    let schemas = tables
        .into_iter()
        .map(|(name, obj)| {
            let schema = table_schema(py, &name, &obj, &storage)?;
            Ok(TableSchema::new(name, schema))
        })
        .collect::<PyResult<Vec<_>>>()?;
    let model = infer_model(
        dataset,
        &schemas,
        &model_options(&attributes, &metrics, &forms),
    )
    .map_err(|e| arrow_error(py, &e))?;
    serde_json::to_string(&model.to_dataset_model())
        .map_err(|e| internal(format!("writing the model as JSON: {e}")))
}

fn table_schema(
    py: Python<'_>,
    name: &str,
    obj: &Bound<'_, PyAny>,
    storage: &StorageOptions,
) -> PyResult<Arc<Schema>> {
    if obj.hasattr("__arrow_c_schema__")? {
        let PyArrowType(schema) = obj.extract::<PyArrowType<Schema>>()?;
        return Ok(Arc::new(schema));
    }
    match input(obj)?.open(py, name, storage)? {
        Opened::Source(source) => Ok(source.schema()),
        Opened::Stream(reader) => Ok(reader.schema()),
    }
}

/// The default table name of a path: a directory's name, the last literal folder of a glob
/// (`out/*.parquet` -> `out`), or a file's stem; `None` when there is none.
#[pyfunction]
pub(crate) fn input_name(path: std::path::PathBuf) -> Option<String> {
    InputSource::default_name(path)
}
