//! [`PullPages`]: the pages of a pull as batches, in order, with a bounded window of
//! pages fetched and decoded in the background.
//!
//! The first page is read and decoded when the pull is opened. After it, up to the pull's
//! concurrency ([`Pull::with_concurrency`](super::Pull::with_concurrency)) further pages
//! are fetched at once, each parsed from its JSON body and decoded into a batch on a
//! blocking thread as soon as it arrives (the async workers only move bytes);
//! [`PullPages::next_batch`] hands them out in row order. Pages are requested at offsets
//! one page size apart; a page shorter than asked (a server capping the page size, or rows
//! missing) moves the window to where that page ended, so no row is skipped or read twice.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use tokio::task::JoinHandle;

use super::decode::read_page;
use super::{Page, Pull, PullReport, table, table_step};
use crate::error::{Error, Result};

/// A page being fetched and decoded in the background.
#[derive(Debug)]
struct Fetch {
    /// The row the page starts at.
    offset: u64,
    /// The fetch and decode.
    task: JoinHandle<Result<RecordBatch>>,
}

/// What every fetch of a pull needs (shared by the background tasks).
#[derive(Debug)]
pub(super) struct Source {
    /// The pull.
    pub(super) pull: Pull,
    /// The schema of every batch.
    pub(super) schema: SchemaRef,
    /// The instance id (empty for a table read).
    pub(super) instance_id: String,
    /// The table's version, for an exact table read.
    pub(super) version: Option<String>,
    /// Page bodies already read and decoded, for further pages to be read into (at most
    /// the pull's concurrency of them are kept).
    pub(super) bodies: std::sync::Mutex<Vec<Vec<u8>>>,
}

impl Source {
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

    /// A page as a batch of the pull's schema.
    fn decode(&self, page: &Page, offset: u64) -> Result<RecordBatch> {
        match page {
            Page::Cube(body) => {
                let step = self.step(offset);
                let page = read_page(body, Some(&self.schema), &self.pull.dataset_id, &step)?;
                Ok(page.batch)
            }
            Page::Table(p) => table::page_to_batch(p, &self.schema, &self.step(offset)),
        }
    }

    /// Keep the body of a page decoded for a later page.
    fn recycle(&self, page: Page) {
        if let (Page::Cube(body), Ok(mut bodies)) = (page, self.bodies.lock())
            && bodies.len() < self.pull.concurrency
        {
            bodies.push(body);
        }
    }

    /// Fetch the `limit` rows at `offset`.
    async fn fetch(&self, offset: u64, limit: u64) -> Result<Page> {
        let client = &self.pull.client;
        let cube = &self.pull.dataset_id;
        let page = match &self.pull.table {
            Some(t) => client
                .table_rows(cube, t, offset, limit, self.version.as_deref())
                .await
                .map(Page::Table),
            None => {
                let mut body = self.bodies.lock().ok().and_then(|mut b| b.pop());
                let body = body.get_or_insert_with(Vec::new);
                client
                    .cube_instance_page_json_into(cube, &self.instance_id, offset, limit, body)
                    .await
                    .map(|()| Page::Cube(std::mem::take(body)))
            }
        };
        page.map_err(|source| Error::Api {
            step: self.step(offset),
            source: Box::new(source),
        })
    }
}

/// The pages of a cube instance (or of a table's rows, [`Pull::table`]), as batches.
#[derive(Debug)]
pub struct PullPages {
    source: Arc<Source>,
    total: u64,
    /// The first page, read and decoded when the pull was opened, until it is handed out.
    pending: Option<RecordBatch>,
    /// The row the next batch starts at.
    next_offset: u64,
    /// The row the next background fetch starts at.
    next_fetch: u64,
    /// Rows asked for per page (the server's page size once a page came back short).
    stride: u64,
    /// The pages fetched in the background, in row order.
    window: VecDeque<Fetch>,
    rows: u64,
    pages: u64,
    started: Instant,
}

impl Drop for PullPages {
    /// Pages still being fetched are not needed any more.
    fn drop(&mut self) {
        self.abort_window();
    }
}

impl PullPages {
    /// The pages of `source`, `total` rows in all, starting with `first` (read at offset 0);
    /// the pages after it start being fetched.
    pub(super) fn new(
        source: Source,
        total: u64,
        first: RecordBatch,
        started: Instant,
    ) -> Result<Self> {
        let stride = source.pull.page_size;
        let first_rows = first.num_rows() as u64;
        let mut pages = PullPages {
            source: Arc::new(source),
            total,
            pending: Some(first),
            next_offset: 0,
            next_fetch: 0,
            stride,
            window: VecDeque::new(),
            rows: 0,
            pages: 0,
            started,
        };
        pages.advance(0, first_rows, true)?;
        Ok(pages)
    }

    /// The schema of every batch.
    pub fn schema(&self) -> SchemaRef {
        self.source.schema.clone()
    }

    /// Rows of the instance (grouped rows), or of the table for [`Pull::table`].
    pub fn total_rows(&self) -> u64 {
        self.total
    }

    /// The instance id on the server (empty for [`Pull::table`]).
    pub fn instance_id(&self) -> &str {
        &self.source.instance_id
    }

    /// Start fetching and decoding the page at `offset` in the background.
    fn spawn(&self, offset: u64) -> Fetch {
        let source = self.source.clone();
        let limit = self.stride;
        let task = tokio::spawn(async move {
            let page = source.fetch(offset, limit).await?;
            let step = source.step(offset);
            tokio::task::spawn_blocking(move || {
                let batch = source.decode(&page, offset);
                source.recycle(page);
                batch
            })
            .await
            .map_err(|e| Error::Task {
                task: format!("{step}: page decode task"),
                source: e,
            })?
        });
        Fetch { offset, task }
    }

    /// Keep the window full: pages after the last one asked for, up to the concurrency.
    fn fill(&mut self) {
        self.next_fetch = self.next_fetch.max(self.next_offset);
        while self.window.len() < self.source.pull.concurrency && self.next_fetch < self.total {
            let fetch = self.spawn(self.next_fetch);
            self.window.push_back(fetch);
            self.next_fetch += self.stride;
        }
    }

    /// Stop every background fetch.
    fn abort_window(&mut self) {
        for f in self.window.drain(..) {
            f.task.abort();
        }
    }

    /// The batch at `offset`: the window's first page (fetched now if the window does not
    /// start there).
    async fn take(&mut self, offset: u64) -> Result<RecordBatch> {
        if self.window.front().is_none_or(|f| f.offset != offset) {
            self.abort_window();
            self.next_fetch = offset;
            self.fill();
        }
        let fetch = self.window.pop_front().ok_or_else(|| {
            Error::Config(format!(
                "{}: no page to fetch at row {offset} of {}",
                self.source.step(offset),
                self.total
            ))
        })?;
        let step = self.source.step(offset);
        fetch.task.await.map_err(|source| Error::Task {
            task: format!("{step}: page fetch task"),
            source,
        })?
    }

    /// The next page as a batch; `None` after the last one. Up to the pull's concurrency
    /// of further pages are fetched and decoded meanwhile.
    pub async fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        let batch = match self.pending.take() {
            Some(first) => first,
            None => {
                let offset = self.next_offset;
                if offset >= self.total {
                    return Ok(None);
                }
                let batch = self.take(offset).await?;
                self.advance(offset, batch.num_rows() as u64, false)?;
                batch
            }
        };
        self.rows += batch.num_rows() as u64;
        self.pages += 1;
        Ok(Some(batch))
    }

    /// Move past the `n` rows of the page at `offset` (`first`: the page read when the
    /// pull was opened, which may be empty) and keep the window full.
    fn advance(&mut self, offset: u64, n: u64, first: bool) -> Result<()> {
        if n == 0 && !first {
            return Err(Error::Api {
                step: self.source.step(offset),
                source: Box::new(pushdata_core::Error::InvalidInput {
                    what: "page",
                    message: format!(
                        "the server returned no rows at offset {offset} of {}",
                        self.total
                    ),
                }),
            });
        }
        self.next_offset = offset + n;
        if n > 0 && n < self.stride && self.next_offset < self.total {
            // A short page: the server's page size is smaller than asked (or rows are
            // missing); the pages asked for after it start at the wrong rows.
            self.stride = n;
            self.abort_window();
            self.next_fetch = self.next_offset;
        }
        self.fill();
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
            dataset_id: self.source.pull.dataset_id.clone(),
            rows: self.rows,
            pages: self.pages,
            schema: self.source.schema.clone(),
            elapsed: self.started.elapsed(),
        }
    }
}
