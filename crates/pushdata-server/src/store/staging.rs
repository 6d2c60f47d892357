//! Uploaded rows waiting for a commit: decoded batches kept in memory up to a budget shared
//! by the whole server, else written as Arrow IPC files in the staging directory. Staged
//! data is not durable: only a commit makes rows durable.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use super::error::{Result, StoreError};
use super::files;

/// Clear and create the staging directory of a data directory (staged data does not
/// survive a restart).
pub(crate) fn reset_dir(data_dir: &std::path::Path) -> Result<PathBuf> {
    let staging = data_dir.join("staging");
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| StoreError::io("clearing", &staging, e))?;
    }
    std::fs::create_dir_all(&staging).map_err(|e| StoreError::io("creating", &staging, e))?;
    Ok(staging)
}

/// Where a staged chunk's decoded rows are kept until publish.
#[derive(Debug, Clone)]
pub(crate) enum StagedData {
    /// In memory, counted against the server's [`StagingMemory`] until the last clone is
    /// dropped.
    Memory(Arc<MemoryChunk>),
    /// An Arrow IPC file in the session's staging directory.
    File(PathBuf),
}

impl StagedData {
    /// The schema of the staged batches (`None` for an empty chunk kept in memory).
    pub(crate) fn schema(&self) -> Result<Option<SchemaRef>> {
        match self {
            StagedData::File(p) => files::ipc_schema(p).map(Some),
            StagedData::Memory(m) => Ok(m.batches.first().map(|b| b.schema())),
        }
    }

    /// Stage `batches`: in memory when they fit `budget`, else as an Arrow IPC file at
    /// `path`.
    pub(crate) fn keep(
        budget: &StagingMemory,
        batches: Vec<RecordBatch>,
        path: impl FnOnce() -> PathBuf,
    ) -> Result<Self> {
        match budget.try_keep(batches) {
            Ok(kept) => Ok(StagedData::Memory(Arc::new(kept))),
            Err(batches) => {
                let path = path();
                files::write_ipc(&path, &batches)?;
                Ok(StagedData::File(path))
            }
        }
    }

    /// Remove the file (nothing to do for memory: dropping frees it).
    pub(crate) fn discard(&self) {
        if let StagedData::File(p) = self {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Decoded batches of a chunk held in memory, with their charge on the budget.
#[derive(Debug)]
pub(crate) struct MemoryChunk {
    /// The batches, in row order, one schema.
    pub(crate) batches: Vec<RecordBatch>,
    _charge: MemoryCharge,
}

/// The budget of decoded chunks kept in memory, shared by all sessions of a server.
#[derive(Debug)]
pub(crate) struct StagingMemory {
    limit: usize,
    used: Arc<AtomicUsize>,
}

impl StagingMemory {
    /// A budget of `limit` bytes.
    pub(crate) fn new(limit: usize) -> Self {
        StagingMemory {
            limit,
            used: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Bytes in use.
    #[cfg(test)]
    pub(crate) fn used(&self) -> usize {
        self.used.load(Ordering::SeqCst)
    }

    /// Keep `batches` in memory if they fit the budget; else give them back.
    pub(crate) fn try_keep(
        &self,
        batches: Vec<RecordBatch>,
    ) -> std::result::Result<MemoryChunk, Vec<RecordBatch>> {
        let bytes: usize = batches.iter().map(RecordBatch::get_array_memory_size).sum();
        let fits = self
            .used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |u| {
                u.checked_add(bytes).filter(|n| *n <= self.limit)
            })
            .is_ok();
        if !fits {
            return Err(batches);
        }
        Ok(MemoryChunk {
            batches,
            _charge: MemoryCharge {
                bytes,
                used: self.used.clone(),
            },
        })
    }
}

/// Bytes charged on a [`StagingMemory`], given back on drop.
#[derive(Debug)]
struct MemoryCharge {
    bytes: usize,
    used: Arc<AtomicUsize>,
}

impl Drop for MemoryCharge {
    fn drop(&mut self) {
        self.used.fetch_sub(self.bytes, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use arrow_array::Int64Array;

    fn batch(n: i64) -> RecordBatch {
        RecordBatch::try_from_iter([("v", Arc::new(Int64Array::from_iter_values(0..n)) as _)])
            .unwrap()
    }

    #[test]
    fn staging_memory_is_bounded_and_given_back() {
        let one = batch(1000).get_array_memory_size();
        let mem = StagingMemory::new(one * 2);
        let a = mem.try_keep(vec![batch(1000)]).unwrap();
        let b = mem.try_keep(vec![batch(1000)]).unwrap();
        assert_eq!(mem.used(), one * 2);
        // Over budget: the batches come back to be staged as a file.
        let back = mem.try_keep(vec![batch(1000)]).unwrap_err();
        assert_eq!(back[0].num_rows(), 1000);
        let shared = StagedData::Memory(Arc::new(a));
        let clone = shared.clone();
        drop(shared);
        assert_eq!(mem.used(), one * 2, "a clone still holds the rows");
        drop(clone);
        drop(b);
        assert_eq!(mem.used(), 0);
        assert!(StagingMemory::new(0).try_keep(vec![batch(1)]).is_err());
    }
}
