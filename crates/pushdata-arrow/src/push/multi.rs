//! The multi-request workflow: model, upload session, chunks, publish.

use std::sync::Arc;

use pushdata_core::wire::{PublishStatus, UploadSessionRequest, UploadSessionTable};
use tokio::sync::mpsc;

use super::pipeline::{Pace, ProduceConfig, Produced, Uploaded, produce, upload};
use super::target::Destination;
use super::{Opened, ProgressEvent, PushReport, Run, TableReport};
use crate::encode::{EncodedChunk, MemoryBudget};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::source::TableReader;

impl Run {
    /// Create the model (new dataset), open the upload session, stream, publish and wait
    /// for the publish; the caller cleans up after an error (see `cleanup`) and deletes the
    /// published session.
    pub(super) async fn multi_request(
        &self,
        opened: Opened,
        destination: &Destination,
    ) -> Result<PushReport> {
        let Opened { model, readers } = opened;
        let dataset_id = self.dataset_id(&model, destination).await?;
        let session_id = self.open_session(&model, &dataset_id).await?;
        let (produced, uploaded) = self
            .stream(&model, readers, &dataset_id, &session_id)
            .await?;
        let status = self.publish(&dataset_id, &session_id).await?;
        let tables: Vec<TableReport> = model
            .tables
            .iter()
            .enumerate()
            .map(|(i, t)| TableReport {
                name: t.name.clone(),
                rows: produced.get(i).map_or(0, |p| p.rows),
                chunks: uploaded.chunks.get(i).copied().unwrap_or(0),
                bytes: uploaded.bytes.get(i).copied().unwrap_or(0),
                rows_skipped: status
                    .tables
                    .iter()
                    .find(|p| p.name == t.name)
                    .map(|p| p.rows_skipped),
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

    /// The dataset to open the session on: the existing one, or a new model's (in its
    /// folder, with its description).
    async fn dataset_id(&self, model: &Model, destination: &Destination) -> Result<String> {
        match destination {
            Destination::Existing(d) => Ok(d.id.clone()),
            Destination::Create {
                folder,
                description,
                ..
            } => {
                let mut body = model.to_dataset_model();
                body.folder_id = folder.id().map(str::to_string);
                if description.is_some() {
                    body.description.clone_from(description);
                }
                let created = self
                    .client
                    .create_model(&body)
                    .await
                    .map_err(Run::api(format!("create model {:?}", model.name)))?;
                self.tracker.dataset(&created.id, true);
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
        self.tracker.session_opened(&session_id);
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
        let budget = MemoryBudget::new(self.settings.buffered_bytes_limit());
        let (producer, rx) = self.spawn_producer(model, readers, &budget);
        let uploaded = upload(
            &self.client,
            model,
            dataset_id,
            session_id,
            rx,
            Pace {
                concurrency: self.settings.concurrency,
                keepalive: self.settings.session_keepalive,
            },
            &self.progress,
        )
        .await;
        let produced = join_producer(producer).await;
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

    /// Read and encode every table on a blocking thread within `budget`: the producer and
    /// the chunks it sends (through a channel of one chunk).
    pub(super) fn spawn_producer(
        &self,
        model: &Arc<Model>,
        readers: Vec<TableReader>,
        budget: &Arc<MemoryBudget>,
    ) -> (Producer, mpsc::Receiver<EncodedChunk>) {
        let (tx, rx) = mpsc::channel(1);
        let cfg = ProduceConfig {
            orientation: self.settings.orientation,
            zones: self.settings.zones(),
            chunk_bytes: self.settings.chunk_bytes,
        };
        let model = model.clone();
        let progress = self.progress.clone();
        let budget = budget.clone();
        let producer = tokio::task::spawn_blocking(move || {
            produce(&model, readers, cfg, budget, tx, &progress)
        });
        (producer, rx)
    }

    /// Publish the session and wait for it; returns the final status. A publish request or
    /// status poll whose answer is lost is settled by asking the server the publish status
    /// (see `settle_lost_publish`); a failure after which the server cannot tell either is
    /// [`Error::PublishOutcomeUnknown`]; a publish refused or reported failed (status 3 or
    /// negative) is an [`Error::Api`]: nothing was published.
    async fn publish(&self, dataset_id: &str, session_id: &str) -> Result<PublishStatus> {
        self.tracker.publish_requested();
        let ids = || (Some(dataset_id.to_string()), Some(session_id.to_string()));
        if let Err(e) = self.client.publish(dataset_id, session_id).await {
            if !e.outcome_unknown() {
                let step = format!("publish upload session {session_id} of dataset {dataset_id}");
                return Err(Run::api(step)(e));
            }
            self.settle_lost_publish(dataset_id, session_id, e).await?;
        }
        (self.progress)(ProgressEvent::Publishing {
            dataset_id: dataset_id.to_string(),
        });
        let wait = self
            .client
            .wait_for_publish(dataset_id, session_id, &self.settings.publish_wait)
            .await;
        let status = match wait {
            Ok(status) => status,
            Err(e @ pushdata_core::Error::PublishFailed { .. }) => {
                return Err(Run::api(format!(
                    "wait for publish of dataset {dataset_id}"
                ))(e));
            }
            // The wait failed without the server saying how the publish ended (a lost
            // poll, a timeout): ask once more before giving up.
            Err(e) => match self.client.publish_status(dataset_id, session_id).await {
                Ok(status) if status.status.is_ready() => status,
                _ => {
                    let (dataset_id, session_id) = ids();
                    return Err(Error::PublishOutcomeUnknown {
                        dataset_id,
                        session_id,
                        source: Some(Box::new(e)),
                    });
                }
            },
        };
        tracing::info!(dataset_id, session_id, "published");
        (self.progress)(ProgressEvent::Published {
            dataset_id: dataset_id.to_string(),
        });
        Ok(status)
    }

    /// The publish request got no answer (`lost`): ask the server where the session is.
    /// Running, done or failed: the request arrived, and the wait tells how it ends. Not
    /// started: it never arrived, so it is sent once more (a 409 then means it did start
    /// meanwhile). When the server cannot be asked, or the second request is lost too, the
    /// outcome is unknown.
    async fn settle_lost_publish(
        &self,
        dataset_id: &str,
        session_id: &str,
        lost: pushdata_core::Error,
    ) -> Result<()> {
        let unknown = |source: pushdata_core::Error| Error::PublishOutcomeUnknown {
            dataset_id: Some(dataset_id.to_string()),
            session_id: Some(session_id.to_string()),
            source: Some(Box::new(source)),
        };
        tracing::warn!(dataset_id, session_id, error = %lost, "the publish request got no answer; asking the server the publish status");
        let Ok(status) = self.client.publish_status(dataset_id, session_id).await else {
            return Err(unknown(lost));
        };
        let s = status.status;
        if s.is_ready() || s.is_failed() || s.is_in_progress() {
            return Ok(());
        }
        tracing::info!(
            dataset_id,
            session_id,
            status = s.0,
            "the publish never started; sending it again"
        );
        match self.client.publish(dataset_id, session_id).await {
            Ok(()) => Ok(()),
            Err(e) if e.outcome_unknown() => Err(unknown(e)),
            Err(e) if e.status() == Some(409) => Ok(()),
            Err(e) => Err(Run::api(format!(
                "publish upload session {session_id} of dataset {dataset_id} (sent again: the first request got no answer)"
            ))(e)),
        }
    }
}

/// The encoder thread of a push.
pub(super) type Producer = tokio::task::JoinHandle<Result<Vec<Produced>>>;

/// What the encoder thread produced, or why it stopped.
pub(super) async fn join_producer(producer: Producer) -> Result<Vec<Produced>> {
    producer
        .await
        .map_err(|source| Error::Task {
            task: "the encoder thread failed".into(),
            source,
        })
        .and_then(|r| r)
}
