//! Arrow batches -> chunk JSON (ROW or COLUMN orientation) -> base64, written in place.
//!
//! Value text formats are the ones of the workspace contract (see the table in
//! [`model`](crate::model)). Encoders write straight into reused byte buffers: no
//! `serde_json::Value`, no allocation per value. The chunk encoder ([`Chunker`]) fuses the
//! JSON and base64 passes: every parallel slice task writes base64 pieces directly.

mod base64;
pub mod budget;
mod chunk;
mod decimal;
mod json;
mod rows;
pub mod temporal;
mod values;

pub use base64::Base64Stream;
pub use budget::MemoryBudget;
pub use chunk::{Chunker, DEFAULT_CHUNK_BYTES, EncodedChunk, encode_base64, encode_json};
pub use json::write_json_string;
pub use rows::{EncodedRows, ValueFault, encode_rows, write_chunk_json};
pub use values::ZoneMode;
