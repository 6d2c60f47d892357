//! A job's parsed rows staged for its commit, in file order.
//!
//! When the commit keeps the uploaded rows as they are (Create, Overwrite, Append: the
//! store moves staged files into the new version by a rename), the typed batches are
//! gathered into groups of [`GROUP_ROWS`] rows, each staged as one Parquet file of the
//! stored schema while the file is still being parsed (during the upload, when the parse
//! runs ahead, which also stages what it gathered at the end of each append when that
//! makes a file: see [`Staged::settle`]); the commit then writes at most the rows of the
//! last group, not the whole table. The other operations merge the staged rows with the
//! stored ones, so each batch is staged on its own (in memory while the server's budget
//! allows, as before).
//!
//! A group's file is written (encoded, then fsynced) on a thread of its own while the parse
//! goes on, one file at a time: the parse's threads and the file's encoding share the
//! cores instead of taking turns, and the parse does not wait for the fsync. A parse that
//! stops leaves the write to finish and its file to be removed (a staged file is removed
//! when dropped).
//!
//! Memory: the batches gathered for the next file (under [`GROUP_ROWS`] rows), and those
//! of the file being written, are held by the parse, outside the server's staging budget.

use std::thread::JoinHandle;

use arrow_array::RecordBatch;
use pushdata_core::veracity::wire::FileOperation;

use super::jobs::Failure;
use super::process::{CsvParse, policy, store_failure};
use crate::store::{FILE_ROWS, Kept, MergePolicy, StagedData, StoreError};

/// Rows gathered into one staged file when the commit keeps the rows as they are (5 files
/// per SF 0.1 lineitem upload, 46 at SF 1). Two groups are held at once (one gathered, one
/// being written), as one group of twice this size was when the parse wrote each file
/// itself.
pub(super) const GROUP_ROWS: usize = 128 * 1024;

/// Batches staged so far, the file being written after them, and the batches gathered
/// for the next staged file.
#[derive(Default)]
pub(super) struct Staged {
    staged: Vec<StagedData>,
    writing: Option<JoinHandle<Result<StagedData, StoreError>>>,
    pending: Vec<RecordBatch>,
    pending_rows: usize,
}

/// Whether an operation's commit keeps the uploaded rows as they are (so they are
/// staged in groups).
fn grouped(op: &FileOperation) -> bool {
    matches!(policy(op), Some(MergePolicy::Replace | MergePolicy::Append))
}

impl Staged {
    /// Stage `batch`, the next rows of the file.
    pub(super) fn push(&mut self, parse: &CsvParse<'_>, batch: RecordBatch) -> Result<(), Failure> {
        if !grouped(parse.op) {
            let n = self.staged.len();
            self.staged.push(parse.stage(vec![batch], n)?);
            return Ok(());
        }
        self.pending_rows += batch.num_rows();
        self.pending.push(batch);
        if self.pending_rows >= GROUP_ROWS {
            self.stage_pending(parse)?;
        }
        Ok(())
    }

    /// The rows read so far are all the parse has for now (a parse ahead waiting for the
    /// next append): stage those gathered if they are enough for a file of their own, so
    /// the rows of the upload's last append are staged before its flush.
    pub(super) fn settle(&mut self, parse: &CsvParse<'_>) -> Result<(), Failure> {
        if self.pending_rows as u64 >= FILE_ROWS {
            self.stage_pending(parse)?;
        }
        Ok(())
    }

    /// Stage the gathered batches as a file, written on a thread of its own (after the
    /// file being written, if any, is).
    fn stage_pending(&mut self, parse: &CsvParse<'_>) -> Result<(), Failure> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let batches = std::mem::take(&mut self.pending);
        self.pending_rows = 0;
        self.wait_write()?;
        let n = self.staged.len();
        match parse.stage_or_defer(batches, n)? {
            Kept::Staged(data) => self.staged.push(data),
            Kept::Later(write) => {
                let staging = parse.staging.clone();
                let writer = std::thread::Builder::new()
                    .name("veracity-staged-file".into())
                    .spawn(move || write.write(&staging, || ()))
                    .map_err(|e| Failure::internal("starting a staged file's write", e))?;
                self.writing = Some(writer);
            }
        }
        Ok(())
    }

    /// Wait for the file being written, and keep it.
    fn wait_write(&mut self) -> Result<(), Failure> {
        let Some(writer) = self.writing.take() else {
            return Ok(());
        };
        let written = writer.join().map_err(|_| {
            Failure::internal(
                "writing a staged file",
                std::io::Error::other("the writing thread panicked"),
            )
        })?;
        self.staged.push(written.map_err(store_failure)?);
        Ok(())
    }

    /// Every row staged (the last group too), in file order.
    pub(super) fn finish(mut self, parse: &CsvParse<'_>) -> Result<Vec<StagedData>, Failure> {
        self.stage_pending(parse)?;
        self.wait_write()?;
        Ok(self.staged)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::veracity::parallel::tests::{Upload, csv, rows};

    /// 1000 parsed rows: one batch, and each row as text.
    fn parsed() -> (RecordBatch, Vec<Vec<String>>) {
        let parsed = Upload::new(&csv(1000)).parse().run().unwrap();
        let batches: Vec<RecordBatch> = parsed.iter().flat_map(|s| s.batches().unwrap()).collect();
        let batch = arrow_select::concat::concat_batches(&batches[0].schema(), &batches).unwrap();
        (batch, rows(&parsed))
    }

    /// `batch` pushed `times` times into a [`Staged`] of `up`'s parse.
    fn staged(up: &Upload, batch: &RecordBatch, times: usize) -> Vec<StagedData> {
        let parse = up.parse();
        let mut staged = Staged::default();
        for _ in 0..times {
            staged.push(&parse, batch.clone()).unwrap();
        }
        staged.finish(&parse).unwrap()
    }

    #[test]
    fn rows_kept_as_they_are_are_staged_in_files_of_a_group_each() {
        let (batch, one) = parsed();
        assert_eq!(one.len(), 1000);
        let times = GROUP_ROWS / 1000 + 40;
        let up = Upload::new(&csv(1));
        let out = staged(&up, &batch, times);
        let sizes: Vec<u64> = out.iter().map(StagedData::rows).collect();
        let first = (GROUP_ROWS as u64).div_ceil(1000) * 1000;
        assert_eq!(sizes, [first, times as u64 * 1000 - first]);
        assert!(matches!(out[0], StagedData::File(_)), "a group is one file");
        let want: Vec<Vec<String>> = (0..times).flat_map(|_| one.iter().cloned()).collect();
        assert_eq!(rows(&out), want, "every row, in order");
    }

    #[test]
    fn a_parse_waiting_for_more_bytes_stages_what_makes_a_file() {
        let (batch, _) = parsed();
        let up = Upload::new(&csv(1));
        let parse = up.parse();
        let mut staged = Staged::default();
        let batches = (FILE_ROWS / 1000) as usize;
        for _ in 0..batches {
            staged.push(&parse, batch.clone()).unwrap();
        }
        staged.settle(&parse).unwrap();
        assert!(
            staged.staged.is_empty(),
            "fewer rows than a file: still gathered"
        );
        staged.push(&parse, batch.clone()).unwrap();
        staged.settle(&parse).unwrap();
        staged.push(&parse, batch.clone()).unwrap();
        let out = staged.finish(&parse).unwrap();
        let sizes: Vec<u64> = out.iter().map(StagedData::rows).collect();
        assert_eq!(sizes, [(batches as u64 + 1) * 1000, 1000]);
        assert!(matches!(out[0], StagedData::File(_)));
    }

    #[test]
    fn a_file_that_cannot_be_written_on_its_thread_fails_the_parse() {
        let (batch, _) = parsed();
        let mut up = Upload::new(&csv(1));
        up.spill = up.spill.join("no such directory").join("parsed");
        let parse = up.parse();
        let mut staged = Staged::default();
        for _ in 0..GROUP_ROWS / 1000 + 1 {
            staged.push(&parse, batch.clone()).unwrap();
        }
        assert!(staged.writing.is_some(), "a group's file is being written");
        let failed = staged.finish(&parse);
        assert!(
            matches!(failed, Err(Failure::Internal { .. })),
            "{:?}",
            failed.map(|s| s.len())
        );
    }

    #[test]
    fn rows_merged_with_stored_ones_are_staged_batch_by_batch() {
        let (batch, _) = parsed();
        for op in [FileOperation::Upsert, FileOperation::Delete] {
            let mut up = Upload::new(&csv(1));
            up.op = op;
            let out = staged(&up, &batch, 3);
            assert_eq!(out.len(), 3);
            assert!(out.iter().all(|s| matches!(s, StagedData::Memory(_))));
        }
    }
}
