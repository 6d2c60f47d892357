#![allow(clippy::unwrap_used)]
//! The uploader keeps at most `concurrency` PUTs in flight (a fault the reference server
//! cannot show: slow chunk responses), measured by time against a slow mock.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_array::{Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use pushdata_arrow::Push;
use pushdata_core::{Client, Credentials, RetryConfig};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

const DELAY: Duration = Duration::from_millis(300);

async fn mock_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/auth/login"))
        .respond_with(ResponseTemplate::new(204).insert_header("X-MSTR-AuthToken", "tok"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/datasets/models"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": "D1", "name": "x"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/datasets/D1/uploadSessions"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"uploadSessionId": "S1"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/datasets/D1/uploadSessions/S1"))
        .respond_with(ResponseTemplate::new(200).set_delay(DELAY))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path_regex("^/api/datasets/D1/uploadSessions/S1/publish$"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/datasets/D1/uploadSessions/S1/publishStatus"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            serde_json::json!({"uploadSessionId": "S1", "status": 1, "message": "result ready"}),
        ))
        .mount(&server)
        .await;
    server
}

fn batch() -> RecordBatch {
    let n = 4000i64;
    RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("text", DataType::Utf8, false),
        ])),
        vec![
            Arc::new(Int64Array::from_iter_values(0..n)),
            Arc::new(StringArray::from_iter_values(
                (0..n).map(|i| format!("some text for row {i}")),
            )),
        ],
    )
    .unwrap()
}

async fn push(server: &MockServer, concurrency: usize) -> (u64, Duration) {
    let client = Client::builder(format!("{}/", server.uri()))
        .with_retry(RetryConfig::none())
        .build()
        .unwrap();
    client.login(Credentials::standard("u", "")).await.unwrap();
    client.set_project_id("P1");
    let b = batch();
    let started = Instant::now();
    let report = Push::create(client, "x")
        .with_memory_table("t", b.schema(), vec![b])
        .with_chunk_bytes(16 * 1024)
        .with_concurrency(concurrency)
        .execute()
        .await
        .unwrap();
    (report.chunks, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_concurrency_chunks_in_flight() {
    let server = mock_server().await;
    for concurrency in [1usize, 4] {
        let (chunks, elapsed) = push(&server, concurrency).await;
        assert!(chunks >= 8, "{chunks} chunks");
        // Never faster than ceil(chunks / concurrency) rounds of DELAY: at most
        // `concurrency` PUTs were in flight.
        let rounds = chunks.div_ceil(concurrency as u64) as u32;
        assert!(
            elapsed >= DELAY * rounds,
            "{concurrency}: {elapsed:?} < {rounds} rounds"
        );
        if concurrency > 1 {
            // And uploads did overlap.
            assert!(
                elapsed < DELAY * chunks as u32,
                "{concurrency}: {elapsed:?}, no overlap"
            );
        }
    }
}
