//! Why reading a cube failed: the request's faults (unknown ids, filters, joins too large,
//! sums out of range), an unknown instance, and the server's own failures, each with its
//! context as fields. `crate::mstr::error` maps them to HTTP answers.

use std::path::PathBuf;

use arrow_schema::{ArrowError, DataType as ArrowType};

use super::join::MAX_CROSS_ROWS;

/// An error of the Cube API.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CubeError {
    /// `requestedObjects.attributes` names an id or name the cube does not have.
    #[error(
        "requestedObjects.attributes: {id:?} is not an attribute of cube {cube} (see GET /api/v2/cubes/{cube})"
    )]
    UnknownAttribute {
        /// The id asked for.
        id: String,
        /// The cube (dataset) id.
        cube: String,
    },
    /// `requestedObjects.metrics` names an id or name the cube does not have.
    #[error(
        "requestedObjects.metrics: {id:?} is not a metric of cube {cube} (see GET /api/v2/cubes/{cube})"
    )]
    UnknownMetric {
        /// The id asked for.
        id: String,
        /// The cube (dataset) id.
        cube: String,
    },
    /// None of the forms asked for of an attribute exist.
    #[error(
        "requestedObjects.attributes: none of the forms asked for exist in attribute {attribute:?}"
    )]
    NoSuchForms {
        /// The attribute's name.
        attribute: String,
    },
    /// The request asks for no attribute and no metric.
    #[error(
        "requestedObjects names no attribute and no metric of cube {cube}; ask for at least one"
    )]
    NothingRequested {
        /// The cube (dataset) id.
        cube: String,
    },
    /// No table holds all the forms asked for of an attribute.
    #[error("attribute {attribute:?}: no table holds all the forms asked for")]
    NoTableHoldsForms {
        /// The attribute's name.
        attribute: String,
    },
    /// A `viewFilter` operator without operands.
    #[error("viewFilter: operator {operator:?} has no operands")]
    FilterWithoutOperands {
        /// The operator as given.
        operator: String,
    },
    /// A `viewFilter` naming an attribute the cube does not have.
    #[error("viewFilter: {id:?} is not an attribute of cube {cube}")]
    FilterUnknownAttribute {
        /// The id in the filter.
        id: String,
        /// The cube (dataset) id.
        cube: String,
    },
    /// An `In`/`NotIn` filter without its attribute and elements operands.
    #[error(
        "viewFilter: operator {operator:?} needs an operand of type \"attribute\" with an id and one of type \"elements\""
    )]
    FilterOperands {
        /// The operator as given.
        operator: String,
    },
    /// A `viewFilter` operator this server does not understand.
    #[error(
        "viewFilter: unsupported operator {operator:?}; this server understands And, Or, Not, In and NotIn on attribute elements"
    )]
    FilterOperator {
        /// The operator as given.
        operator: String,
    },
    /// Two tables share no attribute and their cross product is too large.
    #[error(
        "the tables share no attribute and crossing their {left_rows} x {right_rows} grouped rows exceeds {MAX_CROSS_ROWS} rows; ask for attributes and metrics of tables that share an attribute"
    )]
    CrossTooLarge {
        /// Grouped rows of the tables joined so far.
        left_rows: usize,
        /// Grouped rows of the table joined to them.
        right_rows: usize,
    },
    /// Joining a table to the tables joined before it failed.
    #[error("joining table {table:?} to {}: {source}", quoted_list(joined))]
    Join {
        /// The table being joined.
        table: String,
        /// The tables joined before it, in order.
        joined: Vec<String>,
        #[source]
        source: Box<CubeError>,
    },
    /// A metric's sum overflows while grouping.
    #[error("metric {metric:?}: the sum overflows while grouping rows")]
    SumOverflow {
        /// The metric's column name in the grouped rows.
        metric: String,
    },
    /// An integer metric's sum does not fit the 64-bit result.
    #[error("metric {metric:?}: the sum {sum} does not fit a 64-bit integer")]
    SumTooLarge {
        /// The metric's column name in the grouped rows.
        metric: String,
        /// The sum reached.
        sum: i128,
    },
    /// The table asked for (by id or name) is not a table of the dataset.
    #[error(
        "dataset {dataset} has no table {table:?}; its tables are {}",
        quoted_list(tables)
    )]
    UnknownTable {
        /// The dataset id.
        dataset: String,
        /// The table id or name asked for.
        table: String,
        /// The names of the dataset's tables.
        tables: Vec<String>,
    },
    /// A page of a table's rows was asked for a version of the table that is no longer the
    /// published one.
    #[error(
        "table {table:?} of dataset {dataset} was published again since version {asked:?} (now {current:?}); read it again from offset 0"
    )]
    TableChanged {
        /// The dataset id.
        dataset: String,
        /// The table's name.
        table: String,
        /// The version the earlier pages were read from.
        asked: String,
        /// The version published now.
        current: String,
    },
    /// The cube instance does not exist (or expired).
    #[error(
        "cube instance {instance:?} of cube {cube} does not exist or has expired (instances expire after {idle_secs} s unused and do not survive a restart); create a new one with POST /api/v2/cubes/{cube}/instances"
    )]
    InstanceNotFound {
        /// The cube (dataset) id.
        cube: String,
        /// The instance id asked for.
        instance: String,
        /// Seconds unused after which instances expire.
        idle_secs: u64,
    },
    /// An attribute form whose expressions name no column of the dataset.
    #[error("attribute {attribute:?}: a form has no expression naming a column of the dataset")]
    FormWithoutColumn {
        /// The attribute's name.
        attribute: String,
    },
    /// A metric whose expressions name no column of the dataset.
    #[error("metric {metric:?}: no expression names a column of the dataset")]
    MetricWithoutColumn {
        /// The metric's name.
        metric: String,
    },
    /// A form expected in the table read is not in it.
    #[error("attribute {attribute:?}: form not in table")]
    FormNotInTable {
        /// The attribute's name.
        attribute: String,
    },
    /// A metric's column expected in the table read is not in it.
    #[error("metric {metric:?}: column not in table")]
    MetricNotInTable {
        /// The metric's name.
        metric: String,
    },
    /// A decimal metric column whose type is not the one its accumulator sums.
    #[error("metric {metric:?}: expected a decimal of scale {scale}, found {found}")]
    DecimalScale {
        /// The metric's column name in the grouped rows.
        metric: String,
        /// The scale summed.
        scale: i8,
        /// The column's type.
        found: ArrowType,
    },
    /// Converting the largest values of a metric back to a column gave no column.
    #[error("grouping rows: no column converted back")]
    NoColumnConverted,
    /// Arrow failed on the cube's own data.
    #[error("{context}: {source}")]
    Arrow {
        /// What the cube was doing.
        context: &'static str,
        /// Arrow's error.
        #[source]
        source: ArrowError,
    },
    /// Reading a stored Parquet file failed.
    #[error("reading {}: {source}", path.display())]
    Parquet {
        /// The Parquet file.
        path: PathBuf,
        /// Parquet's error.
        #[source]
        source: parquet::errors::ParquetError,
    },
    /// Reading a batch of a stored Parquet file failed.
    #[error("reading {}: {source}", path.display())]
    ReadBatch {
        /// The Parquet file.
        path: PathBuf,
        /// The reader's error.
        #[source]
        source: ArrowError,
    },
    /// A file-system call failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was done to the file (`creating`, `opening`).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The system's error.
        #[source]
        source: std::io::Error,
    },
    /// A value of a page is not valid JSON.
    #[error("writing a cube page: invalid JSON value: {source}")]
    Json {
        /// serde_json's error.
        #[source]
        source: serde_json::Error,
    },
}

/// `Result` of the cube.
pub(crate) type Result<T, E = CubeError> = std::result::Result<T, E>;

impl CubeError {
    /// A closure wrapping an Arrow error with what the cube was doing.
    pub(crate) fn arrow(context: &'static str) -> impl Fn(ArrowError) -> CubeError {
        move |source| CubeError::Arrow { context, source }
    }

    /// A closure wrapping a file-system error with the action and the path.
    pub(crate) fn io<'p>(
        action: &'static str,
        path: &'p std::path::Path,
    ) -> impl FnOnce(std::io::Error) -> CubeError + 'p {
        move |source| CubeError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// `"a", "b"`: the names quoted, comma separated.
fn quoted_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}
