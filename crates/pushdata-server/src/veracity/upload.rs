//! A job's uploaded file, written by the Data Lake calls: create, append at a position,
//! flush. Each call holds the job's `lake` lock for its whole length, and is durable before
//! it is answered: the file's bytes are fsynced, then the job's record notes the new length
//! (so a restarted server keeps every acknowledged append, and drops any torn one).
//!
//! Appends are written to the file as they arrive, so memory stays bounded whatever the
//! file's size.

use std::sync::Arc;

use futures::StreamExt;
use tokio::io::{AsyncSeekExt, AsyncWriteExt};

use super::error::{LakeCode, Result, VeracityError};
use super::jobs::{Job, Upload};

impl Job {
    fn refuse_if_started(&self) -> Result<()> {
        if self.started() {
            return Err(VeracityError::lake(
                LakeCode::OperationNotAllowedOnThePath,
                format!("job {} already started", self.spec.id),
            ));
        }
        Ok(())
    }

    /// Record the upload's new state (`next`), or, if the record cannot be written, leave
    /// it as it was (`before`) and fail the call.
    async fn record_upload(self: &Arc<Self>, before: Upload, next: Upload) -> Result<()> {
        self.update(|p| p.upload = next);
        if let Err(e) = self.save().await {
            self.update(|p| p.upload = before);
            return Err(e.into());
        }
        Ok(())
    }

    /// `PUT ?resource=file`: create (or truncate) the file.
    pub(crate) async fn create_file(self: &Arc<Self>) -> Result<()> {
        let _lake = self.lake.lock().await;
        self.refuse_if_started()?;
        let io = |e| VeracityError::io("creating an ingest upload file", e);
        let f = tokio::fs::File::create(&self.file).await.map_err(io)?;
        f.sync_all().await.map_err(io)?;
        if let Some(dir) = self.file.parent() {
            crate::store::sync_dir(dir)?;
        }
        let before = self.progress().upload;
        let next = Upload {
            created: true,
            ..Upload::default()
        };
        self.record_upload(before, next).await
    }

    /// `PATCH ?action=append&position=N`: write `body` at `position` (which must be the
    /// appended length). Returns the new appended length.
    pub(crate) async fn append(
        self: &Arc<Self>,
        position: u64,
        body: axum::body::Body,
        limit: usize,
    ) -> Result<u64> {
        let _lake = self.lake.lock().await;
        self.refuse_if_started()?;
        let before = self.progress().upload;
        if !before.created {
            return Err(VeracityError::lake(
                LakeCode::PathNotFound,
                "append before create",
            ));
        }
        if position != before.appended {
            return Err(VeracityError::lake(
                LakeCode::InvalidFlushPosition,
                format!("append at {position}, appended length {}", before.appended),
            ));
        }
        let recorded = match self.write_at(position, body, limit).await {
            Ok(n) => {
                let next = Upload {
                    appended: position + n,
                    flushed: None,
                    ..before
                };
                self.record_upload(before, next)
                    .await
                    .map(|()| next.appended)
            }
            Err(e) => Err(e),
        };
        if recorded.is_err() {
            // Drop what a failed append wrote: the file stays as it was.
            let _ = self.truncate(position).await;
        }
        recorded
    }

    /// Write the body at `position` and fsync it; the number of bytes written.
    async fn write_at(&self, position: u64, body: axum::body::Body, limit: usize) -> Result<u64> {
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
        let mut n: u64 = 0;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| VeracityError::internal("reading an append body", e))?;
            n += chunk.len() as u64;
            if n > limit as u64 {
                return Err(VeracityError::lake(
                    LakeCode::RequestBodyTooLarge,
                    format!("append over {limit} bytes"),
                ));
            }
            f.write_all(&chunk).await.map_err(io)?;
        }
        f.flush().await.map_err(io)?;
        f.sync_data().await.map_err(io)?;
        Ok(n)
    }

    async fn truncate(&self, len: u64) -> std::io::Result<()> {
        let f = tokio::fs::OpenOptions::new()
            .write(true)
            .open(&self.file)
            .await?;
        f.set_len(len).await?;
        f.sync_data().await
    }

    /// `PATCH ?action=flush&position=N`: commit the appended bytes (N must be their length).
    /// Returns the file's length.
    pub(crate) async fn flush(self: &Arc<Self>, position: u64) -> Result<u64> {
        let _lake = self.lake.lock().await;
        self.refuse_if_started()?;
        let before = self.progress().upload;
        if !before.created {
            return Err(VeracityError::lake(
                LakeCode::PathNotFound,
                "flush before create",
            ));
        }
        if position != before.appended {
            return Err(VeracityError::lake(
                LakeCode::InvalidFlushPosition,
                format!("flush at {position}, appended length {}", before.appended),
            ));
        }
        self.truncate(position)
            .await
            .map_err(|e| VeracityError::io("flushing an ingest upload file", e))?;
        let next = Upload {
            flushed: Some(position),
            ..before
        };
        self.record_upload(before, next).await?;
        Ok(position)
    }
}
