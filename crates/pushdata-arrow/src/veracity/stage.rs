//! How far a Veracity push got on the service, and what that makes of its outcome: a
//! failure or a stop before the job was started applied nothing (the job is left unstarted
//! and named); a stop after it may still apply. Nothing can be undone by a call: the API
//! has no call to delete a schema or to cancel a registered job.

use std::future::Future;
use std::sync::{Mutex, PoisonError};

use futures::future::BoxFuture;

use super::transfer_error::TransferError;

/// What the push did on the service so far.
#[derive(Debug, Clone, Default)]
struct Done {
    /// The schema `create` made.
    schema_id: Option<String>,
    /// The registered job.
    job_id: Option<String>,
    /// Whether the start was requested (the start call, or the flush of an automatically
    /// started job): from then on the job may apply its file.
    start_requested: bool,
    /// The push ended (successfully or with its error).
    concluded: bool,
}

/// The [`Done`] of a running push, shared by the push and its outcome.
#[derive(Debug, Default)]
pub(super) struct Stage(Mutex<Done>);

impl Stage {
    fn with<T>(&self, f: impl FnOnce(&mut Done) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// `create` made schema `id`.
    pub(super) fn schema_created(&self, id: &str) {
        self.with(|d| d.schema_id = Some(id.to_string()));
    }

    /// Job `id` was registered.
    pub(super) fn job_registered(&self, id: &str) {
        self.with(|d| d.job_id = Some(id.to_string()));
    }

    /// The call that starts the job is about to be sent.
    pub(super) fn start_requested(&self) {
        self.with(|d| d.start_requested = true);
    }

    /// The push's result from its work's `outcome` (`None`: it was stopped).
    pub(super) fn conclude<R>(
        &self,
        table: &str,
        outcome: Option<Result<R, TransferError>>,
    ) -> Result<R, TransferError> {
        let done = self.with(|d| {
            d.concluded = true;
            d.clone()
        });
        let table = table.to_string();
        let error = match outcome {
            Some(Ok(report)) => return Ok(report),
            None if done.start_requested => TransferError::StoppedAfterStart {
                table,
                job_id: done.job_id.unwrap_or_default(),
            },
            None => TransferError::Stopped {
                table,
                job_id: done.job_id,
                schema_id: done.schema_id,
            },
            Some(Err(e))
                if !done.start_requested && (done.job_id.is_some() || done.schema_id.is_some()) =>
            {
                TransferError::NothingApplied {
                    table,
                    job_id: done.job_id,
                    schema_id: done.schema_id,
                    source: Box::new(e),
                }
            }
            Some(Err(e)) => e,
        };
        tracing::debug!(error = %error, "veracity push ended");
        Err(error)
    }
}

impl Drop for Stage {
    /// A push dropped before it ended (its future dropped at an `await`) started nothing it
    /// had not started already: say what it left.
    fn drop(&mut self) {
        let done = self.with(|d| d.clone());
        if done.concluded || (done.job_id.is_none() && done.schema_id.is_none()) {
            return;
        }
        if done.start_requested {
            tracing::warn!(job_id = ?done.job_id, "veracity push dropped after its job was started; the job may still complete");
        } else {
            tracing::warn!(job_id = ?done.job_id, schema_id = ?done.schema_id, "veracity push dropped before its job was started; nothing was applied, the job is left unstarted");
        }
    }
}

/// Run `work` until it ends (`Some`) or `stop` completes first (`None`). A ready stop wins
/// over work that could go on.
pub(super) async fn until_stopped<T>(
    work: impl Future<Output = T>,
    stop: Option<BoxFuture<'static, ()>>,
) -> Option<T> {
    match stop {
        Some(stop) => tokio::select! {
            biased;
            () = stop => None,
            result = work => Some(result),
        },
        None => Some(work.await),
    }
}
