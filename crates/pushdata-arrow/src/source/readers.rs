//! A reader per format: a file's schema, and its batches streamed as they are read.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, SchemaRef};

use super::format::FileFormat;
use super::input::{DataFile, InputError, InputOptions};
use super::{ParquetSource, ReadOptions};
use crate::error::{Error, Result};

/// The schema of the file at `path` in `format`, and its rows when known without reading
/// the data (Parquet footers).
pub(crate) fn file_schema(
    table: &str,
    path: &Path,
    format: FileFormat,
    options: &InputOptions,
) -> Result<(SchemaRef, Option<u64>)> {
    if format == FileFormat::Parquet {
        let source = ParquetSource::open(table, path)?;
        return Ok((source.schema(), Some(source.num_rows())));
    }
    if let (FileFormat::Csv | FileFormat::Ndjson, Some(schema)) = (format, &options.schema) {
        return Ok((schema.clone(), None));
    }
    let fail = failure(table, path, format);
    let schema = match format {
        FileFormat::ArrowFile => arrow_ipc::reader::FileReader::try_new(open(table, path)?, None)
            .map(|r| r.schema())
            .map_err(fail)?,
        FileFormat::ArrowStream => {
            arrow_ipc::reader::StreamReader::try_new_buffered(open(table, path)?, None)
                .map(|r| r.schema())
                .map_err(fail)?
        }
        FileFormat::Csv => csv_format(path, options)
            .infer_schema(open(table, path)?, Some(options.infer_rows))
            .map(|(s, _)| Arc::new(s))
            .map_err(fail)?,
        _ => arrow_json::reader::infer_json_schema(
            BufReader::new(open(table, path)?),
            Some(options.infer_rows),
        )
        .map(|(s, _)| Arc::new(s))
        .map_err(fail)?,
    };
    Ok((schema, None))
}

/// Pass every batch of `file` to `f`, in file order: Parquet row groups decoded in
/// parallel, IPC record batches and CSV/NDJSON blocks of `read.batch_rows` rows as they
/// are read.
pub(crate) fn read_file(
    table: &str,
    file: &DataFile,
    options: &InputOptions,
    read: ReadOptions,
    f: &mut dyn FnMut(RecordBatch) -> Result<()>,
) -> Result<()> {
    let path = file.path.as_path();
    let fail = failure(table, path, file.format);
    let batches: Box<dyn Iterator<Item = std::result::Result<RecordBatch, ArrowError>>> =
        match file.format {
            FileFormat::Parquet => {
                return ParquetSource::open(table, path)?
                    .with_batch_rows(read.batch_rows)
                    .with_read_parallelism(read.read_parallelism)
                    .read(f);
            }
            FileFormat::ArrowFile => Box::new(
                arrow_ipc::reader::FileReader::try_new(open(table, path)?, None).map_err(fail)?,
            ),
            FileFormat::ArrowStream => Box::new(
                arrow_ipc::reader::StreamReader::try_new_buffered(open(table, path)?, None)
                    .map_err(fail)?,
            ),
            FileFormat::Csv => Box::new(
                arrow_csv::ReaderBuilder::new(file.schema.clone())
                    .with_format(csv_format(path, options))
                    .with_batch_size(read.batch_rows)
                    .build(open(table, path)?)
                    .map_err(fail)?,
            ),
            FileFormat::Ndjson => Box::new(
                arrow_json::ReaderBuilder::new(file.schema.clone())
                    .with_batch_size(read.batch_rows)
                    .build(BufReader::new(open(table, path)?))
                    .map_err(fail)?,
            ),
        };
    for batch in batches {
        f(batch.map_err(failure(table, path, file.format))?)?;
    }
    Ok(())
}

/// The CSV dialect of `path`: header and delimiter from the options, tab for `.tsv`.
fn csv_format(path: &Path, options: &InputOptions) -> arrow_csv::reader::Format {
    let tsv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("tsv"));
    let delimiter = options
        .csv_delimiter
        .unwrap_or(if tsv { b'\t' } else { b',' });
    arrow_csv::reader::Format::default()
        .with_header(options.csv_header)
        .with_delimiter(delimiter)
}

/// Open `path` for reading.
fn open(table: &str, path: &Path) -> Result<File> {
    File::open(path).map_err(|source| Error::Io {
            table: table.to_string(),
            path: path.to_path_buf(),
            source,
        })
}

/// An Arrow error reading `path` as `format`, as the crate's error.
fn failure(table: &str, path: &Path, format: FileFormat) -> impl Fn(ArrowError) -> Error {
    let table = table.to_string();
    let path = path.to_path_buf();
    move |source| Error::Input {
        table: table.clone(),
        source: Box::new(InputError::Read {
            path: path.clone(),
            format,
            source,
        }),
    }
}
