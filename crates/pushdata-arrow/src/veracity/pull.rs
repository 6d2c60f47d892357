//! [`VeracityPull`]: a Veracity dataset read through the query API, page by page, as Arrow
//! batches typed by the dataset's schema.

use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use futures::stream::{self, BoxStream};
use futures::{StreamExt, TryStreamExt};
use pushdata_core::veracity::Client;
use pushdata_core::veracity::wire::QueryRequest;

use super::schema::{SchemaColumn, arrow_schema};
use super::transfer_error::TransferError;

/// Rows per query page unless [`VeracityPull::with_page_size`] says otherwise.
pub const DEFAULT_QUERY_PAGE_SIZE: u64 = 1000;

/// Reads a Veracity dataset as Arrow batches, one per query page (1-based `pageIndex`),
/// typed by the dataset's schema ([`arrow_schema()`](super::arrow_schema())).
///
/// The schema comes from [`with_schema_id`](Self::with_schema_id) (its current version is
/// fetched) or [`with_columns`](Self::with_columns); without either, the pull fails with
/// [`TransferError::Config`] (the query API does not say a dataset's schema).
///
/// ```no_run
/// use pushdata_arrow::veracity::VeracityPull;
/// # async fn run(client: pushdata_core::veracity::Client) -> Result<(), Box<dyn std::error::Error>> {
/// let (schema, batches) = VeracityPull::new(client, "dataset-id")
///     .with_schema_id("schema-id")
///     .collect()
///     .await?;
/// println!("{} columns, {} batches", schema.fields().len(), batches.len());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a pull does nothing until it is read"]
pub struct VeracityPull {
    client: Client,
    dataset_id: String,
    schema_id: Option<String>,
    columns: Option<Vec<SchemaColumn>>,
    page_size: u64,
}

impl VeracityPull {
    /// A pull of dataset `dataset_id` through `client`.
    pub fn new(client: Client, dataset_id: impl Into<String>) -> Self {
        VeracityPull {
            client,
            dataset_id: dataset_id.into(),
            schema_id: None,
            columns: None,
            page_size: DEFAULT_QUERY_PAGE_SIZE,
        }
    }

    /// The dataset's schema id (its current version types the batches).
    pub fn with_schema_id(mut self, schema_id: impl Into<String>) -> Self {
        self.schema_id = Some(schema_id.into());
        self
    }

    /// The dataset's schema columns (not fetched).
    pub fn with_columns(mut self, columns: Vec<SchemaColumn>) -> Self {
        self.columns = Some(columns);
        self
    }

    /// Rows per page (at least 1).
    pub fn with_page_size(mut self, rows: u64) -> Self {
        self.page_size = rows.max(1);
        self
    }

    fn table(&self) -> String {
        format!("dataset {}", self.dataset_id)
    }

    /// The Arrow schema of the batches (fetching the schema version if needed).
    pub async fn schema(&self) -> Result<SchemaRef, TransferError> {
        let columns = match (&self.columns, &self.schema_id) {
            (Some(columns), _) => columns.clone(),
            (None, Some(id)) => {
                let schema = self
                    .client
                    .schema(id)
                    .await
                    .map_err(TransferError::service(&self.table(), "fetch schema"))?;
                let version = schema
                    .current_version()
                    .ok_or_else(|| TransferError::Config(format!("schema {id} has no version")))?;
                super::push::local_columns(&version.columns).map_err(|source| {
                    TransferError::Check {
                        table: self.table(),
                        source,
                    }
                })?
            }
            (None, None) => {
                return Err(TransferError::Config(format!(
                    "{}: the pull needs the dataset's schema (with_schema_id or with_columns)",
                    self.table()
                )));
            }
        };
        Ok(Arc::new(arrow_schema(&columns)))
    }

    /// The batches, one per page, in order (the schema is resolved first).
    pub async fn batches(
        self,
    ) -> Result<
        (
            SchemaRef,
            BoxStream<'static, Result<RecordBatch, TransferError>>,
        ),
        TransferError,
    > {
        let schema = self.schema().await?;
        let state = Some((self, schema.clone(), 1u64));
        let pages = stream::try_unfold(state, |state| async move {
            let Some((pull, schema, page)) = state else {
                return Ok(None);
            };
            let (batch, more) = pull.page(&schema, page).await?;
            let next = more.then_some((pull, schema, page + 1));
            Ok(Some((batch, next)))
        });
        Ok((schema, pages.boxed()))
    }

    /// One page as a batch, and whether another follows.
    async fn page(
        &self,
        schema: &SchemaRef,
        page: u64,
    ) -> Result<(RecordBatch, bool), TransferError> {
        let request = QueryRequest::page(page, self.page_size);
        let result = self
            .client
            .query(&self.dataset_id, &request)
            .await
            .map_err(TransferError::service(&self.table(), "query"))?;
        let decode = |source| TransferError::Decode {
            table: self.table(),
            page,
            source,
        };
        let mut decoder = arrow_json::ReaderBuilder::new(schema.clone())
            .with_batch_size(result.data.len().max(1))
            .build_decoder()
            .map_err(decode)?;
        // The rows' JSON text, as sent: numbers are parsed by the decoder into their
        // column's type (decimals exactly, never through a 64-bit float).
        for row in &result.data {
            decoder.decode(row.get().as_bytes()).map_err(decode)?;
        }
        let batch = decoder
            .flush()
            .map_err(decode)?
            .unwrap_or_else(|| RecordBatch::new_empty(schema.clone()));
        let more = result.has_next() && !result.data.is_empty();
        Ok((batch, more))
    }

    /// Every row: the schema and the batches (one per page).
    pub async fn collect(self) -> Result<(SchemaRef, Vec<RecordBatch>), TransferError> {
        let (schema, batches) = self.batches().await?;
        let batches: Vec<RecordBatch> = batches
            .try_filter(|b| std::future::ready(b.num_rows() > 0))
            .try_collect()
            .await?;
        Ok((schema, batches))
    }

    /// Write every row into a Parquet file at `path` (each page is written on a blocking
    /// thread as it arrives). Returns the number of rows.
    pub async fn write_parquet(self, path: impl Into<PathBuf>) -> Result<u64, TransferError> {
        let path = path.into();
        let table = self.table();
        let (schema, mut batches) = self.batches().await?;
        let parquet = |source| TransferError::Parquet {
            table: table.clone(),
            path: path.clone(),
            source,
        };
        let file = std::fs::File::create(&path)
            .map_err(|e| parquet(parquet::errors::ParquetError::External(Box::new(e))))?;
        let mut writer =
            parquet::arrow::ArrowWriter::try_new(file, schema, None).map_err(parquet)?;
        let mut rows = 0u64;
        while let Some(batch) = batches.next().await {
            let batch = batch?;
            rows += batch.num_rows() as u64;
            writer = tokio::task::spawn_blocking(move || writer.write(&batch).map(|()| writer))
                .await
                .map_err(|source| TransferError::Task {
                    task: "writing Parquet",
                    source,
                })?
                .map_err(parquet)?;
        }
        tokio::task::spawn_blocking(move || writer.close())
            .await
            .map_err(|source| TransferError::Task {
                task: "closing Parquet",
                source,
            })?
            .map_err(parquet)?;
        Ok(rows)
    }
}
