//! A byte budget for encoded chunk data: [`MemoryBudget`], which hands out the buffers the
//! chunk encoder writes its base64 pieces into and takes them back for reuse.
//!
//! What is counted is the capacity of every piece buffer that exists: those being written,
//! those of the chunk being built, of the chunks waiting to be uploaded and being uploaded,
//! and those given back and kept for reuse. So the bound is on real memory, and a buffer is
//! reused instead of freed and allocated again (no fragmentation, no fresh pages to fault
//! in for every chunk).
//!
//! The [`Chunker`](super::Chunker) asks for a buffer of the estimated size of a slice's
//! base64 *before* encoding it, and never writes past its capacity (a slice that needs more
//! is encoded again with a larger buffer). A buffer goes back to the budget when the last
//! [`Bytes`] of its chunk's body is dropped — after the chunk's upload ended, whether it
//! succeeded or not.
//!
//! Asking never deadlocks: a buffer is taken from the kept ones if one is large enough,
//! else allocated if it fits (kept ones are freed to make room); a request that does not
//! fit waits only while something else holds buffers that will come back (chunks queued or
//! uploading); when everything counted is the caller's own unfinished chunk, the caller is
//! told to send it first; and when nothing at all is counted, any request is granted, even
//! one larger than the limit (a single row larger than the budget still goes through,
//! alone).

use std::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use bytes::Bytes;

/// The most bytes of encoded chunk data (piece buffers) that may exist at once. Shared (in
/// an [`Arc`]) by the encoder, which takes buffers, and the chunks' bodies, which give them
/// back when dropped.
pub(crate) struct MemoryBudget {
    limit: usize,
    state: Mutex<BudgetState>,
    returned: Condvar,
}

#[derive(Debug, Default)]
struct BudgetState {
    /// Capacity of every buffer that exists (in use or kept).
    used: usize,
    /// The most `used` so far.
    peak: usize,
    /// Buffers given back, kept for reuse (counted in `used`).
    kept: Vec<Vec<u8>>,
}

impl BudgetState {
    fn count(&mut self, bytes: usize) {
        self.used += bytes;
        self.peak = self.peak.max(self.used);
    }

    /// The smallest kept buffer of at least `bytes` (and not much more: a buffer's slack
    /// counts, as it takes room in the budget and in a chunk).
    fn take_fitting(&mut self, bytes: usize) -> Option<Vec<u8>> {
        let most = bytes.saturating_add(bytes / 4).saturating_add(64);
        let i = self
            .kept
            .iter()
            .enumerate()
            .filter(|(_, v)| (bytes..=most).contains(&v.capacity()))
            .min_by_key(|(_, v)| v.capacity())
            .map(|(i, _)| i)?;
        let mut v = self.kept.swap_remove(i);
        v.clear();
        Some(v)
    }

    /// Free the largest kept buffer; false if none is kept.
    fn free_one(&mut self) -> bool {
        let Some(i) = self
            .kept
            .iter()
            .enumerate()
            .max_by_key(|(_, v)| v.capacity())
            .map(|(i, _)| i)
        else {
            return false;
        };
        let v = self.kept.swap_remove(i);
        self.used -= v.capacity().min(self.used);
        true
    }
}

/// `bytes` rounded up to a size class (a multiple of a power of two of about 1/16 of it,
/// at least 64), so that requests that differ a little get buffers of the same size and the
/// kept buffers fit the next requests; never rounded past `limit`.
fn size_class(bytes: usize, limit: usize) -> usize {
    let granule = (bytes / 16).next_power_of_two().max(64);
    bytes
        .div_ceil(granule)
        .saturating_mul(granule)
        .min(limit.max(bytes))
}

/// What [`MemoryBudget::reserve`] decided.
#[derive(Debug)]
pub(crate) enum Reserve {
    /// A buffer of at least the bytes asked for.
    Granted(PieceBuf),
    /// The bytes do not fit and everything counted is the caller's own unfinished chunk:
    /// waiting would never end, so the caller must send that chunk first.
    MustFlush,
}

/// Where a new buffer comes from, decided under the lock.
enum Source {
    Kept(Vec<u8>),
    Allocate(usize),
}

impl MemoryBudget {
    /// A budget of `limit` bytes (at least 1).
    pub(crate) fn new(limit: usize) -> Arc<Self> {
        Arc::new(MemoryBudget {
            limit: limit.max(1),
            state: Mutex::new(BudgetState::default()),
            returned: Condvar::new(),
        })
    }

    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// Bytes counted now: the capacity of every piece buffer that exists, in use or kept
    /// for reuse.
    #[cfg(test)]
    pub(crate) fn in_use(&self) -> usize {
        self.lock().used
    }

    /// Bytes of the buffers kept for reuse (part of [`in_use`](MemoryBudget::in_use)).
    #[cfg(test)]
    pub(crate) fn kept(&self) -> usize {
        self.lock().kept.iter().map(Vec::capacity).sum()
    }

    /// The most bytes counted at once since the budget was made: a bound on the encoded
    /// chunk data that existed at any moment.
    pub(crate) fn peak(&self) -> usize {
        self.lock().peak
    }

    fn lock(&self) -> MutexGuard<'_, BudgetState> {
        // The state is counters and a list of buffers, consistent after every update: a
        // panic elsewhere while the lock was held leaves nothing half-done.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn buffer(self: &Arc<Self>, source: Source) -> PieceBuf {
        let vec = match source {
            Source::Kept(v) => v,
            Source::Allocate(bytes) => Vec::with_capacity(bytes),
        };
        PieceBuf {
            counted: vec.capacity(),
            vec,
            budget: Some(self.clone()),
        }
    }

    /// Fix the count of a freshly allocated buffer (the allocator may round up).
    fn recount(&self, buf: &mut PieceBuf, asked: usize) {
        if buf.counted != asked {
            let mut state = self.lock();
            state.used = state.used - asked.min(state.used);
            state.count(buf.counted);
        }
    }

    /// A buffer of at least `bytes`, waiting (blocking the calling thread) while it does
    /// not fit and other holders will give buffers back. `own` is how many of the counted
    /// bytes are the caller's unfinished chunk (which only the caller can release, by
    /// sending it).
    pub(crate) fn reserve(self: &Arc<Self>, bytes: usize, own: usize) -> Reserve {
        let bytes = size_class(bytes, self.limit);
        let mut state = self.lock();
        let mut waited = false;
        let source = loop {
            if let Some(v) = state.take_fitting(bytes) {
                break Source::Kept(v);
            }
            if state.used == 0 || state.used.saturating_add(bytes) <= self.limit {
                state.count(bytes);
                break Source::Allocate(bytes);
            }
            if state.free_one() {
                continue;
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
            state = self.returned.wait(state).unwrap_or_else(|e| e.into_inner());
        };
        drop(state);
        let fresh = matches!(source, Source::Allocate(_));
        let mut buf = self.buffer(source);
        if fresh {
            self.recount(&mut buf, bytes);
        }
        Reserve::Granted(buf)
    }

    /// A buffer of at least `bytes` if one can be had now.
    pub(crate) fn try_reserve(self: &Arc<Self>, bytes: usize) -> Option<PieceBuf> {
        let bytes = size_class(bytes, self.limit);
        let mut state = self.lock();
        let source = loop {
            if let Some(v) = state.take_fitting(bytes) {
                break Source::Kept(v);
            }
            if state.used.saturating_add(bytes) <= self.limit {
                state.count(bytes);
                break Source::Allocate(bytes);
            }
            if !state.free_one() {
                return None;
            }
        };
        drop(state);
        let fresh = matches!(source, Source::Allocate(_));
        let mut buf = self.buffer(source);
        if fresh {
            self.recount(&mut buf, bytes);
        }
        Some(buf)
    }

    /// Take back a buffer counted as `counted` bytes: kept for reuse.
    fn give_back(&self, vec: Vec<u8>, counted: usize) {
        let mut state = self.lock();
        state.used -= counted.min(state.used);
        if vec.capacity() > 0 {
            state.count(vec.capacity());
            state.kept.push(vec);
        }
        drop(state);
        self.returned.notify_all();
    }
}

impl fmt::Debug for MemoryBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("MemoryBudget")
            .field("limit", &self.limit)
            .field("used", &state.used)
            .field("peak", &state.peak)
            .field("kept", &state.kept.len())
            .finish()
    }
}

/// A piece buffer, counted in a [`MemoryBudget`] (or in none: a plain `Vec`) until it is
/// given back: dropped, or frozen into [`Bytes`] by [`into_bytes`](PieceBuf::into_bytes)
/// and those dropped.
#[derive(Default)]
pub(crate) struct PieceBuf {
    vec: Vec<u8>,
    /// Bytes counted in the budget for it.
    counted: usize,
    budget: Option<Arc<MemoryBudget>>,
}

impl PieceBuf {
    /// A buffer of `bytes` outside any budget.
    pub(crate) fn unlimited(bytes: usize) -> Self {
        PieceBuf {
            vec: Vec::with_capacity(bytes),
            counted: 0,
            budget: None,
        }
    }

    /// The buffer (write only up to its capacity: that is what is counted).
    pub(crate) fn vec(&mut self) -> &mut Vec<u8> {
        &mut self.vec
    }

    pub(crate) fn len(&self) -> usize {
        self.vec.len()
    }

    /// Bytes counted for it (its capacity when it was handed out).
    pub(crate) fn counted(&self) -> usize {
        self.counted
    }

    /// Freeze into [`Bytes`] (no copy); the buffer goes back to its budget when the last of
    /// those bytes (and their slices) is dropped.
    pub(crate) fn into_bytes(mut self) -> Bytes {
        let vec = std::mem::take(&mut self.vec);
        match self.budget.take() {
            None => Bytes::from(vec),
            Some(budget) => Bytes::from_owner(Kept {
                vec,
                counted: std::mem::take(&mut self.counted),
                budget,
            }),
        }
    }
}

impl Drop for PieceBuf {
    fn drop(&mut self) {
        if let Some(b) = self.budget.take() {
            b.give_back(std::mem::take(&mut self.vec), self.counted);
        }
    }
}

impl fmt::Debug for PieceBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PieceBuf")
            .field("len", &self.vec.len())
            .field("counted", &self.counted)
            .field("budgeted", &self.budget.is_some())
            .finish()
    }
}

/// The owner of a frozen piece's bytes: gives the buffer back to its budget when dropped.
struct Kept {
    vec: Vec<u8>,
    counted: usize,
    budget: Arc<MemoryBudget>,
}

impl AsRef<[u8]> for Kept {
    fn as_ref(&self) -> &[u8] {
        &self.vec
    }
}

impl Drop for Kept {
    fn drop(&mut self) {
        self.budget
            .give_back(std::mem::take(&mut self.vec), self.counted);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn granted(r: Reserve) -> PieceBuf {
        match r {
            Reserve::Granted(b) => b,
            Reserve::MustFlush => panic!("not granted"),
        }
    }

    #[test]
    fn buffers_are_counted_kept_and_reused() {
        let b = MemoryBudget::new(100);
        let mut b1 = granted(b.reserve(60, 0));
        assert!(b1.vec().capacity() >= 60);
        assert_eq!(b.in_use(), b1.counted());
        assert!(b.try_reserve(50).is_none());
        b1.vec().extend_from_slice(b"QUJD");
        let bytes = b1.into_bytes();
        let slice = bytes.slice(1..3);
        drop(bytes);
        // A slice still holds the buffer.
        assert_eq!(b.kept(), 0);
        drop(slice);
        assert_eq!(b.kept(), b.in_use());
        // Reused: nothing new counted.
        let before = b.in_use();
        let b2 = granted(b.reserve(40, 0));
        assert_eq!(b.in_use(), before);
        assert_eq!(b.kept(), 0);
        // Everything counted is the caller's own: waiting would never end.
        assert!(matches!(b.reserve(80, b2.counted()), Reserve::MustFlush));
        drop(b2);
        // A kept buffer too small is freed to make room.
        let mut b3 = granted(b.reserve(90, 0));
        assert!(b3.vec().capacity() >= 90);
        assert!(b.in_use() <= 100);
        drop(b3);
        assert!(b.peak() <= 100);
        // Nothing counted but kept buffers: even more than the limit is granted (one
        // oversized row), after the kept ones are freed.
        let mut big = granted(b.reserve(500, 0));
        assert!(big.vec().capacity() >= 500);
        drop(big);
        assert_eq!(b.in_use(), b.kept());
    }

    #[test]
    fn a_full_budget_waits_for_a_buffer_from_another_thread() {
        let b = MemoryBudget::new(100);
        let held = b.try_reserve(80).unwrap().into_bytes();
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(50));
            drop(held);
        });
        let started = std::time::Instant::now();
        let mut r = granted(b.reserve(50, 0));
        assert!(started.elapsed() >= std::time::Duration::from_millis(40));
        assert!(r.vec().capacity() >= 50);
        releaser.join().unwrap();
        assert!(b.peak() <= 100);
    }
}
