//! Veracity Data Workbench ingest, the Arrow side: the dataset's CSV file and its schema.
//!
//! An ingest job takes one CSV file, uploaded through Azure Data Lake append calls, and
//! applies an [`Operation`] to the dataset with it. This module makes the file and checks
//! the job before any upload; the HTTP client is `pushdata-core`'s.
//!
//! - [`CsvParts`]: Arrow batches → the CSV file (header, comma, RFC 4180 quoting, ISO 8601
//!   dates, UTC millisecond timestamps, exact decimals; **nulls are empty fields, empty
//!   strings `""`**), encoded in parallel into parts of bounded size that end at row ends,
//!   so that the upload can append a part while the next is encoded (see [`CsvParts`]
//!   for the format and the memory held);
//! - [`schema_columns`] / [`ColumnType::arrow_type`]: the type mapping Arrow → Veracity
//!   (refusing what does not map, naming the column) and back (table below);
//! - [`check_operation`], [`check_file_columns`], [`check_upload`]: the rules of the
//!   operations (Upsert and Delete need key columns, Append a schema without keys) and of
//!   the file's columns against the schema's;
//! - [`VeracityPush`]: a Parquet file or batches into a new or existing dataset, encoded
//!   while uploaded, then the job started and waited for ([`VeracityPushReport`]), with
//!   progress events ([`VeracityEvent`]) and a stop signal; a failure or a stop before the
//!   start applies nothing and names the job it left unstarted ([`TransferError`]);
//! - [`VeracityPull`]: a dataset back as Arrow batches, page by page.
//!
//! # Type mapping
//!
//! | Arrow type | Veracity type | CSV text |
//! |---|---|---|
//! | Int8, Int16, Int32, UInt8, UInt16 | `Int32` | decimal integer |
//! | Int64, UInt32 | `Int64` | decimal integer |
//! | Float16, Float32, Float64 | `Double` | shortest round-trip text (`1.5`, `1e20`), `NaN`, `Infinity`, `-Infinity` |
//! | Decimal32/64/128, Decimal256 with precision ≤ 38 | `Decimal` | exact digits with the column's scale (`12.340`) |
//! | Boolean | `Boolean` | `true` / `false` |
//! | Utf8, LargeUtf8, Utf8View, Dictionary of them | `String` | RFC 4180 quoting when needed |
//! | Date32, Date64 | `DateOnly` | `YYYY-MM-DD` |
//! | Timestamp (any unit, any or no zone) | `DateTime` | `YYYY-MM-DDThh:mm:ss.fffZ` in UTC |
//!
//! Refused (naming the column and its Arrow type): UInt64 (may not fit Int64), Decimal256
//! with precision > 38, time of day, durations, intervals, binary, nested and null columns.
//!
//! Back from Veracity to Arrow (for pulls): `Int32` → Int32, `Int64` → Int64, `Decimal` →
//! Decimal128(38, 18) (the precision/scale of a Veracity decimal is not published; 38, 18 is
//! Spark's system default, which Veracity's delta tables likely use; values are read from
//! the JSON number's digits, exactly: more than 18 after the point are rounded half away
//! from zero, more than 20 before it fail the page), `Double` → Float64,
//! `Boolean` → Boolean, `String` → Utf8, `DateOnly` → Date32, `DateTime` →
//! Timestamp(Millisecond, "UTC") (Veracity keeps milliseconds for uploaded files).
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use arrow_array::{Int64Array, RecordBatch, StringArray};
//! use arrow_schema::{DataType, Field, Schema};
//! use pushdata_arrow::veracity::{CsvParts, Operation, SchemaColumn, ColumnType, check_upload};
//!
//! # fn main() -> Result<(), pushdata_arrow::veracity::VeracityError> {
//! let schema = Arc::new(Schema::new(vec![
//!     Field::new("id", DataType::Int64, false),
//!     Field::new("name", DataType::Utf8, true),
//! ]));
//! let batch = RecordBatch::try_new(
//!     schema.clone(),
//!     vec![
//!         Arc::new(Int64Array::from(vec![1, 2, 3])),
//!         Arc::new(StringArray::from(vec![Some("a, b"), None, Some("")])),
//!     ],
//! )
//! .map_err(|e| pushdata_arrow::veracity::VeracityError::SchemaMismatch { message: e.to_string() })?;
//! let dataset = vec![
//!     SchemaColumn::new("ID", ColumnType::Int64).with_key(true),
//!     SchemaColumn::new("Name", ColumnType::String),
//! ];
//! let mut parts = CsvParts::new(schema, 1 << 20)?;
//! check_upload(Operation::Upsert, parts.columns(), &dataset)?;
//! let mut file = Vec::new();
//! parts.push(&batch, |part| {
//!     file.extend_from_slice(&part.to_bytes());
//!     Ok::<_, pushdata_arrow::veracity::VeracityError>(())
//! })?;
//! parts.finish(|part| {
//!     file.extend_from_slice(&part.to_bytes());
//!     Ok::<_, pushdata_arrow::veracity::VeracityError>(())
//! })?;
//! assert_eq!(file, b"id,name\n1,\"a, b\"\n2,\n3,\"\"\n");
//! # Ok(())
//! # }
//! ```

mod csv;
mod csv_out;
mod csv_part;
mod csv_slice;
mod error;
mod progress;
mod pull;
mod push;
mod rules;
mod schema;
mod stage;
mod transfer_error;
mod upload;

pub use csv::{CsvParts, CsvSummary, DEFAULT_PART_BYTES, MAX_PART_MB};
pub use csv_part::CsvPart;
pub use error::VeracityError;
pub use progress::VeracityEvent;
pub use pull::{DEFAULT_QUERY_PAGE_SIZE, VeracityPull};
pub use push::{
    DEFAULT_APPENDS_IN_FLIGHT, DEFAULT_FILE_NAME, ExistingVeracityDataset, MAX_APPENDS_IN_FLIGHT,
    NewVeracityDataset, VeracityPush, VeracityPushReport,
};
pub use rules::{Operation, check_file_columns, check_operation, check_upload};
pub use schema::{ColumnType, SchemaColumn, arrow_schema, schema_columns};
pub use transfer_error::TransferError;
