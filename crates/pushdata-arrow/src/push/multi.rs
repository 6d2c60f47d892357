//! The multi-request workflow: model, upload session, chunks, publish.

use std::sync::Arc;

use pushdata_core::wire::{UploadSessionRequest, UploadSessionTable};
use tokio::sync::mpsc;

use super::pipeline::{ProduceConfig, Produced, Uploaded, produce, upload};
use super::{Opened, ProgressEvent, PushReport, Run, TableReport, Target};
use crate::encode::MemoryBudget;
use crate::error::{Error, Result};
use crate::model::Model;
use crate::source::TableReader;

impl Run {
    /// Create the model (new dataset), open the upload session, stream and publish; the
    /// session is cancelled if anything fails after it is opened.
    pub(super) async fn multi_request(self, opened: Opened) -> Result<PushReport> {
        let Opened { model, readers } = opened;
        let dataset_id = self.dataset_id(&model).await?;
        let session_id = self.open_session(&model, &dataset_id).await?;
        let streamed = self.stream(&model, readers, &dataset_id, &session_id).await;
        let published = match streamed {
            Ok(counts) => self
                .publish(&dataset_id, &session_id)
                .await
                .map(|()| counts),
            Err(e) => Err(e),
        };
        let (produced, uploaded) = match published {
            Ok(v) => v,
            Err(e) => {
                self.cancel(&dataset_id, &session_id).await;
                return Err(e);
            }
        };
        let tables: Vec<TableReport> = model
            .tables
            .iter()
            .enumerate()
            .map(|(i, t)| TableReport {
                name: t.name.clone(),
                rows: produced.get(i).map_or(0, |p| p.rows),
                chunks: uploaded.chunks.get(i).copied().unwrap_or(0),
                bytes: uploaded.bytes.get(i).copied().unwrap_or(0),
            })
            .collect();
        Ok(PushReport {
            dataset_id,
            session_id: Some(session_id),
            chunks: tables.iter().map(|t| t.chunks).sum(),
            bytes: tables.iter().map(|t| t.bytes).sum(),
            tables,
            elapsed: self.started.elapsed(),
        })
    }

    /// The dataset to open the session on: the one given, or a new model's.
    async fn dataset_id(&self, model: &Model) -> Result<String> {
        match &self.target {
            Target::Existing { id, .. } => Ok(id.clone()),
            Target::New { .. } => {
                let created = self
                    .client
                    .create_model(&model.to_dataset_model())
                    .await
                    .map_err(Run::api(format!("create model {:?}", model.name)))?;
                (self.progress)(ProgressEvent::DatasetCreated {
                    dataset_id: created.id.clone(),
                });
                Ok(created.id)
            }
        }
    }

    /// One upload session for every table (policy, orientation, column headers).
    async fn open_session(&self, model: &Model, dataset_id: &str) -> Result<String> {
        let request = UploadSessionRequest {
            tables: model
                .tables
                .iter()
                .map(|t| UploadSessionTable {
                    name: t.name.clone(),
                    update_policy: self.settings.policy_of(&t.name),
                    orientation: Some(self.settings.orientation),
                    column_headers: Some(t.columns.iter().map(|c| c.name.clone()).collect()),
                })
                .collect(),
        };
        let session_id = self
            .client
            .create_upload_session(dataset_id, &request)
            .await
            .map_err(Run::api(format!(
                "open upload session on dataset {dataset_id}"
            )))?;
        (self.progress)(ProgressEvent::SessionOpened {
            dataset_id: dataset_id.to_string(),
            session_id: session_id.clone(),
        });
        Ok(session_id)
    }

    /// Encode every table on a blocking thread and upload its chunks, within the memory
    /// budget; checks that every chunk encoded was uploaded.
    async fn stream(
        &self,
        model: &Arc<Model>,
        readers: Vec<TableReader>,
        dataset_id: &str,
        session_id: &str,
    ) -> Result<(Vec<Produced>, Uploaded)> {
        let (tx, rx) = mpsc::channel(1);
        let cfg = ProduceConfig {
            orientation: self.settings.orientation,
            zones: self.settings.zones(),
            chunk_bytes: self.settings.chunk_bytes,
        };
        let budget = MemoryBudget::new(self.settings.buffered_bytes_limit());
        let producer = {
            let model = model.clone();
            let progress = self.progress.clone();
            let budget = budget.clone();
            tokio::task::spawn_blocking(move || {
                produce(&model, readers, cfg, budget, tx, &progress)
            })
        };
        let uploaded = upload(
            &self.client,
            model,
            dataset_id,
            session_id,
            rx,
            self.settings.concurrency,
            &self.progress,
        )
        .await;
        let produced = producer
            .await
            .map_err(|source| Error::Task {
                task: "the encoder thread failed".into(),
                source,
            })
            .and_then(|r| r);
        tracing::debug!(
            peak = budget.peak(),
            limit = budget.limit(),
            "most encoded chunk bytes in memory at once"
        );
        // An upload error is the real one: the producer then only saw the uploader go.
        let uploaded = uploaded?;
        let produced = produced?;
        let encoded: u64 = produced.iter().map(|p| p.chunks).sum();
        let sent: u64 = uploaded.chunks.iter().sum();
        if encoded != sent {
            return Err(Error::Internal(format!(
                "{encoded} chunks were encoded but {sent} uploaded; not publishing"
            )));
        }
        Ok((produced, uploaded))
    }

    /// Publish the session, wait for it, and delete the published session.
    async fn publish(&self, dataset_id: &str, session_id: &str) -> Result<()> {
        self.client
            .publish(dataset_id, session_id)
            .await
            .map_err(Run::api(format!(
                "publish upload session {session_id} of dataset {dataset_id}"
            )))?;
        (self.progress)(ProgressEvent::Publishing {
            dataset_id: dataset_id.to_string(),
        });
        self.client
            .wait_for_publish(dataset_id, session_id, &self.settings.publish_wait)
            .await
            .map_err(Run::api(format!(
                "wait for publish of dataset {dataset_id}"
            )))?;
        tracing::info!(dataset_id, session_id, "published");
        (self.progress)(ProgressEvent::Published {
            dataset_id: dataset_id.to_string(),
        });
        // The docs end the workflow by deleting the session once it is published. The data
        // is already published, so a failure here is logged, not returned.
        if let Err(e) = self
            .client
            .cancel_upload_session(dataset_id, session_id)
            .await
        {
            tracing::warn!(dataset_id, session_id, error = %e, "deleting the published upload session failed");
        }
        Ok(())
    }

    /// Cancel the upload session after an error (a failure to cancel is logged).
    async fn cancel(&self, dataset_id: &str, session_id: &str) {
        match self
            .client
            .cancel_upload_session(dataset_id, session_id)
            .await
        {
            Ok(()) => {
                tracing::info!(dataset_id, session_id, "upload session cancelled");
                (self.progress)(ProgressEvent::Cancelled {
                    dataset_id: dataset_id.to_string(),
                    session_id: session_id.to_string(),
                });
            }
            Err(e) => {
                tracing::warn!(dataset_id, session_id, error = %e, "cancelling the upload session failed");
            }
        }
    }
}
