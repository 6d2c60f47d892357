//! Progress events of a push, delivered through a callback or a channel.

use std::ops::Range;
use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;

/// Something that happened during a push. Row counts are cumulative per table.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProgressEvent {
    /// The dataset was created (multi-request model, or single-request dataset).
    DatasetCreated {
        /// The new dataset id.
        dataset_id: String,
    },
    /// A dataset of the name to create was found in the folder, and the push goes into it
    /// ([`IfExists::Update`](super::IfExists::Update)).
    DatasetFound {
        /// Its id.
        dataset_id: String,
        /// Its name, as stored.
        name: String,
    },
    /// The upload session was opened.
    SessionOpened {
        /// Dataset id.
        dataset_id: String,
        /// Upload session id.
        session_id: String,
    },
    /// Reading and encoding of a table started.
    TableStarted {
        /// Table name.
        table: String,
    },
    /// Rows read from the table's source so far.
    RowsRead {
        /// Table name.
        table: String,
        /// Rows read so far.
        rows: u64,
    },
    /// Rows encoded into finished chunks so far.
    RowsEncoded {
        /// Table name.
        table: String,
        /// Rows encoded so far.
        rows: u64,
    },
    /// A chunk was uploaded.
    ChunkUploaded {
        /// Table name.
        table: String,
        /// Chunk index (1-based).
        index: u64,
        /// The rows it carried.
        rows: Range<u64>,
        /// Size of the PUT body.
        bytes: u64,
    },
    /// All rows of a table were read and encoded.
    TableEncoded {
        /// Table name.
        table: String,
        /// Total rows.
        rows: u64,
        /// Total chunks.
        chunks: u64,
    },
    /// Publishing was requested.
    Publishing {
        /// Dataset id.
        dataset_id: String,
    },
    /// Publishing finished (status 1).
    Published {
        /// Dataset id.
        dataset_id: String,
    },
    /// A dataset the push had created was deleted, because the push failed or was stopped
    /// before anything was published.
    DatasetDeleted {
        /// The deleted dataset's id.
        dataset_id: String,
    },
    /// The upload session was cancelled after an error.
    Cancelled {
        /// Dataset id.
        dataset_id: String,
        /// The session that was deleted.
        session_id: String,
    },
}

/// Where the progress events of an operation go (this push's [`ProgressEvent`]s, a
/// Veracity push's events).
pub(crate) type Sink<E> = Arc<dyn Fn(E) + Send + Sync>;

/// Where progress events of a push go.
pub(crate) type ProgressSink = Sink<ProgressEvent>;

/// A sink that drops every event.
pub(crate) fn noop<E>() -> Sink<E> {
    Arc::new(|_| {})
}

/// A sink that sends every event to `tx` (dropped once the receiver is gone).
pub(crate) fn channel<E: Send + 'static>(tx: UnboundedSender<E>) -> Sink<E> {
    Arc::new(move |e| {
        let _ = tx.send(e);
    })
}
