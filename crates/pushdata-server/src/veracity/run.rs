//! Running a started job in the background: parse its upload against the dataset, then,
//! under the dataset's publish lock, record the version its commit makes, commit with the
//! operation's merge policy, and record the outcome before the lock is released; so that a
//! restarted server can tell whether the commit happened (see `resume`).
//!
//! Stopping: [`Runs::stop`] asks every run to stop (between parsed batches, and before a
//! commit's swap) and waits for them. A stopped run leaves its job `Running`, the dataset
//! unchanged, and its upload in place for the next start.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use parking_lot::Mutex;
use pushdata_core::veracity::wire::JobState;
use tokio::task::JoinSet;

use super::Dataset;
use super::ahead::Ahead;
use super::decimals::stored_digits;
use super::definition::{TABLE_ID, VDataset};
use super::jobs::{DatasetRef, Failure, Job, Outcome, Target};
use super::process::{CsvParse, policy, store_failure, table_id};
use super::service::VService;
use crate::store::{CommitControl, StagedData, TableUpload, UploadSource};

/// A parse ahead handed to a job's parse: the parse, the flushed length of the file, and
/// an update's dataset.
type AheadParse = (Box<Ahead>, u64, Option<Arc<Dataset>>);

/// The runs in progress, and whether the server is stopping.
#[derive(Debug, Default)]
pub(crate) struct Runs {
    stopping: Arc<AtomicBool>,
    tasks: Mutex<JoinSet<()>>,
}

impl Runs {
    fn spawn(&self, run: impl Future<Output = ()> + Send + 'static) {
        let mut tasks = self.tasks.lock();
        while tasks.try_join_next().is_some() {}
        tasks.spawn(run);
    }

    /// Ask every run to stop at its next check (and new ones to stop at once).
    pub(crate) fn request_stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    /// Ask every run to stop, and wait until they have.
    pub(crate) async fn stop(&self) {
        self.request_stop();
        let mut tasks = std::mem::take(&mut *self.tasks.lock());
        while tasks.join_next().await.is_some() {}
    }

    pub(crate) fn stopping(&self) -> Arc<AtomicBool> {
        self.stopping.clone()
    }
}

impl VService {
    /// Record that `job` (now `Running` in memory) runs, then run it in the background. A
    /// job whose record cannot be written fails (internal error) instead.
    pub(crate) async fn launch(self: &Arc<Self>, job: Arc<Job>) {
        if let Err(e) = job.save().await {
            job.finish(Err(Failure::internal("recording the job's start", e)))
                .await;
            return;
        }
        tracing::info!(job = %job.spec.id, dataset = %job.spec.target.dataset_id(), "ingest job running");
        let service = self.clone();
        self.runs.spawn(async move {
            if let Err(failure) = service.process(&job).await {
                job.finish(Err(failure)).await;
            }
        });
    }

    /// Run again every job a stopped server left `Running` (see `resume`).
    pub(crate) async fn resume_runs(self: &Arc<Self>) {
        let jobs: Vec<Arc<Job>> = self
            .jobs
            .read()
            .values()
            .filter(|j| j.progress().state == JobState::Running)
            .cloned()
            .collect();
        for job in jobs {
            job.rerun();
            self.launch(job).await;
        }
    }

    /// Parse and commit. A failure before the commit is returned; the commit step records
    /// its own outcome.
    async fn process(&self, job: &Arc<Job>) -> Result<(), Failure> {
        if self.runs.stopping().load(Ordering::SeqCst) {
            return Err(Failure::Stopped);
        }
        let (flushed, ahead) = {
            let _lake = job.lake.lock().await;
            (job.progress().upload.flushed, job.take_ahead())
        };
        let Some(flushed) = flushed else {
            return Err(Failure::issue(
                None,
                None,
                format!(
                    "the file {:?} was not uploaded (created, appended and flushed)",
                    job.spec.file_name
                ),
            ));
        };
        let ahead = ahead.map(|a| (a, flushed));
        match &job.spec.target {
            Target::Update { dataset_id } => {
                let ds = self.catalog.get(dataset_id).ok_or_else(|| {
                    Failure::issue(None, None, format!("dataset {dataset_id} not found"))
                })?;
                self.commit(job, &ds, Err(ahead)).await
            }
            Target::Create {
                dataset_id,
                name,
                description,
                version,
            } => {
                let ws = &job.spec.workspace;
                let def = VDataset::new(
                    dataset_id.clone(),
                    ws,
                    name.clone(),
                    description.clone(),
                    version,
                );
                let ahead = ahead.map(|(a, flushed)| (a, flushed, None));
                let batches = self.parse(job, def.clone(), None, ahead).await?;
                let ds = self.catalog.create(def).map_err(store_failure)?;
                self.commit(job, &ds, Ok(batches)).await
            }
        }
    }

    /// Parse the job's file against `def` on a blocking thread. `stored`: the dataset whose
    /// rows the upload is merged with (its decimal columns' digits count). `ahead`: the
    /// file parsed as it was uploaded; it is the parse if it covers the whole file for
    /// `def` (see `ahead`), else the file is parsed here.
    async fn parse(
        &self,
        job: &Arc<Job>,
        def: VDataset,
        stored: Option<Arc<Dataset>>,
        ahead: Option<AheadParse>,
    ) -> Result<Vec<StagedData>, Failure> {
        let path = job.file.clone();
        let op = job.spec.operation.clone();
        let staging = self.staging.clone();
        let spill = self.staging_dir.join(format!("{}-parsed", job.spec.id));
        let stopping = self.runs.stopping();
        let job_id = job.spec.id.clone();
        tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let digits = match &stored {
                Some(ds) => {
                    let snapshot = ds.snapshot();
                    stored_digits(ds.table(TABLE_ID).map(|t| (&snapshot, t)), &def)
                }
                None => stored_digits(None, &def),
            };
            let parse = CsvParse {
                path: &path,
                def: &def,
                op: &op,
                staging: &staging,
                spill: &spill,
                stored_digits: digits,
                stopping: &|| stopping.load(Ordering::SeqCst),
            };
            let early =
                ahead.and_then(|(a, flushed, dataset)| a.finish(&parse, dataset.as_ref(), flushed));
            let ahead_used = early.is_some();
            let parsed = match early {
                Some(staged) => Ok(staged),
                None => parse.run(),
            };
            if parsed.is_ok() {
                let seconds = started.elapsed().as_secs_f64();
                tracing::debug!(job = %job_id, seconds, ahead_used, "ingest file parsed");
            }
            parsed
        })
        .await
        .map_err(|e| Failure::internal("parsing the upload", e))?
    }

    /// Under the dataset's publish lock: parse the file (unless `parsed` holds its rows;
    /// else it may hold the file parsed as it was uploaded), record the version the commit
    /// makes, commit, and record the outcome. A Create's dataset (`parsed` given) is
    /// removed if its commit fails.
    async fn commit(
        &self,
        job: &Arc<Job>,
        ds: &Arc<Dataset>,
        parsed: Result<Vec<StagedData>, Option<(Box<Ahead>, u64)>>,
    ) -> Result<(), Failure> {
        let policy = policy(&job.spec.operation)
            .ok_or_else(|| Failure::issue(None, None, "unknown operation"))?;
        let _guard = ds.publish_lock.lock().await;
        let created = parsed.is_ok();
        let batches = match parsed {
            Ok(b) => b,
            Err(ahead) => {
                let stored = policy.keeps_stored_rows().then(|| ds.clone());
                let ahead = ahead.map(|(a, flushed)| (a, flushed, Some(ds.clone())));
                self.parse(job, ds.def.clone(), stored, ahead).await?
            }
        };
        let (target, job2, hook) = (ds.clone(), job.clone(), self.hook.clone());
        let stopping = self.runs.stopping();
        let outcome: Outcome = tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let version = target.manifest().version + 1;
            job2.mark_commit(version)
                .map_err(|e| Failure::internal("recording the job's commit", e))?;
            let upload = TableUpload {
                table_id: table_id(),
                policy,
                source: UploadSource::Staged(batches),
            };
            let control = CommitControl {
                hook: hook.as_ref(),
                cancelled: &|| stopping.load(Ordering::SeqCst),
            };
            target
                .commit(vec![upload], control)
                .map_err(store_failure)?;
            let seconds = started.elapsed().as_secs_f64();
            tracing::debug!(job = %job2.spec.id, version, seconds, "ingest upload committed");
            Ok(DatasetRef {
                id: target.def.id.clone(),
                name: target.def.name.clone(),
            })
        })
        .await
        .unwrap_or_else(|e| Err(Failure::internal("committing the upload", e)));
        if outcome.is_err()
            && created
            && let Err(e) = self.catalog.delete(&ds.def.id)
        {
            tracing::error!(dataset = %ds.def.id, "removing a dataset whose create failed: {e}");
        }
        job.finish(outcome).await;
        Ok(())
    }
}
