//! HTTP routes, one module per API area, and the state they share.

pub mod auth;
pub mod compat;
pub mod cubes;
pub mod datasets;
pub mod upload;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::routing::{get, patch, post, put};
use parking_lot::RwLock;
use pushdata_core::wire::{AUTH_TOKEN_HEADER, PROJECT_ID_HEADER};
use serde::de::DeserializeOwned;

use crate::auth::{Auth, Session};
use crate::config::ProjectConfig;
use crate::error::{Result, ServerError};
use crate::sessions::UploadSession;
use crate::storage::{Catalog, Dataset};

/// State shared by all handlers.
#[derive(Debug)]
pub struct AppState {
    /// Tokens.
    pub auth: Auth,
    /// Datasets.
    pub catalog: Catalog,
    /// Open and finished upload sessions.
    pub sessions: RwLock<HashMap<String, Arc<UploadSession>>>,
    /// Projects served.
    pub projects: Vec<ProjectConfig>,
    /// Test hook: fail publishes between staging and the swap.
    pub fail_publish_after_staging: bool,
    /// Test hook: delay before each upload-session publish starts.
    pub publish_delay: std::time::Duration,
    /// The body limit (for error messages).
    pub max_body_bytes: usize,
    /// Live cube instances.
    pub cube_instances: crate::cube::Instances,
    /// Permits for reading and decoding chunk bodies (bounds memory).
    pub chunk_slots: tokio::sync::Semaphore,
    /// The memory budget of chunks staged in memory.
    pub staging_memory: crate::sessions::StagingMemory,
}

/// The shared state handle.
pub type Shared = Arc<AppState>;

impl AppState {
    /// The caller's session, from the `X-MSTR-AuthToken` header.
    pub fn user(&self, headers: &HeaderMap) -> Result<Session> {
        let token = headers
            .get(AUTH_TOKEN_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|t| !t.is_empty());
        self.auth.check(token)
    }

    /// The project named by `X-MSTR-ProjectID` (400 when missing, 401 when unknown).
    pub fn project(&self, headers: &HeaderMap) -> Result<&ProjectConfig> {
        let id = headers
            .get(PROJECT_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ServerError::bad_request(
                    "missing X-MSTR-ProjectID header: dataset calls need the project id (see GET /api/projects)",
                )
            })?;
        self.projects
            .iter()
            .find(|p| p.id.eq_ignore_ascii_case(id))
            .ok_or_else(|| {
                ServerError::Unauthorized(format!(
                    "project {id:?} (X-MSTR-ProjectID) does not exist or is not accessible; known projects: {}",
                    self.projects
                        .iter()
                        .map(|p| format!("{} ({:?})", p.id, p.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
    }

    /// Auth, project, and the dataset `id` in that project (404 otherwise).
    pub fn dataset(&self, headers: &HeaderMap, id: &str) -> Result<(Session, Arc<Dataset>)> {
        let user = self.user(headers)?;
        let project = self.project(headers)?;
        let ds = self
            .catalog
            .get(id)
            .filter(|d| d.def.project_id.eq_ignore_ascii_case(&project.id))
            .ok_or_else(|| {
                ServerError::not_found(format!(
                    "dataset {id:?} does not exist in project {}",
                    project.id
                ))
            })?;
        Ok((user, ds))
    }

    /// Drop upload sessions idle for longer than the token idle timeout (their owner's
    /// token has expired too), with their staged files.
    pub fn sweep_sessions(&self) {
        let idle = self.auth.idle_timeout();
        let mut map = self.sessions.write();
        map.retain(|id, s| {
            let dead = s.is_abandoned(idle);
            if dead {
                tracing::info!(session = %id, "dropping abandoned upload session");
                s.remove_files();
            }
            !dead
        });
    }

    /// An upload session of `ds`.
    pub fn session(&self, ds: &Dataset, sid: &str) -> Result<Arc<UploadSession>> {
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
                ServerError::not_found(format!(
                    "upload session {sid:?} does not exist for dataset {} (unknown, deleted, or the server restarted)",
                    ds.def.id
                ))
            })
    }
}

/// The body, or 413 / 400 with an error body.
pub fn body_bytes(body: std::result::Result<Bytes, BytesRejection>, limit: usize) -> Result<Bytes> {
    body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ServerError::PayloadTooLarge(format!(
                "request body is larger than the server's limit of {limit} bytes; send smaller chunks"
            ))
        } else {
            ServerError::bad_request(format!("could not read the request body: {r}"))
        }
    })
}

/// Parse a JSON body, naming the endpoint in the error.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice(bytes)
        .map_err(|e| ServerError::bad_request(format!("invalid JSON body for {what}: {e}")))
}

/// Run CPU-heavy or blocking work off the async threads.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ServerError::storage("background task", e))?
}

async fn fallback(method: Method, uri: Uri) -> ServerError {
    ServerError::not_found(format!("no endpoint {method} {}", uri.path()))
}

/// All routes under `base` (e.g. `/MicroStrategyLibrary`).
pub fn router(state: Shared, base: &str, max_body_bytes: usize) -> Router {
    let api = Router::new()
        .route("/api/auth/login", post(auth::login))
        .route("/api/auth/logout", post(auth::logout))
        .route("/api/projects", get(auth::projects))
        .route(
            "/api/sessions",
            get(auth::session_info).put(auth::session_extend),
        )
        .route("/api/sessions/userInfo", get(auth::user_info))
        .route("/api/status", get(auth::status))
        .route("/api/datasets", post(datasets::create))
        .route("/api/datasets/models", post(datasets::create_model))
        .route("/api/datasets/{id}", get(datasets::definition))
        .route(
            "/api/datasets/{id}/tables/{table}",
            patch(datasets::update_table),
        )
        .route(
            "/api/datasets/{id}/uploadSessions",
            post(upload::create_session),
        )
        .route(
            "/api/datasets/{id}/uploadSessions/{sid}",
            put(upload::put_chunk).delete(upload::delete_session),
        )
        .route(
            "/api/datasets/{id}/uploadSessions/{sid}/publish",
            post(upload::publish),
        )
        .route(
            "/api/datasets/{id}/uploadSessions/{sid}/publishStatus",
            get(upload::publish_status),
        )
        .route(
            "/api/folders/preDefined/{kind}",
            get(compat::predefined_folder),
        )
        .route(
            "/api/objects/{id}",
            get(compat::get_object).delete(compat::delete_object),
        )
        .route("/api/v2/cubes/{id}", get(compat::cube_definition))
        .route("/api/v2/cubes/{id}/instances", post(cubes::create_instance))
        .route(
            "/api/v2/cubes/{id}/instances/{iid}",
            get(cubes::instance_page),
        )
        .route("/api/cubes/{id}", get(compat::cube_definition))
        .fallback(fallback)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state);
    if base.is_empty() {
        api
    } else {
        Router::new().nest(base, api).fallback(fallback)
    }
}
