//! Byte buffers and element tables used again from page to page: a page's JSON, the parts
//! it is built from and its attributes' element tables
//! are large (megabytes for a page of 50,000 rows), and a fresh allocation of that size
//! costs page faults and zeroing on every page. A rendered page's buffers go back to the
//! server's [`BufferPool`] (the page's JSON when its response body is dropped), up to a
//! bound in bytes; beyond it they are freed.

use std::sync::Arc;

use parking_lot::Mutex;

use super::grid::Elements;

/// The most bytes of buffers a server keeps for pages to come.
pub(crate) const POOLED_BYTES: usize = 128 << 20;

/// Buffers kept for pages to come.
#[derive(Debug, Default)]
pub(crate) struct BufferPool {
    /// What is kept.
    kept: Mutex<Kept>,
}

/// The buffers and element tables kept.
#[derive(Debug, Default)]
struct Kept {
    /// Byte buffers (empty, with their capacity).
    bufs: Vec<Vec<u8>>,
    /// Element tables (empty, with their capacity).
    elements: Vec<Elements>,
    /// The bytes of all of them.
    bytes: usize,
}

impl BufferPool {
    /// An empty buffer, one kept if any (the largest of the last few given back).
    pub(crate) fn take(&self) -> Vec<u8> {
        let mut kept = self.kept.lock();
        let Kept { bufs, bytes, .. } = &mut *kept;
        let Some(at) = (0..bufs.len())
            .rev()
            .take(4)
            .max_by_key(|i| bufs[*i].capacity())
        else {
            return Vec::new();
        };
        let buf = bufs.swap_remove(at);
        *bytes -= buf.capacity();
        buf
    }

    /// Keep `buf` (emptied) for a page to come, if the pool has room for it.
    pub(crate) fn give(&self, mut buf: Vec<u8>) {
        buf.clear();
        let mut kept = self.kept.lock();
        if buf.capacity() > 0 && kept.bytes + buf.capacity() <= POOLED_BYTES {
            kept.bytes += buf.capacity();
            kept.bufs.push(buf);
        }
    }

    /// Empty element tables, ones kept if any.
    pub(super) fn take_elements(&self) -> Elements {
        let mut kept = self.kept.lock();
        match kept.elements.pop() {
            Some(e) => {
                kept.bytes -= e.retained_bytes();
                e
            }
            None => Elements::default(),
        }
    }

    /// Keep `e` (emptied) for a page to come, if the pool has room for it.
    pub(super) fn give_elements(&self, mut e: Elements) {
        e.reset();
        let size = e.retained_bytes();
        let mut kept = self.kept.lock();
        if kept.bytes + size <= POOLED_BYTES {
            kept.bytes += size;
            kept.elements.push(e);
        }
    }
}

/// The JSON of a rendered page; its buffer goes back to the pool when it is dropped.
#[derive(Debug)]
pub(crate) struct PageBytes {
    /// The JSON.
    buf: Vec<u8>,
    /// Where the buffer goes back to.
    pool: Arc<BufferPool>,
}

impl PageBytes {
    /// `buf`, given back to `pool` when dropped.
    pub(crate) fn new(buf: Vec<u8>, pool: Arc<BufferPool>) -> Self {
        PageBytes { buf, pool }
    }
}

impl AsRef<[u8]> for PageBytes {
    fn as_ref(&self) -> &[u8] {
        &self.buf
    }
}

impl Drop for PageBytes {
    fn drop(&mut self) {
        self.pool.give(std::mem::take(&mut self.buf));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_come_back_empty_up_to_the_bound() {
        let pool = Arc::new(BufferPool::default());
        let mut a = pool.take();
        a.extend_from_slice(b"page");
        let cap = a.capacity();
        drop(PageBytes::new(a, pool.clone()));
        let b = pool.take();
        assert!(
            b.is_empty() && b.capacity() == cap,
            "the same buffer, emptied"
        );
        pool.give(Vec::with_capacity(POOLED_BYTES + 1));
        assert_eq!(
            pool.take().capacity(),
            0,
            "a buffer over the bound is not kept"
        );
    }
}
