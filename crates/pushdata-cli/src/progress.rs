//! Push progress on stderr: an indicatif bar (rows, MB/s) on a terminal, plain lines
//! otherwise (`push`) or nothing (`veracity push`, and with `--json`). Fed by the push
//! pipeline's progress events, or a Veracity push's.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pushdata_arrow::ProgressEvent;
use pushdata_arrow::veracity::VeracityEvent;

use crate::output::{human_bytes, rate};

/// Plain progress lines are written at most this often (besides the first and the last).
const LINE_INTERVAL: Duration = Duration::from_secs(1);

/// A progress display; cheap to clone (all clones show the same progress).
#[derive(Clone)]
pub(crate) struct Progress {
    inner: Arc<Inner>,
}

struct Inner {
    total_rows: u64,
    started: Instant,
    bar: Option<ProgressBar>,
    /// Without a bar: print plain lines (else show nothing).
    lines: bool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    rows: u64,
    bytes: u64,
    chunks: u64,
    last_line: Option<Instant>,
}

impl Progress {
    /// A bar when stderr is a terminal, plain lines otherwise. `total_rows` is the number of
    /// rows about to be pushed (from the Parquet footers).
    pub(crate) fn new(total_rows: u64) -> Self {
        let bar = Self::bar_possible().then(|| {
            let bar = ProgressBar::with_draw_target(
                Some(total_rows),
                ProgressDrawTarget::stderr_with_hz(10),
            );
            let style = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} rows  {prefix}  {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Self::with(total_rows, bar, true)
    }

    /// Nothing shown (`--json`, or no terminal for a command without plain lines).
    pub(crate) fn hidden() -> Self {
        Self::with(0, None, false)
    }

    fn with(total_rows: u64, bar: Option<ProgressBar>, lines: bool) -> Self {
        Progress {
            inner: Arc::new(Inner {
                total_rows,
                started: Instant::now(),
                bar,
                lines,
                state: Mutex::new(State::default()),
            }),
        }
    }

    /// Whether stderr is a terminal, where a bar is drawn.
    pub(crate) fn bar_possible() -> bool {
        std::io::stderr().is_terminal()
    }

    /// Show one event of the push pipeline.
    pub(crate) fn event(&self, event: &ProgressEvent) {
        match event {
            ProgressEvent::DatasetCreated { dataset_id } => {
                self.step(&format!("dataset {dataset_id} created"));
            }
            ProgressEvent::DatasetFound { dataset_id, name } => {
                self.step(&format!(
                    "dataset {name:?} (id {dataset_id}) is in the folder: pushing into it"
                ));
            }
            ProgressEvent::SessionOpened { session_id, .. } => {
                self.step(&format!("upload session {session_id} opened"));
            }
            ProgressEvent::TableStarted { table } => self.step(&format!("table {table}: reading")),
            ProgressEvent::ChunkUploaded {
                table, rows, bytes, ..
            } => self.chunk_sent(table, rows.end.saturating_sub(rows.start), *bytes),
            ProgressEvent::TableEncoded {
                table,
                rows,
                chunks,
            } => self.step(&format!(
                "table {table}: {rows} row{} encoded in {chunks} chunk{}",
                plural(*rows),
                plural(*chunks)
            )),
            ProgressEvent::Publishing { .. } => self.step("publishing"),
            ProgressEvent::Published { .. } => self.step("published"),
            ProgressEvent::Cancelled { session_id, .. } => {
                self.step(&format!("upload session {session_id} cancelled"));
            }
            ProgressEvent::DatasetDeleted { dataset_id } => {
                self.step(&format!(
                    "dataset {dataset_id} deleted (the push created it and published nothing)"
                ));
            }
            // Read/encode counters: the bar follows uploads, which is what the server has.
            _ => {}
        }
    }

    /// Show one event of a Veracity push.
    pub(crate) fn veracity_event(&self, event: &VeracityEvent) {
        match event {
            VeracityEvent::SchemaCreated { schema_id, .. } => {
                self.step(&format!("schema {schema_id} created"));
            }
            VeracityEvent::JobRegistered { job_id } => {
                self.step(&format!("job {job_id} registered; uploading"));
            }
            VeracityEvent::PartAppended {
                part,
                total_bytes,
                rows,
                ..
            } => self.uploaded(*rows, *total_bytes, *part, "part"),
            VeracityEvent::Flushed { bytes, .. } => {
                self.step(&format!("file flushed ({})", human_bytes(*bytes as f64)));
            }
            VeracityEvent::JobStarted { job_id } => self.step(&format!("job {job_id} started")),
            VeracityEvent::JobPolled { job_id, status } => {
                self.step(&format!("job {job_id}: {status}"));
            }
            VeracityEvent::Completed { .. } => self.step("completed"),
            _ => {}
        }
    }

    /// Account for a chunk that reached the server.
    fn chunk_sent(&self, table: &str, rows: u64, bytes: u64) {
        let (rows, bytes, chunks) = match self.inner.state.lock() {
            Ok(state) => (state.rows + rows, state.bytes + bytes, state.chunks + 1),
            Err(_) => return,
        };
        self.uploaded(rows, bytes, chunks, &format!("chunk of table {table}"));
    }

    /// Show the totals that reached the server: `rows`, `bytes` in `chunks` (the last one
    /// a `what`).
    fn uploaded(&self, rows: u64, bytes: u64, chunks: u64, what: &str) {
        let Ok(mut state) = self.inner.state.lock() else {
            return;
        };
        state.rows = rows;
        state.bytes = bytes;
        state.chunks = chunks;
        let secs = self.inner.started.elapsed().as_secs_f64();
        let speed = format!("{}/s", human_bytes(rate(state.bytes, secs)));
        match &self.inner.bar {
            Some(bar) => {
                bar.set_position(state.rows);
                bar.set_prefix(speed);
            }
            None if self.inner.lines => {
                let due = state.last_line.is_none_or(|t| t.elapsed() >= LINE_INTERVAL)
                    || state.rows >= self.inner.total_rows;
                if due {
                    state.last_line = Some(Instant::now());
                    eprintln!(
                        "progress: {}/{} rows, {} chunk{} ({}), {speed}; last {what}",
                        state.rows,
                        self.inner.total_rows,
                        state.chunks,
                        plural(state.chunks),
                        human_bytes(state.bytes as f64),
                    );
                }
            }
            None => {}
        }
    }

    /// A step of the workflow (model created, publishing, ...).
    fn step(&self, text: &str) {
        match &self.inner.bar {
            Some(bar) => bar.set_message(text.to_string()),
            None if self.inner.lines => eprintln!("progress: {text}"),
            None => {}
        }
    }

    /// Remove the bar (the summary is printed after it).
    pub(crate) fn finish(&self, _success: bool) {
        if let Some(bar) = &self.inner.bar {
            bar.finish_and_clear();
        }
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}
