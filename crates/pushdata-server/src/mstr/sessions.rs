//! Upload sessions of the multi-request workflow: per table its policy and chunk layout,
//! the staged chunks by index, and where the session is in its life.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use pushdata_core::wire::{
    ChunkIndex, PublishState, PublishStatus, PublishedTable, UpdatePolicy, position_by_name,
};

use super::chunk_write::PendingChunk;
use super::definition::merge_policy;
use super::error::{ApiError, Result};
use crate::mstr::decode::ChunkLayout;
use crate::store::{MergePolicy, StagedData, TableDef, TableUpload, UploadSource};

/// One table of an upload session.
#[derive(Debug)]
pub(crate) struct SessionTable {
    /// The table as the store keeps it (staged chunks are written with its stored types).
    pub(crate) stored: TableDef,
    pub(crate) table_id: String,
    pub(crate) table_name: String,
    /// Policy applied at publish.
    pub(crate) policy: UpdatePolicy,
    /// How chunk values map onto the table's columns (shared with the decodes of the
    /// rows of chunks still arriving).
    pub(crate) layout: Arc<ChunkLayout>,
}

/// Where a session is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Accepting chunks.
    Open,
    /// Publish running.
    Publishing,
    /// Published, with what the publish did per table.
    Published(Vec<PublishedTable>),
    /// Publish failed, with the reason.
    Failed(String),
}

/// A chunk of a session: staged, or its file still being written after the chunk was
/// acknowledged.
#[derive(Debug, Clone)]
pub(crate) enum SessionChunk {
    /// In memory or in its file.
    Staged(StagedData),
    /// Its file is being written.
    Writing(PendingChunk),
}

/// A table of a session as its publish takes it: some chunks' files may still be written.
#[derive(Debug)]
pub(crate) struct PublishTable {
    table_id: String,
    table_name: String,
    policy: MergePolicy,
    /// By index, in index order.
    chunks: Vec<(u64, SessionChunk)>,
}

impl PublishTable {
    /// The table's upload once every chunk's file is written; the first failed write's
    /// error (naming the table and chunk) otherwise.
    pub(crate) async fn ready(self) -> Result<TableUpload> {
        let mut staged = Vec::with_capacity(self.chunks.len());
        for (index, chunk) in self.chunks {
            staged.push(match chunk {
                SessionChunk::Staged(data) => data,
                SessionChunk::Writing(pending) => pending.wait(&self.table_name, index).await?,
            });
        }
        Ok(TableUpload {
            table_id: self.table_id,
            policy: self.policy,
            source: UploadSource::Staged(staged),
        })
    }
}

#[derive(Debug)]
struct SessionState {
    phase: Phase,
    /// Per table (same order as [`UploadSession::tables`]): chunk index -> staged rows.
    chunks: Vec<BTreeMap<u64, SessionChunk>>,
}

/// An upload session.
#[derive(Debug)]
pub(crate) struct UploadSession {
    pub(crate) id: String,
    pub(crate) dataset_id: String,
    /// The user who opened it.
    pub(crate) owner: String,
    pub(crate) tables: Vec<SessionTable>,
    /// The staging directory of this session.
    pub(crate) dir: PathBuf,
    state: Mutex<SessionState>,
    /// Set by DELETE; a running publish stops before its swap.
    cancelled: AtomicBool,
    touched: Mutex<Instant>,
}

impl UploadSession {
    /// A new open session.
    pub(crate) fn new(
        id: String,
        dataset_id: String,
        owner: String,
        tables: Vec<SessionTable>,
        dir: PathBuf,
    ) -> Arc<Self> {
        let n = tables.len();
        Arc::new(UploadSession {
            id,
            dataset_id,
            owner,
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

    /// The table chunk `index` names, by name (exact, then any case) or id.
    pub(crate) fn table_index(&self, name: &str, index: ChunkIndex) -> Result<usize> {
        position_by_name(&self.tables, name, |t| &t.table_name)
            .or_else(|| {
                self.tables
                    .iter()
                    .position(|t| t.table_id.eq_ignore_ascii_case(name))
            })
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "chunk {index} names table {name:?}, which is not in upload session {}; its tables are {}",
                    self.id,
                    self.tables
                        .iter()
                        .map(|t| format!("{:?}", t.table_name))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
    }

    /// The phase now.
    pub(crate) fn phase(&self) -> Phase {
        self.state.lock().phase.clone()
    }

    /// 409 unless the session still accepts chunks and a publish.
    pub(crate) fn ensure_open(&self) -> Result<()> {
        let st = self.state.lock();
        if st.phase != Phase::Open {
            return Err(self.not_open(&st.phase));
        }
        Ok(())
    }

    fn not_open(&self, phase: &Phase) -> ApiError {
        let what = match phase {
            Phase::Open => "open",
            Phase::Publishing => "being published",
            Phase::Published(_) => "already published",
            Phase::Failed(_) => "finished (its publish failed)",
        };
        ApiError::Conflict(format!(
            "upload session {} is {what}; it accepts no more chunks or publishes (create a new upload session)",
            self.id
        ))
    }

    /// Keep a decoded chunk (replacing one staged at the same index), unless the session
    /// stopped accepting chunks meanwhile: then the chunk is discarded (409).
    pub(crate) fn add_chunk(
        &self,
        table: usize,
        index: ChunkIndex,
        chunk: SessionChunk,
    ) -> Result<()> {
        let mut state = self.state.lock();
        if state.phase != Phase::Open || self.is_cancelled() {
            // Dropping the chunk frees its memory or removes its file.
            return Err(self.not_open(&state.phase));
        }
        state.chunks[table].insert(index.0, chunk);
        drop(state);
        // A chunk whose body took long to arrive still counts as activity.
        self.touch();
        Ok(())
    }

    /// Move to `Publishing` and hand out the staged chunks, per table in index order
    /// (their files may still be written: see [`PublishTable::ready`]).
    pub(crate) fn begin_publish(&self) -> Result<Vec<PublishTable>> {
        let mut st = self.state.lock();
        if st.phase != Phase::Open {
            return Err(self.not_open(&st.phase));
        }
        st.phase = Phase::Publishing;
        Ok(self
            .tables
            .iter()
            .zip(&st.chunks)
            .map(|(t, chunks)| PublishTable {
                table_id: t.table_id.clone(),
                table_name: t.table_name.clone(),
                policy: merge_policy(t.policy),
                chunks: chunks.iter().map(|(i, c)| (*i, c.clone())).collect(),
            })
            .collect())
    }

    /// Record the publish outcome and drop the staged chunks and files.
    pub(crate) fn end_publish(&self, phase: Phase) {
        let mut st = self.state.lock();
        st.phase = phase;
        st.chunks.iter_mut().for_each(BTreeMap::clear);
        drop(st);
        self.remove_files();
    }

    /// Whether the session still takes chunks or is publishing (it counts on the caps).
    pub(crate) fn is_live(&self) -> bool {
        matches!(self.state.lock().phase, Phase::Open | Phase::Publishing)
    }

    /// Record activity (chunk, publish, status poll).
    pub(crate) fn touch(&self) {
        *self.touched.lock() = Instant::now();
    }

    /// Whether the session saw no activity for `idle` and is not publishing: it can be
    /// dropped with its staged files.
    pub(crate) fn is_abandoned(&self, idle: Duration) -> bool {
        self.touched.lock().elapsed() > idle && self.state.lock().phase != Phase::Publishing
    }

    /// Cancel: a running publish stops before its swap; no more chunks are taken.
    pub(crate) fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
    }

    /// Whether DELETE was called.
    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    /// The publish status.
    pub(crate) fn status(&self) -> PublishStatus {
        let (status, message, tables) = match &self.state.lock().phase {
            Phase::Open => (
                PublishState(0),
                "upload session open: waiting for publish".to_string(),
                Vec::new(),
            ),
            Phase::Publishing => (
                PublishState::RUNNING,
                "sql execution".to_string(),
                Vec::new(),
            ),
            Phase::Published(tables) => (
                PublishState::READY,
                "result ready".to_string(),
                tables.clone(),
            ),
            Phase::Failed(m) => (PublishState::FAILED, m.clone(), Vec::new()),
        };
        PublishStatus {
            upload_session_id: self.id.clone(),
            status,
            message,
            tables,
        }
    }

    /// Remove the staging directory.
    pub(crate) fn remove_files(&self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
