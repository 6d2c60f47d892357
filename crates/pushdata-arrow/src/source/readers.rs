//! A reader per format: a file's schema, and its batches streamed as they are read.

use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, SchemaRef};

use super::format::FileFormat;
use super::input::{DataFile, InputError, InputOptions};
use super::location::{FileLocation, ReadSeek, is_changed_object};
use super::{ParquetSource, ReadOptions};
use crate::error::{Error, Result};

/// The schema of the file at `location` in `format`, and its rows when known without
/// reading the data (Parquet footers).
pub(crate) fn file_schema(
    table: &str,
    location: &FileLocation,
    format: FileFormat,
    options: &InputOptions,
) -> Result<(SchemaRef, Option<u64>)> {
    let path = location.path();
    if format == FileFormat::Parquet {
        let source = ParquetSource::open_at(table, location)?;
        return Ok((source.schema(), Some(source.num_rows())));
    }
    if let (FileFormat::Csv | FileFormat::Ndjson, Some(schema)) = (format, &options.schema) {
        return Ok((schema.clone(), None));
    }
    let fail = failure(table, path, format);
    let schema = match format {
        FileFormat::ArrowFile => {
            arrow_ipc::reader::FileReader::try_new(seekable(table, location)?, None)
                .map(|r| r.schema())
                .map_err(fail)?
        }
        FileFormat::ArrowStream => {
            arrow_ipc::reader::StreamReader::try_new_buffered(open(table, location)?, None)
                .map(|r| r.schema())
                .map_err(fail)?
        }
        FileFormat::Csv => csv_format(path, options)
            .infer_schema(open(table, location)?, Some(options.infer_rows))
            .map(|(s, _)| Arc::new(s))
            .map_err(fail)?,
        _ => {
            let (schema, _) = arrow_json::reader::infer_json_schema(
                BufReader::new(open(table, location)?),
                Some(options.infer_rows),
            )
            .map_err(fail)?;
            let order = json_key_order(open(table, location)?, options.infer_rows);
            Arc::new(in_key_order(schema, &order))
        }
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
    let location = &file.location;
    let path = location.path();
    let fail = failure(table, path, file.format);
    let batches: Box<dyn Iterator<Item = std::result::Result<RecordBatch, ArrowError>>> =
        match file.format {
            FileFormat::Parquet => {
                return ParquetSource::open_at(table, location)?
                    .with_batch_rows(read.batch_rows)
                    .with_read_parallelism(read.read_parallelism)
                    .read(f);
            }
            FileFormat::ArrowFile => Box::new(
                arrow_ipc::reader::FileReader::try_new(seekable(table, location)?, None)
                    .map_err(fail)?,
            ),
            FileFormat::ArrowStream => Box::new(
                arrow_ipc::reader::StreamReader::try_new_buffered(open(table, location)?, None)
                    .map_err(fail)?,
            ),
            FileFormat::Csv => Box::new(
                arrow_csv::ReaderBuilder::new(file.schema.clone())
                    .with_format(csv_format(path, options))
                    .with_batch_size(read.batch_rows)
                    .build(open(table, location)?)
                    .map_err(fail)?,
            ),
            FileFormat::Ndjson => Box::new(
                arrow_json::ReaderBuilder::new(file.schema.clone())
                    .with_batch_size(read.batch_rows)
                    .build(BufReader::new(open(table, location)?))
                    .map_err(fail)?,
            ),
        };
    for batch in batches {
        f(batch.map_err(failure(table, path, file.format))?)?;
    }
    Ok(())
}

/// The keys of the first `rows` JSON objects of `file`, in the order they first appear
/// (Arrow's inference sorts them; a table keeps the file's order, as pyarrow does).
fn json_key_order(file: impl Read, rows: usize) -> Vec<String> {
    use std::io::BufRead;
    let mut keys: Vec<String> = Vec::new();
    for line in BufReader::new(file).lines().take(rows) {
        let Ok(line) = line else { break };
        let Ok(KeysInOrder(found)) = serde_json::from_str::<KeysInOrder>(&line) else {
            continue;
        };
        for k in found {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    keys
}

/// `schema`'s fields in `order` (fields not in it last, as they were).
fn in_key_order(schema: arrow_schema::Schema, order: &[String]) -> arrow_schema::Schema {
    let position = |name: &str| order.iter().position(|k| k == name).unwrap_or(usize::MAX);
    let mut fields: Vec<_> = schema.fields().iter().cloned().collect();
    fields.sort_by_key(|f| position(f.name()));
    arrow_schema::Schema::new_with_metadata(fields, schema.metadata().clone())
}

/// The keys of one JSON object, in order.
struct KeysInOrder(Vec<String>);

impl<'de> serde::Deserialize<'de> for KeysInOrder {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = KeysInOrder;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<KeysInOrder, A::Error> {
                let mut keys = Vec::new();
                while let Some(k) = map.next_key::<String>()? {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    keys.push(k);
                }
                Ok(KeysInOrder(keys))
            }
        }
        d.deserialize_map(Visitor)
    }
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

/// Open `location` for reading from the start.
fn open(table: &str, location: &FileLocation) -> Result<Box<dyn Read + Send>> {
    location.reader().map_err(io_error(table, location))
}

/// Open `location` for reading, seekable.
fn seekable(table: &str, location: &FileLocation) -> Result<Box<dyn ReadSeek>> {
    location.seekable().map_err(io_error(table, location))
}

/// An I/O error opening `location`, as the crate's error.
fn io_error(table: &str, location: &FileLocation) -> impl Fn(std::io::Error) -> Error {
    move |source| {
        if is_changed_object(&source) {
            return changed(table, location.path());
        }
        Error::Io {
            table: table.to_string(),
            path: location.path().to_path_buf(),
            source,
        }
    }
}

/// An Arrow error reading `path` as `format`, as the crate's error.
fn failure(table: &str, path: &Path, format: FileFormat) -> impl Fn(ArrowError) -> Error {
    let table = table.to_string();
    let path = path.to_path_buf();
    move |source| {
        if is_changed_object(&source) {
            return changed(&table, &path);
        }
        Error::Input {
            table: table.clone(),
            source: Box::new(InputError::Read {
                path: path.clone(),
                format,
                source,
            }),
        }
    }
}

/// An object rewritten since it was listed (its reads ask for the version listed).
fn changed(table: &str, path: &Path) -> Error {
    Error::FileChanged {
        table: table.to_string(),
        path: path.to_path_buf(),
    }
}
