//! Many pushes at once (issue 16): `pushdata push` processes started together against one
//! `pushdata serve`, into different datasets and into the same one (`add`, and `upsert`
//! of disjoint keys). Every push succeeds, every dataset reads back exactly (all rows
//! compared): no lost update, no duplicate, no damaged file. Publishes into one dataset
//! are serialized by the server; the server runs with a small staging memory budget, so
//! chunks beyond it are staged as files meanwhile.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

use common::serve::{Serve, bin, pull_rows, rows, write_parquet};
use serde_json::Value;

/// How many pushes run at once.
const N: usize = 6;

/// `rows` with ids shifted by `offset` (labels keep the version they were made for).
fn shifted(version: u32, n: usize, offset: i64) -> Vec<(i64, String)> {
    rows(version, n)
        .into_iter()
        .map(|(id, label)| (id + offset, label))
        .collect()
}

/// Write `rows` to `dir/name.parquet`.
fn file(dir: &Path, name: &str, rows: &[(i64, String)]) -> PathBuf {
    let path = dir.join(format!("{name}.parquet"));
    write_parquet(&path, rows);
    path
}

/// Start `pushdata push FILE --url URL --table t --json --chunk-mb 1` with `args`.
fn spawn_push(url: &str, path: &Path, args: &[&str]) -> Child {
    bin()
        .arg("push")
        .arg(path)
        .args(["--url", url, "--table", "t", "--json", "--chunk-mb", "1"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Wait for every push; each must succeed with one JSON line; their reports.
fn finish(children: Vec<Child>) -> Vec<Value> {
    children
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let out = c.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "push {i} failed: {stderr}");
            assert!(!stderr.contains("panicked"), "push {i}: {stderr}");
            serde_json::from_slice(&out.stdout).unwrap()
        })
        .collect()
}

fn sorted(mut rows: Vec<(i64, String)>) -> Vec<(i64, String)> {
    rows.sort();
    rows
}

/// The id of a push report.
fn dataset_id(report: &Value) -> String {
    report["datasetId"].as_str().unwrap().to_string()
}

#[test]
fn concurrent_pushes_to_different_datasets_and_to_one_lose_no_update() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let serve = Serve::start(&dir.join("data"), 0, &["--staging-memory-mb", "1"]);
    let url = serve.url.clone();
    let pulled = dir.join("pulled.parquet");

    // N new datasets at once, each of its own rows.
    let inputs: Vec<Vec<(i64, String)>> = (0..N)
        .map(|i| rows(i as u32 + 1, 20_000 + i * 1_000))
        .collect();
    let children = inputs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let path = file(dir, &format!("new{i}"), r);
            spawn_push(&url, &path, &["--dataset", &format!("concurrent {i}")])
        })
        .collect();
    let reports = finish(children);
    for (report, input) in reports.iter().zip(&inputs) {
        let got = pull_rows(&url, &dataset_id(report), &pulled);
        assert_eq!(got, sorted(input.clone()), "{report}");
    }

    // N adds into one dataset at once: every row of every push is there, once.
    let base = rows(0, 5_000);
    let created = finish(vec![spawn_push(
        &url,
        &file(dir, "base", &base),
        &["--dataset", "shared"],
    )]);
    let id = dataset_id(&created[0]);
    let adds: Vec<Vec<(i64, String)>> = (0..N)
        .map(|i| shifted(10 + i as u32, 8_000, 100_000 * (i as i64 + 1)))
        .collect();
    let children = adds
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let path = file(dir, &format!("add{i}"), r);
            spawn_push(&url, &path, &["--dataset-id", &id, "--policy", "add"])
        })
        .collect();
    finish(children);
    let mut want = base.clone();
    adds.iter().for_each(|a| want.extend(a.iter().cloned()));
    let want = sorted(want);
    assert_eq!(pull_rows(&url, &id, &pulled), want, "no add lost");

    // N upserts at once, each of its own keys: a slice of the existing rows (unchanged)
    // and rows of new keys. Every key is there once.
    let upserts: Vec<Vec<(i64, String)>> = (0..N)
        .map(|i| {
            let mut r = base[i * 500..i * 500 + 500].to_vec();
            r.extend(shifted(30 + i as u32, 3_000, 1_000_000 * (i as i64 + 1)));
            r
        })
        .collect();
    let children = upserts
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let path = file(dir, &format!("upsert{i}"), r);
            spawn_push(&url, &path, &["--dataset-id", &id, "--policy", "upsert"])
        })
        .collect();
    finish(children);
    let mut want = want;
    for u in &upserts {
        want.extend(u[500..].iter().cloned());
    }
    let want = sorted(want);
    assert_eq!(pull_rows(&url, &id, &pulled), want, "no upsert lost");
    drop(serve);
}
