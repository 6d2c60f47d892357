//! A job's uploaded file, written by the Data Lake calls: create, append at a position,
//! flush, with Azure Data Lake's semantics: an append is staged at its `position` (Azure's
//! "allows the caller to upload data in parallel and control the order", as the Azure
//! SDKs' parallel uploads do), so appends may arrive in any order, and an append sent again
//! at the same position (a retry after a lost answer) replaces the range staged there; a
//! flush commits the staged ranges, which must then be contiguous from the committed length
//! up to its position (else 400 `InvalidFlushPosition`).
//!
//! Each call holds the job's `lake` lock for its whole length, and is durable before it is
//! answered. An append first records that the staged ranges it will write over are gone,
//! then writes and fsyncs its bytes, then records its own range: a restarted server keeps
//! every acknowledged append, and never commits bytes a torn append changed. Appends are
//! written to the file as they arrive, so memory stays bounded whatever the file's size.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::io::{Seek, Write};

use super::error::{LakeCode, Result, VeracityError};
use super::jobs::Job;

/// The upload's progress, kept in the job's record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Upload {
    /// `PUT ?resource=file` was called.
    pub(crate) created: bool,
    /// The committed (flushed) length; appends go at or after it.
    #[serde(default)]
    pub(crate) committed: u64,
    /// Staged, uncommitted ranges: start -> length. Every byte of a range holds what the
    /// append that staged it sent.
    #[serde(default)]
    pub(crate) staged: BTreeMap<u64, u64>,
    /// The flushed length, once flushed (and nothing appended since).
    pub(crate) flushed: Option<u64>,
}

impl Upload {
    /// A created, empty file.
    fn created() -> Self {
        Upload {
            created: true,
            ..Upload::default()
        }
    }

    /// The length of the file these ranges describe: bytes past it belong to no range.
    pub(crate) fn end(&self) -> u64 {
        self.staged
            .iter()
            .map(|(s, len)| s + len)
            .max()
            .unwrap_or(0)
            .max(self.committed)
    }

    /// Forget the staged ranges that share a byte with `start..end` (a write there changes
    /// them).
    fn forget_overlapping(&mut self, start: u64, end: u64) {
        self.staged.retain(|&s, len| s >= end || s + *len <= start);
    }

    /// The end of the bytes contiguous from the file's start (committed, then staged).
    pub(crate) fn contiguous_end(&self) -> u64 {
        let mut at = self.committed;
        for (&start, &len) in self.staged.range(self.committed..) {
            if start != at {
                break;
            }
            at += len;
        }
        at
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

/// Bytes of an append body written to the file at once.
const WRITE_BATCH_BYTES: usize = 4 << 20;

/// Run `op` (file I/O of an append) on a blocking thread.
async fn blocking<T: Send + 'static>(
    op: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T> {
    let io = |e| VeracityError::io("writing an ingest upload file", e);
    match tokio::task::spawn_blocking(op).await {
        Ok(r) => r.map_err(io),
        Err(e) => Err(io(std::io::Error::other(e))),
    }
}

/// Write `pieces` to `f` in order (on a blocking thread); the file back.
async fn write_all(mut f: std::fs::File, pieces: Vec<bytes::Bytes>) -> Result<std::fs::File> {
    if pieces.is_empty() {
        return Ok(f);
    }
    blocking(move || {
        for piece in &pieces {
            f.write_all(piece)?;
        }
        Ok(f)
    })
    .await
}

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
        self.restart_ahead();
        let before = self.progress().upload;
        self.record_upload(before, Upload::created()).await
    }

    /// `PATCH ?action=append&position=N` with a body of `length` bytes (its
    /// `Content-Length`): stage the body at `position` (at or after the committed length),
    /// replacing what was staged over those bytes. Returns the length staged. `ahead` is
    /// run with the upload's next state while the bytes are fsynced and recorded (see
    /// `ahead`).
    pub(crate) async fn append<F, Fut>(
        self: &Arc<Self>,
        position: u64,
        length: u64,
        body: axum::body::Body,
        ahead: F,
    ) -> Result<u64>
    where
        F: FnOnce(Upload) -> Fut,
        Fut: Future<Output = ()>,
    {
        let _lake = self.lake.lock().await;
        self.refuse_if_started()?;
        let before = self.progress().upload;
        if !before.created {
            return Err(VeracityError::lake(
                LakeCode::PathNotFound,
                "append before create",
            ));
        }
        if position < before.committed {
            return Err(VeracityError::lake(
                LakeCode::InvalidFlushPosition,
                format!(
                    "append at {position}, inside the {} bytes already flushed (data can only be appended)",
                    before.committed
                ),
            ));
        }
        if length == 0 {
            return Ok(0);
        }
        // First, durably: the ranges this append writes over are gone, and the file is no
        // longer the flushed one.
        let mut cleared = before.clone();
        cleared.flushed = None;
        cleared.forget_overlapping(position, position + length);
        if cleared != before {
            self.record_upload(before, cleared.clone()).await?;
        }
        let f = self.write_at(position, length, body).await?;
        let mut next = cleared.clone();
        next.staged.insert(position, length);
        // The bytes fsynced, then the record that holds them written, while the parse
        // ahead reads them (from the page cache): the answer waits for the longer of the
        // two, not for their sum.
        let recorded = async {
            blocking(move || f.sync_data()).await?;
            self.record_upload(cleared, next.clone()).await
        };
        let (recorded, ()) = tokio::join!(recorded, ahead(next.clone()));
        recorded?;
        Ok(length)
    }

    /// Write the body (exactly `length` bytes) at `position`; the file, to fsync. The
    /// body's pieces are written on a blocking thread a few MiB at a time (one thread
    /// hand-off per batch, not per piece the connection gives).
    async fn write_at(
        &self,
        position: u64,
        length: u64,
        body: axum::body::Body,
    ) -> Result<std::fs::File> {
        let path = self.file.clone();
        let mut f = blocking(move || {
            let mut f = std::fs::OpenOptions::new().write(true).open(&path)?;
            f.seek(std::io::SeekFrom::Start(position))?;
            Ok(f)
        })
        .await?;
        let mut stream = body.into_data_stream();
        let (mut n, mut batch, mut batch_len) = (0u64, Vec::new(), 0usize);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| {
                let code = if crate::body_deadline::is_timeout(&e) {
                    LakeCode::RequestTimeout
                } else {
                    LakeCode::InvalidInput
                };
                VeracityError::lake(code, format!("reading an append body: {e}"))
            })?;
            n += chunk.len() as u64;
            if n > length {
                break;
            }
            batch_len += chunk.len();
            batch.push(chunk);
            if batch_len >= WRITE_BATCH_BYTES {
                f = write_all(f, std::mem::take(&mut batch)).await?;
                batch_len = 0;
            }
        }
        f = write_all(f, batch).await?;
        if n != length {
            return Err(VeracityError::lake(
                LakeCode::InvalidQueryParameterValue,
                format!("the append body has {n} bytes, its Content-Length says {length}"),
            ));
        }
        Ok(f)
    }

    async fn truncate(&self, len: u64) -> std::io::Result<()> {
        let f = tokio::fs::OpenOptions::new()
            .write(true)
            .open(&self.file)
            .await?;
        f.set_len(len).await?;
        f.sync_data().await
    }

    /// `PATCH ?action=flush&position=N`: commit the staged ranges, which must cover the
    /// committed length up to N exactly; ranges staged at or after N are dropped (Azure's
    /// `retainUncommittedData=false`). Returns the file's length.
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
        if !before.contiguous_to(position) {
            return Err(VeracityError::lake(
                LakeCode::InvalidFlushPosition,
                format!(
                    "flush at {position}: the appended data is not contiguous from {} to {position} (staged ranges {:?})",
                    before.committed, before.staged
                ),
            ));
        }
        self.flushed_ahead(position);
        self.truncate(position)
            .await
            .map_err(|e| VeracityError::io("flushing an ingest upload file", e))?;
        let next = Upload {
            created: true,
            committed: position,
            staged: BTreeMap::new(),
            flushed: Some(position),
        };
        self.record_upload(before, next).await?;
        Ok(position)
    }
}

#[cfg(test)]
mod tests {
    use super::Upload;

    fn staged(ranges: &[(u64, u64)]) -> Upload {
        Upload {
            created: true,
            staged: ranges.iter().copied().collect(),
            ..Upload::default()
        }
    }

    #[test]
    fn ranges_give_the_end_and_the_contiguous_prefixes() {
        let up = staged(&[(0, 4), (4, 6), (12, 3)]);
        assert_eq!(up.end(), 15);
        assert!(up.contiguous_to(4));
        assert!(up.contiguous_to(10));
        assert!(!up.contiguous_to(12), "10..12 was never appended");
        assert!(!up.contiguous_to(15));
        assert!(!up.contiguous_to(7), "a flush inside a range");
        let committed = Upload {
            committed: 10,
            ..staged(&[(10, 2)])
        };
        assert!(committed.contiguous_to(12));
        assert!(committed.contiguous_to(10));
        assert_eq!(Upload::created().end(), 0);
    }

    #[test]
    fn a_write_forgets_every_range_it_touches_and_no_other() {
        let mut up = staged(&[(0, 4), (4, 6), (10, 2), (12, 3)]);
        up.forget_overlapping(5, 11);
        assert_eq!(up.staged, [(0, 4), (12, 3)].into_iter().collect());
        up.forget_overlapping(4, 12);
        assert_eq!(up.staged.len(), 2, "touching ends do not overlap");
    }
}
