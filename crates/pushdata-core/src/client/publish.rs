//! Waiting for a publish to finish: [`PublishWait`] and [`Client::wait_for_publish`].

use std::time::{Duration, Instant};

use super::Client;
use super::retry::{Backoff, BackoffConfig};
use crate::error::{Error, Result};
use crate::wire::PublishStatus;

/// How [`Client::wait_for_publish`] polls the publish status.
///
/// ```
/// use std::time::Duration;
/// use pushdata_core::{BackoffConfig, PublishWait};
///
/// let wait = PublishWait::default()
///     .with_timeout(Duration::from_secs(600))
///     .with_backoff(BackoffConfig::default().with_max_backoff(Duration::from_secs(2)));
/// assert_eq!(wait.timeout, Duration::from_secs(600));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PublishWait {
    /// The most time to wait for the publish to finish, polls included (default 30 min).
    pub timeout: Duration,
    /// The waits between polls (default: from 3 ms, each wait drawn between 3 ms and
    /// 2.5× the previous one, so they grow about 1.25× a poll, to at most 500 ms, for
    /// about twenty cheap GETs in the first second and two a second after — mstrio-py
    /// polls every second). Whatever the backoff, no wait is longer than a quarter of the
    /// time waited so far (or than the first wait, early on): a publish is seen done
    /// within about a quarter of its duration after it finished (a 25 ms publish within a
    /// few milliseconds), a long one within half a second.
    pub backoff: BackoffConfig,
}

impl Default for PublishWait {
    fn default() -> Self {
        PublishWait {
            timeout: Duration::from_secs(30 * 60),
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(3),
                max_backoff: Duration::from_millis(500),
                base: 2.5,
            },
        }
    }
}

impl PublishWait {
    /// Set the most time to wait.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Set the waits between polls.
    pub fn with_backoff(mut self, backoff: BackoffConfig) -> Self {
        self.backoff = backoff;
        self
    }
}

impl Client {
    /// Poll [`publish_status`](Client::publish_status) until the publish is done.
    ///
    /// Returns the final status when it is ready (status 1), with what the server said about
    /// each table ([`PublishStatus::tables`], e.g. rows skipped by the update policy). Polls
    /// again only while the status is in progress (6). Fails with [`Error::PublishFailed`]
    /// when the status reports a failure (3 or negative), with
    /// [`Error::PublishUnexpectedStatus`] on any other status (carrying its value and
    /// message), with [`Error::PublishTimeout`] when `wait.timeout` passes first, and with
    /// the poll's error when a poll fails (polls are retried per the client's
    /// [`RetryConfig`](super::RetryConfig)).
    pub async fn wait_for_publish(
        &self,
        dataset_id: &str,
        session_id: &str,
        wait: &PublishWait,
    ) -> Result<PublishStatus> {
        let start = Instant::now();
        let mut backoff = Backoff::new(&wait.backoff);
        let mut last: Option<PublishStatus> = None;
        let timed_out = |last: Option<PublishStatus>| Error::PublishTimeout {
            dataset_id: dataset_id.to_string(),
            session_id: session_id.to_string(),
            timeout: wait.timeout,
            last_status: last.as_ref().map(|s| s.status.0),
            last_message: last.map(|s| s.message).unwrap_or_default(),
        };
        loop {
            let remaining = wait.timeout.saturating_sub(start.elapsed());
            let poll = self.publish_status(dataset_id, session_id);
            let status = match tokio::time::timeout(remaining, poll).await {
                Ok(status) => status?,
                Err(_) => return Err(timed_out(last)),
            };
            if status.status.is_ready() {
                tracing::debug!(dataset_id, session_id, "publish finished");
                return Ok(status);
            }
            if status.status.is_failed() {
                return Err(Error::PublishFailed {
                    dataset_id: dataset_id.to_string(),
                    session_id: session_id.to_string(),
                    status: status.status.0,
                    message: status.message,
                });
            }
            if !status.status.is_in_progress() {
                return Err(Error::PublishUnexpectedStatus {
                    dataset_id: dataset_id.to_string(),
                    session_id: session_id.to_string(),
                    status: status.status.0,
                    message: status.message,
                });
            }
            let remaining = wait.timeout.saturating_sub(start.elapsed());
            if remaining.is_zero() {
                return Err(timed_out(Some(status)));
            }
            let pause = backoff.next_poll(start.elapsed()).min(remaining);
            tracing::debug!(
                dataset_id,
                session_id,
                status = status.status.0,
                message = %status.message,
                wait_ms = pause.as_millis() as u64,
                "publish still running"
            );
            last = Some(status);
            tokio::time::sleep(pause).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::retry::poll_cap;

    #[test]
    fn no_wait_is_longer_than_a_quarter_of_the_time_waited() {
        let config = PublishWait::default().backoff;
        let mut backoff = Backoff::new(&config);
        let mut waited = Duration::ZERO;
        let mut polls = 0;
        while waited < Duration::from_secs(1) {
            // The longest waits the backoff draws.
            let pause = backoff
                .next_with(1.0)
                .min(poll_cap(waited, config.init_backoff.as_secs_f64()));
            assert!(
                pause <= (waited / 4).max(Duration::from_millis(3)),
                "{pause:?} after {waited:?}"
            );
            waited += pause;
            polls += 1;
        }
        // Cheap for a long publish: about twenty polls in its first second.
        assert!((15..=40).contains(&polls), "{polls} polls");
        // The backoff still rules later on: half a second between polls at most.
        assert_eq!(
            poll_cap(Duration::from_secs(60), config.init_backoff.as_secs_f64()),
            Duration::from_secs(15)
        );
        assert!(backoff.next_with(1.0) <= config.max_backoff);
    }
}
