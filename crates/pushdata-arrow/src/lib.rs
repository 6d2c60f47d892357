//! # pushdata-arrow
//!
//! Push Apache Arrow and Parquet data into datasets through the Push Data API:
//!
//! - [`model`]: Arrow schemas -> column headers, attributes and metrics
//!   ([`infer_model`], with the type mapping table);
//! - [`encode`]: per-type encoders writing chunk JSON (ROW / COLUMN) and base64 in place,
//!   cut into chunks of a target size;
//! - [`source`]: Parquet files and RecordBatch iterators / streams;
//! - [`push`]: the streaming, bounded push pipeline ([`Push`]);
//! - [`pull`]: getting data out through the Cube API, page by page ([`Pull`]).

pub mod encode;
mod error;
pub mod model;
pub mod pull;
pub mod push;
pub mod source;

pub use error::{Error, Result};
pub use model::{
    AttributeModel, ColumnModel, FormModel, MetricModel, Model, ModelOptions, Role, TableModel,
    TableSchema, infer_model,
};
pub use pull::{Pull, PullPages, PullReport};
pub use push::{ProgressEvent, ProgressSink, Push, PushReport, TableReport, Workflow};
pub use source::ParquetSource;
