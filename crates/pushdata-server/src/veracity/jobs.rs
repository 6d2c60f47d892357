//! An ingest job: what it was registered for (fixed), and its progress (upload, state,
//! outcome), kept in memory and written to its record on every change (see `records`), so
//! that a restarted server answers for it and finishes it (see `resume`).
//!
//! States: `Pending` (registered; the file is being uploaded) → `Running` (started) →
//! `Completed` or `Failed`. A run stopped by a server shutdown stays `Running` on disk and
//! is run again at the next start.

use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::Mutex;
use pushdata_core::veracity::wire::{
    FileOperation, JobState, JobStatus, SchemaVersion, ValidationIssue,
};
use serde::{Deserialize, Serialize};

use super::ahead::AheadSlot;
use super::records::JobRecord;
use super::upload::Upload;
use crate::store::StoreError;

/// What a job writes to.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
pub(crate) enum Target {
    /// A new dataset, created when the job runs; its id is chosen at registration, so that
    /// a restarted server can tell whether the dataset was created and committed.
    Create {
        /// The new dataset's id.
        dataset_id: String,
        /// Its name.
        name: String,
        /// Its description.
        description: String,
        /// The schema version it is created with.
        version: SchemaVersion,
    },
    /// An existing dataset.
    Update {
        /// The dataset's id.
        dataset_id: String,
    },
}

impl Target {
    /// The id of the dataset written.
    pub(crate) fn dataset_id(&self) -> &str {
        match self {
            Target::Create { dataset_id, .. } | Target::Update { dataset_id } => dataset_id,
        }
    }
}

/// What a job is, fixed at registration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JobSpec {
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
    /// When it was registered (seconds since the Unix epoch).
    pub(crate) registered_at: i64,
}

/// The dataset a completed job wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DatasetRef {
    /// Its id.
    pub(crate) id: String,
    /// Its name.
    pub(crate) name: String,
}

/// What changes as a job goes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Progress {
    /// The upload.
    pub(crate) upload: Upload,
    /// The job's state.
    pub(crate) state: JobState,
    /// Why it failed (row-level problems).
    #[serde(default)]
    pub(crate) validation: Vec<ValidationIssue>,
    /// A failure that is not the file's fault.
    #[serde(default)]
    pub(crate) notebook_error: String,
    /// The dataset, once completed.
    #[serde(default)]
    pub(crate) dataset: Option<DatasetRef>,
    /// The dataset version this job's commit makes: recorded just before the commit's swap,
    /// under the dataset's publish lock, and cleared if the run stops before the swap.
    /// A restarted server finding the job `Running` with the dataset at this version or
    /// later knows the commit happened.
    #[serde(default)]
    pub(crate) commit_version: Option<u64>,
    /// Runs begun, less those a shutdown stopped: a job found `Running` at start has had
    /// this many runs, the last one ended by a crash.
    #[serde(default)]
    pub(crate) attempts: u32,
    /// When the last run began (seconds since the Unix epoch).
    #[serde(default)]
    pub(crate) started_at: Option<i64>,
    /// When the job ended.
    #[serde(default)]
    pub(crate) finished_at: Option<i64>,
    /// The uploaded file was removed (the job ended; its record stays).
    #[serde(default)]
    pub(crate) source_removed: bool,
}

impl Progress {
    fn pending() -> Self {
        Progress {
            upload: Upload::default(),
            state: JobState::Pending,
            validation: Vec::new(),
            notebook_error: String::new(),
            dataset: None,
            commit_version: None,
            attempts: 0,
            started_at: None,
            finished_at: None,
            source_removed: false,
        }
    }
}

/// One ingest job.
#[derive(Debug)]
pub(crate) struct Job {
    /// What it is.
    pub(crate) spec: JobSpec,
    /// The uploaded file.
    pub(crate) file: PathBuf,
    /// Its record.
    record: PathBuf,
    /// Held for the whole of each Data Lake call, and by a run reading the upload's state.
    pub(crate) lake: tokio::sync::Mutex<()>,
    progress: Mutex<Progress>,
    /// Serializes record writes; each writes the progress current when it starts.
    save_lock: Mutex<()>,
    /// The file parsed as it is appended (memory only; see `ahead`).
    pub(crate) ahead: Mutex<AheadSlot>,
    /// Set once the job ended (its end recorded).
    ended: tokio::sync::watch::Sender<bool>,
}

/// How a run ended.
pub(crate) type Outcome = Result<DatasetRef, Failure>;

impl Job {
    /// A new `Pending` job, its upload at `file` and its record at `record`.
    pub(crate) fn new(spec: JobSpec, file: PathBuf, record: PathBuf) -> Self {
        Self::with_progress(spec, Progress::pending(), file, record)
    }

    /// A job as its record left it.
    pub(crate) fn with_progress(
        spec: JobSpec,
        progress: Progress,
        file: PathBuf,
        record: PathBuf,
    ) -> Self {
        let ended = tokio::sync::watch::Sender::new(progress.state.is_terminal());
        Job {
            spec,
            file,
            record,
            lake: tokio::sync::Mutex::new(()),
            progress: Mutex::new(progress),
            save_lock: Mutex::new(()),
            ahead: Mutex::new(AheadSlot::default()),
            ended,
        }
    }

    /// Wait until the job has ended (its end recorded), for `limit` at most.
    pub(crate) async fn wait_end(&self, limit: std::time::Duration) {
        let mut ended = self.ended.subscribe();
        let _ = tokio::time::timeout(limit, ended.wait_for(|e| *e)).await;
    }

    /// The job's status body.
    pub(crate) fn status(&self) -> JobStatus {
        let p = self.progress.lock();
        JobStatus {
            job_id: self.spec.id.clone(),
            status: p.state.clone(),
            operations: vec![self.spec.operation.clone()],
            notebook_error_message: p.notebook_error.clone(),
            data_set_name: p.dataset.as_ref().map(|d| d.name.clone()),
            dataset_id: p.dataset.as_ref().map(|d| d.id.clone()),
            validation_error: p.validation.clone(),
        }
    }

    /// A copy of the progress.
    pub(crate) fn progress(&self) -> Progress {
        self.progress.lock().clone()
    }

    /// Change the progress in memory (the caller saves it).
    pub(crate) fn update<T>(&self, f: impl FnOnce(&mut Progress) -> T) -> T {
        f(&mut self.progress.lock())
    }

    /// Whether the job was started (its file can no longer change).
    pub(crate) fn started(&self) -> bool {
        self.progress.lock().state != JobState::Pending
    }

    /// Write the record (blocking: temp file, fsync, rename).
    pub(crate) fn save_blocking(&self) -> Result<(), StoreError> {
        let _order = self.save_lock.lock();
        let record = JobRecord {
            job: self.spec.clone(),
            progress: self.progress(),
        };
        crate::store::write_json_atomic(&self.record, &record)
    }

    /// Write the record on a blocking thread.
    pub(crate) async fn save(self: &Arc<Self>) -> Result<(), StoreError> {
        let job = self.clone();
        match tokio::task::spawn_blocking(move || job.save_blocking()).await {
            Ok(r) => r,
            Err(e) => Err(StoreError::io(
                "writing the record of job",
                &self.record,
                std::io::Error::other(e),
            )),
        }
    }

    /// Move from `Pending` to `Running`; `false` if the job had already started.
    pub(crate) fn begin(&self) -> bool {
        let mut p = self.progress.lock();
        if p.state != JobState::Pending {
            return false;
        }
        p.state = JobState::Running;
        p.attempts += 1;
        p.started_at = Some(super::time::now_secs());
        true
    }

    /// Begin another run of a job a stopped server left `Running`.
    pub(crate) fn rerun(&self) {
        let mut p = self.progress.lock();
        p.attempts += 1;
        p.started_at = Some(super::time::now_secs());
    }

    /// Record, durably, the dataset version this job's commit is about to make.
    pub(crate) fn mark_commit(&self, version: u64) -> Result<(), StoreError> {
        self.update(|p| p.commit_version = Some(version));
        self.save_blocking()
    }

    /// Record how a run ended: completed with the dataset, or failed with why (the job then
    /// ends and its uploaded file is removed); or stopped by a shutdown (the job stays
    /// `Running`, to be run again at the next start). Blocking.
    pub(crate) fn finish_blocking(&self, outcome: Outcome) {
        let ended = self.update(|p| apply(p, &self.spec.id, outcome));
        if let Err(e) = self.save_blocking() {
            tracing::error!(job = %self.spec.id, "the record of an ingest job could not be written; after a restart its status may be out of date: {e}");
            return;
        }
        if ended {
            tracing::info!(job = %self.spec.id, state = ?self.progress().state, "ingest job ended");
            self.ended.send_replace(true);
            // Retried at the next start if it fails (see `records`).
            super::records::remove_if_present(&self.file);
        }
    }

    /// [`Job::finish_blocking`] on a blocking thread.
    pub(crate) async fn finish(self: &Arc<Self>, outcome: Outcome) {
        let job = self.clone();
        if let Err(e) = tokio::task::spawn_blocking(move || job.finish_blocking(outcome)).await {
            tracing::error!(job = %self.spec.id, "recording the end of an ingest job: {e}");
        }
    }
}

/// Apply a run's outcome to `p`; whether the job ended.
fn apply(p: &mut Progress, job: &str, outcome: Outcome) -> bool {
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
            tracing::error!(%job, %ticket, "veracity ingest job failed while {context}: {source}");
            p.state = JobState::Failed;
            p.notebook_error = format!(
                "internal error while {context}; the server's log has the details under trace id {ticket}"
            );
        }
        Err(Failure::Abandoned(message)) => {
            p.state = JobState::Failed;
            p.notebook_error = message;
        }
        Err(Failure::Stopped) => {
            p.commit_version = None;
            p.attempts = p.attempts.saturating_sub(1);
            return false;
        }
    }
    p.finished_at = Some(super::time::now_secs());
    p.source_removed = true;
    true
}

/// Why a run did not complete.
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
    /// The server gave up on the job (`notebookErrorMessage` says why): it is not run
    /// again, and its operation was not applied.
    Abandoned(String),
    /// The server is stopping: the run ended before its commit, the job stays `Running`.
    Stopped,
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
