//! The bounded streaming pipeline of the multi-request workflow:
//!
//! ```text
//! source (Parquet row groups in parallel / iterator / stream)
//!   -> Chunker (rayon, one blocking thread)          --bounded channel (1 chunk)-->
//!   -> uploader (at most `concurrency` PUTs in flight)
//! ```
//!
//! Peak memory, whatever the input size, is about `concurrency × chunk_bytes` of chunk
//! bodies (being built, waiting in the channel, in flight: each holds a permit of a
//! semaphore of `concurrency`, taken before the chunk is encoded) plus about one chunk of
//! encoded JSON and a few decoded batches per Parquet row group being read (or the batches
//! an iterator/stream yields at once).

use std::sync::Arc;

use arrow_array::RecordBatch;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use pushdata_core::Client;
use pushdata_core::wire::Orientation;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use super::progress::{ProgressEvent, ProgressSink};
use crate::encode::{Chunker, EncodedChunk, ZoneMode};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::source::{BatchIter, ParquetSource};

/// A table's batches, ready for the blocking producer thread.
pub(crate) enum Feed {
    Parquet(ParquetSource),
    Iter(BatchIter),
    /// Batches forwarded from an async stream by a task.
    Channel(mpsc::Receiver<std::result::Result<RecordBatch, arrow_schema::ArrowError>>),
    Memory(Vec<RecordBatch>),
}

/// Encoding settings of the producer.
#[derive(Clone, Copy)]
pub(crate) struct ProduceConfig {
    pub orientation: Orientation,
    pub zones: ZoneMode,
    pub chunk_bytes: usize,
    /// Chunk bodies that may exist at once (in the channel or being uploaded).
    pub concurrency: usize,
}

/// A chunk on its way to the uploader. It holds one of the `concurrency` body permits until
/// its upload ends, so that at most `concurrency` chunk bodies exist at once.
pub(crate) struct Outgoing {
    chunk: EncodedChunk,
    permit: OwnedSemaphorePermit,
}

/// Wait (on the producer's blocking thread) for a free body permit.
fn acquire(bodies: &Arc<Semaphore>) -> Result<OwnedSemaphorePermit> {
    futures::executor::block_on(bodies.clone().acquire_owned())
        .map_err(|_| Error::Internal(UPLOAD_STOPPED.into()))
}

/// Rows and chunks per table, as produced.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Produced {
    pub rows: u64,
    pub chunks: u64,
}

/// Marker message of the producer when the uploader went away (its error is the real one).
pub(crate) const UPLOAD_STOPPED: &str = "the uploader stopped";

/// Read and encode every table in order, sending chunks to `tx` (blocks when it is full).
pub(crate) fn produce(
    model: &Model,
    feeds: Vec<Feed>,
    cfg: ProduceConfig,
    tx: mpsc::Sender<Outgoing>,
    progress: &ProgressSink,
) -> Result<Vec<Produced>> {
    let mut out = Vec::with_capacity(feeds.len());
    // A permit is taken before a chunk is encoded: when `concurrency` chunks are out, the
    // producer waits for one upload to end instead of building more bodies.
    let bodies = Arc::new(Semaphore::new(cfg.concurrency.max(1)));
    let mut permit = Some(acquire(&bodies)?);
    for (table, feed) in model.tables.iter().zip(feeds) {
        progress(ProgressEvent::TableStarted {
            table: table.name.clone(),
        });
        let mut chunker = Chunker::new(table, cfg.orientation, cfg.zones, cfg.chunk_bytes);
        let mut chunks = 0u64;
        let mut emit = |ch: EncodedChunk| -> Result<()> {
            chunks += 1;
            progress(ProgressEvent::RowsEncoded {
                table: ch.table.clone(),
                rows: ch.rows.end,
            });
            let held = match permit.take() {
                Some(p) => p,
                None => acquire(&bodies)?,
            };
            tx.blocking_send(Outgoing {
                chunk: ch,
                permit: held,
            })
            .map_err(|_| Error::Internal(UPLOAD_STOPPED.into()))?;
            permit = Some(acquire(&bodies)?);
            Ok(())
        };
        let arrow_err = |source| Error::Arrow {
            table: table.name.clone(),
            source,
        };
        {
            let mut rows_read = 0u64;
            let mut feed_batch = |b: RecordBatch| -> Result<()> {
                rows_read += b.num_rows() as u64;
                progress(ProgressEvent::RowsRead {
                    table: table.name.clone(),
                    rows: rows_read,
                });
                chunker.push(&b, &mut emit)
            };
            match feed {
                Feed::Parquet(p) => p.read(&mut feed_batch)?,
                Feed::Iter(it) => {
                    for b in it {
                        feed_batch(b.map_err(arrow_err)?)?;
                    }
                }
                Feed::Channel(mut rx) => {
                    while let Some(b) = rx.blocking_recv() {
                        feed_batch(b.map_err(arrow_err)?)?;
                    }
                }
                Feed::Memory(batches) => {
                    for b in batches {
                        feed_batch(b)?;
                    }
                }
            }
        }
        let rows = chunker.rows_in();
        chunker.finish(&mut emit)?;
        progress(ProgressEvent::TableEncoded {
            table: table.name.clone(),
            rows,
            chunks,
        });
        out.push(Produced { rows, chunks });
    }
    Ok(out)
}

/// Uploaded bytes and chunks per table index.
#[derive(Debug, Clone, Default)]
pub(crate) struct Uploaded {
    pub bytes: Vec<u64>,
    pub chunks: Vec<u64>,
}

/// Upload every chunk from `rx`, at most `concurrency` at once. Stops at the first chunk
/// that fails after the client's retries (dropping `rx`, which stops the producer).
pub(crate) async fn upload(
    client: &Client,
    model: &Model,
    dataset_id: &str,
    session_id: &str,
    mut rx: mpsc::Receiver<Outgoing>,
    concurrency: usize,
    progress: &ProgressSink,
) -> Result<Uploaded> {
    let mut totals = Uploaded {
        bytes: vec![0; model.tables.len()],
        chunks: vec![0; model.tables.len()],
    };
    let mut in_flight = FuturesUnordered::new();
    let mut open = true;
    let concurrency = concurrency.max(1);
    loop {
        tokio::select! {
            next = rx.recv(), if open && in_flight.len() < concurrency => match next {
                Some(Outgoing { chunk: ch, permit }) => in_flight.push(async move {
                    let r = client.put_chunk(dataset_id, session_id, &ch.body).await;
                    drop(permit);
                    (ch, r)
                }),
                None => open = false,
            },
            Some((ch, result)) = in_flight.next(), if !in_flight.is_empty() => {
                if let Err(source) = result {
                    return Err(Error::Chunk {
                        table: ch.table,
                        chunk: ch.index,
                        rows: ch.rows,
                        source: Box::new(source),
                    });
                }
                let bytes = ch.body.len() as u64;
                if let Some(t) = model.tables.iter().position(|t| t.name == ch.table) {
                    totals.bytes[t] += bytes;
                    totals.chunks[t] += 1;
                }
                tracing::debug!(table = %ch.table, index = ch.index, bytes, "chunk uploaded");
                progress(ProgressEvent::ChunkUploaded {
                    table: ch.table,
                    index: ch.index,
                    rows: ch.rows,
                    bytes,
                });
            },
            else => break,
        }
    }
    Ok(totals)
}

/// Forward an async stream into a bounded channel the producer thread reads.
pub(crate) fn forward_stream(
    mut stream: crate::source::BatchStream,
) -> mpsc::Receiver<std::result::Result<RecordBatch, arrow_schema::ArrowError>> {
    let (tx, rx) = mpsc::channel(2);
    tokio::spawn(async move {
        while let Some(item) = stream.next().await {
            let stop = item.is_err();
            if tx.send(item).await.is_err() || stop {
                break;
            }
        }
    });
    rx
}
