//! A Parquet file as a source of record batches: row groups decoded in file order, in parallel
//! only when decoding limits the read.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::time::{Duration, Instant};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};

use super::identity::FileIdentity;
use super::location::FileLocation;
use crate::error::{Error, Result};

/// Decoded batches a decoder thread may run ahead of the consumer.
const BATCHES_AHEAD: usize = 4;

/// Past this share of a read spent waiting for decoded batches (after the first), the
/// reader starts another decoder thread (up to its `read_parallelism`).
const WAIT_SHARE_FOR_ANOTHER_DECODER: f64 = 0.1;

/// What a decoder thread sends: a batch of its row group, or the row group's end.
enum Decoded {
    Batch(RecordBatch),
    GroupEnd,
}

/// How long the reader has waited for the decoders since their first batch.
#[derive(Default)]
struct Waits {
    /// When the first batch arrived: waiting for it is the decoders' start, which nothing
    /// overlaps.
    since: Option<Instant>,
    waited: Duration,
}

impl Waits {
    /// `recv`, its blocking time counted once the first batch has arrived.
    fn timed<T>(&mut self, recv: impl FnOnce() -> T) -> T {
        let started = Instant::now();
        let got = recv();
        if self.since.is_some() {
            self.waited += started.elapsed();
        }
        got
    }

    /// A batch arrived: the clock starts at the first.
    fn batch(&mut self) {
        self.since.get_or_insert_with(Instant::now);
    }

    /// Whether the reader has spent at least `share` of its time waiting for batches
    /// (since the first arrived).
    fn decoding_limits(&self, share: f64) -> bool {
        self.since
            .is_some_and(|since| self.waited.as_secs_f64() >= since.elapsed().as_secs_f64() * share)
    }
}

/// Rows per record batch read from Parquet (default).
pub(crate) const DEFAULT_BATCH_ROWS: usize = 8192;

/// A Parquet file opened for reading: its metadata and Arrow schema are loaded once. Use it
/// to see a file's schema and row count before pushing it (for example to check its model
/// with [`infer_model`](crate::infer_model)).
///
/// A push reads it by decoding its row groups in file order on one decoder thread, or on
/// up to `read_parallelism` when the push waits for decoded batches, streaming their
/// batches on in file order, so memory holds a few decoded batches per decoder thread,
/// never whole row groups.
#[derive(Debug, Clone)]
pub struct ParquetSource {
    table: String,
    path: PathBuf,
    metadata: ArrowReaderMetadata,
    /// The local file as it was opened (`None` for an object, or where the system does
    /// not say): each row group checks that the path still names it.
    identity: Option<FileIdentity>,
    /// The object the file is, when it is one (read in ranges by parquet's async reader).
    #[cfg(feature = "object-store")]
    object: Option<super::location::ObjectFile>,
    batch_rows: usize,
    read_parallelism: usize,
}

impl ParquetSource {
    /// Open `path` for table `table` (the name is used in errors) and read its metadata.
    pub fn open(table: &str, path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = File::open(&path).map_err(|source| Error::Io {
            table: table.to_string(),
            path: path.clone(),
            source,
        })?;
        let metadata =
            ArrowReaderMetadata::load(&file, ArrowReaderOptions::default()).map_err(|source| {
                Error::Parquet {
                    table: table.to_string(),
                    path: path.clone(),
                    source,
                }
            })?;
        Ok(ParquetSource {
            table: table.to_string(),
            path,
            metadata,
            identity: FileIdentity::of(&file).ok(),
            #[cfg(feature = "object-store")]
            object: None,
            batch_rows: DEFAULT_BATCH_ROWS,
            read_parallelism: 2,
        })
    }

    /// Open the file (or object) at `location` for table `table` and read its metadata:
    /// an object's footer is fetched by ranged reads, never the whole object.
    pub(crate) fn open_at(table: &str, location: &FileLocation) -> Result<Self> {
        #[cfg(feature = "object-store")]
        if let Some(object) = &location.object {
            let metadata = super::object_parquet::load_metadata(object)
                .map_err(|e| e.into_error(table, location.path()))?;
            return Ok(ParquetSource {
                table: table.to_string(),
                path: location.path().to_path_buf(),
                metadata,
                identity: None,
                object: Some(object.clone()),
                batch_rows: DEFAULT_BATCH_ROWS,
                read_parallelism: 2,
            });
        }
        ParquetSource::open(table, location.path())
    }

    /// Rows per batch (default [`DEFAULT_BATCH_ROWS`]).
    pub(crate) fn with_batch_rows(mut self, rows: usize) -> Self {
        self.batch_rows = rows.max(1);
        self
    }

    /// The most decoder threads, each decoding one row group at a time (default 2; the
    /// second starts only when the reader waits for batches).
    pub(crate) fn with_read_parallelism(mut self, n: usize) -> Self {
        self.read_parallelism = n.max(1);
        self
    }

    /// The file's Arrow schema.
    pub fn schema(&self) -> SchemaRef {
        self.metadata.schema().clone()
    }

    /// Number of rows in the file.
    pub fn num_rows(&self) -> u64 {
        u64::try_from(self.metadata.metadata().file_metadata().num_rows()).unwrap_or(0)
    }

    /// Number of row groups.
    pub fn num_row_groups(&self) -> usize {
        self.metadata.metadata().num_row_groups()
    }

    /// The file path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn parquet_err(&self, source: parquet::errors::ParquetError) -> Error {
        Error::Parquet {
            table: self.table.clone(),
            path: self.path.clone(),
            source,
        }
    }

    /// Whether `file` (just opened at the path) is still the file this source opened:
    /// else [`Error::FileChanged`].
    fn unchanged(&self, file: &File) -> Result<()> {
        match (&self.identity, FileIdentity::of(file)) {
            (Some(opened), Ok(now)) if *opened != now => Err(self.changed()),
            _ => Ok(()),
        }
    }

    fn changed(&self) -> Error {
        Error::FileChanged {
            table: self.table.clone(),
            path: self.path.clone(),
        }
    }

    /// Decode row group `group`, passing its batches one by one to `send`, which returns
    /// whether to go on (it blocks while the consumer is behind). Returns whether the row
    /// group was read to its end: `false` after an error (sent) or when `send` said stop.
    fn decode_row_group(
        &self,
        group: usize,
        send: &mut dyn FnMut(Result<RecordBatch>) -> bool,
    ) -> bool {
        #[cfg(feature = "object-store")]
        if let Some(object) = &self.object {
            let builder = super::object_parquet::RowGroupRead {
                object,
                metadata: &self.metadata,
                group,
                batch_rows: self.batch_rows,
            };
            let fail = |e: super::object_parquet::ObjectParquetError| {
                e.into_error(&self.table, &self.path)
            };
            return builder.send(send, fail);
        }
        let reader = File::open(&self.path)
            .map_err(|source| Error::Io {
                table: self.table.clone(),
                path: self.path.clone(),
                source,
            })
            .and_then(|file| self.unchanged(&file).map(|()| file))
            .and_then(|file| {
                ParquetRecordBatchReaderBuilder::new_with_metadata(file, self.metadata.clone())
                    .with_row_groups(vec![group])
                    .with_batch_size(self.batch_rows)
                    .build()
                    .map_err(|e| self.parquet_err(e))
            });
        let reader = match reader {
            Ok(r) => r,
            Err(e) => {
                send(Err(e));
                return false;
            }
        };
        for b in reader {
            // A row group that cannot be read (a corrupt page, or a file cut short since
            // its footer was read) names the file.
            let b = b.map_err(|source| {
                self.parquet_err(parquet::errors::ParquetError::External(Box::new(source)))
            });
            let stop = b.is_err();
            if !send(b) || stop {
                return false;
            }
        }
        true
    }

    /// Read every batch in file order, passing each to `f`; stops at the first error
    /// (including one returned by `f`).
    ///
    /// Decoder threads take the row groups in file order, each streaming its batches
    /// through its own channel of `BATCHES_AHEAD` (4) batches, which the caller drains one
    /// row group at a time, in file order: decoding overlaps the caller's work, and memory
    /// holds at most `BATCHES_AHEAD` decoded batches (and the pages being decoded) per
    /// decoder thread, whatever the row group size.
    ///
    /// One decoder thread starts; another (up to `read_parallelism`) starts at the end of a
    /// row group only if the caller has spent more than [`WAIT_SHARE_FOR_ANOTHER_DECODER`]
    /// of the read waiting for batches (decoding, or an object's ranged reads, is then what
    /// limits the read). When the caller is the slower side, as it is when batches are
    /// encoded and uploaded, one decoder keeps up and memory is that of one decoder
    /// whatever the number of row groups.
    ///
    /// The threads live as long as the read: a thread per row group would make glibc's
    /// allocator hand successive row groups to different arenas, each of which then keeps
    /// a decoder's pages and batches after they are freed.
    pub(crate) fn read(&self, f: &mut dyn FnMut(RecordBatch) -> Result<()>) -> Result<()> {
        self.read_with_share(f, WAIT_SHARE_FOR_ANOTHER_DECODER)
            .map(|_| ())
    }

    /// [`read`](Self::read), starting another decoder past `wait_share` of the time spent
    /// waiting; returns how many decoder threads it started.
    fn read_with_share(
        &self,
        f: &mut dyn FnMut(RecordBatch) -> Result<()>,
        wait_share: f64,
    ) -> Result<usize> {
        let groups = self.num_row_groups();
        let claims = Mutex::new(0usize);
        let (order_tx, order) = channel::<usize>();
        std::thread::scope(|scope| {
            let mut lanes: Vec<Receiver<Result<Decoded>>> = Vec::new();
            let start_decoder = |lanes: &mut Vec<Receiver<Result<Decoded>>>| {
                let (tx, rx) = sync_channel(BATCHES_AHEAD);
                let lane = lanes.len();
                let (claims, order_tx) = (&claims, order_tx.clone());
                scope.spawn(move || self.decode_claimed(lane, groups, claims, &order_tx, &tx));
                lanes.push(rx);
            };
            if groups > 0 {
                start_decoder(&mut lanes);
            }
            let mut waits = Waits::default();
            // On an error, returning drops the receivers: the decoders stop at their next
            // send and the scope joins them.
            for group in 0..groups {
                let lane = waits
                    .timed(|| order.recv())
                    .map_err(|_| self.decoder_stopped(group))?;
                let rx = lanes.get(lane).ok_or_else(|| self.decoder_stopped(group))?;
                loop {
                    match waits.timed(|| rx.recv()) {
                        Ok(Ok(Decoded::Batch(b))) => {
                            waits.batch();
                            f(b)?;
                        }
                        Ok(Ok(Decoded::GroupEnd)) => break,
                        Ok(Err(e)) => return Err(e),
                        Err(_) => return Err(self.decoder_stopped(group)),
                    }
                }
                if lanes.len() < self.read_parallelism
                    && group + lanes.len() + 1 < groups
                    && waits.decoding_limits(wait_share)
                {
                    tracing::debug!(
                        table = %self.table,
                        path = %self.path.display(),
                        group,
                        waited_ms = waits.waited.as_millis(),
                        decoders = lanes.len() + 1,
                        "the reader waits for decoded batches: starting another decoder thread"
                    );
                    start_decoder(&mut lanes);
                }
            }
            // A change after the last row group was opened is still this push's.
            match (&self.identity, FileIdentity::at(&self.path)) {
                (Some(opened), Ok(now)) if *opened != now => Err(self.changed()),
                _ => Ok(lanes.len()),
            }
        })
    }

    /// A decoder thread (its channel `lane`): claim the next row group not yet claimed
    /// (telling the reader on `order` which lane it is in, claims being in file order),
    /// decode it into `tx` and mark its end, until every row group is claimed or the
    /// reader is gone.
    fn decode_claimed(
        &self,
        lane: usize,
        groups: usize,
        claims: &Mutex<usize>,
        order: &Sender<usize>,
        tx: &SyncSender<Result<Decoded>>,
    ) {
        let mut send = |b: Result<RecordBatch>| tx.send(b.map(Decoded::Batch)).is_ok();
        loop {
            let group = {
                let Ok(mut next) = claims.lock() else { return };
                if *next >= groups || order.send(lane).is_err() {
                    return;
                }
                *next += 1;
                *next - 1
            };
            if !self.decode_row_group(group, &mut send) || tx.send(Ok(Decoded::GroupEnd)).is_err() {
                return;
            }
        }
    }

    /// The decoder threads stopped before row group `group` was read to its end (one
    /// panicked).
    fn decoder_stopped(&self, group: usize) -> Error {
        Error::Internal(format!(
            "the decoder of row group {group} of {} (table {}) stopped before the row group's end",
            self.path.display(),
            self.table
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;

    use arrow_array::{Array, Int64Array, StringArray};
    use arrow_schema::{DataType, Field, Schema};
    use parquet::arrow::ArrowWriter;
    use parquet::file::properties::WriterProperties;

    use super::*;

    /// A file of `rows` rows (`id` 0.., a label) in row groups of `group_rows`.
    fn numbered_file(dir: &Path, rows: i64, group_rows: usize) -> PathBuf {
        let path = dir.join("numbered.parquet");
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("label", DataType::Utf8, false),
        ]));
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(group_rows))
            .build();
        let file = File::create(&path).unwrap();
        let mut w = ArrowWriter::try_new(file, schema.clone(), Some(props)).unwrap();
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from_iter_values(0..rows)),
                Arc::new(StringArray::from_iter_values(
                    (0..rows).map(|i| format!("row {i}")),
                )),
            ],
        )
        .unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        path
    }

    fn ids(batch: &RecordBatch) -> impl Iterator<Item = i64> + '_ {
        let ids = batch.column(0).as_any().downcast_ref::<Int64Array>();
        ids.into_iter().flat_map(|a| a.values().iter().copied())
    }

    #[test]
    fn every_row_group_is_read_once_in_file_order_whatever_the_decoders() {
        let dir = tempfile::tempdir().unwrap();
        let path = numbered_file(dir.path(), 6_500, 500);
        for parallelism in [1, 2, 3, 20] {
            let source = ParquetSource::open("numbered", &path)
                .unwrap()
                .with_batch_rows(128)
                .with_read_parallelism(parallelism);
            assert_eq!(source.num_row_groups(), 13);
            let mut read = Vec::new();
            source
                .read(&mut |b| {
                    assert!(b.num_rows() <= 128 && b.column(1).null_count() == 0);
                    read.extend(ids(&b));
                    Ok(())
                })
                .unwrap();
            assert_eq!(
                read,
                (0..6_500).collect::<Vec<_>>(),
                "{parallelism} decoders"
            );
        }
    }

    #[test]
    fn an_error_of_the_caller_stops_the_read_and_its_decoders() {
        let dir = tempfile::tempdir().unwrap();
        let path = numbered_file(dir.path(), 6_500, 500);
        let source = ParquetSource::open("numbered", &path)
            .unwrap()
            .with_batch_rows(100)
            .with_read_parallelism(3);
        let mut batches = 0;
        let result = source.read(&mut |_| {
            batches += 1;
            if batches == 12 {
                return Err(Error::Config("stop here".to_string()));
            }
            Ok(())
        });
        assert!(matches!(result, Err(Error::Config(_))), "{result:?}");
        assert_eq!(batches, 12);
    }

    #[test]
    fn a_file_without_row_groups_reads_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = numbered_file(dir.path(), 0, 500);
        let source = ParquetSource::open("empty", &path).unwrap();
        let mut batches = 0;
        source
            .read(&mut |_| {
                batches += 1;
                Ok(())
            })
            .unwrap();
        assert_eq!(batches, 0);
    }

    #[test]
    fn another_decoder_starts_only_when_the_reader_waits_more_than_its_share() {
        let now = Instant::now();
        let Some(since) = now.checked_sub(Duration::from_secs(10)) else {
            return; // the clock started less than 10 s ago: nothing to measure against
        };
        let waits = |waited| Waits {
            since: Some(since),
            waited,
        };
        let share = WAIT_SHARE_FOR_ANOTHER_DECODER;
        assert!(!Waits::default().decoding_limits(share), "no batch yet");
        assert!(!waits(Duration::from_millis(500)).decoding_limits(share));
        assert!(waits(Duration::from_secs(2)).decoding_limits(share));
    }
}
