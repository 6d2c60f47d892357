//! Sessions and projects: [`Credentials`], login, logout, the project list and the
//! project choice.

use std::fmt;

use http::Method;

use super::Client;
use super::request::server_error;
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::wire::{AUTH_TOKEN_HEADER, ApiTokenResponse, LoginMode, LoginRequest, Project};

/// Who logs in, and how. The password or API token is a [`Secret`]: `Debug` shows only the
/// login mode and the user name.
///
/// ```
/// use pushdata_core::Credentials;
///
/// let c = Credentials::standard("administrator", "hunter2");
/// assert_eq!(c.username(), Some("administrator"));
/// assert!(!format!("{c:?}").contains("hunter2"));
///
/// // An API token is sent in the `username` field (as mstrio-py sends it), yet it is no
/// // user name and never shown.
/// let t = Credentials::api_token("tok-0123456789");
/// assert_eq!(t.username(), None);
/// assert!(!format!("{t:?}").contains("tok-0123456789"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    request: LoginRequest,
}

impl Credentials {
    /// Standard authentication (`loginMode` 1): user name and password.
    pub fn standard(username: impl Into<String>, password: impl Into<Secret>) -> Self {
        Self::with_mode(
            LoginMode::STANDARD,
            Some(username.into()),
            Some(password.into()),
        )
    }

    /// LDAP authentication (`loginMode` 16): user name and password.
    pub fn ldap(username: impl Into<String>, password: impl Into<Secret>) -> Self {
        Self::with_mode(
            LoginMode::LDAP,
            Some(username.into()),
            Some(password.into()),
        )
    }

    /// Guest (anonymous) authentication (`loginMode` 8).
    pub fn guest() -> Self {
        Self::with_mode(LoginMode::GUEST, None, None)
    }

    /// API token authentication (`loginMode` 4096): the token goes in the `username`
    /// field, as mstrio-py sends it (tokens come from `POST /api/auth/apiTokens`).
    pub fn api_token(token: impl Into<Secret>) -> Self {
        let token: Secret = token.into();
        Self::with_mode(LoginMode::API_TOKEN, Some(token.expose().to_string()), None)
    }

    /// Any login body, e.g. for a login mode without a constructor.
    pub fn from_request(request: LoginRequest) -> Self {
        Credentials { request }
    }

    fn with_mode(mode: LoginMode, username: Option<String>, password: Option<Secret>) -> Self {
        Credentials {
            request: LoginRequest {
                login_mode: mode,
                username,
                password,
            },
        }
    }

    /// The login mode.
    pub fn login_mode(&self) -> LoginMode {
        self.request.login_mode
    }

    /// The user name, if the mode has one (an API token is not one).
    pub fn username(&self) -> Option<&str> {
        self.request.user_name()
    }

    /// The body sent to `POST /api/auth/login`.
    pub fn login_request(&self) -> &LoginRequest {
        &self.request
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("login_mode", &self.request.login_mode.0)
            .field("username", &self.username())
            .field(
                "secret",
                &(self.request.password.is_some() || self.request.api_token().is_some())
                    .then_some("<redacted>"),
            )
            .finish()
    }
}

impl Client {
    /// Log in (`POST /api/auth/login`) and keep the `X-MSTR-AuthToken` of the response (and
    /// its session cookie) for every later call.
    ///
    /// The credentials are kept too, to log in again once when the session expires.
    pub async fn login(&self, credentials: Credentials) -> Result<()> {
        let _guard = self.inner.login_lock.lock().await;
        let token = self.request_token(&credentials).await?;
        let mut session = self.inner.session.write();
        session.token = Some(token);
        session.generation += 1;
        session.credentials = Some(credentials);
        Ok(())
    }

    /// Renew an expired session with the stored credentials, unless another task already
    /// did since `seen_generation`. Returns whether the call should be sent again.
    pub(crate) async fn renew_session(&self, seen_generation: u64) -> Result<bool> {
        let _guard = self.inner.login_lock.lock().await;
        let credentials = {
            let session = self.inner.session.read();
            if session.generation != seen_generation {
                return Ok(session.token.is_some());
            }
            match &session.credentials {
                Some(c) => c.clone(),
                None => return Ok(false),
            }
        };
        let token = self.request_token(&credentials).await?;
        let mut session = self.inner.session.write();
        session.token = Some(token);
        session.generation += 1;
        tracing::debug!("logged in again after the session expired");
        Ok(true)
    }

    /// `POST /api/auth/login`, returning the token of the response header.
    async fn request_token(&self, credentials: &Credentials) -> Result<Secret> {
        let call = self
            .call(Method::POST, &["auth", "login"])?
            .without_session()
            .json(credentials.login_request())?;
        let response = self.send_once_with_retries(&call).await?;
        if !response.status().is_success() {
            return Err(server_error(response, call.endpoint()).await);
        }
        let missing = |reason| Error::MissingAuthToken {
            endpoint: Box::new(call.endpoint().clone()),
            reason,
        };
        let token = match response.headers().get(AUTH_TOKEN_HEADER) {
            None => return Err(missing("the header is missing")),
            Some(value) => match value.to_str() {
                Ok(t) if !t.trim().is_empty() => Secret::new(t.trim()),
                Ok(_) => return Err(missing("the header is empty")),
                Err(_) => return Err(missing("the header is not visible ASCII")),
            },
        };
        // The body is empty (204); reading it lets the connection be reused. A failure to
        // read nothing does not undo a successful login.
        let _ = response.bytes().await;
        tracing::debug!(
            login_mode = credentials.login_mode().0,
            username = credentials.username().unwrap_or(""),
            "logged in"
        );
        Ok(token)
    }

    /// Log out (`POST /api/auth/logout`) and forget the token and the credentials.
    ///
    /// Does nothing when not logged in. A 401 (the session had already expired) counts as
    /// success. The local session is forgotten even when the call fails.
    pub async fn logout(&self) -> Result<()> {
        let _guard = self.inner.login_lock.lock().await;
        if !self.is_logged_in() {
            return Ok(());
        }
        let call = self
            .call(Method::POST, &["auth", "logout"])?
            .without_relogin();
        let result = self.execute_empty(&call).await;
        {
            let mut session = self.inner.session.write();
            session.token = None;
            session.credentials = None;
            session.generation += 1;
        }
        match result {
            Err(e) if e.status() == Some(401) => Ok(()),
            other => other,
        }
    }

    /// A new API token of the logged-in user (`POST /api/auth/apiTokens`), for
    /// [`Credentials::api_token`] logins later, e.g. by a scheduled job that should not
    /// hold a password.
    pub async fn create_api_token(&self) -> Result<Secret> {
        let call = self.call(Method::POST, &["auth", "apiTokens"])?;
        let response: ApiTokenResponse = self.execute_json(&call).await?;
        Ok(response.api_token)
    }

    /// The projects the user can see (`GET /api/projects`).
    pub async fn projects(&self) -> Result<Vec<Project>> {
        let call = self.call(Method::GET, &["projects"])?;
        self.execute_json(&call).await
    }

    /// Choose the user's only project for later dataset calls, and return it: what a
    /// client does when no project is named. Fails with [`Error::ProjectNotChosen`],
    /// listing the project names, when the user can see no project or several.
    pub async fn select_only_project(&self) -> Result<Project> {
        let mut projects = self.projects().await?;
        if projects.len() == 1
            && let Some(project) = projects.pop()
        {
            self.set_project_id(project.id.clone());
            tracing::debug!(project_id = %project.id, name = %project.name, "the only project selected");
            return Ok(project);
        }
        Err(Error::ProjectNotChosen {
            available: projects.into_iter().map(|p| p.name).collect(),
        })
    }

    /// Choose the project of later dataset calls by id or name, and return it.
    ///
    /// Looks the project up with [`projects`](Client::projects): an id matches in any case,
    /// then an exact name, then a name in any case. Fails with [`Error::UnknownProject`]
    /// listing the project names the user can see.
    pub async fn select_project(&self, name_or_id: &str) -> Result<Project> {
        let wanted = name_or_id.trim();
        let projects = self.projects().await?;
        let found = projects
            .iter()
            .find(|p| p.id.eq_ignore_ascii_case(wanted))
            .or_else(|| projects.iter().find(|p| p.name == wanted))
            .or_else(|| {
                projects
                    .iter()
                    .find(|p| p.name.eq_ignore_ascii_case(wanted))
            });
        match found {
            Some(project) => {
                self.set_project_id(project.id.clone());
                tracing::debug!(project_id = %project.id, name = %project.name, "project selected");
                Ok(project.clone())
            }
            None => Err(Error::UnknownProject {
                name: name_or_id.to_string(),
                available: projects.into_iter().map(|p| p.name).collect(),
            }),
        }
    }
}
