//! `POST /{tenant}/oauth2/token`: Azure AD v1 client credentials (form body).

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use pushdata_core::veracity::wire::TokenResponse;

use super::Shared;
use crate::veracity::error::{Result, VeracityError};
use crate::veracity::time::now_secs;

/// Issue a bearer token for the configured service account.
#[utoipa::path(
    post,
    path = "/{fs}/oauth2/token",
    tag = "veracity token",
    params(("fs" = String, Path, description = "tenant")),
    request_body(content = crate::openapi::TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "success", body = serde_json::Value), crate::openapi::VeracityErrors)
)]
pub(crate) async fn token(
    axum::extract::State(s): axum::extract::State<Shared>,
    body: std::result::Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<TokenResponse>> {
    let body = body.map_err(|r| VeracityError::TokenRequest {
        error: "invalid_request",
        reason: format!("could not read the request body: {}", r.body_text()),
    })?;
    let form: HashMap<String, String> =
        serde_urlencoded::from_bytes(&body).map_err(|e| VeracityError::TokenRequest {
            error: "invalid_request",
            reason: format!("the body is not a form: {e}"),
        })?;
    let token = s.auth.grant(&form)?;
    let now = u64::try_from(now_secs()).unwrap_or(0);
    let life = s.auth.lifetime().as_secs().max(1);
    Ok(Json(TokenResponse {
        token_type: Some("Bearer".to_string()),
        access_token: token.into(),
        expires_in: Some(life),
        ext_expires_in: Some(life),
        expires_on: Some(now + life),
        not_before: Some(now),
        resource: form.get("resource").cloned(),
    }))
}
