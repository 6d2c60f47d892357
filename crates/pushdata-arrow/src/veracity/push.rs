//! [`VeracityPush`]: an Arrow table (Parquet file, batch iterator or stream) into a Veracity
//! dataset, as one ingest job whose CSV file is encoded while it is uploaded.

use std::future::IntoFuture;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{Stream, StreamExt};
use pushdata_core::veracity::wire::{
    self, AddSchemaRequest, CreateDatasetRequest, FileOperation, IngestFile, IngestResponse,
    JobState, UpdateDatasetRequest,
};
use pushdata_core::veracity::{Client, DataLakeUpload, JobWait};
use tokio::sync::mpsc;

use super::csv::{CsvParts, CsvSummary, DEFAULT_PART_BYTES};
use super::error::VeracityError;
use super::rules::{Operation, check_operation, check_upload};
use super::schema::{SchemaColumn, schema_columns};
use crate::source::{BatchItem, BatchIter, DEFAULT_BATCH_ROWS, ReadOptions, Source, TableReader};

/// The name of the CSV file uploaded for a job.
pub const DEFAULT_FILE_NAME: &str = "ImportData.csv";

/// What can go wrong in a Veracity push or pull. Every variant names the table (the input's
/// name, or `dataset <id>` for a pull) and keeps the lower-level error as its source.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransferError {
    /// The table does not fit the dataset: a type without a Veracity type, an operation the
    /// schema's keys forbid, a column the schema lacks, a value the CSV cannot hold.
    #[error("table {table:?}: {source}")]
    Check {
        /// The table.
        table: String,
        /// What is wrong, naming the column (and row, for values).
        #[source]
        source: VeracityError,
    },

    /// Reading the input (Parquet file, batch iterator or stream) failed.
    #[error("{source}")]
    Source {
        /// The table.
        table: String,
        /// The reader's error (naming the table and file).
        #[source]
        source: Box<crate::Error>,
    },

    /// A call to the service failed; for a failed job, the error holds the job id and its
    /// validation messages.
    #[error("table {table:?}: {step}: {source}")]
    Service {
        /// The table.
        table: String,
        /// What was being done (`register`, `upload`, `start job`, `job`, `query`, ...).
        step: &'static str,
        /// The client's error.
        #[source]
        source: Box<pushdata_core::veracity::Error>,
    },

    /// A key column given with `with_key` that the table does not have.
    #[error("table {table:?}: key column {column:?} is not a column of the table")]
    UnknownKey {
        /// The table.
        table: String,
        /// The key column as given.
        column: String,
    },

    /// Rows read back from a query do not convert to the dataset's Arrow schema.
    #[error("table {table:?}, page {page}: rows do not read as the schema's types: {source}")]
    Decode {
        /// The table (`dataset <id>`).
        table: String,
        /// The 1-based page index.
        page: u64,
        /// Arrow's error (naming the column).
        #[source]
        source: arrow_schema::ArrowError,
    },

    /// Writing a Parquet file failed.
    #[error("table {table:?}: writing Parquet file {path:?}: {source}")]
    Parquet {
        /// The table.
        table: String,
        /// The file.
        path: PathBuf,
        /// The Parquet error.
        #[source]
        source: parquet::errors::ParquetError,
    },

    /// The builder's settings cannot be used (no input, Create on an existing dataset, ...).
    #[error("veracity push configuration: {0}")]
    Config(String),

    /// A job that completed without saying which dataset it created.
    #[error("table {table:?}: job {job_id} completed without a dataset id")]
    NoDatasetId {
        /// The table.
        table: String,
        /// The job.
        job_id: String,
    },

    /// An internal task panicked or was cancelled.
    #[error("internal: {task}: {source}")]
    Task {
        /// The task.
        task: &'static str,
        /// The join error.
        #[source]
        source: tokio::task::JoinError,
    },
}

/// Marker of [`VeracityPush::create`]: the dataset to create.
#[derive(Debug, Clone)]
pub struct NewVeracityDataset {
    name: String,
    description: Option<String>,
    schema_version_id: Option<String>,
}

/// Marker of [`VeracityPush::into_dataset`]: the dataset to update and how.
#[derive(Debug, Clone)]
pub struct ExistingVeracityDataset {
    id: String,
    operation: Operation,
    schema_id: Option<String>,
    columns: Option<Vec<SchemaColumn>>,
}

/// What a push did.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct VeracityPushReport {
    /// The dataset (created, or updated).
    pub dataset_id: String,
    /// The ingest job.
    pub job_id: String,
    /// The schema made for the dataset (`create` without `with_schema_version` only): what
    /// `with_schema_id` of later pushes and pulls takes.
    pub schema_id: Option<String>,
    /// The schema version the dataset was created with (`create` only).
    pub schema_version_id: Option<String>,
    /// The operation the job applied.
    pub operation: Operation,
    /// Data rows uploaded.
    pub rows: u64,
    /// Bytes of the CSV file.
    pub bytes: u64,
    /// Parts appended.
    pub parts: u64,
    /// Seconds from the start to the job's end.
    pub seconds: f64,
    /// The job's final status.
    pub status: JobState,
}

/// Settings shared by both kinds of push.
#[derive(Debug, Clone)]
struct Settings {
    part_bytes: usize,
    file_name: String,
    keys: Vec<String>,
    start_automatically: bool,
    wait: JobWait,
    batch_rows: usize,
}

/// Pushes one Arrow table into a Veracity dataset as one ingest job: register the job,
/// upload the table as a CSV file through the returned SAS URI, start the job (unless it
/// starts automatically) and wait for it. Awaiting the builder runs it and gives a
/// [`VeracityPushReport`].
///
/// - [`VeracityPush::create`]: a new dataset; its schema is made from the table's Arrow
///   schema (with [`with_key`](VeracityPush::with_key) columns as keys) unless
///   [`with_schema_version`](VeracityPush::with_schema_version) names an existing one.
/// - [`VeracityPush::into_dataset`]: an existing dataset with Upsert, Delete, Overwrite or
///   Append. The operation and the table's columns are checked against the dataset's
///   schema before anything is uploaded when the schema is known
///   ([`with_schema_id`](VeracityPush::with_schema_id) or
///   [`with_dataset_columns`](VeracityPush::with_dataset_columns)); otherwise the key rules
///   are checked against the [`with_key`](VeracityPush::with_key) columns.
///
/// # Failures
///
/// Checks that fail before the job is registered leave nothing behind. A failure after it
/// (encoding a value, an append, the job itself) leaves the registered job unstarted or
/// failed, and for `create` the schema made for it; a failed job leaves the dataset's
/// rows unchanged. The error names the table (the Parquet path, the dataset name, or
/// `dataset <id>`), the column and row when a value is at fault, and for a failed job its
/// id and validation messages ([`TransferError::Service`] with step `job`).
///
/// # Memory
///
/// An encoding thread cuts the CSV file into parts of `part_bytes` (default
/// [`DEFAULT_PART_BYTES`]) and hands them through a channel of capacity 1 to the uploader,
/// which appends one while the next is encoded: about two to three parts are held at once,
/// plus the decoded batches being encoded, whatever the table size.
///
/// # Example
///
/// ```no_run
/// use pushdata_arrow::veracity::{Operation, VeracityPush};
/// use pushdata_core::veracity::Client;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = Client::builder("workspace-id")
///     .with_credentials("client-id", "client-secret")
///     .with_subscription_key("subscription-key")
///     .build()?;
/// let created = VeracityPush::create(client.clone(), "Wind")
///     .with_parquet("data/wind.parquet")
///     .with_key("Id")
///     .await?;
/// let report = VeracityPush::into_dataset(client, &created.dataset_id, Operation::Upsert)
///     .with_parquet("data/wind-update.parquet")
///     .with_key("Id")
///     .await?;
/// println!("{} rows in {} parts, job {}", report.rows, report.parts, report.job_id);
/// # Ok(())
/// # }
/// ```
#[must_use = "a push does nothing until it is awaited"]
pub struct VeracityPush<D> {
    client: Client,
    dataset: D,
    table: String,
    /// In a mutex only to keep the builder `Sync` (the push future holds `&self`).
    source: Mutex<Option<Source>>,
    settings: Settings,
}

impl<D: std::fmt::Debug> std::fmt::Debug for VeracityPush<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VeracityPush")
            .field("dataset", &self.dataset)
            .field("table", &self.table)
            .field("source", &self.source)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl VeracityPush<NewVeracityDataset> {
    /// A push through `client` that creates dataset `name` (operation Create).
    pub fn create(client: Client, name: impl Into<String>) -> Self {
        let name = name.into();
        let dataset = NewVeracityDataset {
            name: name.clone(),
            description: None,
            schema_version_id: None,
        };
        VeracityPush::with_dataset(client, dataset, name)
    }

    /// Create the dataset with this existing schema version instead of a new schema made
    /// from the table.
    pub fn with_schema_version(mut self, schema_version_id: impl Into<String>) -> Self {
        self.dataset.schema_version_id = Some(schema_version_id.into());
        self
    }

    /// The dataset's description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.dataset.description = Some(description.into());
        self
    }
}

impl VeracityPush<ExistingVeracityDataset> {
    /// A push through `client` that applies `operation` (Upsert, Delete, Overwrite or
    /// Append) to dataset `dataset_id`.
    pub fn into_dataset(
        client: Client,
        dataset_id: impl Into<String>,
        operation: Operation,
    ) -> Self {
        let id = dataset_id.into();
        let dataset = ExistingVeracityDataset {
            id: id.clone(),
            operation,
            schema_id: None,
            columns: None,
        };
        VeracityPush::with_dataset(client, dataset, format!("dataset {id}"))
    }

    /// The dataset's schema id: its current version is fetched and the operation and the
    /// table's columns are checked against it before any upload.
    pub fn with_schema_id(mut self, schema_id: impl Into<String>) -> Self {
        self.dataset.schema_id = Some(schema_id.into());
        self
    }

    /// The dataset's schema columns, checked against like [`with_schema_id`](Self::with_schema_id)
    /// without fetching them.
    pub fn with_dataset_columns(mut self, columns: Vec<SchemaColumn>) -> Self {
        self.dataset.columns = Some(columns);
        self
    }
}

impl<D> VeracityPush<D> {
    fn with_dataset(client: Client, dataset: D, table: String) -> Self {
        VeracityPush {
            client,
            dataset,
            table,
            source: Mutex::new(None),
            settings: Settings {
                part_bytes: DEFAULT_PART_BYTES,
                file_name: DEFAULT_FILE_NAME.to_string(),
                keys: Vec::new(),
                start_automatically: false,
                wait: JobWait::default(),
                batch_rows: DEFAULT_BATCH_ROWS,
            },
        }
    }

    /// The table's name in errors (default: the dataset name, or `dataset <id>`).
    pub fn with_table_name(mut self, name: impl Into<String>) -> Self {
        self.table = name.into();
        self
    }

    /// The input: a Parquet file (its name becomes the table name in errors).
    pub fn with_parquet(mut self, path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        self.table = path.display().to_string();
        self.source = Mutex::new(Some(Source::Parquet(path)));
        self
    }

    /// The input: an iterator of batches of `schema` (`RecordBatch`es or `Result`s of them).
    pub fn with_batches<I, B>(mut self, schema: SchemaRef, batches: I) -> Self
    where
        I: IntoIterator<Item = B>,
        I::IntoIter: Send + 'static,
        B: BatchItem,
    {
        let it: BatchIter = Box::new(batches.into_iter().map(BatchItem::into_batch));
        self.source = Mutex::new(Some(Source::Iter(schema, it)));
        self
    }

    /// The input: an async stream of batches of `schema`.
    pub fn with_stream<S>(mut self, schema: SchemaRef, stream: S) -> Self
    where
        S: Stream + Send + 'static,
        S::Item: BatchItem,
    {
        let stream = stream.map(BatchItem::into_batch).boxed();
        self.source = Mutex::new(Some(Source::Stream(schema, stream)));
        self
    }

    /// The input: batches in memory.
    pub fn with_memory(mut self, schema: SchemaRef, batches: Vec<RecordBatch>) -> Self {
        self.source = Mutex::new(Some(Source::Memory(schema, batches)));
        self
    }

    /// A key column (for a new schema; for an existing dataset whose schema is not given,
    /// the keys the operation is checked against). Call once per key.
    pub fn with_key(mut self, column: impl Into<String>) -> Self {
        self.settings.keys.push(column.into());
        self
    }

    /// The most bytes of one appended part (at least 1 KiB).
    pub fn with_part_bytes(mut self, bytes: usize) -> Self {
        self.settings.part_bytes = bytes;
        self
    }

    /// The uploaded file's name (default [`DEFAULT_FILE_NAME`]).
    pub fn with_file_name(mut self, name: impl Into<String>) -> Self {
        self.settings.file_name = name.into();
        self
    }

    /// Register the job with `startAutomatically` (no start call after the upload).
    pub fn with_start_automatically(mut self, yes: bool) -> Self {
        self.settings.start_automatically = yes;
        self
    }

    /// How long and how often to poll the job.
    pub fn with_job_wait(mut self, wait: JobWait) -> Self {
        self.settings.wait = wait;
        self
    }

    /// Rows per batch read from a Parquet file.
    pub fn with_batch_rows(mut self, rows: usize) -> Self {
        self.settings.batch_rows = rows.max(1);
        self
    }

    fn service(
        &self,
        step: &'static str,
    ) -> impl Fn(pushdata_core::veracity::Error) -> TransferError {
        let table = self.table.clone();
        move |source| TransferError::Service {
            table: table.clone(),
            step,
            source: Box::new(source),
        }
    }

    fn check(&self) -> impl Fn(VeracityError) -> TransferError {
        let table = self.table.clone();
        move |source| TransferError::Check {
            table: table.clone(),
            source,
        }
    }

    /// Open the input: its schema, its reader, and the file's columns with the keys marked.
    async fn open(&mut self) -> Result<(TableReader, CsvParts, Vec<SchemaColumn>), TransferError> {
        let source = self
            .source
            .get_mut()
            .ok()
            .and_then(Option::take)
            .ok_or_else(|| TransferError::Config("no input table given".into()))?;
        let options = ReadOptions {
            batch_rows: self.settings.batch_rows,
            read_parallelism: 2,
        };
        let (schema, reader) =
            source
                .open(&self.table, options)
                .await
                .map_err(|source| TransferError::Source {
                    table: self.table.clone(),
                    source: Box::new(source),
                })?;
        let parts =
            CsvParts::new(schema.clone(), self.settings.part_bytes).map_err(self.check())?;
        let mut columns = schema_columns(&schema).map_err(self.check())?;
        for key in &self.settings.keys {
            let column = columns
                .iter_mut()
                .find(|c| c.name.eq_ignore_ascii_case(key))
                .ok_or_else(|| TransferError::UnknownKey {
                    table: self.table.clone(),
                    column: key.clone(),
                })?;
            column.is_key = true;
        }
        Ok((reader, parts, columns))
    }

    /// Upload, start and wait: the steps after the job is registered.
    async fn transfer(
        &self,
        ingest: &IngestResponse,
        reader: TableReader,
        parts: CsvParts,
    ) -> Result<(CsvSummary, wire::JobStatus), TransferError> {
        let mut upload =
            DataLakeUpload::create(&self.client, &ingest.sas_token, &self.settings.file_name)
                .await
                .map_err(self.service("create file"))?;
        let (tx, mut rx) = mpsc::channel::<Bytes>(1);
        let table = self.table.clone();
        let encoder = tokio::task::spawn_blocking(move || encode(&table, reader, parts, tx));
        let mut appended: Result<(), TransferError> = Ok(());
        while let Some(part) = rx.recv().await {
            if let Err(e) = upload.append(part).await {
                appended = Err(self.service("append")(e));
                break;
            }
        }
        drop(rx);
        let encoded = encoder.await.map_err(|source| TransferError::Task {
            task: "encoding CSV parts",
            source,
        })?;
        appended?;
        let summary = encoded?;
        upload.flush().await.map_err(self.service("flush"))?;
        let status = self.run_job(&ingest.job_id).await?;
        Ok((summary, status))
    }

    async fn run_job(&self, job_id: &str) -> Result<wire::JobStatus, TransferError> {
        if !self.settings.start_automatically {
            self.client
                .start_job(job_id)
                .await
                .map_err(self.service("start job"))?;
        }
        self.client
            .wait_for_job(job_id, &self.settings.wait)
            .await
            .map_err(self.service("job"))
    }
}

/// Read the table and encode it into parts sent to the uploader (on a blocking thread). An
/// uploader that stopped ends the encoding quietly: its own error is the one reported.
fn encode(
    table: &str,
    reader: TableReader,
    mut parts: CsvParts,
    tx: mpsc::Sender<Bytes>,
) -> Result<CsvSummary, TransferError> {
    let mut failure: Option<TransferError> = None;
    let mut send = |part: Bytes| -> Result<(), Failure> {
        tx.blocking_send(part)
            .map_err(|_| Failure::Other(crate::Error::UploaderStopped))
    };
    let read = reader.read(table, &mut |batch| {
        parts.push(&batch, &mut send).map_err(|e| match e {
            Failure::Check(source) => {
                failure = Some(TransferError::Check {
                    table: table.to_string(),
                    source,
                });
                crate::Error::Interrupted
            }
            Failure::Other(e) => e,
        })
    });
    if let Some(f) = failure {
        return Err(f);
    }
    match read {
        Err(crate::Error::UploaderStopped) => return Ok(CsvSummary::default()),
        Err(source) => {
            return Err(TransferError::Source {
                table: table.to_string(),
                source: Box::new(source),
            });
        }
        Ok(()) => {}
    }
    match parts.finish(&mut send) {
        Ok(summary) => Ok(summary),
        Err(Failure::Check(source)) => Err(TransferError::Check {
            table: table.to_string(),
            source,
        }),
        Err(Failure::Other(_)) => Ok(CsvSummary::default()),
    }
}

/// An encoding step's failure: the CSV encoder's, or the reader's / uploader's.
#[derive(Debug)]
enum Failure {
    Check(VeracityError),
    Other(crate::Error),
}

impl From<VeracityError> for Failure {
    fn from(e: VeracityError) -> Self {
        Failure::Check(e)
    }
}

impl From<crate::Error> for Failure {
    fn from(e: crate::Error) -> Self {
        Failure::Other(e)
    }
}

fn ingest_file(name: &str, operation: FileOperation) -> Vec<IngestFile> {
    vec![IngestFile {
        file_name: name.to_string(),
        operation,
    }]
}

fn file_operation(operation: Operation) -> FileOperation {
    match operation {
        Operation::Create => FileOperation::Create,
        Operation::Upsert => FileOperation::Upsert,
        Operation::Delete => FileOperation::Delete,
        Operation::Overwrite => FileOperation::Overwrite,
        Operation::Append => FileOperation::Append,
    }
}

/// The wire column of a schema column.
fn wire_column(c: &SchemaColumn) -> wire::SchemaColumn {
    let data_type = wire::ColumnType::parse_lenient(c.column_type.as_str());
    wire::SchemaColumn::new(c.name.clone(), data_type)
        .with_key(c.is_key)
        .with_required(c.is_required || c.is_key)
}

/// The schema columns of a wire schema column list (types this crate does not know refused).
pub(super) fn local_columns(
    columns: &[wire::SchemaColumn],
) -> Result<Vec<SchemaColumn>, VeracityError> {
    columns
        .iter()
        .map(|c| {
            let column_type =
                c.data_type
                    .as_str()
                    .parse()
                    .map_err(|_| VeracityError::UnknownColumnType {
                        column: c.name.clone(),
                        type_name: c.data_type.as_str().to_string(),
                    })?;
            let mut column = SchemaColumn::new(c.name.clone(), column_type).with_key(c.is_key);
            column.is_required = c.is_required;
            Ok(column)
        })
        .collect()
}

impl VeracityPush<NewVeracityDataset> {
    async fn run(mut self) -> Result<VeracityPushReport, TransferError> {
        let started = Instant::now();
        let (reader, parts, columns) = self.open().await?;
        let (schema_id, schema_version_id) = match self.dataset.schema_version_id.clone() {
            Some(id) => (None, id),
            None => {
                let (schema, version) = self.add_schema(&columns).await?;
                (Some(schema), version)
            }
        };
        let ingest = self.register(&schema_version_id).await?;
        let (summary, status) = self.transfer(&ingest, reader, parts).await?;
        let dataset_id = status
            .dataset_id
            .clone()
            .ok_or_else(|| TransferError::NoDatasetId {
                table: self.table.clone(),
                job_id: ingest.job_id.clone(),
            })?;
        let mut report = report(
            dataset_id,
            Operation::Create,
            &ingest,
            summary,
            status,
            started,
        );
        report.schema_id = schema_id;
        report.schema_version_id = Some(schema_version_id);
        Ok(report)
    }

    /// Register the Create job with schema version `schema_version_id`.
    async fn register(&self, schema_version_id: &str) -> Result<IngestResponse, TransferError> {
        let request = CreateDatasetRequest {
            dataset_name: self.dataset.name.clone(),
            dataset_description: self.dataset.description.clone(),
            schema_version_id: schema_version_id.to_string(),
            files: ingest_file(&self.settings.file_name, FileOperation::Create),
            tags: Vec::new(),
            provider: None,
            start_automatically: self.settings.start_automatically,
        };
        self.client
            .create_dataset(&request)
            .await
            .map_err(self.service("register"))
    }

    /// A new schema of `columns`, named as the dataset; its id and its first version's.
    async fn add_schema(
        &self,
        columns: &[SchemaColumn],
    ) -> Result<(String, String), TransferError> {
        let request = AddSchemaRequest {
            name: self.dataset.name.clone(),
            short_name: None,
            description: self.dataset.description.clone(),
            columns: columns.iter().map(wire_column).collect(),
            row_validators: None,
        };
        let schema = self
            .client
            .add_schema(&request)
            .await
            .map_err(self.service("add schema"))?;
        schema
            .current_version()
            .map(|v| (schema.id.clone(), v.id.clone()))
            .ok_or_else(|| TransferError::Config(format!("schema {} has no version", schema.id)))
    }
}

impl VeracityPush<ExistingVeracityDataset> {
    async fn run(mut self) -> Result<VeracityPushReport, TransferError> {
        let started = Instant::now();
        let operation = self.dataset.operation;
        if operation == Operation::Create {
            return Err(TransferError::Config(
                "Create makes a new dataset: use VeracityPush::create".into(),
            ));
        }
        let (reader, parts, columns) = self.open().await?;
        self.check_against_schema(operation, &columns).await?;
        let request = UpdateDatasetRequest {
            files: ingest_file(&self.settings.file_name, file_operation(operation)),
            start_automatically: self.settings.start_automatically,
        };
        let ingest = self
            .client
            .update_dataset(&self.dataset.id, &request)
            .await
            .map_err(self.service("register"))?;
        let (summary, status) = self.transfer(&ingest, reader, parts).await?;
        let id = self.dataset.id.clone();
        Ok(report(id, operation, &ingest, summary, status, started))
    }

    /// The operation rules against the dataset's schema when known, else the key rules
    /// against the `with_key` columns.
    async fn check_against_schema(
        &self,
        operation: Operation,
        file: &[SchemaColumn],
    ) -> Result<(), TransferError> {
        let schema = match (&self.dataset.columns, &self.dataset.schema_id) {
            (Some(columns), _) => Some(columns.clone()),
            (None, Some(id)) => {
                let schema = self
                    .client
                    .schema(id)
                    .await
                    .map_err(self.service("fetch schema"))?;
                let version = schema
                    .current_version()
                    .ok_or_else(|| TransferError::Config(format!("schema {id} has no version")))?;
                Some(local_columns(&version.columns).map_err(self.check())?)
            }
            (None, None) => None,
        };
        match schema {
            Some(schema) => check_upload(operation, file, &schema).map_err(self.check()),
            None => check_operation(operation, file).map_err(self.check()),
        }
    }
}

fn report(
    dataset_id: String,
    operation: Operation,
    ingest: &IngestResponse,
    summary: CsvSummary,
    status: wire::JobStatus,
    started: Instant,
) -> VeracityPushReport {
    VeracityPushReport {
        dataset_id,
        job_id: ingest.job_id.clone(),
        schema_id: None,
        schema_version_id: None,
        operation,
        rows: summary.rows,
        bytes: summary.bytes,
        parts: summary.parts,
        seconds: started.elapsed().as_secs_f64(),
        status: status.status,
    }
}

impl IntoFuture for VeracityPush<NewVeracityDataset> {
    type Output = Result<VeracityPushReport, TransferError>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

impl IntoFuture for VeracityPush<ExistingVeracityDataset> {
    type Output = Result<VeracityPushReport, TransferError>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}
