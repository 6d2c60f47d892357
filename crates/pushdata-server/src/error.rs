//! The public error of the server: what starting, running and stopping a server, or reading
//! a data directory, can fail with. Errors of single requests are answered over HTTP and
//! never reach this type.

use std::path::PathBuf;

use crate::store::StoreError;

/// What can go wrong when starting, serving or stopping a [`Server`](crate::Server), or
/// reading a data directory with [`read_table`](crate::read_table).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// A configuration that the server refuses to run with.
    #[error("invalid server configuration: {0}")]
    Config(String),
    /// Another server (in this or another process) uses the data directory.
    #[error("data directory {} is in use by another pushdata server ({holder}); stop it or choose another data directory", dir.display())]
    DataDirLocked {
        /// The data directory.
        dir: PathBuf,
        /// Who holds it, as its lock file says (process id, start time).
        holder: String,
    },
    /// The dataset or table asked for does not exist in the data directory.
    #[error("{0}")]
    NotFound(String),
    /// A network or file-system call of the server failed.
    #[error("{context}: {source}")]
    Io {
        /// What the server was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The HTTPS certificate or key cannot be used (unreadable file, not PEM, a key that
    /// does not match the certificate); the context names the file.
    #[error("{context}: {source}")]
    Tls {
        /// What is wrong, naming the file.
        context: String,
        /// The underlying error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Reading or writing the data directory failed (a damaged file, a full disk, ...).
    #[error(transparent)]
    Storage(Box<dyn std::error::Error + Send + Sync>),
    /// The server's task stopped unexpectedly (a panic).
    #[error("server task: {0}")]
    Task(#[source] tokio::task::JoinError),
}

impl ServerError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        ServerError::Io {
            context: context.into(),
            source,
        }
    }
}

impl From<StoreError> for ServerError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Locked { dir, holder } => ServerError::DataDirLocked { dir, holder },
            e @ StoreError::UnknownTable { .. } => ServerError::NotFound(e.to_string()),
            e => ServerError::Storage(Box::new(e)),
        }
    }
}

/// Result alias for the server's public API.
pub type Result<T, E = ServerError> = std::result::Result<T, E>;
