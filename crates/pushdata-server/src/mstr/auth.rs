//! Auth tokens: issued at login, checked on every call, expired after an idle time, killed
//! at logout.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use pushdata_core::Secret;

use crate::config::UserConfig;
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
    idle: Duration,
    tokens: Mutex<HashMap<String, Session>>,
    /// Recent failed logins per lower-cased user name.
    failures: Mutex<HashMap<String, Vec<Instant>>>,
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
            .field("idle", &self.idle)
            .field("live_tokens", &self.tokens.lock().len())
            .finish()
    }
}

/// Constant-time comparison of two byte strings (length is not secret).
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Auth {
    /// A store accepting `users`, expiring tokens after `idle` without use.
    pub(crate) fn new(users: Vec<UserConfig>, idle: Duration) -> Self {
        Auth {
            users,
            idle,
            tokens: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// The idle timeout.
    pub(crate) fn idle_timeout(&self) -> Duration {
        self.idle
    }

    /// Check credentials; on success issue a token and a cookie value.
    pub(crate) fn login(
        &self,
        username: Option<&str>,
        password: Option<&Secret>,
    ) -> Result<(String, Session)> {
        let name = username.unwrap_or("");
        let given = password.map(Secret::expose).unwrap_or("");
        self.check_throttle(name)?;
        let Some(user) = self.users.iter().find(|u| {
            u.name.eq_ignore_ascii_case(name)
                && same(u.password.expose().as_bytes(), given.as_bytes())
        }) else {
            self.record_failure(name);
            return Err(ApiError::Unauthorized(format!(
                "login failed: wrong user name or password for user {name:?}"
            )));
        };
        self.failures.lock().remove(&name.to_lowercase());
        let token = ids::new_token();
        let session = Session {
            user: user.name.clone(),
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
        Ok((token, session))
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

    #[test]
    fn repeated_failed_logins_are_throttled_per_user_name() {
        let auth = Auth::new(
            vec![UserConfig {
                name: "ann".into(),
                password: Secret::from("right"),
            }],
            Duration::from_secs(60),
        );
        let wrong = Secret::from("wrong");
        for _ in 0..MAX_FAILURES {
            let e = auth.login(Some("Ann"), Some(&wrong)).unwrap_err();
            assert!(matches!(e, ApiError::Unauthorized(_)), "{e}");
        }
        // Even the right password is refused while the name is throttled.
        let e = auth
            .login(Some("ann"), Some(&Secret::from("right")))
            .unwrap_err();
        assert!(matches!(e, ApiError::TooManyRequests(_)), "{e}");
        // Other names are not affected.
        let e = auth.login(Some("bob"), Some(&wrong)).unwrap_err();
        assert!(matches!(e, ApiError::Unauthorized(_)), "{e}");
    }

    #[test]
    fn debug_shows_no_token_cookie_or_password() {
        let auth = Auth::new(
            vec![UserConfig {
                name: "ann".into(),
                password: Secret::from("pw-hunter2"),
            }],
            Duration::from_secs(60),
        );
        let (token, session) = auth
            .login(Some("ann"), Some(&Secret::from("pw-hunter2")))
            .unwrap();
        let shown = format!("{auth:?}");
        assert!(!shown.contains(&token), "{shown}");
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
