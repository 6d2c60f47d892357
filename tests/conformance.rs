//! The behaviour suite of the Push Data API, driven through `pushdata_core::Client`.
//!
//! By default every test runs against the reference server started on `127.0.0.1:0` with a
//! fresh data directory. Point the behaviour tests at another server (a real Intelligence
//! Server, say) with `PUSHDATA_CONFORMANCE_URL` (base URL ending in `/MicroStrategyLibrary`),
//! `PUSHDATA_CONFORMANCE_USER`, `PUSHDATA_CONFORMANCE_PASSWORD` and
//! `PUSHDATA_CONFORMANCE_PROJECT`; the tests that need to control the server (restart,
//! token expiry, a failing publish) always use the reference server. Published rows are read
//! back through the Cube API (`pushdata_arrow::Pull`), so the checks hold on any server.
//!
//! The suite covers both workflows with the seeds' own samples, every update
//! policy on overlapping keys, several tables with different policies in one session,
//! chunks out of order and re-sent, restart persistence, session expiry with re-login,
//! a failed publish, and bad input surfacing as `Error::Server` with the server's code,
//! message and ticket id.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use arrow_array::RecordBatch;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type};
use base64::Engine;
use pushdata::arrow::Pull;
use pushdata::core::wire::{
    ChunkBody, ColumnExpression, ColumnHeader, CreateDatasetResponse, DataType, DatasetCreator,
    DatasetModel, Form, Metric, Orientation, TableCreator, TableDefinition, UpdatePolicy,
    UploadSessionRequest, UploadSessionTable,
};
use pushdata::core::{Client, Credentials, Error};
use pushdata::server::{HookError, PublishHook, Server, ServerConfig, ServerHandle};

const PROJECT: &str = "MicroStrategy Tutorial";
/// How the seeds' SALES_TABLE is read: attributes Year and category (ID and DESC forms).
const SALES_ATTRIBUTES: &[&str] = &["Year", "category"];
const SALES_METRICS: &[&str] = &["Cost", "Profit"];

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates/pushdata-core/tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn b64(json: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(json)
}

/// Fails every publish between writing its files and the swap (a crash at the worst moment).
#[derive(Debug)]
struct FailBeforeSwap;

impl PublishHook for FailBeforeSwap {
    fn before_swap(&self, _dataset_id: &str, _version: u64) -> Result<(), HookError> {
        Err(HookError::new("fault injection"))
    }
}

struct Env {
    /// The reference server's data directory and handle (None against a remote server).
    dir: Option<tempfile::TempDir>,
    server: Option<ServerHandle>,
    client: Client,
}

impl Env {
    /// The server named by `PUSHDATA_CONFORMANCE_URL`, or else the reference server.
    async fn start() -> Env {
        let Ok(url) = std::env::var("PUSHDATA_CONFORMANCE_URL") else {
            return Self::start_local_with(|c| c).await;
        };
        let var = |k: &str, default: &str| std::env::var(k).unwrap_or_else(|_| default.into());
        let client = Client::builder(url).build().unwrap();
        client
            .login(Credentials::standard(
                var("PUSHDATA_CONFORMANCE_USER", "administrator"),
                var("PUSHDATA_CONFORMANCE_PASSWORD", ""),
            ))
            .await
            .unwrap();
        client
            .select_project(&var("PUSHDATA_CONFORMANCE_PROJECT", PROJECT))
            .await
            .unwrap();
        Env {
            dir: None,
            server: None,
            client,
        }
    }

    /// The reference server, configured by `f`.
    async fn start_local_with(f: impl Fn(ServerConfig) -> ServerConfig) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::start(f(ServerConfig::new(dir.path())))
            .await
            .unwrap();
        let client = login(server.base_url()).await;
        Env {
            dir: Some(dir),
            server: Some(server),
            client,
        }
    }

    /// Stop the reference server and start a new one on the same data directory (and a
    /// new port), its publishes running `hook` when one is given.
    async fn restart_with(&mut self, hook: Option<Arc<dyn PublishHook>>) {
        if let Some(s) = self.server.take() {
            s.shutdown().await.unwrap();
        }
        let dir = self
            .dir
            .as_ref()
            .expect("restart needs the reference server");
        let config = ServerConfig::new(dir.path());
        let server = match hook {
            Some(hook) => Server::start_with_hook(config, hook).await,
            None => Server::start(config).await,
        }
        .unwrap();
        self.client = login(server.base_url()).await;
        self.server = Some(server);
    }

    /// The published rows read through the Cube API, grouped by `attributes` (metrics
    /// summed), as sorted text lines `v1|v2|...` (nulls as `∅`).
    async fn rows(&self, dataset_id: &str, attributes: &[&str], metrics: &[&str]) -> Vec<String> {
        let mut pull = Pull::new(self.client.clone(), dataset_id).with_page_size(2);
        for a in attributes {
            pull = pull.with_attribute(*a);
        }
        for m in metrics {
            pull = pull.with_metric(*m);
        }
        let (_, batches) = pull.collect().await.unwrap();
        let mut rows = text_rows(&batches);
        rows.sort();
        rows
    }

    /// The rows of an `items` table (see [`items_model`]).
    async fn items(&self, dataset_id: &str, table: &str) -> Vec<String> {
        let n = |c: &str| item_name(table, c);
        self.rows(dataset_id, &[&n("id"), &n("name")], &[&n("value")])
            .await
    }

    async fn stop(mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown().await.unwrap();
        }
    }
}

async fn login(base_url: &str) -> Client {
    let client = Client::builder(base_url).build().unwrap();
    client
        .login(Credentials::standard("administrator", ""))
        .await
        .unwrap();
    client.select_project(PROJECT).await.unwrap();
    client
}

fn text_rows(batches: &[RecordBatch]) -> Vec<String> {
    let mut out = Vec::new();
    for b in batches {
        let cols: Vec<_> = b
            .columns()
            .iter()
            .map(|c| {
                arrow_cast_display(c.as_ref())
                    .into_iter()
                    .collect::<Vec<_>>()
            })
            .collect();
        for r in 0..b.num_rows() {
            out.push(
                cols.iter()
                    .map(|c| c[r].clone())
                    .collect::<Vec<_>>()
                    .join("|"),
            );
        }
    }
    out
}

/// Display the values of the column types this suite uses.
fn arrow_cast_display(a: &dyn arrow_array::Array) -> Vec<String> {
    use arrow_schema::DataType as A;
    (0..a.len())
        .map(|i| {
            if a.is_null(i) {
                return "∅".to_string();
            }
            match a.data_type() {
                A::Int32 => a.as_primitive::<Int32Type>().value(i).to_string(),
                A::Float64 => a.as_primitive::<Float64Type>().value(i).to_string(),
                A::Utf8 => a.as_string::<i32>().value(i).to_string(),
                A::Date32 => a
                    .as_primitive::<arrow_array::types::Date32Type>()
                    .value(i)
                    .to_string(),
                A::Time64(_) => a
                    .as_primitive::<arrow_array::types::Time64MicrosecondType>()
                    .value(i)
                    .to_string(),
                other => panic!("column type {other} not used by this suite"),
            }
        })
        .collect()
}

/// The attribute or metric name of column `column` of an `items` table: the column name
/// for the table `items`, prefixed with the table name otherwise (so that each table of a
/// multi-table dataset can be read on its own).
fn item_name(table: &str, column: &str) -> String {
    if table == "items" {
        column.to_string()
    } else {
        format!("{table}_{column}")
    }
}

/// A model of `items` tables: `id` (attribute, the key), `name` (attribute), `value`
/// (metric) in each.
fn items_model(name: &str, tables: &[&str]) -> DatasetModel {
    let expr = |t: &str, col: &str| vec![ColumnExpression::new(t, col)];
    let attr = |t: &str, col: &str| pushdata::core::wire::ModelAttribute {
        name: item_name(t, col),
        description: None,
        attribute_forms: vec![Form {
            category: "ID".into(),
            expressions: expr(t, col),
            data_type: None,
        }],
    };
    DatasetModel {
        name: name.to_string(),
        description: Some("conformance suite".into()),
        folder_id: None,
        tables: tables
            .iter()
            .map(|t| TableDefinition {
                name: t.to_string(),
                description: None,
                column_headers: vec![
                    ColumnHeader::new("id", DataType::Integer),
                    ColumnHeader::new("name", DataType::String),
                    ColumnHeader::new("value", DataType::Double),
                ],
            })
            .collect(),
        metrics: tables
            .iter()
            .map(|t| Metric {
                name: item_name(t, "value"),
                description: None,
                data_type: Some(DataType::Double),
                expressions: expr(t, "value"),
            })
            .collect(),
        attributes: tables
            .iter()
            .flat_map(|t| [attr(t, "id"), attr(t, "name")])
            .collect(),
    }
}

fn session(tables: &[(&str, UpdatePolicy, Orientation)]) -> UploadSessionRequest {
    UploadSessionRequest {
        tables: tables
            .iter()
            .map(|(name, policy, orientation)| UploadSessionTable {
                name: name.to_string(),
                update_policy: *policy,
                orientation: Some(*orientation),
                column_headers: Some(vec!["id".into(), "name".into(), "value".into()]),
            })
            .collect(),
    }
}

/// One session: upload `chunks` (table, index, JSON) and publish; returns the final status.
async fn upload(
    client: &Client,
    dataset_id: &str,
    tables: &[(&str, UpdatePolicy, Orientation)],
    chunks: &[(&str, u64, &str)],
) -> Result<(), Error> {
    let sid = client
        .create_upload_session(dataset_id, &session(tables))
        .await?;
    for (table, index, json) in chunks {
        let body = ChunkBody::from_base64(table, *index, b64(json).as_bytes());
        client.put_chunk(dataset_id, &sid, &body).await?;
    }
    client.publish(dataset_id, &sid).await?;
    client
        .wait_for_publish(dataset_id, &sid, &Default::default())
        .await?;
    Ok(())
}

/// A new one-table `items` dataset named `name`, published with the [`BASE`] rows.
async fn items_with_base(client: &Client, name: &str) -> String {
    let ds = client
        .create_model(&items_model(name, &["items"]))
        .await
        .unwrap()
        .id;
    upload(client, &ds, &ROW_REPLACE, &[("items", 1, BASE)])
        .await
        .unwrap();
    ds
}

/// The `items` table, ROW orientation, policy `replace`.
const ROW_REPLACE: [(&str, UpdatePolicy, Orientation); 1] =
    [("items", UpdatePolicy::Replace, Orientation::Row)];

const BASE: &str = r#"[[1,"a",1.5],[2,"b",2.5],[3,"c",3.5]]"#;
/// Overlaps the base on keys 2 and 3 (new metric values) and adds key 4.
const OVERLAP: &str = r#"[[2,"b",20.5],[3,"c",30.5],[4,"d",40.5]]"#;

#[tokio::test]
async fn single_request_workflow_with_the_seed_samples() {
    let env = Env::start().await;
    let creator: DatasetCreator =
        serde_json::from_str(&fixture("dataset_creator_001.json")).unwrap();
    let created: CreateDatasetResponse = env.client.create_dataset(&creator).await.unwrap();
    assert_eq!(created.name, "SALES_TABLE");
    assert_eq!(created.dataset_id.len(), 32);
    assert_eq!(created.tables.len(), 1);
    assert_eq!(
        env.rows(&created.dataset_id, SALES_ATTRIBUTES, SALES_METRICS)
            .await,
        [
            "2015|1|Books|1000|2000",
            "2016|2|Movies|2000|3000",
            "2017|3|Musics|3000|4000",
            "2018|4|Electronics|4000|5000",
        ]
    );

    // The seed's PATCH body, with its policy (Replace), by table id.
    let patch: TableCreator =
        serde_json::from_str(&fixture("table_creator_patch_001.json")).unwrap();
    env.client
        .update_table(
            &created.dataset_id,
            &created.tables[0].id,
            UpdatePolicy::Replace,
            &patch,
        )
        .await
        .unwrap();
    assert_eq!(
        env.rows(&created.dataset_id, SALES_ATTRIBUTES, SALES_METRICS)
            .await,
        [
            "2015|1|Books|1000|2000",
            "2016|5|Movies|2000|3000",
            "2017|3|Musics|6000|4000",
            "2019|4|Electronics|6000|6000",
        ]
    );

    // Upsert by table name: keys (Year, Category_ID, Category_DESC) feed attributes.
    let mut more = patch.clone();
    more.data = b64(
        r#"[{"Year":2015,"Category_ID":1,"Category_DESC":"Books","Cost":1.0,"Profit":2.0},
                      {"Year":2020,"Category_ID":6,"Category_DESC":"Games","Cost":7.0,"Profit":8.0}]"#,
    );
    env.client
        .update_table(
            &created.dataset_id,
            "SALES_TABLE",
            UpdatePolicy::Upsert,
            &more,
        )
        .await
        .unwrap();
    assert_eq!(
        env.rows(&created.dataset_id, SALES_ATTRIBUTES, SALES_METRICS)
            .await,
        [
            "2015|1|Books|1|2",
            "2016|5|Movies|2000|3000",
            "2017|3|Musics|6000|4000",
            "2019|4|Electronics|6000|6000",
            "2020|6|Games|7|8",
        ]
    );
    env.client.logout().await.unwrap();
    env.stop().await;
}

#[tokio::test]
async fn multi_request_workflow_with_the_seed_samples() {
    let env = Env::start().await;
    let model: DatasetModel = serde_json::from_str(&fixture("dataset_model_003.json")).unwrap();
    let created = env.client.create_model(&model).await.unwrap();
    assert_eq!(created.name, "testModel");
    let request: UploadSessionRequest =
        serde_json::from_str(&fixture("upload_session_request_003.json")).unwrap();
    let sid = env
        .client
        .create_upload_session(&created.id, &request)
        .await
        .unwrap();
    // The seed's chunk body verbatim (index given as the string "1").
    let chunk: serde_json::Value =
        serde_json::from_str(&fixture("chunk_request_003.json")).unwrap();
    let body = ChunkBody::from_base64(
        chunk["tableName"].as_str().unwrap(),
        1,
        chunk["data"].as_str().unwrap().as_bytes(),
    );
    env.client
        .put_chunk(&created.id, &sid, &body)
        .await
        .unwrap();
    env.client.publish(&created.id, &sid).await.unwrap();
    let status = env
        .client
        .wait_for_publish(&created.id, &sid, &Default::default())
        .await
        .unwrap();
    assert!(status.status.is_ready());
    assert_eq!(status.message, "result ready");
    // [[1,"2017-12-4","11:00:00","Books",100.52]]: Date32 17504 = 2017-12-04, 11:00 in µs.
    assert_eq!(
        env.rows(&created.id, &["ID", "Date", "Time", "Category"], &["Cost"])
            .await,
        ["1|17504|39600000000|Books|100.52"]
    );
    // table2 was in the session with policy add and got no rows.
    assert!(
        env.rows(&created.id, &["Year", "DateTime"], &["Profit"])
            .await
            .is_empty()
    );
    env.client
        .cancel_upload_session(&created.id, &sid)
        .await
        .unwrap();
    env.stop().await;
}

#[tokio::test]
async fn every_policy_on_overlapping_keys_in_both_orientations() {
    let env = Env::start().await;
    let expected: BTreeMap<UpdatePolicy, Vec<&str>> = [
        (
            UpdatePolicy::Replace,
            vec!["2|b|20.5", "3|c|30.5", "4|d|40.5"],
        ),
        (
            UpdatePolicy::Add,
            vec!["1|a|1.5", "2|b|2.5", "3|c|3.5", "4|d|40.5"],
        ),
        (
            UpdatePolicy::Update,
            vec!["1|a|1.5", "2|b|20.5", "3|c|30.5"],
        ),
        (
            UpdatePolicy::Upsert,
            vec!["1|a|1.5", "2|b|20.5", "3|c|30.5", "4|d|40.5"],
        ),
    ]
    .into_iter()
    .collect();
    for orientation in [Orientation::Row, Orientation::Column] {
        let (base, overlap) = match orientation {
            Orientation::Row => (BASE.to_string(), OVERLAP.to_string()),
            Orientation::Column => (
                r#"[[1,2,3],["a","b","c"],[1.5,2.5,3.5]]"#.to_string(),
                r#"[[2,3,4],["b","c","d"],[20.5,30.5,40.5]]"#.to_string(),
            ),
        };
        for (policy, rows) in &expected {
            let ds = env
                .client
                .create_model(&items_model(&format!("{policy} {orientation}"), &["items"]))
                .await
                .unwrap()
                .id;
            let t = |p| [("items", p, orientation)];
            upload(
                &env.client,
                &ds,
                &t(UpdatePolicy::Replace),
                &[("items", 1, &base)],
            )
            .await
            .unwrap();
            upload(&env.client, &ds, &t(*policy), &[("items", 1, &overlap)])
                .await
                .unwrap();
            assert_eq!(
                env.items(&ds, "items").await,
                *rows,
                "{policy} {orientation}"
            );
        }
    }
    env.stop().await;
}

#[tokio::test]
async fn several_tables_with_different_policies_in_one_session() {
    let env = Env::start().await;
    let ds = env
        .client
        .create_model(&items_model("two tables", &["t1", "t2"]))
        .await
        .unwrap()
        .id;
    let r = Orientation::Row;
    upload(
        &env.client,
        &ds,
        &[
            ("t1", UpdatePolicy::Replace, r),
            ("t2", UpdatePolicy::Replace, r),
        ],
        &[("t1", 1, BASE), ("t2", 1, BASE)],
    )
    .await
    .unwrap();
    upload(
        &env.client,
        &ds,
        &[
            ("t1", UpdatePolicy::Add, r),
            ("t2", UpdatePolicy::Update, r),
        ],
        &[("t1", 1, OVERLAP), ("t2", 1, OVERLAP)],
    )
    .await
    .unwrap();
    assert_eq!(
        env.items(&ds, "t1").await,
        ["1|a|1.5", "2|b|2.5", "3|c|3.5", "4|d|40.5"]
    );
    assert_eq!(
        env.items(&ds, "t2").await,
        ["1|a|1.5", "2|b|20.5", "3|c|30.5"]
    );
    env.stop().await;
}

#[tokio::test]
async fn chunks_out_of_order_concurrent_and_resent() {
    let env = Env::start().await;
    let ds = env
        .client
        .create_model(&items_model("chunks", &["items"]))
        .await
        .unwrap()
        .id;
    let sid = env
        .client
        .create_upload_session(&ds, &session(&ROW_REPLACE))
        .await
        .unwrap();
    let chunk = |i: u64, json: &str| ChunkBody::from_base64("items", i, b64(json).as_bytes());
    // Index 3 first, 1 and 2 concurrently, then 2 again with other rows (a retry replaces).
    env.client
        .put_chunk(&ds, &sid, &chunk(3, r#"[[5,"e",5.5]]"#))
        .await
        .unwrap();
    let (c1, c2) = (chunk(1, r#"[[1,"a",1.5]]"#), chunk(2, r#"[[9,"x",9.5]]"#));
    let (a, b) = tokio::join!(
        env.client.put_chunk(&ds, &sid, &c1),
        env.client.put_chunk(&ds, &sid, &c2),
    );
    a.unwrap();
    b.unwrap();
    env.client
        .put_chunk(&ds, &sid, &chunk(2, r#"[[2,"b",2.5],[3,"c",3.5]]"#))
        .await
        .unwrap();
    env.client.publish(&ds, &sid).await.unwrap();
    env.client
        .wait_for_publish(&ds, &sid, &Default::default())
        .await
        .unwrap();
    assert_eq!(
        env.items(&ds, "items").await,
        ["1|a|1.5", "2|b|2.5", "3|c|3.5", "5|e|5.5"]
    );
    env.stop().await;
}

#[tokio::test]
async fn published_data_survives_a_restart() {
    let mut env = Env::start_local_with(|c| c).await;
    let ds = items_with_base(&env.client, "durable").await;
    env.restart_with(None).await;
    assert_eq!(
        env.items(&ds, "items").await,
        ["1|a|1.5", "2|b|2.5", "3|c|3.5"]
    );
    // The dataset is still known to the new server process: it accepts an upsert.
    let up = [("items", UpdatePolicy::Upsert, Orientation::Row)];
    upload(&env.client, &ds, &up, &[("items", 1, OVERLAP)])
        .await
        .unwrap();
    assert_eq!(
        env.items(&ds, "items").await,
        ["1|a|1.5", "2|b|20.5", "3|c|30.5", "4|d|40.5"]
    );
    env.stop().await;
}

#[tokio::test]
async fn an_expired_session_logs_in_again_transparently() {
    let env =
        Env::start_local_with(|c| c.with_token_idle_timeout(Duration::from_millis(300))).await;
    let before = env.client.projects().await.unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    // The token has expired on the server; the client logs in once more and retries.
    let after = env.client.projects().await.unwrap();
    assert_eq!(before, after);
    let ds = env
        .client
        .create_model(&items_model("after expiry", &["items"]))
        .await
        .unwrap();
    assert_eq!(ds.name, "after expiry");
    env.stop().await;
}

#[tokio::test]
async fn wrong_password_is_a_401_without_the_password_in_the_error() {
    let env = Env::start_local_with(|c| {
        c.with_user("administrator", "")
            .with_user("analyst", "correct horse")
    })
    .await;
    let client = Client::builder(env.server.as_ref().unwrap().base_url())
        .build()
        .unwrap();
    let err = client
        .login(Credentials::standard("analyst", "Tr0ub4dor&3"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401), "{err}");
    assert!(!format!("{err} {err:?}").contains("Tr0ub4dor&3"));
    client
        .login(Credentials::standard("analyst", "correct horse"))
        .await
        .unwrap();
    env.stop().await;
}

#[tokio::test]
async fn bad_chunks_surface_the_server_error_and_change_nothing() {
    let env = Env::start().await;
    let ds = items_with_base(&env.client, "bad input").await;
    let sid = env
        .client
        .create_upload_session(&ds, &session(&ROW_REPLACE))
        .await
        .unwrap();
    let cases: [(Vec<u8>, &[&str]); 4] = [
        (b"%%% not base64 %%%".to_vec(), &["base64"]),
        (b64("[[1,\"a\"").into_bytes(), &["JSON"]),
        (b64(r#"[[1,"a"]]"#).into_bytes(), &["row 1"]),
        (
            b64(r#"[[1,"a",1.5],["two","b",2.5]]"#).into_bytes(),
            &["row 2", "id"],
        ),
    ];
    for (data, needles) in cases {
        let err = env
            .client
            .put_chunk(&ds, &sid, &ChunkBody::from_base64("items", 7, &data))
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(400), "{err}");
        let body = err.server_error().unwrap();
        assert!(body.code.is_some() && body.ticket_id.is_some(), "{body:?}");
        for n in needles {
            assert!(body.message.contains(n), "{:?} lacks {n:?}", body.message);
        }
        // The client names the table and chunk index.
        assert!(err.to_string().contains("chunk 7"), "{err}");
    }
    // Unknown table in the chunk body: 4xx naming it.
    let err = env
        .client
        .put_chunk(
            &ds,
            &sid,
            &ChunkBody::from_base64("nosuch", 1, b64(BASE).as_bytes()),
        )
        .await
        .unwrap_err();
    assert!(matches!(err.status(), Some(400 | 404)), "{err}");
    assert!(err.server_error().unwrap().message.contains("nosuch"));
    env.client.cancel_upload_session(&ds, &sid).await.unwrap();
    assert_eq!(
        env.items(&ds, "items").await,
        ["1|a|1.5", "2|b|2.5", "3|c|3.5"]
    );
    env.stop().await;
}

#[tokio::test]
async fn a_failed_publish_is_an_error_and_keeps_the_old_version() {
    let mut env = Env::start_local_with(|c| c).await;
    let ds = items_with_base(&env.client, "failing").await;
    // Restart with a hook that fails every publish between staging and the swap.
    env.restart_with(Some(Arc::new(FailBeforeSwap))).await;
    let err = upload(&env.client, &ds, &ROW_REPLACE, &[("items", 1, OVERLAP)])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PublishFailed { .. }), "{err}");
    assert_eq!(
        env.items(&ds, "items").await,
        ["1|a|1.5", "2|b|2.5", "3|c|3.5"]
    );
    env.stop().await;
}
