//! Ingest jobs: registered with their operation and file name, uploaded through the Data
//! Lake calls into one staging file per job, started, and processed (see `process`).
//!
//! Jobs live in memory (a restart forgets them, as it invalidates their SAS). The upload
//! file is `<staging>/veracity/<jobId>.csv`; appends are written to it as they arrive, so
//! memory stays bounded whatever the file's size.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use futures::StreamExt;
use parking_lot::Mutex;
use pushdata_core::veracity::wire::{
    FileOperation, JobState, JobStatus, SchemaVersion, ValidationIssue,
};
use tokio::io::{AsyncSeekExt, AsyncWriteExt};

use super::Dataset;
use super::error::{LakeCode, Result, VeracityError};

/// What a job writes to.
#[derive(Debug)]
pub(crate) enum Target {
    /// A new dataset, created when the job succeeds.
    Create {
        /// Its name.
        name: String,
        /// Its description.
        description: String,
        /// The schema version it is created with.
        version: SchemaVersion,
    },
    /// An existing dataset.
    Update(Arc<Dataset>),
}

/// The upload's progress, with Azure Data Lake's semantics: an append is staged at its
/// `position` (Azure's "allows the caller to upload data in parallel and control the
/// order", as the Azure SDKs' parallel uploads do), so appends may arrive in any order and
/// an append sent again at the same position (a retry after a lost answer) replaces the
/// range staged there; a flush commits the staged ranges, which must then be contiguous
/// from the committed length up to its position (else 400 `InvalidFlushPosition`).
#[derive(Debug, Default)]
pub(crate) struct Upload {
    /// `PUT ?resource=file` was called.
    pub(crate) created: bool,
    /// The committed (flushed) length; appends go at or after it.
    committed: u64,
    /// Staged, uncommitted ranges: start -> length. Every byte of a range holds what the
    /// append that staged it sent (a later write over it removes the range).
    staged: BTreeMap<u64, u64>,
    /// The flushed length, once flushed (and nothing appended since).
    pub(crate) flushed: Option<u64>,
}

impl Upload {
    /// Forget the staged ranges that share a byte with `start..end` (a write there changed
    /// them).
    fn forget_overlapping(&mut self, start: u64, end: u64) {
        self.staged.retain(|&s, len| s >= end || s + *len <= start);
    }

    /// Whether the staged ranges below `position` cover `committed..position` exactly.
    fn contiguous_to(&self, position: u64) -> bool {
        let mut at = self.committed;
        for (&start, &len) in self.staged.range(..position) {
            if start != at {
                return false;
            }
            at += len;
        }
        at == position
    }
}

/// What the status endpoint reports.
#[derive(Debug)]
pub(crate) struct Progress {
    /// The job's state.
    pub(crate) state: JobState,
    /// Why it failed (row-level problems).
    pub(crate) validation: Vec<ValidationIssue>,
    /// A failure that is not the file's fault.
    pub(crate) notebook_error: String,
    /// The dataset (id, name), once completed.
    pub(crate) dataset: Option<(String, String)>,
}

/// One ingest job.
#[derive(Debug)]
pub(crate) struct Job {
    /// The job id (a UUID; also the upload folder's name).
    pub(crate) id: String,
    /// The workspace it belongs to.
    pub(crate) workspace: String,
    /// The dataset it writes.
    pub(crate) target: Target,
    /// What it does.
    pub(crate) operation: FileOperation,
    /// The file name registered (the only one the folder accepts).
    pub(crate) file_name: String,
    /// Start processing at flush.
    pub(crate) start_automatically: bool,
    /// The staged upload.
    pub(crate) file: PathBuf,
    /// The upload's progress; held for the whole of each Data Lake call.
    pub(crate) upload: tokio::sync::Mutex<Upload>,
    /// The processing state.
    pub(crate) progress: Mutex<Progress>,
}

impl Job {
    /// The job's status body.
    pub(crate) fn status(&self) -> JobStatus {
        let p = self.progress.lock();
        JobStatus {
            job_id: self.id.clone(),
            status: p.state.clone(),
            operations: vec![self.operation.clone()],
            notebook_error_message: p.notebook_error.clone(),
            data_set_name: p.dataset.as_ref().map(|d| d.1.clone()),
            dataset_id: p.dataset.as_ref().map(|d| d.0.clone()),
            validation_error: p.validation.clone(),
        }
    }

    /// Whether the job was started (its file can no longer change).
    pub(crate) fn started(&self) -> bool {
        self.progress.lock().state != JobState::Pending
    }

    fn refuse_if_started(&self) -> Result<()> {
        if self.started() {
            return Err(VeracityError::lake(
                LakeCode::OperationNotAllowedOnThePath,
                format!("job {} already started", self.id),
            ));
        }
        Ok(())
    }

    /// `PUT ?resource=file`: create (or truncate) the file.
    pub(crate) async fn create_file(&self) -> Result<()> {
        let mut up = self.upload.lock().await;
        self.refuse_if_started()?;
        tokio::fs::File::create(&self.file)
            .await
            .map_err(|e| VeracityError::io("creating an ingest upload file", e))?;
        *up = Upload {
            created: true,
            ..Upload::default()
        };
        Ok(())
    }

    /// `PATCH ?action=append&position=N`: stage `body` at `position` (at or after the
    /// committed length), replacing a range staged at the same position. Returns the
    /// length staged.
    pub(crate) async fn append(
        &self,
        position: u64,
        body: axum::body::Body,
        limit: usize,
    ) -> Result<u64> {
        let mut up = self.upload.lock().await;
        self.refuse_if_started()?;
        if !up.created {
            return Err(VeracityError::lake(
                LakeCode::PathNotFound,
                "append before create",
            ));
        }
        if position < up.committed {
            return Err(VeracityError::lake(
                LakeCode::InvalidFlushPosition,
                format!(
                    "append at {position}, inside the {} bytes already flushed (data can only be appended)",
                    up.committed
                ),
            ));
        }
        let mut written = 0;
        let result = self.write_at(position, body, limit, &mut written).await;
        // Whatever was written replaced those bytes: the file is no longer the flushed one,
        // and no range keeps bytes another append overwrote.
        up.flushed = None;
        if written > 0 {
            up.staged.remove(&position);
            up.forget_overlapping(position, position + written);
        }
        result?;
        if written > 0 {
            up.staged.insert(position, written);
        }
        Ok(written)
    }

    /// Write `body` at `position`, counting the bytes written into `written` (also when it
    /// fails part way).
    async fn write_at(
        &self,
        position: u64,
        body: axum::body::Body,
        limit: usize,
        written: &mut u64,
    ) -> Result<()> {
        let io = |e| VeracityError::io("writing an ingest upload file", e);
        let mut f = tokio::fs::OpenOptions::new()
            .write(true)
            .open(&self.file)
            .await
            .map_err(io)?;
        f.seek(std::io::SeekFrom::Start(position))
            .await
            .map_err(io)?;
        let mut stream = body.into_data_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| VeracityError::internal("reading an append body", e))?;
            if *written + chunk.len() as u64 > limit as u64 {
                return Err(VeracityError::lake(
                    LakeCode::RequestBodyTooLarge,
                    format!("append over {limit} bytes"),
                ));
            }
            // Counted first: a write that fails part way may have changed these bytes.
            *written += chunk.len() as u64;
            f.write_all(&chunk).await.map_err(io)?;
        }
        f.flush().await.map_err(io)
    }

    async fn truncate(&self, len: u64) -> std::io::Result<()> {
        let f = tokio::fs::OpenOptions::new()
            .write(true)
            .open(&self.file)
            .await?;
        f.set_len(len).await
    }

    /// `PATCH ?action=flush&position=N`: commit the staged ranges, which must cover the
    /// committed length up to N exactly; ranges staged at or after N are dropped (Azure's
    /// `retainUncommittedData=false`). Returns the file's length.
    pub(crate) async fn flush(&self, position: u64) -> Result<u64> {
        let mut up = self.upload.lock().await;
        self.refuse_if_started()?;
        if !up.created {
            return Err(VeracityError::lake(
                LakeCode::PathNotFound,
                "flush before create",
            ));
        }
        if !up.contiguous_to(position) {
            return Err(VeracityError::lake(
                LakeCode::InvalidFlushPosition,
                format!(
                    "flush at {position}: the appended data is not contiguous from {} to {position} (staged ranges {:?})",
                    up.committed, up.staged
                ),
            ));
        }
        self.truncate(position)
            .await
            .map_err(|e| VeracityError::io("flushing an ingest upload file", e))?;
        up.committed = position;
        up.staged.clear();
        up.flushed = Some(position);
        Ok(position)
    }

    /// Move from `Pending` to `Running`; `false` if the job had already started.
    pub(crate) fn begin(&self) -> bool {
        let mut p = self.progress.lock();
        if p.state != JobState::Pending {
            return false;
        }
        p.state = JobState::Running;
        true
    }

    /// End the job: completed with the dataset, or failed with why.
    pub(crate) fn finish(&self, outcome: std::result::Result<(String, String), Failure>) {
        let mut p = self.progress.lock();
        match outcome {
            Ok(ds) => {
                p.state = JobState::Completed;
                p.dataset = Some(ds);
            }
            Err(Failure::Invalid(issues)) => {
                p.state = JobState::Failed;
                p.validation = issues;
            }
            Err(Failure::Internal { context, source }) => {
                let ticket = crate::ids::new_object_id().to_lowercase();
                tracing::error!(job = %self.id, %ticket, "veracity ingest job failed while {context}: {source}");
                p.state = JobState::Failed;
                p.notebook_error = format!(
                    "internal error while {context}; the server's log has the details under trace id {ticket}"
                );
            }
        }
    }
}

/// Why a job failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The file does not fit the dataset (reported in `validationError`).
    Invalid(Vec<ValidationIssue>),
    /// The server failed: `notebookErrorMessage` names a ticket, the server's log has what
    /// failed, with its source.
    Internal {
        /// What the job was doing.
        context: &'static str,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl Failure {
    /// The server's own failure while doing `context`.
    pub(crate) fn internal(
        context: &'static str,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Failure::Internal {
            context,
            source: source.into(),
        }
    }

    /// A failure with one validation issue.
    pub(crate) fn issue(
        row: Option<u64>,
        column: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        Failure::Invalid(vec![ValidationIssue {
            row,
            column: column.map(str::to_string),
            message: message.into(),
            severity: Some("Error".to_string()),
            extra: serde_json::Map::new(),
        }])
    }
}
