//! Arrow batches -> chunk JSON (ROW or COLUMN orientation) -> base64, written in place.
//!
//! Value text formats are the ones of the workspace contract (see the table in
//! [`model`](crate::model)). Encoders write straight into reused byte buffers: no
//! `serde_json::Value`, no allocation per value. The chunk encoder ([`Chunker`]) fuses the
//! JSON and base64 passes: every parallel encoding task writes its piece's base64 directly.
//!
//! # Parts of a chunk
//!
//! One word per part, in names and docs alike:
//!
//! - **chunk**: one `PUT` of a table's rows ([`EncodedChunk`]): an envelope (table, index)
//!   around `data`, the base64 of the chunk's JSON;
//! - **slice**: consecutive rows of a batch (a zero-copy `RecordBatch::slice`), encoded by
//!   one task; a **group** is the slices encoded in parallel at once;
//! - **piece**: what a slice becomes, in one buffer: base64 in the chunk encoder (its
//!   buffer counted in the [`MemoryBudget`]), plain JSON in the one-shot encoders;
//! - **segment**: a piece holds one segment (ROW: its rows) or one per column (COLUMN: that
//!   column's values); a chunk's JSON is its pieces' segments, segment 0 of every piece
//!   first;
//! - **separator**: the JSON before a segment (`[`, `[[`, `],[` or `,`), which the chunk
//!   encoder pads to 3 bytes and writes, as base64, into the **slot** every segment starts
//!   with;
//! - **end**: the JSON after the last segment (`]` or `]]`).
//!
//! Separators, ends and empty chunks are defined once, for both orientations and both kinds
//! of encoders, by [`Framing`](framing::Framing).

mod base64;
pub(crate) mod budget;
mod chunk;
pub(crate) mod decimal;
pub(crate) mod digits;
mod framing;
mod json;
mod rows;
pub(crate) mod temporal;
mod values;

#[cfg(test)]
mod tests;

pub(crate) use base64::Base64Stream;
pub(crate) use budget::MemoryBudget;
pub(crate) use chunk::{Chunker, DEFAULT_CHUNK_BYTES, EncodedChunk, encode_base64, encode_json};
pub(crate) use values::ZoneMode;
