//! The publish lifecycle of the Push Data API: an upload session's publish runs in the
//! background (the status endpoint reports it), a single request publishes at once; both
//! commit through the store under the dataset's publish lock.

use std::sync::Arc;

use super::Dataset;
use super::error::{ApiError, Result};
use super::service::Service;
use super::sessions::{Phase, PublishTable, UploadSession};
use pushdata_core::wire::PublishedTable;

use crate::store::{CommitControl, Committed, TableUpload};

/// Run `f` on a blocking thread.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal("background task", e))?
}

impl Service {
    /// Start publishing `sess` in the background; returns at once (409 unless open).
    pub(crate) fn start_publish(
        self: &Arc<Self>,
        ds: Arc<Dataset>,
        sess: Arc<UploadSession>,
    ) -> Result<()> {
        let uploads = sess.begin_publish()?;
        tracing::info!(dataset = %ds.def.id, session = %sess.id, "publish started");
        let service = self.clone();
        tokio::spawn(async move {
            let outcome = service.run_publish(&ds, &sess, uploads).await;
            let phase = match outcome {
                Ok(c) => {
                    tracing::info!(dataset = %ds.def.id, session = %sess.id, version = c.manifest.version, "published");
                    Phase::Published(published_tables(&ds, &c))
                }
                Err(e) => {
                    let ticket = crate::ids::new_object_id().to_lowercase();
                    tracing::warn!(dataset = %ds.def.id, session = %sess.id, %ticket, "publish failed: {e}");
                    Phase::Failed(format!("publish failed: {}", e.public_message(&ticket)))
                }
            };
            sess.end_publish(phase);
        });
        Ok(())
    }

    async fn run_publish(
        &self,
        ds: &Arc<Dataset>,
        sess: &Arc<UploadSession>,
        tables: Vec<PublishTable>,
    ) -> Result<Committed> {
        // Chunks acknowledged before their files were written: wait for the writes; a
        // failed one fails the publish before the dataset is touched.
        let started = std::time::Instant::now();
        let mut uploads = Vec::with_capacity(tables.len());
        for table in tables {
            uploads.push(table.ready().await?);
        }
        tracing::debug!(session = %sess.id, waited_ms = started.elapsed().as_millis() as u64, "publish: chunk files written");
        let hook = self.hook.clone();
        let id = ds.def.id.clone();
        blocking(move || {
            hook.before_publish(&id);
            Ok(())
        })
        .await?;
        let s = sess.clone();
        self.commit(ds, uploads, move || s.is_cancelled()).await
    }

    /// Commit `uploads` to `ds` now, holding the dataset's publish lock (single-request
    /// workflow, and the end of an upload session's publish).
    pub(crate) async fn commit(
        &self,
        ds: &Arc<Dataset>,
        uploads: Vec<TableUpload>,
        cancelled: impl Fn() -> bool + Send + Sync + 'static,
    ) -> Result<Committed> {
        let _guard = ds.publish_lock.lock().await;
        let ds = ds.clone();
        let hook = self.hook.clone();
        blocking(move || {
            let control = CommitControl {
                hook: hook.as_ref(),
                cancelled: &cancelled,
            };
            Ok(ds.commit(uploads, control)?)
        })
        .await
    }
}

/// Per table, what a publish wrote and skipped (for the publish status).
fn published_tables(ds: &Dataset, c: &Committed) -> Vec<PublishedTable> {
    c.tables
        .iter()
        .map(|(id, merged)| PublishedTable {
            name: ds
                .table(id)
                .map(|t| t.name.clone())
                .unwrap_or_else(|| id.clone()),
            rows: merged.rows,
            rows_skipped: merged.skipped,
        })
        .collect()
}
