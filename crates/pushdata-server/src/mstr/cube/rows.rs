//! The stored rows of one table, exactly: no grouping, no join, stored order, stored
//! types (as readers see them: [`super::plan::column_arrow_type`]), a page at a time as
//! an Arrow IPC stream.
//!
//! This is a **pushdata reference-server extension**, not part of MicroStrategy's REST
//! API: `GET /api/datasets/{id}/tables/{table}/rows?offset=&limit=&version=` (see
//! `crate::mstr::routes`). A cube instance groups rows by the attributes read, so two
//! equal stored rows come back as one; this read gives every stored row.
//!
//! Consistency across pages: every page names the table's published version (an opaque
//! token, [`TableRows::version`]); a page asked with `version` fails with
//! [`CubeError::TableChanged`] once another version of the table has been published, so
//! a paged read never mixes two versions.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_ipc::writer::StreamWriter;
use arrow_schema::{Field, Schema, SchemaRef};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::error::{CubeError, Result};
use super::plan::column_arrow_type;
use super::read::cast_to;
use crate::mstr::Dataset;
use crate::store::{Snapshot, TableDef};

/// The most rows one page holds, whatever the request asks (a page is built in memory).
pub(crate) const MAX_TABLE_PAGE_ROWS: u64 = 100_000;

/// Rows per batch read from Parquet (and written to the page).
const READ_BATCH_ROWS: usize = 64 * 1024;

/// The version token of a table never published.
const NEVER_PUBLISHED: &str = "none";

/// What an Arrow error of this read is wrapped with.
const READING: &str = "reading a table's rows";

/// One page of a table's rows.
#[derive(Debug)]
pub(crate) struct TableRows {
    /// The rows, as an Arrow IPC stream (schema, then batches).
    pub(crate) ipc: Vec<u8>,
    /// Rows the table has in this version.
    pub(crate) total: u64,
    /// The table's published version (opaque).
    pub(crate) version: String,
}

/// Which page to read.
#[derive(Debug, Clone, Default)]
pub(crate) struct PageRequest {
    /// First row (0-based, stored order).
    pub(crate) offset: u64,
    /// Rows at most (capped at [`MAX_TABLE_PAGE_ROWS`]).
    pub(crate) limit: u64,
    /// The version the earlier pages were read from, if any.
    pub(crate) version: Option<String>,
}

/// The table of `ds` with id (any case) or name `table`.
fn find_table<'d>(ds: &'d Dataset, table: &str) -> Result<&'d TableDef> {
    let tables = &ds.def.tables;
    tables
        .iter()
        .find(|t| t.id.eq_ignore_ascii_case(table))
        .or_else(|| {
            pushdata_core::wire::position_by_name(tables, table, |t| &t.name)
                .and_then(|i| tables.get(i))
        })
        .ok_or_else(|| CubeError::UnknownTable {
            dataset: ds.def.id.clone(),
            table: table.to_string(),
            tables: tables.iter().map(|t| t.name.clone()).collect(),
        })
}

/// The version token of table `t` in `snap`.
fn version_of(snap: &Snapshot, t: &TableDef) -> String {
    snap.manifest()
        .tables
        .get(&t.id)
        .map(|tv| crate::ids::stable_id(&tv.token()))
        .unwrap_or_else(|| NEVER_PUBLISHED.to_string())
}

/// Page `page` of table `table` (id or name) of `ds` (blocking: reads the Parquet file).
pub(crate) fn read(ds: &Dataset, table: &str, page: &PageRequest) -> Result<TableRows> {
    let t = find_table(ds, table)?;
    let snap = ds.snapshot();
    let version = version_of(&snap, t);
    if let Some(asked) = &page.version
        && *asked != version
    {
        return Err(CubeError::TableChanged {
            dataset: ds.def.id.clone(),
            table: t.name.clone(),
            asked: asked.clone(),
            current: version,
        });
    }
    let schema: SchemaRef = Arc::new(Schema::new(
        (0..t.columns.len())
            .map(|c| Field::new(&t.columns[c].name, column_arrow_type(&snap, t, c), true))
            .collect::<Vec<_>>(),
    ));
    let total = snap
        .manifest()
        .tables
        .get(&t.id)
        .map(|tv| tv.rows)
        .unwrap_or(0);
    let limit = page.limit.clamp(1, MAX_TABLE_PAGE_ROWS);
    let mut w = StreamWriter::try_new(Vec::new(), &schema).map_err(CubeError::arrow(READING))?;
    let (mut offset, mut left) = (page.offset, limit);
    for f in snap.table_files(&t.id) {
        if left == 0 {
            break;
        }
        if offset >= f.rows {
            offset -= f.rows;
            continue;
        }
        let take = left.min(f.rows - offset);
        write_page(&f.path, &schema, offset, take, &mut w)?;
        (offset, left) = (0, left - take);
    }
    let ipc = w.into_inner().map_err(CubeError::arrow(READING))?;
    Ok(TableRows {
        ipc,
        total,
        version,
    })
}

/// Write rows `offset..offset + limit` of the Parquet file at `path` to `w`, as `schema`.
fn write_page(
    path: &Path,
    schema: &SchemaRef,
    offset: u64,
    limit: u64,
    w: &mut StreamWriter<Vec<u8>>,
) -> Result<()> {
    let parquet_err = |source| CubeError::Parquet {
        path: PathBuf::from(path),
        source,
    };
    let f = File::open(path).map_err(CubeError::io("opening", path))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(f)
        .map_err(parquet_err)?
        .with_offset(usize::try_from(offset).unwrap_or(usize::MAX))
        .with_limit(usize::try_from(limit).unwrap_or(usize::MAX))
        .with_batch_size(READ_BATCH_ROWS)
        .build()
        .map_err(parquet_err)?;
    for b in reader {
        let b = b.map_err(|source| CubeError::ReadBatch {
            path: path.to_path_buf(),
            source,
        })?;
        w.write(&cast_to(&b, schema, READING)?)
            .map_err(CubeError::arrow(READING))?;
    }
    Ok(())
}
