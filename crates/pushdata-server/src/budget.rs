//! A number of bytes of memory (or disk) that may be in use at once, shared by its users:
//! a user charges what it holds and gives it back by dropping the charge.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A number of bytes that may be in use at once.
#[derive(Debug)]
pub(crate) struct Budget {
    /// The most bytes in use at once.
    limit: usize,
    /// The bytes in use.
    used: Arc<AtomicUsize>,
}

impl Budget {
    /// The most bytes in use at once.
    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// Bytes in use.
    #[cfg(test)]
    pub(crate) fn used(&self) -> usize {
        self.used.load(Ordering::SeqCst)
    }

    /// A budget of `limit` bytes, none in use.
    pub(crate) fn new(limit: usize) -> Self {
        Budget {
            limit,
            used: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Charge `bytes` if they fit.
    pub(crate) fn try_charge(&self, bytes: usize) -> Option<Charge> {
        self.used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |u| {
                u.checked_add(bytes).filter(|n| *n <= self.limit)
            })
            .ok()?;
        Some(Charge {
            bytes,
            used: self.used.clone(),
        })
    }
}

/// Bytes charged on a [`Budget`], given back on drop.
#[derive(Debug)]
pub(crate) struct Charge {
    /// The bytes charged.
    bytes: usize,
    /// The budget's bytes in use.
    used: Arc<AtomicUsize>,
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.used.fetch_sub(self.bytes, Ordering::SeqCst);
    }
}
