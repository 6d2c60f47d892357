//! `pushdata push` and datasets that exist, end to end with the embedded reference server:
//! `--dry-run` (text and `--json`) writes nothing, a taken `--dataset` name is refused
//! naming the dataset and its id, `--if-exists update` keeps the id and applies
//! `--policy`, a file that does not match `--dataset-id` is refused in one line naming file,
//! table and columns, and `--folder` / `--description` reach the server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{ArrayRef, Float64Array, Int32Array, RecordBatch, StringArray};
use assert_cmd::Command;
use parquet::arrow::ArrowWriter;
use pushdata_core::wire::OBJECT_TYPE_DATASET;
use pushdata_core::{Client, Credentials, Folder};
use serde_json::Value;
use tempfile::TempDir;

const FOLDER: &str = "0123456789ABCDEF0123456789ABCDEF";

/// A data directory of the embedded server, and files to push into it.
struct Store {
    tmp: TempDir,
}

impl Store {
    fn new() -> Store {
        Store {
            tmp: TempDir::new().unwrap(),
        }
    }

    fn data_dir(&self) -> PathBuf {
        self.tmp.path().join("store")
    }

    /// `pushdata push ARGS --data-dir STORE`, with no PUSHDATA_* from the environment.
    fn push(&self, args: &[&str]) -> Output {
        Command::cargo_bin("pushdata")
            .unwrap()
            .current_dir(self.tmp.path())
            .env_remove("PUSHDATA_URL")
            .env_remove("PUSHDATA_USER")
            .env_remove("PUSHDATA_PASSWORD")
            .env_remove("PUSHDATA_PROJECT")
            .env_remove("RUST_LOG")
            .timeout(std::time::Duration::from_secs(120))
            .arg("push")
            .args(args)
            .arg("--data-dir")
            .arg(self.data_dir())
            .output()
            .unwrap()
    }

    /// A push that succeeds; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.push(args);
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(out.status.success(), "push {args:?} failed: {stderr}");
        String::from_utf8(out.stdout).unwrap()
    }

    /// A push with `--json` that succeeds: its one JSON line.
    fn json(&self, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.push("--json");
        let stdout = self.ok(&args);
        assert_eq!(stdout.lines().count(), 1, "{stdout}");
        serde_json::from_str(&stdout).unwrap()
    }

    /// A push that fails with exit code `code`: its one `error:` line (nothing else on
    /// stderr but progress lines, no panic).
    fn error(&self, args: &[&str], code: i32) -> String {
        let out = self.push(args);
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(code), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(errors.len(), 1, "one error line expected: {stderr}");
        let others = stderr
            .lines()
            .filter(|l| !l.starts_with("error:") && !l.starts_with("progress:"));
        assert_eq!(others.count(), 0, "{stderr}");
        errors[0].to_string()
    }

    /// The dataset ids in the store.
    fn datasets(&self) -> Vec<String> {
        let Ok(dir) = std::fs::read_dir(self.data_dir().join("datasets")) else {
            return Vec::new();
        };
        let mut ids: Vec<String> = dir
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        ids.sort();
        ids
    }

    /// The published `Category_DESC` and `Cost` of table `sales`, sorted.
    fn costs(&self, dataset_id: &str) -> Vec<(String, f64)> {
        let batches = pushdata_server::read_table(&self.data_dir(), dataset_id, "sales").unwrap();
        let mut out = Vec::new();
        for b in &batches {
            let names = b["Category_DESC"].as_string::<i32>();
            let costs = b["Cost"].as_primitive::<Float64Type>();
            for i in 0..b.num_rows() {
                out.push((names.value(i).to_string(), costs.value(i)));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    fn path(&self, name: &str) -> String {
        self.tmp.path().join(name).to_str().unwrap().to_string()
    }
}

fn sales() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/sales.parquet")
        .to_str()
        .unwrap()
        .to_string()
}

fn write_parquet(path: &str, columns: Vec<(&str, ArrayRef)>) {
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let mut w =
        ArrowWriter::try_new(std::fs::File::create(path).unwrap(), batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

/// A file shaped like `data/sales.parquet`: Movies (2016) updated, Games (2019) new.
fn more_sales(path: &str) {
    write_parquet(
        path,
        vec![
            ("Year", Arc::new(Int32Array::from(vec![2016, 2019]))),
            ("Category_ID", Arc::new(Int32Array::from(vec![2, 5]))),
            (
                "Category_DESC",
                Arc::new(StringArray::from(vec!["Movies", "Games"])),
            ),
            ("Cost", Arc::new(Float64Array::from(vec![2500.0, 100.0]))),
            ("Profit", Arc::new(Float64Array::from(vec![1.0, 3.0]))),
        ],
    );
}

#[test]
fn a_dry_run_prints_the_plan_and_writes_nothing() {
    let store = Store::new();
    let text = store.ok(&[&sales(), "--dry-run"]);
    assert!(text.starts_with("dry run: "), "{text}");
    assert!(
        text.contains("would create dataset \"sales\" in My Reports"),
        "{text}"
    );
    assert!(text.contains("total: 4 rows, 1 chunk"), "{text}");
    assert!(text.contains("attributes ("), "{text}");
    let plan = store.json(&[&sales(), "--dry-run"]);
    assert_eq!(plan["dryRun"], true);
    assert_eq!(plan["action"], "create");
    assert_eq!(plan["rows"], 4);
    assert_eq!(plan["tables"][0]["policy"], "replace");
    assert_eq!(plan["model"]["name"], "sales");
    assert_eq!(store.datasets(), Vec::<String>::new());

    // The push sends what the dry run counted.
    let pushed = store.json(&[&sales()]);
    assert_eq!(pushed["bytes"], plan["bytes"]);
    assert_eq!(pushed["chunks"], plan["chunks"]);
    let id = pushed["datasetId"].as_str().unwrap().to_string();
    let before = store.costs(&id);

    // A dry run into the dataset: its definition, the policy; the data stays.
    let more = store.path("more.parquet");
    more_sales(&more);
    let plan = store.json(&[
        &more,
        "--dataset-id",
        &id,
        "--table",
        "sales",
        "--policy",
        "upsert",
        "--dry-run",
    ]);
    assert_eq!(plan["action"], "update");
    assert_eq!(plan["datasetId"], id.as_str());
    assert_eq!(plan["tables"][0]["policy"], "upsert");
    let tables = &plan["definition"]["result"]["definition"]["availableObjects"]["tables"];
    assert_eq!(tables[0]["rowCount"], 4);
    let text = store.ok(&[&more, "--dataset-id", &id, "--table", "sales", "--dry-run"]);
    assert!(
        text.contains(&format!("would push into dataset \"sales\" (id {id})")),
        "{text}"
    );
    assert_eq!(store.datasets(), [id.as_str()]);
    assert_eq!(store.costs(&id), before);
}

#[test]
fn a_taken_name_is_refused_with_its_id_and_if_exists_update_keeps_it() {
    let store = Store::new();
    let id = store.json(&[&sales()])["datasetId"]
        .as_str()
        .unwrap()
        .to_string();
    let line = store.error(&[&sales()], 1);
    for needle in ["\"sales\"", &id, "My Reports", "--if-exists update"] {
        assert!(line.contains(needle), "{needle:?} not in {line}");
    }
    // a dry run makes the same check
    let line = store.error(&[&sales(), "--dry-run"], 1);
    assert!(line.contains(&id), "{line}");

    let more = store.path("more.parquet");
    more_sales(&more);
    let updated = store.json(&[
        &more,
        "--dataset",
        "sales",
        "--table",
        "sales",
        "--if-exists",
        "update",
        "--policy",
        "upsert",
    ]);
    assert_eq!(updated["datasetId"], id.as_str());
    // upsert on the key Category_DESC: Movies updated, Games added
    let costs = store.costs(&id);
    assert_eq!(costs.len(), 5, "{costs:?}");
    assert!(costs.contains(&("Movies".to_string(), 2500.0)), "{costs:?}");
    assert!(costs.contains(&("Games".to_string(), 100.0)), "{costs:?}");
    assert_eq!(store.datasets(), [id.as_str()]);

    // Another name is another dataset.
    let other = store.json(&[&sales(), "--dataset", "sales 2"]);
    assert_ne!(other["datasetId"], id.as_str());
}

#[test]
fn a_file_that_does_not_match_the_dataset_is_one_line_naming_file_table_and_columns() {
    let store = Store::new();
    let id = store.json(&[&sales()])["datasetId"]
        .as_str()
        .unwrap()
        .to_string();
    let changed = store.path("changed.parquet");
    write_parquet(
        &changed,
        vec![
            ("Year", Arc::new(Int32Array::from(vec![2020]))),
            ("Category_ID", Arc::new(Int32Array::from(vec![7]))),
            ("Category_DESC", Arc::new(StringArray::from(vec!["Toys"]))),
            ("Cost", Arc::new(StringArray::from(vec!["12.5"]))),
            ("Extra", Arc::new(Float64Array::from(vec![1.0]))),
        ],
    );
    for dry_run in [false, true] {
        let mut args = vec![changed.as_str(), "--dataset-id", &id, "--table", "sales"];
        if dry_run {
            args.push("--dry-run");
        }
        let line = store.error(&args, 1);
        for needle in [
            "changed.parquet",
            "table \"sales\"",
            "column \"Cost\" is STRING in the file, DOUBLE in the dataset",
            "column \"Extra\" (DOUBLE) of the file is not in the dataset",
            "column \"Profit\" (DOUBLE) of the dataset is not in the file",
            "3 differences",
        ] {
            assert!(line.contains(needle), "{needle:?} not in {line}");
        }
    }
    assert_eq!(store.costs(&id).len(), 4);
}

#[test]
fn folder_and_description_reach_the_server() {
    let store = Store::new();
    let id = store.json(&[
        &sales(),
        "--folder",
        FOLDER,
        "--description",
        "sales by year",
    ])["datasetId"]
        .as_str()
        .unwrap()
        .to_string();
    // The name is taken in the folder, not in My Reports.
    let line = store.error(&[&sales(), "--folder", FOLDER], 1);
    assert!(line.contains(&id) && line.contains(FOLDER), "{line}");
    let mine = store.json(&[&sales()])["datasetId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(mine, id);

    // What the server says about them.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let config = pushdata_server::ServerConfig::new(store.data_dir());
        let server = pushdata_server::Server::start(config).await.unwrap();
        let client = Client::builder(server.base_url()).build().unwrap();
        client
            .login(Credentials::standard("administrator", ""))
            .await
            .unwrap();
        client
            .select_project("MicroStrategy Tutorial")
            .await
            .unwrap();
        let info = client.object_info(&id, OBJECT_TYPE_DATASET).await.unwrap();
        assert_eq!(info.description.as_deref(), Some("sales by year"));
        assert_eq!(info.ancestors.unwrap()[0].id, FOLDER);
        let folder = Folder::Id(FOLDER.to_string());
        let there = client
            .find_in_folder(&folder, "sales", OBJECT_TYPE_DATASET)
            .await
            .unwrap();
        assert_eq!(there.len(), 1);
        assert_eq!(there[0].id, id);
        let here = client
            .find_in_folder(&Folder::MyReports, "sales", OBJECT_TYPE_DATASET)
            .await
            .unwrap();
        assert_eq!(here.len(), 1);
        assert_eq!(here[0].id, mine);
        client.logout().await.unwrap();
        server.shutdown().await.unwrap();
    });
}

#[test]
fn flags_of_a_new_dataset_do_not_go_with_dataset_id() {
    let store = Store::new();
    for flag in [
        &["--folder", FOLDER][..],
        &["--description", "x"],
        &["--if-exists", "update"],
    ] {
        let mut args = vec![sales()];
        args.extend(["--dataset-id", FOLDER].map(String::from));
        args.extend(flag.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = store.push(&args);
        assert_eq!(out.status.code(), Some(2), "{flag:?}");
    }
    let out = store.push(&[&sales(), "--single-request", "--description", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(store.datasets(), Vec::<String>::new());
}
