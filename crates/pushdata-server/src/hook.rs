//! A seam for tests: code the server runs at fixed points of every publish, passed in with
//! [`Server::start_with_hook`](crate::Server::start_with_hook). The server's own
//! configuration has no fault switches; a test that needs a fault or a delay brings it.

use std::fmt;

/// Code run at fixed points of every publish (upload-session publishes and the
/// single-request workflow alike). Every method has a default that does nothing.
///
/// ```
/// use pushdata_server::{HookError, PublishHook};
///
/// /// Fail every publish between writing its files and swapping them in, as a crash
/// /// at that moment would.
/// #[derive(Debug)]
/// struct CrashBeforeSwap;
///
/// impl PublishHook for CrashBeforeSwap {
///     fn before_swap(&self, _dataset_id: &str, _version: u64) -> Result<(), HookError> {
///         Err(HookError::new("fault injection"))
///     }
/// }
/// ```
pub trait PublishHook: fmt::Debug + Send + Sync + 'static {
    /// Called on a blocking thread when the publish of an upload session starts, before it
    /// waits for the dataset's publish lock. A test can sleep here to observe the running
    /// status or to cancel the publish.
    fn before_publish(&self, dataset_id: &str) {
        let _ = dataset_id;
    }

    /// Called after the new version's files are written and fsynced, just before the
    /// manifest swap. An error stops the publish there: the new files are removed and the
    /// previous version stays current.
    fn before_swap(&self, dataset_id: &str, version: u64) -> Result<(), HookError> {
        let _ = (dataset_id, version);
        Ok(())
    }
}

/// The hook of a server started without one.
#[derive(Debug)]
pub(crate) struct NoHook;

impl PublishHook for NoHook {}

/// Why a [`PublishHook`] stopped a publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookError {
    reason: String,
}

impl HookError {
    /// A hook error with a reason, reported in the publish status.
    pub fn new(reason: impl Into<String>) -> Self {
        HookError {
            reason: reason.into(),
        }
    }
}

impl fmt::Display for HookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for HookError {}
