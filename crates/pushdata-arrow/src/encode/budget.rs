//! A byte budget for encoded chunk data: [`MemoryBudget`] and the [`Reservation`]s taken
//! from it.
//!
//! The [`Chunker`](super::Chunker) reserves the bytes of a slice's base64 *before* encoding
//! it (an estimate; the encoder stops at the reserved size, so a slice never holds more
//! than it reserved) and keeps the reservation, trimmed to the real size, with the slice's
//! piece; the pieces' reservations move into the [`EncodedChunk`](super::EncodedChunk) and
//! are released when the chunk is dropped (after its upload, whether it succeeded or not).
//! The bytes counted are therefore those of the chunk being built, of the chunks waiting to
//! be uploaded and of the chunks being uploaded.
//!
//! Reserving never deadlocks: a reservation that does not fit waits only while something
//! else holds bytes that will be released (chunks queued or uploading); when everything
//! counted is the caller's own unfinished chunk, the caller is told to send it first; and
//! when nothing at all is held, any reservation is granted, even one larger than the limit
//! (a single row larger than the budget still goes through, alone).

use std::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// The most bytes of encoded chunk data that may exist at once. Shared (in an [`Arc`]) by
/// the encoder, which reserves, and the uploader, which releases by dropping chunks.
pub struct MemoryBudget {
    limit: usize,
    state: Mutex<BudgetState>,
    released: Condvar,
}

#[derive(Debug, Default)]
struct BudgetState {
    /// Bytes reserved now.
    used: usize,
    /// The most bytes reserved at once so far.
    peak: usize,
}

/// What [`MemoryBudget::reserve`] decided.
#[derive(Debug)]
pub(crate) enum Reserve {
    /// The bytes are reserved.
    Granted(Reservation),
    /// The bytes do not fit and everything reserved is the caller's own unfinished chunk
    /// (`own` bytes): waiting would never end, so the caller must send that chunk first.
    MustFlush,
}

impl MemoryBudget {
    /// A budget of `limit` bytes (at least 1).
    pub fn new(limit: usize) -> Arc<Self> {
        Arc::new(MemoryBudget {
            limit: limit.max(1),
            state: Mutex::new(BudgetState::default()),
            released: Condvar::new(),
        })
    }

    /// The limit in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Bytes reserved now.
    pub fn in_use(&self) -> usize {
        self.lock().used
    }

    /// The most bytes reserved at once since the budget was made. Reservations are taken
    /// before the data is written and never exceeded, so this bounds the encoded chunk data
    /// that existed at any moment.
    pub fn peak(&self) -> usize {
        self.lock().peak
    }

    fn lock(&self) -> MutexGuard<'_, BudgetState> {
        // The state is two counters, consistent after every update: a panic elsewhere
        // while the lock was held leaves nothing half-done.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn grant(self: &Arc<Self>, state: &mut BudgetState, bytes: usize) -> Reservation {
        state.used += bytes;
        state.peak = state.peak.max(state.used);
        Reservation {
            budget: Some(self.clone()),
            bytes,
        }
    }

    /// Reserve `bytes`, waiting (blocking the calling thread) while they do not fit and
    /// other holders will release bytes. `own` is how many of the reserved bytes belong to
    /// the caller's unfinished chunk (which only the caller can release, by sending it).
    pub(crate) fn reserve(self: &Arc<Self>, bytes: usize, own: usize) -> Reserve {
        let mut state = self.lock();
        let mut waited = false;
        loop {
            if state.used == 0 || state.used.saturating_add(bytes) <= self.limit {
                if waited {
                    tracing::trace!(
                        bytes,
                        used = state.used,
                        "memory budget: reserved after waiting"
                    );
                }
                return Reserve::Granted(self.grant(&mut state, bytes));
            }
            if state.used <= own {
                return Reserve::MustFlush;
            }
            if !waited {
                tracing::trace!(
                    bytes,
                    used = state.used,
                    limit = self.limit,
                    "memory budget full: waiting for an upload to end"
                );
                waited = true;
            }
            state = self.released.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Reserve `bytes` if they fit now.
    pub(crate) fn try_reserve(self: &Arc<Self>, bytes: usize) -> Option<Reservation> {
        let mut state = self.lock();
        (state.used.saturating_add(bytes) <= self.limit).then(|| self.grant(&mut state, bytes))
    }

    fn release(&self, bytes: usize) {
        let mut state = self.lock();
        state.used = state.used.saturating_sub(bytes);
        drop(state);
        self.released.notify_all();
    }
}

impl fmt::Debug for MemoryBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("MemoryBudget")
            .field("limit", &self.limit)
            .field("used", &state.used)
            .field("peak", &state.peak)
            .finish()
    }
}

/// Bytes held in a [`MemoryBudget`] (or in none: then it counts nothing); released when
/// dropped.
#[derive(Default)]
pub struct Reservation {
    budget: Option<Arc<MemoryBudget>>,
    bytes: usize,
}

impl Reservation {
    /// A reservation in no budget (an encoder without a budget).
    pub(crate) fn unlimited(bytes: usize) -> Self {
        Reservation {
            budget: None,
            bytes,
        }
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Keep only `bytes` (release the rest); never grows.
    pub(crate) fn shrink_to(&mut self, bytes: usize) {
        if bytes < self.bytes {
            let extra = self.bytes - bytes;
            self.bytes = bytes;
            if let Some(b) = &self.budget {
                b.release(extra);
            }
        }
    }

    /// Take over the bytes of `other` (of the same budget).
    pub(crate) fn absorb(&mut self, mut other: Reservation) {
        if self.budget.is_none() {
            self.budget = other.budget.take();
        }
        self.bytes += std::mem::take(&mut other.bytes);
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.bytes > 0
            && let Some(b) = &self.budget
        {
            b.release(self.bytes);
        }
    }
}

impl fmt::Debug for Reservation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reservation")
            .field("bytes", &self.bytes)
            .field("budgeted", &self.budget.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reserve_release_shrink_absorb() {
        let b = MemoryBudget::new(100);
        let Reserve::Granted(mut r1) = b.reserve(60, 0) else {
            panic!("not granted")
        };
        assert!(b.try_reserve(50).is_none());
        r1.shrink_to(40);
        assert_eq!(b.in_use(), 40);
        let r2 = b.try_reserve(50).unwrap();
        assert_eq!(b.in_use(), 90);
        // Everything held is the caller's own: waiting would never end.
        assert!(matches!(b.reserve(20, 90), Reserve::MustFlush));
        r1.absorb(r2);
        assert_eq!(r1.bytes(), 90);
        assert_eq!(b.in_use(), 90);
        drop(r1);
        assert_eq!(b.in_use(), 0);
        assert_eq!(b.peak(), 90);
        // Nothing held: even more than the limit is granted (one oversized row).
        let Reserve::Granted(big) = b.reserve(500, 0) else {
            panic!("not granted")
        };
        assert_eq!(big.bytes(), 500);
        drop(big);
        assert_eq!(b.in_use(), 0);
    }

    #[test]
    fn a_full_budget_waits_for_a_release_from_another_thread() {
        let b = MemoryBudget::new(100);
        let held = b.try_reserve(80).unwrap();
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(50));
            drop(held);
        });
        let started = std::time::Instant::now();
        let Reserve::Granted(r) = b.reserve(50, 0) else {
            panic!("not granted")
        };
        assert!(started.elapsed() >= std::time::Duration::from_millis(40));
        assert_eq!(r.bytes(), 50);
        releaser.join().unwrap();
        assert!(b.peak() <= 100);
    }
}
