//! The reference server's Veracity emulation on 127.0.0.1:0, a client of it, and the
//! table the Veracity tests push: (Id, Name, Speed) rows.

use std::sync::Arc;
use std::time::Duration;

use arrow_array::{Array, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use pushdata_arrow::veracity::{ColumnType, Operation, SchemaColumn, VeracityPull, VeracityPush};
use pushdata_core::veracity::{Client, JobWait};
use pushdata_core::{BackoffConfig, RetryConfig};
use pushdata_server::{
    DEFAULT_VERACITY_CLIENT_ID, DEFAULT_VERACITY_CLIENT_SECRET, DEFAULT_VERACITY_SUBSCRIPTION_KEY,
    Server, ServerConfig, ServerHandle,
};

pub(crate) const WS: &str = "5f1c2d3e-0000-4000-a000-000000000001";
pub(crate) const GATEWAY: &str = "/veracity/dw/gateway/api/v2";

/// The reference server on 127.0.0.1:0 and a client of its Veracity emulation.
pub(crate) struct Env {
    pub(crate) client: Client,
    /// The server's origin, `http://127.0.0.1:PORT`.
    pub(crate) root: String,
    _handle: ServerHandle,
    _dir: tempfile::TempDir,
}

pub(crate) async fn start() -> Env {
    start_with(|c| c).await
}

/// The reference server configured by `f`, and a client of its Veracity emulation.
pub(crate) async fn start_with(f: impl FnOnce(ServerConfig) -> ServerConfig) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let config = f(ServerConfig::new(dir.path()).with_addr("127.0.0.1:0".parse().unwrap()));
    let handle = Server::start(config).await.unwrap();
    let root = format!("http://{}", handle.addr());
    Env {
        client: client_at(&root),
        root,
        _handle: handle,
        _dir: dir,
    }
}

/// A client of the emulation (or of a proxy in front of it) at `root`, with quick retries.
pub(crate) fn client_at(root: &str) -> Client {
    Client::builder(WS)
        .with_base_url(format!("{root}{GATEWAY}"))
        .with_token_url(format!("{root}/tenant/oauth2/token"))
        .with_credentials(DEFAULT_VERACITY_CLIENT_ID, DEFAULT_VERACITY_CLIENT_SECRET)
        .with_subscription_key(DEFAULT_VERACITY_SUBSCRIPTION_KEY)
        .with_retry(
            RetryConfig::default().with_backoff(
                BackoffConfig::default()
                    .with_init_backoff(Duration::from_millis(10))
                    .with_max_backoff(Duration::from_millis(50)),
            ),
        )
        .build()
        .unwrap()
}

pub(crate) fn wait() -> JobWait {
    JobWait::default().with_poll(
        BackoffConfig::default()
            .with_init_backoff(Duration::from_millis(10))
            .with_max_backoff(Duration::from_millis(50)),
    )
}

pub(crate) fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("Id", DataType::Int64, false),
        Field::new("Name", DataType::Utf8, true),
        Field::new("Speed", DataType::Float64, true),
    ]))
}

pub(crate) fn batch(ids: &[i64], speed: f64) -> RecordBatch {
    let names: Vec<Option<String>> = ids.iter().map(|i| Some(format!("n{i}"))).collect();
    let speeds: Vec<f64> = ids.iter().map(|&i| i as f64 + speed).collect();
    RecordBatch::try_new(
        schema(),
        vec![
            Arc::new(Int64Array::from(ids.to_vec())),
            Arc::new(StringArray::from(names)),
            Arc::new(Float64Array::from(speeds)),
        ],
    )
    .unwrap()
}

pub(crate) fn columns(keyed: bool) -> Vec<SchemaColumn> {
    vec![
        SchemaColumn::new("Id", ColumnType::Int64).with_key(keyed),
        SchemaColumn::new("Name", ColumnType::String),
        SchemaColumn::new("Speed", ColumnType::Double),
    ]
}

/// Create a dataset from `batches`, keyed on Id or not; its id.
pub(crate) async fn create(env: &Env, batches: Vec<RecordBatch>, keyed: bool) -> String {
    let mut push = VeracityPush::create(env.client.clone(), "Wind")
        .with_batches(schema(), batches)
        .with_job_wait(wait());
    if keyed {
        push = push.with_key("Id");
    }
    let report = push.await.unwrap();
    assert_eq!(report.operation, Operation::Create);
    report.dataset_id
}

/// The dataset's rows as (id, speed), sorted by id.
pub(crate) async fn rows(env: &Env, dataset_id: &str, keyed: bool) -> Vec<(i64, f64)> {
    let (_, batches) = VeracityPull::new(env.client.clone(), dataset_id)
        .with_columns(columns(keyed))
        .with_page_size(3)
        .collect()
        .await
        .unwrap();
    let mut out = Vec::new();
    for b in &batches {
        let ids = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        let speeds = b.column(2).as_any().downcast_ref::<Float64Array>().unwrap();
        out.extend((0..b.num_rows()).map(|i| (ids.value(i), speeds.value(i))));
    }
    out.sort_by_key(|r| r.0);
    out
}
