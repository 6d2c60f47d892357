//! # pushdata-server
//!
//! A reference server for the MicroStrategy Push Data API, for tests, benchmarks and local
//! development: axum on tokio, built on the wire types of `pushdata-core`.
//!
//! - Single-request workflow (`POST /api/datasets`, `PATCH .../tables/{table}`) and the
//!   multi-request workflow (models, upload sessions, chunks, asynchronous publish).
//! - Chunks are decoded as they arrive (SIMD base64, a zero-copy JSON tokenizer, typed
//!   Arrow builders) and staged in memory up to a budget, then as Arrow IPC files.
//! - Published data is stored as Parquet (snappy), one file per table version; publishing
//!   swaps a manifest atomically, so a crash leaves the previous version readable.
//! - Update policies `add`, `update`, `upsert`, `replace` are exact (see the README's
//!   policy table).
//! - One server per data directory: a second one on the same directory refuses to start
//!   ([`ServerError::DataDirLocked`]).
//! - An OpenAPI 3.1 document of every endpoint of both services (the Push Data API and
//!   the Veracity emulation) is served at [`OPENAPI_PATH`] (`GET /api-docs/openapi.json`,
//!   at the server root), generated with `utoipa` by the same calls that build the router.
//!
//! Inside, a table store that knows nothing of the API (datasets of typed tables, staging,
//! a keyed merge, the atomic versioned commit, the data-directory lock) carries the Push
//! Data API service (auth, upload sessions, chunk decoding, publish, cube instances).
//!
//! ```no_run
//! # async fn demo() -> Result<(), pushdata_server::ServerError> {
//! use pushdata_server::{Server, ServerConfig};
//! let handle = Server::start(ServerConfig::new("/tmp/pushdata-data")).await?;
//! println!("{}", handle.base_url());
//! handle.shutdown().await?;
//! # Ok(()) }
//! ```

mod body_deadline;
mod budget;
mod config;
mod error;
mod hook;
mod ids;
mod mstr;
mod openapi;
mod server;
mod store;
mod tls;
mod veracity;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

pub use config::{
    ApiTokenConfig, DEFAULT_CUBE_MEMORY_BYTES, DEFAULT_LOGIN_MODES, DEFAULT_MAX_BODY_BYTES,
    DEFAULT_PROJECT_ID, DEFAULT_PROJECT_NAME, DEFAULT_STAGING_DISK_BYTES,
    DEFAULT_STAGING_MEMORY_BYTES, DEFAULT_VERACITY_CLIENT_ID, DEFAULT_VERACITY_CLIENT_SECRET,
    DEFAULT_VERACITY_SUBSCRIPTION_KEY, DEFAULT_VERACITY_TOKEN_LIFETIME, GUEST_USER, ProjectConfig,
    ServerConfig, UserConfig,
};
pub use error::{Result, ServerError};
pub use hook::{HookError, PublishHook};
pub use openapi::OPENAPI_PATH;
pub use server::{Server, ServerHandle};
pub use tls::TlsConfig;

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
) -> Result<Vec<arrow_array::RecordBatch>> {
    Ok(store::read_table(
        &data_dir.join(mstr::DATASETS_DIR),
        dataset_id,
        table,
    )?)
}
