//! Push tables into a dataset: [`Push::new`]`(client).with_*(..).execute().await`.
//!
//! **Multi-request workflow** (default, [`Workflow::MultiRequest`]): create the model
//! (`POST /api/datasets/models`) or use the dataset id given, open one upload session for all
//! tables (per-table update policy, orientation and column headers), stream every table's
//! chunks (bounded pipeline, see below), publish, and wait for the publish status. A chunk
//! that fails after the client's retries, or a value that cannot be encoded, cancels the
//! upload session (`DELETE`) and returns an error naming the table, chunk index and rows:
//! nothing is published.
//!
//! **Single-request workflow** ([`Workflow::SingleRequest`], for small one-table data):
//! the whole table is encoded (ROW orientation) into one body and sent with
//! `POST /api/datasets` (new dataset) or `PATCH /api/datasets/{id}/tables/{table}` with the
//! update policy (existing dataset).
//!
//! # Memory bound
//!
//! Tables are read and encoded on one blocking thread (rayon inside), chunks pass through a
//! channel of capacity 1 to the uploader, and the encoded chunk data in memory — the pieces
//! of the chunk being built, the chunk queued and the chunks being uploaded — never exceeds
//! [`PushOptions::with_max_buffered_bytes`] (default `chunk_bytes × 3 / 2`: one chunk uploads
//! while half of the next is encoded ahead). The encoder takes the buffer of a slice's base64 from the
//! budget before it encodes it and waits while the budget is full; a chunk's buffers come
//! back (and are reused) when its upload ends. Peak
//! memory is therefore about that budget, plus a few decoded batches per Parquet row group
//! being read (`read_parallelism`, default 2) and a small scratch per encoding thread —
//! independent of the input size. A single row larger than the budget still goes through
//! (alone). The single-request workflow holds the whole table.

mod options;
mod pipeline;
mod progress;
mod report;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use futures::{Stream, StreamExt};
use pushdata_core::wire::{Orientation, UpdatePolicy, UploadSessionRequest, UploadSessionTable};
use pushdata_core::{Client, PublishWait};
use tokio::sync::mpsc;

pub use options::PushOptions;
pub use progress::{ProgressEvent, ProgressSink};
pub use report::{PushReport, TableReport};

use self::pipeline::{Feed, ProduceConfig, UPLOAD_STOPPED, forward_stream, produce, upload};
use crate::encode::{MemoryBudget, ZoneMode, encode_base64};
use crate::error::{Error, Result};
use crate::model::{Model, ModelOptions, TableSchema, infer_model};
use crate::source::{BatchItem, BatchIter, ParquetSource, Source};

/// Which API workflow a push uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Workflow {
    /// Model, upload session, chunks, publish (any size, several tables).
    #[default]
    MultiRequest,
    /// One request with all data (one small table).
    SingleRequest,
}

struct TableInput {
    name: String,
    source: Source,
}

/// A push of one or more tables into a dataset. Plain builder; see the module docs.
pub struct Push {
    client: Client,
    dataset_name: Option<String>,
    dataset_id: Option<String>,
    table_id: Option<String>,
    tables: Vec<TableInput>,
    options: PushOptions,
    progress: ProgressSink,
}

impl std::fmt::Debug for Push {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Push")
            .field("dataset_name", &self.dataset_name)
            .field("dataset_id", &self.dataset_id)
            .field(
                "tables",
                &self.tables.iter().map(|t| &t.name).collect::<Vec<_>>(),
            )
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Push {
    /// A push through `client` (logged in, project selected).
    pub fn new(client: Client) -> Self {
        Push {
            client,
            dataset_name: None,
            dataset_id: None,
            table_id: None,
            tables: Vec::new(),
            options: PushOptions::default(),
            progress: progress::noop(),
        }
    }

    /// Create a new dataset with this name.
    pub fn with_dataset_name(mut self, name: impl Into<String>) -> Self {
        self.dataset_name = Some(name.into());
        self
    }

    /// Push into the existing dataset with this id (no model is created).
    pub fn with_dataset_id(mut self, id: impl Into<String>) -> Self {
        self.dataset_id = Some(id.into());
        self
    }

    /// Single-request update of an existing dataset: the table id to `PATCH` (default: the
    /// table name, which servers that accept names resolve).
    pub fn with_table_id(mut self, id: impl Into<String>) -> Self {
        self.table_id = Some(id.into());
        self
    }

    /// A table read from one Parquet file.
    pub fn with_parquet_table(mut self, name: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        self.tables.push(TableInput {
            name: name.into(),
            source: Source::Parquet(path.into()),
        });
        self
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
        mut self,
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
        self.tables.push(TableInput {
            name: name.into(),
            source: Source::Iter(schema, it),
        });
        self
    }

    /// A table from an async stream of batches of `schema` (`RecordBatch`es or `Result`s
    /// of them).
    pub fn with_stream_table<S>(
        mut self,
        name: impl Into<String>,
        schema: SchemaRef,
        stream: S,
    ) -> Self
    where
        S: Stream + Send + 'static,
        S::Item: BatchItem,
    {
        self.tables.push(TableInput {
            name: name.into(),
            source: Source::Stream(schema, stream.map(BatchItem::into_batch).boxed()),
        });
        self
    }

    /// A whole table already in memory.
    pub fn with_memory_table(
        mut self,
        name: impl Into<String>,
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    ) -> Self {
        self.tables.push(TableInput {
            name: name.into(),
            source: Source::Memory(schema, batches),
        });
        self
    }

    /// Update policy of every table (default `replace`).
    pub fn with_policy(mut self, policy: UpdatePolicy) -> Self {
        self.options = self.options.with_policy(policy);
        self
    }

    /// Update policy of one table.
    pub fn with_table_policy(mut self, table: impl Into<String>, policy: UpdatePolicy) -> Self {
        self.options = self.options.with_table_policy(table, policy);
        self
    }

    /// Replace all settings at once.
    pub fn with_options(mut self, options: PushOptions) -> Self {
        self.options = options;
        self
    }

    /// Chunk orientation (default ROW). The single-request workflow always sends rows.
    pub fn with_orientation(mut self, orientation: Orientation) -> Self {
        self.options = self.options.with_orientation(orientation);
        self
    }

    /// Target size of a chunk's base64 data (default 100 MiB).
    pub fn with_chunk_bytes(mut self, bytes: usize) -> Self {
        self.options = self.options.with_chunk_bytes(bytes);
        self
    }

    /// Chunks uploaded at once (default 3).
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.options = self.options.with_concurrency(n);
        self
    }

    /// The most bytes of encoded chunk data in memory at once (default `chunk_bytes × 3 / 2`);
    /// see [`PushOptions::with_max_buffered_bytes`].
    pub fn with_max_buffered_bytes(mut self, bytes: usize) -> Self {
        self.options = self.options.with_max_buffered_bytes(bytes);
        self
    }

    /// Rows per batch read from Parquet (default 8192).
    pub fn with_batch_rows(mut self, rows: usize) -> Self {
        self.options = self.options.with_batch_rows(rows);
        self
    }

    /// Parquet row groups decoded at once (default 2).
    pub fn with_read_parallelism(mut self, n: usize) -> Self {
        self.options = self.options.with_read_parallelism(n);
        self
    }

    /// How the model is inferred (roles, forms, time zones, text fallback).
    pub fn with_model_options(mut self, opts: ModelOptions) -> Self {
        self.options = self.options.with_model_options(opts);
        self
    }

    /// Multi-request (default) or single-request workflow.
    pub fn with_workflow(mut self, workflow: Workflow) -> Self {
        self.options = self.options.with_workflow(workflow);
        self
    }

    /// How long and how often to poll the publish status.
    pub fn with_publish_wait(mut self, wait: PublishWait) -> Self {
        self.options = self.options.with_publish_wait(wait);
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
    pub fn with_progress_channel(self, tx: mpsc::UnboundedSender<ProgressEvent>) -> Self {
        self.with_progress(move |e| {
            let _ = tx.send(e);
        })
    }

    fn policy_of(&self, table: &str) -> UpdatePolicy {
        self.options.policy_of(table)
    }

    /// Run the push.
    pub async fn execute(self) -> Result<PushReport> {
        let started = Instant::now();
        if self.tables.is_empty() {
            return Err(Error::Config("no tables to push".into()));
        }
        if self.dataset_name.is_none() && self.dataset_id.is_none() {
            return Err(Error::Config(
                "give a dataset name (new dataset) or a dataset id (existing dataset)".into(),
            ));
        }
        for name in self.options.table_policies.keys() {
            if !self.tables.iter().any(|t| &t.name == name) {
                return Err(Error::Config(format!(
                    "a policy is given for table {name:?}, which is not pushed"
                )));
            }
        }
        // Resolve schemas (Parquet metadata is read off the async threads).
        let mut schemas = Vec::with_capacity(self.tables.len());
        let mut feeds = Vec::with_capacity(self.tables.len());
        let mut this = self;
        let tables = std::mem::take(&mut this.tables);
        let mut names = Vec::with_capacity(tables.len());
        for t in tables {
            names.push(t.name.clone());
            let (schema, feed) = match t.source {
                Source::Parquet(path) => {
                    let (name, batch_rows, par) = (
                        t.name.clone(),
                        this.options.batch_rows,
                        this.options.read_parallelism,
                    );
                    let ps = tokio::task::spawn_blocking(move || {
                        ParquetSource::open(&name, path)
                            .map(|p| p.with_batch_rows(batch_rows).with_read_parallelism(par))
                    })
                    .await
                    .map_err(|e| Error::Internal(format!("reading Parquet metadata: {e}")))??;
                    (ps.schema(), Feed::Parquet(ps))
                }
                Source::Iter(schema, it) => (schema, Feed::Iter(it)),
                Source::Stream(schema, stream) => (schema, Feed::Channel(forward_stream(stream))),
                Source::Memory(schema, batches) => (schema, Feed::Memory(batches)),
            };
            schemas.push(TableSchema::new(t.name, schema));
            feeds.push(feed);
        }
        let model_name = this
            .dataset_name
            .clone()
            .unwrap_or_else(|| names[0].clone());
        let model = Arc::new(infer_model(
            &model_name,
            &schemas,
            &this.options.model_options,
        )?);
        tracing::info!(
            dataset = %model_name,
            dataset_id = this.dataset_id.as_deref().unwrap_or(""),
            tables = ?names,
            workflow = ?this.options.workflow,
            orientation = %this.options.orientation,
            chunk_bytes = this.options.chunk_bytes,
            concurrency = this.options.concurrency,
            max_buffered_bytes = this.options.buffered_bytes_limit(),
            "push started"
        );
        match this.options.workflow {
            Workflow::MultiRequest => this.multi_request(model, feeds, started).await,
            Workflow::SingleRequest => this.single_request(model, feeds, started).await,
        }
    }

    fn zones(&self) -> ZoneMode {
        if self.options.model_options.utc() {
            ZoneMode::Utc
        } else {
            ZoneMode::Local
        }
    }

    async fn multi_request(
        self,
        model: Arc<Model>,
        feeds: Vec<Feed>,
        started: Instant,
    ) -> Result<PushReport> {
        let client = &self.client;
        let dataset_id = match &self.dataset_id {
            Some(id) => id.clone(),
            None => {
                let created = client
                    .create_model(&model.to_dataset_model())
                    .await
                    .map_err(|source| Error::Api {
                        step: format!("create model {:?}", model.name),
                        source: Box::new(source),
                    })?;
                (self.progress)(ProgressEvent::DatasetCreated {
                    dataset_id: created.id.clone(),
                });
                created.id
            }
        };
        let request = UploadSessionRequest {
            tables: model
                .tables
                .iter()
                .map(|t| UploadSessionTable {
                    name: t.name.clone(),
                    update_policy: self.policy_of(&t.name),
                    orientation: Some(self.options.orientation),
                    column_headers: Some(t.columns.iter().map(|c| c.name.clone()).collect()),
                })
                .collect(),
        };
        let session_id = client
            .create_upload_session(&dataset_id, &request)
            .await
            .map_err(|source| Error::Api {
                step: format!("open upload session on dataset {dataset_id}"),
                source: Box::new(source),
            })?;
        (self.progress)(ProgressEvent::SessionOpened {
            dataset_id: dataset_id.clone(),
            session_id: session_id.clone(),
        });

        let result = self
            .stream_and_publish(&model, feeds, &dataset_id, &session_id)
            .await;
        let (produced, uploaded) = match result {
            Ok(v) => v,
            Err(e) => {
                self.cancel(&dataset_id, &session_id).await;
                return Err(e);
            }
        };
        let tables: Vec<TableReport> = model
            .tables
            .iter()
            .enumerate()
            .map(|(i, t)| TableReport {
                name: t.name.clone(),
                rows: produced.get(i).map_or(0, |p| p.rows),
                chunks: uploaded.chunks.get(i).copied().unwrap_or(0),
                bytes: uploaded.bytes.get(i).copied().unwrap_or(0),
            })
            .collect();
        Ok(PushReport {
            dataset_id,
            session_id: Some(session_id),
            chunks: tables.iter().map(|t| t.chunks).sum(),
            bytes: tables.iter().map(|t| t.bytes).sum(),
            tables,
            elapsed: started.elapsed(),
        })
    }

    async fn stream_and_publish(
        &self,
        model: &Arc<Model>,
        feeds: Vec<Feed>,
        dataset_id: &str,
        session_id: &str,
    ) -> Result<(Vec<pipeline::Produced>, pipeline::Uploaded)> {
        let (tx, rx) = mpsc::channel(1);
        let cfg = ProduceConfig {
            orientation: self.options.orientation,
            zones: self.zones(),
            chunk_bytes: self.options.chunk_bytes,
        };
        let budget = MemoryBudget::new(self.options.buffered_bytes_limit());
        let producer = {
            let model = model.clone();
            let progress = self.progress.clone();
            let budget = budget.clone();
            tokio::task::spawn_blocking(move || produce(&model, feeds, cfg, budget, tx, &progress))
        };
        let uploaded = upload(
            &self.client,
            model,
            dataset_id,
            session_id,
            rx,
            self.options.concurrency,
            &self.progress,
        )
        .await;
        let produced = producer
            .await
            .map_err(|e| Error::Internal(format!("the encoder thread failed: {e}")))
            .and_then(|r| r);
        tracing::debug!(
            peak = budget.peak(),
            limit = budget.limit(),
            "most encoded chunk bytes in memory at once"
        );
        let (produced, uploaded) = match (produced, uploaded) {
            (_, Err(e)) => return Err(e),
            (Err(e), Ok(_)) => {
                if matches!(&e, Error::Internal(m) if m == UPLOAD_STOPPED) {
                    return Err(Error::Internal(
                        "the uploader stopped before all chunks were sent".into(),
                    ));
                }
                return Err(e);
            }
            (Ok(p), Ok(u)) => (p, u),
        };
        let encoded: u64 = produced.iter().map(|p| p.chunks).sum();
        let sent: u64 = uploaded.chunks.iter().sum();
        if encoded != sent {
            return Err(Error::Internal(format!(
                "{encoded} chunks were encoded but {sent} uploaded; not publishing"
            )));
        }
        self.client
            .publish(dataset_id, session_id)
            .await
            .map_err(|source| Error::Api {
                step: format!("publish upload session {session_id} of dataset {dataset_id}"),
                source: Box::new(source),
            })?;
        (self.progress)(ProgressEvent::Publishing {
            dataset_id: dataset_id.to_string(),
        });
        self.client
            .wait_for_publish(dataset_id, session_id, &self.options.publish_wait)
            .await
            .map_err(|source| Error::Api {
                step: format!("wait for publish of dataset {dataset_id}"),
                source: Box::new(source),
            })?;
        tracing::info!(dataset_id, session_id, "published");
        (self.progress)(ProgressEvent::Published {
            dataset_id: dataset_id.to_string(),
        });
        // The docs end the workflow by deleting the session once it is published. The data
        // is already published, so a failure here is logged, not returned.
        if let Err(e) = self
            .client
            .cancel_upload_session(dataset_id, session_id)
            .await
        {
            tracing::warn!(dataset_id, session_id, error = %e, "deleting the published upload session failed");
        }
        Ok((produced, uploaded))
    }

    async fn cancel(&self, dataset_id: &str, session_id: &str) {
        match self
            .client
            .cancel_upload_session(dataset_id, session_id)
            .await
        {
            Ok(()) => {
                tracing::info!(dataset_id, session_id, "upload session cancelled");
                (self.progress)(ProgressEvent::Cancelled {
                    dataset_id: dataset_id.to_string(),
                    session_id: session_id.to_string(),
                });
            }
            Err(e) => {
                tracing::warn!(dataset_id, session_id, error = %e, "cancelling the upload session failed");
            }
        }
    }

    async fn single_request(
        self,
        model: Arc<Model>,
        feeds: Vec<Feed>,
        started: Instant,
    ) -> Result<PushReport> {
        if model.tables.len() != 1 {
            return Err(Error::Config(format!(
                "the single-request workflow pushes one table; {} were given",
                model.tables.len()
            )));
        }
        let table = model.tables[0].name.clone();
        let zones = self.zones();
        let progress = self.progress.clone();
        let mut feeds = feeds;
        let feed = feeds
            .pop()
            .ok_or_else(|| Error::Config("no tables to push".into()))?;
        // Collect the table (stream batches are collected here, in async context).
        let feed = match feed {
            Feed::Channel(mut rx) => {
                let mut batches = Vec::new();
                while let Some(b) = rx.recv().await {
                    batches.push(b.map_err(|source| Error::Arrow {
                        table: table.clone(),
                        source,
                    })?);
                }
                Feed::Memory(batches)
            }
            other => other,
        };
        let m = model.clone();
        let (data, rows) = tokio::task::spawn_blocking(move || -> Result<(String, u64)> {
            let t = &m.tables[0];
            progress(ProgressEvent::TableStarted {
                table: t.name.clone(),
            });
            let mut batches = Vec::new();
            let arrow_err = |source| Error::Arrow {
                table: t.name.clone(),
                source,
            };
            match feed {
                Feed::Parquet(p) => p.read(&mut |b| {
                    batches.push(b);
                    Ok(())
                })?,
                Feed::Iter(it) => {
                    for b in it {
                        batches.push(b.map_err(arrow_err)?);
                    }
                }
                Feed::Channel(mut rx) => {
                    while let Some(b) = rx.blocking_recv() {
                        batches.push(b.map_err(arrow_err)?);
                    }
                }
                Feed::Memory(b) => batches = b,
            }
            let rows: u64 = batches.iter().map(|b| b.num_rows() as u64).sum();
            progress(ProgressEvent::RowsRead {
                table: t.name.clone(),
                rows,
            });
            let data = encode_base64(t, &batches, Orientation::Row, zones)?;
            progress(ProgressEvent::RowsEncoded {
                table: t.name.clone(),
                rows,
            });
            Ok((data, rows))
        })
        .await
        .map_err(|e| Error::Internal(format!("the encoder thread failed: {e}")))??;
        let bytes = data.len() as u64;
        let dataset_id = match &self.dataset_id {
            Some(id) => {
                let creator = model.to_table_creator(&table, data)?;
                let table_ref = self.table_id.clone().unwrap_or_else(|| table.clone());
                let policy = self.policy_of(&table);
                self.client
                    .update_table(id, &table_ref, policy, &creator)
                    .await
                    .map_err(|source| Error::Api {
                        step: format!("update table {table:?} of dataset {id} ({policy})"),
                        source: Box::new(source),
                    })?;
                id.clone()
            }
            None => {
                let creator = model.to_dataset_creator(vec![data])?;
                let created = self
                    .client
                    .create_dataset(&creator)
                    .await
                    .map_err(|source| Error::Api {
                        step: format!("create dataset {:?}", model.name),
                        source: Box::new(source),
                    })?;
                (self.progress)(ProgressEvent::DatasetCreated {
                    dataset_id: created.dataset_id.clone(),
                });
                created.dataset_id
            }
        };
        (self.progress)(ProgressEvent::Published {
            dataset_id: dataset_id.clone(),
        });
        Ok(PushReport {
            dataset_id,
            session_id: None,
            tables: vec![TableReport {
                name: table,
                rows,
                chunks: 1,
                bytes,
            }],
            chunks: 1,
            bytes,
            elapsed: started.elapsed(),
        })
    }
}
