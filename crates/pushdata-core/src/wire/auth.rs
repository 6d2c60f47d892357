//! Login, logout and projects.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::LoginMode;
use crate::secret::Secret;

/// Header that carries the session's auth token, in both directions.
pub const AUTH_TOKEN_HEADER: &str = "X-MSTR-AuthToken";
/// Header that names the project on dataset calls.
pub const PROJECT_ID_HEADER: &str = "X-MSTR-ProjectID";

/// Body of `POST /api/auth/login`.
///
/// The password is a [`Secret`]: it is written to the wire but never to `Debug`. In mode
/// 4096 (API token) the token travels in `username`, as mstrio-py sends it; `Debug` then
/// hides `username` too.
///
/// ```
/// use pushdata_core::wire::{LoginMode, LoginRequest};
///
/// let r = LoginRequest {
///     login_mode: LoginMode::API_TOKEN,
///     username: Some("tok-0123456789".into()),
///     password: None,
/// };
/// assert!(!format!("{r:?}").contains("tok-0123456789"));
/// assert_eq!(r.api_token(), Some("tok-0123456789"));
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct LoginRequest {
    /// The authentication mode (1 standard, 8 guest, 16 LDAP, 4096 API token).
    #[serde(default)]
    pub login_mode: LoginMode,
    /// User name (absent for guest login), or the API token in mode 4096.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Password (absent for guest and API token logins).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
}

impl LoginRequest {
    /// The API token of a mode 4096 login (the `username` field), else `None`.
    pub fn api_token(&self) -> Option<&str> {
        if self.login_mode == LoginMode::API_TOKEN {
            self.username.as_deref()
        } else {
            None
        }
    }

    /// The user name, unless the `username` field holds an API token (mode 4096).
    pub fn user_name(&self) -> Option<&str> {
        if self.login_mode == LoginMode::API_TOKEN {
            None
        } else {
            self.username.as_deref()
        }
    }
}

/// Shows the mode and the user name; never the password, nor the API token of mode 4096.
impl fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |present: bool| present.then_some("<redacted>");
        let mut d = f.debug_struct("LoginRequest");
        d.field("login_mode", &self.login_mode.0);
        match self.user_name() {
            Some(name) => d.field("username", &Some(name)),
            None => d.field("username", &redacted(self.username.is_some())),
        };
        d.field("password", &redacted(self.password.is_some()))
            .finish()
    }
}

/// The answer of `POST /api/auth/apiTokens`: a new API token for login mode 4096.
///
/// `Debug` does not show the token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct ApiTokenResponse {
    /// The token.
    pub api_token: Secret,
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
