//! Retries: which calls, which failures, Retry-After, limits, timeouts, error bodies.

use std::time::{Duration, Instant};

use pushdata_core::wire::{
    ColumnHeader, DataType, DatasetModel, TableCreator, TableDefinition, UpdatePolicy,
};
use pushdata_core::{BackoffConfig, Error, RetryConfig};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::*;

fn model() -> DatasetModel {
    DatasetModel {
        name: "m".into(),
        description: None,
        folder_id: None,
        tables: vec![TableDefinition {
            name: "t".into(),
            description: None,
            column_headers: vec![ColumnHeader::new("a", DataType::Integer)],
        }],
        metrics: vec![],
        attributes: vec![],
    }
}

#[tokio::test]
async fn get_is_retried_after_503() {
    let server = MockServer::start().await;
    let client = logged_in(&server).await;
    Mock::given(method("GET"))
        .and(path(api("projects")))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(api("projects")))
        .respond_with(ResponseTemplate::new(200).set_body_json(projects_json()))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(client.projects().await.unwrap().len(), 2);
}

#[tokio::test]
async fn chunk_put_honours_retry_after_on_429_and_503() {
    for status in [429, 503] {
        let server = MockServer::start().await;
        // The backoff alone would wait milliseconds; only Retry-After explains a second.
        let client = logged_in(&server).await;
        Mock::given(method("PUT"))
            .and(path(api("datasets/D/uploadSessions/S")))
            .respond_with(ResponseTemplate::new(status).insert_header("retry-after", "1"))
            .up_to_n_times(1)
            .with_priority(1)
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("PUT"))
            .and(path(api("datasets/D/uploadSessions/S")))
            .respond_with(ResponseTemplate::new(200))
            .expect(1)
            .mount(&server)
            .await;
        let chunk = pushdata_core::wire::ChunkBody::from_base64("t", 1, b"W1tdXQ==");
        let start = Instant::now();
        client.put_chunk("D", "S", &chunk).await.unwrap();
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(950), "{status}: {waited:?}");
        assert!(waited < Duration::from_secs(4), "{status}: {waited:?}");
    }
}

#[tokio::test]
async fn retry_after_beyond_the_retry_timeout_is_not_waited_for() {
    let server = MockServer::start().await;
    let client = logged_in(&server).await;
    Mock::given(method("GET"))
        .and(path(api("projects")))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "3600"))
        .expect(1)
        .mount(&server)
        .await;
    let start = Instant::now();
    let e = client.projects().await.unwrap_err();
    assert_eq!(e.status(), Some(503));
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn retries_stop_at_max_retries() {
    let server = MockServer::start().await;
    let client = logged_in(&server).await;
    Mock::given(method("GET"))
        .and(path(api("datasets/D/uploadSessions/S/publishStatus")))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>Bad Gateway</html>"))
        .expect(4) // the first attempt and max_retries = 3 retries
        .mount(&server)
        .await;
    let e = client.publish_status("D", "S").await.unwrap_err();
    assert_eq!(e.status(), Some(502));
    // A non-JSON error body is kept as the message.
    assert_eq!(
        e.server_error().unwrap().message,
        "<html>Bad Gateway</html>"
    );
    assert!(e.to_string().contains("HTTP 502 Bad Gateway"), "{e}");
}

/// `status` with `retry` as `Retry-After` (none when empty) for the first `times`
/// requests of `verb path`, then `ok`.
async fn busy_then(
    server: &MockServer,
    verb: &str,
    p: &str,
    busy: ResponseTemplate,
    times: u64,
    ok: ResponseTemplate,
) {
    Mock::given(method(verb))
        .and(path(api(p)))
        .respond_with(busy)
        .up_to_n_times(times)
        .with_priority(1)
        .expect(times)
        .mount(server)
        .await;
    Mock::given(method(verb))
        .and(path(api(p)))
        .respond_with(ok)
        .expect(1)
        .mount(server)
        .await;
}

/// A 429 or 503 says the request was not processed: every call is sent again, also the
/// POST/PATCH calls that create or publish something, with or without `Retry-After`
/// (seconds or an HTTP date).
#[tokio::test]
async fn non_idempotent_calls_are_retried_on_429_and_503() {
    let date_now = httpdate::fmt_http_date(std::time::SystemTime::now());
    let busy = |status: u16, after: &str| {
        let t = ResponseTemplate::new(status);
        if after.is_empty() {
            t
        } else {
            t.insert_header("retry-after", after)
        }
    };
    for (status, after) in [(503, "0"), (429, "0"), (503, ""), (429, date_now.as_str())] {
        let server = MockServer::start().await;
        let client = logged_in(&server).await;
        busy_then(
            &server,
            "POST",
            "datasets/models",
            busy(status, after),
            2,
            ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "id": "D", "name": "m", "tables": [{"id": "T", "name": "t"}]
            })),
        )
        .await;
        busy_then(
            &server,
            "POST",
            "datasets/D/uploadSessions/S/publish",
            busy(status, after),
            2,
            ResponseTemplate::new(200),
        )
        .await;
        busy_then(
            &server,
            "PATCH",
            "datasets/D/tables/T",
            busy(status, after),
            1,
            ResponseTemplate::new(200),
        )
        .await;
        let created = client.create_model(&model()).await.unwrap();
        assert_eq!(created.id, "D", "{status} {after:?}");
        client.publish("D", "S").await.unwrap();
        let table = TableCreator {
            name: "T".into(),
            column_headers: vec![],
            data: "W10=".into(),
        };
        client
            .update_table("D", "T", UpdatePolicy::Add, &table)
            .await
            .unwrap();
        server.verify().await;
    }
}

/// A 429/503 that lasts past the retry budget ends with the server's answer.
#[tokio::test]
async fn a_post_busy_past_max_retries_returns_the_status() {
    let server = MockServer::start().await;
    let client = logged_in(&server).await;
    Mock::given(method("POST"))
        .and(path(api("datasets/models")))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "0"))
        .expect(4) // the first attempt and max_retries = 3 retries
        .mount(&server)
        .await;
    let e = client.create_model(&model()).await.unwrap_err();
    assert_eq!(e.status(), Some(503));
}

/// A 500, 502 or 504 may come after the server carried the call out: a call that is not
/// idempotent is not sent twice.
#[tokio::test]
async fn non_idempotent_posts_are_not_retried_on_500_502_504() {
    for status in [500, 502, 504] {
        let server = MockServer::start().await;
        let client = logged_in(&server).await;
        Mock::given(method("POST"))
            .and(path(api("datasets/models")))
            .respond_with(ResponseTemplate::new(status))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path(api("datasets/D/uploadSessions/S/publish")))
            .respond_with(ResponseTemplate::new(status).insert_header("retry-after", "0"))
            .expect(1)
            .mount(&server)
            .await;
        let e = client.create_model(&model()).await.unwrap_err();
        assert_eq!(e.status(), Some(status));
        let e = client.publish("D", "S").await.unwrap_err();
        assert_eq!(e.status(), Some(status));
        server.verify().await;
    }
}

#[tokio::test]
async fn bad_request_keeps_code_message_and_ticket() {
    let server = MockServer::start().await;
    let client = logged_in(&server).await;
    Mock::given(method("PATCH"))
        .and(path(api("datasets/D/tables/T")))
        .respond_with(ResponseTemplate::new(400).set_body_json(error_body(
            "ERR001",
            "Column 'Yeer' of table 'SALES_TABLE' is not in the dataset",
            "7d1f00c2aa",
        )))
        .expect(1) // a 400 is never retried
        .mount(&server)
        .await;
    let table = TableCreator {
        name: "SALES_TABLE".into(),
        column_headers: vec![ColumnHeader::new("Yeer", DataType::Integer)],
        data: "W10=".into(),
    };
    let e = client
        .update_table("D", "T", UpdatePolicy::Replace, &table)
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(400));
    assert_eq!(e.code(), Some("ERR001"));
    assert_eq!(e.ticket_id(), Some("7d1f00c2aa"));
    let body = e.server_error().unwrap();
    assert_eq!(
        body.message,
        "Column 'Yeer' of table 'SALES_TABLE' is not in the dataset"
    );
    assert_eq!(body.i_server_code, Some(-2147072488));
    match &e {
        Error::Server { endpoint, .. } => {
            assert_eq!(endpoint.method, http::Method::PATCH);
            assert_eq!(endpoint.path, api("datasets/D/tables/T"));
        }
        other => panic!("{other}"),
    }
    let text = e.to_string();
    for part in [
        "PATCH /MicroStrategyLibrary/api/datasets/D/tables/T",
        "HTTP 400 Bad Request",
        "ERR001",
        "Column 'Yeer' of table 'SALES_TABLE' is not in the dataset",
        "7d1f00c2aa",
        "-2147072488",
    ] {
        assert!(text.contains(part), "{part:?} missing from {text}");
    }
}

#[tokio::test]
async fn request_timeout_is_a_timeout_error() {
    let server = MockServer::start().await;
    mount_login(&server, TOKEN).await;
    Mock::given(method("GET"))
        .and(path(api("projects")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(projects_json())
                .set_delay(Duration::from_secs(3)),
        )
        .expect(2) // GET is idempotent: one retry after the timeout
        .mount(&server)
        .await;
    let client = pushdata_core::Client::builder(format!("{}{BASE}", server.uri()))
        .with_timeout(Duration::from_millis(200))
        .with_retry(
            RetryConfig::default()
                .with_max_retries(1)
                .with_backoff(BackoffConfig::default().with_init_backoff(Duration::from_millis(1))),
        )
        .build()
        .unwrap();
    client
        .login(pushdata_core::Credentials::standard("administrator", ""))
        .await
        .unwrap();
    let start = Instant::now();
    let e = client.projects().await.unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    match &e {
        Error::Timeout {
            timeout, endpoint, ..
        } => {
            assert_eq!(*timeout, Duration::from_millis(200));
            assert_eq!(endpoint.path, api("projects"));
        }
        other => panic!("expected a timeout, got {other}"),
    }
    assert!(e.is_timeout());
    assert!(e.to_string().contains("timed out after 200ms"), "{e}");
}

#[tokio::test]
async fn timed_out_post_is_not_retried() {
    let server = MockServer::start().await;
    mount_login(&server, TOKEN).await;
    Mock::given(method("POST"))
        .and(path(api("datasets/models")))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .expect(1)
        .mount(&server)
        .await;
    let client = pushdata_core::Client::builder(format!("{}{BASE}", server.uri()))
        .with_timeout(Duration::from_millis(200))
        .with_retry(fast_retry())
        .build()
        .unwrap();
    client
        .login(pushdata_core::Credentials::standard("administrator", ""))
        .await
        .unwrap();
    client.set_project_id(PROJECT);
    let e = client.create_model(&model()).await.unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e}");
}

#[tokio::test]
async fn refused_connection_is_an_http_error_naming_the_call() {
    // A port that was just free on the loopback interface.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = pushdata_core::Client::builder(format!("http://127.0.0.1:{port}{BASE}"))
        .with_retry(fast_retry())
        .build()
        .unwrap();
    let e = client
        .login(pushdata_core::Credentials::standard(
            "administrator",
            PASSWORD,
        ))
        .await
        .unwrap_err();
    match &e {
        Error::Http { endpoint, .. } => assert_eq!(endpoint.path, api("auth/login")),
        other => panic!("expected an HTTP error, got {other}"),
    }
    assert_eq!(e.status(), None);
    let text = e.to_string();
    assert!(
        text.contains("POST /MicroStrategyLibrary/api/auth/login failed"),
        "{text}"
    );
    assert!(!text.contains(PASSWORD));
}

#[tokio::test]
async fn tls_failure_is_not_retried() {
    // A plain-text server behind an https:// URL: the TLS handshake fails for good.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    let server = tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let _ = socket
                .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                .await;
        }
    });
    let client = pushdata_core::Client::builder(format!("https://127.0.0.1:{port}{BASE}"))
        .with_retry(fast_retry())
        .build()
        .unwrap();
    let e = client
        .login(pushdata_core::Credentials::standard(
            "administrator",
            PASSWORD,
        ))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Http { .. }), "{e}");
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1, "{e}");
    server.abort();
}

#[tokio::test]
async fn redirects_are_reported_not_followed() {
    let elsewhere = MockServer::start().await;
    let server = MockServer::start().await;
    let client = logged_in(&server).await;
    Mock::given(method("GET"))
        .and(path(api("projects")))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}/elsewhere", elsewhere.uri())),
        )
        .expect(1)
        .mount(&server)
        .await;
    let e = client.projects().await.unwrap_err();
    assert_eq!(e.status(), Some(302));
    let message = &e.server_error().unwrap().message;
    assert!(
        message.contains(&format!("redirected to {}/elsewhere", elsewhere.uri())),
        "{message}"
    );
    // The token never went to the other host.
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
}

/// A client whose requests time out after 300 ms and whose retry budget (100 ms) is shorter
/// than one timed-out attempt: the proportions of the defaults (300 s and 180 s).
async fn short_timeout_client(server: &MockServer) -> pushdata_core::Client {
    let client = pushdata_core::Client::builder(format!("{}{BASE}", server.uri()))
        .with_timeout(Duration::from_millis(300))
        .with_retry(
            RetryConfig::default()
                .with_max_retries(3)
                .with_retry_timeout(Duration::from_millis(100))
                .with_backoff(BackoffConfig::default().with_init_backoff(Duration::from_millis(1))),
        )
        .build()
        .unwrap();
    client
        .login(pushdata_core::Credentials::standard("administrator", ""))
        .await
        .unwrap();
    client.set_project_id(PROJECT);
    client
}

#[tokio::test]
async fn timed_out_get_is_retried_when_the_attempt_outlasts_the_retry_budget() {
    let server = MockServer::start().await;
    mount_login(&server, TOKEN).await;
    Mock::given(method("GET"))
        .and(path(api("projects")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(projects_json())
                .set_delay(Duration::from_secs(3)),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(api("projects")))
        .respond_with(ResponseTemplate::new(200).set_body_json(projects_json()))
        .expect(1)
        .mount(&server)
        .await;
    let client = short_timeout_client(&server).await;
    assert_eq!(client.projects().await.unwrap().len(), 2);
}

#[tokio::test]
async fn timed_out_chunk_put_is_retried_when_the_attempt_outlasts_the_retry_budget() {
    let server = MockServer::start().await;
    mount_login(&server, TOKEN).await;
    Mock::given(method("PUT"))
        .and(path(api("datasets/D/uploadSessions/S")))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(api("datasets/D/uploadSessions/S")))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let client = short_timeout_client(&server).await;
    let chunk = pushdata_core::wire::ChunkBody::from_base64("t", 1, b"W1tdXQ==");
    client.put_chunk("D", "S", &chunk).await.unwrap();
    // The same body both times.
    let puts = requests_to(&server, &api("datasets/D/uploadSessions/S")).await;
    assert_eq!(puts.len(), 2);
    assert_eq!(puts[0].body, puts[1].body);
}

#[tokio::test]
async fn a_second_timeout_past_the_budget_is_returned() {
    let server = MockServer::start().await;
    mount_login(&server, TOKEN).await;
    Mock::given(method("GET"))
        .and(path(api("projects")))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .expect(2) // the first attempt and one retry; the second timeout ends past the budget
        .mount(&server)
        .await;
    let client = short_timeout_client(&server).await;
    let e = client.projects().await.unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e}");
}
