//! The Veracity client against wiremock servers on 127.0.0.1: token fetch and refresh
//! (expiry, 401), the headers of every call, register/start/status/schema/query bodies,
//! the Data Lake upload (headers, SAS pass-through, append retry at the same position,
//! error bodies), job terminal states, and secret hygiene.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use bytes::Bytes;
use pushdata_core::veracity::wire::{
    AddSchemaRequest, ColumnType, CreateDatasetRequest, FileOperation, IngestFile, IngestResponse,
    JobState, PROVIDER_BYOD, QueryRequest, SchemaColumn, UpdateDatasetRequest,
};
use pushdata_core::veracity::{Client, DataLakeUpload, Error, JobWait, Service};
use pushdata_core::{BackoffConfig, RetryConfig, Secret};
use serde_json::json;
use wiremock::matchers::{
    body_json, body_string, body_string_contains, header, header_exists, method, path, query_param,
};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const WS: &str = "ws1";
const SECRET: &str = "very-secret-client-secret";
const API_KEY: &str = "very-secret-api-key";
const SIG: &str = "abc%2Bdef%3D";

fn fast_retry() -> RetryConfig {
    RetryConfig::default().with_max_retries(3).with_backoff(
        BackoffConfig::default()
            .with_init_backoff(Duration::from_millis(1))
            .with_max_backoff(Duration::from_millis(5)),
    )
}

fn client(server: &MockServer) -> Client {
    Client::builder(WS)
        .with_credentials("svc-id", SECRET)
        .with_subscription_key(API_KEY)
        .with_base_url(format!("{}/api/v2", server.uri()))
        .with_token_url(format!("{}/oauth2/token", server.uri()))
        .with_retry(fast_retry())
        .build()
        .unwrap()
}

fn token_body(token: &str, expires_in: serde_json::Value) -> serde_json::Value {
    json!({"token_type": "Bearer", "expires_in": expires_in, "ext_expires_in": "3599",
           "expires_on": "1604722734", "resource": "r", "access_token": token})
}

async fn mount_token(server: &MockServer, token: &str, expires_in: serde_json::Value) {
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string_contains("grant_type=client_credentials"))
        .and(body_string_contains("client_id=svc-id"))
        .and(body_string_contains(format!("client_secret={SECRET}")))
        .and(body_string_contains("resource=https%3A%2F%2Fdnvglb2cprod"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_body(token, expires_in)))
        .mount(server)
        .await;
}

fn status_body(status: &str) -> serde_json::Value {
    json!({"jobId": "job1", "status": status, "operations": ["Create"],
           "notebookErrorMessage": "", "validationError": []})
}

/// Every gateway request carries the bearer token, the subscription key and a user agent.
fn assert_gateway_headers(r: &Request, token: &str) {
    assert_eq!(
        r.headers.get("authorization").unwrap().to_str().unwrap(),
        format!("Bearer {token}")
    );
    assert_eq!(
        r.headers
            .get("ocp-apim-subscription-key")
            .unwrap()
            .to_str()
            .unwrap(),
        API_KEY
    );
    let ua = r.headers.get("user-agent").unwrap().to_str().unwrap();
    assert!(ua.starts_with("pushdata/"), "{ua}");
}

#[tokio::test]
async fn token_is_cached_and_every_gateway_call_has_the_headers() {
    let server = MockServer::start().await;
    mount_token(&server, "tok1", json!("3599")).await;
    Mock::given(method("GET"))
        .and(path("/api/v2/workspaces/ws1/ingest/job/job1/status"))
        .respond_with(ResponseTemplate::new(200).set_body_json(status_body("Running")))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/workspaces/ws1/ingest/job/job1/start"))
        .and(header("content-length", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(status_body("Running")))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/workspaces/ws1/ingest/dataset/ds1"))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "files": [{"fileName": "a.csv", "operation": "Upsert"}],
            "startAutomatically": false
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"jobId": "job1", "sasToken": format!("{}/fs/dir?sig={SIG}", server.uri())}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/workspaces/ws1/ingest/dataset"))
        .and(body_json(json!({
            "datasetName": "Wind", "schemaVersionId": "sv1",
            "files": [{"fileName": "a.csv", "operation": "Create"}],
            "provider": "BYOD", "startAutomatically": false
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(
            json!({"jobId": "job0", "sasToken": format!("{}/fs/dir0?sig={SIG}", server.uri())}),
        ))
        .mount(&server)
        .await;

    let c = client(&server);
    let created = c
        .create_dataset(&CreateDatasetRequest {
            dataset_name: "Wind".into(),
            dataset_description: None,
            schema_version_id: "sv1".into(),
            files: vec![IngestFile {
                file_name: "a.csv".into(),
                operation: FileOperation::Create,
            }],
            tags: vec![],
            provider: Some(PROVIDER_BYOD.into()),
            start_automatically: false,
        })
        .await
        .unwrap();
    assert_eq!(created.job_id, "job0");
    let ingest = c
        .update_dataset(
            "ds1",
            &UpdateDatasetRequest {
                files: vec![IngestFile {
                    file_name: "a.csv".into(),
                    operation: FileOperation::Upsert,
                }],
                start_automatically: false,
            },
        )
        .await
        .unwrap();
    assert_eq!(ingest.job_id, "job1");
    assert!(ingest.sas_token.expose().ends_with(SIG));
    let started = c.start_job("job1").await.unwrap();
    assert_eq!(started.map(|s| s.status), Some(JobState::Running));
    let status = c.job_status("job1").await.unwrap();
    assert_eq!(status.status, JobState::Running);

    let requests = server.received_requests().await.unwrap();
    let tokens = requests
        .iter()
        .filter(|r| r.url.path() == "/oauth2/token")
        .count();
    assert_eq!(tokens, 1, "one token for all calls");
    let gateway: Vec<_> = requests
        .iter()
        .filter(|r| r.url.path().starts_with("/api/v2"))
        .collect();
    assert_eq!(gateway.len(), 4);
    for r in gateway {
        assert_gateway_headers(r, "tok1");
    }
}

#[tokio::test]
async fn token_is_refreshed_when_it_expires() {
    let server = MockServer::start().await;
    // v2 shape: expires_in as a number; 0 means it must be refreshed before every call.
    mount_token(&server, "tok", json!(0)).await;
    Mock::given(method("GET"))
        .and(path("/api/v2/workspaces/ws1/ingest/job/job1/status"))
        .respond_with(ResponseTemplate::new(200).set_body_json(status_body("Running")))
        .expect(2)
        .mount(&server)
        .await;
    let c = client(&server);
    c.job_status("job1").await.unwrap();
    c.job_status("job1").await.unwrap();
    let tokens = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/oauth2/token")
        .count();
    assert_eq!(tokens, 2);
}

#[tokio::test]
async fn token_lifetime_from_string_expires_in_honours_the_margin() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", json!("2")).await;
    Mock::given(method("GET"))
        .and(path("/api/v2/workspaces/ws1/ingest/job/job1/status"))
        .respond_with(ResponseTemplate::new(200).set_body_json(status_body("Running")))
        .mount(&server)
        .await;
    let c = Client::builder(WS)
        .with_credentials("svc-id", SECRET)
        .with_subscription_key(API_KEY)
        .with_base_url(format!("{}/api/v2", server.uri()))
        .with_token_url(format!("{}/oauth2/token", server.uri()))
        .with_token_refresh_margin(Duration::from_millis(1500))
        .build()
        .unwrap();
    // Lifetime 2 s, margin 1.5 s: used for half its life (1 s), then refreshed.
    c.job_status("job1").await.unwrap();
    c.job_status("job1").await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    c.job_status("job1").await.unwrap();
    let tokens = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/oauth2/token")
        .count();
    assert_eq!(tokens, 2);
}

#[tokio::test]
async fn a_401_refreshes_the_token_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_body("old", json!("3599"))))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    mount_token(&server, "new", json!("3599")).await;
    Mock::given(method("GET"))
        .and(path("/api/v2/workspaces/ws1/ingest/job/job1/status"))
        .and(header("authorization", "Bearer old"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/workspaces/ws1/ingest/job/job1/status"))
        .and(header("authorization", "Bearer new"))
        .respond_with(ResponseTemplate::new(200).set_body_json(status_body("Completed")))
        .mount(&server)
        .await;
    let c = client(&server);
    let status = c.job_status("job1").await.unwrap();
    assert!(status.status.is_success());
    // The next call uses the new token without another refresh.
    c.job_status("job1").await.unwrap();
    let tokens = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/oauth2/token")
        .count();
    assert_eq!(tokens, 2);
}

#[tokio::test]
async fn a_second_401_is_returned_with_the_trace_id() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", json!("3599")).await;
    Mock::given(method("GET"))
        .and(path("/api/v2/workspaces/ws1/ingest/job/job1/status"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"type": "Unauthorized", "traceId": "trace-42"})),
        )
        .expect(2)
        .mount(&server)
        .await;
    let err = client(&server).job_status("job1").await.unwrap_err();
    assert!(err.is_unauthorized());
    assert_eq!(err.trace_id(), Some("trace-42"));
    assert_eq!(err.job_id(), Some("job1"));
    let ctx = err.context().unwrap();
    assert_eq!(ctx.service, Service::Gateway);
    assert_eq!(ctx.workspace.as_deref(), Some(WS));
    assert!(!err.to_string().contains(API_KEY));
}

#[tokio::test]
async fn bad_credentials_give_a_token_error_without_the_secret() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided.",
            "error_codes": [7000215]
        })))
        .mount(&server)
        .await;
    let err = client(&server).job_status("job1").await.unwrap_err();
    match &err {
        Error::Token { status, body, .. } => {
            assert_eq!(*status, 401);
            assert_eq!(body.error, "invalid_client");
            assert_eq!(body.error_codes, vec![7000215]);
        }
        other => panic!("{other:?}"),
    }
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains(SECRET) && !text.contains(API_KEY), "{text}");
    }
}

fn ingest_for(server: &MockServer) -> IngestResponse {
    IngestResponse {
        job_id: "job1".into(),
        sas_token: Secret::new(format!(
            "{}/fs/dir?sv=2020-02-10&sr=d&sig={SIG}",
            server.uri()
        )),
    }
}

/// A segmented append goes out as one body of exact `Content-Length` (not chunked), the
/// segments in order; a retry after a 503 resends the same bytes at the same position.
#[tokio::test]
async fn a_segmented_append_has_a_content_length_and_is_resent_whole() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/fs/dir/s.csv"))
        .respond_with(ResponseTemplate::new(201))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(query_param("action", "append"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(query_param("action", "append"))
        .respond_with(ResponseTemplate::new(202))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(query_param("action", "flush"))
        .and(query_param("position", "17"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;

    let c = client(&server);
    let mut upload = c.start_upload(&ingest_for(&server), "s.csv").await.unwrap();
    let rows = Bytes::from_static(b"a,b\n1,2\n3,4\n");
    let segments = vec![
        rows.slice(..4),
        Bytes::new(),
        rows.slice(4..8),
        rows.slice(8..),
    ];
    upload.append_segments(segments).await.unwrap();
    upload.append_segments(vec![Bytes::new()]).await.unwrap();
    upload
        .append_segments(vec![Bytes::from_static(b"5,6\n"), Bytes::from_static(b"7")])
        .await
        .unwrap();
    assert_eq!(upload.position(), 17);
    assert_eq!(upload.flush().await.unwrap(), 17);

    let requests = server.received_requests().await.unwrap();
    let appends: Vec<_> = requests
        .iter()
        .filter(|r| r.url.query().unwrap_or_default().contains("action=append"))
        .collect();
    assert_eq!(
        appends.len(),
        3,
        "the first append twice (one retry), the second once"
    );
    let positions: Vec<_> = appends
        .iter()
        .map(|r| {
            r.url
                .query()
                .unwrap()
                .rsplit('=')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(positions, ["0", "0", "12"]);
    let bodies: Vec<&[u8]> = appends.iter().map(|r| r.body.as_slice()).collect();
    assert_eq!(
        bodies,
        [&b"a,b\n1,2\n3,4\n"[..], b"a,b\n1,2\n3,4\n", b"5,6\n7"]
    );
    for r in &appends {
        assert_eq!(
            r.headers.get("content-length").unwrap().to_str().unwrap(),
            r.body.len().to_string()
        );
        assert!(r.headers.get("transfer-encoding").is_none());
    }
}

#[tokio::test]
async fn upload_sends_create_append_flush_with_storage_headers_and_the_sas() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/fs/dir/a.csv"))
        .and(query_param("resource", "file"))
        .and(header("content-length", "0"))
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&server)
        .await;
    // The first append at position 0 fails with 500, then succeeds: retried at position 0.
    Mock::given(method("PATCH"))
        .and(path("/fs/dir/a.csv"))
        .and(query_param("action", "append"))
        .and(query_param("position", "0"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/fs/dir/a.csv"))
        .and(query_param("action", "append"))
        .and(query_param("position", "0"))
        .and(body_string("a,b\n"))
        .respond_with(ResponseTemplate::new(202))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/fs/dir/a.csv"))
        .and(query_param("action", "append"))
        .and(query_param("position", "4"))
        .and(body_string("1,2\n"))
        .respond_with(ResponseTemplate::new(202))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/fs/dir/a.csv"))
        .and(query_param("action", "flush"))
        .and(query_param("position", "8"))
        .and(header("content-length", "0"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;

    let c = client(&server);
    let mut upload = c.start_upload(&ingest_for(&server), "a.csv").await.unwrap();
    assert!(!format!("{upload:?}").contains("abc"));
    upload.append(Bytes::from_static(b"a,b\n")).await.unwrap();
    upload.append(Bytes::from_static(b"1,2\n")).await.unwrap();
    assert_eq!(upload.position(), 8);
    assert_eq!(upload.flush().await.unwrap(), 8);

    let requests = server.received_requests().await.unwrap();
    assert_eq!(
        requests.len(),
        5,
        "create, append x2 (one retry), append, flush"
    );
    let appends0: Vec<_> = requests
        .iter()
        .filter(|r| r.url.query().unwrap_or_default().contains("position=0"))
        .collect();
    assert_eq!(appends0.len(), 2);
    // The retry keeps the client request id of its call.
    assert_eq!(
        appends0[0].headers.get("x-ms-client-request-id"),
        appends0[1].headers.get("x-ms-client-request-id")
    );
    for r in &requests {
        assert_eq!(r.headers.get("x-ms-version").unwrap(), "2023-05-03");
        assert!(
            httpdate::parse_http_date(r.headers.get("x-ms-date").unwrap().to_str().unwrap())
                .is_ok()
        );
        assert_eq!(
            r.headers
                .get("x-ms-client-request-id")
                .unwrap()
                .to_str()
                .unwrap()
                .len(),
            36
        );
        // The SAS query comes first, exactly as given (still percent-encoded).
        let q = r.url.query().unwrap();
        assert!(
            q.starts_with(&format!("sv=2020-02-10&sr=d&sig={SIG}&")),
            "{q}"
        );
        // No gateway credentials go to storage.
        assert!(r.headers.get("authorization").is_none());
        assert!(r.headers.get("ocp-apim-subscription-key").is_none());
    }
}

#[tokio::test]
async fn storage_errors_keep_code_position_and_hide_the_sas() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/fs/dir/a.csv"))
        .respond_with(ResponseTemplate::new(201))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(query_param("action", "append"))
        .respond_with(ResponseTemplate::new(202))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(query_param("action", "flush"))
        .respond_with(
            ResponseTemplate::new(400)
                .insert_header("x-ms-error-code", "InvalidFlushPosition")
                .insert_header("x-ms-request-id", "req-7")
                .set_body_json(json!({"error": {"code": "InvalidFlushPosition",
                    "message": "The uploaded data is not contiguous.\nRequestId:req-7\nTime:2026-01-01T00:00:00.0000000Z"}})),
        )
        .mount(&server)
        .await;
    let c = client(&server);
    let sas = ingest_for(&server).sas_token;
    let mut upload = DataLakeUpload::create(&c, &sas, "a.csv").await.unwrap();
    upload.append(Bytes::from_static(b"xyz")).await.unwrap();
    let err = upload.flush().await.unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.storage_code(), Some("InvalidFlushPosition"));
    let ctx = err.context().unwrap();
    assert_eq!(ctx.service, Service::Storage);
    assert_eq!(ctx.position, Some(3));
    assert_eq!(ctx.file.as_deref(), Some("a.csv"));
    match &err {
        Error::Storage { request_id, .. } => assert_eq!(request_id.as_deref(), Some("req-7")),
        other => panic!("{other:?}"),
    }
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains("sig=") && !text.contains("abc"), "{text}");
    }
}

#[tokio::test]
async fn transport_errors_do_not_leak_the_sas() {
    // Nothing listens on port 1.
    let server = MockServer::start().await;
    mount_token(&server, "tok", json!("3599")).await;
    let c = Client::builder(WS)
        .with_credentials("svc-id", SECRET)
        .with_subscription_key(API_KEY)
        .with_retry(RetryConfig::none())
        .build()
        .unwrap();
    let sas = Secret::new(format!("http://127.0.0.1:1/fs/dir?sig={SIG}"));
    let err = DataLakeUpload::create(&c, &sas, "a.csv").await.unwrap_err();
    assert!(matches!(err, Error::Http { .. }), "{err:?}");
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains("sig") && !text.contains("abc"), "{text}");
    }
}

async fn mount_status_sequence(server: &MockServer, bodies: Vec<serde_json::Value>) {
    let n = bodies.len();
    for (i, body) in bodies.into_iter().enumerate() {
        let mock = Mock::given(method("GET"))
            .and(path("/api/v2/workspaces/ws1/ingest/job/job1/status"))
            .respond_with(ResponseTemplate::new(200).set_body_json(body));
        let mock = if i + 1 < n {
            mock.up_to_n_times(1)
        } else {
            mock
        };
        mock.mount(server).await;
    }
}

fn quick_wait() -> JobWait {
    JobWait::default()
        .with_timeout(Duration::from_secs(5))
        .with_poll(
            BackoffConfig::default()
                .with_init_backoff(Duration::from_millis(1))
                .with_max_backoff(Duration::from_millis(5)),
        )
}

#[tokio::test]
async fn wait_for_job_until_completed() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", json!("3599")).await;
    let mut done = status_body("Completed");
    done["dataSetName"] = json!("Wind");
    done["datasetId"] = json!("ds9");
    mount_status_sequence(
        &server,
        vec![status_body("Pending"), status_body("running"), done],
    )
    .await;
    let status = client(&server)
        .wait_for_job("job1", &quick_wait())
        .await
        .unwrap();
    assert_eq!(status.dataset_id.as_deref(), Some("ds9"));
    assert_eq!(status.data_set_name.as_deref(), Some("Wind"));
}

#[tokio::test]
async fn wait_for_job_failed_status_carries_the_notebook_message() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", json!("3599")).await;
    let mut failed = status_body("Failed");
    failed["notebookErrorMessage"] = json!("column V is not Double");
    mount_status_sequence(&server, vec![status_body("Running"), failed]).await;
    let err = client(&server)
        .wait_for_job("job1", &quick_wait())
        .await
        .unwrap_err();
    match &err {
        Error::JobFailed {
            job_id,
            status,
            notebook_error_message,
            workspace,
            ..
        } => {
            assert_eq!(job_id, "job1");
            assert_eq!(workspace, WS);
            assert_eq!(*status, JobState::Failed);
            assert_eq!(notebook_error_message, "column V is not Double");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.job_id(), Some("job1"));
}

#[tokio::test]
async fn wait_for_job_completed_with_validation_errors_is_an_error() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", json!("3599")).await;
    let mut body = status_body("Completed");
    body["validationError"] = json!([{"row": 3, "column": "V", "message": "not a number"}]);
    mount_status_sequence(&server, vec![body]).await;
    let err = client(&server)
        .wait_for_job("job1", &quick_wait())
        .await
        .unwrap_err();
    match &err {
        Error::JobFailed {
            validation_errors,
            status,
            ..
        } => {
            assert_eq!(*status, JobState::Completed);
            assert_eq!(validation_errors[0].row, Some(3));
            assert_eq!(validation_errors[0].column.as_deref(), Some("V"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn wait_for_job_cancelled_is_an_error_and_deadline_is_a_timeout() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", json!("3599")).await;
    mount_status_sequence(&server, vec![status_body("CANCELED")]).await;
    let err = client(&server)
        .wait_for_job("job1", &quick_wait())
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::JobFailed {
                status: JobState::Cancelled,
                ..
            }
        ),
        "{err:?}"
    );

    let server = MockServer::start().await;
    mount_token(&server, "tok", json!("3599")).await;
    mount_status_sequence(&server, vec![status_body("Running")]).await;
    let err = client(&server)
        .wait_for_job(
            "job1",
            &quick_wait().with_timeout(Duration::from_millis(50)),
        )
        .await
        .unwrap_err();
    match &err {
        Error::JobTimeout {
            job_id,
            last_status,
            ..
        } => {
            assert_eq!(job_id, "job1");
            assert_eq!(last_status.as_ref(), Some(&JobState::Running));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn status_polls_are_retried_on_503() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", json!("3599")).await;
    Mock::given(method("GET"))
        .and(path("/api/v2/workspaces/ws1/ingest/job/job1/status"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    mount_status_sequence(&server, vec![status_body("Completed")]).await;
    let status = client(&server).job_status("job1").await.unwrap();
    assert!(status.status.is_success());
}

#[tokio::test]
async fn register_is_not_retried_on_502() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", json!("3599")).await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/workspaces/ws1/ingest/dataset/ds1"))
        .respond_with(ResponseTemplate::new(502).set_body_string("bad gateway"))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .update_dataset(
            "ds1",
            &UpdateDatasetRequest {
                files: vec![],
                start_automatically: true,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(502));
    assert_eq!(err.context().unwrap().dataset.as_deref(), Some("ds1"));
    match &err {
        Error::Gateway { body, .. } => assert_eq!(body.message.as_deref(), Some("bad gateway")),
        other => panic!("{other:?}"),
    }
}

/// A 429 or 503 says the call was not processed: register and start (not idempotent) are
/// sent again after the time named in `Retry-After`; a 502 on them is not.
#[tokio::test]
async fn register_and_start_are_retried_on_429_and_503() {
    for status in [429, 503] {
        let server = MockServer::start().await;
        mount_token(&server, "tok", json!("3599")).await;
        let register = "/api/v2/workspaces/ws1/ingest/dataset/ds1";
        Mock::given(method("PUT"))
            .and(path(register))
            .respond_with(ResponseTemplate::new(status).insert_header("retry-after", "0"))
            .up_to_n_times(2)
            .with_priority(1)
            .expect(2)
            .mount(&server)
            .await;
        Mock::given(method("PUT"))
            .and(path(register))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "sasToken": format!("{}/ingest/f?sig=x", server.uri()),
                "jobId": "job1", "datasetId": "ds1"
            })))
            .expect(1)
            .mount(&server)
            .await;
        let start = "/api/v2/workspaces/ws1/ingest/job/job1/start";
        Mock::given(method("POST"))
            .and(path(start))
            .respond_with(ResponseTemplate::new(status))
            .up_to_n_times(1)
            .with_priority(1)
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path(start))
            .respond_with(ResponseTemplate::new(202))
            .expect(1)
            .mount(&server)
            .await;
        let c = client(&server);
        let ingest = c
            .update_dataset(
                "ds1",
                &UpdateDatasetRequest {
                    files: vec![],
                    start_automatically: false,
                },
            )
            .await
            .unwrap();
        assert_eq!(ingest.job_id, "job1");
        c.start_job("job1").await.unwrap();
        server.verify().await;
    }
}

#[tokio::test]
async fn schemas_add_and_get() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", json!("3599")).await;
    let schema_json = json!({"id": "s1", "name": "Wind",
        "schemaVersions": [{"id": "sv1", "schemaVersionName": "Wind V1",
            "columns": [{"name": "TS", "type": "DateTime", "isKey": true, "isRequired": true},
                        {"name": "V", "type": "Double"}]}]});
    Mock::given(method("POST"))
        .and(path("/api/v2/workspaces/ws1/schemas/add"))
        .and(body_json(json!({"name": "Wind", "columns": [
            {"name": "TS", "type": "DateTime", "isRequired": true, "isSortable": false,
             "isFilterable": false, "isKey": true},
            {"name": "V", "type": "Double", "isRequired": false, "isSortable": false,
             "isFilterable": false, "isKey": false}]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(schema_json.clone()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/workspaces/ws1/schemas/s1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(schema_json))
        .mount(&server)
        .await;
    let c = client(&server);
    let schema = c
        .add_schema(&AddSchemaRequest {
            name: "Wind".into(),
            short_name: None,
            description: None,
            columns: vec![
                SchemaColumn::new("TS", ColumnType::DateTime).with_key(true),
                SchemaColumn::new("V", ColumnType::Double),
            ],
            row_validators: None,
        })
        .await
        .unwrap();
    assert_eq!(schema.current_version().unwrap().id, "sv1");
    let versions = c.schema_versions("s1").await.unwrap();
    assert_eq!(versions[0].columns[1].data_type, ColumnType::Double);
}

#[tokio::test]
async fn query_one_page() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", json!("3599")).await;
    Mock::given(method("POST"))
        .and(path("/api/v2/workspaces/ws1/datasets/ds1/query"))
        .and(body_json(
            json!({"pageIndex": 2, "pageSize": 2, "columnFilter": ["V"]}),
        ))
        .and(header_exists("ocp-apim-subscription-key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [{"V": 1.5}, {"V": null}],
            "pagination": {"pageIndex": 2, "pageSize": 2, "totalPages": 3, "totalCount": 5}
        })))
        .mount(&server)
        .await;
    let c = client(&server);
    let mut q = QueryRequest::page(2, 2);
    q.column_filter = vec!["V".into()];
    let page = c.query("ds1", &q).await.unwrap();
    assert_eq!(page.data.len(), 2);
    assert_eq!(page.data[0].get(), r#"{"V":1.5}"#);
    assert_eq!(page.rows().unwrap()[1]["V"], json!(null));
    assert!(page.has_next());
    assert!(matches!(
        c.query("ds1", &QueryRequest::page(0, 2)).await,
        Err(Error::InvalidInput { .. })
    ));
}

#[test]
fn secrets_do_not_show_in_debug() {
    let c = Client::builder(WS)
        .with_credentials("svc-id", SECRET)
        .with_subscription_key(API_KEY);
    let text = format!("{c:?}");
    assert!(!text.contains(SECRET) && !text.contains(API_KEY), "{text}");
    let c = c.build().unwrap();
    let text = format!("{c:?}");
    assert!(!text.contains(SECRET) && !text.contains(API_KEY), "{text}");
    assert!(text.contains("svc-id"));
}

#[test]
fn builder_rejects_bad_settings() {
    assert!(matches!(
        Client::builder("").with_credentials("a", "b").build(),
        Err(Error::Config { .. })
    ));
    assert!(matches!(
        Client::builder(WS).build(),
        Err(Error::Config { .. })
    ));
    assert!(matches!(
        Client::builder(WS)
            .with_credentials("a", "b")
            .with_base_url("ftp://x")
            .build(),
        Err(Error::Config { .. })
    ));
}

/// Every call's future is `Send`, so callers can `tokio::spawn` them.
#[test]
fn call_futures_are_send() {
    fn assert_send<T: Send>(_: T) {}
    let c = Client::builder(WS)
        .with_credentials("a", "b")
        .build()
        .unwrap();
    assert_send(c.job_status("j"));
    assert_send(c.wait_for_job("j", &JobWait::default()));
    assert_send(c.query("d", &QueryRequest::page(1, 1)));
    let ingest = IngestResponse {
        job_id: "j".into(),
        sas_token: Secret::new("http://h/fs/d?sig=x"),
    };
    assert_send(c.upload(&ingest, "a.csv", Bytes::new()));
}

#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Trace logs of a token refresh on 401, a retried status poll and a retried append hold
/// neither the client secret, the subscription key, the tokens nor the SAS signature.
///
/// The subscriber is the process's global one, not a thread-local default: with a
/// thread-local default, a callsite first hit by a concurrent test on another thread could
/// have its interest cached as "never", and this test's events went missing now and then.
/// The other tests of this binary log into the same buffer, which they must not leak
/// secrets into either.
#[tokio::test]
async fn logs_hide_secrets() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber)
        .expect("no other test of this binary sets the global subscriber");
    tracing::callsite::rebuild_interest_cache();

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(token_body("tok-old-1f2e", json!("3599"))),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    mount_token(&server, "tok-new-9a8b", json!("3599")).await;
    Mock::given(method("GET"))
        .and(header("authorization", "Bearer tok-old-1f2e"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/workspaces/ws1/ingest/job/job1/status"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    mount_status_sequence(&server, vec![status_body("Completed")]).await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(201))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(query_param("action", "append"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .respond_with(ResponseTemplate::new(202))
        .mount(&server)
        .await;

    let c = client(&server);
    c.wait_for_job("job1", &quick_wait()).await.unwrap();
    c.upload(&ingest_for(&server), "a.csv", Bytes::from_static(b"a\n1\n"))
        .await
        .unwrap();

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("veracity call"), "{logs}");
    assert!(logs.contains("data lake call"), "{logs}");
    for secret in [
        SECRET,
        API_KEY,
        "tok-old-1f2e",
        "tok-new-9a8b",
        "sig=",
        "abc%2Bdef",
        "abc+def",
    ] {
        assert!(!logs.contains(secret), "logs leak {secret:?}: {logs}");
    }
}

/// A Veracity error converts into the crate's error (for callers that use both clients).
#[test]
fn converts_into_the_crate_error() {
    let e: pushdata_core::Error = Error::InvalidInput {
        what: "job id",
        message: "it is empty".into(),
    }
    .into();
    assert!(matches!(e, pushdata_core::Error::Veracity(_)));
    assert!(e.to_string().contains("job id"));
}
