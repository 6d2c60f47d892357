//! The object-store conformance suite, in `object_store`'s style: one set of cases, each a
//! function of a [`Backend`], run against every store the CLI reads URLs of (the local
//! store, and the S3, Azure and GCS emulators where they are installed). Each case uploads
//! through the backend's own client, pushes or reads by URL through the CLI into the
//! embedded reference server, and compares the stored rows exactly.

use std::path::Path;

use assert_cmd::Command;
use tempfile::TempDir;

use super::pushdata;
use super::tables::{THREE, batch, in_every_format, rows, stored_rows};

/// A store the suite runs against.
pub(crate) trait Backend {
    /// The URL of `key` in the store's test bucket (container, folder).
    fn url(&self, key: &str) -> String;
    /// Upload `bytes` as object `key`, with the test's own client.
    fn put(&self, key: &str, bytes: Vec<u8>);
    /// The credentials the CLI reads from the environment, as the cloud CLIs do (`None`:
    /// the variable is removed).
    fn env(&self) -> Vec<(&'static str, Option<String>)>;
    /// `--storage-option` arguments the CLI needs for the store (its endpoint, ...).
    fn options(&self) -> Vec<String>;
}

/// Every case of the suite against `backend`.
pub(crate) fn run(backend: &dyn Backend) {
    every_format(backend);
    partitioned_prefix_and_glob(backend);
    missing_prefix_and_unknown_option(backend);
}

/// The CLI's `subcommand` with the backend's credentials and options.
fn cli(backend: &dyn Backend, cwd: &Path, subcommand: &str) -> Command {
    let mut cmd = pushdata(cwd);
    for (name, value) in backend.env() {
        match value {
            Some(value) => cmd.env(name, value),
            None => cmd.env_remove(name),
        };
    }
    cmd.arg(subcommand);
    for option in backend.options() {
        cmd.args(["--storage-option", &option]);
    }
    cmd
}

/// `push` of `args` through the backend; the dataset id.
fn push(backend: &dyn Backend, cwd: &Path, args: &[&str]) -> String {
    let out = cli(backend, cwd, "push")
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "push {args:?} failed: {stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["datasetId"].as_str().unwrap().to_string()
}

/// The sample table as a Parquet, Arrow IPC file, Arrow IPC stream, CSV and NDJSON
/// object, each pushed by its URL.
fn every_format(backend: &dyn Backend) {
    for (name, bytes) in in_every_format("sample", &batch(&[1, 2, 3])) {
        backend.put(&format!("formats/{name}"), bytes);
    }
    let tmp = TempDir::new().unwrap();
    for ext in ["parquet", "feather", "arrows", "csv", "jsonl"] {
        let url = backend.url(&format!("formats/sample.{ext}"));
        let id = push(
            backend,
            tmp.path(),
            &[&url, "--table", ext, "--dataset", ext],
        );
        assert_eq!(stored_rows(tmp.path(), &id, ext), rows(THREE), "{url}");
    }
}

/// A prefix as Spark writes it (partition folders as columns, markers and checksums
/// skipped), then a glob within it.
fn partitioned_prefix_and_glob(backend: &dyn Backend) {
    let parts = [
        ("out/year=2024/month=05/part-0.parquet", &[1_i64, 2][..]),
        ("out/year=2024/month=06/part-0.parquet", &[3]),
        ("out/year=2023/month=12/part-1.parquet", &[9]),
    ];
    for (key, ids) in parts {
        let (_, bytes) = in_every_format("x", &batch(ids)).swap_remove(0);
        backend.put(key, bytes);
    }
    backend.put("out/_SUCCESS", Vec::new());
    backend.put(
        "out/year=2024/month=05/.part-0.parquet.crc",
        b"crc".to_vec(),
    );
    let partitioned: &[&[&str]] = &[
        &["9", "n9", "9.5", "2023", "12"],
        &["1", "n1", "1.5", "2024", "5"],
        &["2", "n2", "2.5", "2024", "5"],
        &["3", "n3", "3.5", "2024", "6"],
    ];
    let tmp = TempDir::new().unwrap();
    let id = push(backend, tmp.path(), &[&backend.url("out/")]);
    assert_eq!(stored_rows(tmp.path(), &id, "out"), rows(partitioned));

    let glob = backend.url("out/year=2024/*/*.parquet");
    let id = push(
        backend,
        tmp.path(),
        &[&glob, "--table", "recent", "--dataset", "recent"],
    );
    assert_eq!(
        stored_rows(tmp.path(), &id, "recent"),
        rows(&partitioned[1..])
    );
}

/// A prefix holding nothing and an option the store does not have: the command fails, its
/// one error line naming the URL or the option.
fn missing_prefix_and_unknown_option(backend: &dyn Backend) {
    let tmp = TempDir::new().unwrap();
    let missing = backend.url("nothing/");
    let out = cli(backend, tmp.path(), "schema")
        .arg(&missing)
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        !out.status.success() && stderr.contains(&missing),
        "{stderr}"
    );
    backend.put(
        "one/sample.csv",
        in_every_format("s", &batch(&[1])).swap_remove(3).1,
    );
    let out = cli(backend, tmp.path(), "schema")
        .arg(backend.url("one/sample.csv"))
        .args(["--storage-option", "no_such_option=1"])
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        !out.status.success() && stderr.contains("no_such_option"),
        "{stderr}"
    );
}
