//! Entry points for the fuzz targets of `fuzz/` (cargo feature `fuzzing`; not a supported
//! API). Each is a thin wrapper over the server's own code, with errors as text: the
//! targets check that input never panics and that decoding is consistent, not what an
//! error says.

use std::path::Path;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_buffer::i256;
use pushdata_core::veracity::wire::{FileOperation, SchemaColumn, SchemaVersion};
use pushdata_core::wire::{ColumnHeader, Orientation};

use crate::mstr::cube::cells::TextColumns;
use crate::mstr::decode::{self, ChunkBodyReader, ChunkLayout, Place, values};
use crate::store::{StagedData, Staging, TableDef, parse_decimal, plain_number};
use crate::veracity::jobs::Failure;
use crate::veracity::process::CsvParse;
use crate::veracity::{VDataset, time};

/// A chunk body as the upload route reads it: fed to the streaming envelope reader in
/// `frames`, with `content_length` as the declared length. The table name, the chunk
/// index and the decoded chunk JSON, or the error's text.
pub fn chunk_body(
    frames: &[&[u8]],
    content_length: Option<usize>,
) -> Result<(String, u64, Vec<u8>), String> {
    let mut reader = ChunkBodyReader::new(content_length);
    for f in frames {
        reader.feed(f).map_err(|e| e.to_string())?;
    }
    let chunk = reader.finish().map_err(|e| e.to_string())?;
    Ok((chunk.table_name, chunk.index.0, chunk.json))
}

/// The layout of a chunk of `columns` (values in `names` order, all columns when `None`).
fn layout(
    columns: &[ColumnHeader],
    names: Option<&[String]>,
    orientation: Orientation,
) -> Result<ChunkLayout, String> {
    ChunkLayout::new(columns.to_vec(), names, orientation, "t").map_err(|e| e.to_string())
}

/// Chunk JSON decoded as an upload session decodes it (parallel parts when large).
pub fn chunk_json(
    json: &[u8],
    columns: &[ColumnHeader],
    names: Option<&[String]>,
    orientation: Orientation,
) -> Result<Vec<RecordBatch>, String> {
    let layout = layout(columns, names, orientation)?;
    decode::decode_json_parts(json, &layout, &Place::table("t")).map_err(|e| e.to_string())
}

/// A chunk's base64 `data` decoded into one batch (the single-request workflow's path).
pub fn chunk_data(
    data: &[u8],
    columns: &[ColumnHeader],
    names: Option<&[String]>,
    orientation: Orientation,
) -> Result<RecordBatch, String> {
    let layout = layout(columns, names, orientation)?;
    decode::decode_chunk(data, &layout, &Place::table("t")).map_err(|e| e.to_string())
}

/// `batches` of a table of `columns` staged as one Parquet file at `path`, as a Veracity
/// job stages a group of parsed rows and an upload session a large chunk (the table's
/// stored schema, fsynced): the file's size in bytes, and with `read_back` its rows as
/// read from it. The file is removed before this returns.
pub fn staged_file(
    path: &Path,
    columns: &[ColumnHeader],
    batches: Vec<RecordBatch>,
    read_back: bool,
) -> Result<(u64, Vec<RecordBatch>), String> {
    let table = TableDef {
        id: "T".into(),
        name: "t".into(),
        columns: columns.to_vec(),
        key_columns: vec![],
    };
    // No memory budget: always a file.
    let staging = Staging::new(0, usize::MAX / 2);
    let staged = StagedData::keep(&staging, &table, batches, || path.to_path_buf())
        .map_err(|e| e.to_string())?;
    let bytes = std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| e.to_string())?;
    let rows = if read_back {
        staged.batches().map_err(|e| e.to_string())?
    } else {
        Vec::new()
    };
    Ok((bytes, rows))
}

/// The rows of `batch` as ROW chunk JSON, each value written as the cube API writes it
/// (`metricValues.raw`): what a client reads back and could push again.
pub fn cube_rows_json(batch: &RecordBatch) -> Result<String, String> {
    let columns: Vec<&ArrayRef> = batch.columns().iter().collect();
    let text = TextColumns::new(&columns).map_err(|e| e.to_string())?;
    let mut out = String::from("[");
    for row in 0..batch.num_rows() {
        out.push_str(if row == 0 { "[" } else { ",[" });
        for c in 0..columns.len() {
            if c > 0 {
                out.push(',');
            }
            text.json(c, row, &mut out);
        }
        out.push(']');
    }
    out.push(']');
    Ok(out)
}

/// The value text parsers of chunk JSON and CSV, by name.
pub mod parse {
    use super::*;

    /// An INTEGER / BIGINTEGER value.
    pub fn integer(text: &str) -> Result<i64, String> {
        values::parse_i64(text)
    }

    /// A DOUBLE value.
    pub fn double(text: &str) -> Result<f64, String> {
        values::parse_f64(text)
    }

    /// A BOOL value.
    pub fn boolean(text: &str) -> Result<bool, String> {
        values::parse_bool(text)
    }

    /// A DATE value: days since the epoch.
    pub fn date(text: &str) -> Result<i32, String> {
        values::parse_date(text)
    }

    /// The fast path of [`date`] (`YYYY-MM-DD` only).
    pub fn plain_date(text: &[u8]) -> Option<i32> {
        values::plain_date(text)
    }

    /// A TIME value: microseconds of the day.
    pub fn time(text: &str) -> Result<i64, String> {
        values::parse_time(text)
    }

    /// A DATETIME value: microseconds since the epoch.
    pub fn datetime(text: &str) -> Result<i64, String> {
        values::parse_datetime(text)
    }

    /// A decimal (BIGDECIMAL, Veracity `Decimal`): mantissa and scale.
    pub fn decimal(text: &str) -> Result<(i256, u8), String> {
        parse_decimal(text)
    }

    /// The fast path of [`decimal`] and [`integer`].
    pub fn plain(text: &[u8]) -> Option<(i64, u8)> {
        plain_number(text)
    }

    /// A SAS time (`YYYY-MM-DDThh:mm:ssZ`): seconds since the epoch.
    pub fn sas_time(text: &str) -> Option<i64> {
        time::parse_iso8601(text)
    }

    /// Seconds since the epoch as a SAS time.
    pub fn format_sas_time(secs: i64) -> String {
        time::iso8601(secs)
    }
}

/// Why an ingest CSV was refused.
#[derive(Debug)]
pub enum CsvRefusal {
    /// The file does not fit the dataset (a validation issue: the caller's data).
    Invalid(String),
    /// The server failed (a bug when the cause is the file).
    Server(String),
}

/// An ingest job's CSV (`csv`, written to a file in `dir`) parsed for a dataset of
/// `columns` with the Create operation, staged in memory: the number of rows.
pub fn veracity_csv(csv: &[u8], columns: &[SchemaColumn], dir: &Path) -> Result<usize, CsvRefusal> {
    let server = |e: &dyn std::fmt::Display| CsvRefusal::Server(e.to_string());
    let path = dir.join("upload.csv");
    std::fs::write(&path, csv).map_err(|e| server(&e))?;
    let version = SchemaVersion {
        id: "00000000-0000-4000-a000-000000000000".to_string(),
        schema_version_name: None,
        description: None,
        schema_id: None,
        columns: columns.to_vec(),
        is_active: None,
        is_locked: None,
        extra: serde_json::Map::new(),
    };
    let def = VDataset::new(
        "00000000-0000-4000-a000-000000000001".to_string(),
        "00000000-0000-4000-a000-000000000002",
        "fuzz".to_string(),
        String::new(),
        &version,
    );
    let staging = std::sync::Arc::new(Staging::new(usize::MAX / 2, 0));
    let parsed = CsvParse {
        path: &path,
        def: &def,
        op: &FileOperation::Create,
        staging: &staging,
        spill: &dir.join("parsed"),
        stored_digits: crate::veracity::decimals::stored_digits(None, &def),
        stopping: &|| false,
    }
    .run();
    match parsed {
        Ok(staged) => {
            let mut rows = 0;
            for s in staged {
                for b in s.batches().map_err(|e| server(&e))? {
                    rows += b.num_rows();
                }
            }
            Ok(rows)
        }
        Err(Failure::Invalid(issues)) => Err(CsvRefusal::Invalid(format!("{issues:?}"))),
        Err(other) => Err(CsvRefusal::Server(format!("{other:?}"))),
    }
}
