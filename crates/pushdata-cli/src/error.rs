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

    /// `--profile NAME` names no profile of the config file (or there is no config file).
    #[error(
        "no profile {name:?} in {}: {}",
        path.display(),
        KnownProfiles(known.as_deref())
    )]
    UnknownProfile {
        /// The profile asked for.
        name: String,
        /// The config file.
        path: PathBuf,
        /// The file's profiles; `None` when the file does not exist.
        known: Option<Vec<String>>,
    },

    /// The server's TLS certificate is not trusted: says how to trust it.
    #[error(
        "{0}; if a private CA signed the server's certificate, trust it with --ca-cert FILE (or ca_cert in the profile); --insecure skips the check (test servers only)"
    )]
    UntrustedCertificate(#[source] pushdata_core::Error),

    /// The server could not be reached at login (refused, timed out, not TLS, ...).
    #[error("cannot reach the server at {url}: {source}")]
    Unreachable {
        /// The base URL.
        url: String,
        /// The login's error.
        #[source]
        source: Box<pushdata_core::Error>,
    },

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

    /// Ctrl-C stopped a Veracity push: before its job was started (nothing was applied; the
    /// job is named, left unstarted) or after (the job may still complete).
    #[error("interrupted: {0}")]
    VeracityInterrupted(#[source] pushdata_arrow::veracity::TransferError),

    /// Writing JSON output failed.
    #[error("writing JSON output: {0}")]
    Json(#[from] serde_json::Error),
}

/// `its profiles are "a", "b"`, or why there are none.
struct KnownProfiles<'a>(Option<&'a [String]>);

impl std::fmt::Display for KnownProfiles<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            None => f.write_str(
                "the file does not exist (see --help of --profile for its format, or set PUSHDATA_CONFIG)",
            ),
            Some([]) => f.write_str("the file defines no profile ([profiles.NAME] tables)"),
            Some(names) => {
                let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
                write!(f, "its profiles are {}", quoted.join(", "))
            }
        }
    }
}

impl CliError {
    /// The error of logging in to the server at `url`: naming the server when it could
    /// not be reached, with advice when its certificate was refused.
    pub(crate) fn connecting(url: &str, e: pushdata_core::Error) -> Self {
        match e {
            e @ pushdata_core::Error::UntrustedCertificate { .. } => {
                CliError::UntrustedCertificate(e)
            }
            e @ (pushdata_core::Error::Http { .. } | pushdata_core::Error::Timeout { .. }) => {
                CliError::Unreachable {
                    url: url.to_string(),
                    source: Box::new(e),
                }
            }
            e => CliError::Client(e),
        }
    }

    /// The process exit code for this error: 2 for usage errors (like clap's), 3 when a
    /// push requested its publish (or started its Veracity job) and cannot tell whether it
    /// happened (after a failed wait or Ctrl-C), 130 after Ctrl-C otherwise (like a shell;
    /// nothing was published or applied), 1 otherwise (nothing was published or applied).
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            CliError::InterruptedAfterPublish(_) => 3,
            CliError::Arrow(e) if e.is_publish_outcome_unknown() => 3,
            CliError::Veracity(e) | CliError::VeracityInterrupted(e) if e.may_still_apply() => 3,
            CliError::Interrupted(_) | CliError::VeracityInterrupted(_) => 130,
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

    #[test]
    fn a_veracity_stop_exits_130_before_the_start_and_3_after() {
        use pushdata_arrow::veracity::TransferError;
        let before = CliError::VeracityInterrupted(TransferError::Stopped {
            table: "t".into(),
            job_id: Some("J".into()),
            schema_id: None,
        });
        assert_eq!(before.exit_code(), 130);
        assert!(before.one_line().contains("job J"), "{}", before.one_line());
        let after = CliError::VeracityInterrupted(TransferError::StoppedAfterStart {
            table: "t".into(),
            job_id: "J".into(),
        });
        assert_eq!(after.exit_code(), 3);
        assert!(after.one_line().contains("may still complete"));
    }
}
