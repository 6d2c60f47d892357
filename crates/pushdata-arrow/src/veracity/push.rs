//! [`VeracityPush`]: an Arrow table (Parquet file, batch iterator or stream) into a Veracity
//! dataset, as one ingest job whose CSV file is encoded while it is uploaded.

use std::future::{Future, IntoFuture};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use futures::future::BoxFuture;
use futures::{FutureExt, Stream, StreamExt};
use pushdata_core::veracity::wire::{
    self, AddSchemaRequest, CreateDatasetRequest, FileOperation, IngestFile, IngestResponse,
    JobState, UpdateDatasetRequest,
};
use pushdata_core::veracity::{Client, JobWait};
use tokio::sync::mpsc;

use super::csv::{CsvParts, CsvSummary, DEFAULT_PART_BYTES};
use super::error::VeracityError;
use super::progress::VeracityEvent;
use super::rules::{Operation, check_operation, check_upload};
use super::schema::{SchemaColumn, schema_columns};
use super::stage::{Stage, until_stopped};
use super::transfer_error::TransferError;
use super::upload::{Encoding, FileUpload};
use crate::push::progress::{self, Sink};
use crate::source::{BatchItem, BatchIter, DEFAULT_BATCH_ROWS, InputSource, ReadOptions, Source};

/// The name of the CSV file uploaded for a job.
pub const DEFAULT_FILE_NAME: &str = "ImportData.csv";

/// Parts being appended at once by default (see
/// [`VeracityPush::with_appends_in_flight`]): one. Against the local reference server a
/// second append in flight gained nothing (the push is bound by the CPU of both processes)
/// and cost the client CPU (more part buffers alive than its pool keeps); against a
/// server across a network, more parts in flight hide the round trip between parts.
pub const DEFAULT_APPENDS_IN_FLIGHT: usize = 1;

/// The most appends in flight the `pushdata` command line and the Python package accept
/// (`--appends-in-flight`, `appends_in_flight=`); [`VeracityPush::with_appends_in_flight`]
/// itself takes any number.
pub const MAX_APPENDS_IN_FLIGHT: usize = 16;

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
    appends_in_flight: usize,
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
/// # Failures and stops
///
/// The job is started only after its whole file was uploaded and flushed, so whatever
/// fails or stops the push before then leaves the dataset unchanged:
///
/// - checks that fail before the job is registered leave nothing behind;
/// - a failure after it (a value that cannot be encoded, an append that failed after its
///   retries, the flush) does not start the job and returns
///   [`TransferError::NothingApplied`], which names the job, left unstarted (its file is
///   never applied), and keeps what failed as its source;
/// - [`with_stop_signal`](VeracityPush::with_stop_signal) stops the push: before the start
///   was requested it returns [`TransferError::Stopped`] naming the job, left unstarted;
///   after, [`TransferError::StoppedAfterStart`]: the push stops waiting and the job may
///   still complete. A push whose future is dropped does the same without an error (it
///   logs what it left);
/// - a job that fails leaves the dataset's rows unchanged ([`TransferError::Service`] with
///   step `job`, the job id and its validation messages in the source).
///
/// **What cannot be cleaned up.** The Data Workbench API has no call to delete a schema or
/// to cancel a registered job (see `VERACITY-API.md`: schemas can be added, read, patched,
/// versioned, activated and locked). A schema `create` made for a dataset that was not
/// created stays in the workspace, and the errors above name it (`schema_id`) so that it
/// can be reused with [`with_schema_version`](VeracityPush::with_schema_version) or removed
/// in the portal; an unstarted job stays registered, its file never applied.
///
/// Errors name the table (the Parquet path, the dataset name, or `dataset <id>`), the column
/// and row when a value is at fault; [`TransferError::job_id`] gives the job.
///
/// # Progress
///
/// [`with_progress`](VeracityPush::with_progress) or
/// [`with_progress_channel`](VeracityPush::with_progress_channel) receive a
/// [`VeracityEvent`] for the schema made, the job registered, every part appended (bytes
/// and rows so far), the flush, the start, every status poll and the completion.
///
/// ```no_run
/// use pushdata_arrow::veracity::{TransferError, VeracityEvent, VeracityPush};
///
/// # async fn run(client: pushdata_core::veracity::Client) -> Result<(), TransferError> {
/// let pushed = VeracityPush::create(client, "Wind")
///     .with_parquet("data/wind.parquet")
///     .with_progress(|event| {
///         if let VeracityEvent::PartAppended { rows, total_bytes, .. } = event {
///             eprintln!("{rows} rows, {total_bytes} bytes uploaded");
///         }
///     })
///     .with_stop_signal(async {
///         let _ = tokio::signal::ctrl_c().await;
///     })
///     .await;
/// match pushed {
///     Ok(report) => println!("job {} completed", report.job_id),
///     Err(TransferError::Stopped { job_id, .. }) => {
///         eprintln!("stopped; nothing applied, job {job_id:?} left unstarted");
///     }
///     Err(e) if e.may_still_apply() => eprintln!("job {:?} may still complete", e.job_id()),
///     Err(e) => return Err(e),
/// }
/// # Ok(())
/// # }
/// ```
///
/// # Memory
///
/// An encoding thread cuts the CSV file into parts of `part_bytes` (default
/// [`DEFAULT_PART_BYTES`]) and hands them through a channel of capacity 1 to the uploader,
/// which keeps up to [`DEFAULT_APPENDS_IN_FLIGHT`] of them being appended while the next is
/// encoded (see [`with_appends_in_flight`](VeracityPush::with_appends_in_flight)): about
/// three to four parts are held at once, and one more per further append in flight
/// (a part is the buffers its rows were encoded into, given back to the encoder once it is
/// appended; see [`CsvParts`](super::CsvParts)), plus the decoded batches being encoded,
/// whatever the table size. The encoding starts
/// as soon as the input is open, while the schema and the job are registered; until the
/// job's file exists, it stops after two parts.
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
    progress: Sink<VeracityEvent>,
    /// In a mutex for the same reason as `source`.
    stop: Mutex<Option<BoxFuture<'static, ()>>>,
    /// How far the push got on the service.
    stage: Stage,
}

impl<D: std::fmt::Debug> std::fmt::Debug for VeracityPush<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VeracityPush")
            .field("dataset", &self.dataset)
            .field("table", &self.table)
            .field("source", &self.source)
            .field("settings", &self.settings)
            .field("stage", &self.stage)
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
                appends_in_flight: DEFAULT_APPENDS_IN_FLIGHT,
                file_name: DEFAULT_FILE_NAME.to_string(),
                keys: Vec::new(),
                start_automatically: false,
                wait: JobWait::default(),
                batch_rows: DEFAULT_BATCH_ROWS,
            },
            progress: progress::noop(),
            stop: Mutex::new(None),
            stage: Stage::default(),
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

    /// The input: an opened [`InputSource`] (a file in any supported format, a directory
    /// of part files, or a glob); its location becomes the table name in errors.
    pub fn with_input(mut self, input: InputSource) -> Self {
        self.table = input.location().display().to_string();
        self.source = Mutex::new(Some(Source::Input(input)));
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

    /// The most parts being appended at once (default [`DEFAULT_APPENDS_IN_FLIGHT`]; at
    /// least 1): the next part is sent while the server still stores the one before, at
    /// its own position, so the server does not wait a round trip between parts.
    pub fn with_appends_in_flight(mut self, appends: usize) -> Self {
        self.settings.appends_in_flight = appends.max(1);
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

    /// Call `f` with every [`VeracityEvent`] (from the push's task; keep it quick).
    pub fn with_progress<F>(mut self, f: F) -> Self
    where
        F: Fn(VeracityEvent) + Send + Sync + 'static,
    {
        self.progress = Arc::new(f);
        self
    }

    /// Send every [`VeracityEvent`] to `tx` (events are dropped once the receiver is gone).
    pub fn with_progress_channel(mut self, tx: mpsc::UnboundedSender<VeracityEvent>) -> Self {
        self.progress = progress::channel(tx);
        self
    }

    /// Stop the push when `signal` completes (e.g. on Ctrl-C). Stopped before its job was
    /// started, the push does not start it and returns [`TransferError::Stopped`]: nothing
    /// was applied to the dataset. Stopped after, it stops waiting and returns
    /// [`TransferError::StoppedAfterStart`]: the job may still complete. See
    /// [failures and stops](VeracityPush#failures-and-stops).
    pub fn with_stop_signal<F>(self, signal: F) -> Self
    where
        F: Future<Output = ()> + Send + 'static,
    {
        *self.stop.lock().unwrap_or_else(PoisonError::into_inner) = Some(signal.boxed());
        self
    }

    /// The start request got no answer (`lost`): ask the job's status. Still pending: the
    /// start never arrived, so it is sent once more (a 409 then means it did arrive);
    /// running or done: it arrived, and the wait tells how it ends. When the status cannot
    /// be read, the start's own error is returned (the job may have started).
    async fn settle_lost_start(
        &self,
        job_id: &str,
        lost: pushdata_core::veracity::Error,
    ) -> Result<(), TransferError> {
        tracing::warn!(table = %self.table, job_id, error = %lost, "the start request got no answer; asking the job's status");
        let Ok(status) = self.client.job_status(job_id).await else {
            return Err(self.service("start job")(lost));
        };
        if status.status != JobState::Pending {
            return Ok(());
        }
        tracing::info!(table = %self.table, job_id, "the job never started; starting it again");
        match self.client.start_job(job_id).await {
            Ok(_) => Ok(()),
            Err(e) if e.status() == Some(409) => Ok(()),
            Err(e) => Err(self
                .service("start job (sent again: the first request got no answer)")(
                e
            )),
        }
    }

    fn service(
        &self,
        step: &'static str,
    ) -> impl Fn(pushdata_core::veracity::Error) -> TransferError + use<D> {
        TransferError::service(&self.table, step)
    }

    fn check(&self) -> impl Fn(VeracityError) -> TransferError {
        let table = self.table.clone();
        move |source| TransferError::Check {
            table: table.clone(),
            source,
        }
    }

    /// Open the input, start encoding it (see [`Encoding`]), and give the file's columns
    /// with the keys marked.
    async fn open(&self) -> Result<(Encoding, Vec<SchemaColumn>), TransferError> {
        let source = self
            .source
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
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
        Ok((Encoding::start(&self.table, reader, parts), columns))
    }

    /// Upload, start and wait: the steps after the job is registered.
    async fn transfer(
        &self,
        ingest: &IngestResponse,
        encoding: Encoding,
    ) -> Result<(CsvSummary, wire::JobStatus), TransferError> {
        let job_id = &ingest.job_id;
        self.stage.job_registered(job_id);
        tracing::info!(table = %self.table, job_id, "veracity job registered");
        (self.progress)(VeracityEvent::JobRegistered {
            job_id: job_id.clone(),
        });
        let summary = FileUpload {
            client: &self.client,
            table: &self.table,
            file_name: &self.settings.file_name,
            appends_in_flight: self.settings.appends_in_flight,
            starts_at_flush: self.settings.start_automatically,
            stage: &self.stage,
            progress: &self.progress,
        }
        .run(ingest, encoding)
        .await?;
        if !self.settings.start_automatically {
            // A stop signalled by now wins: the start is not requested.
            tokio::task::yield_now().await;
            self.stage.start_requested();
            if let Err(e) = self.client.start_job(job_id).await {
                if !e.outcome_unknown() {
                    return Err(self.service("start job")(e));
                }
                self.settle_lost_start(job_id, e).await?;
            }
            tracing::info!(table = %self.table, job_id, "veracity job started");
            (self.progress)(VeracityEvent::JobStarted {
                job_id: job_id.clone(),
            });
        }
        let status = self
            .client
            .wait_for_job_with(job_id, &self.settings.wait, |status| {
                (self.progress)(VeracityEvent::JobPolled {
                    job_id: job_id.clone(),
                    status: status.status.clone(),
                });
            })
            .await
            .map_err(self.service("job"))?;
        Ok((summary, status))
    }

    /// Run `work` until it ends or the stop signal completes, and make the push's outcome
    /// of it (see [failures and stops](VeracityPush#failures-and-stops)).
    async fn run_until_stopped(
        &self,
        work: impl std::future::Future<Output = Result<VeracityPushReport, TransferError>>,
    ) -> Result<VeracityPushReport, TransferError> {
        let stop = self
            .stop
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let outcome = until_stopped(work, stop).await;
        let report = self.stage.conclude(&self.table, outcome)?;
        tracing::info!(
            table = %self.table,
            job_id = %report.job_id,
            dataset_id = %report.dataset_id,
            rows = report.rows,
            bytes = report.bytes,
            "veracity push completed"
        );
        (self.progress)(VeracityEvent::Completed {
            job_id: report.job_id.clone(),
            dataset_id: report.dataset_id.clone(),
        });
        Ok(report)
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
    async fn run(self) -> Result<VeracityPushReport, TransferError> {
        self.run_until_stopped(self.create_dataset()).await
    }

    async fn create_dataset(&self) -> Result<VeracityPushReport, TransferError> {
        let started = Instant::now();
        let (encoding, columns) = self.open().await?;
        let (schema_id, schema_version_id) = match self.dataset.schema_version_id.clone() {
            Some(id) => (None, id),
            None => {
                let (schema, version) = self.add_schema(&columns).await?;
                (Some(schema), version)
            }
        };
        let ingest = self.register(&schema_version_id).await?;
        let (summary, status) = self.transfer(&ingest, encoding).await?;
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
        self.stage.schema_created(&schema.id);
        let version = schema
            .current_version()
            .ok_or_else(|| TransferError::Config(format!("schema {} has no version", schema.id)))?;
        (self.progress)(VeracityEvent::SchemaCreated {
            schema_id: schema.id.clone(),
            schema_version_id: version.id.clone(),
        });
        Ok((schema.id.clone(), version.id.clone()))
    }
}

impl VeracityPush<ExistingVeracityDataset> {
    async fn run(self) -> Result<VeracityPushReport, TransferError> {
        self.run_until_stopped(self.update_dataset()).await
    }

    async fn update_dataset(&self) -> Result<VeracityPushReport, TransferError> {
        let started = Instant::now();
        let operation = self.dataset.operation;
        if operation == Operation::Create {
            return Err(TransferError::Config(
                "Create makes a new dataset: use VeracityPush::create".into(),
            ));
        }
        let (encoding, columns) = self.open().await?;
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
        let (summary, status) = self.transfer(&ingest, encoding).await?;
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
