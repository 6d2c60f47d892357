//! `pushdata veracity push|pull` end to end against the embedded reference server's
//! Veracity emulation: create with keys, upsert, pull to Parquet, a failed job's validation
//! message, usage errors and missing credentials.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use assert_cmd::Command;
use parquet::arrow::ArrowWriter;
use predicates::prelude::*;
use pushdata_arrow::veracity::MAX_PART_MB;
use serde_json::Value;
use tempfile::TempDir;

mod common;
use common::{data, json_line, pushdata};

const WS: &str = "5f1c2d3e-0000-4000-a000-000000000001";

fn sales() -> PathBuf {
    data("sales.parquet")
}

/// `pushdata veracity ...` run in `cwd`, with no PUSHDATA_* or RUST_LOG from the test
/// environment.
fn veracity(cwd: &Path) -> Command {
    let mut cmd = pushdata(cwd);
    cmd.arg("veracity");
    cmd
}

/// Run `args` with `--json` in `cwd`; the one line of stdout, parsed.
fn run_json(cwd: &Path, args: &[&str]) -> Value {
    json_line(veracity(cwd), args)
}

/// Push `input` in `cwd` as a new dataset "Wind" keyed by Id, with `extra` arguments; the
/// `--json` summary.
fn create_wind(cwd: &Path, input: &str, extra: &[&str]) -> Value {
    let mut args = vec![
        "push",
        input,
        "--workspace",
        WS,
        "--create",
        "Wind",
        "--key",
        "Id",
    ];
    args.extend_from_slice(extra);
    run_json(cwd, &args)
}

fn parquet_rows(path: &Path) -> i64 {
    let file = std::fs::File::open(path).unwrap();
    let reader = parquet::file::reader::SerializedFileReader::new(file).unwrap();
    parquet::file::reader::FileReader::metadata(&reader)
        .file_metadata()
        .num_rows()
}

/// A Parquet file of (Id, Name, Speed) rows; `speed_as_text` makes Speed a string column.
fn wind(path: &Path, ids: &[i64], speeds: &[&str], speed_as_text: bool) {
    let speed_type = if speed_as_text {
        DataType::Utf8
    } else {
        DataType::Float64
    };
    let schema = Arc::new(Schema::new(vec![
        Field::new("Id", DataType::Int64, false),
        Field::new("Name", DataType::Utf8, true),
        Field::new("Speed", speed_type, true),
    ]));
    let names: Vec<String> = ids.iter().map(|i| format!("n{i}")).collect();
    let speed: ArrayRef = if speed_as_text {
        Arc::new(StringArray::from(speeds.to_vec()))
    } else {
        let values: Vec<f64> = speeds.iter().map(|s| s.parse().unwrap()).collect();
        Arc::new(Float64Array::from(values))
    };
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from(ids.to_vec())),
            Arc::new(StringArray::from(names)),
            speed,
        ],
    )
    .unwrap();
    let mut writer =
        ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

fn text(value: &Value, field: &str) -> String {
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {value}"))
        .to_string()
}

#[test]
fn create_upsert_and_pull_sales() {
    let tmp = TempDir::new().unwrap();
    let file = sales();
    let file = file.to_str().unwrap();
    let created = run_json(
        tmp.path(),
        &[
            "push",
            file,
            "--workspace",
            WS,
            "--create",
            "Sales",
            "--key",
            "Year",
            "--key",
            "Category_ID",
        ],
    );
    assert_eq!(created["rows"], 4, "{created}");
    assert_eq!(created["status"], "Completed", "{created}");
    assert!(created["bytes"].as_u64().unwrap() > 0, "{created}");
    assert!(created["seconds"].as_f64().is_some(), "{created}");
    let dataset = text(&created, "datasetId");
    let schema = text(&created, "schemaId");
    assert!(!text(&created, "jobId").is_empty());

    // An upsert of the same rows, checked against the schema first: still 4 rows.
    veracity(tmp.path())
        .args(["push", file, "--workspace", WS, "--dataset-id", &dataset])
        .args(["--operation", "upsert", "--schema-id", &schema])
        .assert()
        .success()
        .stdout(predicate::str::starts_with(format!(
            "pushed 4 rows to dataset {dataset} (job "
        )))
        .stdout(predicate::str::contains(", Completed)"));

    let pulled = run_json(
        tmp.path(),
        &[
            "pull",
            &dataset,
            "--workspace",
            WS,
            "--schema-id",
            &schema,
            "-o",
            "copy.parquet",
        ],
    );
    assert_eq!(pulled["rows"], 4, "{pulled}");
    assert_eq!(pulled["datasetId"], dataset.as_str());
    assert_eq!(pulled["file"], "copy.parquet");
    assert_eq!(parquet_rows(&tmp.path().join("copy.parquet")), 4);
    assert_eq!(parquet_rows(&sales()), 4);
    assert!(!tmp.path().join("copy.parquet.partial").exists());
}

#[test]
fn upsert_adds_new_keys_and_a_failed_job_says_why() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    wind(&dir.join("wind.parquet"), &[1, 2], &["1.0", "2.0"], false);
    let created = create_wind(dir, "wind.parquet", &[]);
    let dataset = text(&created, "datasetId");
    let schema = text(&created, "schemaId");

    wind(&dir.join("more.parquet"), &[2, 3], &["2.5", "3.5"], false);
    let upserted = run_json(
        dir,
        &[
            "push",
            "more.parquet",
            "--workspace",
            WS,
            "--dataset-id",
            &dataset,
            "--operation",
            "upsert",
            "--key",
            "Id",
        ],
    );
    assert_eq!(upserted["operation"], "Upsert", "{upserted}");
    assert_eq!(upserted["rows"], 2, "{upserted}");

    // Speed as text: no --schema-id, so only the keys are checked locally; the job fails.
    wind(&dir.join("bad.parquet"), &[3, 4], &["fast", "1.5"], true);
    let out = veracity(dir)
        .args([
            "push",
            "bad.parquet",
            "--workspace",
            WS,
            "--dataset-id",
            &dataset,
        ])
        .args(["--operation", "upsert", "--key", "Id"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let line = errors[0];
    assert!(line.contains("bad.parquet"), "{line}");
    assert!(line.contains("job"), "{line}");
    assert!(line.to_lowercase().contains("speed"), "{line}");
    assert!(String::from_utf8(out.stdout).unwrap().is_empty());

    // The failed job left the upserted rows: 1, 2 and 3.
    let pulled = run_json(
        dir,
        &[
            "pull",
            &dataset,
            "--workspace",
            WS,
            "--schema-id",
            &schema,
            "-o",
            "w.parquet",
            "--page-size",
            "2",
        ],
    );
    assert_eq!(pulled["rows"], 3, "{pulled}");
    assert_eq!(parquet_rows(&dir.join("w.parquet")), 3);
}

#[test]
fn operation_without_dataset_id_is_a_usage_error() {
    let tmp = TempDir::new().unwrap();
    let file = sales();
    veracity(tmp.path())
        .arg("push")
        .arg(&file)
        .args(["--workspace", WS, "--operation", "upsert"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with("error:"))
        .stderr(predicate::str::contains("--dataset-id"));
    // Neither --create nor --dataset-id.
    veracity(tmp.path())
        .arg("push")
        .arg(&file)
        .args(["--workspace", WS])
        .assert()
        .code(2);
    // Upsert with neither --schema-id nor --key: the keys are unknown.
    veracity(tmp.path())
        .arg("push")
        .arg(&file)
        .args([
            "--workspace",
            WS,
            "--dataset-id",
            "d",
            "--operation",
            "upsert",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--schema-id"));
    // No workspace.
    veracity(tmp.path())
        .arg("push")
        .arg(&file)
        .args(["--create", "x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--workspace"));
    assert!(!tmp.path().join(".pushdata").exists());
}

#[test]
fn url_without_credentials_is_a_usage_error_and_secrets_stay_hidden() {
    let tmp = TempDir::new().unwrap();
    veracity(tmp.path())
        .arg("push")
        .arg(sales())
        .args([
            "--workspace",
            WS,
            "--create",
            "x",
            "--url",
            "http://127.0.0.1:9",
        ])
        .args(["--client-id", "id"])
        .env("PUSHDATA_VERACITY_CLIENT_SECRET", "s3cret-value")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--subscription-key"))
        .stderr(predicate::str::contains("s3cret-value").not());
    veracity(tmp.path())
        .args(["push", "--help"])
        .env("PUSHDATA_VERACITY_CLIENT_SECRET", "s3cret-value")
        .env("PUSHDATA_VERACITY_SUBSCRIPTION_KEY", "k3y-value")
        .assert()
        .success()
        .stdout(predicate::str::contains("s3cret-value").not())
        .stdout(predicate::str::contains("k3y-value").not());
}

#[test]
fn a_missing_file_is_one_line() {
    let tmp = TempDir::new().unwrap();
    veracity(tmp.path())
        .args(["push", "nope.parquet", "--workspace", WS, "--create", "x"])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with("error: "))
        .stderr(predicate::str::contains("opening \"nope.parquet\""))
        .stderr(predicate::function(|s: &str| s.lines().count() == 1));
}

/// A `pushdata serve` child on `data_dir`; killed on drop.
struct Served {
    child: std::process::Child,
    addr: String,
}

impl Served {
    fn start(data_dir: &Path) -> Served {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pushdata"))
            .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .env_remove("PUSHDATA_VERACITY_CLIENT_ID")
            .env_remove("PUSHDATA_VERACITY_CLIENT_SECRET")
            .env_remove("PUSHDATA_VERACITY_SUBSCRIPTION_KEY")
            .env("RUST_LOG", "error")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut url = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut url)
            .unwrap();
        let addr = url.trim().trim_start_matches("http://");
        let addr = addr.split('/').next().unwrap().to_string();
        Served { child, addr }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn url_and_credentials_from_the_environment_and_the_data_dir_lock() {
    let tmp = TempDir::new().unwrap();
    let served = Served::start(&tmp.path().join("srv"));
    let addr = served.addr.clone();
    let env = [
        ("PUSHDATA_VERACITY_URL", format!("http://{addr}")),
        (
            "PUSHDATA_VERACITY_TOKEN_URL",
            format!("http://{addr}/tenant/oauth2/token"),
        ),
        (
            "PUSHDATA_VERACITY_CLIENT_ID",
            "pushdata-veracity-client".into(),
        ),
        (
            "PUSHDATA_VERACITY_CLIENT_SECRET",
            "pushdata-veracity-secret".into(),
        ),
        (
            "PUSHDATA_VERACITY_SUBSCRIPTION_KEY",
            "pushdata-veracity-key".into(),
        ),
        ("PUSHDATA_VERACITY_WORKSPACE", WS.into()),
    ];
    let mut cmd = veracity(tmp.path());
    cmd.arg("push")
        .arg(sales())
        .args(["--create", "Sales", "--json"]);
    for (k, v) in &env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.is_empty(), "no embedded note expected: {stderr}");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["rows"], 4, "{json}");
    assert!(!stderr.contains("pushdata-veracity-secret"));

    // Without --url, the embedded server respects the running server's lock.
    veracity(tmp.path())
        .arg("push")
        .arg(sales())
        .args(["--workspace", WS, "--create", "x", "--data-dir", "srv"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("in use"));
}

/// A Parquet file of `n` (Id, Name, Speed) rows, ids 0..n.
fn big_wind(path: &Path, n: i64) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("Id", DataType::Int64, false),
        Field::new("Name", DataType::Utf8, true),
        Field::new("Speed", DataType::Float64, true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from_iter_values(0..n)),
            Arc::new(StringArray::from_iter_values(
                (0..n).map(|i| format!("n{i}")),
            )),
            Arc::new(Float64Array::from_iter_values(
                (0..n).map(|i| i as f64 * 0.25),
            )),
        ],
    )
    .unwrap();
    let mut writer =
        ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

#[test]
fn small_parts_several_in_flight_arrive_whole_and_in_order() {
    let tmp = TempDir::new().unwrap();
    let input = tmp.path().join("wind.parquet");
    let n = 150_000;
    big_wind(&input, n);
    let created = create_wind(
        tmp.path(),
        input.to_str().unwrap(),
        &["--part-mb", "1", "--appends-in-flight", "3"],
    );
    assert_eq!(created["status"], "Completed", "{created}");
    assert_eq!(created["rows"], n, "{created}");
    // About 3 MB of CSV in parts of at most 1 MiB.
    let (bytes, parts) = (
        created["bytes"].as_u64().unwrap(),
        created["parts"].as_u64().unwrap(),
    );
    assert!(
        parts >= bytes.div_ceil(1024 * 1024) && parts >= 3,
        "{created}"
    );

    let output = tmp.path().join("back.parquet");
    veracity(tmp.path())
        .args(["pull", &text(&created, "datasetId"), "--workspace", WS])
        .args(["--schema-id", &text(&created, "schemaId"), "-o"])
        .arg(&output)
        .assert()
        .success();
    let file = std::fs::File::open(&output).unwrap();
    let reader =
        parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(file, 65536).unwrap();
    let mut ids = Vec::new();
    for batch in reader {
        let batch = batch.unwrap();
        let id = batch.column_by_name("Id").unwrap();
        let id = id.as_any().downcast_ref::<Int64Array>().unwrap();
        ids.extend(id.values().iter().copied());
    }
    ids.sort_unstable();
    assert_eq!(ids, (0..n).collect::<Vec<_>>());
}

#[test]
fn part_size_and_appends_in_flight_out_of_range_are_usage_errors() {
    let tmp = TempDir::new().unwrap();
    let file = sales();
    let too_large = (MAX_PART_MB + 1).to_string();
    for (flag, value) in [
        ("--part-mb", "0"),
        ("--part-mb", too_large.as_str()),
        ("--appends-in-flight", "0"),
    ] {
        veracity(tmp.path())
            .args([
                "push",
                file.to_str().unwrap(),
                "--workspace",
                WS,
                "--create",
                "S",
            ])
            .args([flag, value])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(flag));
    }
}

#[cfg(unix)]
#[test]
fn ctrl_c_before_the_job_starts_applies_nothing_and_names_the_job() {
    use std::io::{BufRead, BufReader, Read};
    use std::process::Stdio;
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    wind(&dir.join("wind.parquet"), &[1, 2], &["1.0", "2.0"], false);
    let created = create_wind(dir, "wind.parquet", &[]);
    let dataset = text(&created, "datasetId");
    let schema = text(&created, "schemaId");
    big_wind(&dir.join("big.parquet"), 1_000_000);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pushdata"))
        .current_dir(dir)
        .args(["veracity", "push", "big.parquet", "--workspace", WS])
        .args([
            "--dataset-id",
            &dataset,
            "--operation",
            "upsert",
            "--key",
            "Id",
        ])
        .env("RUST_LOG", "pushdata_arrow=info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The library logs the registered job; the upload of the 1M rows follows.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut registered = String::new();
    while !registered.contains("veracity job registered") {
        registered.clear();
        assert!(stderr.read_line(&mut registered).unwrap() > 0, "no job");
    }
    let job_id = registered
        .split_once("job_id=")
        .unwrap()
        .1
        .split_whitespace()
        .next()
        .unwrap()
        .trim_matches('"')
        .to_string();
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    let exit = child.wait().unwrap();
    assert_eq!(exit.code(), Some(130), "{registered}{rest}");
    let errors: Vec<&str> = rest.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{rest}");
    let error = errors[0];
    assert!(error.starts_with("error: interrupted: "), "{error}");
    assert!(
        error.contains(&format!("stopped before job {job_id} was started")),
        "{error}"
    );
    assert!(error.contains("nothing was applied"), "{error}");
    assert!(!rest.contains("panicked"), "{rest}");
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    assert!(stdout.is_empty(), "{stdout}");

    // The dataset still has its 2 rows.
    let pulled = run_json(
        dir,
        &[
            "pull",
            &dataset,
            "--workspace",
            WS,
            "--schema-id",
            &schema,
            "-o",
            "after.parquet",
        ],
    );
    assert_eq!(pulled["rows"], 2, "{pulled}");
}

/// `pushdata veracity ARGS` on a pseudo-terminal (util-linux `script`), in `cwd`: its
/// output (stderr and stdout), or `None` where `script` is not available.
#[cfg(unix)]
fn on_a_terminal(cwd: &Path, args: &str) -> Option<String> {
    let probe = std::process::Command::new("script")
        .arg("--version")
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: util-linux `script` is not available to give the command a terminal");
        return None;
    }
    let command = format!("{} veracity {args}", env!("CARGO_BIN_EXE_pushdata"));
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(cwd)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(unix)]
#[test]
fn a_terminal_gets_a_progress_bar_unless_json() {
    let tmp = TempDir::new().unwrap();
    let file = sales();
    let push = format!(
        "push {} --workspace {WS} --create Sales --key Year --key Category_ID",
        file.display()
    );
    let Some(shown) = on_a_terminal(tmp.path(), &push) else {
        return;
    };
    // The bar's frames: rows of the footer's total, the rate, the last step.
    assert!(shown.contains("4/4 rows"), "{shown}");
    assert!(shown.contains("completed"), "{shown}");
    assert!(shown.contains("pushed 4 rows to dataset"), "{shown}");
    let Some(json) = on_a_terminal(tmp.path(), &format!("{push} --json")) else {
        return;
    };
    assert!(!json.contains(" rows "), "no bar with --json: {json}");
    let line = json.lines().find(|l| l.starts_with('{')).unwrap();
    let value: Value = serde_json::from_str(line.trim()).unwrap();
    assert_eq!(value["rows"], 4, "{value}");
}
