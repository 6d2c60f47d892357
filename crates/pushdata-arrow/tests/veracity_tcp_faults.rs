//! Faults between a Veracity push and the reference server's emulation, injected by a TCP
//! proxy in front of the gateway and the token endpoint (Data Lake appends go straight to
//! the server, and their faults are in `veracity_faults`): busy answers (503/429 with
//! `Retry-After`), a lost answer to the job start and to job-status polls, a server error
//! on the register, a bearer token that expires mid-push, a full data directory. Each push
//! completes with exactly its input rows, or fails with an error naming the step, never
//! leaving a partial version.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use arrow_array::RecordBatch;
use common::tcp_proxy::{Rule, TcpFault, TcpProxy};
use common::veracity::{Env, batch, client_at, columns, rows, schema, start, start_with, wait};
use pushdata_arrow::veracity::{Operation, TransferError, VeracityPush};
use pushdata_core::veracity::Client;

/// 1200 rows in batches of 200, `Speed = Id + speed`.
fn input(speed: f64) -> Vec<RecordBatch> {
    (0..6)
        .map(|b| batch(&(b * 200..b * 200 + 200).collect::<Vec<_>>(), speed))
        .collect()
}

/// The rows a push of [`input`] leaves, as (id, speed).
fn expected(speed: f64) -> Vec<(i64, f64)> {
    (0..1200).map(|i| (i, i as f64 + speed)).collect()
}

/// A busy answer.
fn busy(status: u16, retry_after: Option<&str>) -> TcpFault {
    TcpFault::Answer {
        status,
        retry_after: retry_after.map(str::to_string),
    }
}

/// Create a keyed dataset from [`input`] through `client`, starting the job explicitly.
async fn push(client: Client) -> Result<String, TransferError> {
    VeracityPush::create(client, "Wind")
        .with_batches(schema(), input(0.5))
        .with_key("Id")
        .with_part_bytes(4096)
        .with_start_automatically(false)
        .with_job_wait(wait())
        .await
        .map(|r| r.dataset_id)
}

/// How many requests the proxy saw whose path contains `part`, with `method`.
fn count(proxy: &TcpProxy, method: &str, part: &str) -> usize {
    proxy
        .seen()
        .iter()
        .filter(|s| s.method == method && s.path.contains(part))
        .count()
}

/// Push through a proxy with `rules`: the push completes with exactly its rows, and every
/// rule fired.
async fn survives(rules: Vec<Rule>) -> TcpProxy {
    let env = start().await;
    let proxy = TcpProxy::start(env.root.trim_start_matches("http://").parse().unwrap()).await;
    let n = rules.iter().map(|r| r.times).sum::<usize>();
    for rule in rules {
        proxy.inject(rule);
    }
    let id = push(client_at(&proxy.url())).await.unwrap();
    assert_eq!(proxy.faults(), n, "{:?}", proxy.seen());
    assert_eq!(rows(&env, &id, true).await, expected(0.5));
    proxy
}

/// 503 and 429 say "not processed": the token request, the register (a POST) and the
/// start (a POST) are sent again after `Retry-After` or the backoff; lost job-status
/// answers are polled again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_token_register_start_and_lost_status_polls_are_waited_out() {
    let proxy = survives(vec![
        Rule::new("POST", "/oauth2/token", 1, busy(503, Some("0"))),
        Rule::new("POST", "/ingest/dataset", 2, busy(503, Some("1"))),
        Rule::new("POST", "/ingest/dataset", 1, busy(429, None)).after(2),
        Rule::new("POST", "/start", 1, busy(429, Some("0"))),
        Rule::new("GET", "/status", 2, TcpFault::DropResponse),
    ])
    .await;
    assert_eq!(count(&proxy, "POST", "/ingest/dataset"), 4);
    assert_eq!(count(&proxy, "POST", "/start"), 2);
}

/// The start's answer is lost after the server started the job: the push asks the job's
/// status, sees it started, does not start it twice, and completes exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_start_answer_is_settled_by_the_job_status() {
    let proxy = survives(vec![Rule::new("POST", "/start", 1, TcpFault::DropResponse)]).await;
    assert_eq!(count(&proxy, "POST", "/start"), 1);
}

/// The start is reset before the server read it: the job status says it is still pending,
/// so the push starts it once more and completes exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_reset_before_the_server_read_it_is_sent_again_when_the_job_is_pending() {
    let proxy = survives(vec![Rule::new(
        "POST",
        "/start",
        1,
        TcpFault::ResetBeforeRequest,
    )])
    .await;
    assert_eq!(count(&proxy, "POST", "/start"), 2);
}

/// A 500 on the register may have registered a job: it is not sent again; the push fails
/// naming the step and the status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_error_on_the_register_is_not_sent_again_and_names_the_step() {
    let env = start().await;
    let proxy = TcpProxy::start(env.root.trim_start_matches("http://").parse().unwrap()).await;
    proxy.inject(Rule::new("POST", "/ingest/dataset", 1, busy(500, None)));
    let err = push(client_at(&proxy.url())).await.unwrap_err();
    let TransferError::NothingApplied {
        job_id: None,
        source: failed,
        ..
    } = &err
    else {
        panic!("{err:?}");
    };
    let TransferError::Service { step, source, .. } = &**failed else {
        panic!("{err:?}");
    };
    assert_eq!(*step, "register");
    assert_eq!(source.status(), Some(500), "{err}");
    assert_eq!(count(&proxy, "POST", "/ingest/dataset"), 1);
}

/// Batches of [`input`], the source pausing `pause` before each one after the first.
fn slow(pause: Duration) -> impl Iterator<Item = RecordBatch> + Send {
    input(0.5).into_iter().enumerate().map(move |(i, b)| {
        if i > 0 {
            std::thread::sleep(pause);
        }
        b
    })
}

/// Bearer tokens live one second and the push takes longer (a slow source): the client
/// gets new tokens as the old ones expire and the push completes with exactly its rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bearer_token_expiring_mid_push_is_renewed() {
    let env = start_with(|c| c.with_veracity_token_lifetime(Duration::from_secs(1))).await;
    let proxy = TcpProxy::start(env.root.trim_start_matches("http://").parse().unwrap()).await;
    let report = VeracityPush::create(client_at(&proxy.url()), "Wind")
        .with_batches(schema(), slow(Duration::from_millis(500)))
        .with_key("Id")
        .with_part_bytes(4096)
        .with_start_automatically(false)
        .with_job_wait(wait())
        .await
        .unwrap();
    let tokens = count(&proxy, "POST", "/oauth2/token");
    assert!(
        tokens >= 2,
        "one token outlived the push: {:?}",
        proxy.seen()
    );
    assert_eq!(rows(&env, &report.dataset_id, true).await, expected(0.5));
}

/// The data directory fills up while the file is uploaded (a data quota): the append is
/// refused with 507, the push fails naming the append, the job is never started and the
/// dataset it updates keeps its rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_data_directory_during_the_upload_fails_the_push_and_keeps_the_dataset() {
    let env: Env = start_with(|c| c.with_data_quota_bytes(200 * 1024)).await;
    let id = common::veracity::create(&env, vec![batch(&[0, 1, 2], 0.0)], true).await;
    let big: Vec<RecordBatch> = (0..40)
        .map(|b| batch(&(b * 500..b * 500 + 500).collect::<Vec<_>>(), 0.25))
        .collect();
    let err = VeracityPush::into_dataset(env.client.clone(), &id, Operation::Upsert)
        .with_batches(schema(), big)
        .with_dataset_columns(columns(true))
        .with_part_bytes(64 * 1024)
        .with_job_wait(wait())
        .await
        .unwrap_err();
    let TransferError::NothingApplied {
        job_id: Some(_),
        source: failed,
        ..
    } = &err
    else {
        panic!("{err:?}");
    };
    let TransferError::Service { step, source, .. } = &**failed else {
        panic!("{err:?}");
    };
    assert_eq!(*step, "append");
    assert_eq!(source.status(), Some(507), "{err}");
    assert_eq!(
        rows(&env, &id, true).await,
        vec![(0, 0.0), (1, 1.0), (2, 2.0)]
    );
}
