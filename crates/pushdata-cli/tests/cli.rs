//! The `pushdata` binary end to end: embedded pushes, pushes to a `pushdata serve` child,
//! `schema`, `--json`, environment variables, and one test per error case (one line on
//! stderr, non-zero exit, never a panic).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::Arc;

use arrow_array::types::Int32Type;
use arrow_array::{Array, ArrayRef, Float64Array, Int32Array, ListArray, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use assert_cmd::Command;
use common::{data, json_line, pushdata};
use parquet::arrow::ArrowWriter;
use predicates::prelude::*;
use serde_json::Value;
use tempfile::TempDir;

fn sales() -> PathBuf {
    data("sales.parquet")
}

/// Run a push with `--json` and parse its one line of stdout.
fn push_json(cwd: &Path, args: &[&str]) -> Value {
    let mut cmd = pushdata(cwd);
    cmd.arg("push");
    json_line(cmd, args)
}

/// Assert a failed run: non-zero exit, exactly one `error:` line naming every `needles`,
/// no panic, no backtrace.
fn assert_error(cmd: &mut Command, needles: &[&str]) -> String {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        !out.status.success(),
        "expected a failure, got success: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("stack backtrace"), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "exactly one error line expected: {stderr}");
    let other: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.starts_with("error:") && !l.starts_with("progress:"))
        .collect();
    assert!(other.is_empty(), "unexpected stderr lines: {stderr}");
    for needle in needles {
        assert!(
            errors[0].to_lowercase().contains(&needle.to_lowercase()),
            "{needle:?} not in {:?}",
            errors[0]
        );
    }
    errors[0].to_string()
}

/// A `pushdata serve` child on a free port; killed on drop.
struct Served {
    child: Child,
    url: String,
}

impl Served {
    fn start(data_dir: &Path, extra: &[&str]) -> Served {
        Self::start_with_env(data_dir, extra, &[])
    }

    fn start_with_env(data_dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Served {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pushdata"))
            .env_remove("PUSHDATA_PASSWORD")
            .envs(env.iter().copied())
            .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(extra)
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line.trim().to_string();
        assert!(
            url.starts_with("http://127.0.0.1:") && !url.starts_with("http://127.0.0.1:0/"),
            "serve printed {url:?}"
        );
        Served { child, url }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Rows published in table `sales` of `dataset_id`, read from the reference server's data
/// directory.
fn published_rows(data_dir: &Path, dataset_id: &str) -> usize {
    pushdata_server::read_table(data_dir, dataset_id, "sales")
        .unwrap()
        .iter()
        .map(RecordBatch::num_rows)
        .sum()
}

/// A file shaped like `data/sales.parquet`: two categories already there, two new ones.
fn more_sales(path: &Path) {
    let schema = Schema::new(vec![
        Field::new("Year", DataType::Int32, false),
        Field::new("Category_ID", DataType::Int32, false),
        Field::new("Category_DESC", DataType::Utf8, false),
        Field::new("Cost", DataType::Float64, false),
        Field::new("Profit", DataType::Float64, false),
    ]);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from(vec![2016, 2017, 2019, 2020])),
        Arc::new(Int32Array::from(vec![2, 3, 5, 6])),
        Arc::new(StringArray::from(vec!["Movies", "Musics", "Games", "Toys"])),
        Arc::new(Float64Array::from(vec![2500.0, 3500.0, 100.0, 200.0])),
        Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0, 4.0])),
    ];
    write_parquet(
        path,
        &RecordBatch::try_new(Arc::new(schema), columns).unwrap(),
    );
}

fn write_parquet(path: &Path, batch: &RecordBatch) {
    let mut w =
        ArrowWriter::try_new(std::fs::File::create(path).unwrap(), batch.schema(), None).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
}

// ---------------------------------------------------------------- push, embedded

#[test]
fn push_embedded_prints_summary_and_where_the_data_went() {
    let tmp = TempDir::new().unwrap();
    pushdata(tmp.path())
        .arg("push")
        .arg(sales())
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "pushed 4 rows in 1 table to dataset",
        ))
        .stdout(predicate::str::contains("sales  4 rows"))
        .stdout(predicate::str::contains(".pushdata"))
        .stdout(predicate::str::contains("--dataset-id"))
        // Not a terminal: plain progress lines from the pipeline's events.
        .stderr(predicate::str::contains("progress: publishing"))
        .stderr(predicate::str::contains("progress: 4/4 rows"))
        .stderr(predicate::str::contains("panicked").not());
    // The default data directory is `.pushdata/` in the current directory.
    assert!(tmp.path().join(".pushdata").is_dir());
}

#[test]
fn push_json_prints_one_object_with_every_field() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("store");
    let v = push_json(
        tmp.path(),
        &[
            sales().to_str().unwrap(),
            "--data-dir",
            dir.to_str().unwrap(),
        ],
    );
    assert!(!v["datasetId"].as_str().unwrap().is_empty(), "{v}");
    assert_eq!(
        v["tables"],
        // rowsSkipped: the reference server reports it (issue 12); absent from other servers.
        serde_json::json!([{"name": "sales", "rows": 4, "rowsSkipped": 0}])
    );
    assert!(v["chunks"].as_u64().unwrap() >= 1, "{v}");
    assert!(v["bytes"].as_u64().unwrap() > 0, "{v}");
    assert!(v["seconds"].as_f64().unwrap() >= 0.0, "{v}");
    assert_eq!(v.as_object().unwrap().len(), 5, "{v}");
}

#[test]
fn second_push_with_dataset_id_sees_the_first_push() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("store");
    let dir = dir.to_str().unwrap();
    let sales = sales();
    let sales = sales.to_str().unwrap();
    let first = push_json(tmp.path(), &[sales, "--data-dir", dir]);
    let id = first["datasetId"].as_str().unwrap();
    assert_eq!(published_rows(Path::new(dir), id), 4);

    // The dataset lives on in the data directory: a new embedded server finds it, and
    // `add` keeps the 4 rows, skips the 2 known categories and inserts the 2 new ones.
    let more = tmp.path().join("sales.parquet");
    more_sales(&more);
    let more = more.to_str().unwrap();
    let second = push_json(
        tmp.path(),
        &[
            more,
            "--data-dir",
            dir,
            "--dataset-id",
            id,
            "--policy",
            "add",
        ],
    );
    assert_eq!(second["datasetId"], id);
    assert_eq!(second["tables"][0]["rows"], 4);
    assert_eq!(published_rows(Path::new(dir), id), 6);

    // `replace` in COLUMN orientation: back to the 4 rows of the file.
    let third = push_json(
        tmp.path(),
        &[
            sales,
            "--data-dir",
            dir,
            "--dataset-id",
            id,
            "--policy",
            "replace",
            "--orientation",
            "column",
        ],
    );
    assert_eq!(third["datasetId"], id);
    assert_eq!(published_rows(Path::new(dir), id), 4);

    // A fresh data directory does not know it.
    let other = tmp.path().join("other");
    assert_error(
        pushdata(tmp.path())
            .arg("push")
            .arg(sales)
            .arg("--data-dir")
            .arg(&other)
            .args(["--dataset-id", id]),
        &[id],
    );
}

#[test]
fn several_files_become_tables_of_one_dataset() {
    let tmp = TempDir::new().unwrap();
    let v = push_json(
        tmp.path(),
        &[
            data("orders.parquet").to_str().unwrap(),
            data("customers.parquet").to_str().unwrap(),
            "--attribute",
            "customer_id",
            "--attribute",
            "order_id",
        ],
    );
    assert_eq!(
        v["tables"],
        serde_json::json!([
            {"name": "orders", "rows": 20, "rowsSkipped": 0},
            {"name": "customers", "rows": 10, "rowsSkipped": 0}
        ])
    );
}

#[test]
fn push_options_single_request_table_name_and_chunks() {
    let tmp = TempDir::new().unwrap();
    let v = push_json(
        tmp.path(),
        &[
            sales().to_str().unwrap(),
            "--single-request",
            "--table",
            "SALES_TABLE",
            "--dataset",
            "Sales 2015-2018",
            "--attribute",
            "Year",
            "--attribute",
            "Category_ID",
        ],
    );
    assert_eq!(v["tables"][0]["name"], "SALES_TABLE");

    let v = push_json(
        tmp.path(),
        &[
            data("orders.parquet").to_str().unwrap(),
            "--chunk-mb",
            "1",
            "--concurrency",
            "2",
            "--max-buffered-mb",
            "1",
            "--orientation",
            "column",
            "--policy",
            "replace",
        ],
    );
    assert_eq!(v["tables"][0]["rows"], 20);
}

// ---------------------------------------------------------------- push, served

#[test]
fn push_to_a_serve_child_process() {
    let tmp = TempDir::new().unwrap();
    // No staging memory: the server stages every chunk as a file.
    let served = Served::start(&tmp.path().join("srv"), &["--staging-memory-mb", "0"]);
    let v = push_json(
        tmp.path(),
        &[
            sales().to_str().unwrap(),
            "--url",
            &served.url,
            "--user",
            "administrator",
            "--project",
            "MicroStrategy Tutorial",
        ],
    );
    let id = v["datasetId"].as_str().unwrap().to_string();
    // Against a URL nothing is stored locally.
    assert!(!tmp.path().join(".pushdata").exists());
    // Same server, same dataset.
    let v = push_json(
        tmp.path(),
        &[
            sales().to_str().unwrap(),
            "--url",
            &served.url,
            "--dataset-id",
            &id,
            "--policy",
            "update",
        ],
    );
    assert_eq!(v["datasetId"], id.as_str());
}

#[test]
fn connection_settings_come_from_the_environment() {
    let tmp = TempDir::new().unwrap();
    let served = Served::start(
        &tmp.path().join("srv"),
        &["--user", "alice", "--password", "s3cret-pw"],
    );
    pushdata(tmp.path())
        .arg("push")
        .arg(sales())
        .env("PUSHDATA_URL", &served.url)
        .env("PUSHDATA_USER", "alice")
        .env("PUSHDATA_PASSWORD", "s3cret-pw")
        .env("PUSHDATA_PROJECT", "B19DEDCC11D4E0EFC000EB9495D0F44F")
        .assert()
        .success()
        .stdout(predicate::str::contains("pushed 4 rows"))
        .stdout(predicate::str::contains("s3cret-pw").not())
        .stderr(predicate::str::contains("s3cret-pw").not());

    // A wrong password from the environment: a login error that does not echo it.
    let line = assert_error(
        pushdata(tmp.path())
            .arg("push")
            .arg(sales())
            .env("PUSHDATA_URL", &served.url)
            .env("PUSHDATA_USER", "alice")
            .env("PUSHDATA_PASSWORD", "wrong-pw"),
        &["401"],
    );
    assert!(!line.contains("wrong-pw"), "{line}");
}

#[test]
fn help_never_shows_the_password() {
    let tmp = TempDir::new().unwrap();
    pushdata(tmp.path())
        .args(["push", "--help"])
        .env("PUSHDATA_PASSWORD", "hunter2-secret")
        .env("PUSHDATA_USER", "visible-user")
        .assert()
        .success()
        .stdout(predicate::str::contains("PUSHDATA_PASSWORD"))
        .stdout(predicate::str::contains("visible-user"))
        .stdout(predicate::str::contains("hunter2-secret").not());
}

// ---------------------------------------------------------------- schema

#[test]
fn schema_prints_headers_and_model() {
    let tmp = TempDir::new().unwrap();
    pushdata(tmp.path())
        .arg("schema")
        .arg(sales())
        .args(["--attribute", "Year"])
        .assert()
        .success()
        .stdout(predicate::str::contains("table sales"))
        .stdout(
            predicate::str::is_match(r"Year\s+INTEGER\s+Int32\s+attribute Year \(ID\)").unwrap(),
        )
        .stdout(predicate::str::is_match(r"Category_DESC\s+STRING").unwrap())
        .stdout(predicate::str::is_match(r"Cost\s+DOUBLE\s+Float64\s+metric Cost").unwrap())
        .stdout(predicate::str::contains("4 rows"));
}

#[test]
fn schema_infers_the_seed_model_and_prints_each_rule() {
    let tmp = TempDir::new().unwrap();
    pushdata(tmp.path())
        .arg("schema")
        .arg(sales())
        .assert()
        .success()
        .stdout(
            predicate::str::is_match(
                r"Year\s+INTEGER\s+Int32\s+attribute Year \(ID\)\s+integer calendar part \(year\)\n",
            )
            .unwrap(),
        )
        .stdout(
            predicate::str::is_match(
                r"Category_ID\s+INTEGER\s+Int32\s+attribute Category \(ID\)\s+ID/DESC pair Category_ID \+ Category_DESC\n",
            )
            .unwrap(),
        )
        .stdout(
            predicate::str::is_match(
                r"Category_DESC\s+STRING\s+Utf8\s+attribute Category \(DESC\)\s+ID/DESC pair",
            )
            .unwrap(),
        )
        .stdout(predicate::str::is_match(r"Cost\s+DOUBLE\s+Float64\s+metric Cost\s+numeric\n").unwrap())
        .stdout(predicate::str::contains(
            "Category: ID INTEGER = sales.Category_ID; DESC STRING = sales.Category_DESC",
        ))
        .stdout(predicate::str::contains(
            "to change a role: --attribute COL, --metric COL, --form ATTRIBUTE:ID|DESC=COL",
        ));
}

#[test]
fn schema_names_a_users_choice_by_its_option() {
    let tmp = TempDir::new().unwrap();
    pushdata(tmp.path())
        .arg("schema")
        .arg(sales())
        .args(["--metric", "Year", "--attribute", "Cost"])
        .args([
            "--form",
            "Kind:id=Category_ID",
            "--form",
            "Kind:DESC=sales.Category_DESC",
        ])
        .assert()
        .success()
        .stdout(
            predicate::str::is_match(r"Year\s+INTEGER\s+Int32\s+metric Year\s+--metric\n").unwrap(),
        )
        .stdout(
            predicate::str::is_match(
                r"Cost\s+DOUBLE\s+Float64\s+attribute Cost \(ID\)\s+--attribute\n",
            )
            .unwrap(),
        )
        .stdout(
            predicate::str::is_match(
                r"Category_DESC\s+STRING\s+Utf8\s+attribute Kind \(DESC\)\s+--form\n",
            )
            .unwrap(),
        );
}

#[test]
fn schema_of_two_tables_links_them_by_attribute() {
    let tmp = TempDir::new().unwrap();
    let out = pushdata(tmp.path())
        .arg("schema")
        .arg(data("orders.parquet"))
        .arg(data("customers.parquet"))
        .arg("--json")
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["tables"].as_array().unwrap().len(), 2);
    let customer = v["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "customer_id")
        .unwrap();
    let tables: Vec<&str> = customer["attributeForms"][0]["expressions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["tableName"].as_str().unwrap())
        .collect();
    assert_eq!(tables, ["orders", "customers"]);
    // Each column's role and rule.
    let roles = v["columnRoles"].as_array().unwrap();
    assert_eq!(roles.len(), 11 + 8);
    assert_eq!(
        roles[1],
        serde_json::json!({
            "table": "orders", "column": "customer_id", "dataType": "BIGINTEGER",
            "role": "attribute", "attribute": "customer_id", "form": "ID",
            "rule": "shared-across-tables",
            "reason": "in several tables: orders, customers"
        })
    );
    assert_eq!(
        roles[6],
        serde_json::json!({
            "table": "orders", "column": "quantity", "dataType": "INTEGER",
            "role": "metric", "metric": "quantity",
            "rule": "numeric", "reason": "numeric"
        })
    );
    assert_eq!(roles[0]["rule"], "key-name");
}

#[test]
fn push_with_forms_creates_the_attribute_they_name() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("store");
    let dir = dir.to_str().unwrap();
    let pushed = push_json(
        tmp.path(),
        &[
            sales().to_str().unwrap(),
            "--data-dir",
            dir,
            "--form",
            "Product:ID=Category_ID",
            "--form",
            "Product:DESC=Category_DESC",
        ],
    );
    let id = pushed["datasetId"].as_str().unwrap();
    let out = tmp.path().join("back.parquet");
    let pulled = pushdata(tmp.path())
        .args([
            "pull",
            id,
            "-o",
            out.to_str().unwrap(),
            "--data-dir",
            dir,
            "--json",
        ])
        .output()
        .unwrap();
    assert!(pulled.status.success(), "{pulled:?}");
    let v: Value = serde_json::from_slice(&pulled.stdout).unwrap();
    let columns: Vec<&str> = v["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        columns,
        ["Year", "Product@ID", "Product@DESC", "Cost", "Profit"]
    );
    assert_eq!(v["rows"], 4);
}

#[test]
fn form_errors_name_the_column_or_the_category() {
    let tmp = TempDir::new().unwrap();
    // Checked before any server is contacted (nothing listens on this port).
    for command in ["schema", "push"] {
        let mut cmd = pushdata(tmp.path());
        cmd.arg(command).arg(sales());
        if command == "push" {
            cmd.args(["--url", "http://127.0.0.1:9/MicroStrategyLibrary"]);
        }
        assert_error(
            cmd.args(["--form", "Category:ID=Nope"]),
            &["form Category:ID", "\"Nope\"", "no column"],
        );
    }
    assert_error(
        pushdata(tmp.path()).arg("schema").arg(sales()).args([
            "--form",
            "A:ID=Cost",
            "--form",
            "B:DESC=sales.Cost",
        ]),
        &["\"Cost\"", "two forms", "form A:ID", "form B:DESC"],
    );
    assert_error(
        pushdata(tmp.path()).arg("schema").arg(sales()).args([
            "--form",
            "A:ID=Cost",
            "--metric",
            "Cost",
        ]),
        &["\"Cost\"", "both an attribute and a metric"],
    );
    assert_error(
        pushdata(tmp.path()).arg("schema").arg(sales()).args([
            "--form",
            "A:ID=Cost",
            "--form",
            "A:ID=Profit",
        ]),
        &[
            "attribute \"A\", form ID",
            "two columns",
            "\"Cost\"",
            "\"Profit\"",
        ],
    );
    for (value, needles) in [
        (
            "Geo:LATITUDE=Cost",
            ["LATITUDE", "expected one of ID, DESC"],
        ),
        (
            "Category=Cost",
            ["Category=Cost", "ATTRIBUTE:CATEGORY=COLUMN"],
        ),
    ] {
        let out = pushdata(tmp.path())
            .arg("schema")
            .arg(sales())
            .args(["--form", value])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{value}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.starts_with("error: invalid value"), "{stderr}");
        for needle in needles {
            assert!(stderr.contains(needle), "{needle:?} not in {stderr}");
        }
    }
}

#[test]
fn schema_json_is_the_dataset_model() {
    let tmp = TempDir::new().unwrap();
    let out = pushdata(tmp.path())
        .arg("schema")
        .arg(data("orders.parquet"))
        .args(["--json", "--metric", "order_id"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["name"], "orders");
    let headers = v["tables"][0]["columnHeaders"].as_array().unwrap();
    let types: Vec<(&str, &str)> = headers
        .iter()
        .map(|h| (h["name"].as_str().unwrap(), h["dataType"].as_str().unwrap()))
        .collect();
    assert!(types.contains(&("order_date", "DATE")), "{types:?}");
    assert!(types.contains(&("order_time", "TIME")), "{types:?}");
    assert!(types.contains(&("ordered_at", "DATETIME")), "{types:?}");
    assert!(types.contains(&("unit_price", "BIGDECIMAL")), "{types:?}");
    assert!(types.contains(&("paid", "BOOL")), "{types:?}");
    let metrics: Vec<&str> = v["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert!(metrics.contains(&"order_id"), "{metrics:?}");
}

// ---------------------------------------------------------------- errors

#[test]
fn missing_file_is_one_line() {
    let tmp = TempDir::new().unwrap();
    assert_error(
        pushdata(tmp.path()).args(["push", "nope/missing.parquet"]),
        &["missing.parquet", "opening"],
    );
    assert_error(
        pushdata(tmp.path()).args(["schema", "missing.parquet"]),
        &["missing.parquet"],
    );
    // Nothing was started: no data directory was created.
    assert!(!tmp.path().join(".pushdata").exists());
}

#[test]
fn a_directory_is_not_a_file() {
    let tmp = TempDir::new().unwrap();
    std::fs::create_dir(tmp.path().join("dir.parquet")).unwrap();
    assert_error(
        pushdata(tmp.path()).args(["push", "dir.parquet"]),
        &["dir.parquet"],
    );
}

#[test]
fn a_file_that_is_not_parquet() {
    let tmp = TempDir::new().unwrap();
    std::fs::write(
        tmp.path().join("notes.parquet"),
        "just some text, no footer\n",
    )
    .unwrap();
    assert_error(
        pushdata(tmp.path()).args(["push", "notes.parquet"]),
        &["notes.parquet", "reading Parquet file"],
    );
}

#[test]
fn a_truncated_parquet_file() {
    let tmp = TempDir::new().unwrap();
    let bytes = std::fs::read(sales()).unwrap();
    std::fs::write(tmp.path().join("cut.parquet"), &bytes[..bytes.len() - 20]).unwrap();
    assert_error(
        pushdata(tmp.path()).args(["schema", "cut.parquet"]),
        &["cut.parquet", "Parquet"],
    );
}

#[test]
fn a_parquet_file_with_corrupt_pages() {
    let tmp = TempDir::new().unwrap();
    let mut bytes = std::fs::read(sales()).unwrap();
    // Keep the magic and the footer, scramble the column chunks in between.
    let footer_len =
        u32::from_le_bytes(bytes[bytes.len() - 8..bytes.len() - 4].try_into().unwrap());
    let data_end = bytes.len() - 8 - footer_len as usize;
    for (i, b) in bytes[4..data_end].iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(37) ^ 0x5a;
    }
    std::fs::write(tmp.path().join("broken.parquet"), &bytes).unwrap();
    assert_error(
        pushdata(tmp.path()).args(["push", "broken.parquet"]),
        &["broken"],
    );
}

#[test]
fn an_unsupported_column_type() {
    let tmp = TempDir::new().unwrap();
    let list =
        ListArray::from_iter_primitive::<Int32Type, _, _>(vec![Some(vec![Some(1), Some(2)]), None]);
    let schema = Schema::new(vec![
        Field::new("id", DataType::Int32, false),
        Field::new("tags", list.data_type().clone(), true),
    ]);
    let columns: Vec<ArrayRef> = vec![Arc::new(Int32Array::from(vec![1, 2])), Arc::new(list)];
    let batch = RecordBatch::try_new(Arc::new(schema), columns).unwrap();
    write_parquet(&tmp.path().join("nested.parquet"), &batch);
    for cmd in ["push", "schema"] {
        assert_error(
            pushdata(tmp.path()).args([cmd, "nested.parquet"]),
            &["nested", "tags", "not supported"],
        );
    }
}

#[test]
fn wrong_credentials() {
    let tmp = TempDir::new().unwrap();
    let served = Served::start(
        &tmp.path().join("srv"),
        &["--user", "bob", "--password", "right"],
    );
    assert_error(
        pushdata(tmp.path()).arg("push").arg(sales()).args([
            "--url",
            &served.url,
            "--user",
            "bob",
            "--password",
            "wrong",
        ]),
        &["login", "401"],
    );
}

#[test]
fn unknown_project() {
    let tmp = TempDir::new().unwrap();
    assert_error(
        pushdata(tmp.path())
            .arg("push")
            .arg(sales())
            .args(["--project", "No Such Project"]),
        &["No Such Project", "MicroStrategy Tutorial"],
    );
}

#[test]
fn unknown_dataset_shows_the_server_error() {
    let tmp = TempDir::new().unwrap();
    let line = assert_error(
        pushdata(tmp.path()).arg("push").arg(sales()).args([
            "--dataset-id",
            "0123456789ABCDEF0123456789ABCDEF",
            "--policy",
            "add",
        ]),
        &["0123456789ABCDEF0123456789ABCDEF", "404"],
    );
    // The server's code and ticket id are part of the message.
    assert!(line.contains('[') && line.contains("ticket id"), "{line}");
}

#[test]
fn server_not_reachable() {
    let tmp = TempDir::new().unwrap();
    // Bind then drop a listener: nothing listens on that port any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    assert_error(
        pushdata(tmp.path()).arg("push").arg(sales()).args([
            "--url",
            &format!("http://127.0.0.1:{port}/MicroStrategyLibrary"),
        ]),
        &["login"],
    );
}

#[test]
fn usage_errors_exit_with_2() {
    let tmp = TempDir::new().unwrap();
    let out = pushdata(tmp.path())
        .arg("push")
        .arg(sales())
        .arg(data("orders.parquet"))
        .args(["--table", "t"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.starts_with("error: --table"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    pushdata(tmp.path())
        .args(["push", "a.parquet", "--policy", "merge"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("merge"));
    pushdata(tmp.path())
        .args(["push", "a.parquet", "--dataset", "x", "--dataset-id", "y"])
        .assert()
        .code(2);
}

#[cfg(unix)]
#[test]
fn serve_stops_cleanly_on_sigterm() {
    let tmp = TempDir::new().unwrap();
    let mut served = Served::start(&tmp.path().join("srv"), &[]);
    let status = std::process::Command::new("kill")
        .args(["-TERM", &served.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = served.child.wait().unwrap();
    assert!(exit.success(), "serve exited with {exit:?}");
}

#[test]
fn single_request_update_of_an_existing_dataset() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("store");
    let dir = dir.to_str().unwrap();
    let first = push_json(
        tmp.path(),
        &[
            sales().to_str().unwrap(),
            "--data-dir",
            dir,
            "--single-request",
        ],
    );
    let id = first["datasetId"].as_str().unwrap();
    assert_eq!(published_rows(Path::new(dir), id), 4);
    let more = tmp.path().join("sales.parquet");
    more_sales(&more);
    // upsert: Movies and Musics are updated, Games and Toys inserted.
    push_json(
        tmp.path(),
        &[
            more.to_str().unwrap(),
            "--data-dir",
            dir,
            "--single-request",
            "--dataset-id",
            id,
            "--policy",
            "upsert",
        ],
    );
    assert_eq!(published_rows(Path::new(dir), id), 6);
    // update: only existing keys; nothing new.
    push_json(
        tmp.path(),
        &[
            more.to_str().unwrap(),
            "--data-dir",
            dir,
            "--dataset-id",
            id,
            "--policy",
            "update",
        ],
    );
    assert_eq!(published_rows(Path::new(dir), id), 6);
}

#[cfg(unix)]
#[test]
fn ctrl_c_during_a_push_stops_it_with_one_line() {
    use arrow_array::Int64Array;
    let tmp = TempDir::new().unwrap();
    let n = 2_000_000i64;
    let schema = Schema::new(vec![
        Field::new("k", DataType::Int64, false),
        Field::new("v", DataType::Float64, false),
    ]);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(0..n)),
        Arc::new(Float64Array::from_iter_values(
            (0..n).map(|i| i as f64 * 0.25),
        )),
    ];
    write_parquet(
        &tmp.path().join("big.parquet"),
        &RecordBatch::try_new(Arc::new(schema), columns).unwrap(),
    );
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pushdata"))
        .current_dir(tmp.path())
        .args([
            "push",
            "big.parquet",
            "--chunk-mb",
            "1",
            "--concurrency",
            "1",
        ])
        .env_remove("PUSHDATA_URL")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    assert!(first.starts_with("progress:"), "{first}");
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let exit = child.wait().unwrap();
    assert_eq!(exit.code(), Some(130), "{first}{rest}");
    let errors: Vec<&str> = rest.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(
        errors,
        ["error: interrupted: the push was stopped before its data was published"]
    );
    assert!(!rest.contains("panicked"), "{rest}");
}

#[test]
fn serve_takes_passwords_from_a_file_the_environment_or_a_users_file() {
    let tmp = TempDir::new().unwrap();
    let push_as = |url: &str, user: &str, password: &str| {
        pushdata(tmp.path())
            .arg("push")
            .arg(sales())
            .args(["--url", url, "--user", user, "--json"])
            .env("PUSHDATA_PASSWORD", password)
            .output()
            .unwrap()
    };
    // --password-file: its first line.
    let file = tmp.path().join("pw");
    std::fs::write(&file, "Quokka-7\n").unwrap();
    let served = Served::start(
        &tmp.path().join("a"),
        &["--user", "alice", "--password-file", file.to_str().unwrap()],
    );
    assert!(push_as(&served.url, "alice", "Quokka-7").status.success());
    assert!(!push_as(&served.url, "alice", "wrong").status.success());
    drop(served);
    // PUSHDATA_PASSWORD, never on the command line.
    let served = Served::start_with_env(
        &tmp.path().join("b"),
        &["--user", "bob"],
        &[("PUSHDATA_PASSWORD", "Wombat-9")],
    );
    assert!(push_as(&served.url, "bob", "Wombat-9").status.success());
    assert!(!push_as(&served.url, "bob", "").status.success());
    drop(served);
    // --users-file: several users, comments; each sees only their own datasets.
    let users = tmp.path().join("users");
    std::fs::write(&users, "# the team\ncarol:Numbat:1\n\ndave:Possum-2\n").unwrap();
    let served = Served::start(
        &tmp.path().join("c"),
        &["--users-file", users.to_str().unwrap()],
    );
    let out = push_as(&served.url, "carol", "Numbat:1");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = serde_json::from_slice::<Value>(&out.stdout).unwrap()["datasetId"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(push_as(&served.url, "dave", "Possum-2").status.success());
    assert!(!push_as(&served.url, "administrator", "").status.success());
    let out = pushdata(tmp.path())
        .arg("push")
        .arg(sales())
        .args(["--url", &served.url, "--user", "dave", "--dataset-id", &id])
        .env("PUSHDATA_PASSWORD", "Possum-2")
        .output()
        .unwrap();
    assert!(!out.status.success(), "dave pushed into carol's dataset");
    // A malformed users file is one line naming the file and the line, not its content.
    std::fs::write(&users, "erin Secret-3\n").unwrap();
    let err = assert_error(
        pushdata(tmp.path())
            .args(["serve", "--addr", "127.0.0.1:0", "--users-file"])
            .arg(&users)
            .arg("--data-dir")
            .arg(tmp.path().join("d")),
        &["line 1", "name:password"],
    );
    assert!(!err.contains("Secret-3"), "{err}");
}

#[test]
fn push_json_reports_the_rows_the_policy_skipped() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("store");
    let dir = dir.to_str().unwrap();
    let first = push_json(
        tmp.path(),
        &[
            sales().to_str().unwrap(),
            "--data-dir",
            dir,
            "--attribute",
            "Year",
            "--attribute",
            "Category_ID",
        ],
    );
    let id = first["datasetId"].as_str().unwrap();
    // add: every uploaded key is stored already.
    let again = push_json(
        tmp.path(),
        &[
            sales().to_str().unwrap(),
            "--data-dir",
            dir,
            "--dataset-id",
            id,
            "--policy",
            "add",
        ],
    );
    assert_eq!(again["tables"][0]["rowsSkipped"], 4, "{again}");
    let out = pushdata(tmp.path())
        .arg("push")
        .arg(sales())
        .args(["--data-dir", dir, "--dataset-id", id, "--policy", "add"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("skipped 4 rows"), "{stdout}");
}

/// The reference server in this process, with a publish that takes `delay` to start.
fn slow_publish_server(
    dir: &Path,
    delay: std::time::Duration,
) -> (tokio::runtime::Runtime, pushdata_server::ServerHandle) {
    #[derive(Debug)]
    struct Slow(std::time::Duration);
    impl pushdata_server::PublishHook for Slow {
        fn before_publish(&self, _dataset_id: &str) {
            std::thread::sleep(self.0);
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let handle = rt
        .block_on(pushdata_server::Server::start_with_hook(
            pushdata_server::ServerConfig::new(dir.to_path_buf()),
            Arc::new(Slow(delay)),
        ))
        .unwrap();
    (rt, handle)
}

#[cfg(unix)]
#[test]
fn ctrl_c_after_the_publish_request_says_the_outcome_is_unknown() {
    let tmp = TempDir::new().unwrap();
    let (rt, server) =
        slow_publish_server(&tmp.path().join("srv"), std::time::Duration::from_secs(3));
    let url = server.base_url().to_string();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pushdata"))
        .current_dir(tmp.path())
        .arg("push")
        .arg(sales())
        .args(["--url", &url])
        .env_remove("PUSHDATA_PASSWORD")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let (mut dataset, mut session) = (String::new(), String::new());
    loop {
        let mut line = String::new();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "{seen}");
        seen.push_str(&line);
        if let Some(rest) = line.strip_prefix("progress: dataset ") {
            dataset = rest.split_whitespace().next().unwrap().to_string();
        }
        if let Some(rest) = line.strip_prefix("progress: upload session ") {
            session = rest.split_whitespace().next().unwrap().to_string();
        }
        if line.trim() == "progress: publishing" {
            break;
        }
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let exit = child.wait().unwrap();
    assert_eq!(exit.code(), Some(3), "{seen}{rest}");
    let errors: Vec<&str> = rest.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{rest}");
    assert!(
        errors[0].starts_with("error: interrupted: the publish of dataset "),
        "{rest}"
    );
    assert!(
        errors[0].contains("was requested; the outcome is unknown"),
        "{rest}"
    );
    assert!(!rest.contains("nothing was published"), "{rest}");
    // The upload session was cancelled on the way out; the dataset is kept.
    rt.block_on(async {
        let client = pushdata_core::Client::builder(&url).build().unwrap();
        client
            .login(pushdata_core::Credentials::standard("administrator", ""))
            .await
            .unwrap();
        client
            .select_project("MicroStrategy Tutorial")
            .await
            .unwrap();
        let e = client.publish_status(&dataset, &session).await.unwrap_err();
        assert_eq!(e.status(), Some(404), "{e}");
        client.cube_definition(&dataset).await.unwrap();
        server.shutdown().await.unwrap();
    });
}
