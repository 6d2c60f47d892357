//! The one error type of this crate: every variant names where it happened (table, column,
//! row range, chunk index) and wraps lower-level errors without re-wording them.

use std::ops::Range;
use std::path::PathBuf;

/// What can go wrong between an Arrow schema / Parquet file and a published dataset.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A column's Arrow type has no Push Data API type (or needs the text option).
    #[error("table {table:?}, column {column:?}: Arrow type {arrow_type} is not supported{hint}")]
    UnsupportedType {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The Arrow type, as Arrow prints it.
        arrow_type: String,
        /// How to get past it, if there is a way (starts with "; ").
        hint: &'static str,
    },

    /// A table, column, attribute or metric name the server would refuse.
    #[error("invalid {what} name {name:?}: {reason}")]
    InvalidName {
        /// What is named: `table`, `column "x" of table "t"`, `attribute`, `metric`, `dataset`.
        what: String,
        /// The name as given (possibly truncated for display by the caller).
        name: String,
        /// Why it is refused.
        reason: pushdata_core::wire::NameProblem,
    },

    /// The model cannot be built as asked (conflicting choices, unknown column, ...).
    /// Boxed: it is large.
    #[error("model: {0}")]
    Model(#[source] Box<crate::model::ModelError>),

    /// A value cannot be written in the API's text format.
    #[error(
        "table {table:?}, column {column:?}, row {row}: {message}{}",
        colon_then(source)
    )]
    Value {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// Row number within the table (0-based, counted over everything pushed to it).
        row: u64,
        /// What is wrong with the value.
        message: String,
        /// The Arrow error, when Arrow could not format the value.
        #[source]
        source: Option<arrow_schema::ArrowError>,
    },

    /// A cell of a cube page is a JSON string that does not decode.
    #[error("table {table:?}, column {column:?}, row {row}: invalid string: {source}")]
    Cell {
        /// The table (`cube <id>`).
        table: String,
        /// The column.
        column: String,
        /// Row within the cube instance (0-based).
        row: u64,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },

    /// Values read from a cube page do not convert to their column's type.
    #[error(
        "table {table:?}, column {column:?}, rows {}..{}: values do not read as {data_type}: {source}",
        rows.start,
        rows.end
    )]
    Cast {
        /// The table (`cube <id>`).
        table: String,
        /// The column.
        column: String,
        /// The rows of the page (0-based within the cube instance, end exclusive).
        rows: Range<u64>,
        /// The Arrow type the values were read as.
        data_type: String,
        /// The Arrow error.
        #[source]
        source: arrow_schema::ArrowError,
    },

    /// A batch does not match the schema the table was declared with.
    #[error("table {table:?}: batch does not match the table schema: {message}")]
    SchemaMismatch {
        /// The table.
        table: String,
        /// What differs.
        message: String,
    },

    /// Reading a Parquet file failed.
    #[error("table {table:?}: reading Parquet file {path:?}: {source}")]
    Parquet {
        /// The table.
        table: String,
        /// The file.
        path: PathBuf,
        /// The Parquet error.
        #[source]
        source: parquet::errors::ParquetError,
    },

    /// An input location or one of its files cannot be read as a table (no files, unknown
    /// format, schemas that differ, partition folders that differ, a bad schema file).
    #[error("table {table:?}: {source}")]
    Input {
        /// The table.
        table: String,
        /// What is wrong, naming the file.
        #[source]
        source: Box<crate::source::InputError>,
    },

    /// A local file changed (rewritten, cut short or replaced) while it was being pushed,
    /// or an object (a URL input) is no longer the version listed (its ETag changed): the
    /// push stops before publishing anything.
    #[error(
        "table {table:?}: the file {path:?} changed while it was being pushed (it was rewritten or replaced); nothing was published from it"
    )]
    FileChanged {
        /// The table.
        table: String,
        /// The file.
        path: PathBuf,
    },

    /// Opening a file failed.
    #[error("table {table:?}: opening {path:?}: {source}")]
    Io {
        /// The table.
        table: String,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// An Arrow computation failed (reading batches, slicing, formatting nested values).
    #[error("table {table:?}: {source}")]
    Arrow {
        /// The table.
        table: String,
        /// The Arrow error.
        #[source]
        source: arrow_schema::ArrowError,
    },

    /// The push options are inconsistent (no tables, both a dataset name and id, ...).
    #[error("push configuration: {0}")]
    Config(String),

    /// The tables do not match the definition of the existing dataset they are pushed
    /// into; nothing was written. `differences` lists every refused difference (the
    /// tolerated ones, see [`DifferenceKind::is_tolerated`](crate::DifferenceKind::is_tolerated),
    /// are left out).
    #[error(
        "dataset {dataset_id} does not match the tables pushed into it ({} difference{}): {}; \
         tolerated are only column order, the case of names, INTEGER into BIGINTEGER, DOUBLE or \
         BIGDECIMAL, BIGINTEGER into BIGDECIMAL, DATE into DATETIME, and all-null columns",
        differences.len(),
        if differences.len() == 1 { "" } else { "s" },
        crate::push::differences_text(differences)
    )]
    DefinitionDrift {
        /// The dataset.
        dataset_id: String,
        /// Every refused difference, in table and column order.
        differences: Vec<crate::Difference>,
    },

    /// A dataset of the name a push would create already exists in the folder, and the push
    /// was told to fail then ([`IfExists::Fail`](crate::IfExists::Fail), the default);
    /// nothing was written.
    #[error(
        "a dataset named {name:?} already exists in {folder}: {}",
        existing.iter().map(|d| format!("{:?} (id {})", d.name, d.id)).collect::<Vec<_>>().join(", ")
    )]
    DatasetExists {
        /// The name the push would have created.
        name: String,
        /// The folder looked in.
        folder: pushdata_core::Folder,
        /// The datasets of that name there (name as stored, and id).
        existing: Vec<pushdata_core::wire::IdName>,
    },

    /// Several datasets of the name a push should update are in the folder
    /// ([`IfExists::Update`](crate::IfExists::Update)): which one is meant is not known;
    /// nothing was written.
    #[error(
        "{} datasets named {name:?} are in {folder}: {}; push into one of them by id",
        existing.len(),
        existing.iter().map(|d| format!("{:?} (id {})", d.name, d.id)).collect::<Vec<_>>().join(", ")
    )]
    DatasetNameAmbiguous {
        /// The name.
        name: String,
        /// The folder looked in.
        folder: pushdata_core::Folder,
        /// The datasets of that name there.
        existing: Vec<pushdata_core::wire::IdName>,
    },

    /// A chunk could not be uploaded after the client's retries; the upload session was
    /// cancelled, nothing was published.
    #[error("table {table:?}, chunk {chunk} (rows {}..{}): {source}", rows.start, rows.end)]
    Chunk {
        /// The table.
        table: String,
        /// The chunk index (1-based, per table).
        chunk: u64,
        /// The rows the chunk carried (0-based, end exclusive).
        rows: Range<u64>,
        /// The client error, as the client reported it (boxed: it is large).
        #[source]
        source: Box<pushdata_core::Error>,
    },

    /// A call of the Push Data API failed (login is the caller's; this is model, session,
    /// publish, ...). The step names the call.
    #[error("{step}: {source}")]
    Api {
        /// Which call failed, e.g. `create model "sales"`.
        step: String,
        /// The client error, as the client reported it (boxed: it is large).
        #[source]
        source: Box<pushdata_core::Error>,
    },

    /// An exact table read ([`Pull::table`](crate::Pull::table)) was refused with 404, 405
    /// or 501: the server lacks the pushdata table rows extension (MicroStrategy servers
    /// do), or the dataset or table does not exist (the server's message says which).
    #[error(
        "{step}: {source}; exact table reads use {extension}, an extension of the pushdata reference server that MicroStrategy servers do not have (or the dataset or table does not exist)"
    )]
    NoTableRowsExtension {
        /// Which call failed.
        step: String,
        /// The extension's endpoint.
        extension: &'static str,
        /// The client error (boxed: it is large).
        #[source]
        source: Box<pushdata_core::Error>,
    },

    /// A cube instance page is not the JSON of one (malformed, or a field of the wrong
    /// shape).
    #[error("{step}: the page is not a valid cube instance page: {source}")]
    CubePage {
        /// Which page.
        step: String,
        /// What is wrong with it.
        #[source]
        source: crate::pull::PageError,
    },

    /// A page of an exact table read is not a valid Arrow IPC stream.
    #[error("{step}: the page is not a valid Arrow IPC stream: {source}")]
    TableRowsPage {
        /// Which page.
        step: String,
        /// Arrow's error.
        #[source]
        source: arrow_schema::ArrowError,
    },

    /// The push was stopped by its [stop signal](crate::Push::with_stop_signal) before the
    /// publish was requested: nothing was published. The upload session was cancelled and a
    /// dataset the push created was deleted (both best effort, logged when they fail).
    #[error("the push was stopped before its data was published")]
    Interrupted,

    /// The publish was requested, but whether it happened is not known, even after asking
    /// the server: the wait for its status failed (timeout, polls that failed, a status the
    /// client does not know) and one more status request did not say it was published; or
    /// the publish request got no answer and the publish status could not be read (a
    /// publish request lost before it started, which the status shows, is sent again); or
    /// the push was stopped after the request.
    /// The data may be published (the server may finish the publish after this). The upload
    /// session was cancelled (best effort: a server may stop a publish that has not finished)
    /// and a dataset the push created was kept. Check the dataset before pushing again.
    ///
    /// Every other error of a push means nothing was published.
    #[error(
        "the publish of dataset {}{} was requested; the outcome is unknown: {}",
        dataset_id.as_deref().unwrap_or("(id not known)"),
        session_id.as_ref().map(|s| format!(" (upload session {s})")).unwrap_or_default(),
        source.as_ref().map_or_else(|| "the push was stopped".to_string(), ToString::to_string)
    )]
    PublishOutcomeUnknown {
        /// The dataset, when known (a single-request create that got no answer has none).
        dataset_id: Option<String>,
        /// The upload session (multi-request workflow).
        session_id: Option<String>,
        /// Why the outcome is unknown: the client error, or `None` when the push was stopped.
        #[source]
        source: Option<Box<pushdata_core::Error>>,
    },

    /// A task of the push or pull stopped unexpectedly: it panicked or was cancelled.
    #[error("internal: {task}: {source}")]
    Task {
        /// What the task was doing, e.g. `the encoder thread failed`.
        task: String,
        /// Why it stopped, as the runtime reported it.
        #[source]
        source: tokio::task::JoinError,
    },

    /// The uploader went away while the encoder still had chunks to send (its own error,
    /// if it had one, is the one reported).
    #[error("internal: the uploader stopped before all chunks were sent")]
    UploaderStopped,

    /// An internal invariant does not hold (our own message; never a wrapped error).
    #[error("internal: {0}")]
    Internal(String),
}

impl Error {
    /// Whether the push may have published its data: `true` only for
    /// [`Error::PublishOutcomeUnknown`]. After any other error nothing was published.
    pub fn is_publish_outcome_unknown(&self) -> bool {
        matches!(self, Error::PublishOutcomeUnknown { .. })
    }
}

impl From<crate::model::ModelError> for Error {
    fn from(e: crate::model::ModelError) -> Self {
        Error::Model(Box::new(e))
    }
}

/// `: {error}`, or nothing.
fn colon_then(source: &Option<arrow_schema::ArrowError>) -> String {
    source
        .as_ref()
        .map(|e| format!(": {e}"))
        .unwrap_or_default()
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
