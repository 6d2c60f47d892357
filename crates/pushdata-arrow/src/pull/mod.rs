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
//! Memory: two pages (the one being decoded and the next one, fetched meanwhile), plus the
//! Parquet writer's row group buffer when writing a file.

mod decode;
mod table;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use pushdata_core::Client;
use pushdata_core::wire::{
    CubeInstance, CubeInstanceRequest, CubeObject, TableRowsPage, position_by_name,
};

use decode::{page_schema, page_to_batch};

use crate::error::{Error, Result};

/// Rows per page when none is given.
pub const DEFAULT_PAGE_SIZE: u64 = 50_000;

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
    request: Option<CubeInstanceRequest>,
    /// The table read exactly, for [`Pull::table`].
    table: Option<String>,
}

/// A page fetched: of a cube instance, or of a table's rows.
#[derive(Debug)]
enum Page {
    /// A cube instance page (boxed: it is large).
    Cube(Box<CubeInstance>),
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
        let first = self
            .client
            .create_cube_instance(&self.dataset_id, &request, 0, self.page_size)
            .await
            .map_err(self.api(format!("create cube instance of {}", self.dataset_id)))?;
        let schema = page_schema(&first);
        Ok(PullPages {
            total: first.data.paging.total,
            instance_id: first.instance_id.clone(),
            version: None,
            next_offset: 0,
            pending: Some(Page::Cube(Box::new(first))),
            inflight: None,
            pull: self,
            schema,
            rows: 0,
            pages: 0,
            started,
        })
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
        Ok(PullPages {
            total: first.total_rows,
            instance_id: String::new(),
            version: Some(first.version.clone()),
            next_offset: 0,
            pending: Some(Page::Table(first)),
            inflight: None,
            pull: self,
            schema,
            rows: 0,
            pages: 0,
            started,
        })
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

impl Drop for PullPages {
    /// A page still being fetched is not needed any more.
    fn drop(&mut self) {
        if let Some(h) = self.inflight.take() {
            h.abort();
        }
    }
}

/// The pages of a cube instance (or of a table's rows, [`Pull::table`]), as batches.
#[derive(Debug)]
pub struct PullPages {
    pull: Pull,
    schema: SchemaRef,
    instance_id: String,
    /// The table's version, for an exact table read.
    version: Option<String>,
    total: u64,
    next_offset: u64,
    pending: Option<Page>,
    inflight: Option<tokio::task::JoinHandle<pushdata_core::Result<Page>>>,
    rows: u64,
    pages: u64,
    started: Instant,
}

impl PullPages {
    /// The schema of every batch.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Rows of the instance (grouped rows), or of the table for [`Pull::table`].
    pub fn total_rows(&self) -> u64 {
        self.total
    }

    /// The instance id on the server (empty for [`Pull::table`]).
    pub fn instance_id(&self) -> &str {
        &self.instance_id
    }

    /// Fetch the page at `offset` in the background.
    fn spawn_fetch(&self, offset: u64) -> tokio::task::JoinHandle<pushdata_core::Result<Page>> {
        let client = self.pull.client.clone();
        let cube = self.pull.dataset_id.clone();
        let instance = self.instance_id.clone();
        let limit = self.pull.page_size;
        let table = self.pull.table.clone();
        let version = self.version.clone();
        tokio::spawn(async move {
            match table {
                Some(t) => client
                    .table_rows(&cube, &t, offset, limit, version.as_deref())
                    .await
                    .map(Page::Table),
                None => client
                    .cube_instance_page(&cube, &instance, offset, limit)
                    .await
                    .map(|p| Page::Cube(Box::new(p))),
            }
        })
    }

    /// The step of the page at `offset`, for errors.
    fn step(&self, offset: u64) -> String {
        match &self.pull.table {
            Some(t) => table_step(t, &self.pull.dataset_id, offset),
            None => format!(
                "cube instance {} of {}, rows {offset}..",
                self.instance_id, self.pull.dataset_id
            ),
        }
    }

    /// Wait for the page at `offset` (fetched in the background, or now).
    async fn fetch(&mut self, offset: u64) -> Result<Page> {
        let handle = match self.inflight.take() {
            Some(h) => h,
            None => self.spawn_fetch(offset),
        };
        let step = self.step(offset);
        handle
            .await
            .map_err(|source| Error::Task {
                task: format!("{step}: page fetch task"),
                source,
            })?
            .map_err(|source| Error::Api {
                step,
                source: Box::new(source),
            })
    }

    /// A page as a batch of the pull's schema.
    fn decode(&self, page: &Page, offset: u64) -> Result<RecordBatch> {
        match page {
            Page::Cube(p) => page_to_batch(p, &self.schema, &self.pull.dataset_id),
            Page::Table(p) => table::page_to_batch(p, &self.schema, &self.step(offset)),
        }
    }

    /// The next page as a batch; `None` after the last one. While a page is decoded, the
    /// next one is already being fetched (so two pages are in memory at most).
    pub async fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        let offset = self.next_offset;
        let (page, first) = match self.pending.take() {
            Some(p) => (p, true),
            None => {
                if offset >= self.total {
                    return Ok(None);
                }
                (self.fetch(offset).await?, false)
            }
        };
        // A cube page says how many rows it has: the next fetch starts before decoding.
        let known = match &page {
            Page::Cube(p) => Some(p.data.paging.current),
            Page::Table(_) => None,
        };
        if let Some(n) = known {
            self.advance(offset, n, first)?;
        }
        let batch = self.decode(&page, offset)?;
        drop(page);
        if known.is_none() {
            self.advance(offset, batch.num_rows() as u64, first)?;
        }
        self.rows += batch.num_rows() as u64;
        self.pages += 1;
        Ok(Some(batch))
    }

    /// Move past the `n` rows of the page at `offset` (`first`: the page read when the
    /// pull was opened, which may be empty) and start fetching the next page, if any.
    fn advance(&mut self, offset: u64, n: u64, first: bool) -> Result<()> {
        if n == 0 && !first {
            return Err(Error::Api {
                step: self.step(offset),
                source: Box::new(pushdata_core::Error::InvalidInput {
                    what: "page",
                    message: format!(
                        "the server returned no rows at offset {offset} of {}",
                        self.total
                    ),
                }),
            });
        }
        self.next_offset += n;
        if self.inflight.is_none() && self.next_offset < self.total {
            self.inflight = Some(self.spawn_fetch(self.next_offset));
        }
        Ok(())
    }

    /// The pages as a [`futures::Stream`].
    pub fn into_stream(self) -> impl futures::Stream<Item = Result<RecordBatch>> {
        futures::stream::try_unfold(self, |mut p| async move {
            Ok(p.next_batch().await?.map(|b| (b, p)))
        })
    }

    /// What has been read so far.
    pub fn report(&self) -> PullReport {
        PullReport {
            dataset_id: self.pull.dataset_id.clone(),
            rows: self.rows,
            pages: self.pages,
            schema: self.schema.clone(),
            elapsed: self.started.elapsed(),
        }
    }
}
