//! What a finished push reports.

use std::time::Duration;

/// One table of a push.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TableReport {
    /// Table name.
    pub name: String,
    /// Rows pushed.
    pub rows: u64,
    /// Chunks uploaded (single request: 1).
    pub chunks: u64,
    /// Bytes of request bodies carrying its data.
    pub bytes: u64,
    /// Uploaded rows the update policy did not write (`add` skips rows whose key is stored,
    /// `update` rows whose key is not), as the server reported in the publish status
    /// (`tables[].rowsSkipped`, an extension of pushdata's reference server); `None` when
    /// the server did not say (other servers, the single-request workflow).
    pub rows_skipped: Option<u64>,
}

/// What a finished [`Push`](super::Push) reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PushReport {
    /// The dataset pushed to (created or given).
    pub dataset_id: String,
    /// Upload session id (multi-request workflow).
    pub session_id: Option<String>,
    /// Per table, in the order given.
    pub tables: Vec<TableReport>,
    /// Chunks uploaded in all.
    pub chunks: u64,
    /// Bytes of request bodies carrying data, in all.
    pub bytes: u64,
    /// Wall time of the push.
    pub elapsed: Duration,
}
