//! Inputs as pipelines write them, end to end through the CLI and the embedded reference
//! server: Arrow IPC file and stream, CSV, NDJSON, a directory of part files with hive
//! partitions, a quoted glob; the rows read back from the server's store exactly.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::sync::Arc;

use arrow_array::{Float64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use assert_cmd::Command;
use common::pushdata;
use common::tables::{THREE, batch, push, rows, stored_rows, write_parquet};
use serde_json::Value;
use tempfile::TempDir;

/// One failed run: the single `error:` line, which must name every needle.
fn error_line(cmd: &mut Command, needles: &[&str]) {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!out.status.success(), "expected a failure: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    for needle in needles {
        assert!(
            errors[0].contains(needle),
            "{needle:?} not in {}",
            errors[0]
        );
    }
}

#[test]
fn arrow_ipc_file_and_stream_are_pushed() {
    let tmp = TempDir::new().unwrap();
    let b = batch(&[1, 2, 3]);
    let file = std::fs::File::create(tmp.path().join("ipcfile.feather")).unwrap();
    let mut w = arrow_ipc::writer::FileWriter::try_new(file, &b.schema()).unwrap();
    // Two record batches: both are read, in order.
    w.write(&b.slice(0, 2)).unwrap();
    w.write(&b.slice(2, 1)).unwrap();
    w.finish().unwrap();
    let id = push(tmp.path(), &["ipcfile.feather"]);
    assert_eq!(stored_rows(tmp.path(), &id, "ipcfile"), rows(THREE));

    // A stream without a known extension: sniffed by its continuation marker.
    let file = std::fs::File::create(tmp.path().join("ipcstream")).unwrap();
    let mut w = arrow_ipc::writer::StreamWriter::try_new(file, &b.schema()).unwrap();
    w.write(&b).unwrap();
    w.finish().unwrap();
    let id = push(tmp.path(), &["ipcstream"]);
    assert_eq!(stored_rows(tmp.path(), &id, "ipcstream"), rows(THREE));
}

#[test]
fn csv_and_ndjson_are_pushed_with_inferred_types() {
    let tmp = TempDir::new().unwrap();
    std::fs::write(
        tmp.path().join("sales.csv"),
        "id,name,amount\n1,n1,1.5\n2,n2,2.5\n3,n3,3.5\n",
    )
    .unwrap();
    let id = push(tmp.path(), &["sales.csv"]);
    assert_eq!(stored_rows(tmp.path(), &id, "sales"), rows(THREE));

    std::fs::write(
        tmp.path().join("events.jsonl"),
        "{\"id\": 1, \"name\": \"n1\", \"amount\": 1.5}\n\
         {\"id\": 2, \"name\": \"n2\", \"amount\": 2.5}\n\
         {\"id\": 3, \"name\": \"n3\", \"amount\": 3.5}\n",
    )
    .unwrap();
    let id = push(tmp.path(), &["events.jsonl"]);
    assert_eq!(stored_rows(tmp.path(), &id, "events"), rows(THREE));
}

#[test]
fn csv_options_delimiter_no_header_and_a_schema_file() {
    let tmp = TempDir::new().unwrap();
    std::fs::write(tmp.path().join("raw.csv"), "1;n1;1.5\n2;n2;2.5\n3;n3;3.5\n").unwrap();
    std::fs::write(
        tmp.path().join("schema.json"),
        r#"[{"name": "id", "type": "Int64", "nullable": false},
            {"name": "name", "type": "Utf8"},
            {"name": "amount", "type": "Float64"}]"#,
    )
    .unwrap();
    let id = push(
        tmp.path(),
        &[
            "raw.csv",
            "--csv-delimiter",
            ";",
            "--csv-no-header",
            "--schema",
            "schema.json",
        ],
    );
    assert_eq!(stored_rows(tmp.path(), &id, "raw"), rows(THREE));
    // The schema command sees the names the schema file gives.
    let out = pushdata(tmp.path())
        .args([
            "schema",
            "raw.csv",
            "--csv-delimiter",
            ";",
            "--csv-no-header",
        ])
        .args(["--schema", "schema.json", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("\"amount\""), "{text}");
}

/// `out/` as Spark writes it: partition folders, a `_SUCCESS` marker, checksum files.
fn spark_output(root: &Path) {
    write_parquet(
        &root.join("year=2024/month=05/part-00000.parquet"),
        &batch(&[1, 2]),
    );
    write_parquet(
        &root.join("year=2024/month=06/part-00000.parquet"),
        &batch(&[3]),
    );
    write_parquet(
        &root.join("year=2023/month=12/part-00001.parquet"),
        &batch(&[9]),
    );
    std::fs::write(root.join("_SUCCESS"), b"").unwrap();
    std::fs::write(
        root.join("year=2024/month=05/.part-00000.parquet.crc"),
        b"crc",
    )
    .unwrap();
}

const PARTITIONED: &[&[&str]] = &[
    &["9", "n9", "9.5", "2023", "12"],
    &["1", "n1", "1.5", "2024", "5"],
    &["2", "n2", "2.5", "2024", "5"],
    &["3", "n3", "3.5", "2024", "6"],
];

#[test]
fn a_directory_of_parts_is_one_table_with_partition_columns() {
    let tmp = TempDir::new().unwrap();
    spark_output(&tmp.path().join("out"));
    let id = push(tmp.path(), &["out/"]);
    assert_eq!(stored_rows(tmp.path(), &id, "out"), rows(PARTITIONED));
    // Partition values are typed as pyarrow types them: integers as int32.
    let out = pushdata(tmp.path())
        .args(["schema", "out", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let model: Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = model.to_string();
    assert!(text.contains("\"month\""), "{text}");
}

#[test]
fn a_quoted_glob_is_one_table_named_after_its_folder() {
    let tmp = TempDir::new().unwrap();
    spark_output(&tmp.path().join("out"));
    let id = push(
        tmp.path(),
        &["out/year=2024/*/*.parquet", "--table", "recent"],
    );
    assert_eq!(
        stored_rows(tmp.path(), &id, "recent"),
        rows(&PARTITIONED[1..])
    );
    // Without --table: named after the glob's last literal folder.
    let out = pushdata(tmp.path())
        .args(["schema", "out/*/month=05/*.parquet"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("table out"), "{text}");
}

#[test]
fn files_whose_schemas_differ_are_refused_naming_the_column() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("parts");
    write_parquet(&dir.join("a.parquet"), &batch(&[1]));
    let other = Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("name", DataType::Utf8, false),
        Field::new("amount", DataType::Float64, false),
    ]);
    let b = RecordBatch::try_new(
        Arc::new(other),
        vec![
            Arc::new(StringArray::from(vec!["x"])),
            Arc::new(StringArray::from(vec!["y"])),
            Arc::new(Float64Array::from(vec![1.0])),
        ],
    )
    .unwrap();
    write_parquet(&dir.join("b.parquet"), &b);
    error_line(
        pushdata(tmp.path()).args(["push", "parts"]),
        &["b.parquet", "a.parquet", "\"id\"", "Int64", "Utf8"],
    );
    // Nothing was started.
    assert!(!tmp.path().join(".pushdata").exists());
}

#[test]
fn a_file_in_none_of_the_formats_is_named() {
    let tmp = TempDir::new().unwrap();
    std::fs::write(tmp.path().join("notes.txt"), "just text\n").unwrap();
    error_line(
        pushdata(tmp.path()).args(["push", "notes.txt"]),
        &["notes.txt", "none of the formats"],
    );
    error_line(
        pushdata(tmp.path()).args(["schema", "nothing/*.parquet"]),
        &["nothing/*.parquet", "no data file"],
    );
}
