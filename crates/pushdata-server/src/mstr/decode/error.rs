//! What can go wrong while decoding a chunk, as values: each variant carries its context
//! (the place, row, column, byte offset…) as fields and foreign errors as sources. The
//! messages are the ones clients see in the 400 answer.

use arrow_schema::ArrowError;
use pushdata_core::wire::{ChunkIndex, ColumnHeader, DataType};

use super::layout::list_columns;

/// The chunk being decoded, at the head of every message: `table "t", chunk 4`, or
/// `table "t"` for the single-request workflow (one chunk per table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Place {
    table: String,
    chunk: Option<ChunkIndex>,
}

impl Place {
    /// Chunk `index` of table `table` (multi-request workflow).
    pub(crate) fn chunk(table: &str, index: ChunkIndex) -> Self {
        Place {
            table: table.to_string(),
            chunk: Some(index),
        }
    }

    /// The data of table `table` sent whole (single-request workflow).
    pub(crate) fn table(table: &str) -> Self {
        Place {
            table: table.to_string(),
            chunk: None,
        }
    }
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.chunk {
            Some(index) => write!(f, "table {:?}, chunk {index}", self.table),
            None => write!(f, "table {:?}", self.table),
        }
    }
}

/// Why a chunk was refused, or (for [`DecodeError::Batch`]) why the server could not build
/// its batch.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DecodeError {
    /// `columnHeaders` names a column the table does not have.
    #[error("table {table:?} has no column {column:?}; its columns are {}", list_columns(.columns))]
    UnknownHeader {
        table: String,
        column: String,
        /// The table's columns.
        columns: Vec<ColumnHeader>,
    },
    /// `columnHeaders` names a column twice.
    #[error("column {column:?} of table {table:?} is listed twice in columnHeaders")]
    RepeatedHeader { table: String, column: String },

    /// The envelope (`{"tableName", "index", "data"}`) does not parse.
    #[error("invalid chunk body (expected {{\"tableName\", \"index\", \"data\"}}): {source}")]
    Envelope {
        #[source]
        source: serde_json::Error,
    },
    /// The body ends before the data string does.
    #[error(
        "invalid chunk body (expected {{\"tableName\", \"index\", \"data\"}}): the body ends inside the data string"
    )]
    BodyEndsInData,
    /// The data is not standard, padded base64.
    #[error("{place}: data is not valid base64 (standard alphabet, padded): {fault}")]
    Base64 {
        place: Place,
        fault: Base64Fault,
        /// The decoder's own error, when it was the one to refuse.
        #[source]
        source: Option<base64_simd::Error>,
    },
    /// The decoded data is not UTF-8.
    #[error("{place}: decoded data is not UTF-8 (at byte {})", .source.valid_up_to())]
    NotUtf8 {
        place: Place,
        #[source]
        source: std::str::Utf8Error,
    },

    /// The chunk JSON breaks the JSON grammar; `message` is the lexer's (it names the byte).
    #[error("{place}: malformed JSON: {at}{message}")]
    Syntax {
        place: Place,
        at: SyntaxAt,
        message: String,
    },
    /// A ROW chunk's element is neither a row array nor a row object.
    #[error(
        "{place}: malformed JSON: row {row} (1-based) must be an array or an object at byte {offset}"
    )]
    NotARow {
        place: Place,
        /// 1-based.
        row: usize,
        offset: usize,
    },
    /// A value does not fit its column's data type; `message` says why.
    #[error("{place}: row {row} (1-based), column {column:?} ({data_type}): {message}")]
    Value {
        place: Place,
        /// 1-based.
        row: usize,
        column: String,
        data_type: DataType,
        message: String,
    },

    /// A row array has more values than the layout has columns.
    #[error(
        "{place}: row {row} (1-based) has more than {} values; expected one per column: {}",
        .expected.len(), quoted(.expected)
    )]
    RowTooLong {
        place: Place,
        /// 1-based.
        row: usize,
        /// The names of the layout's columns, in order.
        expected: Vec<String>,
    },
    /// A row array has fewer values than the layout has columns.
    #[error(
        "{place}: row {row} (1-based) has {values} values, expected {} (one per column: {})",
        .expected.len(), quoted(.expected)
    )]
    RowTooShort {
        place: Place,
        /// 1-based.
        row: usize,
        values: usize,
        /// The names of the layout's columns, in order.
        expected: Vec<String>,
    },
    /// A row object has a key that names no column.
    #[error(
        "{place}: row {row} (1-based) names an unknown column {key:?}; the table's columns are {}",
        list_columns(.columns)
    )]
    UnknownKey {
        place: Place,
        /// 1-based.
        row: usize,
        key: String,
        /// The table's columns.
        columns: Vec<ColumnHeader>,
    },
    /// A row object gives a column twice.
    #[error("{place}: row {row} (1-based) gives column {column:?} twice")]
    RepeatedKey {
        place: Place,
        /// 1-based.
        row: usize,
        column: String,
    },
    /// A COLUMN chunk has more column arrays than the layout has columns.
    #[error(
        "{place}: the chunk has more than {expected} column arrays (COLUMN orientation); expected one per column"
    )]
    TooManyColumnArrays { place: Place, expected: usize },
    /// A COLUMN chunk has fewer column arrays than the layout has columns.
    #[error(
        "{place}: the chunk has {found} column arrays, expected {expected} (COLUMN orientation: one per column)"
    )]
    TooFewColumnArrays {
        place: Place,
        found: usize,
        expected: usize,
    },
    /// The column arrays of a COLUMN chunk differ in length.
    #[error(
        "{place}: column {column:?} has {values} values but column {first:?} has {rows} (COLUMN orientation: all columns need the same length)"
    )]
    ColumnLengths {
        place: Place,
        column: String,
        values: usize,
        /// The first column array, whose length sets the row count.
        first: String,
        rows: usize,
    },

    /// The decoded arrays did not make a batch: a server fault, not the client's.
    #[error("{place}: {source}")]
    Batch {
        place: Place,
        #[source]
        source: BatchError,
    },
}

/// Where in the chunk JSON a syntax error is, beyond the lexer's byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SyntaxAt {
    /// Nothing more to say than the byte.
    Chunk,
    /// A value of row `row` (1-based).
    Row(usize),
    /// A key of row object `row` (1-based).
    RowKey(usize),
    /// Row `row` (1-based) of column array `column`.
    Column { column: String, row: usize },
}

impl std::fmt::Display for SyntaxAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SyntaxAt::Chunk => Ok(()),
            SyntaxAt::Row(row) => write!(f, "row {row} (1-based): "),
            SyntaxAt::RowKey(row) => write!(f, "row {row} (1-based) key: "),
            SyntaxAt::Column { column, row } => write!(f, "column {column:?}, row {row}: "),
        }
    }
}

/// What is wrong with base64 data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Base64Fault {
    /// A character outside the alphabet, at this offset of the whole data.
    #[error("invalid character {found:?} at offset {offset}")]
    Character { found: char, offset: usize },
    /// Every character is in the alphabet: the length or the padding is wrong.
    #[error("bad length or padding ({chars} characters)")]
    LengthOrPadding { chars: usize },
    /// A JSON escape other than `\/` inside the data string, at this base64 character.
    #[error("escape \\{found} at character {at}")]
    Escape { found: char, at: usize },
}

/// Why decoded arrays did not make a batch.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BatchError {
    /// The decode gave no batch at all.
    #[error("no decoded parts")]
    NoParts,
    /// A part of the rows decoded while the body arrived never came back from its thread.
    #[error("a part decoded while the body arrived was lost")]
    PartLost,
    /// The parts of a parallel decode did not concatenate.
    #[error("joining decoded parts: {0}")]
    Join(#[source] ArrowError),
    /// The arrays did not make a batch.
    #[error("building the batch: {0}")]
    Build(#[source] ArrowError),
}

/// `"a", "b"`.
fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}
