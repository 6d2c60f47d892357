//! Retry and polling waits for the Veracity client, driven by the crate's public
//! [`RetryConfig`] and [`BackoffConfig`] (exponential backoff with decorrelated jitter, the
//! same formula as the Push Data API client's).

use std::time::{Duration, Instant, SystemTime};

use http::{HeaderMap, header::RETRY_AFTER};
use rand::Rng;

use crate::client::{BackoffConfig, RetryConfig};

/// The successive waits of one [`BackoffConfig`].
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    init: f64,
    next: f64,
    max: f64,
    base: f64,
}

impl Backoff {
    pub(crate) fn new(config: &BackoffConfig) -> Self {
        let init = config.init_backoff.as_secs_f64();
        let max = config.max_backoff.as_secs_f64().max(init);
        let base = if config.base.is_finite() && config.base > 1.0 {
            config.base
        } else {
            1.0
        };
        Backoff {
            init,
            next: init,
            max,
            base,
        }
    }

    /// The next wait: drawn between `init` and `base` times the previous wait, capped.
    pub(crate) fn next_wait(&mut self) -> Duration {
        let unit: f64 = rand::rng().random();
        let hi = self.next * self.base;
        let drawn = self.init + (hi - self.init) * unit;
        let upcoming = if drawn.is_finite() {
            drawn.min(self.max)
        } else {
            self.max
        };
        let current = std::mem::replace(&mut self.next, upcoming);
        Duration::try_from_secs_f64(current).unwrap_or(Duration::MAX)
    }
}

/// The retry state of one logical request.
#[derive(Debug)]
pub(crate) struct RetryState {
    backoff: Backoff,
    retries: usize,
    max_retries: usize,
    retry_timeout: Duration,
    first_failure: Option<Instant>,
}

impl RetryState {
    pub(crate) fn new(config: &RetryConfig) -> Self {
        RetryState {
            backoff: Backoff::new(&config.backoff),
            retries: 0,
            max_retries: config.max_retries,
            retry_timeout: config.retry_timeout,
            first_failure: None,
        }
    }

    /// The wait before the next retry, or `None` when the budget is spent.
    pub(crate) fn next_wait(&mut self, retry_after: Option<Duration>) -> Option<Duration> {
        let first_failure = *self.first_failure.get_or_insert_with(Instant::now);
        if self.retries >= self.max_retries {
            return None;
        }
        let wait = retry_after.unwrap_or_else(|| self.backoff.next_wait());
        if first_failure.elapsed().saturating_add(wait) > self.retry_timeout {
            return None;
        }
        self.retries += 1;
        Some(wait)
    }
}

/// Whether a transport error may be retried: a connection that was never opened always,
/// a timeout or dropped connection only for idempotent calls.
pub(crate) fn is_retryable_transport(error: &reqwest::Error, idempotent: bool) -> bool {
    if error.is_connect() {
        return true;
    }
    idempotent && (error.is_timeout() || error.is_request() || error.is_body())
}

/// `Retry-After` as seconds or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}
