//! The state every request of the Push Data API shares, and the service's operations that
//! outlive or go beyond one HTTP exchange: upload sessions and their chunks (publishing is
//! in [`publish`](super::publish)).

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::RwLock;
use pushdata_core::wire::{ChunkIndex, UploadSessionRequest};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::Dataset;
use super::auth::{Auth, Session};
use super::chunk_write::{self, ChunkWrite};
use super::cube::Instances;
use super::decode::{ChunkLayout, EarlyRows, Place, ReceivedChunk};
use super::definition::{DatasetDef, check_key_columns, check_policy};
use super::error::{ApiError, Result};
use super::sessions::{Phase, SessionChunk, SessionTable, UploadSession};
use crate::config::ProjectConfig;
use crate::hook::PublishHook;
use crate::ids;
use crate::store::{Catalog, Kept, StagedData, Staging};

/// The Push Data API service: its datasets in the store, tokens, sessions, cube instances
/// and the limits requests run under.
#[derive(Debug)]
pub(crate) struct Service {
    pub(crate) auth: Auth,
    pub(crate) catalog: Catalog<DatasetDef>,
    /// Upload sessions by id (open, publishing or finished).
    pub(crate) sessions: RwLock<HashMap<String, Arc<UploadSession>>>,
    pub(crate) projects: Vec<ProjectConfig>,
    /// Run at fixed points of every publish (tests bring faults and delays through it).
    pub(crate) hook: Arc<dyn PublishHook>,
    /// The body limit (for error messages).
    pub(crate) max_body_bytes: usize,
    /// The most live upload sessions: in all, and per user.
    pub(crate) session_caps: (usize, usize),
    /// How long a request body may send nothing (for error messages).
    pub(crate) body_idle_timeout: std::time::Duration,
    pub(crate) cube_instances: Instances,
    /// Permits for reading and decoding chunk bodies (bounds memory).
    pub(crate) chunk_slots: ChunkSlots,
    /// Staged chunks: memory up to a budget, then files up to a disk quota.
    pub(crate) staging: Arc<Staging>,
    /// Where upload sessions stage chunks that do not fit the memory budget.
    pub(crate) staging_dir: PathBuf,
}

/// The slots for reading and decoding chunk bodies: a few for the whole server (they bound
/// its memory), of which one user holds at most all but one.
#[derive(Debug)]
pub(crate) struct ChunkSlots {
    all: Arc<Semaphore>,
    per_user: usize,
    users: parking_lot::Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// A held chunk slot (the user's and the server's), given back on drop.
#[derive(Debug)]
pub(crate) struct ChunkSlot {
    _user: OwnedSemaphorePermit,
    _all: OwnedSemaphorePermit,
}

impl ChunkSlots {
    /// `n` slots in all (at least 1).
    pub(crate) fn new(n: usize) -> Self {
        let n = n.max(1);
        ChunkSlots {
            all: Arc::new(Semaphore::new(n)),
            per_user: (n - 1).max(1),
            users: parking_lot::Mutex::new(HashMap::new()),
        }
    }

    /// Wait for a slot of `user` and one of the server.
    pub(crate) async fn acquire(&self, user: &str) -> Result<ChunkSlot> {
        let mine = {
            let mut users = self.users.lock();
            users.retain(|_, s| Arc::strong_count(s) > 1 || s.available_permits() < self.per_user);
            users
                .entry(user.to_lowercase())
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_user)))
                .clone()
        };
        let closed = |e| ApiError::internal("chunk slots", e);
        let user = mine.acquire_owned().await.map_err(closed)?;
        let all = self.all.clone().acquire_owned().await.map_err(closed)?;
        Ok(ChunkSlot {
            _user: user,
            _all: all,
        })
    }
}

impl Service {
    /// The project with id `id` (401 when unknown).
    pub(crate) fn project(&self, id: &str) -> Result<&ProjectConfig> {
        self.projects
            .iter()
            .find(|p| p.id.eq_ignore_ascii_case(id))
            .ok_or_else(|| {
                ApiError::Unauthorized(format!(
                    "project {id:?} (X-MSTR-ProjectID) does not exist or is not accessible; known projects: {}",
                    self.projects
                        .iter()
                        .map(|p| format!("{} ({:?})", p.id, p.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
    }

    /// The dataset `id` of `project` owned by `user` (404 otherwise: another user's
    /// datasets, their sessions and cube instances do not exist for them).
    pub(crate) fn dataset(
        &self,
        project: &ProjectConfig,
        user: &Session,
        id: &str,
    ) -> Result<Arc<Dataset>> {
        self.catalog
            .get(id)
            .filter(|d| d.def.project_id.eq_ignore_ascii_case(&project.id))
            .filter(|d| d.def.is_visible_to(&user.user))
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "dataset {id:?} does not exist in project {}",
                    project.id
                ))
            })
    }

    /// Check a session token (and refresh its idle timer).
    pub(crate) fn user(&self, token: Option<&str>) -> Result<Session> {
        self.auth.check(token)
    }

    /// Cancel and drop upload sessions idle for longer than `idle` (a client that died
    /// mid-push), with their staged chunks and files. Runs on a timer.
    pub(crate) fn sweep_sessions(&self, idle: std::time::Duration) {
        let mut map = self.sessions.write();
        map.retain(|id, s| {
            let dead = s.is_abandoned(idle);
            if dead {
                tracing::info!(session = %id, dataset = %s.dataset_id, "dropping abandoned upload session");
                s.cancel();
                s.remove_files();
            }
            !dead
        });
    }

    /// An upload session of `ds`.
    pub(crate) fn session(&self, ds: &Dataset, sid: &str) -> Result<Arc<UploadSession>> {
        let map = self.sessions.read();
        let found = map
            .get(sid)
            .or_else(|| map.get(&sid.to_ascii_uppercase()))
            .filter(|s| s.dataset_id == ds.def.id)
            .cloned();
        if let Some(s) = &found {
            s.touch();
        }
        found.ok_or_else(|| {
            ApiError::not_found(format!(
                "upload session {sid:?} does not exist for dataset {} (unknown, deleted, or the server restarted)",
                ds.def.id
            ))
        })
    }

    /// Open an upload session on `ds` for the tables, policies and layouts of `req`,
    /// within the caps of live sessions (429 past them).
    pub(crate) fn create_session(
        &self,
        ds: &Dataset,
        user: &str,
        req: &UploadSessionRequest,
    ) -> Result<String> {
        let tables = session_tables(ds, req)?;
        let sid = ids::new_object_id();
        let dir = self.staging_dir.join(&sid);
        let session = UploadSession::new(
            sid.clone(),
            ds.def.id.clone(),
            user.to_string(),
            tables,
            dir.clone(),
        );
        {
            let mut map = self.sessions.write();
            self.check_session_caps(&map, user)?;
            std::fs::create_dir_all(&dir)
                .map_err(|e| ApiError::io(format!("creating {}", dir.display()), e))?;
            map.insert(sid.clone(), session);
        }
        tracing::info!(dataset = %ds.def.id, session = %sid, "upload session created");
        Ok(sid)
    }

    /// Delete a dataset with its files, after any publish running on it; its upload
    /// sessions fail (a publish waiting for the lock fails too) and their staging goes.
    pub(crate) async fn delete_dataset(&self, ds: &Dataset) -> Result<()> {
        let _guard = ds.publish_lock.lock().await;
        self.catalog.delete(&ds.def.id)?;
        let sessions: Vec<Arc<UploadSession>> = {
            let mut map = self.sessions.write();
            let ids: Vec<String> = map
                .iter()
                .filter(|(_, s)| s.dataset_id == ds.def.id)
                .map(|(id, _)| id.clone())
                .collect();
            ids.iter().filter_map(|id| map.remove(id)).collect()
        };
        for sess in &sessions {
            sess.cancel();
            if sess.phase() == Phase::Open {
                sess.end_publish(Phase::Failed(format!("dataset {} was deleted", ds.def.id)));
            }
        }
        tracing::info!(dataset = %ds.def.id, sessions = sessions.len(), "dataset deleted");
        Ok(())
    }

    /// 429 when a new session would pass the server's or the user's cap of live sessions.
    fn check_session_caps(
        &self,
        map: &HashMap<String, Arc<UploadSession>>,
        user: &str,
    ) -> Result<()> {
        let live: Vec<&Arc<UploadSession>> = map.values().filter(|s| s.is_live()).collect();
        let (total, per_user) = self.session_caps;
        let mine = live
            .iter()
            .filter(|s| s.owner.eq_ignore_ascii_case(user))
            .count();
        if mine >= per_user {
            return Err(ApiError::TooManyRequests(format!(
                "user {user:?} has {mine} open upload sessions, the most this server allows per user; publish or delete some first"
            )));
        }
        if live.len() >= total {
            return Err(ApiError::TooManyRequests(format!(
                "the server has {} open upload sessions, the most it allows; try again later",
                live.len()
            )));
        }
        Ok(())
    }

    /// End an upload session; a running publish is cancelled if it has not swapped yet.
    pub(crate) fn delete_session(&self, sess: &UploadSession) {
        sess.cancel();
        self.sessions.write().remove(&sess.id);
        if sess.phase() != Phase::Publishing {
            sess.remove_files();
        }
        tracing::info!(session = %sess.id, "upload session deleted");
    }

    /// Decode a received chunk and stage it in `sess` (blocking). Re-sending an index
    /// replaces the chunk. A chunk to be written as a file is staged as being written and
    /// its write returned, for the caller to run once the chunk is acknowledged (when
    /// a quota is near, the file is written here, so a full quota fails this chunk).
    pub(crate) fn stage_chunk(
        &self,
        sess: &UploadSession,
        chunk: ReceivedChunk,
    ) -> Result<Option<ChunkWrite>> {
        let index = chunk.index;
        let ti = sess.table_index(&chunk.table_name, index)?;
        let st = &sess.tables[ti];
        let place = Place::chunk(&st.table_name, index);
        let started = std::time::Instant::now();
        let parts = chunk.decode(&st.layout, &place)?;
        let decode_ms = started.elapsed().as_millis();
        let rows: usize = parts.iter().map(arrow_array::RecordBatch::num_rows).sum();
        let kept = StagedData::keep_or_defer(&self.staging, &st.stored, parts, || {
            sess.dir.join(format!(
                "t{ti}-c{}-{}.parquet",
                index.0,
                &ids::new_token()[..12]
            ))
        })?;
        let in_memory = matches!(kept, Kept::Staged(StagedData::Memory(_)));
        let (chunk, write) = match kept {
            Kept::Staged(data) => (SessionChunk::Staged(data), None),
            Kept::Later(write) => {
                let (write, pending) = chunk_write::pending(write, self.staging.clone());
                (SessionChunk::Writing(pending), Some(write))
            }
        };
        sess.add_chunk(ti, index, chunk)?;
        tracing::debug!(session = %sess.id, table = %st.table_name, index = index.0, rows, decode_ms, in_memory, "chunk staged");
        Ok(write)
    }
}

/// Rows of chunk `index` of table `name` of `sess` to be decoded while its body arrives,
/// if the chunk is one to decode that way ([`EarlyRows::new`]); `None` too when the
/// session has no such table (the chunk is refused once whole, with that error).
pub(crate) fn early_rows(sess: &UploadSession, name: &str, index: ChunkIndex) -> Option<EarlyRows> {
    let st = &sess.tables[sess.table_index(name, index).ok()?];
    EarlyRows::new(st.layout.clone(), Place::chunk(&st.table_name, index))
}

/// The tables of an upload session request, checked against the dataset.
fn session_tables(ds: &Dataset, req: &UploadSessionRequest) -> Result<Vec<SessionTable>> {
    if req.tables.is_empty() {
        return Err(ApiError::bad_request(
            "the upload session names no tables; give tables[{name, updatePolicy}]",
        ));
    }
    let mut tables = Vec::with_capacity(req.tables.len());
    let mut seen = HashSet::new();
    for t in &req.tables {
        let td = ds.def.table(&t.name).ok_or_else(|| {
            ApiError::bad_request(format!(
                "dataset {} has no table {:?}; its tables are {}",
                ds.def.id,
                t.name,
                ds.def.table_names()
            ))
        })?;
        if !seen.insert(td.id.clone()) {
            return Err(ApiError::bad_request(format!(
                "table {:?} appears twice in the upload session",
                td.name
            )));
        }
        check_policy(t.update_policy, td)?;
        let layout = ChunkLayout::new(
            td.columns.clone(),
            t.column_headers.as_deref(),
            t.orientation.unwrap_or_default(),
            &td.name,
        )?;
        check_key_columns(t.update_policy, td, &layout.missing())?;
        tables.push(SessionTable {
            stored: td.clone(),
            table_id: td.id.clone(),
            table_name: td.name.clone(),
            policy: t.update_policy,
            layout: Arc::new(layout),
        });
    }
    Ok(tables)
}
