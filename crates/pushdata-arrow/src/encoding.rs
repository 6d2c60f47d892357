//! An entry point into the chunk encoder, for benchmarks and conformance tests.
//!
//! [`Push`](crate::Push) runs the encoder itself: nothing here is needed to push data. These
//! functions run the same code as a push does, so that `benches/encode.rs` can time the
//! encoder without a server and tests can check what it writes against a JSON parser:
//!
//! - [`encode_chunks`]: a table cut into chunks as the multi-request pipeline cuts it (no
//!   memory budget), returning their sizes;
//! - [`encode_json`] / [`encode_base64`]: a table as the JSON / base64 data of one chunk
//!   (what the single-request workflow sends);
//! - [`base64_append`]: only the base64 pass.
//!
//! Zoned timestamps are written in UTC, the default of
//! [`ModelOptions::with_utc`](crate::ModelOptions::with_utc).

use arrow_array::RecordBatch;
use pushdata_core::wire::Orientation;

use crate::encode::{self, Base64Stream, Chunker, EncodedChunk, ZoneMode};
use crate::error::Result;
use crate::model::TableModel;

/// The default target size of a chunk's base64 data, 20 MiB
/// ([`Push::with_chunk_bytes`](crate::Push::with_chunk_bytes) changes it).
///
/// The Push Data API's documentation advises chunks of 50 to 200 MB (ideally 100 MB);
/// mstrio-py, the vendor's own client, sends 100,000 rows a chunk, which is about 19 MB of
/// base64 for TPC-H lineitem. Chunks of about 20 MB start the server's work sooner (the
/// first chunk is encoded whole before it is sent) and keep both sides busy: measured
/// with `benches/bulk_load.rs` against the reference server, pushes of lineitem took about
/// 20% less wall time at SF 0.1, less server CPU time at SF 0.1 and SF 1 and less client
/// CPU time at SF 0.1 (about the same at SF 1) than with 100 MiB chunks, with half the
/// client memory (BENCHMARKS.md, "Push (session 7)").
pub const DEFAULT_CHUNK_BYTES: usize = encode::DEFAULT_CHUNK_BYTES;

/// What [`encode_chunks`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChunkSizes {
    /// Chunks.
    pub chunks: u64,
    /// Bytes of the chunks' JSON before base64, including the whitespace that pads every
    /// segment to a multiple of 3 bytes.
    pub json_bytes: usize,
    /// Bytes of the `PUT` bodies.
    pub body_bytes: usize,
    /// Separate byte buffers the bodies' data is sent as: every segment, and each chunk's
    /// end.
    pub data_buffers: usize,
}

/// Cut `batches` of `table` into chunks of at most `chunk_bytes` of base64 data (a single
/// row larger than that makes a chunk of its own), as a push does, on the current rayon
/// pool. Every chunk's body is built, then dropped.
pub fn encode_chunks(
    table: &TableModel,
    batches: &[RecordBatch],
    orientation: Orientation,
    chunk_bytes: usize,
) -> Result<ChunkSizes> {
    let mut chunker = Chunker::new(table, orientation, ZoneMode::Utc, chunk_bytes);
    let mut sizes = ChunkSizes::default();
    let mut emit = |ch: EncodedChunk| -> Result<()> {
        sizes.chunks += 1;
        sizes.json_bytes += ch.json_bytes;
        sizes.body_bytes += ch.body.len();
        sizes.data_buffers += ch.body.data().len();
        std::hint::black_box(&ch.body);
        Ok(())
    };
    for b in batches {
        chunker.push(b, &mut emit)?;
    }
    chunker.finish(&mut emit)?;
    Ok(sizes)
}

/// The JSON of `batches` of `table` as one chunk (no padding).
pub fn encode_json(
    table: &TableModel,
    batches: &[RecordBatch],
    orientation: Orientation,
) -> Result<Vec<u8>> {
    encode::encode_json(table, batches, orientation, ZoneMode::Utc)
}

/// The base64 data of `batches` of `table` as one chunk: the single-request workflow's
/// `data`.
pub fn encode_base64(
    table: &TableModel,
    batches: &[RecordBatch],
    orientation: Orientation,
) -> Result<String> {
    encode::encode_base64(table, batches, orientation, ZoneMode::Utc)
}

/// Append the base64 (standard alphabet, padded) of `bytes` to `out`, with the encoder's
/// base64 pass (base64-simd, parallel blocks on the current rayon pool).
pub fn base64_append(bytes: &[u8], out: &mut Vec<u8>) {
    let mut stream = Base64Stream::new(out);
    stream.write(bytes);
    stream.finish();
}
