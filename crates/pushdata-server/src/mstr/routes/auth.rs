//! Login, logout, projects, and the session/status endpoints clients probe.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pushdata_core::Secret;
use pushdata_core::wire::{
    AUTH_TOKEN_HEADER, ApiTokenResponse, LoginRequest, Project, ServerStatus, SessionInfo,
};

use super::extract::Caller;
use super::{CONTROL_BODY_BYTES, Shared, body_bytes, parse_json};
use crate::config::ProjectConfig;
use crate::mstr::auth::SESSION_COOKIE;
use crate::mstr::error::{ApiError, Result};

/// The version this server reports (new enough for mstrio-py's feature checks).
const SERVER_VERSION: &str = "11.5.0700";

fn parse_login(headers: &HeaderMap, bytes: &[u8]) -> Result<LoginRequest> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ct.starts_with("application/x-www-form-urlencoded") {
        serde_urlencoded::from_bytes(bytes)
            .map_err(|e| ApiError::bad_request(format!("invalid form body for login: {e}")))
    } else if bytes.iter().all(u8::is_ascii_whitespace) {
        Err(ApiError::bad_request(
            "login needs a body: {\"loginMode\":1,\"username\":...,\"password\":...}",
        ))
    } else {
        serde_json::from_slice(bytes)
            .map_err(|e| ApiError::bad_request(format!("invalid JSON body for login: {e}")))
    }
}

/// `POST /api/auth/login`: JSON or form body; 204 with `X-MSTR-AuthToken` and a cookie.
#[utoipa::path(
    post,
    path = "/api/auth/login",
    tag = "auth",
    request_body(content = crate::openapi::LoginBody, content_type = "application/json"),
    responses((status = 204, description = "success"), crate::openapi::MstrErrors)
)]
pub(crate) async fn login(
    State(s): State<Shared>,
    headers: HeaderMap,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Result<Response> {
    let bytes = body_bytes(body, CONTROL_BODY_BYTES)?;
    let req = parse_login(&headers, &bytes)?;
    let (token, session) = s.auth.login(&req)?;
    tracing::info!(user = %session.user, mode = req.login_mode.0, "login");
    let mut resp = StatusCode::NO_CONTENT.into_response();
    let h = resp.headers_mut();
    h.insert(
        AUTH_TOKEN_HEADER,
        HeaderValue::from_str(&token).map_err(|e| ApiError::internal("token header", e))?,
    );
    h.insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&format!(
            "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax",
            session.cookie
        ))
        .map_err(|e| ApiError::internal("cookie header", e))?,
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store, max-age=0, must-revalidate"),
    );
    Ok(resp)
}

/// `POST /api/auth/apiTokens`: a new API token of the caller, for login mode 4096; 201
/// with `{"apiToken": ...}` (as mstrio-py reads it). A body naming another user
/// (`{"userId": ...}`) is refused: this server has no administrator privilege.
#[utoipa::path(
    post,
    path = "/api/auth/apiTokens",
    tag = "auth",
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 201, description = "success", body = serde_json::Value), crate::openapi::MstrErrors)
)]
pub(crate) async fn create_api_token(
    State(s): State<Shared>,
    Caller(u): Caller,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Result<Response> {
    let bytes = body_bytes(body, CONTROL_BODY_BYTES)?;
    if !bytes.iter().all(u8::is_ascii_whitespace) {
        let request: ApiTokenRequest = parse_json(&bytes, "POST /api/auth/apiTokens")?;
        let own = crate::ids::stable_id(&u.user);
        if let Some(other) = request.user_id.filter(|id| !id.eq_ignore_ascii_case(&own)) {
            return Err(ApiError::Forbidden(format!(
                "user {:?} may create API tokens only for themselves (user id {own}), not for user id {other}",
                u.user
            )));
        }
    }
    let token = s.auth.issue_api_token(&u.user)?;
    tracing::info!(user = %u.user, "API token issued");
    Ok((
        StatusCode::CREATED,
        Json(ApiTokenResponse {
            api_token: Secret::new(token),
        }),
    )
        .into_response())
}

/// The body of `POST /api/auth/apiTokens`.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiTokenRequest {
    /// The user the token is for (default: the caller).
    #[serde(default)]
    user_id: Option<String>,
}

/// `POST /api/auth/logout`: kills the token; 204.
#[utoipa::path(
    post,
    path = "/api/auth/logout",
    tag = "auth",
    responses((status = 204, description = "success"), crate::openapi::MstrErrors)
)]
pub(crate) async fn logout(
    State(s): State<Shared>,
    _caller: Caller,
    headers: HeaderMap,
) -> Result<StatusCode> {
    if let Some(t) = headers.get(AUTH_TOKEN_HEADER).and_then(|v| v.to_str().ok()) {
        s.auth.logout(t.trim());
    }
    Ok(StatusCode::NO_CONTENT)
}

/// A project as `GET /api/projects` and `GET /api/projects/{id}` answer it (every project
/// of this server is active).
fn project_body(p: &ProjectConfig) -> Project {
    Project {
        id: p.id.clone(),
        name: p.name.clone(),
        alias: Some(String::new()),
        description: Some(String::new()),
        status: Some(0),
    }
}

/// The project with id `id` (any case), 404 otherwise: for endpoints that name the project
/// in their path, where an unknown one is an object that does not exist.
pub(super) fn project_by_id<'s>(s: &'s Shared, id: &str) -> Result<&'s ProjectConfig> {
    s.projects
        .iter()
        .find(|p| p.id.eq_ignore_ascii_case(id.trim()))
        .ok_or_else(|| ApiError::not_found(format!("project {id:?} does not exist")))
}

/// The project whose id (any case) or else name is `key`, 404 otherwise.
fn project_by_id_or_name<'s>(s: &'s Shared, key: &str) -> Result<&'s ProjectConfig> {
    project_by_id(s, key).or_else(|e| s.projects.iter().find(|p| p.name == key).ok_or(e))
}

/// `GET /api/projects`.
#[utoipa::path(
    get,
    path = "/api/projects",
    tag = "auth",
    responses((status = 200, description = "success", body = serde_json::Value), crate::openapi::MstrErrors)
)]
pub(crate) async fn projects(
    State(s): State<Shared>,
    _caller: Caller,
) -> Result<Json<Vec<Project>>> {
    Ok(Json(s.projects.iter().map(project_body).collect()))
}

/// `GET /api/projects/{id}`: one project, by id or name (mstrio-py reads a project's
/// status and alias from it, naming the project by its name).
#[utoipa::path(
    get,
    path = "/api/projects/{id}",
    tag = "auth",
    params(("id" = String, Path, description = "project id")),
    responses((status = 200, description = "success", body = serde_json::Value), crate::openapi::MstrErrors)
)]
pub(crate) async fn project(
    State(s): State<Shared>,
    _caller: Caller,
    Path(key): Path<String>,
) -> Result<Json<Project>> {
    Ok(Json(project_body(project_by_id_or_name(&s, &key)?)))
}

/// The initials of a user name: the first letter of each word, upper case (`jane doe` ->
/// `JD`).
fn initials(name: &str) -> String {
    name.split(|c: char| c.is_whitespace() || c == '.' || c == '_' || c == '-')
        .filter_map(|w| w.chars().next())
        .flat_map(char::to_uppercase)
        .collect()
}

fn info_for(s: &Shared, user: &str) -> SessionInfo {
    let id = crate::ids::stable_id(user);
    SessionInfo {
        id: id.clone(),
        full_name: user.to_string(),
        initials: initials(user),
        user_id: id,
        username: user.to_string(),
        user_full_name: user.to_string(),
        timeout: s.auth.idle_timeout().as_secs(),
        working_set: 10,
        max_search: 3,
        locale: 1033,
    }
}

/// `GET /api/sessions`: session information (timeout in seconds, working set, ...).
#[utoipa::path(
    get,
    path = "/api/sessions",
    tag = "auth",
    responses((status = 200, description = "success", body = serde_json::Value), crate::openapi::MstrErrors)
)]
pub(crate) async fn session_info(
    State(s): State<Shared>,
    Caller(u): Caller,
) -> Result<Json<SessionInfo>> {
    Ok(Json(info_for(&s, &u.user)))
}

/// `PUT /api/sessions`: extend the session (checking the token refreshes it); 204.
#[utoipa::path(
    put,
    path = "/api/sessions",
    tag = "auth",
    responses((status = 204, description = "success"), crate::openapi::MstrErrors)
)]
pub(crate) async fn session_extend(_caller: Caller) -> StatusCode {
    StatusCode::NO_CONTENT
}

/// `GET /api/sessions/userInfo`.
#[utoipa::path(
    get,
    path = "/api/sessions/userInfo",
    tag = "auth",
    responses((status = 200, description = "success", body = serde_json::Value), crate::openapi::MstrErrors)
)]
pub(crate) async fn user_info(
    State(s): State<Shared>,
    Caller(u): Caller,
) -> Result<Json<SessionInfo>> {
    Ok(Json(info_for(&s, &u.user)))
}

/// `GET /api/status`: versions (no auth needed).
#[utoipa::path(
    get,
    path = "/api/status",
    tag = "auth",
    responses((status = 200, description = "success", body = serde_json::Value), crate::openapi::MstrErrors)
)]
pub(crate) async fn status() -> Json<ServerStatus> {
    Json(ServerStatus {
        web_version: format!("{SERVER_VERSION}.0000"),
        i_server_version: format!("{SERVER_VERSION}.0000"),
        i_server_running: true,
    })
}
