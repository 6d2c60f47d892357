//! What can go wrong in the table store. Every variant keeps its source error as a value
//! and says, as fields, what the store was doing and on which table or file.

use std::path::PathBuf;

use arrow_schema::{ArrowError, DataType as ArrowType};
use parquet::errors::ParquetError;

/// An error of the table store.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    /// A file-system call failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done, e.g. `creating`, `fsync of`.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Reading or writing a Parquet table file failed.
    #[error("{op} {}: {source}", path.display())]
    Parquet {
        /// `reading`, `writing`, `opening`, `finishing`.
        op: &'static str,
        /// The file.
        path: PathBuf,
        #[source]
        source: ParquetError,
    },
    /// An Arrow computation on stored or staged data failed.
    #[error("{context}: {source}")]
    Arrow {
        /// What was being done.
        context: String,
        #[source]
        source: ArrowError,
    },
    /// A JSON metadata file (definition, manifest) could not be read or written.
    #[error("{op} {}: {source}", path.display())]
    Json {
        /// `parsing` or `serializing`.
        op: &'static str,
        /// The file.
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// Uploaded values do not fit the type the table stores (for example a decimal with
    /// more digits than the column has room for).
    #[error("table {table:?}, column {column:?}: values do not fit {data_type}: {source}")]
    DoesNotFit {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The stored type.
        data_type: ArrowType,
        #[source]
        source: ArrowError,
    },
    /// Data read back does not have the table's shape (a damaged or foreign file).
    #[error("table {table:?}: stored data has {found} columns, the definition {expected}")]
    Shape {
        /// The table.
        table: String,
        /// Columns found.
        found: usize,
        /// Columns defined.
        expected: usize,
    },
    /// A keyed merge was asked of a table without key columns.
    #[error("table {table:?}: the {policy} merge needs key columns and the table has none")]
    NoKey {
        /// The table.
        table: String,
        /// The merge asked for.
        policy: &'static str,
    },
    /// A commit names a table the dataset does not have.
    #[error("dataset {dataset} has no table {table}")]
    UnknownTable {
        /// The dataset id.
        dataset: String,
        /// The table id.
        table: String,
    },
    /// The dataset was deleted while the commit waited or ran; nothing was written.
    #[error("dataset {dataset} was deleted; its publish was not applied")]
    Deleted {
        /// The dataset id.
        dataset: String,
    },
    /// Staging the upload would pass the disk quota of staged files.
    #[error(
        "the server's staging area is full (quota {quota} bytes of staged chunks); publish or delete open upload sessions, or try again later"
    )]
    DiskQuota {
        /// The quota in bytes.
        quota: usize,
    },
    /// The data directory is full: a write would pass the server's data quota
    /// ([`ServerConfig::data_quota_bytes`](crate::ServerConfig::data_quota_bytes)); it was
    /// refused or undone, and every dataset's previous version is intact.
    #[error(
        "the server's data directory is full: {used} bytes in use, {more} more would pass its quota of {quota} bytes (data quota); nothing was written; free space or raise the quota, then try again"
    )]
    DataQuota {
        /// The quota in bytes.
        quota: u64,
        /// Bytes in use before the write.
        used: u64,
        /// Bytes the write was about to add (0 when checked after writing).
        more: u64,
    },
    /// The caller cancelled the commit before its swap; nothing changed.
    #[error("the upload session was cancelled before its publish finished")]
    Cancelled,
    /// A [`PublishHook`](crate::PublishHook) stopped the commit before its swap (fault
    /// injection); nothing changed.
    #[error(
        "publish of dataset {dataset} interrupted after staging version {version}, before the swap: {source}"
    )]
    Interrupted {
        /// The dataset id.
        dataset: String,
        /// The version that was not swapped in.
        version: u64,
        #[source]
        source: crate::hook::HookError,
    },
    /// Another process holds the data directory.
    #[error("data directory {} is in use by another pushdata server ({holder}); stop it or choose another --data-dir", dir.display())]
    Locked {
        /// The data directory.
        dir: PathBuf,
        /// What the lock file says about its holder (process id, start time).
        holder: String,
    },
}

/// `Result` with a [`StoreError`].
pub(crate) type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    /// An I/O error on `path`.
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StoreError::Io {
            op,
            path: path.into(),
            source,
        }
    }

    /// A Parquet error on `path`.
    pub(crate) fn parquet(
        op: &'static str,
        path: impl Into<PathBuf>,
        source: ParquetError,
    ) -> Self {
        StoreError::Parquet {
            op,
            path: path.into(),
            source,
        }
    }

    /// An Arrow error while doing `context`.
    pub(crate) fn arrow(context: impl Into<String>) -> impl FnOnce(ArrowError) -> Self {
        let context = context.into();
        move |source| StoreError::Arrow { context, source }
    }
}
