//! Exact table reads ([`Pull::table`](super::Pull::table)): a page of one table's stored
//! rows, as the pushdata reference server's table rows extension answers it
//! ([`TableRowsPage`]: an Arrow IPC stream), to one [`RecordBatch`].

use std::io::Cursor;

use arrow_array::RecordBatch;
use arrow_ipc::reader::StreamReader;
use arrow_schema::SchemaRef;
use pushdata_core::wire::{TABLE_ROWS_EXTENSION, TableRowsPage};

use crate::error::{Error, Result};

/// The statuses with which a server without the extension answers it (or ours, an
/// unknown dataset or table).
const NOT_THERE: [u16; 3] = [404, 405, 501];

/// The schema of a page's Arrow IPC stream.
pub(super) fn page_schema(page: &TableRowsPage, step: &str) -> Result<SchemaRef> {
    let reader = StreamReader::try_new(Cursor::new(page.ipc.clone()), None).map_err(|source| {
        Error::TableRowsPage {
            step: step.to_string(),
            source,
        }
    })?;
    Ok(reader.schema())
}

/// The rows of a page as one batch of `schema`.
pub(super) fn page_to_batch(
    page: &TableRowsPage,
    schema: &SchemaRef,
    step: &str,
) -> Result<RecordBatch> {
    let ipc = |source| Error::TableRowsPage {
        step: step.to_string(),
        source,
    };
    let reader = StreamReader::try_new(Cursor::new(page.ipc.clone()), None).map_err(ipc)?;
    let batches = reader
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(ipc)?;
    arrow_select::concat::concat_batches(schema, &batches).map_err(ipc)
}

/// The error of a failed table rows call: [`Error::NoTableRowsExtension`] when the server
/// answered as one without the extension does, else [`Error::Api`].
pub(super) fn call_error(step: String, source: pushdata_core::Error) -> Error {
    if source.status().is_some_and(|s| NOT_THERE.contains(&s)) {
        Error::NoTableRowsExtension {
            step,
            extension: TABLE_ROWS_EXTENSION,
            source: Box::new(source),
        }
    } else {
        Error::Api {
            step,
            source: Box::new(source),
        }
    }
}
