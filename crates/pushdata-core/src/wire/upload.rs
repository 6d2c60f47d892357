//! Upload sessions, chunks, publish and publish status (the multi-request workflow).

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;
use serde::{Deserialize, Deserializer, Serialize};

use super::types::{lenient_i64, lenient_u64};
use super::{Orientation, UpdatePolicy};

/// One table of an upload session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadSessionTable {
    /// Table name, as in the model.
    pub name: String,
    /// How this table's uploaded rows are applied at publish.
    pub update_policy: UpdatePolicy,
    /// Row or column arrays (default ROW).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orientation: Option<Orientation>,
    /// Column names in the order the chunks carry them (default: the model's order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column_headers: Option<Vec<String>>,
}

/// Body of `POST /api/datasets/{datasetId}/uploadSessions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadSessionRequest {
    /// The tables this session uploads to.
    pub tables: Vec<UploadSessionTable>,
}

/// Response of `POST /api/datasets/{datasetId}/uploadSessions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadSessionResponse {
    /// The upload session id.
    pub upload_session_id: String,
}

/// A chunk's index within its table. Clients send a number; the docs show a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ChunkIndex(pub u64);

impl<'de> Deserialize<'de> for ChunkIndex {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        lenient_u64(deserializer, "index").map(ChunkIndex)
    }
}

impl fmt::Display for ChunkIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// Body of `PUT /api/datasets/{datasetId}/uploadSessions/{uploadSessionId}`.
///
/// Borrows from the request bytes when deserialized from a slice (base64 needs no
/// unescaping), so a 100 MB chunk is not copied on the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChunkRequest<'a> {
    /// The table the chunk belongs to.
    #[serde(borrow)]
    pub table_name: Cow<'a, str>,
    /// The chunk's index within the table (re-sending an index replaces it).
    pub index: ChunkIndex,
    /// Base64 of the JSON array of rows (ROW) or columns (COLUMN).
    #[serde(borrow)]
    pub data: Cow<'a, str>,
}

/// A ready-to-send chunk body, `{"tableName":…,"index":N,"data":"` + base64 + `"}`, held
/// as segments: the envelope's prefix, the base64 data as a list of [`Bytes`] pieces (in
/// order; their concatenation is the `data` string) and the closing `"}`.
///
/// Nothing is copied into one buffer: an encoder hands over the pieces it wrote, the client
/// sends the segments one after the other with an exact `Content-Length`, and a retry
/// resends the same segments (cloning a [`Bytes`] only counts a reference).
///
/// Built by [`ChunkBody::from_segments`], [`ChunkBody::from_base64`] or
/// [`ChunkBodyWriter`].
#[derive(Clone)]
pub struct ChunkBody {
    table_name: String,
    index: u64,
    /// `{"tableName":…,"index":N,"data":"`.
    prefix: Bytes,
    /// The base64 data, in pieces.
    data: Vec<Bytes>,
    /// Total size of the body (prefix + data + suffix).
    len: usize,
}

/// The end of a chunk body, after the data.
const CHUNK_BODY_SUFFIX: &[u8] = b"\"}";

impl ChunkBody {
    /// A body whose base64 data is the concatenation of `data` (no copy).
    ///
    /// Every piece must hold only base64 characters (the standard alphabet and `=`), and the
    /// concatenation must be valid base64: nothing else is checked, as the pieces of a
    /// 100 MB chunk are not scanned again.
    pub fn from_segments(table_name: &str, index: u64, data: Vec<Bytes>) -> Self {
        let mut prefix = Vec::with_capacity(table_name.len() + 48);
        prefix.extend_from_slice(b"{\"tableName\":");
        // Serializing a &str into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut prefix, table_name);
        prefix.extend_from_slice(b",\"index\":");
        prefix.extend_from_slice(index.to_string().as_bytes());
        prefix.extend_from_slice(b",\"data\":\"");
        let len =
            prefix.len() + data.iter().map(Bytes::len).sum::<usize>() + CHUNK_BODY_SUFFIX.len();
        ChunkBody {
            table_name: table_name.to_string(),
            index,
            prefix: Bytes::from(prefix),
            data,
            len,
        }
    }

    /// Build a body from base64 bytes already produced (copies them once).
    pub fn from_base64(table_name: &str, index: u64, base64: &[u8]) -> Self {
        Self::from_segments(table_name, index, vec![Bytes::copy_from_slice(base64)])
    }

    /// The table name.
    pub fn table_name(&self) -> &str {
        &self.table_name
    }

    /// The chunk index.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// The base64 data, in pieces (their concatenation is the `data` string).
    pub fn data(&self) -> &[Bytes] {
        &self.data
    }

    /// Size of the base64 data in bytes.
    pub fn data_len(&self) -> usize {
        self.len - self.prefix.len() - CHUNK_BODY_SUFFIX.len()
    }

    /// The whole body as segments, in order: prefix, data pieces, suffix (no copy).
    pub fn segments(&self) -> impl Iterator<Item = Bytes> + '_ {
        std::iter::once(self.prefix.clone())
            .chain(self.data.iter().cloned())
            .chain(std::iter::once(Bytes::from_static(CHUNK_BODY_SUFFIX)))
    }

    /// The whole JSON body in one buffer. **Copies** every byte: for tests and debugging;
    /// sending uses [`segments`](ChunkBody::segments).
    pub fn to_bytes(&self) -> Bytes {
        let mut out = Vec::with_capacity(self.len);
        for s in self.segments() {
            out.extend_from_slice(&s);
        }
        Bytes::from(out)
    }

    /// Size of the JSON body in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the body is empty (never true: the envelope is always there).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl fmt::Debug for ChunkBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkBody")
            .field("table_name", &self.table_name)
            .field("index", &self.index)
            .field("bytes", &self.len)
            .field("segments", &(self.data.len() + 2))
            .finish()
    }
}

/// Writes a chunk body's base64 data into one buffer:
/// `{"tableName":…,"index":N,"data":"` + base64 + `"}`.
///
/// ```
/// use pushdata_core::wire::{ChunkBodyWriter, ChunkRequest};
/// let mut w = ChunkBodyWriter::new("table1", 1, 8);
/// w.buffer().extend_from_slice(b"W1sxXV0=");
/// let body = w.finish();
/// assert_eq!(body.data_len(), 8);
/// // `to_bytes` joins the segments (a copy), here to parse the body back.
/// let bytes = body.to_bytes();
/// assert_eq!(bytes.len(), body.len());
/// let req: ChunkRequest = serde_json::from_slice(&bytes).unwrap();
/// assert_eq!(req.table_name, "table1");
/// assert_eq!(req.index.0, 1);
/// assert_eq!(req.data, "W1sxXV0=");
/// ```
#[derive(Debug)]
pub struct ChunkBodyWriter {
    table_name: String,
    index: u64,
    buf: Vec<u8>,
}

impl ChunkBodyWriter {
    /// Start a body; `base64_capacity` is a hint for the data size.
    pub fn new(table_name: &str, index: u64, base64_capacity: usize) -> Self {
        Self::with_buffer(table_name, index, Vec::with_capacity(base64_capacity))
    }

    /// Start a body in a reused buffer (it is cleared first).
    pub fn with_buffer(table_name: &str, index: u64, mut buf: Vec<u8>) -> Self {
        buf.clear();
        ChunkBodyWriter {
            table_name: table_name.to_string(),
            index,
            buf,
        }
    }

    /// The buffer to append base64 bytes to (only base64 characters may be appended).
    pub fn buffer(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    /// Freeze the data (no copy) into a body of one data segment.
    pub fn finish(self) -> ChunkBody {
        ChunkBody::from_segments(&self.table_name, self.index, vec![Bytes::from(self.buf)])
    }
}

/// The integer publish status. `1` means done ("result ready"), `6` in progress ("sql
/// execution", the one in-progress value the API documents); `3` and negative values are
/// failures. Any other value is not understood: [`Client::wait_for_publish`](crate::Client::wait_for_publish)
/// ends with [`Error::PublishUnexpectedStatus`](crate::Error::PublishUnexpectedStatus)
/// rather than polling it until its timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct PublishState(pub i64);

impl PublishState {
    /// Publishing finished; the new data is readable.
    pub const READY: PublishState = PublishState(1);
    /// Publishing failed; the message says why. (The reference server's failure status.)
    pub const FAILED: PublishState = PublishState(3);
    /// Publishing is in progress.
    pub const RUNNING: PublishState = PublishState(6);

    /// Whether publishing finished successfully.
    pub fn is_ready(self) -> bool {
        self == Self::READY
    }

    /// Whether publishing failed (status 3, or any negative status).
    pub fn is_failed(self) -> bool {
        self == Self::FAILED || self.0 < 0
    }

    /// Whether publishing is still in progress (status 6).
    pub fn is_in_progress(self) -> bool {
        self == Self::RUNNING
    }
}

impl<'de> Deserialize<'de> for PublishState {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        lenient_i64(deserializer, "status").map(PublishState)
    }
}

/// Response of `GET /api/datasets/{datasetId}/uploadSessions/{uploadSessionId}/publishStatus`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishStatus {
    /// The upload session.
    pub upload_session_id: String,
    /// Status: 1 done, 6 in progress, 3 or negative failed (see [`PublishState`]).
    pub status: PublishState,
    /// Human readable status ("result ready", or the failure reason).
    #[serde(default)]
    pub message: String,
    /// What the publish did per table, once it is done: an extension of pushdata's
    /// reference server (absent from other servers' answers, then empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<PublishedTable>,
}

/// What a finished publish did to one table (pushdata's reference server only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishedTable {
    /// The table name.
    pub name: String,
    /// Rows in the table's new version.
    pub rows: u64,
    /// Uploaded rows the update policy did not write: `add` skips the rows whose key was
    /// already stored, `update` the rows whose key was not.
    pub rows_skipped: u64,
}
