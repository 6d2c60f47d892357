//! Push tables into a dataset: the [`Push`] builder, its two workflows and its reports.

mod cleanup;
mod drift;
mod multi;
mod options;
mod pipeline;
mod plan;
mod plan_summary;
pub(crate) mod progress;
mod report;
mod single;
mod target;

use std::future::IntoFuture;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use futures::future::BoxFuture;
use futures::{FutureExt, Stream, StreamExt};
use pushdata_core::wire::{Orientation, UpdatePolicy};
use pushdata_core::{Client, Folder, PublishWait};
use tokio::sync::mpsc;

pub(crate) use drift::differences_text;
pub use drift::{Difference, DifferenceKind};
pub use options::DEFAULT_SESSION_KEEPALIVE;
pub use plan::{PlannedDataset, PushPlan, TablePlan};
pub use plan_summary::{PlanSummary, TablePlanSummary};
pub use progress::ProgressEvent;
pub(crate) use progress::ProgressSink;
pub use report::{PushReport, TableReport};

use self::cleanup::{DropGuard, Tracker};
use self::options::Settings;
use crate::error::{Error, Result};
use crate::model::{Model, ModelOptions, TableSchema, infer_model};
use crate::source::{BatchItem, BatchIter, InputSource, Source, TableReader};

/// Which API workflow a push uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Workflow {
    /// Model, upload session, chunks, publish (any size, several tables).
    #[default]
    MultiRequest,
    /// One request with all data (one small table).
    SingleRequest,
}

/// The dataset of a push that creates it: see [`Push::create`].
#[derive(Debug, Clone)]
pub struct NewDataset {
    name: String,
    folder: Folder,
    description: Option<String>,
    if_exists: IfExists,
}

/// What a push that creates a dataset does when the folder already holds a dataset of that
/// name (names compared ignoring case): see [`Push::with_if_exists`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IfExists {
    /// Fail with [`Error::DatasetExists`], naming the dataset and its id; nothing is
    /// written (the default; mstrio-py refuses too).
    #[default]
    Fail,
    /// Push into that dataset with the push's update policies, as
    /// [`Push::into_dataset`] does (its definition is checked first), so that its id, and
    /// what is built on it, stay. Several datasets of the name fail with
    /// [`Error::DatasetNameAmbiguous`].
    Update,
}

/// The dataset of a push into a dataset that exists: see [`Push::into_dataset`].
#[derive(Debug, Clone)]
pub struct ExistingDataset {
    id: String,
    table_id: Option<String>,
}

/// One table of a push: its name and where its batches come from.
#[derive(Debug)]
struct TableInput {
    name: String,
    source: Source,
}

/// A push of one or more tables into a dataset: a new one ([`Push::create`]) or an
/// existing one ([`Push::into_dataset`]). Add tables and settings with the `with_*`
/// methods, then `.await` it (or call [`execute`](Push::execute)).
///
/// ```no_run
/// # async fn demo(client: pushdata_core::Client) -> pushdata_arrow::Result<()> {
/// use pushdata_arrow::Push;
/// let report = Push::create(client, "sales")
///     .with_parquet_table("sales", "data/sales.parquet")
///     .with_chunk_bytes(50 << 20)
///     .await?;
/// println!("{} chunks into dataset {}", report.chunks, report.dataset_id);
/// # Ok(()) }
/// ```
///
/// A table id to update belongs to an existing dataset only; a new dataset has none:
///
/// ```compile_fail
/// # fn demo(client: pushdata_core::Client) {
/// let push = pushdata_arrow::Push::create(client, "sales").with_table_id("T1");
/// # }
/// ```
///
/// # Checks before anything is written
///
/// After the tables' sources are opened and the model is inferred (all local), and before
/// anything is written:
///
/// - a new dataset ([`Push::create`]) is looked up by name in its folder
///   ([`with_folder`](Push::with_folder), default My Reports) with the folder listing
///   mstrio-py uses for the same check; if one exists, [`IfExists`] says whether to fail
///   (default) or to push into it;
/// - the definition of an existing dataset (given, or found by name) is read
///   (`GET /api/datasets/{id}?fields=tables&fields=columns`) and compared with the tables:
///   a table or column the dataset lacks, a column of the dataset a table lacks, or a
///   changed type fails with [`Error::DefinitionDrift`] listing every difference. Column
///   order, the case of names, lossless type widenings (INTEGER into BIGINTEGER, ...) and
///   all-null columns are tolerated: see [`DifferenceKind::is_tolerated`].
///
/// [`plan`](Push::plan) makes these checks, reads and encodes every table, and returns
/// what the push would do without writing anything (a dry run).
///
/// # Workflows
///
/// **Multi-request** (default, [`Workflow::MultiRequest`]): create the model
/// (`POST /api/datasets/models`, new dataset only), open one upload session for all tables
/// (per-table update policy, orientation and column headers), stream every table's chunks
/// (the bounded pipeline below), publish, and wait for the publish status. A chunk that fails
/// after the client's retries, or a value that cannot be encoded, cancels the upload session
/// (`DELETE`) and returns an error naming the table, chunk index and rows: nothing is
/// published.
///
/// # Failures, stops and drops
///
/// Every error of a push means nothing was published, except
/// [`Error::PublishOutcomeUnknown`]: the publish was requested and then the wait for its
/// status failed (timeout, a failed poll, a status the client does not know) or the push was
/// stopped; the data may be published. A lost answer to the publish request or to a status
/// poll is settled first by asking the server the publish status: the push succeeds when
/// the server says it published, the publish is sent again when the server says it never
/// started, and the outcome is unknown only when the server cannot say. Either way the push cleans up after itself, best
/// effort (a failure to clean up is logged, not returned):
///
/// - the open upload session is cancelled (`DELETE .../uploadSessions/{id}`);
/// - a dataset the push created ([`Push::create`]) is deleted
///   (`DELETE /api/objects/{id}?type=3`) when nothing was published, so a failed push does
///   not leave an empty dataset behind; it is kept when the outcome is unknown. A dataset
///   given to [`Push::into_dataset`] is never deleted.
///
/// [`with_stop_signal`](Push::with_stop_signal) stops a push cleanly (the CLI's Ctrl-C):
/// it cleans up as above and returns [`Error::Interrupted`] (nothing published) or
/// [`Error::PublishOutcomeUnknown`]. A push whose future is dropped before it finishes does
/// the same cleanup in a task spawned on the current Tokio runtime (it may not run if the
/// runtime shuts down at once).
///
/// **Single-request** ([`Workflow::SingleRequest`], for small one-table data): the whole
/// table is encoded (ROW orientation) into one body and sent with `POST /api/datasets`
/// (new dataset) or `PATCH /api/datasets/{id}/tables/{table}` with the update policy
/// (existing dataset, see [`with_table_id`](Push::with_table_id)).
///
/// # Memory bound
///
/// This is the one statement of how much memory a push takes; everything else links here.
///
/// Tables are read and encoded on one blocking thread (rayon inside); chunks pass through a
/// channel of capacity 1 to the uploader. The encoded chunk data in memory never exceeds a
/// byte budget, [`with_max_buffered_bytes`](Push::with_max_buffered_bytes), by default
/// `chunk_bytes × 3 / 2`: one chunk uploads while half of the next is encoded ahead (the
/// encoder is several times faster than an upload, so it finishes that chunk while the
/// server still works on the first; measured on `benches/bulk_load.rs`, SF 1 pushes took
/// about 5% longer than with two whole chunks, for about 50 MB less client memory).
///
/// What the budget counts is the capacity of the buffers the base64 pieces of chunks are
/// written into: those of the chunk being built, of the chunk waiting in the channel, of the
/// chunks being uploaded, and those given back and kept for reuse. The encoder takes a
/// slice's buffer from the budget before encoding it and never writes past it; it waits
/// while the budget is full, and when everything in the budget is the chunk being built it
/// sends that chunk (smaller than the target) instead of waiting. A chunk's buffers come
/// back when its upload ends, whether it succeeded or failed. `concurrency` limits the PUTs
/// in flight within the budget (with the default budget, at most one full chunk and half of
/// the next exist). A budget smaller than `chunk_bytes` makes chunks of about the budget. A
/// single row larger than the budget still goes through, alone (it is then the only encoded
/// data in memory).
///
/// Outside the budget: the decoded batches of the Parquet row groups being read (a few
/// batches and the pages being decoded per decoder thread: one, or up to
/// `read_parallelism` while the push waits for decoded batches) or the batches an iterator or
/// stream yields at once, the batches queued for one group of slices, a JSON scratch of
/// about 48 KB per encoding thread and the HTTP client's buffers. Peak memory is therefore
/// about the budget plus those, independent of the input size. The single-request workflow
/// holds the whole table.
#[must_use = "a push does nothing until it is awaited"]
pub struct Push<D> {
    client: Client,
    dataset: D,
    tables: Vec<TableInput>,
    settings: Settings,
    progress: ProgressSink,
    stop: Option<BoxFuture<'static, ()>>,
}

impl<D: std::fmt::Debug> std::fmt::Debug for Push<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Push")
            .field("dataset", &self.dataset)
            .field(
                "tables",
                &self.tables.iter().map(|t| &t.name).collect::<Vec<_>>(),
            )
            .field("settings", &self.settings)
            .field("stop_signal", &self.stop.is_some())
            .finish_non_exhaustive()
    }
}

impl Push<NewDataset> {
    /// A push through `client` (logged in, project selected) that creates dataset `name`
    /// (in My Reports, unless [`with_folder`](Push::with_folder) says otherwise).
    pub fn create(client: Client, name: impl Into<String>) -> Self {
        let dataset = NewDataset {
            name: name.into(),
            folder: Folder::MyReports,
            description: None,
            if_exists: IfExists::default(),
        };
        Push::with_dataset(client, dataset)
    }

    /// Create the dataset in folder `folder_id` (default: the user's My Reports; a blank id
    /// is My Reports). The same-name check looks in that folder.
    pub fn with_folder(mut self, folder_id: impl Into<String>) -> Self {
        self.dataset.folder = Folder::from_id(Some(folder_id.into()));
        self
    }

    /// The dataset's description (multi-request workflow: the single-request body has no
    /// description, and such a push fails with [`Error::Config`]). Replaces the one of
    /// [`ModelOptions::with_description`].
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.dataset.description = Some(description.into());
        self
    }

    /// What to do when the folder already holds a dataset of this name (default
    /// [`IfExists::Fail`]).
    pub fn with_if_exists(mut self, if_exists: IfExists) -> Self {
        self.dataset.if_exists = if_exists;
        self
    }

    /// Run the push (the same future as `.await` on the builder).
    pub fn execute(self) -> BoxFuture<'static, Result<PushReport>> {
        self.into_future()
    }

    /// A dry run: every check of the push, local and on the server, every table read and
    /// encoded, and what the push would do (see [`PushPlan`]); nothing is written on the
    /// server (no dataset, no upload session).
    ///
    /// ```no_run
    /// # async fn demo(client: pushdata_core::Client) -> pushdata_arrow::Result<()> {
    /// use pushdata_arrow::{IfExists, PlannedDataset, Push};
    /// let plan = Push::create(client, "sales")
    ///     .with_parquet_table("sales", "data/sales.parquet")
    ///     .with_if_exists(IfExists::Update)
    ///     .plan()
    ///     .await?;
    /// match &plan.dataset {
    ///     PlannedDataset::Create { folder, .. } => println!("would create it in {folder}"),
    ///     PlannedDataset::Update { dataset_id, tolerated, .. } => {
    ///         println!("would push into {dataset_id}");
    ///         for difference in tolerated {
    ///             println!("  tolerated: {difference}");
    ///         }
    ///     }
    /// }
    /// println!("{} rows in {} chunks, {} bytes", plan.rows(), plan.chunks, plan.bytes);
    /// # Ok(()) }
    /// ```
    pub fn plan(self) -> BoxFuture<'static, Result<PushPlan>> {
        let (run, tables, stop) = self.into_run(Target::New);
        Box::pin(run.plan(tables, stop))
    }
}

impl Push<ExistingDataset> {
    /// A push through `client` (logged in, project selected) into the existing dataset
    /// `dataset_id` (no model is created; the tables must be in it).
    pub fn into_dataset(client: Client, dataset_id: impl Into<String>) -> Self {
        let dataset = ExistingDataset {
            id: dataset_id.into(),
            table_id: None,
        };
        Push::with_dataset(client, dataset)
    }

    /// Single-request workflow: the table id to `PATCH` (default: the table name, which
    /// servers that accept names resolve).
    pub fn with_table_id(mut self, id: impl Into<String>) -> Self {
        self.dataset.table_id = Some(id.into());
        self
    }

    /// Run the push (the same future as `.await` on the builder).
    pub fn execute(self) -> BoxFuture<'static, Result<PushReport>> {
        self.into_future()
    }

    /// A dry run: every check of the push, local and on the server (the dataset's
    /// definition against the tables), every table read and encoded, and what the push
    /// would do (see [`PushPlan`]); nothing is written on the server.
    pub fn plan(self) -> BoxFuture<'static, Result<PushPlan>> {
        let (run, tables, stop) = self.into_run(Target::Existing);
        Box::pin(run.plan(tables, stop))
    }
}

impl IntoFuture for Push<NewDataset> {
    type Output = Result<PushReport>;
    type IntoFuture = BoxFuture<'static, Result<PushReport>>;

    fn into_future(self) -> Self::IntoFuture {
        let (run, tables, stop) = self.into_run(Target::New);
        Box::pin(run.execute(tables, stop))
    }
}

impl IntoFuture for Push<ExistingDataset> {
    type Output = Result<PushReport>;
    type IntoFuture = BoxFuture<'static, Result<PushReport>>;

    fn into_future(self) -> Self::IntoFuture {
        let (run, tables, stop) = self.into_run(Target::Existing);
        Box::pin(run.execute(tables, stop))
    }
}

impl<D> Push<D> {
    fn with_dataset(client: Client, dataset: D) -> Self {
        Push {
            client,
            dataset,
            tables: Vec::new(),
            settings: Settings::default(),
            progress: progress::noop(),
            stop: None,
        }
    }

    fn into_run(
        self,
        target: impl FnOnce(D) -> Target,
    ) -> (Run, Vec<TableInput>, Option<BoxFuture<'static, ()>>) {
        let run = Run {
            client: self.client,
            target: target(self.dataset),
            settings: self.settings,
            progress: self.progress,
            started: Instant::now(),
            tracker: Tracker::default(),
        };
        (run, self.tables, self.stop)
    }

    /// Stop the push when `signal` completes (e.g. on Ctrl-C): the push cancels its upload
    /// session, deletes a dataset it created if nothing was published, and returns
    /// [`Error::Interrupted`] (stopped before the publish was requested: nothing was
    /// published) or [`Error::PublishOutcomeUnknown`] (stopped after it). See
    /// [failures, stops and drops](Push#failures-stops-and-drops).
    pub fn with_stop_signal<F>(mut self, signal: F) -> Self
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        self.stop = Some(signal.boxed());
        self
    }

    fn with_source(mut self, name: impl Into<String>, source: Source) -> Self {
        self.tables.push(TableInput {
            name: name.into(),
            source,
        });
        self
    }

    /// A table read from one Parquet file.
    pub fn with_parquet_table(self, name: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        self.with_source(name, Source::Parquet(path.into()))
    }

    /// A table read from an opened [`InputSource`]: a file in any supported format, a
    /// directory of part files, or a glob, read as one table.
    pub fn with_input_table(self, name: impl Into<String>, input: InputSource) -> Self {
        self.with_source(name, Source::Input(input))
    }

    /// One table per Parquet file, named after the file stem (`data/sales.parquet` -> `sales`).
    pub fn with_parquet_files<P: Into<PathBuf>>(
        mut self,
        paths: impl IntoIterator<Item = P>,
    ) -> Self {
        for p in paths {
            let path: PathBuf = p.into();
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            self = self.with_parquet_table(name, path);
        }
        self
    }

    /// A table from an iterator of batches of `schema`: `RecordBatch`es, or `Result`s of
    /// them (any `RecordBatchReader`).
    pub fn with_batches_table<I, B>(
        self,
        name: impl Into<String>,
        schema: SchemaRef,
        batches: I,
    ) -> Self
    where
        I: IntoIterator<Item = B>,
        I::IntoIter: Send + 'static,
        B: BatchItem,
    {
        let it: BatchIter = Box::new(batches.into_iter().map(BatchItem::into_batch));
        self.with_source(name, Source::Iter(schema, it))
    }

    /// A table from an async stream of batches of `schema` (`RecordBatch`es or `Result`s
    /// of them).
    pub fn with_stream_table<S>(self, name: impl Into<String>, schema: SchemaRef, stream: S) -> Self
    where
        S: Stream + Send + 'static,
        S::Item: BatchItem,
    {
        let stream = stream.map(BatchItem::into_batch).boxed();
        self.with_source(name, Source::Stream(schema, stream))
    }

    /// A whole table already in memory.
    pub fn with_memory_table(
        self,
        name: impl Into<String>,
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    ) -> Self {
        self.with_source(name, Source::Memory(schema, batches))
    }

    /// Update policy of every table without its own (default `replace`).
    pub fn with_policy(mut self, policy: UpdatePolicy) -> Self {
        self.settings.policy = policy;
        self
    }

    /// Update policy of one table (it must be one of the tables pushed).
    pub fn with_table_policy(mut self, table: impl Into<String>, policy: UpdatePolicy) -> Self {
        self.settings.table_policies.insert(table.into(), policy);
        self
    }

    /// Chunk orientation (default ROW). The single-request workflow always sends rows.
    pub fn with_orientation(mut self, orientation: Orientation) -> Self {
        self.settings.orientation = orientation;
        self
    }

    /// Target size of a chunk's base64 data (default
    /// [`DEFAULT_CHUNK_BYTES`](crate::encoding::DEFAULT_CHUNK_BYTES), 20 MiB; at least 1 KiB).
    /// From 8 MiB on, a table's first chunk is cut at a quarter of it, so the server
    /// starts on the data sooner.
    pub fn with_chunk_bytes(mut self, bytes: usize) -> Self {
        self.settings.chunk_bytes = bytes.max(1024);
        self
    }

    /// Chunks uploaded at once (default 3; at least 1).
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.settings.concurrency = n.max(1);
        self
    }

    /// The most bytes of encoded chunk data in memory at once, multi-request workflow
    /// (default `chunk_bytes × 3 / 2`; at least 1 KiB): see the
    /// [memory bound](Push#memory-bound).
    pub fn with_max_buffered_bytes(mut self, bytes: usize) -> Self {
        self.settings.max_buffered_bytes = Some(bytes.max(1024));
        self
    }

    /// Rows per batch read from Parquet (default 8192; at least 1).
    pub fn with_batch_rows(mut self, rows: usize) -> Self {
        self.settings.batch_rows = rows.max(1);
        self
    }

    /// The most Parquet row groups decoded at once (default 2; at least 1). One decoder
    /// thread reads the row groups in file order; another starts (up to this many) only when
    /// the push spends more than a tenth of its time waiting for decoded batches, as when
    /// an object store's ranged reads are slow, so a push that encoding or uploading
    /// limits holds one decoder's memory.
    pub fn with_read_parallelism(mut self, n: usize) -> Self {
        self.settings.read_parallelism = n.max(1);
        self
    }

    /// How the model is inferred (roles, forms, time zones, text fallback).
    pub fn with_model_options(mut self, options: ModelOptions) -> Self {
        self.settings.model_options = options;
        self
    }

    /// Multi-request (default) or single-request workflow.
    pub fn with_workflow(mut self, workflow: Workflow) -> Self {
        self.settings.workflow = workflow;
        self
    }

    /// How long and how often to poll the publish status.
    pub fn with_publish_wait(mut self, wait: PublishWait) -> Self {
        self.settings.publish_wait = wait;
        self
    }

    /// While no chunk is ready for this long (a slow source), ask the upload session's
    /// publish status, so that the server's idle timeouts do not expire the login or the
    /// upload session in the middle of the push (multi-request workflow; default
    /// [`DEFAULT_SESSION_KEEPALIVE`], one minute).
    ///
    /// ```
    /// use std::time::Duration;
    /// # fn f(client: pushdata_core::Client) {
    /// let push = pushdata_arrow::Push::into_dataset(client, "A1B2C3D4E5F60718293A4B5C6D7E8F90")
    ///     .with_session_keepalive(Duration::from_secs(20));
    /// # }
    /// ```
    pub fn with_session_keepalive(mut self, every: std::time::Duration) -> Self {
        self.settings.session_keepalive = every.max(std::time::Duration::from_millis(10));
        self
    }

    /// Call `f` with every progress event (from the pipeline's threads; keep it quick).
    pub fn with_progress<F>(mut self, f: F) -> Self
    where
        F: Fn(ProgressEvent) + Send + Sync + 'static,
    {
        self.progress = Arc::new(f);
        self
    }

    /// Send every progress event to `tx` (events are dropped once the receiver is gone).
    pub fn with_progress_channel(mut self, tx: mpsc::UnboundedSender<ProgressEvent>) -> Self {
        self.progress = progress::channel(tx);
        self
    }
}

/// The dataset a running push writes to, as it was given.
#[derive(Debug)]
enum Target {
    /// To be created (unless one of its name exists: see [`IfExists`]).
    New(NewDataset),
    /// Given by id; its `table_id` is what a single-request update `PATCH`es.
    Existing(ExistingDataset),
}

/// A push being run: everything but the tables' sources (which move to the reading
/// thread), so that the run can be shared across `await`s.
struct Run {
    client: Client,
    target: Target,
    settings: Settings,
    progress: ProgressSink,
    started: Instant,
    /// How far the push got on the server (for the cleanup).
    tracker: Tracker,
}

/// The tables of a push, opened: the model and one reader per table, in model order.
struct Opened {
    model: Arc<Model>,
    readers: Vec<TableReader>,
}

impl Run {
    /// Check the tables, open their sources, infer the model, run the workflow (until
    /// `stop` completes, if given); clean up after a failure, a stop or a drop.
    async fn execute(
        self,
        tables: Vec<TableInput>,
        stop: Option<BoxFuture<'static, ()>>,
    ) -> Result<PushReport> {
        self.check(&tables)?;
        let mut guard = DropGuard::new(
            self.client.clone(),
            self.tracker.clone(),
            self.progress.clone(),
        );
        if let Target::Existing(d) = &self.target {
            self.tracker.dataset(&d.id, false);
        }
        let work = async {
            let files = table_files(&tables);
            let opened = self.open(tables).await?;
            let destination = self.resolve(&opened.model, &files).await?;
            match self.settings.workflow {
                Workflow::MultiRequest => self.multi_request(opened, &destination).await,
                Workflow::SingleRequest => self.single_request(opened, &destination).await,
            }
        };
        let result = match stop {
            Some(stop) => tokio::select! {
                result = work => result,
                () = stop => Err(Error::Interrupted),
            },
            None => work.await,
        };
        let result = match result {
            Ok(report) => {
                if let Some(session_id) = &report.session_id {
                    self.close_published_session(&report.dataset_id, session_id)
                        .await;
                }
                Ok(report)
            }
            Err(e) => {
                let stage = self.tracker.stage();
                let e = match e {
                    Error::Interrupted if stage.publish_requested => Error::PublishOutcomeUnknown {
                        dataset_id: stage.dataset_id,
                        session_id: stage.session_id,
                        source: None,
                    },
                    e => e,
                };
                let keep_dataset = e.is_publish_outcome_unknown();
                cleanup::undo(&self.client, &self.tracker, &self.progress, keep_dataset).await;
                Err(e)
            }
        };
        guard.disarm();
        result
    }

    /// The docs end the workflow by deleting the session once it is published. The data
    /// is already published, so a failure here is logged, not returned.
    async fn close_published_session(&self, dataset_id: &str, session_id: &str) {
        if let Err(e) = self
            .client
            .cancel_upload_session(dataset_id, session_id)
            .await
        {
            tracing::warn!(dataset_id, session_id, error = %e, "deleting the published upload session failed");
        }
    }

    /// What can be checked before anything is read.
    fn check(&self, tables: &[TableInput]) -> Result<()> {
        if tables.is_empty() {
            return Err(Error::Config("no tables to push".into()));
        }
        if self.settings.workflow == Workflow::SingleRequest && tables.len() != 1 {
            return Err(Error::Config(format!(
                "the single-request workflow pushes one table; {} were given",
                tables.len()
            )));
        }
        if let Target::New(d) = &self.target
            && d.description.is_some()
            && self.settings.workflow == Workflow::SingleRequest
        {
            return Err(Error::Config(
                "the single-request workflow (POST /api/datasets) cannot set a description; \
                 use the multi-request workflow"
                    .into(),
            ));
        }
        for name in self.settings.table_policies.keys() {
            if !tables.iter().any(|t| &t.name == name) {
                return Err(Error::Config(format!(
                    "a policy is given for table {name:?}, which is not pushed"
                )));
            }
        }
        Ok(())
    }

    /// Open every table's source (schemas) and infer the model.
    async fn open(&self, tables: Vec<TableInput>) -> Result<Opened> {
        let mut schemas = Vec::with_capacity(tables.len());
        let mut readers = Vec::with_capacity(tables.len());
        for t in tables {
            let (schema, reader) = t.source.open(&t.name, self.settings.read_options()).await?;
            schemas.push(TableSchema::new(t.name, schema));
            readers.push(reader);
        }
        let (model_name, dataset_id) = match &self.target {
            Target::New(d) => (d.name.as_str(), ""),
            // The model of an existing dataset is only used to encode: named after its
            // first table.
            Target::Existing(d) => (schemas[0].name.as_str(), d.id.as_str()),
        };
        let model = infer_model(model_name, &schemas, &self.settings.model_options)?;
        tracing::info!(
            dataset = %model_name,
            dataset_id,
            tables = ?schemas.iter().map(|s| &s.name).collect::<Vec<_>>(),
            workflow = ?self.settings.workflow,
            orientation = %self.settings.orientation,
            chunk_bytes = self.settings.chunk_bytes,
            concurrency = self.settings.concurrency,
            max_buffered_bytes = self.settings.buffered_bytes_limit(),
            "push started"
        );
        Ok(Opened {
            model: Arc::new(model),
            readers,
        })
    }

    /// A failed call that may have been carried out (the publish, or a single request):
    /// its outcome is unknown; any other failure is a failed API call naming the step.
    fn maybe_published(
        &self,
        step: String,
        dataset_id: Option<String>,
        session_id: Option<String>,
    ) -> impl FnOnce(pushdata_core::Error) -> Error {
        move |source| {
            if source.outcome_unknown() {
                Error::PublishOutcomeUnknown {
                    dataset_id,
                    session_id,
                    source: Some(Box::new(source)),
                }
            } else {
                Run::api(step)(source)
            }
        }
    }

    /// A failed API call, naming the step.
    fn api(step: String) -> impl FnOnce(pushdata_core::Error) -> Error {
        move |source| Error::Api {
            step,
            source: Box::new(source),
        }
    }
}

/// The file each table is read from, when it is one (for messages naming it).
fn table_files(tables: &[TableInput]) -> Vec<Option<PathBuf>> {
    tables
        .iter()
        .map(|t| t.source.path().map(Path::to_path_buf))
        .collect()
}
