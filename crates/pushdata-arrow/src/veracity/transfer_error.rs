//! [`TransferError`]: what can go wrong in a Veracity push or pull, and what a push that
//! failed or was stopped left on the service.

use std::fmt;
use std::path::PathBuf;

use super::error::VeracityError;

/// What can go wrong in a Veracity push or pull. Every variant names the table (the input's
/// name, or `dataset <id>` for a pull) and keeps the lower-level error as its source.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransferError {
    /// The table does not fit the dataset: a type without a Veracity type, an operation the
    /// schema's keys forbid, a column the schema lacks, a value the CSV cannot hold.
    #[error("table {table:?}: {source}")]
    Check {
        /// The table.
        table: String,
        /// What is wrong, naming the column (and row, for values).
        #[source]
        source: VeracityError,
    },

    /// Reading the input (Parquet file, batch iterator or stream) failed.
    #[error("{source}")]
    Source {
        /// The table.
        table: String,
        /// The reader's error (naming the table and file).
        #[source]
        source: Box<crate::Error>,
    },

    /// A call to the service failed; for a failed job, the error holds the job id and its
    /// validation messages.
    #[error("table {table:?}: {step}: {source}")]
    Service {
        /// The table.
        table: String,
        /// What was being done (`register`, `upload`, `start job`, `job`, `query`, ...).
        step: &'static str,
        /// The client's error.
        #[source]
        source: Box<pushdata_core::veracity::Error>,
    },

    /// A key column given with `with_key` that the table does not have.
    #[error("table {table:?}: key column {column:?} is not a column of the table")]
    UnknownKey {
        /// The table.
        table: String,
        /// The key column as given.
        column: String,
    },

    /// Rows read back from a query do not convert to the dataset's Arrow schema.
    #[error("table {table:?}, page {page}: rows do not read as the schema's types: {source}")]
    Decode {
        /// The table (`dataset <id>`).
        table: String,
        /// The 1-based page index.
        page: u64,
        /// Arrow's error (naming the column).
        #[source]
        source: arrow_schema::ArrowError,
    },

    /// Writing a Parquet file failed.
    #[error("table {table:?}: writing Parquet file {path:?}: {source}")]
    Parquet {
        /// The table.
        table: String,
        /// The file.
        path: PathBuf,
        /// The Parquet error.
        #[source]
        source: parquet::errors::ParquetError,
    },

    /// The builder's settings cannot be used (no input, Create on an existing dataset, ...).
    #[error("veracity push configuration: {0}")]
    Config(String),

    /// A job that completed without saying which dataset it created.
    #[error("table {table:?}: job {job_id} completed without a dataset id")]
    NoDatasetId {
        /// The table.
        table: String,
        /// The job.
        job_id: String,
    },

    /// The push failed after it registered its job (or made its schema) and before the job
    /// was started: nothing was applied to the dataset. The job is left unstarted, so its
    /// uploaded file is never applied; a schema `create` made is left in the workspace (the
    /// Data Workbench API has no call to delete a schema).
    #[error(
        "{source}; nothing was applied to the dataset{}",
        Left(job_id, schema_id)
    )]
    NothingApplied {
        /// The table.
        table: String,
        /// The registered job, left unstarted (`None` when the register call failed).
        job_id: Option<String>,
        /// The schema `create` made for the dataset, left in the workspace.
        schema_id: Option<String>,
        /// What failed.
        #[source]
        source: Box<TransferError>,
    },

    /// The push was stopped (its stop signal completed) before its job was started: nothing
    /// was applied to the dataset, and the job (if registered) is left unstarted.
    #[error(
        "table {table:?}: stopped before {}was started; nothing was applied to the dataset{}",
        job_id.as_deref().map(|j| format!("job {j} ")).unwrap_or_else(|| "the job ".into()),
        Left(job_id, schema_id)
    )]
    Stopped {
        /// The table.
        table: String,
        /// The registered job, left unstarted (`None` when stopped before it was registered).
        job_id: Option<String>,
        /// The schema `create` made for the dataset, left in the workspace.
        schema_id: Option<String>,
    },

    /// The push was stopped after its job was started (or its start was requested): the
    /// push stopped waiting, and the job may still complete and apply its file.
    #[error(
        "table {table:?}: stopped waiting for job {job_id}, which was started and may still complete; \
         its status is at GET .../ingest/job/{job_id}/status"
    )]
    StoppedAfterStart {
        /// The table.
        table: String,
        /// The job.
        job_id: String,
    },

    /// An internal task panicked or was cancelled.
    #[error("internal: {task}: {source}")]
    Task {
        /// The task.
        task: &'static str,
        /// The join error.
        #[source]
        source: tokio::task::JoinError,
    },
}

impl TransferError {
    /// The error of a failed service call in step `step` of table `table`.
    pub(super) fn service(
        table: &str,
        step: &'static str,
    ) -> impl Fn(pushdata_core::veracity::Error) -> TransferError + use<> {
        let table = table.to_string();
        move |source| TransferError::Service {
            table: table.clone(),
            step,
            source: Box::new(source),
        }
    }

    /// The ingest job the error concerns, if a job was registered: the one left unstarted,
    /// stopped, or failed.
    pub fn job_id(&self) -> Option<&str> {
        match self {
            TransferError::NothingApplied { job_id, .. }
            | TransferError::Stopped { job_id, .. } => job_id.as_deref(),
            TransferError::StoppedAfterStart { job_id, .. }
            | TransferError::NoDatasetId { job_id, .. } => Some(job_id),
            TransferError::Service { source, .. } => source.job_id(),
            _ => None,
        }
    }

    /// Whether the push was stopped by its stop signal ([`Stopped`](TransferError::Stopped)
    /// or [`StoppedAfterStart`](TransferError::StoppedAfterStart)).
    pub fn is_stopped(&self) -> bool {
        matches!(
            self,
            TransferError::Stopped { .. } | TransferError::StoppedAfterStart { .. }
        )
    }

    /// Whether the job may still apply its file, so the outcome is not known: the push was
    /// stopped after the start was requested, the start call failed other than by a refusal
    /// (4xx), or the wait ended without a final status (its deadline, a failed poll).
    /// `false`: this push applied nothing and will apply nothing, or its job ended.
    pub fn may_still_apply(&self) -> bool {
        match self {
            TransferError::StoppedAfterStart { .. } => true,
            // A start the gateway refused did not happen; any other failure of it may have.
            TransferError::Service {
                step: "start job",
                source,
                ..
            } => !source.status().is_some_and(|s| (400..500).contains(&s)),
            // The wait ended without a final status (deadline, a failed poll).
            TransferError::Service {
                step: "job",
                source,
                ..
            } => !matches!(
                source.as_ref(),
                pushdata_core::veracity::Error::JobFailed { .. }
            ),
            _ => false,
        }
    }
}

/// What a push left behind: `; job J is left unstarted; schema S ... is left ...`.
struct Left<'a>(&'a Option<String>, &'a Option<String>);

impl fmt::Display for Left<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(job) = self.0 {
            write!(
                f,
                "; job {job} is left unstarted (its file is never applied)"
            )?;
        }
        if let Some(schema) = self.1 {
            write!(
                f,
                "; schema {schema}, made for the dataset, is left in the workspace (the API has no call to delete a schema)"
            )?;
        }
        Ok(())
    }
}
