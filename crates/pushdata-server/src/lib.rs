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

/// Read a table's published rows straight from a data directory (table by id or name),
/// without a running server: what a pipeline's test checks after a push.
///
/// It reads the version the last successful publish swapped in, so it sees either the old
/// or the new rows of a publish in progress, never a mix. Through HTTP, the same data is read
/// with the Cube API (`pushdata_arrow::Pull`).
///
/// ```no_run
/// let batches = pushdata_server::read_table(
///     std::path::Path::new(".pushdata"),
///     "9E425B658EDEC0896F5D9602BA0B03EC",
///     "sales",
/// )?;
/// let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
/// # Ok::<(), pushdata_server::ServerError>(())
/// ```
pub fn read_table(
    data_dir: &std::path::Path,
    dataset_id: &str,
    table: &str,
) -> Result<Vec<arrow_array::RecordBatch>, ServerError> {
    storage::read_table(data_dir, dataset_id, table)
}
