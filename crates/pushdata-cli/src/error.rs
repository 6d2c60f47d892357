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

    /// A call to the server failed (login, project, dataset, upload, publish).
    #[error(transparent)]
    Client(#[from] pushdata_core::Error),

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

    /// Writing JSON output failed.
    #[error("writing JSON output: {0}")]
    Json(#[from] serde_json::Error),
}

impl CliError {
    /// The process exit code for this error: 2 for usage errors (like clap's), 130 after
    /// Ctrl-C (like a shell), 1 otherwise.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
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
    }
}
