#![allow(clippy::unwrap_used)]
//! The uploader keeps at most `concurrency` PUTs in flight (a fault the reference server
//! cannot show: slow chunk responses). The mock answers every PUT after `DELAY` and records
//! when each arrived: a PUT can only be sent once an earlier one was answered, so any window
//! of `DELAY` sees at most `concurrency` arrivals, however slow the machine is.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arrow_array::{Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use pushdata_arrow::Push;
use pushdata_core::{Client, Credentials, RetryConfig};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const DELAY: Duration = Duration::from_millis(300);

/// Answers after `DELAY`, noting when each request arrived.
#[derive(Clone, Default)]
struct Arrivals(Arc<Mutex<Vec<Instant>>>);

impl Respond for Arrivals {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        self.0.lock().unwrap().push(Instant::now());
        ResponseTemplate::new(200).set_delay(DELAY)
    }
}

impl Arrivals {
    /// The most arrivals within any window of `DELAY` (each answer comes `DELAY` after its
    /// arrival, so this is the most requests that were in flight at once).
    fn most_in_flight(&self) -> usize {
        let times = self.0.lock().unwrap().clone();
        times
            .iter()
            .map(|t| {
                times
                    .iter()
                    .filter(|u| **u >= *t && **u - *t < DELAY)
                    .count()
            })
            .max()
            .unwrap_or(0)
    }

    fn clear(&self) {
        self.0.lock().unwrap().clear();
    }
}

async fn mock_server(arrivals: &Arrivals) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/auth/login"))
        .respond_with(ResponseTemplate::new(204).insert_header("X-MSTR-AuthToken", "tok"))
        .mount(&server)
        .await;
    // the same-name check: My Reports holds nothing
    Mock::given(method("GET"))
        .and(path("/api/folders/preDefined/20"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("X-MSTR-Total-Count", "0")
                .set_body_json(serde_json::json!([])),
        )
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
        .respond_with(arrivals.clone())
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
        // Room for every chunk: only `concurrency` limits the PUTs in flight here.
        .with_max_buffered_bytes(64 << 20)
        .with_concurrency(concurrency)
        .execute()
        .await
        .unwrap();
    (report.chunks, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_concurrency_chunks_in_flight() {
    let arrivals = Arrivals::default();
    let server = mock_server(&arrivals).await;
    for concurrency in [1usize, 4] {
        arrivals.clear();
        let (chunks, _) = push(&server, concurrency).await;
        assert!(chunks >= 8, "{chunks} chunks");
        let most = arrivals.most_in_flight();
        assert!(most <= concurrency, "{concurrency}: {most} PUTs in flight");
        if concurrency > 1 {
            // And uploads did overlap.
            assert!(most >= 2, "{concurrency}: no overlap");
        }
    }
}
