//! The sample table of the input tests, written in the formats read, and the rows the
//! reference server stored, compared exactly.

use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use serde_json::Value;

use super::pushdata;

/// `id, name, amount` rows `ids`.
pub(crate) fn batch(ids: &[i64]) -> RecordBatch {
    let schema = Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, false),
        Field::new("amount", DataType::Float64, false),
    ]);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(ids.to_vec())),
        Arc::new(StringArray::from_iter_values(
            ids.iter().map(|i| format!("n{i}")),
        )),
        Arc::new(Float64Array::from_iter_values(
            ids.iter().map(|i| *i as f64 + 0.5),
        )),
    ];
    RecordBatch::try_new(Arc::new(schema), columns).unwrap()
}

pub(crate) fn write_parquet(path: &Path, batch: &RecordBatch) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut w =
        ArrowWriter::try_new(std::fs::File::create(path).unwrap(), batch.schema(), None).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
}

/// Push `args` with `--json` in `cwd`; the dataset id.
pub(crate) fn push(cwd: &Path, args: &[&str]) -> String {
    let out = pushdata(cwd)
        .arg("push")
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "push {args:?} failed: {stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["datasetId"].as_str().unwrap().to_string()
}

/// The rows of `table` as the server stored them, each cell as Arrow displays it.
pub(crate) fn stored_rows(cwd: &Path, dataset_id: &str, table: &str) -> Vec<Vec<String>> {
    let batches = pushdata_server::read_table(&cwd.join(".pushdata"), dataset_id, table).unwrap();
    let options = FormatOptions::default().with_null("null");
    let mut rows = Vec::new();
    for b in batches {
        let formatters: Vec<_> = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).unwrap())
            .collect();
        for r in 0..b.num_rows() {
            rows.push(formatters.iter().map(|f| f.value(r).to_string()).collect());
        }
    }
    rows
}

pub(crate) fn rows(expected: &[&[&str]]) -> Vec<Vec<String>> {
    expected
        .iter()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

/// The rows of `batch(&[1, 2, 3])` as the server stores them.
pub(crate) const THREE: &[&[&str]] = &[
    &["1", "n1", "1.5"],
    &["2", "n2", "2.5"],
    &["3", "n3", "3.5"],
];

/// `batch` in each format read from a file, as `(file name, bytes)`: Parquet, an Arrow IPC
/// file, an Arrow IPC stream, CSV and NDJSON.
pub(crate) fn in_every_format(stem: &str, batch: &RecordBatch) -> Vec<(String, Vec<u8>)> {
    let mut parquet = Vec::new();
    let mut w = ArrowWriter::try_new(&mut parquet, batch.schema(), None).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
    let mut file = Vec::new();
    let mut w = arrow_ipc::writer::FileWriter::try_new(&mut file, &batch.schema()).unwrap();
    w.write(batch).unwrap();
    w.finish().unwrap();
    drop(w);
    let mut stream = Vec::new();
    let mut w = arrow_ipc::writer::StreamWriter::try_new(&mut stream, &batch.schema()).unwrap();
    w.write(batch).unwrap();
    w.finish().unwrap();
    drop(w);
    let mut csv = Vec::new();
    arrow_csv_writer(&mut csv, batch);
    let mut json = Vec::new();
    let mut w = arrow_json::LineDelimitedWriter::new(&mut json);
    w.write(batch).unwrap();
    w.finish().unwrap();
    drop(w);
    vec![
        (format!("{stem}.parquet"), parquet),
        (format!("{stem}.feather"), file),
        (format!("{stem}.arrows"), stream),
        (format!("{stem}.csv"), csv),
        (format!("{stem}.jsonl"), json),
    ]
}

/// `batch` as CSV with a header line.
fn arrow_csv_writer(out: &mut Vec<u8>, batch: &RecordBatch) {
    let mut w = arrow_csv::WriterBuilder::new().with_header(true).build(out);
    w.write(batch).unwrap();
}
