//! Faults between the client and the reference server (all on 127.0.0.1): connections
//! reset mid-chunk, answers stalled past the client's timeout or dropped after the server
//! carried the call out, 503/429 with `Retry-After` for a while, a session or bearer token
//! that expires mid-upload, a full staging area. Each push either completes with exactly
//! its input rows, read back from the server, or fails with an error naming the cause and
//! the dataset's previous version intact; never a partial version.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use arrow_array::{Float64Array, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use arrow_select::concat::concat_batches;
use common::Env;
use common::tcp_proxy::{Rule, TcpFault, TcpProxy};
use pushdata_arrow::{Error, Push};
use pushdata_core::wire::UpdatePolicy;
use pushdata_core::{BackoffConfig, Client, Credentials, PublishWait, RetryConfig};

const TABLE: &str = "t";

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("v", DataType::Float64, false),
    ]))
}

/// Rows `from..to` in batches of 500, `v = id + offset`.
fn rows(from: i64, to: i64, offset: f64) -> Vec<RecordBatch> {
    (from..to)
        .step_by(500)
        .map(|start| {
            let ids: Vec<i64> = (start..(start + 500).min(to)).collect();
            let vs: Vec<f64> = ids.iter().map(|&i| i as f64 + offset).collect();
            RecordBatch::try_new(
                schema(),
                vec![
                    Arc::new(Int64Array::from(ids)),
                    Arc::new(Float64Array::from(vs)),
                ],
            )
            .unwrap()
        })
        .collect()
}

/// Quick retries, a short per-request timeout (for the stalled answers).
fn retry() -> RetryConfig {
    RetryConfig::default()
        .with_retry_timeout(Duration::from_secs(30))
        .with_backoff(
            BackoffConfig::default()
                .with_init_backoff(Duration::from_millis(10))
                .with_max_backoff(Duration::from_millis(50)),
        )
}

fn quick_publish_wait() -> PublishWait {
    PublishWait::default().with_backoff(
        BackoffConfig::default()
            .with_init_backoff(Duration::from_millis(10))
            .with_max_backoff(Duration::from_millis(50)),
    )
}

/// A client logged in through `proxy` to the server of `env`.
async fn client_via(env: &Env, proxy: &TcpProxy) -> Client {
    client_with(env, proxy, retry()).await
}

/// A client logged in through `proxy` to the server of `env`, retrying per `retry`.
async fn client_with(env: &Env, proxy: &TcpProxy, retry: RetryConfig) -> Client {
    let origin = format!("http://{}", env.server.as_ref().unwrap().addr());
    let base = env.base_url().replacen(&origin, &proxy.url(), 1);
    let client = Client::builder(base)
        .with_timeout(Duration::from_millis(1500))
        .with_retry(retry)
        .build()
        .unwrap();
    client
        .login(Credentials::standard("administrator", ""))
        .await
        .unwrap();
    client
        .select_project("MicroStrategy Tutorial")
        .await
        .unwrap();
    client
}

async fn proxied(env: &Env) -> (TcpProxy, Client) {
    let proxy = TcpProxy::start(env.server.as_ref().unwrap().addr()).await;
    let client = client_via(env, &proxy).await;
    (proxy, client)
}

/// Create a dataset with `batches` (several chunks) through `client`.
async fn create(client: &Client, batches: Vec<RecordBatch>) -> pushdata_arrow::Result<String> {
    Push::create(client.clone(), "faults")
        .with_memory_table(TABLE, schema(), batches)
        .with_chunk_bytes(16 * 1024)
        .with_publish_wait(quick_publish_wait())
        .await
        .map(|r| r.dataset_id)
}

/// Replace the rows of `dataset_id` with `batches` through `client`.
async fn replace(
    client: &Client,
    dataset_id: &str,
    batches: Vec<RecordBatch>,
) -> pushdata_arrow::Result<()> {
    Push::into_dataset(client.clone(), dataset_id)
        .with_memory_table(TABLE, schema(), batches)
        .with_policy(UpdatePolicy::Replace)
        .with_chunk_bytes(16 * 1024)
        .with_publish_wait(quick_publish_wait())
        .await
        .map(drop)
}

/// The published table equals `want`, row for row.
fn assert_rows(env: &Env, dataset_id: &str, want: &[RecordBatch]) {
    let got = env.read(dataset_id, TABLE);
    let got = concat_batches(&got[0].schema(), &got).unwrap();
    let want = concat_batches(&schema(), want).unwrap();
    assert_eq!(got.num_rows(), want.num_rows());
    for i in 0..2 {
        let got = arrow_cast::cast(got.column(i), want.column(i).data_type()).unwrap();
        assert_eq!(got.to_data(), want.column(i).to_data(), "column {i}");
    }
}

/// Create 0..5000 through a proxy with `rules`; the push completes with exactly its rows
/// and every rule fired.
async fn survives(rules: Vec<Rule>) {
    let env = Env::start().await;
    let (proxy, client) = proxied(&env).await;
    let n = rules.iter().map(|r| r.times).sum::<usize>();
    for rule in rules {
        proxy.inject(rule);
    }
    let input = rows(0, 5000, 0.5);
    let id = create(&client, input.clone()).await.unwrap();
    assert_eq!(proxy.faults(), n, "{:?}", proxy.seen());
    assert_rows(&env, &id, &input);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunk_reset_mid_body_is_sent_again() {
    survives(vec![
        Rule::new(
            "PUT",
            "/uploadSessions/",
            1,
            TcpFault::ResetAfterBodyBytes(1000),
        )
        .after(1),
        Rule::new(
            "PUT",
            "/uploadSessions/",
            1,
            TcpFault::ResetAfterBodyBytes(0),
        )
        .after(4),
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunk_answer_stalled_past_the_timeout_is_sent_again() {
    survives(vec![
        Rule::new("PUT", "/uploadSessions/", 1, TcpFault::StallResponse).after(2),
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_chunk_answer_is_sent_again() {
    survives(vec![
        Rule::new("PUT", "/uploadSessions/", 2, TcpFault::DropResponse).after(1),
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_status_poll_dropped_or_stalled_is_sent_again() {
    survives(vec![
        Rule::new("GET", "/publishStatus", 1, TcpFault::DropResponse),
        Rule::new("GET", "/publishStatus", 1, TcpFault::ResetBeforeRequest).after(1),
    ])
    .await;
}

/// 503 and 429 say "not processed": the model POST, chunk PUTs and the publish POST are
/// all sent again after the time `Retry-After` names (seconds or an HTTP date), or after
/// the backoff without it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_answers_on_model_chunk_and_publish_are_waited_out() {
    let answer = |status, after: Option<&str>| TcpFault::Answer {
        status,
        retry_after: after.map(str::to_string),
    };
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    survives(vec![
        Rule::new("POST", "/datasets/models", 2, answer(503, Some("1"))),
        Rule::new("PUT", "/uploadSessions/", 3, answer(429, None)).after(1),
        Rule::new("POST", "/publish", 1, answer(503, Some(&date))),
        Rule::new("POST", "/publish", 1, answer(429, Some("0"))).after(1),
    ])
    .await;
}

/// The publish's answer is lost after the server received it: the push asks the server
/// the publish status, which says it is running or done, and completes with exactly the
/// new rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_publish_answer_is_settled_by_the_publish_status() {
    let env = Env::start().await;
    let id = create(&env.client, rows(0, 1000, 0.0)).await.unwrap();
    let (proxy, client) = proxied(&env).await;
    proxy.inject(Rule::new("POST", "/publish", 1, TcpFault::DropResponse));
    let new = rows(0, 5000, 0.75);
    replace(&client, &id, new.clone()).await.unwrap();
    assert_eq!(proxy.faults(), 1, "{:?}", proxy.seen());
    assert_eq!(
        publishes(&proxy),
        1,
        "sent once: the status said it arrived"
    );
    assert_rows(&env, &id, &new);
    env.stop().await;
}

/// How many publish requests the proxy saw.
fn publishes(proxy: &TcpProxy) -> usize {
    proxy
        .seen()
        .iter()
        .filter(|s| s.method == "POST" && s.path.ends_with("/publish"))
        .count()
}

/// A publish reset before the server read it: the status says the session is still open
/// (the publish never started), so the push sends it once more and completes with exactly
/// the new rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_reset_before_the_server_read_it_is_sent_again_when_the_status_says_open() {
    let env = Env::start().await;
    let id = create(&env.client, rows(0, 1000, 0.0)).await.unwrap();
    let (proxy, client) = proxied(&env).await;
    proxy.inject(Rule::new(
        "POST",
        "/publish",
        1,
        TcpFault::ResetBeforeRequest,
    ));
    let new = rows(0, 5000, 0.75);
    replace(&client, &id, new.clone()).await.unwrap();
    assert_eq!(publishes(&proxy), 2, "{:?}", proxy.seen());
    assert_rows(&env, &id, &new);
    env.stop().await;
}

/// When the server cannot be asked either (every publish-status poll is lost, and the
/// client gives up retrying), the push says the outcome is unknown, naming dataset and
/// session; the dataset holds exactly the previous or exactly the new version. Once with
/// the publish answer lost too, once with only the polls lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_whose_status_cannot_be_read_is_an_unknown_outcome_never_a_partial_version() {
    for lose_publish_answer in [true, false] {
        let env = Env::start().await;
        let old = rows(0, 1000, 0.0);
        let id = create(&env.client, old.clone()).await.unwrap();
        let proxy = TcpProxy::start(env.server.as_ref().unwrap().addr()).await;
        let client = client_with(&env, &proxy, retry().with_max_retries(2)).await;
        if lose_publish_answer {
            proxy.inject(Rule::new("POST", "/publish", 1, TcpFault::DropResponse));
        }
        proxy.inject(Rule::new(
            "GET",
            "/publishStatus",
            usize::MAX / 2,
            TcpFault::ResetBeforeRequest,
        ));
        let new = rows(0, 5000, 0.75);
        let err = replace(&client, &id, new.clone()).await.unwrap_err();
        let Error::PublishOutcomeUnknown {
            dataset_id: Some(d),
            session_id: Some(s),
            source: Some(_),
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!(d, &id);
        assert!(!s.is_empty());
        let got = env.read(&id, TABLE);
        let count: usize = got.iter().map(RecordBatch::num_rows).sum();
        if count == 1000 {
            assert_rows(&env, &id, &old);
        } else {
            assert_rows(&env, &id, &new);
        }
        env.stop().await;
    }
}

/// The staging area fills up (a small disk quota and no memory for staged chunks): the
/// push fails naming the chunk and the server's 507, and the previous version is intact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_staging_area_fails_the_push_and_keeps_the_previous_version() {
    let env = Env::start_with(|c| {
        c.with_staging_memory_bytes(0)
            .with_staging_disk_bytes(64 * 1024)
    })
    .await;
    let old = rows(0, 1000, 0.0);
    let id = create(&env.client, old.clone()).await.unwrap();
    let err = replace(&env.client, &id, rows(0, 20_000, 0.75))
        .await
        .unwrap_err();
    let Error::Chunk { table, source, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(table, TABLE);
    assert_eq!(source.status(), Some(507), "{err}");
    assert!(!err.is_publish_outcome_unknown());
    assert_rows(&env, &id, &old);
    env.stop().await;
}

/// Batches of `rows`, the source pausing `pause` before each one after the first (a slow
/// reader: the session sits idle meanwhile).
fn slow(batches: Vec<RecordBatch>, pause: Duration) -> impl Iterator<Item = RecordBatch> + Send {
    batches.into_iter().enumerate().map(move |(i, b)| {
        if i > 0 {
            std::thread::sleep(pause);
        }
        b
    })
}

/// The session token expires (idle timeout) while a slow source is read. The client logs
/// in again, but the server drops an upload session with the login it was opened under
/// (as a real server's session does), so the push cannot go on: it fails on a chunk,
/// publishes nothing and deletes the dataset it created. (It completes with exactly its
/// rows if the session survives.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_token_expiring_mid_upload_never_publishes_part() {
    let env = Env::start_with(|c| c.with_token_idle_timeout(Duration::from_millis(400))).await;
    let (proxy, client) = proxied(&env).await;
    let input = rows(0, 2000, 0.5);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let result = Push::create(client.clone(), "expiring")
        .with_batches_table(
            TABLE,
            schema(),
            slow(input.clone(), Duration::from_millis(700)),
        )
        .with_chunk_bytes(16 * 1024)
        .with_publish_wait(quick_publish_wait())
        .with_progress_channel(tx)
        .await;
    let logins = proxy
        .seen()
        .iter()
        .filter(|s| s.method == "POST" && s.path.ends_with("/auth/login"))
        .count();
    assert!(logins > 1, "the client logged in again: {:?}", proxy.seen());
    match result {
        Ok(report) => assert_rows(&env, &report.dataset_id, &input),
        Err(err) => {
            assert!(matches!(err, Error::Chunk { .. }), "{err:?}");
            assert!(!err.is_publish_outcome_unknown(), "{err:?}");
            let mut created = None;
            while let Ok(e) = rx.try_recv() {
                if let pushdata_arrow::ProgressEvent::DatasetCreated { dataset_id } = e {
                    created = Some(dataset_id);
                }
            }
            let id = created.unwrap();
            let gone = env.client.cube_definition(&id).await.unwrap_err();
            assert_eq!(gone.status(), Some(404), "{gone:?}");
        }
    }
    env.stop().await;
}

/// The published rows of a table, counted.
fn count(env: &Env, dataset_id: &str) -> usize {
    env.read(dataset_id, TABLE)
        .iter()
        .map(RecordBatch::num_rows)
        .sum()
}

/// Whether `err` is the server's 507 for its full data directory, on a chunk.
fn is_full_on_a_chunk(err: &Error) -> bool {
    matches!(err, Error::Chunk { table, source, .. }
        if table == TABLE && source.status() == Some(507))
}

/// The data directory fills up (a data quota) while chunks are staged as files: the push
/// fails on a chunk with the server's 507, the previous version reads back intact, and a
/// later push that fits succeeds with exactly its rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_data_directory_during_staging_fails_the_push_and_keeps_the_previous_version() {
    let env = Env::start_with(|c| {
        c.with_staging_memory_bytes(0)
            .with_data_quota_bytes(160 * 1024)
    })
    .await;
    let old = rows(0, 1000, 0.0);
    let id = create(&env.client, old.clone()).await.unwrap();
    let err = replace(&env.client, &id, rows(0, 40_000, 0.75))
        .await
        .unwrap_err();
    assert!(is_full_on_a_chunk(&err), "{err:?}");
    assert!(!err.is_publish_outcome_unknown());
    assert_rows(&env, &id, &old);
    let fits = rows(0, 1500, 0.25);
    replace(&env.client, &id, fits.clone()).await.unwrap();
    assert_rows(&env, &id, &fits);
    env.stop().await;
}

/// The data directory fills up while the publish writes the new version (the chunks are
/// staged in memory): the publish fails, reported by its status with the quota, nothing is
/// swapped in, the new files are removed, and a later push that fits succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_data_directory_during_publish_fails_it_and_keeps_the_previous_version() {
    let env = Env::start_with(|c| c.with_data_quota_bytes(160 * 1024)).await;
    let old = rows(0, 1000, 0.0);
    let id = create(&env.client, old.clone()).await.unwrap();
    // 60,000 rows: about 230 KB as a table file (the ids are delta-packed to almost
    // nothing, the values snappy-compressed to about half).
    let err = replace(&env.client, &id, rows(0, 60_000, 0.75))
        .await
        .unwrap_err();
    let Error::Api { source, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(
        matches!(**source, pushdata_core::Error::PublishFailed { .. }),
        "{err:?}"
    );
    assert!(!err.is_publish_outcome_unknown());
    assert_rows(&env, &id, &old);
    assert_eq!(count(&env, &id), 1000);
    let fits = rows(0, 1500, 0.25);
    replace(&env.client, &id, fits.clone()).await.unwrap();
    assert_rows(&env, &id, &fits);
    env.stop().await;
}

/// The session token and the upload session expire after 400 ms idle, and the source
/// pauses 700 ms between batches: with a keep-alive request every 100 ms of waiting, the
/// login and the upload session stay alive and the push completes with exactly its rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_source_keeps_the_session_alive_and_the_push_completes() {
    let env = Env::start_with(|c| {
        c.with_token_idle_timeout(Duration::from_millis(400))
            .with_upload_session_idle_timeout(Duration::from_millis(400))
    })
    .await;
    let (proxy, client) = proxied(&env).await;
    let input = rows(0, 2000, 0.5);
    let report = Push::create(client.clone(), "kept alive")
        .with_batches_table(
            TABLE,
            schema(),
            slow(input.clone(), Duration::from_millis(700)),
        )
        .with_chunk_bytes(16 * 1024)
        .with_publish_wait(quick_publish_wait())
        .with_session_keepalive(Duration::from_millis(100))
        .await
        .unwrap();
    assert_rows(&env, &report.dataset_id, &input);
    let seen = proxy.seen();
    let logins = seen
        .iter()
        .filter(|s| s.method == "POST" && s.path.ends_with("/auth/login"))
        .count();
    assert_eq!(logins, 1, "the login never expired: {seen:?}");
    let pings = seen
        .iter()
        .filter(|s| s.method == "GET" && s.path.ends_with("/publishStatus"))
        .count();
    assert!(
        pings >= 3,
        "keep-alive requests while the source was slow: {pings}"
    );
    env.stop().await;
}
