//! Login, logout and projects.

use serde::{Deserialize, Serialize};

use super::LoginMode;
use crate::secret::Secret;

/// Header that carries the session's auth token, in both directions.
pub const AUTH_TOKEN_HEADER: &str = "X-MSTR-AuthToken";
/// Header that names the project on dataset calls.
pub const PROJECT_ID_HEADER: &str = "X-MSTR-ProjectID";

/// Body of `POST /api/auth/login`.
///
/// The password is a [`Secret`]: it is written to the wire but never to `Debug`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct LoginRequest {
    /// The authentication mode (1 standard, 8 guest, 16 LDAP, 4096 API token).
    #[serde(default)]
    pub login_mode: LoginMode,
    /// User name (absent for guest login).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Password, or the API token for mode 4096.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
}

/// One entry of `GET /api/projects`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    /// Project id (32 hex characters).
    pub id: String,
    /// Project name.
    pub name: String,
    /// Alias, often empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// Free text description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Project status; 0 is active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<i64>,
}
