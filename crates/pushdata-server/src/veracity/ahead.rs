//! A job's upload parsed while it is uploaded: each Data Lake append that extends the
//! bytes contiguous from the file's start lets the parallel reader (`parallel`) read the
//! whole rows they now hold, while the append's bytes are fsynced; the rows are staged as
//! the job's own parse stages them. When the job starts, a parse ahead that covers exactly
//! the flushed file reads its last rows and is the job's parse. Any doubt sends the job to
//! parse the file itself from its first row, as before, so the job's outcome and its
//! errors (row, column, message) are the same either way:
//!
//! - an append at a position already parsed (a retry, a rewrite), or a create, drops the
//!   parse ahead; so does a flush short of the bytes it parsed;
//! - a value that does not parse or fit, quotes the pairing cannot follow, a row longer
//!   than a window, the header not fitting the dataset, any failure: it stops, and is
//!   dropped;
//! - at start: the dataset an update's rows were typed for must still be the job's, and
//!   the digits of the decimal columns are checked against the stored rows then.
//!
//! Rows staged for a commit that keeps them as they are (Create, Overwrite, Append) are
//! Parquet files of many rows (see `staged`); those gathered when an append's rows are
//! all read are staged then if they make a file of their own, so the last append's rows
//! are a file before the flush, and the commit moves the files in.
//!
//! A parse ahead is not recorded (its rows are staged like a job's, and its staged files
//! are removed with it), and is dropped when its job has had no call for [`IDLE`]; a
//! restarted server parses the file when the job runs.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use arrow_schema::SchemaRef;
use pushdata_core::veracity::wire::FileOperation;

use super::Dataset;
use super::decimals::Digits;
use super::definition::VDataset;
use super::jobs::{Failure, Job, Target};
use super::parallel::{
    Advanced, PIECES_PER_THREAD, WINDOW_BYTES_PER_THREAD, Windows, WindowsRead, read_schema,
};
use super::process::{CsvParse, Layout, read_header};
use super::service::VService;
use super::upload::Upload;
use crate::store::StagedData;

/// A parse ahead whose job has had no call for this long is dropped.
pub(crate) const IDLE: Duration = Duration::from_secs(600);

/// A job's parse ahead, if it has one.
#[derive(Default)]
pub(crate) struct AheadSlot {
    ahead: Option<Box<Ahead>>,
    /// It stopped: the job parses its file (until a create starts the file again).
    gave_up: bool,
}

impl std::fmt::Debug for AheadSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AheadSlot")
            .field(
                "parsed_bytes",
                &self.ahead.as_ref().map(|a| a.windows.available()),
            )
            .field("gave_up", &self.gave_up)
            .finish()
    }
}

/// The rows of a job's file read so far.
pub(crate) struct Ahead {
    /// What the rows are typed for.
    def: VDataset,
    /// An update's dataset (its definition is `def`).
    dataset: Option<Arc<Dataset>>,
    delete: bool,
    /// The header's layout, and the read schema of the pieces, once the header was read.
    layout: Option<(Layout, SchemaRef)>,
    windows: Windows,
    read: WindowsRead,
    touched: Instant,
}

impl Ahead {
    /// Read every whole row available (`parse` stages them).
    fn step(&mut self, parse: &CsvParse<'_>) -> Result<Advanced, Failure> {
        if self.layout.is_none() {
            let Some(line) = self.windows.header_line()? else {
                return Ok(Advanced::Sequential);
            };
            let Some(line) = line else {
                return Ok(Advanced::Waiting);
            };
            let layout = Layout::new(&read_header(line)?, &self.def, self.delete)?;
            let schema = read_schema(&self.def, &layout.text_schema, &layout.map, self.delete);
            self.layout = Some((layout, schema));
        }
        let Some((layout, schema)) = &self.layout else {
            return Ok(Advanced::Sequential);
        };
        let advanced =
            self.read
                .advance(parse, &mut self.windows, schema, &layout.map, self.delete)?;
        if let Advanced::Waiting = advanced {
            self.read.staged.settle(parse)?;
        }
        Ok(advanced)
    }

    /// The job's parse, if this parse ahead is it: it read the first `flushed` bytes for
    /// `def` (and `dataset`), its last rows read now, and, with the stored rows' digits
    /// `stored`, the decimal columns fit.
    pub(crate) fn finish(
        mut self,
        parse: &CsvParse<'_>,
        dataset: Option<&Arc<Dataset>>,
        flushed: u64,
    ) -> Option<Vec<StagedData>> {
        let same_dataset = match (&self.dataset, dataset) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        if !same_dataset
            || self.def.columns != parse.def.columns
            || self.windows.available() != flushed
        {
            return None;
        }
        self.windows.complete_at(flushed);
        let staged = match self.step(parse) {
            Ok(Advanced::Done) => self.read.staged.finish(parse).ok()?,
            _ => return None,
        };
        let fits = parse
            .stored_digits
            .iter()
            .zip(&self.read.need)
            .all(|(s, n)| s.with(*n).fits());
        fits.then_some(staged)
    }
}

impl Job {
    /// Take the parse ahead for the job's run (under the lake lock).
    pub(crate) fn take_ahead(&self) -> Option<Box<Ahead>> {
        let mut slot = self.ahead.lock();
        slot.gave_up = true;
        slot.ahead.take()
    }

    /// The file was created again: parse it from the start.
    pub(crate) fn restart_ahead(&self) {
        *self.ahead.lock() = AheadSlot::default();
    }

    /// Drop the parse ahead.
    fn give_up_ahead(&self) {
        let mut slot = self.ahead.lock();
        slot.ahead = None;
        slot.gave_up = true;
    }

    /// A flush at `position`: a parse ahead past it read bytes the file no longer has.
    pub(crate) fn flushed_ahead(&self, position: u64) {
        let past = {
            let slot = self.ahead.lock();
            slot.ahead
                .as_ref()
                .is_some_and(|a| a.windows.available() > position)
        };
        if past {
            self.give_up_ahead();
        }
    }

    fn drop_idle_ahead(&self) {
        let idle = {
            let slot = self.ahead.lock();
            slot.ahead
                .as_ref()
                .is_some_and(|a| a.touched.elapsed() >= IDLE)
        };
        if idle {
            tracing::debug!(job = %self.spec.id, "parse ahead of an idle upload dropped");
            self.give_up_ahead();
        }
    }
}

impl VService {
    /// An append at `position` left the upload at `upload` (its bytes written, being
    /// fsynced): read the rows of the bytes now contiguous from the file's start. Runs
    /// under the job's lake lock.
    pub(crate) async fn parse_ahead(&self, job: &Arc<Job>, position: u64, upload: &Upload) {
        let end = upload.contiguous_end();
        let taken = {
            let mut slot = job.ahead.lock();
            if slot.gave_up {
                return;
            }
            slot.ahead.take()
        };
        let mut ahead = match taken {
            Some(a) if position < a.windows.available() => {
                job.give_up_ahead();
                return;
            }
            Some(a) => a,
            None => match self.new_ahead(job) {
                Some(a) => Box::new(a),
                None => {
                    job.give_up_ahead();
                    return;
                }
            },
        };
        ahead.touched = Instant::now();
        if end <= ahead.windows.available() {
            job.ahead.lock().ahead = Some(ahead);
            return;
        }
        let (staging, stopping) = (self.staging.clone(), self.runs.stopping());
        let spill = self.staging_dir.join(format!("{}-ahead", job.spec.id));
        let (path, op) = (job.file.clone(), job.spec.operation.clone());
        let started = Instant::now();
        let stepped = tokio::task::spawn_blocking(move || {
            ahead.windows.make_available(end);
            let def = ahead.def.clone();
            let parse = CsvParse {
                path: &path,
                def: &def,
                op: &op,
                staging: &staging,
                spill: &spill,
                stored_digits: Vec::new(),
                stopping: &|| stopping.load(Ordering::SeqCst),
            };
            match ahead.step(&parse) {
                Ok(Advanced::Waiting) => Some(ahead),
                _ => None,
            }
        })
        .await;
        let read_ms = started.elapsed().as_secs_f64() * 1e3;
        tracing::debug!(job = %job.spec.id, end, read_ms, "parse ahead: rows appended read");
        match stepped {
            Ok(Some(ahead)) => {
                job.ahead.lock().ahead = Some(ahead);
                schedule_idle_drop(Arc::downgrade(job));
            }
            _ => job.give_up_ahead(),
        }
    }

    /// A parse ahead of `job`'s file from its start (`None`: an update of a dataset that
    /// is gone, or a file that cannot be opened; the job's run says why).
    fn new_ahead(&self, job: &Job) -> Option<Ahead> {
        let (def, dataset) = match &job.spec.target {
            Target::Create {
                dataset_id,
                name,
                description,
                version,
            } => (
                VDataset::new(
                    dataset_id.clone(),
                    &job.spec.workspace,
                    name.clone(),
                    description.clone(),
                    version,
                ),
                None,
            ),
            Target::Update { dataset_id } => {
                let ds = self.catalog.get(dataset_id)?;
                (ds.def.clone(), Some(ds))
            }
        };
        let threads = rayon::current_num_threads();
        if threads < 2 {
            return None;
        }
        let windows = Windows::open(&job.file, WINDOW_BYTES_PER_THREAD * threads).ok()?;
        let need = vec![Digits::default(); def.columns.len()];
        Some(Ahead {
            def,
            dataset,
            delete: job.spec.operation == FileOperation::Delete,
            layout: None,
            windows,
            read: WindowsRead::new(need, threads * PIECES_PER_THREAD),
            touched: Instant::now(),
        })
    }
}

/// Drop `job`'s parse ahead once it has been idle for [`IDLE`].
fn schedule_idle_drop(job: Weak<Job>) {
    tokio::spawn(async move {
        tokio::time::sleep(IDLE).await;
        if let Some(job) = job.upgrade() {
            job.drop_idle_ahead();
        }
    });
}
