//! Upload sessions of the multi-request workflow: per-table policy and layout, the staged
//! chunk files by index, and the publish state.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use arrow_array::RecordBatch;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use pushdata_core::wire::{PublishState, UpdatePolicy};

use crate::decode::ChunkLayout;

/// One table of an upload session.
#[derive(Debug)]
pub struct SessionTable {
    /// Table id.
    pub table_id: String,
    /// Table name.
    pub table_name: String,
    /// Policy applied at publish.
    pub policy: UpdatePolicy,
    /// How chunk values map onto the table's columns.
    pub(crate) layout: ChunkLayout,
}

/// Where a session is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Accepting chunks.
    Open,
    /// Publish running.
    Publishing,
    /// Published.
    Published,
    /// Publish failed, with the reason.
    Failed(String),
}

/// A staged chunk.
#[derive(Debug, Clone)]
pub struct StagedChunk {
    /// Where its decoded rows are.
    pub data: StagedData,
    /// Rows in it.
    pub rows: usize,
}

/// Where a staged chunk's decoded rows are kept until publish.
#[derive(Debug, Clone)]
pub enum StagedData {
    /// In memory, counted against the server's [`StagingMemory`] until the last clone is
    /// dropped.
    Memory(Arc<MemoryChunk>),
    /// An Arrow IPC file in the session's staging directory.
    File(PathBuf),
}

impl StagedData {
    /// Remove the file (nothing to do for memory: dropping frees it).
    pub fn discard(&self) {
        if let StagedData::File(p) = self {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Decoded batches of a chunk held in memory, with their charge on the budget.
#[derive(Debug)]
pub struct MemoryChunk {
    /// The batches, in row order, one schema.
    pub batches: Vec<RecordBatch>,
    _charge: MemoryCharge,
}

/// The budget of decoded chunks kept in memory, shared by all sessions of a server.
#[derive(Debug)]
pub struct StagingMemory {
    limit: usize,
    used: Arc<AtomicUsize>,
}

impl StagingMemory {
    /// A budget of `limit` bytes.
    pub fn new(limit: usize) -> Self {
        StagingMemory {
            limit,
            used: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Bytes in use.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::SeqCst)
    }

    /// Keep `batches` in memory if they fit the budget; else give them back.
    pub fn try_keep(
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

/// Mutable state of a session.
#[derive(Debug)]
pub struct SessionState {
    /// The phase.
    pub phase: Phase,
    /// Per table (same order as [`UploadSession::tables`]): chunk index -> staged rows.
    pub chunks: Vec<BTreeMap<u64, StagedChunk>>,
}

/// An upload session.
#[derive(Debug)]
pub struct UploadSession {
    /// Session id.
    pub id: String,
    /// The dataset.
    pub dataset_id: String,
    /// The tables.
    pub tables: Vec<SessionTable>,
    /// The staging directory of this session.
    pub dir: PathBuf,
    /// State.
    pub state: Mutex<SessionState>,
    /// Set by DELETE; a running publish stops before its swap.
    pub cancelled: AtomicBool,
    touched: Mutex<Instant>,
}

impl UploadSession {
    /// A new open session.
    pub fn new(
        id: String,
        dataset_id: String,
        tables: Vec<SessionTable>,
        dir: PathBuf,
    ) -> Arc<Self> {
        let n = tables.len();
        Arc::new(UploadSession {
            id,
            dataset_id,
            tables,
            dir,
            state: Mutex::new(SessionState {
                phase: Phase::Open,
                chunks: vec![BTreeMap::new(); n],
            }),
            cancelled: AtomicBool::new(false),
            touched: Mutex::new(Instant::now()),
        })
    }

    /// The table of a chunk by name (exact, then any case) or id.
    pub fn table(&self, name: &str) -> Option<usize> {
        self.tables
            .iter()
            .position(|t| t.table_name == name)
            .or_else(|| {
                self.tables.iter().position(|t| {
                    t.table_name.eq_ignore_ascii_case(name) || t.table_id.eq_ignore_ascii_case(name)
                })
            })
    }

    /// Record activity (chunk, publish, status poll).
    pub fn touch(&self) {
        *self.touched.lock() = Instant::now();
    }

    /// Whether the session saw no activity for `idle` and is not publishing: it can be
    /// dropped with its staged files.
    pub fn is_abandoned(&self, idle: Duration) -> bool {
        self.touched.lock().elapsed() > idle && self.state.lock().phase != Phase::Publishing
    }

    /// Whether DELETE was called.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    /// The publish status: (state, message).
    pub fn status(&self) -> (PublishState, String) {
        match &self.state.lock().phase {
            Phase::Open => (
                PublishState(0),
                "upload session open: waiting for publish".to_string(),
            ),
            Phase::Publishing => (PublishState::RUNNING, "sql execution".to_string()),
            Phase::Published => (PublishState::READY, "result ready".to_string()),
            Phase::Failed(m) => (PublishState::FAILED, m.clone()),
        }
    }

    /// Remove the staging directory.
    pub fn remove_files(&self) {
        let _ = std::fs::remove_dir_all(&self.dir);
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
