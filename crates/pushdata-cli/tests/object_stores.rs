//! Inputs in object stores, end to end through the CLI: an S3 emulator (`moto` server) on
//! loopback holds the sample table in every format, a Spark-style partitioned prefix and a
//! public object; each is pushed by URL into the embedded reference server and the stored
//! rows compared exactly.
//!
//! The emulator is `$PUSHDATA_MOTO_SERVER`, else the `moto-venv/bin/moto_server` that
//! `.ci/run` installs into the target directory. Without it the tests skip, saying why.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::emulator::{self, Emulator};
use common::pushdata;
use common::tables::{THREE, batch, in_every_format, push, rows, stored_rows};
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use tempfile::TempDir;

/// A moto S3 server on a free loopback port.
struct Moto {
    _server: Emulator,
    endpoint: String,
}

impl Moto {
    /// Start it, or say why not.
    fn start() -> Result<Moto, String> {
        let bin = emulator::find("PUSHDATA_MOTO_SERVER", "moto-venv/bin/moto_server")?;
        let args = |port: u16| {
            vec![
                "-H".into(),
                "127.0.0.1".into(),
                "-p".into(),
                port.to_string(),
            ]
        };
        let server = Emulator::start(bin, args)?;
        Ok(Moto {
            endpoint: format!("http://127.0.0.1:{}", server.port),
            _server: server,
        })
    }

    /// A bucket made on it, and a store of the bucket (the test's own client).
    fn bucket(&self, rt: &tokio::runtime::Runtime, name: &str) -> Arc<dyn ObjectStore> {
        let url = format!("{}/{name}", self.endpoint);
        let status = rt
            .block_on(reqwest::Client::new().put(&url).send())
            .unwrap()
            .status();
        assert!(status.is_success(), "creating bucket {name}: {status}");
        Arc::new(
            AmazonS3Builder::new()
                .with_endpoint(&self.endpoint)
                .with_allow_http(true)
                .with_bucket_name(name)
                .with_region("us-east-1")
                .with_access_key_id("test")
                .with_secret_access_key("test")
                .build()
                .unwrap(),
        )
    }

    /// The CLI's options for the emulator; the credentials come from the environment.
    fn options(&self) -> Vec<String> {
        [
            format!("aws_endpoint={}", self.endpoint),
            "aws_allow_http=true".to_string(),
            "aws_region=us-east-1".to_string(),
        ]
        .into_iter()
        .flat_map(|o| ["--storage-option".to_string(), o])
        .collect()
    }
}

fn put(rt: &tokio::runtime::Runtime, store: &Arc<dyn ObjectStore>, key: &str, bytes: Vec<u8>) {
    rt.block_on(store.put(&ObjectPath::from(key), PutPayload::from(bytes)))
        .unwrap();
}

/// The CLI run with the emulator's credentials in the environment, as the AWS CLI reads
/// them.
fn cli(tmp: &TempDir) -> assert_cmd::Command {
    let mut cmd = pushdata(tmp.path());
    cmd.env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE");
    cmd
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn s3_objects_in_every_format_and_a_partitioned_prefix_are_pushed() {
    let moto = match Moto::start() {
        Ok(m) => m,
        Err(why) => {
            println!("skipped: no S3 emulator: {why}");
            return;
        }
    };
    let rt = runtime();
    let store = moto.bucket(&rt, "lake");
    for (name, bytes) in in_every_format("sample", &batch(&[1, 2, 3])) {
        put(&rt, &store, &format!("formats/{name}"), bytes);
    }
    let tmp = TempDir::new().unwrap();
    let opts = moto.options();
    for ext in ["parquet", "feather", "arrows", "csv", "jsonl"] {
        let url = format!("s3://lake/formats/sample.{ext}");
        let mut args = vec![url.as_str(), "--table", ext, "--dataset", ext];
        args.extend(opts.iter().map(String::as_str));
        let id = push_with(&tmp, &args);
        assert_eq!(stored_rows(tmp.path(), &id, ext), rows(THREE), "{url}");
    }

    // A prefix as Spark writes it: partition folders, markers and checksums skipped.
    let parts = [
        ("out/year=2024/month=05/part-0.parquet", &[1_i64, 2][..]),
        ("out/year=2024/month=06/part-0.parquet", &[3]),
        ("out/year=2023/month=12/part-1.parquet", &[9]),
    ];
    for (key, ids) in parts {
        let (_, bytes) = in_every_format("x", &batch(ids)).swap_remove(0);
        put(&rt, &store, key, bytes);
    }
    put(&rt, &store, "out/_SUCCESS", Vec::new());
    put(
        &rt,
        &store,
        "out/year=2024/month=05/.part-0.parquet.crc",
        b"crc".to_vec(),
    );
    let partitioned: &[&[&str]] = &[
        &["9", "n9", "9.5", "2023", "12"],
        &["1", "n1", "1.5", "2024", "5"],
        &["2", "n2", "2.5", "2024", "5"],
        &["3", "n3", "3.5", "2024", "6"],
    ];
    let mut args = vec!["s3://lake/out/"];
    args.extend(opts.iter().map(String::as_str));
    let id = push_with(&tmp, &args);
    assert_eq!(stored_rows(tmp.path(), &id, "out"), rows(partitioned));

    // A glob within the prefix.
    let mut args = vec![
        "s3://lake/out/year=2024/*/*.parquet",
        "--table",
        "recent",
        "--dataset",
        "recent",
    ];
    args.extend(opts.iter().map(String::as_str));
    let id = push_with(&tmp, &args);
    assert_eq!(
        stored_rows(tmp.path(), &id, "recent"),
        rows(&partitioned[1..])
    );
}

/// `push` with the emulator's credentials; the dataset id.
fn push_with(tmp: &TempDir, args: &[&str]) -> String {
    let out = cli(tmp)
        .arg("push")
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "push {args:?} failed: {stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["datasetId"].as_str().unwrap().to_string()
}

#[test]
fn an_http_url_is_read_and_store_errors_name_the_url() {
    let moto = match Moto::start() {
        Ok(m) => m,
        Err(why) => {
            println!("skipped: no S3 emulator: {why}");
            return;
        }
    };
    let rt = runtime();
    moto.bucket(&rt, "public");
    // A public object: read over plain HTTP, without credentials.
    let (_, parquet) = in_every_format("x", &batch(&[1, 2, 3])).swap_remove(0);
    let url = format!("{}/public/sample.parquet", moto.endpoint);
    let status = rt
        .block_on(
            reqwest::Client::new()
                .put(&url)
                .header("x-amz-acl", "public-read")
                .body(parquet)
                .send(),
        )
        .unwrap()
        .status();
    assert!(status.is_success(), "{status}");
    let tmp = TempDir::new().unwrap();
    let id = push(tmp.path(), &[url.as_str(), "--table", "web"]);
    assert_eq!(stored_rows(tmp.path(), &id, "web"), rows(THREE));

    // A missing prefix, an unknown option: one error line naming the URL.
    let out = cli(&tmp)
        .args(["schema", "s3://public/nothing/"])
        .args(moto.options())
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        !out.status.success() && stderr.contains("s3://public/nothing/"),
        "{stderr}"
    );
    let out = cli(&tmp)
        .args([
            "schema",
            "s3://public/sample.parquet",
            "--storage-option",
            "aws_nope=1",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        !out.status.success() && stderr.contains("aws_nope"),
        "{stderr}"
    );
}
