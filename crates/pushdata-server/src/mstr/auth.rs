//! Logins and auth tokens: the login modes (standard, LDAP, guest, API token) checked at
//! login, auth tokens issued then, checked on every call, expired after an idle time,
//! killed at logout; API tokens issued to logged-in users.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use pushdata_core::Secret;
use pushdata_core::wire::{LoginMode, LoginRequest};
use sha2::{Digest, Sha256};

use crate::config::{ApiTokenConfig, GUEST_USER, UserConfig};
use crate::ids;
use crate::mstr::error::{ApiError, Result};

/// The most live tokens kept; a login past it ends the least recently used session.
const MAX_TOKENS: usize = 10_000;
/// Failed logins of one user name allowed within [`FAILURE_WINDOW`]; further attempts
/// are refused (429) until the window has passed.
const MAX_FAILURES: usize = 5;
/// The window failed logins are counted in.
const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// The most user names whose failures are remembered (the oldest are forgotten first).
const MAX_FAILING_NAMES: usize = 10_000;

/// The most API tokens kept (configured and issued).
const MAX_API_TOKENS: usize = 10_000;

/// Name of the session cookie set at login.
pub(crate) const SESSION_COOKIE: &str = "JSESSIONID";

/// A logged-in session.
#[derive(Clone)]
pub(crate) struct Session {
    /// The user name.
    pub(crate) user: String,
    /// The cookie value issued with the token.
    pub(crate) cookie: String,
    last_used: Instant,
}

/// The token store.
pub(crate) struct Auth {
    users: Vec<UserConfig>,
    /// The login modes accepted.
    modes: Vec<LoginMode>,
    idle: Duration,
    tokens: Mutex<HashMap<String, Session>>,
    /// Recent failed logins per lower-cased user name.
    failures: Mutex<HashMap<String, Vec<Instant>>>,
    /// API tokens by the SHA-256 of the token (the token itself is not kept), to the user
    /// name they log in as.
    api_tokens: Mutex<HashMap<[u8; 32], String>>,
}

/// Shows the user, never the cookie value.
impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// Shows how many tokens are live, never the tokens (nor the cookies of their sessions).
impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("users", &self.users)
            .field("modes", &self.modes)
            .field("idle", &self.idle)
            .field("live_tokens", &self.tokens.lock().len())
            .field("api_tokens", &self.api_tokens.lock().len())
            .finish()
    }
}

/// Constant-time comparison of two byte strings (length is not secret).
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The key an API token is kept under.
fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Auth {
    /// A store accepting `users` with the login `modes`, and the API tokens `api_tokens`,
    /// expiring auth tokens after `idle` without use.
    pub(crate) fn new(
        users: Vec<UserConfig>,
        modes: Vec<LoginMode>,
        api_tokens: &[ApiTokenConfig],
        idle: Duration,
    ) -> Self {
        let api_tokens = api_tokens
            .iter()
            .map(|t| (digest(t.token.expose()), t.user.clone()))
            .collect();
        Auth {
            users,
            modes,
            idle,
            tokens: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
            api_tokens: Mutex::new(api_tokens),
        }
    }

    /// The idle timeout.
    pub(crate) fn idle_timeout(&self) -> Duration {
        self.idle
    }

    /// Check a login body by its mode; on success issue an auth token and a cookie value.
    pub(crate) fn login(&self, request: &LoginRequest) -> Result<(String, Session)> {
        let mode = request.login_mode;
        if !self.modes.contains(&mode) {
            return Err(ApiError::Unauthorized(format!(
                "login mode {mode} is not enabled on this server; it accepts {}",
                self.modes
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let user = match mode {
            LoginMode::STANDARD | LoginMode::LDAP => {
                self.check_password(mode, request.user_name(), request.password.as_ref())?
            }
            LoginMode::GUEST => GUEST_USER.to_string(),
            LoginMode::API_TOKEN => self.check_api_token(request.api_token())?,
            other => {
                return Err(ApiError::Unauthorized(format!(
                    "login mode {other} is not supported by this server"
                )));
            }
        };
        Ok(self.open_session(user))
    }

    /// The user whose name and password these are (standard and LDAP logins).
    fn check_password(
        &self,
        mode: LoginMode,
        username: Option<&str>,
        password: Option<&Secret>,
    ) -> Result<String> {
        let name = username.unwrap_or("");
        let given = password.map(Secret::expose).unwrap_or("");
        self.check_throttle(name)?;
        let Some(user) = self.users.iter().find(|u| {
            u.name.eq_ignore_ascii_case(name)
                && same(u.password.expose().as_bytes(), given.as_bytes())
        }) else {
            self.record_failure(name);
            return Err(ApiError::Unauthorized(format!(
                "login failed ({mode}): wrong user name or password for user {name:?}"
            )));
        };
        self.failures.lock().remove(&name.to_lowercase());
        Ok(user.name.clone())
    }

    /// The user an API token logs in as. Tokens are 160 random bits: guessing is not
    /// throttled (a throttle would let anyone lock every token user out).
    fn check_api_token(&self, token: Option<&str>) -> Result<String> {
        let token = token
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::Unauthorized(format!(
                    "login mode {} needs the API token in the username field",
                    LoginMode::API_TOKEN
                ))
            })?;
        self.api_tokens
            .lock()
            .get(&digest(token))
            .cloned()
            .ok_or_else(|| {
                ApiError::Unauthorized(format!(
                    "login failed ({}): the API token is not valid (unknown, or issued by a server that has since restarted)",
                    LoginMode::API_TOKEN
                ))
            })
    }

    /// A new API token for `user` (`POST /api/auth/apiTokens`).
    pub(crate) fn issue_api_token(&self, user: &str) -> Result<String> {
        let mut tokens = self.api_tokens.lock();
        if tokens.len() >= MAX_API_TOKENS {
            return Err(ApiError::TooManyRequests(format!(
                "the server already holds {MAX_API_TOKENS} API tokens, the most it keeps; restart it to drop the issued ones"
            )));
        }
        let token = ids::new_token();
        tokens.insert(digest(&token), user.to_string());
        Ok(token)
    }

    /// A new session of `user`: an auth token and a cookie value. The least recently used
    /// session ends when the store is full.
    fn open_session(&self, user: String) -> (String, Session) {
        let token = ids::new_token();
        let session = Session {
            user,
            cookie: ids::new_token(),
            last_used: Instant::now(),
        };
        let mut tokens = self.tokens.lock();
        let idle = self.idle;
        tokens.retain(|_, s| s.last_used.elapsed() <= idle);
        if tokens.len() >= MAX_TOKENS
            && let Some(oldest) = tokens
                .iter()
                .min_by_key(|(_, s)| s.last_used)
                .map(|(t, _)| t.clone())
        {
            tokens.remove(&oldest);
        }
        tokens.insert(token.clone(), session.clone());
        (token, session)
    }

    /// 429 while `name` has had too many failed logins within the window.
    fn check_throttle(&self, name: &str) -> Result<()> {
        let mut failures = self.failures.lock();
        let Some(times) = failures.get_mut(&name.to_lowercase()) else {
            return Ok(());
        };
        times.retain(|t| t.elapsed() < FAILURE_WINDOW);
        if times.len() >= MAX_FAILURES {
            return Err(ApiError::TooManyRequests(format!(
                "too many failed logins for user {name:?}: try again in {} s",
                FAILURE_WINDOW.as_secs()
            )));
        }
        Ok(())
    }

    fn record_failure(&self, name: &str) {
        let mut failures = self.failures.lock();
        if failures.len() >= MAX_FAILING_NAMES {
            failures.retain(|_, times| times.iter().any(|t| t.elapsed() < FAILURE_WINDOW));
            if failures.len() >= MAX_FAILING_NAMES {
                failures.clear();
            }
        }
        failures
            .entry(name.to_lowercase())
            .or_default()
            .push(Instant::now());
    }

    /// Check a token and refresh its idle timer.
    pub(crate) fn check(&self, token: Option<&str>) -> Result<Session> {
        let token = token.ok_or_else(|| {
            ApiError::Unauthorized(
                "missing X-MSTR-AuthToken header: log in with POST /api/auth/login first".into(),
            )
        })?;
        let mut tokens = self.tokens.lock();
        match tokens.get_mut(token) {
            Some(s) if s.last_used.elapsed() <= self.idle => {
                s.last_used = Instant::now();
                Ok(s.clone())
            }
            Some(_) => {
                tokens.remove(token);
                Err(ApiError::Unauthorized(
                    "the auth token has expired (idle too long); log in again".into(),
                ))
            }
            None => Err(ApiError::Unauthorized(
                "the auth token is not valid (unknown, logged out or expired); log in again".into(),
            )),
        }
    }

    /// Kill a token.
    pub(crate) fn logout(&self, token: &str) -> bool {
        self.tokens.lock().remove(token).is_some()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::config::DEFAULT_LOGIN_MODES;

    fn ann(password: &str) -> Vec<UserConfig> {
        vec![UserConfig {
            name: "ann".into(),
            password: Secret::from(password),
        }]
    }

    fn request(mode: LoginMode, username: Option<&str>, password: Option<&str>) -> LoginRequest {
        LoginRequest {
            login_mode: mode,
            username: username.map(str::to_string),
            password: password.map(Secret::from),
        }
    }

    fn standard(name: &str, password: &str) -> LoginRequest {
        request(LoginMode::STANDARD, Some(name), Some(password))
    }

    #[test]
    fn repeated_failed_logins_are_throttled_per_user_name() {
        let auth = Auth::new(
            ann("right"),
            DEFAULT_LOGIN_MODES.to_vec(),
            &[],
            Duration::from_secs(60),
        );
        for _ in 0..MAX_FAILURES {
            let e = auth.login(&standard("Ann", "wrong")).unwrap_err();
            assert!(matches!(e, ApiError::Unauthorized(_)), "{e}");
        }
        // Even the right password is refused while the name is throttled.
        let e = auth.login(&standard("ann", "right")).unwrap_err();
        assert!(matches!(e, ApiError::TooManyRequests(_)), "{e}");
        // Other names are not affected.
        let e = auth.login(&standard("bob", "wrong")).unwrap_err();
        assert!(matches!(e, ApiError::Unauthorized(_)), "{e}");
    }

    #[test]
    fn each_mode_is_checked_its_own_way_and_only_when_enabled() {
        let configured = [ApiTokenConfig {
            user: "ann".into(),
            token: Secret::from("configured-token"),
        }];
        let idle = Duration::from_secs(60);
        let auth = Auth::new(ann("pw"), DEFAULT_LOGIN_MODES.to_vec(), &configured, idle);
        let ldap = request(LoginMode::LDAP, Some("ann"), Some("pw"));
        assert_eq!(auth.login(&ldap).unwrap().1.user, "ann");
        let bad = request(LoginMode::LDAP, Some("ann"), Some("no"));
        assert!(matches!(auth.login(&bad), Err(ApiError::Unauthorized(_))));
        // Guest is off by default.
        let guest = request(LoginMode::GUEST, None, None);
        assert!(matches!(auth.login(&guest), Err(ApiError::Unauthorized(_))));
        // API tokens: configured, issued, unknown, missing.
        let token = |t: Option<&str>| request(LoginMode::API_TOKEN, t, None);
        assert_eq!(
            auth.login(&token(Some("configured-token"))).unwrap().1.user,
            "ann"
        );
        let issued = auth.issue_api_token("ann").unwrap();
        assert_eq!(auth.login(&token(Some(&issued))).unwrap().1.user, "ann");
        assert!(auth.login(&token(Some("not-a-token"))).is_err());
        assert!(auth.login(&token(None)).is_err());
        // A token in the password field is not the API token login mstrio-py sends.
        let in_password = request(LoginMode::API_TOKEN, None, Some("configured-token"));
        assert!(auth.login(&in_password).is_err());

        let only_guest = Auth::new(ann("pw"), vec![LoginMode::GUEST], &[], idle);
        assert_eq!(only_guest.login(&guest).unwrap().1.user, GUEST_USER);
        let e = only_guest.login(&standard("ann", "pw")).unwrap_err();
        assert!(matches!(e, ApiError::Unauthorized(_)), "{e}");
        assert!(e.to_string().contains("guest (8)"), "{e}");
    }

    #[test]
    fn debug_shows_no_token_cookie_or_password() {
        let auth = Auth::new(
            ann("pw-hunter2"),
            DEFAULT_LOGIN_MODES.to_vec(),
            &[],
            Duration::from_secs(60),
        );
        let (token, session) = auth.login(&standard("ann", "pw-hunter2")).unwrap();
        let api_token = auth.issue_api_token("ann").unwrap();
        let shown = format!("{auth:?}");
        assert!(!shown.contains(&token), "{shown}");
        assert!(!shown.contains(&api_token), "{shown}");
        assert!(!shown.contains(&session.cookie), "{shown}");
        assert!(!shown.contains("pw-hunter2"), "{shown}");
        assert!(shown.contains("live_tokens: 1"), "{shown}");
        let shown = format!("{session:?}");
        assert!(
            shown.contains("ann") && !shown.contains(&session.cookie),
            "{shown}"
        );
    }
}
