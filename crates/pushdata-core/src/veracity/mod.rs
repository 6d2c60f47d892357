//! Veracity Data Workbench dataset ingest: the wire format ([`wire`]), shared by the
//! client and the emulation server, and the async [`Client`].
//!
//! The ingest of a CSV file runs in five steps (see [`Client`] for a complete example):
//! 1. a token (OAuth2 client credentials), fetched and refreshed by the client;
//! 2. register: [`Client::create_dataset`] or [`Client::update_dataset`] give a job id and
//!    a SAS URI to a storage folder;
//! 3. upload: [`DataLakeUpload`] (Azure Data Lake Storage Gen2 create, append, flush);
//! 4. [`Client::start_job`];
//! 5. [`Client::wait_for_job`] polls the job status until it completes or fails.
//!
//! Schemas ([`Client::add_schema`], [`Client::schema`]) and dataset queries
//! ([`Client::query`], page by page) complete it. Errors are this module's [`Error`].

mod client;
pub mod csv;
mod error;
mod upload;
pub mod wire;

pub use client::{Client, ClientBuilder, JobWait};
pub use error::{CallContext, Error, Result, Service};
pub use upload::DataLakeUpload;

/// The gateway base URL of a service root: `ROOT/veracity/dw/gateway/api/v2`
/// ([`wire::GATEWAY_PATH`]), or ROOT itself when it already ends in a gateway path.
///
/// ```
/// use pushdata_core::veracity::gateway_url;
/// assert_eq!(
///     gateway_url("https://api.veracity.com/"),
///     "https://api.veracity.com/veracity/dw/gateway/api/v2"
/// );
/// assert_eq!(
///     gateway_url("http://h:1/veracity/dw/gateway/api/v2/"),
///     "http://h:1/veracity/dw/gateway/api/v2"
/// );
/// ```
pub fn gateway_url(root: &str) -> String {
    let root = root.trim_end_matches('/');
    if root.ends_with("/gateway/api/v2") {
        root.to_string()
    } else {
        format!("{root}{}", wire::GATEWAY_PATH)
    }
}
