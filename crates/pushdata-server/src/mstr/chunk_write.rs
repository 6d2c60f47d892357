//! Staged chunk files written after the chunk's acknowledgement: the write job an upload
//! runs in the background, and the handle a publish waits on.
//!
//! A chunk's Parquet file (compression, fsync) is the largest part of its upload after the
//! decode; writing it after answering the PUT lets the client send, and the server decode,
//! the next chunk meanwhile. Staged chunks were never durable (sessions do not survive a
//! restart), so nothing is promised earlier than before: a publish waits for every write
//! of its session and fails, before touching the dataset, naming the table and chunk when
//! one failed.

use std::sync::Arc;

use tokio::sync::watch;

use super::error::{ApiError, Result};
use crate::store::{FileWrite, StagedData, Staging, StoreError};

/// What a chunk's write ended with.
type Outcome = std::result::Result<StagedData, Arc<StoreError>>;

/// A chunk whose staged file is being written; cloned into the publish that waits for it.
#[derive(Debug, Clone)]
pub(crate) struct PendingChunk(watch::Receiver<Option<Outcome>>);

/// The write of one chunk's staged file, to run on a blocking thread.
#[derive(Debug)]
pub(crate) struct ChunkWrite {
    write: FileWrite,
    staging: Arc<Staging>,
    done: watch::Sender<Option<Outcome>>,
}

/// The write job of `write` and the handle its outcome is waited on with.
pub(crate) fn pending(write: FileWrite, staging: Arc<Staging>) -> (ChunkWrite, PendingChunk) {
    let (done, outcome) = watch::channel(None);
    (
        ChunkWrite {
            write,
            staging,
            done,
        },
        PendingChunk(outcome),
    )
}

impl ChunkWrite {
    /// Write the file and hand the outcome to whoever waits for it. When nobody does any
    /// more (the chunk was replaced or its session ended), the file is removed at once.
    /// `written` is called (or dropped) once the chunk's rows are freed, before the fsync.
    pub(crate) fn run(self, written: impl FnOnce()) {
        let started = std::time::Instant::now();
        let outcome = self.write.write(&self.staging, written).map_err(Arc::new);
        tracing::debug!(
            write_ms = started.elapsed().as_millis() as u64,
            ok = outcome.is_ok(),
            "staged chunk file written"
        );
        // A send error gives the outcome back; dropping it removes the file.
        let _ = self.done.send(Some(outcome));
    }
}

impl PendingChunk {
    /// Wait for the write of chunk `index` of `table`: its staged data, or the error
    /// naming the chunk.
    pub(crate) async fn wait(mut self, table: &str, index: u64) -> Result<StagedData> {
        let outcome = self
            .0
            .wait_for(Option::is_some)
            .await
            .map_err(|e| {
                ApiError::internal(format!("writing chunk {index} of table {table:?}"), e)
            })?
            .clone();
        match outcome {
            Some(Ok(data)) => Ok(data),
            Some(Err(source)) => Err(ApiError::Staging {
                table: table.to_string(),
                index,
                source,
            }),
            None => Err(ApiError::internal(
                format!("writing chunk {index} of table {table:?}"),
                "the write ended without an outcome",
            )),
        }
    }
}
