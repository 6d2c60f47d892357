//! Who is calling, in which project, on which dataset: axum extractors that check the
//! `X-MSTR-AuthToken` and `X-MSTR-ProjectID` headers and the `{id}` path segment before a
//! handler runs (and before any body is read).

use std::sync::Arc;

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use pushdata_core::wire::{AUTH_TOKEN_HEADER, PROJECT_ID_HEADER};

use super::Shared;
use crate::config::ProjectConfig;
use crate::mstr::Dataset;
use crate::mstr::auth::Session;
use crate::mstr::error::ApiError;

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// The caller's session, from a valid auth token (401 otherwise).
#[derive(Debug)]
pub(crate) struct Caller(pub(crate) Session);

impl FromRequestParts<Shared> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &Shared) -> Result<Self, ApiError> {
        s.user(header(&parts.headers, AUTH_TOKEN_HEADER))
            .map(Caller)
    }
}

/// An authenticated caller and the project of the `X-MSTR-ProjectID` header (400 when
/// missing, 401 when unknown).
#[derive(Debug)]
pub(crate) struct InProject {
    pub(crate) user: Session,
    pub(crate) project: ProjectConfig,
}

impl FromRequestParts<Shared> for InProject {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &Shared) -> Result<Self, ApiError> {
        let Caller(user) = Caller::from_request_parts(parts, s).await?;
        let id = header(&parts.headers, PROJECT_ID_HEADER).ok_or_else(|| {
            ApiError::bad_request(
                "missing X-MSTR-ProjectID header: dataset calls need the project id (see GET /api/projects)",
            )
        })?;
        let project = s.project(id)?.clone();
        Ok(InProject { user, project })
    }
}

/// The authenticated caller and the dataset of the `{id}` path segment, in their project
/// and theirs (404 when it is not there, or another user's).
#[derive(Debug)]
pub(crate) struct InDataset {
    pub(crate) user: Session,
    pub(crate) ds: Arc<Dataset>,
}

impl FromRequestParts<Shared> for InDataset {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &Shared) -> Result<Self, ApiError> {
        let InProject { user, project } = InProject::from_request_parts(parts, s).await?;
        let params = RawPathParams::from_request_parts(parts, s)
            .await
            .map_err(|e| ApiError::bad_request(format!("invalid path: {e}")))?;
        let id = params
            .iter()
            .find(|(k, _)| *k == "id")
            .map(|(_, v)| v.to_string())
            .ok_or_else(|| ApiError::not_found("no dataset id in the path"))?;
        let ds = s.dataset(&project, &user, &id)?;
        Ok(InDataset { user, ds })
    }
}
