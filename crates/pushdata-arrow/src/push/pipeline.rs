//! The bounded streaming pipeline of the multi-request workflow:
//!
//! ```text
//! source (Parquet row groups in parallel / iterator / stream)
//!   -> Chunker (rayon, one blocking thread)          --bounded channel (1 chunk)-->
//!   -> uploader (at most `concurrency` PUTs in flight)
//! ```
//!
//! Encoded chunk data is bounded by the memory budget ([`MemoryBudget`]); what it counts and
//! what stays outside it is the [memory bound](super::Push#memory-bound) of a push.

use std::sync::Arc;
use std::time::Duration;

use arrow_array::RecordBatch;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use pushdata_core::Client;
use pushdata_core::wire::Orientation;
use tokio::sync::mpsc;

use super::progress::{ProgressEvent, ProgressSink};
use crate::encode::{Chunker, EncodedChunk, MemoryBudget, ZoneMode};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::source::TableReader;

/// Encoding settings of the producer.
#[derive(Clone, Copy)]
pub(crate) struct ProduceConfig {
    pub(crate) orientation: Orientation,
    pub(crate) zones: ZoneMode,
    pub(crate) chunk_bytes: usize,
}

/// Rows and chunks per table, as produced.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Produced {
    pub(crate) rows: u64,
    pub(crate) chunks: u64,
}

/// Read and encode every table in order, sending chunks to `tx` (blocks when it is full),
/// within `budget` (blocks while it is full).
pub(crate) fn produce(
    model: &Model,
    readers: Vec<TableReader>,
    cfg: ProduceConfig,
    budget: Arc<MemoryBudget>,
    tx: mpsc::Sender<EncodedChunk>,
    progress: &ProgressSink,
) -> Result<Vec<Produced>> {
    let mut out = Vec::with_capacity(readers.len());
    for (table, reader) in model.tables.iter().zip(readers) {
        progress(ProgressEvent::TableStarted {
            table: table.name.clone(),
        });
        let mut chunker = Chunker::new(table, cfg.orientation, cfg.zones, cfg.chunk_bytes)
            .with_budget(budget.clone());
        let mut chunks = 0u64;
        let mut emit = |ch: EncodedChunk| -> Result<()> {
            chunks += 1;
            progress(ProgressEvent::RowsEncoded {
                table: ch.table.clone(),
                rows: ch.rows.end,
            });
            tx.blocking_send(ch).map_err(|_| Error::UploaderStopped)
        };
        {
            let mut rows_read = 0u64;
            reader.read(&table.name, &mut |b: RecordBatch| -> Result<()> {
                rows_read += b.num_rows() as u64;
                progress(ProgressEvent::RowsRead {
                    table: table.name.clone(),
                    rows: rows_read,
                });
                chunker.push(&b, &mut emit)
            })?;
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
    pub(crate) bytes: Vec<u64>,
    pub(crate) chunks: Vec<u64>,
}

/// How the uploader paces itself: chunks in flight at once, and how long it may sit idle
/// (a slow source) before it asks the publish status to keep the login and the upload
/// session alive (servers expire both after an idle time).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pace {
    pub(crate) concurrency: usize,
    pub(crate) keepalive: Duration,
}

/// Upload every chunk from `rx`, at most `pace.concurrency` at once. A chunk is dropped
/// (its bytes released from the budget) as soon as its upload ends. Stops at the first
/// chunk that fails after the client's retries (dropping `rx`, which stops the producer).
pub(crate) async fn upload(
    client: &Client,
    model: &Model,
    dataset_id: &str,
    session_id: &str,
    mut rx: mpsc::Receiver<EncodedChunk>,
    pace: Pace,
    progress: &ProgressSink,
) -> Result<Uploaded> {
    let mut totals = Uploaded {
        bytes: vec![0; model.tables.len()],
        chunks: vec![0; model.tables.len()],
    };
    let mut in_flight = FuturesUnordered::new();
    let mut open = true;
    let concurrency = pace.concurrency.max(1);
    loop {
        tokio::select! {
            // Nothing to send for a while (the source is slow): a cheap authenticated call
            // on the session keeps the login and the session from expiring. Its failure is
            // only logged: the next chunk meets any real problem.
            () = tokio::time::sleep(pace.keepalive), if open && in_flight.is_empty() => {
                tracing::debug!(dataset_id, session_id, "no chunk for a while: keeping the session alive");
                if let Err(e) = client.publish_status(dataset_id, session_id).await {
                    tracing::debug!(dataset_id, session_id, error = %e, "the keep-alive status request failed");
                }
            },
            next = rx.recv(), if open && in_flight.len() < concurrency => match next {
                Some(ch) => in_flight.push(async move {
                    let r = client.put_chunk(dataset_id, session_id, &ch.body).await;
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::VecDeque;
    use std::time::Duration;

    use arrow_array::{Int64Array, StringArray};
    use arrow_schema::{DataType, Field, Schema};

    use super::*;
    use crate::model::{ModelOptions, TableSchema, infer_model};

    fn batches() -> Vec<RecordBatch> {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("text", DataType::Utf8, true),
        ]));
        (0..6)
            .map(|b| {
                let ids = b * 5000..(b + 1) * 5000;
                RecordBatch::try_new(
                    schema.clone(),
                    vec![
                        Arc::new(Int64Array::from_iter_values(ids.clone())),
                        Arc::new(StringArray::from_iter(ids.map(|i| {
                            (i % 7 != 0)
                                .then(|| format!("row {i} {}", "x".repeat((i % 50) as usize)))
                        }))),
                    ],
                )
                .unwrap()
            })
            .collect()
    }

    /// Against a slow consumer that keeps every chunk as long as it can, the piece buffers
    /// counted (which bound the encoded data: nothing is written beyond a buffer's
    /// capacity) never exceed the budget, and the chunks the consumer holds never do
    /// either.
    #[test]
    fn the_memory_budget_is_honoured_against_a_slow_uploader() {
        let data = batches();
        let model = infer_model(
            "d",
            &[TableSchema::new("t", data[0].schema())],
            &ModelOptions::default(),
        )
        .unwrap();
        for (orientation, chunk_bytes, limit) in [
            (Orientation::Row, 64 * 1024, 128 * 1024),
            (Orientation::Row, 64 * 1024, 96 * 1024),
            (Orientation::Column, 64 * 1024, 160 * 1024),
            (Orientation::Row, 64 * 1024, 40 * 1024),
        ] {
            let budget = MemoryBudget::new(limit);
            let (tx, mut rx) = mpsc::channel::<EncodedChunk>(1);
            // The "uploader": up to 3 chunks at once, each released 5 ms after it arrived.
            let consumer = std::thread::spawn(move || {
                let mut held: VecDeque<(std::time::Instant, EncodedChunk)> = VecDeque::new();
                let (mut most, mut chunks, mut rows) = (0usize, 0u64, 0u64);
                let mut open = true;
                while open || !held.is_empty() {
                    while held
                        .front()
                        .is_some_and(|(at, _)| at.elapsed() >= Duration::from_millis(5))
                    {
                        held.pop_front();
                    }
                    if open && held.len() < 3 {
                        match rx.try_recv() {
                            Ok(ch) => {
                                chunks += 1;
                                rows += ch.rows.end - ch.rows.start;
                                held.push_back((std::time::Instant::now(), ch));
                                let live: usize = held.iter().map(|(_, c)| c.body.data_len()).sum();
                                most = most.max(live);
                                continue;
                            }
                            Err(mpsc::error::TryRecvError::Disconnected) => open = false,
                            Err(mpsc::error::TryRecvError::Empty) => {}
                        }
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
                (most, chunks, rows)
            });
            let cfg = ProduceConfig {
                orientation,
                zones: ZoneMode::Utc,
                chunk_bytes,
            };
            let progress: ProgressSink = Arc::new(|_| {});
            let produced = produce(
                &model,
                vec![TableReader::Batches(Box::new(
                    data.clone().into_iter().map(Ok),
                ))],
                cfg,
                budget.clone(),
                tx,
                &progress,
            )
            .unwrap();
            let (most, chunks, rows) = consumer.join().unwrap();
            assert_eq!(rows, 30_000);
            assert_eq!(chunks, produced[0].chunks);
            assert!(chunks > 10, "{chunks} chunks");
            assert!(
                budget.peak() <= limit,
                "{orientation:?} {limit}: peak {} over the budget",
                budget.peak()
            );
            assert!(most <= limit, "{orientation:?} {limit}: held {most}");
            // The budget, not the consumer, was what limited the chunks in memory.
            assert!(budget.peak() > limit / 2, "peak {}", budget.peak());
            // Every buffer came back: what is still counted is kept for reuse.
            assert_eq!(
                budget.in_use(),
                budget.kept(),
                "a buffer was not given back"
            );
        }
    }
}
