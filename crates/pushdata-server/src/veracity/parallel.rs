//! The uploaded CSV parsed on all cores. The file is read in windows of whole rows, each
//! cut into pieces of whole rows read in parallel (by the fast path of `fields`, else by
//! arrow-csv): cut first at line ends the pieces then confirm, else at the row ends found
//! with the quotes paired (see `row_ends`). The pieces' batches are typed in parallel,
//! then staged in file order.
//!
//! A window whose quotes cannot be paired as the CSV reader would read them, or that holds
//! no row end, hands the file back to the sequential reader, which starts again from the
//! first row. So does any failure: the sequential reader reports it as it always has (the
//! first failing row). What this reader staged is dropped then.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{DataType as ArrowType, Field, Schema, SchemaRef};
use pushdata_core::veracity::wire::ColumnType;
use rayon::prelude::*;

use super::decimals::Digits;
use super::definition::VDataset;
use super::fields;
use super::jobs::Failure;
use super::process::{BATCH_ROWS, CsvParse, typed};
use super::row_ends::{self, RowEnds};
use super::staged::Staged;
use crate::store::StagedData;

/// Bytes of the file read per window, per thread of the pool.
pub(super) const WINDOW_BYTES_PER_THREAD: usize = 8 << 20;

/// Pieces a window is cut into, per thread (more than one, so that a slow piece does not
/// hold a thread idle).
pub(super) const PIECES_PER_THREAD: usize = 2;

/// What the parallel reader did.
pub(super) enum Parallel {
    /// Every row, staged in file order.
    Done(Vec<StagedData>),
    /// The file is the sequential reader's (a quote, a line longer than a window, one
    /// thread, or a failure to report exactly).
    Sequential,
}

impl CsvParse<'_> {
    /// Parse the file on all cores, if it can be (see the module's docs). `text_schema`:
    /// the header's columns, as text; `map`: where each column of the dataset is in it.
    pub(super) fn run_parallel(
        &self,
        text_schema: &SchemaRef,
        map: &[Option<usize>],
        delete: bool,
    ) -> Result<Parallel, Failure> {
        let threads = rayon::current_num_threads();
        if threads < 2 {
            tracing::debug!(threads, "read on one thread");
            return Ok(Parallel::Sequential);
        }
        self.run_windows(
            text_schema,
            map,
            delete,
            WINDOW_BYTES_PER_THREAD * threads,
            threads * PIECES_PER_THREAD,
        )
    }

    /// [`run_parallel`](Self::run_parallel) with windows of `window` bytes cut into
    /// `pieces` pieces.
    fn run_windows(
        &self,
        text_schema: &SchemaRef,
        map: &[Option<usize>],
        delete: bool,
        window: usize,
        pieces: usize,
    ) -> Result<Parallel, Failure> {
        let mut windows = Windows::open(self.path, window)?;
        windows.complete_at(windows.file_len()?);
        let mut read = WindowsRead::new(self.stored_digits.clone(), pieces);
        let schema = read_schema(self.def, text_schema, map, delete);
        match read.advance(self, &mut windows, &schema, map, delete)? {
            Advanced::Done => Ok(Parallel::Done(read.staged.finish(self)?)),
            Advanced::Sequential | Advanced::Waiting => Ok(Parallel::Sequential),
        }
    }
}

/// What [`WindowsRead::advance`] came to.
pub(super) enum Advanced {
    /// Every row the windows had, staged; more bytes may come.
    Waiting,
    /// Every row of the file, staged.
    Done,
    /// The file is the sequential reader's.
    Sequential,
}

/// The rows read so far by the parallel reader: staged batches, the digits the decimal
/// columns need, the next row's number.
pub(super) struct WindowsRead {
    pub(super) staged: Staged,
    pub(super) need: Vec<Digits>,
    first_row: u64,
    pieces: usize,
}

impl WindowsRead {
    /// Nothing read yet; `need`: the digits needed before the first row.
    pub(super) fn new(need: Vec<Digits>, pieces: usize) -> Self {
        WindowsRead {
            staged: Staged::default(),
            need,
            first_row: 1,
            pieces,
        }
    }

    /// Read every whole row the windows give, in windows of whole rows cut into pieces
    /// read and typed in parallel, staged in file order (by `parse`, whose `path` the
    /// windows read). `schema`: the pieces' read schema (see [`read_schema`]).
    pub(super) fn advance(
        &mut self,
        parse: &CsvParse<'_>,
        windows: &mut Windows,
        schema: &SchemaRef,
        map: &[Option<usize>],
        delete: bool,
    ) -> Result<Advanced, Failure> {
        loop {
            let started = std::time::Instant::now();
            let (read, cut_ms) = match self.read_window(parse, windows, schema)? {
                WindowRead::Rows(read, cut_ms) => (read, cut_ms),
                WindowRead::Done => return Ok(Advanced::Done),
                WindowRead::Waiting => return Ok(Advanced::Waiting),
                WindowRead::Sequential => return Ok(Advanced::Sequential),
            };
            let read_ms = started.elapsed().as_secs_f64() * 1e3 - cut_ms;
            let typed = std::time::Instant::now();
            if !self.type_and_stage(parse, read, map, delete)? {
                return Ok(Advanced::Sequential);
            }
            let stage_ms = typed.elapsed().as_secs_f64() * 1e3;
            tracing::debug!(file = %parse.path.display(), cut_ms, read_ms, stage_ms, "parse ahead: a window read");
        }
    }

    /// Cut the next window into pieces and read them in parallel: at guessed row ends
    /// first, and again at the row ends the quotes' pairing finds when a piece does not
    /// confirm its cut (see `row_ends`).
    fn read_window(
        &mut self,
        parse: &CsvParse<'_>,
        windows: &mut Windows,
        schema: &SchemaRef,
    ) -> Result<WindowRead, Failure> {
        let path = parse.path.display();
        let started = std::time::Instant::now();
        let mut next = windows.next_rows(self.pieces)?;
        loop {
            let (pieces, guessed) = match next {
                Next::Done => return Ok(WindowRead::Done),
                Next::Waiting => return Ok(WindowRead::Waiting),
                Next::Sequential => {
                    tracing::debug!(file = %path, "read on one thread: quotes a CSV reader takes literally, or a row longer than a window");
                    return Ok(WindowRead::Sequential);
                }
                Next::Rows(pieces, guessed) => (pieces, guessed),
            };
            let cut_ms = started.elapsed().as_secs_f64() * 1e3;
            if (parse.stopping)() {
                return Err(Failure::Stopped);
            }
            let read: Vec<PieceRead> = pieces
                .par_iter()
                .map(|piece| read_piece(piece, schema, guessed.is_some()))
                .collect();
            if read.iter().any(|r| matches!(r, PieceRead::Unconfirmed)) {
                tracing::debug!(file = %path, "a window cut again with its quotes paired");
                next = windows.exact_rows(self.pieces)?;
                continue;
            }
            if let Some(end) = guessed {
                windows.confirm(end);
            }
            let read: Option<Vec<Vec<RecordBatch>>> = read
                .into_iter()
                .map(|r| match r {
                    PieceRead::Read(batches) => Some(batches),
                    PieceRead::Failed | PieceRead::Unconfirmed => None,
                })
                .collect();
            let Some(read) = read else {
                tracing::debug!(file = %path, "read again on one thread: a piece is not valid CSV");
                return Ok(WindowRead::Sequential);
            };
            return Ok(WindowRead::Rows(read, cut_ms));
        }
    }

    /// Type one window's batches in parallel and stage them; `false` when a value does
    /// not fit (the sequential reader names it).
    fn type_and_stage(
        &mut self,
        parse: &CsvParse<'_>,
        read: Vec<Vec<RecordBatch>>,
        map: &[Option<usize>],
        delete: bool,
    ) -> Result<bool, Failure> {
        let mut numbered = Vec::new();
        for batch in read.into_iter().flatten() {
            let rows = batch.num_rows() as u64;
            numbered.push((self.first_row, batch));
            self.first_row += rows;
        }
        let need = &self.need;
        let typed: Result<Vec<(RecordBatch, Vec<Digits>)>, Failure> = numbered
            .par_iter()
            .map(|(first, batch)| {
                let mut batch_need = need.clone();
                typed(parse.def, batch, map, delete, *first, &mut batch_need)
                    .map(|t| (t, batch_need))
            })
            .collect();
        let Ok(typed) = typed else {
            tracing::debug!(file = %parse.path.display(), "read again on one thread: a value does not fit");
            return Ok(false);
        };
        for (batch, batch_need) in typed {
            for (n, b) in self.need.iter_mut().zip(batch_need) {
                *n = n.with(b);
            }
            self.staged.push(parse, batch)?;
        }
        // Each batch fitted with the digits before the window; together they may not:
        // the sequential reader names the row where they stop fitting.
        Ok(self.need.iter().all(|n| n.fits()))
    }
}

/// The schema pieces are read with: text, except the columns read into a type whose
/// text arrow-csv parses exactly as the cast from text does (integers, doubles, dates:
/// both call the type's `Parser::parse`, and both take an empty field for a null). A
/// value either cannot parse makes the piece fail, and the sequential reader, which reads
/// text and casts, names it. Columns a Delete does not read stay text. Decimal columns
/// are text marked for the fast path of `fields`, which reads them into decimals.
pub(super) fn read_schema(
    def: &VDataset,
    text_schema: &SchemaRef,
    map: &[Option<usize>],
    delete: bool,
) -> SchemaRef {
    let mut fields: Vec<Field> = text_schema
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    for (c, at) in def.columns.iter().zip(map) {
        let Some(j) = at.filter(|_| !delete || c.is_key) else {
            continue;
        };
        let parsed = match c.data_type {
            ColumnType::Int32 => ArrowType::Int32,
            ColumnType::Int64 => ArrowType::Int64,
            ColumnType::Double => ArrowType::Float64,
            ColumnType::DateOnly => ArrowType::Date32,
            ColumnType::Decimal => {
                if let Some(f) = fields.get_mut(j) {
                    *f = fields::decimal_text(f.name());
                }
                continue;
            }
            _ => continue,
        };
        if let Some(f) = fields.get_mut(j) {
            *f = Field::new(f.name(), parsed, true);
        }
    }
    Arc::new(Schema::new(fields))
}

/// What [`Windows::next_rows`] found.
pub(super) enum Next<'a> {
    /// Whole rows cut into pieces; `Some(end)`: cut at guessed row ends, the window's
    /// rows ending at `end`, which the pieces must confirm (then [`Windows::confirm`],
    /// else [`Windows::exact_rows`]).
    Rows(Vec<&'a [u8]>, Option<usize>),
    /// No whole row until more bytes are available.
    Waiting,
    /// The end of the file: every row was handed out.
    Done,
    /// The text cannot be read in parallel (quotes the pairing cannot follow, or a row
    /// longer than a window).
    Sequential,
}

/// What [`WindowsRead::read_window`] read.
enum WindowRead {
    /// Each piece's batches, in order, and the milliseconds the cuts took.
    Rows(Vec<Vec<RecordBatch>>, f64),
    /// No whole row until more bytes are available.
    Waiting,
    /// Every row was read.
    Done,
    /// The file is the sequential reader's.
    Sequential,
}

/// What [`read_piece`] made of a piece.
enum PieceRead {
    /// Its rows' batches.
    Read(Vec<RecordBatch>),
    /// It is not valid CSV (the sequential reader reports it).
    Failed,
    /// A piece of a guessed cut that does not confirm it (see `row_ends`): not read.
    Unconfirmed,
}

/// The file's data rows (after the header line), a window of whole lines at a time, up to
/// the bytes available so far (see [`Windows::available`]).
pub(super) struct Windows {
    file: std::fs::File,
    window: usize,
    buf: Vec<u8>,
    /// Bytes at the start of `buf` already handed out (the next window drops them).
    used: usize,
    header_skipped: bool,
    /// Bytes of the file read into `buf` so far.
    read: u64,
    /// Bytes of the file that may be read.
    available: u64,
    /// `available` is the file's length: the last row may end without a line end.
    complete: bool,
}

impl Windows {
    /// The file at `path`, nothing available yet.
    pub(super) fn open(path: &Path, window: usize) -> Result<Self, Failure> {
        let file =
            std::fs::File::open(path).map_err(|e| Failure::internal("opening the upload", e))?;
        Ok(Windows {
            file,
            window,
            buf: Vec::new(),
            used: 0,
            header_skipped: false,
            read: 0,
            available: 0,
            complete: false,
        })
    }

    /// The file's length now.
    fn file_len(&self) -> Result<u64, Failure> {
        self.file
            .metadata()
            .map(|m| m.len())
            .map_err(|e| Failure::internal("reading the upload", e))
    }

    /// The bytes of the file that may be read so far.
    pub(super) fn available(&self) -> u64 {
        self.available
    }

    /// The first `len` bytes may be read (they never change from now on).
    pub(super) fn make_available(&mut self, len: u64) {
        self.available = self.available.max(len);
    }

    /// The file is `len` bytes long: its last row is the last row.
    pub(super) fn complete_at(&mut self, len: u64) {
        self.make_available(len);
        self.complete = true;
    }

    /// The next window's whole rows (see [`Next`]) cut into about `pieces` pieces, at
    /// guessed row ends when there are some (see `row_ends`).
    pub(super) fn next_rows(&mut self, pieces: usize) -> Result<Next<'_>, Failure> {
        self.buf.drain(..self.used);
        self.used = 0;
        self.fill()?;
        let at_end = self.complete && self.read == self.available;
        let start = if self.header_skipped {
            Some(0)
        } else {
            row_ends::first_line_end(&self.buf)
        };
        let end = match start {
            Some(start) if at_end && start < self.buf.len() => Some(self.buf.len()),
            Some(start) if !at_end => row_ends::last_line_end(&self.buf, start),
            _ => None,
        };
        match (start, end) {
            (Some(start), Some(end)) if start < end => Ok(Next::Rows(
                row_ends::guessed_cut(&self.buf, start, end, pieces),
                Some(end),
            )),
            _ => self.exact_rows(pieces),
        }
    }

    /// The guessed cuts of [`next_rows`](Self::next_rows) hold: its rows, up to `end`,
    /// are handed out.
    pub(super) fn confirm(&mut self, end: usize) {
        self.header_skipped = true;
        self.used = end;
    }

    /// The window of [`next_rows`](Self::next_rows) again, its rows found with the quotes
    /// paired, cut into about `pieces` pieces.
    pub(super) fn exact_rows(&mut self, pieces: usize) -> Result<Next<'_>, Failure> {
        let at_end = self.complete && self.read == self.available;
        let full = self.buf.len() >= self.window;
        let Some(rows) = RowEnds::scan(&self.buf, at_end) else {
            return Ok(if at_end || full {
                Next::Sequential
            } else {
                Next::Waiting
            });
        };
        let short = |found_nothing: bool| match (at_end, full) {
            (true, _) if found_nothing => Next::Done,
            (false, false) => Next::Waiting,
            _ => Next::Sequential,
        };
        let mut start = 0;
        if !self.header_skipped {
            match rows.next_end(0) {
                Some(end) => start = end,
                None => return Ok(short(true)),
            }
            self.header_skipped = true;
            // The header is dropped with the next window, whatever this call finds.
            self.used = start;
        }
        let end = if at_end {
            self.buf.len()
        } else {
            match rows.last_end(self.buf.len()) {
                Some(end) if end > start => end,
                _ => return Ok(short(false)),
            }
        };
        if start == end {
            return Ok(if at_end { Next::Done } else { Next::Waiting });
        }
        self.used = end;
        Ok(Next::Rows(rows.cut(start, end, pieces), None))
    }

    /// Read until the buffer holds a window, or the available bytes are read.
    fn fill(&mut self) -> Result<(), Failure> {
        let want = (self.window.saturating_sub(self.buf.len()) as u64)
            .min(self.available.saturating_sub(self.read));
        let read = (&mut self.file)
            .take(want)
            .read_to_end(&mut self.buf)
            .map_err(|e| Failure::internal("reading the upload", e))?;
        self.read += read as u64;
        if (read as u64) < want {
            // The file is shorter than said: what is there is all there is.
            self.available = self.read;
            self.complete = true;
        }
        Ok(())
    }

    /// The header line, once the bytes read hold all of it: `Some(None)` until then,
    /// `None` when it cannot be told here (quotes the pairing cannot follow, a header
    /// longer than a window, or a window already handed out).
    pub(super) fn header_line(&mut self) -> Result<Option<Option<&[u8]>>, Failure> {
        if self.header_skipped {
            return Ok(None);
        }
        self.fill()?;
        if let Some(end) = row_ends::first_line_end(&self.buf) {
            return Ok(Some(Some(&self.buf[..end])));
        }
        let at_end = self.complete && self.read == self.available;
        let full = self.buf.len() >= self.window;
        let Some(rows) = RowEnds::scan(&self.buf, at_end) else {
            return Ok((!at_end && !full).then_some(None));
        };
        Ok(match rows.next_end(0) {
            Some(end) => Some(Some(&self.buf[..end])),
            None if at_end => Some(Some(&self.buf[..])),
            None if full => None,
            None => Some(None),
        })
    }
}

/// One piece's rows as batches of `schema` (a failure: the sequential reader reports
/// it): by the fast path of `fields` when it can, else by arrow-csv. `guessed`: the piece
/// ends at a guessed row end, which it must confirm (see `row_ends`).
fn read_piece(piece: &[u8], schema: &SchemaRef, guessed: bool) -> PieceRead {
    if let Some(batches) = fields::read(piece, schema) {
        return PieceRead::Read(batches);
    }
    if guessed && !row_ends::confirms_cut(piece) {
        return PieceRead::Unconfirmed;
    }
    let reader = arrow_csv::ReaderBuilder::new(schema.clone())
        .with_header(false)
        .with_batch_size(BATCH_ROWS)
        .build_buffered(piece);
    match reader.map(|r| r.collect::<Result<Vec<_>, _>>()) {
        Ok(Ok(batches)) => PieceRead::Read(batches),
        _ => PieceRead::Failed,
    }
}

#[cfg(test)]
#[path = "parallel_cut_tests.rs"]
mod cut_tests;

#[cfg(test)]
pub(super) mod tests {
    #![allow(clippy::unwrap_used)]

    use pushdata_core::veracity::wire::{ColumnType, FileOperation, SchemaColumn, SchemaVersion};

    use super::*;
    use crate::store::Staging;
    use crate::veracity::definition::VDataset;

    /// A dataset of Id (Int64 key), Name (String), Amount (Decimal), Day (DateOnly).
    pub(in crate::veracity) fn dataset() -> VDataset {
        let mut version: SchemaVersion = serde_json::from_str(r#"{"id": "v1"}"#).unwrap();
        let mut id = SchemaColumn::new("Id", ColumnType::Int64);
        id.is_key = true;
        version.columns = vec![
            id,
            SchemaColumn::new("Name", ColumnType::String),
            SchemaColumn::new("Amount", ColumnType::Decimal),
            SchemaColumn::new("Day", ColumnType::DateOnly),
        ];
        VDataset::new("d".into(), "w", "t".into(), String::new(), &version)
    }

    /// Every row of `staged`, each value as text, in order.
    pub(in crate::veracity) fn rows(staged: &[StagedData]) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        for s in staged {
            for b in s.batches().unwrap() {
                for r in 0..b.num_rows() {
                    out.push(
                        b.columns()
                            .iter()
                            .map(|c| arrow_cast::display::array_value_to_string(c, r).unwrap())
                            .collect(),
                    );
                }
            }
        }
        out
    }

    /// A CSV upload written to a temporary file, with what a job reads it with.
    pub(in crate::veracity) struct Upload {
        _dir: tempfile::TempDir,
        /// The upload.
        pub(in crate::veracity) path: std::path::PathBuf,
        /// Where staged files go (`{spill}-{n}.parquet`).
        pub(in crate::veracity) spill: std::path::PathBuf,
        /// The dataset.
        pub(in crate::veracity) def: VDataset,
        staging: Arc<Staging>,
        /// The header's columns and where the dataset's are.
        pub(in crate::veracity) layout: crate::veracity::process::Layout,
        /// The job's operation (Create unless a test sets another).
        pub(in crate::veracity) op: FileOperation,
    }

    impl Upload {
        pub(in crate::veracity) fn new(csv: &str) -> Self {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("upload.csv");
            std::fs::write(&path, csv).unwrap();
            let def = dataset();
            let header: Vec<String> = csv
                .lines()
                .next()
                .unwrap()
                .split(',')
                .map(str::to_string)
                .collect();
            let layout = crate::veracity::process::Layout::new(&header, &def, false).unwrap();
            Upload {
                spill: dir.path().join("parsed"),
                _dir: dir,
                path,
                def,
                staging: Arc::new(Staging::new(1 << 30, 1 << 30)),
                layout,
                op: FileOperation::Create,
            }
        }

        pub(in crate::veracity) fn parse(&self) -> CsvParse<'_> {
            CsvParse {
                path: &self.path,
                def: &self.def,
                op: &self.op,
                staging: &self.staging,
                spill: &self.spill,
                stored_digits: vec![Digits::default(); 4],
                stopping: &|| false,
            }
        }
    }

    /// The parallel reader's outcome (windows of `window` bytes, 3 pieces) and the
    /// sequential reader's, for the CSV text `csv`.
    pub(in crate::veracity) fn both(
        csv: &str,
        window: usize,
    ) -> (Result<Parallel, Failure>, Result<Vec<StagedData>, Failure>) {
        let up = Upload::new(csv);
        let parallel =
            up.parse()
                .run_windows(&up.layout.text_schema, &up.layout.map, false, window, 3);
        (parallel, up.parse().run())
    }

    pub(in crate::veracity) fn csv(rows: usize) -> String {
        let mut text = String::from("Id,Name,Amount,Day\n");
        for i in 0..rows {
            let amount = if i % 7 == 0 {
                String::new()
            } else {
                format!("{i}.{:02}", i % 100)
            };
            text.push_str(&format!(
                "{i},name {i},{amount},2024-01-{:02}\n",
                i % 28 + 1
            ));
        }
        text
    }

    #[test]
    fn windows_of_whole_lines_give_the_sequential_rows() {
        for (rows, window) in [(200, 64), (200, 1000), (1, 64), (0, 64), (50, 1 << 20)] {
            let text = csv(rows);
            let (parallel, sequential) = both(&text, window);
            let Ok(Parallel::Done(staged)) = parallel else {
                panic!("{rows} rows, window {window}: not read in parallel");
            };
            let want = rows_of(sequential);
            assert_eq!(want.len(), rows);
            assert_eq!(
                super::tests::rows(&staged),
                want,
                "{rows} rows, window {window}"
            );
        }
        // Without a line end after the last row, and with CRLF line ends.
        let text = csv(30);
        let (parallel, sequential) = both(text.trim_end(), 50);
        let Ok(Parallel::Done(staged)) = parallel else {
            panic!("no final line end")
        };
        assert_eq!(rows(&staged), rows_of(sequential));
        let crlf = text.replace('\n', "\r\n");
        let (parallel, sequential) = both(&crlf, 50);
        let Ok(Parallel::Done(staged)) = parallel else {
            panic!("CRLF")
        };
        assert_eq!(rows(&staged), rows_of(sequential));
    }

    pub(in crate::veracity) fn rows_of(r: Result<Vec<StagedData>, Failure>) -> Vec<Vec<String>> {
        rows(&r.unwrap())
    }

    /// The rows the windows give when the file's bytes become available `step` at a time
    /// (as appends arrive), read in windows of `window` bytes: `None` when the reader
    /// gives the file back to the sequential one.
    pub(in crate::veracity) fn fed(
        csv: &str,
        step: usize,
        window: usize,
    ) -> Option<Vec<Vec<String>>> {
        let up = Upload::new(csv);
        let (parse, layout, path) = (up.parse(), &up.layout, &up.path);
        let schema = read_schema(&up.def, &layout.text_schema, &layout.map, false);
        let mut windows = Windows::open(path, window).unwrap();
        let mut read = WindowsRead::new(vec![Digits::default(); 4], 3);
        let mut at = 0;
        while at < csv.len() {
            at = (at + step).min(csv.len());
            windows.make_available(at as u64);
            match read.advance(&parse, &mut windows, &schema, &layout.map, false) {
                Ok(Advanced::Waiting) => {}
                Ok(Advanced::Sequential) => return None,
                Ok(Advanced::Done) => panic!("done before the end was known"),
                Err(_) => panic!("failed"),
            }
        }
        windows.complete_at(csv.len() as u64);
        match read.advance(&parse, &mut windows, &schema, &layout.map, false) {
            Ok(Advanced::Done) => Some(rows(&read.staged.finish(&parse).unwrap())),
            Ok(Advanced::Sequential) => None,
            _ => panic!("not done at the end"),
        }
    }

    #[test]
    fn windows_fed_as_appends_arrive_give_the_sequential_rows() {
        let text = csv(300);
        let (_, sequential) = both(&text, 1 << 20);
        let want = rows_of(sequential);
        for (step, window) in [
            (1, 64),
            (37, 64),
            (100, 1000),
            (5000, 1000),
            (text.len(), 64),
        ] {
            assert_eq!(
                fed(&text, step, window).as_deref(),
                Some(&want[..]),
                "appends of {step} bytes, windows of {window}"
            );
        }
        // Quoted values with line ends and commas, cut anywhere; no line end at the end.
        let quoted = "Id,Name,Amount,Day\n1,\"a,\nb\",1.5,2024-01-01\n2,\"say \"\"hi\"\"\",2,2024-01-02\n3,c,3,2024-01-03";
        let (_, sequential) = both(quoted, 1 << 20);
        let want = rows_of(sequential);
        for step in [1, 2, 7, quoted.len()] {
            assert_eq!(fed(quoted, step, 64).as_deref(), Some(&want[..]), "{step}");
        }
        // A row longer than a window, a value that does not parse: the sequential reader's.
        let long = format!("Id,Name,Amount,Day\n1,{},1,2024-01-01\n", "x".repeat(500));
        assert_eq!(fed(&long, 50, 200), None);
        let bad = format!("{}x,y,1,2024-01-01\n", csv(20));
        assert_eq!(fed(&bad, 40, 200), None);
    }

    #[test]
    fn quotes_bad_rows_and_long_lines_go_back_to_the_sequential_reader() {
        let mut literal = csv(100);
        literal.push_str("100,a \"literal\" quote,1.5,2024-02-01\n");
        let mut bad = csv(100);
        bad.insert_str(bad.len() / 2, "\nnot,a,number\n");
        let long = format!("Id,Name,Amount,Day\n1,{},1,2024-01-01\n", "x".repeat(500));
        // Together the values need 40 digits: 30 before the point, 10 after.
        let wide = format!(
            "Id,Name,Amount,Day\n{}1,a,{},2024-01-01\n2,b,0.{},2024-01-01\n",
            csv(100).split_once('\n').unwrap().1,
            "9".repeat(30),
            "1".repeat(10)
        );
        for (what, text) in [
            ("literal", literal),
            ("bad", bad),
            ("long", long),
            ("wide", wide),
        ] {
            let (parallel, _) = both(&text, 200);
            assert!(matches!(parallel, Ok(Parallel::Sequential)), "{what}");
        }
    }
}
