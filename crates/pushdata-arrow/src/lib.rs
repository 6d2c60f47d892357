//! # pushdata-arrow
//!
//! Push Apache Arrow and Parquet data into datasets through the Push Data API, and read
//! them back:
//!
//! - [`Push`]: a new dataset ([`Push::create`]) or an existing one ([`Push::into_dataset`]),
//!   tables from Parquet files, batch iterators, async streams or memory, pushed through a
//!   streaming, bounded pipeline; awaiting it gives a [`PushReport`];
//! - [`Pull`]: a dataset read through the Cube API, page by page, as Arrow batches or into a
//!   Parquet file;
//! - [`model`]: how Arrow schemas become column headers, attributes and metrics
//!   ([`infer_model`], with the type mapping table), steered by [`ModelOptions`].
//!
//! ```no_run
//! use pushdata_arrow::{ModelOptions, ProgressEvent, Push};
//! use pushdata_core::wire::{Orientation, UpdatePolicy};
//! use pushdata_core::{Client, Credentials};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::builder("http://127.0.0.1:8080/MicroStrategyLibrary").build()?;
//! client.login(Credentials::standard("administrator", "")).await?;
//! client.select_project("MicroStrategy Tutorial").await?;
//! let report = Push::create(client.clone(), "sales")
//!     .with_parquet_table("sales", "data/sales.parquet")
//!     .with_policy(UpdatePolicy::Replace)
//!     .with_orientation(Orientation::Column)
//!     .with_model_options(ModelOptions::default().with_attribute("Year"))
//!     .with_progress(|e: ProgressEvent| tracing::info!(?e, "push progress"))
//!     .await?;
//! println!("{} rows in {} chunks", report.tables[0].rows, report.chunks);
//! # Ok(())
//! # }
//! ```
//!
//! Peak memory of a push is bounded whatever the input size, by a byte budget for encoded
//! chunk data (default 1.5 chunks) plus a few decoded batches: see the
//! [memory bound](Push#memory-bound).
//!
//! [`veracity`]: Veracity Data Workbench ingest: [`VeracityPush`] (a Parquet file or
//! batches into a new dataset or an existing one with Upsert / Delete / Overwrite / Append,
//! the CSV file encoded in parallel parts while the previous part is uploaded, then the job
//! started and waited for) and [`VeracityPull`] (a dataset back as Arrow batches, page by
//! page), over the Arrow ↔ Veracity column type mapping and the operation rules checked
//! before an upload.
//!
//! The [`encoding`] module is an entry point into the chunk encoder for benchmarks and
//! conformance tests; pushing data does not need it.

mod encode;
pub mod encoding;
mod error;
pub mod model;
mod pull;
mod push;
mod source;
pub mod veracity;

pub use error::{Error, Result};
pub use model::{
    AttributeModel, ColumnModel, FormModel, MetricModel, Model, ModelError, ModelOptions, Role,
    RoleReason, TableModel, TableSchema, infer_model,
};
pub use pull::{DEFAULT_CONCURRENCY, DEFAULT_PAGE_SIZE, PageError, Pull, PullPages, PullReport};
pub use push::{
    DEFAULT_SESSION_KEEPALIVE, Difference, DifferenceKind, ExistingDataset, IfExists, NewDataset,
    PlanSummary, PlannedDataset, ProgressEvent, Push, PushPlan, PushReport, TablePlan,
    TablePlanSummary, TableReport, Workflow,
};
pub use source::{
    BatchItem, FileFormat, InputError, InputOptions, InputSource, ParquetSource, SchemaDifference,
    StorageOptions,
};
pub use veracity::{VeracityPull, VeracityPush, VeracityPushReport};
