//! Get data out: read a published dataset through the Cube API into Arrow
//! [`RecordBatch`]es, page by page, and optionally into a Parquet file.
//!
//! ```no_run
//! # async fn demo(client: pushdata_core::Client) -> pushdata_arrow::Result<()> {
//! use pushdata_arrow::Pull;
//! let mut pages = Pull::new(client, "DATASET_ID")
//!     .with_attribute("Region")
//!     .with_metric("Revenue")
//!     .with_page_size(50_000)
//!     .open()
//!     .await?;
//! while let Some(batch) = pages.next_batch().await? {
//!     println!("{} rows", batch.num_rows());
//! }
//! # Ok(()) }
//! ```
//!
//! A cube groups rows by the attributes read and sums the metrics; with no attribute or
//! metric named, every attribute and every metric is read. The tables of a multi-table
//! dataset are joined as MicroStrategy documents it (the elements of a shared attribute
//! are the union of its tables', forms and metrics a table lacks are null).
//!
//! [`Pull::table`] reads one table's stored rows exactly instead: no grouping (equal rows
//! stay apart), no join, stored order and types. It uses an extension of the pushdata
//! reference server (`GET /api/datasets/{id}/tables/{table}/rows`, see
//! [`pushdata_core::wire::TableRowsPage`]); other servers answer
//! [`Error::NoTableRowsExtension`].
//!
//! Pages are fetched and decoded in the background, [`Pull::with_concurrency`] at once
//! (default [`DEFAULT_CONCURRENCY`]), and handed out in row order. Memory: that many pages
//! and their batches plus the one being consumed, plus the Parquet writer's row group
//! buffer when writing a file.

mod decode;
mod grid;
mod pages;
mod table;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use pushdata_core::Client;
use pushdata_core::wire::{CubeInstanceRequest, CubeObject, TableRowsPage, position_by_name};

use decode::read_page;
pub use grid::PageError;
pub use pages::PullPages;
use pages::Source;

use crate::error::{Error, Result};

/// Rows per page when none is given.
pub const DEFAULT_PAGE_SIZE: u64 = 50_000;

/// Pages fetched (and decoded) at once in the background when no other number is given.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// Reads a dataset through the Cube API (or one table exactly, [`Pull::table`]). Build with
/// [`Pull::new`], then `.await` it or call [`Pull::open`] (pages as batches,
/// [`PullPages`]), [`Pull::collect`] or [`Pull::to_parquet`].
#[derive(Debug, Clone)]
pub struct Pull {
    client: Client,
    dataset_id: String,
    attributes: Vec<String>,
    metrics: Vec<String>,
    page_size: u64,
    concurrency: usize,
    request: Option<CubeInstanceRequest>,
    /// The table read exactly, for [`Pull::table`].
    table: Option<String>,
}

/// A page fetched: of a cube instance, or of a table's rows.
#[derive(Debug)]
enum Page {
    /// A cube instance page: its JSON, decoded on a blocking thread ([`read_page`]), in a
    /// buffer used again for a later page.
    Cube(Vec<u8>),
    /// A table rows page.
    Table(TableRowsPage),
}

/// What a pull read.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PullReport {
    /// The dataset (cube) id.
    pub dataset_id: String,
    /// Rows read.
    pub rows: u64,
    /// Pages fetched.
    pub pages: u64,
    /// The schema of the batches.
    pub schema: SchemaRef,
    /// Time taken.
    pub elapsed: Duration,
}

impl Pull {
    /// A pull of dataset `dataset_id` with `client` (logged in, project selected).
    pub fn new(client: Client, dataset_id: impl Into<String>) -> Self {
        Pull {
            client,
            dataset_id: dataset_id.into(),
            attributes: Vec::new(),
            metrics: Vec::new(),
            page_size: DEFAULT_PAGE_SIZE,
            concurrency: DEFAULT_CONCURRENCY,
            request: None,
            table: None,
        }
    }

    /// A read of the stored rows of table `table` (name or id) of dataset `dataset_id`,
    /// exactly: every stored row (equal rows stay apart; a cube would group them), in
    /// stored order, with the stored types, and no join with the dataset's other tables.
    /// Pages of [`with_page_size`](Pull::with_page_size) rows (the server gives at most
    /// 100,000 a page); they all come from one published version of the table (a publish
    /// meanwhile fails the read with HTTP 409 rather than mixing versions).
    ///
    /// This uses an extension of the pushdata reference server,
    /// `GET /api/datasets/{id}/tables/{table}/rows` (see
    /// [`pushdata_core::wire::TableRowsPage`]); MicroStrategy servers do not have it and
    /// the read fails with [`Error::NoTableRowsExtension`]. Attributes, metrics and
    /// requests do not apply ([`open`](Pull::open) refuses them).
    pub fn table(client: Client, dataset_id: impl Into<String>, table: impl Into<String>) -> Self {
        let mut pull = Pull::new(client, dataset_id);
        pull.table = Some(table.into());
        pull
    }

    /// Read this attribute (name or id); rows are grouped by the attributes read.
    pub fn with_attribute(mut self, name_or_id: impl Into<String>) -> Self {
        self.attributes.push(name_or_id.into());
        self
    }

    /// Read this metric (name or id); metrics are summed per group.
    pub fn with_metric(mut self, name_or_id: impl Into<String>) -> Self {
        self.metrics.push(name_or_id.into());
        self
    }

    /// Rows per page (default [`DEFAULT_PAGE_SIZE`]; at least 1).
    pub fn with_page_size(mut self, rows: u64) -> Self {
        self.page_size = rows.max(1);
        self
    }

    /// Pages fetched and decoded at once in the background (default
    /// [`DEFAULT_CONCURRENCY`]; at least 1). Batches still come out in row order; memory
    /// holds about this many pages more than one.
    pub fn with_concurrency(mut self, pages: usize) -> Self {
        self.concurrency = pages.max(1);
        self
    }

    /// Send this request body as is (ids, forms, view filter) instead of resolving the
    /// names given with [`with_attribute`](Pull::with_attribute) /
    /// [`with_metric`](Pull::with_metric).
    pub fn with_request(mut self, request: CubeInstanceRequest) -> Self {
        self.request = Some(request);
        self
    }

    fn api(&self, step: String) -> impl FnOnce(pushdata_core::Error) -> Error {
        move |source| Error::Api {
            step,
            source: Box::new(source),
        }
    }

    /// The request body: names resolved to ids with the cube definition.
    async fn request(&self) -> Result<CubeInstanceRequest> {
        if let Some(r) = &self.request {
            return Ok(r.clone());
        }
        if self.attributes.is_empty() && self.metrics.is_empty() {
            return Ok(CubeInstanceRequest::all());
        }
        let def = self
            .client
            .cube_definition(&self.dataset_id)
            .await
            .map_err(self.api(format!("cube definition of {}", self.dataset_id)))?;
        let find = |what: &str, list: &[CubeObject], wanted: &str| -> Result<String> {
            position_by_name(list, wanted, |o| &o.name)
                .or_else(|| list.iter().position(|o| o.id.eq_ignore_ascii_case(wanted)))
                .and_then(|i| list.get(i))
                .map(|o| o.id.clone())
                .ok_or_else(|| {
                    Error::Config(format!(
                        "dataset {}: no {what} {wanted:?}; its {what}s are {}",
                        self.dataset_id,
                        names(list)
                    ))
                })
        };
        let objects = &def.definition.available_objects;
        let attributes = self
            .attributes
            .iter()
            .map(|a| find("attribute", &objects.attributes, a))
            .collect::<Result<Vec<_>>>()?;
        let metrics = self
            .metrics
            .iter()
            .map(|m| find("metric", &objects.metrics, m))
            .collect::<Result<Vec<_>>>()?;
        Ok(CubeInstanceRequest::with_objects(attributes, metrics))
    }

    /// Create the cube instance (or, for [`Pull::table`], ask for the table's first rows)
    /// and read its first page; further pages are read as the returned [`PullPages`] is
    /// consumed.
    pub async fn open(self) -> Result<PullPages> {
        if let Some(table) = self.table.clone() {
            return self.open_table(table).await;
        }
        let started = Instant::now();
        let request = self.request().await?;
        let body = self
            .client
            .create_cube_instance_json(&self.dataset_id, &request, 0, self.page_size)
            .await
            .map_err(self.api(format!("create cube instance of {}", self.dataset_id)))?;
        let cube = self.dataset_id.clone();
        let step = format!("first page of cube {cube}");
        let task = step.clone();
        let first = tokio::task::spawn_blocking(move || -> Result<_> {
            let page = read_page(&body, None, &cube, &step)?;
            Ok((page.schema, page.instance_id, page.total, page.batch))
        })
        .await
        .map_err(|source| Error::Task {
            task: format!("{task}: page decode task"),
            source,
        })?;
        let (schema, instance_id, total, batch) = first?;
        let source = Source {
            schema,
            instance_id,
            version: None,
            bodies: Default::default(),
            pull: self,
        };
        PullPages::new(source, total, batch, started)
    }

    /// [`open`](Pull::open) of an exact table read.
    async fn open_table(self, table: String) -> Result<PullPages> {
        let started = Instant::now();
        if !self.attributes.is_empty() || !self.metrics.is_empty() || self.request.is_some() {
            return Err(Error::Config(format!(
                "table {table:?} of dataset {}: an exact table read takes no attributes, metrics or cube request",
                self.dataset_id
            )));
        }
        let step = table_step(&table, &self.dataset_id, 0);
        let first = self
            .client
            .table_rows(&self.dataset_id, &table, 0, self.page_size, None)
            .await
            .map_err(|e| table::call_error(step.clone(), e))?;
        let schema = table::page_schema(&first, &step)?;
        let batch = table::page_to_batch(&first, &schema, &step)?;
        let source = Source {
            schema,
            instance_id: String::new(),
            version: Some(first.version.clone()),
            bodies: Default::default(),
            pull: self,
        };
        PullPages::new(source, first.total_rows, batch, started)
    }

    /// Read every page into memory.
    pub async fn collect(self) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        let mut pages = self.open().await?;
        let mut out = Vec::new();
        while let Some(b) = pages.next_batch().await? {
            out.push(b);
        }
        Ok((pages.schema(), out))
    }

    /// Write every page to a Parquet file (snappy), one row group per page at most. The
    /// file is written under a temporary name and renamed into place when complete.
    pub async fn to_parquet(self, path: impl AsRef<Path>) -> Result<PullReport> {
        let path = path.as_ref().to_path_buf();
        let table = match &self.table {
            Some(t) => format!("table {t:?} of {}", self.dataset_id),
            None => format!("cube {}", self.dataset_id),
        };
        let mut pages = self.open().await?;
        let tmp = tmp_path(&path);
        let io = |source: std::io::Error, p: &Path| Error::Io {
            table: table.clone(),
            path: p.to_path_buf(),
            source,
        };
        let pq = |source: parquet::errors::ParquetError| Error::Parquet {
            table: table.clone(),
            path: path.clone(),
            source,
        };
        let file = std::fs::File::create(&tmp).map_err(|e| io(e, &tmp))?;
        // Removes the partial file on every way out but success, including this future
        // being dropped (Ctrl-C in the CLI).
        let mut partial = PartialFile(Some(tmp.clone()));
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build();
        let mut writer = ArrowWriter::try_new(file, pages.schema(), Some(props)).map_err(pq)?;
        let result: Result<()> = async {
            while let Some(b) = pages.next_batch().await? {
                writer.write(&b).map_err(pq)?;
            }
            Ok(())
        }
        .await;
        result?;
        writer.close().map_err(pq)?;
        std::fs::rename(&tmp, &path).map_err(|e| io(e, &path))?;
        partial.0 = None;
        Ok(pages.report())
    }
}

impl std::future::IntoFuture for Pull {
    type Output = Result<PullPages>;
    type IntoFuture = futures::future::BoxFuture<'static, Result<PullPages>>;

    /// The same as [`Pull::open`].
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.open())
    }
}

/// A file removed when dropped, unless disarmed by taking its path.
struct PartialFile(Option<PathBuf>);

impl Drop for PartialFile {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".partial");
    path.with_file_name(name)
}

/// The step of a table rows call, for errors.
fn table_step(table: &str, dataset_id: &str, offset: u64) -> String {
    format!("rows of table {table:?} of dataset {dataset_id}, from row {offset}")
}

fn names(list: &[CubeObject]) -> String {
    if list.is_empty() {
        return "(none)".to_string();
    }
    list.iter()
        .map(|o| format!("{:?}", o.name))
        .collect::<Vec<_>>()
        .join(", ")
}
