//! Shared test setup: a mock server, a client with fast retries, a mounted login.

use std::time::Duration;

use pushdata_core::wire::AUTH_TOKEN_HEADER;
use pushdata_core::{BackoffConfig, Client, Credentials, RetryConfig};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The base path of the API on the mock server.
pub(crate) const BASE: &str = "/MicroStrategyLibrary";
/// A token the mock login hands out.
pub(crate) const TOKEN: &str = "tok-4c1d9e7a2b";
/// A password distinctive enough to search for in Debug output and logs.
pub(crate) const PASSWORD: &str = "Zebra-Quokka-91!pw";
/// The default project id.
pub(crate) const PROJECT: &str = "B19DEDCC11D4E0EFC000EB9495D0F44F";

/// `/MicroStrategyLibrary/api/{rest}`.
pub(crate) fn api(rest: &str) -> String {
    format!("{BASE}/api/{rest}")
}

/// Retries that do not slow the tests down.
pub(crate) fn fast_retry() -> RetryConfig {
    RetryConfig::default()
        .with_max_retries(3)
        .with_retry_timeout(Duration::from_secs(10))
        .with_backoff(
            BackoffConfig::default()
                .with_init_backoff(Duration::from_millis(5))
                .with_max_backoff(Duration::from_millis(20)),
        )
}

/// A client for `server` with fast retries.
pub(crate) fn client(server: &MockServer) -> Client {
    client_with(server, fast_retry())
}

/// A client for `server` with the given retries.
pub(crate) fn client_with(server: &MockServer, retry: RetryConfig) -> Client {
    Client::builder(format!("{}{BASE}", server.uri()))
        .with_timeout(Duration::from_secs(5))
        .with_connect_timeout(Duration::from_secs(2))
        .with_retry(retry)
        .build()
        .unwrap()
}

/// A successful login response carrying `token` and a session cookie.
pub(crate) fn login_ok(token: &str) -> ResponseTemplate {
    ResponseTemplate::new(204)
        .insert_header(AUTH_TOKEN_HEADER, token)
        .insert_header("set-cookie", "JSESSIONID=cookie-1; Path=/")
}

/// Mount a login that always hands out `token`.
pub(crate) async fn mount_login(server: &MockServer, token: &str) {
    Mock::given(method("POST"))
        .and(path(api("auth/login")))
        .respond_with(login_ok(token))
        .mount(server)
        .await;
}

/// A client logged in as administrator (with [`PASSWORD`]) with [`PROJECT`] selected.
pub(crate) async fn logged_in(server: &MockServer) -> Client {
    mount_login(server, TOKEN).await;
    let client = client(server);
    client
        .login(Credentials::standard("administrator", PASSWORD))
        .await
        .unwrap();
    client.set_project_id(PROJECT);
    client
}

/// The requests received on `path`, in order.
pub(crate) async fn requests_to(server: &MockServer, p: &str) -> Vec<wiremock::Request> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == p)
        .collect()
}

/// An error body like the server's.
pub(crate) fn error_body(code: &str, message: &str, ticket: &str) -> Value {
    json!({"code": code, "message": message, "ticketId": ticket, "iServerCode": -2147072488})
}

/// The projects of the seeds.
pub(crate) fn projects_json() -> Value {
    json!([
        {"id": PROJECT, "name": "MicroStrategy Tutorial", "alias": "", "description": "d", "status": 0},
        {"id": "AF09B3E3458F78B4FBE4DEB68528BF7B", "name": "Human Resources Analysis Module", "alias": "", "status": 0}
    ])
}
