//! The CSV file of a push's registered job: read and encoded on a blocking thread into
//! parts, passed through a channel of capacity 1 to the uploader, which keeps up to
//! `appends_in_flight` of them being appended (each at its own position; a failed append
//! is retried at its position by
//! [`DataLakeUpload`](pushdata_core::veracity::DataLakeUpload)) while the next is encoded,
//! then flushes the file once every append has succeeded.
//!
//! The encoding starts as soon as the input is open ([`Encoding::start`]), while the push
//! still registers its schema and job, so that the first parts wait for the job's file
//! and not the other way round. A push that ends before its upload drops the encoding:
//! the thread stops at its next part, which nobody receives.

use futures::StreamExt;
use futures::stream::FuturesOrdered;
use pushdata_core::veracity::Client;
use pushdata_core::veracity::wire::IngestResponse;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::csv::{CsvParts, CsvSummary};
use super::csv_part::CsvPart;
use super::error::VeracityError;
use super::progress::VeracityEvent;
use super::stage::Stage;
use super::transfer_error::TransferError;
use crate::push::progress::Sink;
use crate::source::TableReader;

/// What the upload of one file needs from its push.
pub(super) struct FileUpload<'a> {
    pub(super) client: &'a Client,
    /// The table, named in errors.
    pub(super) table: &'a str,
    /// The file name registered with the job.
    pub(super) file_name: &'a str,
    /// The most parts being appended at once (at least 1).
    pub(super) appends_in_flight: usize,
    /// The job starts when its file is flushed (`startAutomatically`).
    pub(super) starts_at_flush: bool,
    pub(super) stage: &'a Stage,
    pub(super) progress: &'a Sink<VeracityEvent>,
}

/// A table's CSV parts being encoded on a blocking thread, for one upload.
pub(super) struct Encoding {
    parts: mpsc::Receiver<CsvPart>,
    task: JoinHandle<Result<CsvSummary, TransferError>>,
}

impl Encoding {
    /// Start reading `reader` and encoding its rows into `parts`; the parts wait in a
    /// channel of capacity 1 for [`FileUpload::run`]. `table` names it in errors.
    pub(super) fn start(table: &str, reader: TableReader, parts: CsvParts) -> Self {
        let (tx, rx) = mpsc::channel::<CsvPart>(1);
        let table = table.to_string();
        let task = tokio::task::spawn_blocking(move || encode(&table, reader, parts, tx));
        Encoding { parts: rx, task }
    }
}

impl FileUpload<'_> {
    fn service(
        &self,
        step: &'static str,
    ) -> impl Fn(pushdata_core::veracity::Error) -> TransferError + use<> {
        TransferError::service(self.table, step)
    }

    /// Create the job's file, append the table's parts as they are encoded, flush.
    pub(super) async fn run(
        &self,
        ingest: &IngestResponse,
        encoding: Encoding,
    ) -> Result<CsvSummary, TransferError> {
        let job_id = &ingest.job_id;
        let Encoding {
            parts: mut rx,
            task: encoder,
        } = encoding;
        let mut upload = self
            .client
            .start_upload(ingest, self.file_name)
            .await
            .map_err(self.service("create file"))?;
        let mut appended: Result<(), TransferError> = Ok(());
        let (mut part, mut rows, mut bytes) = (0u64, 0u64, 0u64);
        // Appends in flight, answered in file order; the next part is taken while there is
        // room for it.
        let mut in_flight = FuturesOrdered::new();
        let mut parts_done = false;
        loop {
            let answered = if !parts_done && in_flight.len() < self.appends_in_flight.max(1) {
                tokio::select! {
                    biased;
                    Some(answer) = in_flight.next(), if !in_flight.is_empty() => Some(answer),
                    next = rx.recv() => {
                        match next {
                            // The part's slices go out as they are, and their buffers back
                            // to the encoder when the append is acknowledged (or failed for
                            // good).
                            Some(csv_part) => {
                                let (size, part_rows) = (csv_part.len() as u64, csv_part.rows());
                                let call = upload.start_append(csv_part.into_chunks());
                                in_flight.push_back(async move { (call.await, size, part_rows) });
                            }
                            None => parts_done = true,
                        }
                        None
                    }
                }
            } else {
                match in_flight.next().await {
                    Some(answer) => Some(answer),
                    None => break,
                }
            };
            let Some((answer, size, part_rows)) = answered else {
                continue;
            };
            if let Err(e) = answer {
                // The appends still in flight are dropped (their calls cancelled): the
                // push fails, naming this one.
                appended = Err(self.service("append")(e));
                break;
            }
            part += 1;
            rows += part_rows;
            bytes += size;
            tracing::debug!(table = %self.table, job_id, part, bytes = size, "CSV part appended");
            (self.progress)(VeracityEvent::PartAppended {
                job_id: job_id.clone(),
                part,
                bytes: size,
                total_bytes: bytes,
                rows,
            });
        }
        drop(in_flight);
        drop(rx);
        let encoded = encoder.await.map_err(|source| TransferError::Task {
            task: "encoding CSV parts",
            source,
        })?;
        appended?;
        let summary = encoded?;
        if self.starts_at_flush {
            // A stop signalled by now wins: the flush, which starts the job, is not sent.
            tokio::task::yield_now().await;
            self.stage.start_requested();
        }
        let bytes = upload.flush().await.map_err(self.service("flush"))?;
        (self.progress)(VeracityEvent::Flushed {
            job_id: job_id.clone(),
            bytes,
            rows: summary.rows,
        });
        if self.starts_at_flush {
            (self.progress)(VeracityEvent::JobStarted {
                job_id: job_id.clone(),
            });
        }
        Ok(summary)
    }
}

/// Read the table and encode it into parts (with their row counts) sent to the uploader
/// (on a blocking thread). An uploader that stopped ends the encoding quietly: its own
/// error is the one reported.
fn encode(
    table: &str,
    reader: TableReader,
    mut parts: CsvParts,
    tx: mpsc::Sender<CsvPart>,
) -> Result<CsvSummary, TransferError> {
    let mut failure: Option<TransferError> = None;
    let mut send = |part: CsvPart| -> Result<(), Failure> {
        tracing::debug!(
            table,
            bytes = part.len(),
            rows = part.rows(),
            "CSV part encoded"
        );
        tx.blocking_send(part)
            .map_err(|_| Failure::Other(crate::Error::UploaderStopped))
    };
    let read = reader.read(table, &mut |batch| {
        parts.push(&batch, &mut send).map_err(|e| match e {
            Failure::Check(source) => {
                failure = Some(TransferError::Check {
                    table: table.to_string(),
                    source,
                });
                crate::Error::Interrupted
            }
            Failure::Other(e) => e,
        })
    });
    if let Some(f) = failure {
        return Err(f);
    }
    match read {
        Err(crate::Error::UploaderStopped) => return Ok(CsvSummary::default()),
        Err(source) => {
            return Err(TransferError::Source {
                table: table.to_string(),
                source: Box::new(source),
            });
        }
        Ok(()) => {}
    }
    match parts.finish(&mut send) {
        Ok(summary) => Ok(summary),
        Err(Failure::Check(source)) => Err(TransferError::Check {
            table: table.to_string(),
            source,
        }),
        Err(Failure::Other(_)) => Ok(CsvSummary::default()),
    }
}

/// An encoding step's failure: the CSV encoder's, or the reader's / uploader's.
#[derive(Debug)]
enum Failure {
    Check(VeracityError),
    Other(crate::Error),
}

impl From<VeracityError> for Failure {
    fn from(e: VeracityError) -> Self {
        Failure::Check(e)
    }
}

impl From<crate::Error> for Failure {
    fn from(e: crate::Error) -> Self {
        Failure::Other(e)
    }
}
