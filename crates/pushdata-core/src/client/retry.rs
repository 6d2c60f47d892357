//! When and how long to wait before trying a request again: [`RetryConfig`],
//! [`BackoffConfig`] and exponential backoff with decorrelated jitter.
//!
//! The policy, in the style of `object_store`'s:
//! - a connection that could not be opened is retried for every call (nothing was sent);
//! - the statuses 429 and 503 are retried for every call, idempotent or not: they say the
//!   server did not process the request;
//! - a timeout, a dropped connection and the statuses 502 and 504 are retried only for
//!   idempotent calls (GET, chunk PUT, DELETE), never for POST/PATCH that create or publish
//!   something (the server may have carried them out);
//! - `Retry-After` (seconds or HTTP date) replaces the backoff when the server sends it,
//!   as given (not shortened to the longest backoff); a wait that would end past the
//!   retry budget ends the retrying at once;
//! - retrying stops after [`RetryConfig::max_retries`] retries or when the next wait would
//!   end after [`RetryConfig::retry_timeout`] from the end of the first failed attempt (so a
//!   request that timed out is retried whatever the per-request timeout).

use std::time::{Duration, Instant, SystemTime};

use http::{HeaderMap, StatusCode, header::RETRY_AFTER};
use rand::Rng;

/// Exponential backoff with decorrelated jitter.
///
/// The first wait is `init_backoff`; each later wait is drawn uniformly between
/// `init_backoff` and `base` times the previous wait, and capped at `max_backoff`
/// (see <https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/>).
///
/// ```
/// use std::time::Duration;
/// use pushdata_core::BackoffConfig;
///
/// let backoff = BackoffConfig::default()
///     .with_init_backoff(Duration::from_millis(50))
///     .with_max_backoff(Duration::from_secs(2))
///     .with_base(3.0);
/// assert_eq!(backoff.max_backoff, Duration::from_secs(2));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct BackoffConfig {
    /// The first wait (default 100 ms).
    pub init_backoff: Duration,
    /// The longest wait (default 15 s).
    pub max_backoff: Duration,
    /// The growth factor of the upper bound of each wait (default 2).
    pub base: f64,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(15),
            base: 2.0,
        }
    }
}

impl BackoffConfig {
    /// Set the first wait.
    pub fn with_init_backoff(mut self, init_backoff: Duration) -> Self {
        self.init_backoff = init_backoff;
        self
    }

    /// Set the longest wait.
    pub fn with_max_backoff(mut self, max_backoff: Duration) -> Self {
        self.max_backoff = max_backoff;
        self
    }

    /// Set the growth factor (values below 1 behave as 1: a constant wait).
    pub fn with_base(mut self, base: f64) -> Self {
        self.base = base;
        self
    }
}

/// How failed requests are retried.
///
/// - A connection that could not be opened is retried for every call (nothing was sent).
/// - HTTP 429 (Too Many Requests) and 503 (Service Unavailable) are retried for every
///   call, idempotent or not, including the POST/PATCH calls that log in, create or
///   publish something: both say the server did not process the request.
/// - A timeout, a dropped connection and the statuses 502 and 504 are retried only for
///   idempotent calls (GET, chunk PUT, DELETE, Data Lake calls), never for the POST/PATCH
///   calls that log in, create or publish something (the server may have carried them
///   out). HTTP 500 is not retried by the Push Data API client.
/// - `Retry-After` (seconds or HTTP date) replaces the backoff when the server sends it.
///   The wait it names is kept as given, even above
///   [`BackoffConfig::max_backoff`] (retrying sooner would only be refused again); when it
///   would end later than `retry_timeout` after the first failure, retrying stops at once
///   and the server's answer is returned as the error.
/// - Retrying stops after `max_retries` retries, or when the next wait would end later
///   than `retry_timeout` after the end of the first failed attempt. The budget starts when
///   that attempt ends, not when it starts, so it is independent of the per-request timeout:
///   with the defaults (300 s per request, 180 s budget) a request that timed out is retried
///   once more (a second timeout ends 300 s later, past the budget).
/// - A 401 is not retried here: the client logs in again once instead.
///
/// ```
/// use std::time::Duration;
/// use pushdata_core::{BackoffConfig, RetryConfig};
///
/// let retry = RetryConfig::default()
///     .with_max_retries(5)
///     .with_retry_timeout(Duration::from_secs(60))
///     .with_backoff(BackoffConfig::default().with_init_backoff(Duration::from_millis(250)));
/// assert_eq!(retry.max_retries, 5);
///
/// // No retries at all:
/// assert_eq!(RetryConfig::none().max_retries, 0);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RetryConfig {
    /// The most retries of one request (0 disables retrying; default 10).
    pub max_retries: usize,
    /// No retry starts, and no wait ends, later than this after the end of the first
    /// failed attempt (default 3 minutes).
    pub retry_timeout: Duration,
    /// The waits between attempts.
    pub backoff: BackoffConfig,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_retries: 10,
            retry_timeout: Duration::from_secs(180),
            backoff: BackoffConfig::default(),
        }
    }
}

impl RetryConfig {
    /// A configuration that never retries.
    pub fn none() -> Self {
        RetryConfig {
            max_retries: 0,
            ..RetryConfig::default()
        }
    }

    /// Set the most retries of one request.
    pub fn with_max_retries(mut self, max_retries: usize) -> Self {
        self.max_retries = max_retries;
        self
    }

    /// Set the time, from the end of the first failed attempt, after which no more retries
    /// are made.
    pub fn with_retry_timeout(mut self, retry_timeout: Duration) -> Self {
        self.retry_timeout = retry_timeout;
        self
    }

    /// Set the waits between attempts.
    pub fn with_backoff(mut self, backoff: BackoffConfig) -> Self {
        self.backoff = backoff;
        self
    }
}

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

    /// The next wait, with random jitter.
    pub(crate) fn next_wait(&mut self) -> Duration {
        let unit: f64 = rand::rng().random();
        self.next_with(unit)
    }

    /// The next wait between status polls after `waited` of polling: the next wait, but
    /// never more than a quarter of the time waited so far (at least the first wait), so
    /// that the end of what is polled is seen within about a quarter of its length.
    pub(crate) fn next_poll(&mut self, waited: Duration) -> Duration {
        self.next_wait().min(poll_cap(waited, self.init))
    }

    /// The next wait, with `unit` in `[0, 1)` choosing where in the jitter range it lands.
    pub(crate) fn next_with(&mut self, unit: f64) -> Duration {
        let hi = self.next * self.base;
        let drawn = self.init + (hi - self.init) * unit.clamp(0.0, 1.0);
        let upcoming = if drawn.is_finite() {
            drawn.min(self.max)
        } else {
            self.max
        };
        let current = std::mem::replace(&mut self.next, upcoming);
        Duration::try_from_secs_f64(current).unwrap_or(Duration::MAX)
    }
}

/// The longest wait before the next status poll after `waited` of polling: a quarter of
/// it, at least `init_secs` (the backoff's first wait).
pub(crate) fn poll_cap(waited: Duration, init_secs: f64) -> Duration {
    (waited / 4).max(Duration::try_from_secs_f64(init_secs).unwrap_or(Duration::ZERO))
}

/// The retry state of one logical request.
#[derive(Debug)]
pub(crate) struct RetryState {
    backoff: Backoff,
    retries: usize,
    max_retries: usize,
    retry_timeout: Duration,
    /// When the first failed attempt ended (the first call of `next_wait`).
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

    /// How many retries were made so far.
    pub(crate) fn retries(&self) -> usize {
        self.retries
    }

    /// The wait before the next retry, or `None` when retrying must stop; called when an
    /// attempt has just failed.
    ///
    /// `retry_after` (from the server) replaces the backoff when given.
    pub(crate) fn next_wait(&mut self, retry_after: Option<Duration>) -> Option<Duration> {
        let first_failure = *self.first_failure.get_or_insert_with(Instant::now);
        if self.retries >= self.max_retries {
            return None;
        }
        let wait = match retry_after {
            Some(w) => w,
            None => self.backoff.next_wait(),
        };
        if first_failure.elapsed().saturating_add(wait) > self.retry_timeout {
            return None;
        }
        self.retries += 1;
        Some(wait)
    }
}

/// Whether an answer with `status` may be retried: 429 and 503 for every call (the
/// request was not processed), 502 and 504 (a gateway lost the answer; the server may
/// have carried the request out) only for idempotent calls.
pub(crate) fn is_retryable_status(status: StatusCode, idempotent: bool) -> bool {
    is_not_processed(status)
        || (idempotent
            && matches!(
                status,
                StatusCode::BAD_GATEWAY | StatusCode::GATEWAY_TIMEOUT
            ))
}

/// 429 and 503: the server says it did not process the request, so resending it is safe
/// whatever it does.
pub(crate) fn is_not_processed(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
    )
}

/// Whether a transport error may be retried: a failed connect always (nothing was sent),
/// anything else that went wrong while sending or waiting only for idempotent calls.
///
/// A TLS failure (bad certificate, not TLS at all) is never retried: it will not heal.
pub(crate) fn is_retryable_transport(error: &reqwest::Error, idempotent: bool) -> bool {
    if is_tls_failure(error) {
        return false;
    }
    if error.is_connect() {
        return true;
    }
    idempotent && (error.is_timeout() || error.is_request() || error.is_body())
}

/// Whether the failure was the TLS layer's (handshake, certificate, not TLS at all).
fn is_tls_failure(error: &reqwest::Error) -> bool {
    super::tls::rustls_error(error).is_some()
}

/// The `Retry-After` header as a wait: delay-seconds, or an HTTP date (relative to `now`).
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use http::HeaderValue;

    fn config(init: f64, max: f64, base: f64) -> BackoffConfig {
        BackoffConfig {
            init_backoff: Duration::from_secs_f64(init),
            max_backoff: Duration::from_secs_f64(max),
            base,
        }
    }

    fn close(a: Duration, b: f64) {
        assert!((a.as_secs_f64() - b).abs() < 1e-6, "{a:?} != {b}");
    }

    #[test]
    fn lowest_jitter_stays_at_init() {
        let mut b = Backoff::new(&config(1.0, 500.0, 3.0));
        for _ in 0..20 {
            close(b.next_with(0.0), 1.0);
        }
    }

    #[test]
    fn highest_jitter_grows_by_base_up_to_max() {
        let mut b = Backoff::new(&config(1.0, 500.0, 3.0));
        for i in 0..20 {
            close(b.next_with(1.0), 3f64.powi(i).min(500.0));
        }
    }

    #[test]
    fn middle_jitter() {
        let mut b = Backoff::new(&config(1.0, 500.0, 3.0));
        let mut expected = 1.0_f64;
        for _ in 0..20 {
            close(b.next_with(0.5), expected);
            expected = (1.0 + (expected * 3.0 - 1.0) / 2.0).min(500.0);
        }
    }

    #[test]
    fn random_waits_stay_in_bounds() {
        let mut b = Backoff::new(&config(0.1, 2.0, 2.0));
        let mut prev = 0.1;
        for _ in 0..100 {
            let w = b.next_wait().as_secs_f64();
            assert!((0.1 - 1e-9..=2.0 + 1e-9).contains(&w), "{w}");
            assert!(w <= prev * 2.0 + 1e-9, "{w} > 2 * {prev}");
            prev = w;
        }
    }

    #[test]
    fn degenerate_configs_do_not_panic() {
        let mut b = Backoff::new(&config(0.0, 0.0, 2.0));
        assert_eq!(b.next_wait(), Duration::ZERO);
        assert_eq!(b.next_wait(), Duration::ZERO);
        let mut b = Backoff::new(&config(1.0, 0.5, f64::NAN));
        close(b.next_wait(), 1.0);
        close(b.next_wait(), 1.0);
        let mut b = Backoff::new(&config(1.0, 10.0, f64::INFINITY));
        close(b.next_wait(), 1.0);
        close(b.next_wait(), 1.0);
    }

    #[test]
    fn state_stops_after_max_retries() {
        let cfg = RetryConfig::default()
            .with_max_retries(2)
            .with_backoff(config(0.001, 0.001, 2.0));
        let mut s = RetryState::new(&cfg);
        assert!(s.next_wait(None).is_some());
        assert!(s.next_wait(None).is_some());
        assert!(s.next_wait(None).is_none());
        assert_eq!(s.retries(), 2);
        assert!(
            RetryState::new(&RetryConfig::none())
                .next_wait(None)
                .is_none()
        );
    }

    #[test]
    fn state_stops_when_wait_exceeds_retry_timeout() {
        let cfg = RetryConfig::default().with_retry_timeout(Duration::from_secs(5));
        let mut s = RetryState::new(&cfg);
        assert_eq!(
            s.next_wait(Some(Duration::from_secs(1))),
            Some(Duration::from_secs(1))
        );
        assert_eq!(s.next_wait(Some(Duration::from_secs(60))), None);
    }

    #[test]
    fn budget_starts_when_the_first_attempt_fails() {
        let cfg = RetryConfig::default()
            .with_retry_timeout(Duration::from_millis(50))
            .with_backoff(config(0.001, 0.001, 2.0));
        let mut s = RetryState::new(&cfg);
        // A first attempt that took longer than the whole budget (a timeout) is retried.
        std::thread::sleep(Duration::from_millis(80));
        assert!(s.next_wait(None).is_some());
        // The budget then runs from that failure.
        std::thread::sleep(Duration::from_millis(80));
        assert!(s.next_wait(None).is_none());
    }

    #[test]
    fn retry_after_seconds_and_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_500_000_000);
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h, now), None);
        h.insert(RETRY_AFTER, HeaderValue::from_static(" 7 "));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        h.insert(RETRY_AFTER, HeaderValue::from_str(&later).unwrap());
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(30)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(30));
        h.insert(RETRY_AFTER, HeaderValue::from_str(&earlier).unwrap());
        assert_eq!(retry_after(&h, now), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h, now), None);
    }

    #[test]
    fn retryable_statuses() {
        let status = |s| StatusCode::from_u16(s).unwrap();
        for s in [429, 503] {
            assert!(is_retryable_status(status(s), true), "{s}");
            assert!(is_retryable_status(status(s), false), "{s} not idempotent");
        }
        for s in [502, 504] {
            assert!(is_retryable_status(status(s), true), "{s}");
            assert!(!is_retryable_status(status(s), false), "{s} not idempotent");
        }
        for s in [200, 400, 401, 404, 409, 500, 501, 507] {
            assert!(!is_retryable_status(status(s), true), "{s}");
            assert!(!is_retryable_status(status(s), false), "{s}");
        }
    }
}
