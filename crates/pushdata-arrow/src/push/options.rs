//! The settings of a push, as a plain struct (for callers that build them apart from the
//! tables, such as a CLI). [`Push`](super::Push) has the same `with_*` methods.

use std::collections::HashMap;

use pushdata_core::PublishWait;
use pushdata_core::wire::{Orientation, UpdatePolicy};

use super::Workflow;
use crate::encode::DEFAULT_CHUNK_BYTES;
use crate::model::ModelOptions;
use crate::source::DEFAULT_BATCH_ROWS;

/// How a push runs. Defaults: policy `replace`, ROW orientation, 100 MiB chunks,
/// 3 uploads in flight, at most 1.5 chunks' worth of encoded data in memory, 8192-row Parquet
/// batches, 2 row groups decoded at once, multi-request workflow, the client's default
/// publish wait.
#[derive(Debug, Clone)]
pub struct PushOptions {
    /// Update policy of every table without its own.
    pub policy: UpdatePolicy,
    /// Update policy per table.
    pub table_policies: HashMap<String, UpdatePolicy>,
    /// Chunk orientation (the single-request workflow always sends rows).
    pub orientation: Orientation,
    /// Target size of a chunk's base64 data.
    pub chunk_bytes: usize,
    /// Chunks uploaded at once.
    pub concurrency: usize,
    /// The most bytes of encoded chunk data in memory at once (chunk being built, queued and
    /// uploading); `None`: `chunk_bytes × 3 / 2`. See
    /// [`with_max_buffered_bytes`](PushOptions::with_max_buffered_bytes).
    pub max_buffered_bytes: Option<usize>,
    /// Rows per batch read from Parquet.
    pub batch_rows: usize,
    /// Parquet row groups decoded at once.
    pub read_parallelism: usize,
    /// How the model is inferred.
    pub model_options: ModelOptions,
    /// Multi-request or single-request workflow.
    pub workflow: Workflow,
    /// How long and how often to poll the publish status.
    pub publish_wait: PublishWait,
}

impl Default for PushOptions {
    fn default() -> Self {
        PushOptions {
            policy: UpdatePolicy::Replace,
            table_policies: HashMap::new(),
            orientation: Orientation::Row,
            chunk_bytes: DEFAULT_CHUNK_BYTES,
            concurrency: 3,
            max_buffered_bytes: None,
            batch_rows: DEFAULT_BATCH_ROWS,
            read_parallelism: 2,
            model_options: ModelOptions::default(),
            workflow: Workflow::MultiRequest,
            publish_wait: PublishWait::default(),
        }
    }
}

impl PushOptions {
    /// Update policy of every table (default `replace`).
    pub fn with_policy(mut self, policy: UpdatePolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Update policy of one table.
    pub fn with_table_policy(mut self, table: impl Into<String>, policy: UpdatePolicy) -> Self {
        self.table_policies.insert(table.into(), policy);
        self
    }

    /// Chunk orientation (default ROW).
    pub fn with_orientation(mut self, orientation: Orientation) -> Self {
        self.orientation = orientation;
        self
    }

    /// Target size of a chunk's base64 data (default 100 MiB; at least 1 KiB).
    pub fn with_chunk_bytes(mut self, bytes: usize) -> Self {
        self.chunk_bytes = bytes.max(1024);
        self
    }

    /// Chunks uploaded at once (default 3; at least 1).
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// The most bytes of encoded chunk data that exist at once (multi-request workflow):
    /// the buffers of the base64 pieces of the chunk being built, of the chunk waiting to
    /// be uploaded and of the chunks being uploaded (and buffers kept for reuse). Default
    /// `chunk_bytes × 3 / 2`: one chunk uploads while half of the next is encoded ahead (the
    /// encoder is several times faster than an upload, so it finishes that chunk while the
    /// server still works on the first; measured on `benches/bulk_load.rs`, SF 1 pushes
    /// took about 5% longer than with two whole chunks, for about 50 MB less client
    /// memory); at least 1 KiB.
    ///
    /// The encoder waits while encoding more would exceed it; a chunk's bytes are released
    /// when its upload ends (success or failure). `concurrency` still limits the PUTs in
    /// flight, but only as many chunks as fit in the budget exist: with the default, one
    /// full chunk and half of the next. A budget smaller than `chunk_bytes` makes chunks of about the
    /// budget. A single row larger than the budget still goes through, alone (it is then
    /// the only encoded data in memory). Memory outside the budget: decoded input batches,
    /// a small scratch per encoding thread and the HTTP client's buffers.
    pub fn with_max_buffered_bytes(mut self, bytes: usize) -> Self {
        self.max_buffered_bytes = Some(bytes.max(1024));
        self
    }

    /// The memory budget in effect: [`max_buffered_bytes`](PushOptions::max_buffered_bytes)
    /// or `chunk_bytes × 3 / 2`.
    pub fn buffered_bytes_limit(&self) -> usize {
        self.max_buffered_bytes
            .unwrap_or_else(|| (self.chunk_bytes / 2).saturating_mul(3))
    }

    /// Rows per batch read from Parquet (default 8192).
    pub fn with_batch_rows(mut self, rows: usize) -> Self {
        self.batch_rows = rows.max(1);
        self
    }

    /// Parquet row groups decoded at once (default 2).
    pub fn with_read_parallelism(mut self, n: usize) -> Self {
        self.read_parallelism = n.max(1);
        self
    }

    /// How the model is inferred.
    pub fn with_model_options(mut self, opts: ModelOptions) -> Self {
        self.model_options = opts;
        self
    }

    /// Multi-request (default) or single-request workflow.
    pub fn with_workflow(mut self, workflow: Workflow) -> Self {
        self.workflow = workflow;
        self
    }

    /// How long and how often to poll the publish status.
    pub fn with_publish_wait(mut self, wait: PublishWait) -> Self {
        self.publish_wait = wait;
        self
    }

    /// The update policy of `table`.
    pub fn policy_of(&self, table: &str) -> UpdatePolicy {
        self.table_policies
            .get(table)
            .copied()
            .unwrap_or(self.policy)
    }
}
