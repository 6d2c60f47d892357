//! Waiting for a publish: ready, failed, timed out.

use std::time::{Duration, Instant};

use pushdata_core::wire::PublishState;
use pushdata_core::{BackoffConfig, Error, PublishWait};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::*;

fn fast_wait(timeout: Duration) -> PublishWait {
    PublishWait::default().with_timeout(timeout).with_backoff(
        BackoffConfig::default()
            .with_init_backoff(Duration::from_millis(10))
            .with_max_backoff(Duration::from_millis(40)),
    )
}

fn status(s: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(json!({"uploadSessionId": "S", "status": s, "message": message}))
}

#[tokio::test]
async fn waits_until_ready() {
    let server = MockServer::start().await;
    let client = logged_in(&server).await;
    Mock::given(method("GET"))
        .and(path(api("datasets/D/uploadSessions/S/publishStatus")))
        .respond_with(status("6", "sql execution"))
        .up_to_n_times(2)
        .with_priority(1)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(api("datasets/D/uploadSessions/S/publishStatus")))
        .respond_with(status("1", "result ready"))
        .expect(1)
        .mount(&server)
        .await;
    let s = client
        .wait_for_publish("D", "S", &fast_wait(Duration::from_secs(10)))
        .await
        .unwrap();
    assert_eq!(s.status, PublishState::READY);
    assert_eq!(s.message, "result ready");
}

#[tokio::test]
async fn failed_status_is_publish_failed_with_the_message() {
    let server = MockServer::start().await;
    let client = logged_in(&server).await;
    Mock::given(method("GET"))
        .and(path(api("datasets/D/uploadSessions/S/publishStatus")))
        .respond_with(status("6", "sql execution"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(api("datasets/D/uploadSessions/S/publishStatus")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "uploadSessionId": "S", "status": 3,
            "message": "table 'sales': chunk 2 is missing"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let e = client
        .wait_for_publish("D", "S", &fast_wait(Duration::from_secs(10)))
        .await
        .unwrap_err();
    match &e {
        Error::PublishFailed {
            dataset_id,
            session_id,
            status,
            message,
        } => {
            assert_eq!(dataset_id, "D");
            assert_eq!(session_id, "S");
            assert_eq!(*status, 3);
            assert_eq!(message, "table 'sales': chunk 2 is missing");
        }
        other => panic!("expected PublishFailed, got {other}"),
    }
    assert_eq!(
        e.to_string(),
        "publishing upload session S of dataset D failed (status 3): table 'sales': chunk 2 is missing"
    );
}

#[tokio::test]
async fn publish_that_never_finishes_times_out() {
    let server = MockServer::start().await;
    let client = logged_in(&server).await;
    Mock::given(method("GET"))
        .and(path(api("datasets/D/uploadSessions/S/publishStatus")))
        .respond_with(status("6", "sql execution"))
        .mount(&server)
        .await;
    let start = Instant::now();
    let e = client
        .wait_for_publish("D", "S", &fast_wait(Duration::from_millis(300)))
        .await
        .unwrap_err();
    let elapsed = start.elapsed();
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    match &e {
        Error::PublishTimeout {
            timeout,
            last_status,
            last_message,
            ..
        } => {
            assert_eq!(*timeout, Duration::from_millis(300));
            assert_eq!(*last_status, Some(6));
            assert_eq!(last_message, "sql execution");
        }
        other => panic!("expected PublishTimeout, got {other}"),
    }
    assert!(e.is_timeout());
    // It polled more than once, backing off in between.
    let polls = requests_to(&server, &api("datasets/D/uploadSessions/S/publishStatus")).await;
    assert!(polls.len() >= 3, "{}", polls.len());
}

#[tokio::test]
async fn a_hanging_poll_does_not_outlast_the_wait() {
    let server = MockServer::start().await;
    let client = logged_in(&server).await;
    Mock::given(method("GET"))
        .and(path(api("datasets/D/uploadSessions/S/publishStatus")))
        .respond_with(status("1", "result ready").set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let start = Instant::now();
    let e = client
        .wait_for_publish("D", "S", &fast_wait(Duration::from_millis(200)))
        .await
        .unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(2));
    assert!(
        matches!(
            e,
            Error::PublishTimeout {
                last_status: None,
                ..
            }
        ),
        "{e}"
    );
}

#[tokio::test]
async fn an_unknown_status_ends_the_wait_with_its_value_and_message() {
    for (value, message) in [("0", "upload session open"), ("2", "something new")] {
        let server = MockServer::start().await;
        let client = logged_in(&server).await;
        Mock::given(method("GET"))
            .and(path(api("datasets/D/uploadSessions/S/publishStatus")))
            .respond_with(status("6", "sql execution"))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(api("datasets/D/uploadSessions/S/publishStatus")))
            .respond_with(status(value, message))
            .expect(1)
            .mount(&server)
            .await;
        let start = Instant::now();
        let e = client
            .wait_for_publish("D", "S", &fast_wait(Duration::from_secs(3)))
            .await
            .unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(2), "{value}: {e}");
        match &e {
            Error::PublishUnexpectedStatus {
                dataset_id,
                session_id,
                status,
                message: m,
            } => {
                assert_eq!((dataset_id.as_str(), session_id.as_str()), ("D", "S"));
                assert_eq!(status.to_string(), value);
                assert_eq!(m, message);
            }
            other => panic!("{value}: expected PublishUnexpectedStatus, got {other}"),
        }
        assert!(e.to_string().contains(message), "{e}");
    }
}

#[tokio::test]
async fn the_final_status_carries_the_tables() {
    let server = MockServer::start().await;
    let client = logged_in(&server).await;
    Mock::given(method("GET"))
        .and(path(api("datasets/D/uploadSessions/S/publishStatus")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "uploadSessionId": "S", "status": 1, "message": "result ready",
            "tables": [{"name": "t", "rows": 10, "rowsSkipped": 2}]
        })))
        .mount(&server)
        .await;
    let s = client
        .wait_for_publish("D", "S", &fast_wait(Duration::from_secs(3)))
        .await
        .unwrap();
    assert_eq!(s.tables.len(), 1);
    assert_eq!((s.tables[0].rows, s.tables[0].rows_skipped), (10, 2));
}
