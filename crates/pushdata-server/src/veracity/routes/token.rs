//! `POST /{tenant}/oauth2/token`: Azure AD v1 client credentials (form body).

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use pushdata_core::veracity::wire::TokenResponse;

use super::Shared;
use crate::veracity::error::{Result, VeracityError};
use crate::veracity::time::now_secs;

/// Issue a bearer token for the configured service account.
pub(crate) async fn token(
    axum::extract::State(s): axum::extract::State<Shared>,
    body: Bytes,
) -> Result<Json<TokenResponse>> {
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
