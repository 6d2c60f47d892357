//! # pushdata-server
//!
//! A reference server for the MicroStrategy Push Data API, for tests, benchmarks and local
//! development: axum on tokio, built on the wire types of `pushdata-core`.
//!
//! - Single-request workflow (`POST /api/datasets`, `PATCH .../tables/{table}`) and the
//!   multi-request workflow (models, upload sessions, chunks, asynchronous publish).
//! - Chunks are decoded as they arrive (SIMD base64, a zero-copy JSON tokenizer, typed
//!   Arrow builders) and spilled to Arrow IPC staging files, so memory stays bounded by
//!   the chunks in flight.
//! - Published data is stored as Parquet (snappy), one file per table version; publishing
//!   swaps a manifest atomically, so a crash leaves the previous version readable.
//! - Update policies `add`, `update`, `upsert`, `replace` are exact (see [`policy`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), pushdata_server::ServerError> {
//! use pushdata_server::{Server, ServerConfig};
//! let handle = Server::start(ServerConfig::new("/tmp/pushdata-data")).await?;
//! println!("{}", handle.base_url());
//! handle.shutdown().await?;
//! # Ok(()) }
//! ```

pub mod auth;
pub mod config;
pub mod cube;
pub mod decode;
pub mod error;
pub mod ids;
pub mod policy;
pub mod routes;
pub mod server;
pub mod sessions;
pub mod storage;

pub use config::{ProjectConfig, ServerConfig, UserConfig};
pub use error::ServerError;
pub use server::{Server, ServerHandle};

/// Read a table's published rows from a data directory (table by id or name).
#[doc(hidden)]
pub fn read_table(
    data_dir: &std::path::Path,
    dataset_id: &str,
    table: &str,
) -> Result<Vec<arrow_array::RecordBatch>, ServerError> {
    storage::read_table(data_dir, dataset_id, table)
}
