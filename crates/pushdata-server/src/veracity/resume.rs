//! What a starting server does with the jobs the previous one left `Running` (it stopped or
//! crashed during their run), before it serves any request.
//!
//! **Choice: such a job is run again from its kept upload, unless its commit happened.**
//! The upload is still there (a job's file is removed only when it ends), processing is a
//! pure function of the file and the dataset, and the commit is atomic: the dataset either
//! has the job's version or it has not. So the server finds out which, and never applies
//! an operation twice:
//!
//! - just before its commit's swap, under the dataset's publish lock, a run records in the
//!   job's record the dataset version it is about to make (`commitVersion`); until its
//!   outcome is recorded (still under the lock) no other commit can touch the dataset;
//! - at start, a `Running` job whose dataset is at that version or later was committed:
//!   it is completed as it would have been;
//! - otherwise the commit did not happen: the job is run again (a Create's dataset left
//!   empty by the interrupted run is removed first), like a client's retry would, except
//!   that the client keeps polling the same job id and never sees a failure.
//!
//! Failing such jobs instead would make every client of a restart redo work the server can
//! finish itself, and for Append it could not tell the client whether its rows landed.
//! The one risk of running again, a job that itself brings the server down, is bounded: a
//! job whose runs ended [`MAX_RUNS`] times with the server gone (a shutdown does not
//! count) is marked `Failed`, with a `notebookErrorMessage` saying so and that its
//! operation was not applied.

use pushdata_core::veracity::wire::JobState;

use super::definition::VDataset;
use super::jobs::{DatasetRef, Failure, Job, Target};
use crate::store::Catalog;

/// Runs a job gets, the ones ended by a crash included, before the server gives up on it.
pub(crate) const MAX_RUNS: u32 = 3;

/// What becomes of a job found `Running` at start.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Resume {
    /// Its commit happened: it completed.
    Committed(DatasetRef),
    /// Its commit did not happen: run it again.
    Rerun,
    /// Its commit did not happen and it is not run again (the message says why).
    Abandon(String),
}

/// Decide what becomes of `job` (found `Running`), given the datasets on disk. A Create's
/// dataset that the interrupted run left without data is removed. Blocking.
pub(crate) fn decide(job: &Job, catalog: &Catalog<VDataset>) -> Resume {
    let p = job.progress();
    let id = job.spec.target.dataset_id();
    let ds = catalog.get(id);
    if let Some(ds) = &ds
        && p.commit_version.is_some_and(|v| ds.manifest().version >= v)
    {
        return Resume::Committed(DatasetRef {
            id: ds.def.id.clone(),
            name: ds.def.name.clone(),
        });
    }
    match (&job.spec.target, ds) {
        (Target::Create { .. }, Some(_)) => {
            if let Err(e) = catalog.delete(id) {
                return Resume::Abandon(format!(
                    "the server stopped while this job ran, and the dataset its run had begun could not be removed ({e}); it is not run again"
                ));
            }
        }
        (Target::Update { .. }, None) => {
            return Resume::Abandon(format!(
                "the server stopped while this job ran, and its dataset {id} no longer exists"
            ));
        }
        _ => {}
    }
    if p.attempts >= MAX_RUNS {
        return Resume::Abandon(format!(
            "the server stopped {} times while this job ran; it is not run again. Its operation was not applied: the dataset is as it was before the job",
            p.attempts
        ));
    }
    Resume::Rerun
}

/// Settle every job found `Running` in `jobs`: record the committed ones as completed and
/// the abandoned ones as failed. Those left `Running` are to be run again. Blocking.
pub(crate) fn settle(jobs: &[std::sync::Arc<Job>], catalog: &Catalog<VDataset>) {
    for job in jobs
        .iter()
        .filter(|j| j.progress().state == JobState::Running)
    {
        match decide(job, catalog) {
            Resume::Committed(ds) => {
                tracing::info!(job = %job.spec.id, dataset = %ds.id, "an ingest job the server stopped during had committed: completed");
                job.finish_blocking(Ok(ds));
            }
            Resume::Abandon(message) => {
                tracing::warn!(job = %job.spec.id, "an ingest job the server stopped during is not run again: {message}");
                job.finish_blocking(Err(Failure::Abandoned(message)));
            }
            Resume::Rerun => {
                tracing::info!(job = %job.spec.id, "an ingest job the server stopped during will run again");
            }
        }
    }
}
