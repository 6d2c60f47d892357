//! `pushdata pull` end to end: push a file with the embedded server, pull it back into a
//! Parquet file, compare; error cases print one line.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use common::{json_line, pushdata};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;
use tempfile::TempDir;

fn run_json(cwd: &Path, args: &[&str]) -> Value {
    json_line(pushdata(cwd), args)
}

fn write_items(path: &Path) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("name", DataType::Utf8, true),
        Field::new("qty", DataType::Int64, true),
        Field::new("price", DataType::Float64, true),
    ]));
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec![Some("apple"), Some("pear"), None])),
        Arc::new(Int64Array::from(vec![Some(3), None, Some(7)])),
        Arc::new(Float64Array::from(vec![Some(0.25), Some(1.5), Some(-2.0)])),
    ];
    let batch = RecordBatch::try_new(schema.clone(), cols).unwrap();
    let mut w = ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

fn read(path: &Path) -> Vec<RecordBatch> {
    ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(path).unwrap())
        .unwrap()
        .build()
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn push(tmp: &TempDir) -> String {
    let file = tmp.path().join("items.parquet");
    write_items(&file);
    let v = run_json(tmp.path(), &["push", file.to_str().unwrap()]);
    v["datasetId"].as_str().unwrap().to_string()
}

#[test]
fn pull_embedded_round_trips_a_pushed_file() {
    let tmp = TempDir::new().unwrap();
    let id = push(&tmp);
    let out = tmp.path().join("back.parquet");
    let v = run_json(
        tmp.path(),
        &["pull", &id, "-o", out.to_str().unwrap(), "--page-size", "2"],
    );
    assert_eq!(v["rows"], 3, "{v}");
    assert_eq!(v["pages"], 2, "{v}");
    assert_eq!(
        v["columns"],
        serde_json::json!([
            {"name": "name", "arrowType": "Utf8"},
            {"name": "qty", "arrowType": "Int64"},
            {"name": "price", "arrowType": "Float64"}
        ])
    );
    let batches = read(&out);
    let mut rows = Vec::new();
    for b in &batches {
        let n = b.column(0).as_string::<i32>();
        let q = b.column(1).as_primitive::<Int64Type>();
        let p = b.column(2).as_primitive::<Float64Type>();
        for i in 0..b.num_rows() {
            rows.push((
                (!b.column(0).is_null(i)).then(|| n.value(i).to_string()),
                (!b.column(1).is_null(i)).then(|| q.value(i)),
                p.value(i),
            ));
        }
    }
    rows.sort_by(|a, b| a.partial_cmp(b).unwrap());
    assert_eq!(
        rows,
        vec![
            (None, Some(7), -2.0),
            (Some("apple".into()), Some(3), 0.25),
            (Some("pear".into()), None, 1.5)
        ]
    );
}

#[test]
fn pull_with_no_attribute_sums_the_metric() {
    let tmp = TempDir::new().unwrap();
    let id = push(&tmp);
    let out = tmp.path().join("total.parquet");
    pushdata(tmp.path())
        .args(["pull", &id, "-o", out.to_str().unwrap(), "--metric", "qty"])
        .assert()
        .success()
        .stdout(predicates::str::contains("pulled 1 row"));
    let b = read(&out);
    assert_eq!(b[0].column(0).as_primitive::<Int64Type>().value(0), 10);
}

#[test]
fn pull_errors_are_one_line() {
    let tmp = TempDir::new().unwrap();
    let id = push(&tmp);
    let out = tmp.path().join("x.parquet");
    for (args, needle) in [
        (
            vec![
                "pull",
                "0123456789ABCDEF0123456789ABCDEF",
                "-o",
                out.to_str().unwrap(),
            ],
            "0123456789ABCDEF0123456789ABCDEF",
        ),
        (
            vec![
                "pull",
                id.as_str(),
                "-o",
                out.to_str().unwrap(),
                "--attribute",
                "nope",
            ],
            "nope",
        ),
    ] {
        let o = pushdata(tmp.path()).args(&args).output().unwrap();
        let stderr = String::from_utf8(o.stderr).unwrap();
        assert!(!o.status.success(), "{args:?}");
        assert!(stderr.contains(needle), "{stderr}");
        assert_eq!(
            stderr.lines().filter(|l| l.starts_with("error:")).count(),
            1,
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!out.exists());
    }
    // No data directory: a usage error before any server starts.
    let empty = TempDir::new().unwrap();
    let o = pushdata(empty.path())
        .args(["pull", &id, "-o", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8(o.stderr).unwrap().contains(".pushdata"));
}
