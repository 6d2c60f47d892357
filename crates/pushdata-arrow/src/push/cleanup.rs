//! What a push leaves on the server when it fails, is stopped or is dropped: the upload
//! session is cancelled and a dataset the push created is deleted unless the publish may
//! have happened. All of it best effort: a failure is logged, never returned.

use std::sync::{Arc, Mutex, PoisonError};

use pushdata_core::Client;

use super::{ProgressEvent, ProgressSink};

/// How far a push got on the server.
#[derive(Debug, Clone, Default)]
pub(super) struct Stage {
    /// The dataset pushed to, once known.
    pub(super) dataset_id: Option<String>,
    /// A dataset this push created and has not deleted.
    pub(super) created: Option<String>,
    /// The upload session, while it is open.
    pub(super) session_id: Option<String>,
    /// Whether the publish (or the single request that publishes) was sent.
    pub(super) publish_requested: bool,
}

/// The [`Stage`] of a running push, shared by the push, its error handling and its drop
/// guard.
#[derive(Debug, Clone, Default)]
pub(super) struct Tracker(Arc<Mutex<Stage>>);

impl Tracker {
    fn with<T>(&self, f: impl FnOnce(&mut Stage) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// What the push did so far.
    pub(super) fn stage(&self) -> Stage {
        self.with(|s| s.clone())
    }

    /// The push writes into `dataset_id` (given, or just created when `created`).
    pub(super) fn dataset(&self, dataset_id: &str, created: bool) {
        self.with(|s| {
            s.dataset_id = Some(dataset_id.to_string());
            if created {
                s.created = Some(dataset_id.to_string());
            }
        });
    }

    /// The upload session `session_id` is open.
    pub(super) fn session_opened(&self, session_id: &str) {
        self.with(|s| s.session_id = Some(session_id.to_string()));
    }

    /// The publish is about to be sent.
    pub(super) fn publish_requested(&self) {
        self.with(|s| s.publish_requested = true);
    }

    fn session_closed(&self) {
        self.with(|s| s.session_id = None);
    }

    fn dataset_deleted(&self) {
        self.with(|s| s.created = None);
    }
}

/// Cancel the open upload session, and delete the dataset the push created unless
/// `keep_dataset` (the publish may have happened). Failures are logged.
pub(super) async fn undo(
    client: &Client,
    tracker: &Tracker,
    progress: &ProgressSink,
    keep_dataset: bool,
) {
    let stage = tracker.stage();
    if let (Some(dataset_id), Some(session_id)) = (&stage.dataset_id, &stage.session_id) {
        match client.cancel_upload_session(dataset_id, session_id).await {
            Ok(()) => {
                tracker.session_closed();
                tracing::info!(dataset_id, session_id, "upload session cancelled");
                progress(ProgressEvent::Cancelled {
                    dataset_id: dataset_id.clone(),
                    session_id: session_id.clone(),
                });
            }
            Err(e) => {
                tracing::warn!(dataset_id, session_id, error = %e, "cancelling the upload session failed");
            }
        }
    }
    if keep_dataset {
        return;
    }
    if let Some(dataset_id) = &stage.created {
        match client.delete_dataset(dataset_id).await {
            Ok(()) => {
                tracker.dataset_deleted();
                tracing::info!(dataset_id, "the dataset the push created was deleted");
                progress(ProgressEvent::DatasetDeleted {
                    dataset_id: dataset_id.clone(),
                });
            }
            Err(e) => {
                tracing::warn!(dataset_id, error = %e, "deleting the dataset the push created failed");
            }
        }
    }
}

/// Undoes a push that is dropped before it finished (its future dropped at an `await`):
/// spawns [`undo`] on the current runtime. Disarmed once the push handled its own outcome.
pub(super) struct DropGuard {
    client: Client,
    tracker: Tracker,
    progress: ProgressSink,
    armed: bool,
}

impl std::fmt::Debug for DropGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DropGuard")
            .field("stage", &self.tracker.stage())
            .field("armed", &self.armed)
            .finish()
    }
}

impl DropGuard {
    pub(super) fn new(client: Client, tracker: Tracker, progress: ProgressSink) -> Self {
        DropGuard {
            client,
            tracker,
            progress,
            armed: true,
        }
    }

    /// The push finished (successfully or not) and cleaned up itself.
    pub(super) fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let stage = self.tracker.stage();
        if stage.session_id.is_none() && stage.created.is_none() {
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                tracing::info!(
                    dataset_id = ?stage.dataset_id,
                    session_id = ?stage.session_id,
                    "push dropped before it finished; cleaning up in the background"
                );
                let (client, tracker, progress) = (
                    self.client.clone(),
                    self.tracker.clone(),
                    self.progress.clone(),
                );
                // After a publish request the data may be published: keep the dataset.
                runtime.spawn(async move {
                    undo(&client, &tracker, &progress, stage.publish_requested).await;
                });
            }
            Err(_) => tracing::warn!(
                dataset_id = ?stage.dataset_id,
                session_id = ?stage.session_id,
                "push dropped outside a Tokio runtime; its upload session is left open"
            ),
        }
    }
}
