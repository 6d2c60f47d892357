//! # pushdata-arrow
//!
//! Push Apache Arrow and Parquet data into datasets through the Push Data API:
//!
//! - [`model`]: Arrow schemas -> column headers, attributes and metrics
//!   ([`infer_model`], with the type mapping table);
//! - [`encode`]: per-type encoders writing chunk JSON (ROW / COLUMN) and base64 in place,
//!   cut into chunks of a target size;
//! - [`source`]: Parquet files and RecordBatch iterators / streams;
//! - [`push`]: the streaming, bounded push pipeline ([`Push`]).
//!
//! ```no_run
//! use pushdata_arrow::{ModelOptions, Push, ProgressEvent};
//! use pushdata_core::wire::{Orientation, UpdatePolicy};
//! use pushdata_core::{Client, Credentials};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::builder("http://127.0.0.1:8080/MicroStrategyLibrary").build()?;
//! client.login(Credentials::standard("administrator", "")).await?;
//! client.select_project("MicroStrategy Tutorial").await?;
//! let report = Push::new(client.clone())
//!     .with_dataset_name("sales")
//!     .with_parquet_table("sales", "data/sales.parquet")
//!     .with_policy(UpdatePolicy::Replace)
//!     .with_orientation(Orientation::Column)
//!     .with_model_options(ModelOptions::default().with_attribute("Year"))
//!     .with_progress(|e: ProgressEvent| tracing::info!(?e, "push progress"))
//!     .execute()
//!     .await?;
//! println!("{} rows in {} chunks", report.tables[0].rows, report.chunks);
//! # Ok(())
//! # }
//! ```
//!
//! Peak memory of a push is bounded whatever the input size: about
//! `(concurrency + 2) × chunk_bytes` of chunk bodies plus one chunk of encoded JSON and the
//! batches being read (see [`push`]).

pub mod encode;
mod error;
pub mod model;
pub mod push;
pub mod source;

pub use error::{Error, Result};
pub use model::{
    AttributeModel, ColumnModel, FormModel, MetricModel, Model, ModelOptions, Role, TableModel,
    TableSchema, infer_model,
};
pub use push::{ProgressEvent, ProgressSink, Push, PushOptions, PushReport, TableReport, Workflow};
pub use source::ParquetSource;
