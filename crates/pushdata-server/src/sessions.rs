//! Upload sessions of the multi-request workflow: per-table policy and layout, the staged
//! chunk files by index, and the publish state.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
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
    pub layout: ChunkLayout,
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
    /// The Arrow IPC file.
    pub path: PathBuf,
    /// Rows in it.
    pub rows: usize,
}

/// Mutable state of a session.
#[derive(Debug)]
pub struct SessionState {
    /// The phase.
    pub phase: Phase,
    /// Per table (same order as [`UploadSession::tables`]): chunk index -> staged file.
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
