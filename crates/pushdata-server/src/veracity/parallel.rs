//! The uploaded CSV parsed on all cores. The file is read in windows of whole rows (row
//! ends found with the quotes paired, see `row_ends`); each window is cut into pieces of
//! whole rows that arrow-csv reads in parallel, and the pieces' batches are typed in
//! parallel, then staged in file order.
//!
//! A window whose quotes cannot be paired as the CSV reader would read them, or that holds
//! no row end, hands the file back to the sequential reader, which starts again from the
//! first row. So does any failure: the sequential reader reports it as it always has (the
//! first failing row). What this reader staged is dropped then.

use std::io::Read;
use std::path::Path;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use rayon::prelude::*;

use super::decimals::Digits;
use super::jobs::Failure;
use super::process::{BATCH_ROWS, CsvParse, typed};
use super::row_ends::RowEnds;
use crate::store::StagedData;

/// Bytes of the file read per window, per thread of the pool.
const WINDOW_BYTES_PER_THREAD: usize = 8 << 20;

/// Pieces a window is cut into, per thread (more than one, so that a slow piece does not
/// hold a thread idle).
const PIECES_PER_THREAD: usize = 2;

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
        let mut need = self.stored_digits.clone();
        let mut staged = Vec::new();
        let mut first_row: u64 = 1;
        while let Some(rows) = windows.next_rows()? {
            if (self.stopping)() {
                return Err(Failure::Stopped);
            }
            let Some(pieces) = rows.map(|(rows, start, end)| rows.cut(start, end, pieces)) else {
                tracing::debug!(file = %self.path.display(), "read on one thread: quotes a CSV reader takes literally, or a row longer than a window");
                return Ok(Parallel::Sequential);
            };
            let read: Result<Vec<Vec<RecordBatch>>, _> = pieces
                .par_iter()
                .map(|piece| read_piece(piece, text_schema))
                .collect();
            let Ok(read) = read else {
                tracing::debug!(file = %self.path.display(), "read again on one thread: a piece is not valid CSV");
                return Ok(Parallel::Sequential);
            };
            let mut numbered = Vec::new();
            for batch in read.into_iter().flatten() {
                let rows = batch.num_rows() as u64;
                numbered.push((first_row, batch));
                first_row += rows;
            }
            let typed: Result<Vec<(RecordBatch, Vec<Digits>)>, Failure> = numbered
                .par_iter()
                .map(|(first, batch)| {
                    let mut batch_need = need.clone();
                    typed(self.def, batch, map, delete, *first, &mut batch_need)
                        .map(|t| (t, batch_need))
                })
                .collect();
            let Ok(typed) = typed else {
                tracing::debug!(file = %self.path.display(), "read again on one thread: a value does not fit");
                return Ok(Parallel::Sequential);
            };
            for (batch, batch_need) in typed {
                for (n, b) in need.iter_mut().zip(batch_need) {
                    *n = n.with(b);
                }
                staged.push(self.stage(batch, staged.len())?);
            }
            // Each batch fitted with the digits before the window; together they may not:
            // the sequential reader names the row where they stop fitting.
            if !need.iter().all(|n| n.fits()) {
                return Ok(Parallel::Sequential);
            }
        }
        Ok(Parallel::Done(staged))
    }
}

/// The file's data rows (after the header line), a window of whole lines at a time.
struct Windows {
    file: std::fs::File,
    window: usize,
    buf: Vec<u8>,
    /// Bytes at the start of `buf` already handed out (the next window drops them).
    used: usize,
    header_skipped: bool,
    eof: bool,
}

impl Windows {
    fn open(path: &Path, window: usize) -> Result<Self, Failure> {
        let file =
            std::fs::File::open(path).map_err(|e| Failure::internal("opening the upload", e))?;
        Ok(Windows {
            file,
            window,
            buf: Vec::new(),
            used: 0,
            header_skipped: false,
            eof: false,
        })
    }

    /// The next window's whole rows, as the text, and where its rows start and end in
    /// it: `None` at the end of the file, `Some(None)` when the window cannot be read in
    /// parallel (quotes the pairing cannot follow, or no row end in it).
    #[allow(clippy::type_complexity)]
    fn next_rows(&mut self) -> Result<Option<Option<(RowEnds<'_>, usize, usize)>>, Failure> {
        self.buf.drain(..self.used);
        self.used = 0;
        if !self.eof {
            self.fill()?;
        }
        let Some(rows) = RowEnds::scan(&self.buf, self.eof) else {
            return Ok(Some(None));
        };
        let mut start = 0;
        if !self.header_skipped {
            match rows.next_end(0) {
                Some(end) => start = end,
                None if self.eof => return Ok(None),
                None => return Ok(Some(None)),
            }
            self.header_skipped = true;
        }
        let end = if self.eof {
            self.buf.len()
        } else {
            match rows.last_end(self.buf.len()) {
                Some(end) if end > start => end,
                _ => return Ok(Some(None)),
            }
        };
        if start == end {
            return Ok(None);
        }
        self.used = end;
        Ok(Some(Some((rows, start, end))))
    }

    /// Read until the buffer holds a window, or the file ends.
    fn fill(&mut self) -> Result<(), Failure> {
        let want = self.window.saturating_sub(self.buf.len());
        let read = (&mut self.file)
            .take(want as u64)
            .read_to_end(&mut self.buf)
            .map_err(|e| Failure::internal("reading the upload", e))?;
        if read < want {
            self.eof = true;
        }
        Ok(())
    }
}

/// One piece's rows as text batches (a failure: the sequential reader reports it).
fn read_piece(piece: &[u8], schema: &SchemaRef) -> Result<Vec<RecordBatch>, ()> {
    let reader = arrow_csv::ReaderBuilder::new(schema.clone())
        .with_header(false)
        .with_batch_size(BATCH_ROWS)
        .build_buffered(piece)
        .map_err(|_| ())?;
    reader.collect::<Result<Vec<_>, _>>().map_err(|_| ())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use arrow_schema::{DataType, Field, Schema};
    use pushdata_core::veracity::wire::{ColumnType, FileOperation, SchemaColumn, SchemaVersion};

    use super::*;
    use crate::store::Staging;
    use crate::veracity::definition::VDataset;

    /// A dataset of Id (Int64 key), Name (String), Amount (Decimal), Day (DateOnly).
    fn dataset() -> VDataset {
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
    fn rows(staged: &[StagedData]) -> Vec<Vec<String>> {
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

    /// The parallel reader's outcome (windows of `window` bytes, 3 pieces) and the
    /// sequential reader's, for the CSV text `csv`.
    fn both(
        csv: &str,
        window: usize,
    ) -> (Result<Parallel, Failure>, Result<Vec<StagedData>, Failure>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("upload.csv");
        std::fs::write(&path, csv).unwrap();
        let def = dataset();
        let staging = Staging::new(1 << 30, 1 << 30);
        let spill = dir.path().join("parsed");
        let parse = || CsvParse {
            path: &path,
            def: &def,
            op: &FileOperation::Create,
            staging: &staging,
            spill: &spill,
            stored_digits: vec![Digits::default(); 4],
            stopping: &|| false,
        };
        let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
        let text = Arc::new(Schema::new(
            header
                .iter()
                .map(|h| Field::new(*h, DataType::Utf8, true))
                .collect::<Vec<_>>(),
        ));
        let map: Vec<Option<usize>> = def
            .columns
            .iter()
            .map(|c| header.iter().position(|h| *h == c.name))
            .collect();
        let parallel = parse().run_windows(&text, &map, false, window, 3);
        (parallel, parse().run())
    }

    fn csv(rows: usize) -> String {
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

    fn rows_of(r: Result<Vec<StagedData>, Failure>) -> Vec<Vec<String>> {
        rows(&r.unwrap())
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
