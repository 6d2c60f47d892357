//! A part of the CSV file as the encoded slices it is made of ([`CsvPart`]), and the pool
//! the slices' buffers go back to once every part holding them is dropped.

use std::fmt;
use std::sync::{Arc, Mutex, Weak};

use bytes::Bytes;

/// A part of a Veracity CSV file, as emitted by [`CsvParts`](super::CsvParts): whole rows
/// (the first part starts with the header), held as the buffers they were encoded into,
/// in order, without being copied into one buffer.
///
/// Append it with
/// [`DataLakeUpload::append_segments`](pushdata_core::veracity::DataLakeUpload::append_segments)
/// (`part.into_chunks()`), which sends the chunks one after the other as one body, or take
/// one buffer with [`to_bytes`](CsvPart::to_bytes). Cloning a part counts references,
/// it copies no bytes. The encoder's buffers are reused for later parts once every clone
/// of the parts holding them is dropped.
///
/// ```
/// use std::sync::Arc;
/// use arrow_array::{Int64Array, RecordBatch};
/// use arrow_schema::{DataType, Field, Schema};
/// use pushdata_arrow::veracity::{CsvPart, CsvParts, VeracityError};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
/// let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(Int64Array::from(vec![1, 2]))])?;
/// let mut parts: Vec<CsvPart> = Vec::new();
/// let mut encoder = CsvParts::new(schema, 1 << 20)?;
/// encoder.push(&batch, |part| {
///     parts.push(part);
///     Ok::<_, VeracityError>(())
/// })?;
/// encoder.finish(|part| {
///     parts.push(part);
///     Ok::<_, VeracityError>(())
/// })?;
/// assert_eq!(parts.len(), 1);
/// assert_eq!((parts[0].rows(), parts[0].len()), (2, 6));
/// assert_eq!(parts[0].to_bytes(), "n\n1\n2\n");
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Default)]
pub struct CsvPart {
    chunks: Vec<Bytes>,
    len: usize,
    rows: u64,
}

impl CsvPart {
    /// A part starting with `chunk` (the header), without rows.
    pub(super) fn starting_with(chunk: Bytes) -> Self {
        CsvPart {
            len: chunk.len(),
            chunks: vec![chunk],
            rows: 0,
        }
    }

    /// Add `chunk`, holding `rows` whole rows, at the end.
    pub(super) fn push(&mut self, chunk: Bytes, rows: u64) {
        self.len += chunk.len();
        self.rows += rows;
        self.chunks.push(chunk);
    }

    /// Bytes of the part.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the part has no bytes (never true of an emitted part).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Data rows in the part (the header not counted).
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The part's bytes, in order, as the buffers that hold them.
    pub fn chunks(&self) -> &[Bytes] {
        &self.chunks
    }

    /// The part's bytes as the buffers that hold them (see [`chunks`](CsvPart::chunks)).
    pub fn into_chunks(self) -> Vec<Bytes> {
        self.chunks
    }

    /// The part's bytes in one buffer: its only chunk, else a copy of all.
    pub fn to_bytes(&self) -> Bytes {
        match self.chunks.as_slice() {
            [] => Bytes::new(),
            [one] => one.clone(),
            many => Bytes::from(many.concat()),
        }
    }
}

impl fmt::Debug for CsvPart {
    /// The sizes only, not the bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsvPart")
            .field("len", &self.len)
            .field("rows", &self.rows)
            .field("chunks", &self.chunks.len())
            .finish()
    }
}

/// The buffers given back, and the most bytes (of capacity) kept.
#[derive(Debug)]
struct Pooled {
    buffers: Vec<Vec<u8>>,
    bytes: usize,
    limit: usize,
    /// The least capacity of a new buffer.
    least: usize,
}

/// Buffers of encoded slices, each given back when the last [`Bytes`] of it is dropped (the
/// parts holding it were appended), so that later slices are written into memory already
/// mapped instead of faulting in fresh pages (and glibc unmapping freed ones) for each.
/// Keeps buffers of at most `limit` bytes of capacity in all; beyond that they are freed.
#[derive(Debug)]
pub(super) struct SlicePool(Arc<Mutex<Pooled>>);

impl SlicePool {
    /// A pool that keeps up to `limit` bytes of buffers, and makes new ones of at least
    /// `least` bytes of capacity (the size of the slices once parts are full size, so that
    /// buffers made while parts ramp up fit later slices too; pages never written cost no
    /// memory).
    pub(super) fn new(limit: usize, least: usize) -> Self {
        SlicePool(Arc::new(Mutex::new(Pooled {
            buffers: Vec::new(),
            bytes: 0,
            limit,
            least,
        })))
    }

    /// A buffer of at least `capacity` bytes: one given back (with the stale bytes of its
    /// last slice), else a new one with a quarter more room than `capacity` or the least
    /// size, so that slices a little longer still find it large enough. A new buffer is
    /// zeroed by the allocator (`calloc`: fresh pages from the kernel are not written again,
    /// and pages the slice never reaches are never touched); the encoder writes over bytes
    /// already there without zeroing them first. Buffers given back too small are freed on
    /// the way.
    pub(super) fn take(&self, capacity: usize) -> Vec<u8> {
        let mut least = capacity;
        if let Ok(mut pooled) = self.0.lock() {
            least = least.max(pooled.least);
            while let Some(buf) = pooled.buffers.pop() {
                pooled.bytes -= buf.capacity();
                if buf.capacity() >= capacity {
                    return buf;
                }
            }
        }
        vec![0; least.saturating_add(least / 4)]
    }

    /// `buf` as shared bytes, given back to this pool when the last handle is dropped.
    pub(super) fn share(&self, buf: Vec<u8>) -> Bytes {
        Bytes::from_owner(PooledBuffer {
            bytes: buf,
            pool: Arc::downgrade(&self.0),
        })
    }
}

/// A slice's buffer, given back to its pool (if the encoder still lives) on drop.
struct PooledBuffer {
    bytes: Vec<u8>,
    pool: Weak<Mutex<Pooled>>,
}

impl AsRef<[u8]> for PooledBuffer {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

impl Drop for PooledBuffer {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.upgrade()
            && let Ok(mut pooled) = pool.lock()
            && pooled.bytes + self.bytes.capacity() <= pooled.limit
        {
            pooled.bytes += self.bytes.capacity();
            pooled.buffers.push(std::mem::take(&mut self.bytes));
        }
    }
}
