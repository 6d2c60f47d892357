//! The settings of a push, owned by the builder ([`Push`](super::Push) sets them with its
//! `with_*` methods; this struct only holds them and the rules derived from them).

use std::collections::HashMap;

use pushdata_core::PublishWait;
use pushdata_core::wire::{Orientation, UpdatePolicy};

use super::Workflow;
use crate::encode::{DEFAULT_CHUNK_BYTES, ZoneMode};
use crate::model::ModelOptions;
use crate::source::{DEFAULT_BATCH_ROWS, ReadOptions};

/// Defaults: policy `replace`, ROW orientation, 20 MiB chunks, 3 uploads in flight, the
/// memory budget of [`Push`](super::Push#memory-bound), 8192-row Parquet batches, 2 row
/// groups decoded at once, multi-request workflow, the client's default publish wait.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) policy: UpdatePolicy,
    pub(crate) table_policies: HashMap<String, UpdatePolicy>,
    pub(crate) orientation: Orientation,
    pub(crate) chunk_bytes: usize,
    pub(crate) concurrency: usize,
    /// `None`: the default budget, [`default_budget`].
    pub(crate) max_buffered_bytes: Option<usize>,
    pub(crate) batch_rows: usize,
    pub(crate) read_parallelism: usize,
    pub(crate) model_options: ModelOptions,
    pub(crate) workflow: Workflow,
    pub(crate) publish_wait: PublishWait,
    pub(crate) session_keepalive: std::time::Duration,
}

/// How long the uploader waits for the next chunk before a keep-alive request (see
/// [`Push::with_session_keepalive`](crate::Push::with_session_keepalive)).
pub const DEFAULT_SESSION_KEEPALIVE: std::time::Duration = std::time::Duration::from_secs(60);

impl Default for Settings {
    fn default() -> Self {
        Settings {
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
            session_keepalive: DEFAULT_SESSION_KEEPALIVE,
        }
    }
}

/// The default memory budget for chunks of `chunk_bytes`: one and a half chunks (why: see
/// [`Push`](super::Push#memory-bound)).
pub(crate) fn default_budget(chunk_bytes: usize) -> usize {
    (chunk_bytes / 2).saturating_mul(3)
}

impl Settings {
    /// The update policy of `table`.
    pub(crate) fn policy_of(&self, table: &str) -> UpdatePolicy {
        self.table_policies
            .get(table)
            .copied()
            .unwrap_or(self.policy)
    }

    /// The memory budget in effect.
    pub(crate) fn buffered_bytes_limit(&self) -> usize {
        self.max_buffered_bytes
            .unwrap_or_else(|| default_budget(self.chunk_bytes))
    }

    /// How zoned timestamps are written.
    pub(crate) fn zones(&self) -> ZoneMode {
        if self.model_options.utc() {
            ZoneMode::Utc
        } else {
            ZoneMode::Local
        }
    }

    /// How Parquet sources are read.
    pub(crate) fn read_options(&self) -> ReadOptions {
        ReadOptions {
            batch_rows: self.batch_rows,
            read_parallelism: self.read_parallelism,
        }
    }
}
