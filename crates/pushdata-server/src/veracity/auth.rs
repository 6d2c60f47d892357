//! The emulated Azure AD token endpoint and the API Management checks of the gateway:
//! one service account (client id and secret), one subscription key, bearer tokens that
//! expire after a configured lifetime (an hour by default).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use pushdata_core::Secret;

use super::error::{Result, VeracityError};

/// Credentials and live tokens. Debug prints no secret.
#[derive(Debug)]
pub(crate) struct VAuth {
    client_id: String,
    client_secret: Secret,
    subscription_key: Secret,
    /// How long an issued token is valid.
    lifetime: Duration,
    /// Token -> when it expires (tokens are random and never logged).
    tokens: Mutex<HashMap<String, Instant>>,
}

/// Whether two secrets are equal, in time independent of where they differ.
fn ct_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut diff = a.len() ^ b.len();
    for (i, x) in a.iter().enumerate() {
        diff |= usize::from(x ^ b.get(i).copied().unwrap_or(0));
    }
    diff == 0
}

impl VAuth {
    /// The one service account and subscription key this emulation accepts.
    /// Its tokens live `lifetime`.
    pub(crate) fn new(
        client_id: String,
        client_secret: Secret,
        subscription_key: Secret,
        lifetime: Duration,
    ) -> Self {
        VAuth {
            client_id,
            client_secret,
            subscription_key,
            lifetime,
            tokens: Mutex::new(HashMap::new()),
        }
    }

    /// How long an issued token is valid.
    pub(crate) fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// A client-credentials grant: a new token, or why not.
    pub(crate) fn grant(&self, form: &HashMap<String, String>) -> Result<String> {
        let field = |k: &'static str| {
            form.get(k)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| VeracityError::TokenRequest {
                    error: "invalid_request",
                    reason: format!(
                        "The request body must contain the following parameter: '{k}'."
                    ),
                })
        };
        let grant = field("grant_type")?;
        if grant != "client_credentials" {
            return Err(VeracityError::TokenRequest {
                error: "unsupported_grant_type",
                reason: format!(
                    "The grant type {grant:?} is not supported; use client_credentials."
                ),
            });
        }
        let id = field("client_id")?;
        let secret = field("client_secret")?;
        if id != &self.client_id {
            return Err(VeracityError::UnknownClient {
                client_id: id.clone(),
            });
        }
        if !ct_eq(secret, self.client_secret.expose()) {
            return Err(VeracityError::InvalidClientSecret {
                client_id: id.clone(),
            });
        }
        let token = format!("vdw.{}", crate::ids::new_token());
        let now = Instant::now();
        let mut tokens = self.tokens.lock();
        tokens.retain(|_, exp| *exp > now);
        tokens.insert(token.clone(), now + self.lifetime);
        Ok(token)
    }

    /// API Management's checks: the subscription key first, then the bearer token.
    pub(crate) fn check_gateway(
        &self,
        key: Option<&str>,
        authorization: Option<&str>,
    ) -> Result<()> {
        let key = key.ok_or(VeracityError::MissingSubscriptionKey)?;
        if !ct_eq(key, self.subscription_key.expose()) {
            return Err(VeracityError::InvalidSubscriptionKey);
        }
        let token = authorization
            .and_then(|a| {
                a.strip_prefix("Bearer ")
                    .or_else(|| a.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or(VeracityError::InvalidToken)?;
        match self.tokens.lock().get(token) {
            Some(exp) if *exp > Instant::now() => Ok(()),
            _ => Err(VeracityError::InvalidToken),
        }
    }
}
