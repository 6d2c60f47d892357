//! The CLI's one error type. Each variant displays as one line naming the cause and where
//! (file, table, column, call); lower-level messages are wrapped, not re-worded.

use std::path::PathBuf;

/// Everything a `pushdata` command can fail with.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// The arguments are inconsistent in a way clap cannot express.
    #[error("{0}")]
    Usage(String),

    /// An input file cannot be used (missing, unreadable, a directory).
    #[error("{}: {message}", path.display())]
    File {
        /// The file as given on the command line.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },

    /// Modelling, reading, encoding or pushing failed (Arrow adapter and push pipeline).
    #[error(transparent)]
    Arrow(#[from] pushdata_arrow::Error),

    /// The dataset `push` would create is already in the folder: the library's error
    /// (naming it and its id) and how to push into it instead.
    #[error(
        "{0}; push into it with --if-exists update (and --policy), or choose another --dataset \
         name or --folder"
    )]
    DatasetExists(#[source] pushdata_arrow::Error),

    /// A call to the server failed (login, project, dataset, upload, publish).
    #[error(transparent)]
    Client(#[from] pushdata_core::Error),

    /// A Veracity push or pull failed: the error names the file or dataset, the column and
    /// row of a bad value, and for a failed job its id and validation messages.
    #[error(transparent)]
    Veracity(#[from] pushdata_arrow::veracity::TransferError),

    /// Building the Veracity client failed (a URL or credential that cannot be used).
    #[error("veracity: {0}")]
    VeracityClient(#[from] pushdata_core::veracity::Error),

    /// The reference server could not be started or stopped.
    #[error("reference server: {0}")]
    Server(#[from] pushdata_server::ServerError),

    /// Local I/O that is not about an input file (stdout, data directory, signals).
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// Ctrl-C arrived during a push or a pull; says what was left undone.
    #[error("interrupted: {0}")]
    Interrupted(&'static str),

    /// Ctrl-C arrived after a push requested its publish: whether the data was published is
    /// not known (the error is [`pushdata_arrow::Error::PublishOutcomeUnknown`]).
    #[error("interrupted: {0}")]
    InterruptedAfterPublish(#[source] pushdata_arrow::Error),

    /// Writing JSON output failed.
    #[error("writing JSON output: {0}")]
    Json(#[from] serde_json::Error),
}

impl CliError {
    /// The process exit code for this error: 2 for usage errors (like clap's), 3 when a
    /// push requested its publish and cannot tell whether it happened (after a failed wait
    /// or Ctrl-C), 130 after Ctrl-C otherwise (like a shell; nothing was published), 1
    /// otherwise (nothing was published).
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            CliError::InterruptedAfterPublish(_) => 3,
            CliError::Arrow(e) if e.is_publish_outcome_unknown() => 3,
            CliError::Interrupted(_) => 130,
            _ => 1,
        }
    }

    /// The message on a single line (embedded newlines and runs of spaces are folded).
    pub(crate) fn one_line(&self) -> String {
        one_line(&self.to_string())
    }
}

/// Fold a message onto one line.
pub(crate) fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `Result` with [`CliError`].
pub(crate) type Result<T, E = CliError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_folded_onto_one_line() {
        let e = CliError::File {
            path: PathBuf::from("a b.parquet"),
            message: "first\nsecond\r\n  third".into(),
        };
        assert_eq!(e.one_line(), "a b.parquet: first second third");
        assert_eq!(e.exit_code(), 1);
        assert_eq!(CliError::Usage("x".into()).exit_code(), 2);
        let unknown = pushdata_arrow::Error::PublishOutcomeUnknown {
            dataset_id: Some("D".into()),
            session_id: Some("S".into()),
            source: None,
        };
        assert_eq!(CliError::Arrow(unknown).exit_code(), 3);
        assert_eq!(CliError::Interrupted("x").exit_code(), 130);
    }
}
