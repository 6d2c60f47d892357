//! Passwords and tokens never reach Debug, Display or logs.

use std::io::Write;
use std::sync::{Arc, Mutex};

use pushdata_core::wire::AUTH_TOKEN_HEADER;
use pushdata_core::{Credentials, Error, RetryConfig};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::*;

const SECOND_TOKEN: &str = "tok-renewed-88e0f1";

fn assert_clean(what: &str, text: &str) {
    for secret in [PASSWORD, TOKEN, SECOND_TOKEN] {
        assert!(!text.contains(secret), "{what} leaks {secret:?}: {text}");
    }
}

#[tokio::test]
async fn debug_of_client_credentials_and_errors_hides_secrets() {
    let server = MockServer::start().await;
    let client = logged_in(&server).await;
    let creds = Credentials::standard("administrator", PASSWORD);
    assert_clean("Credentials", &format!("{creds:?}"));
    assert!(format!("{creds:?}").contains("administrator"));
    assert_clean(
        "ApiToken credentials",
        &format!("{:?}", Credentials::api_token(TOKEN)),
    );
    assert_clean("Client", &format!("{client:?}"));
    assert_clean("Client alternate", &format!("{client:#?}"));
    assert_clean(
        "ClientBuilder",
        &format!("{:?}", pushdata_core::Client::builder(server.uri())),
    );

    Mock::given(method("GET"))
        .and(path(api("projects")))
        .respond_with(ResponseTemplate::new(403).set_body_json(error_body(
            "ERR014",
            "forbidden",
            "t",
        )))
        .mount(&server)
        .await;
    let e = client.projects().await.unwrap_err();
    assert_eq!(e.status(), Some(403));
    assert_clean("Error Display", &e.to_string());
    assert_clean("Error Debug", &format!("{e:?}"));

    // A failed login: the error must not carry the request body.
    let other = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(api("auth/login")))
        .respond_with(ResponseTemplate::new(401))
        .mount(&other)
        .await;
    let e = client_with(&other, RetryConfig::none())
        .login(Credentials::standard("administrator", PASSWORD))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Server { status: 401, .. }), "{e}");
    assert_clean("login Error Display", &e.to_string());
    assert_clean("login Error Debug", &format!("{e:?}"));
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_of_login_relogin_and_retries_hide_secrets() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(api("auth/login")))
        .respond_with(login_ok(TOKEN))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mount_login(&server, SECOND_TOKEN).await;
    Mock::given(method("GET"))
        .and(path(api("projects")))
        .and(header(AUTH_TOKEN_HEADER, TOKEN))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(api("projects")))
        .and(header(AUTH_TOKEN_HEADER, SECOND_TOKEN))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(api("projects")))
        .and(header(AUTH_TOKEN_HEADER, SECOND_TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(projects_json()))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(api("auth/logout")))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;

    let client = client(&server);
    client
        .login(Credentials::standard("administrator", PASSWORD))
        .await
        .unwrap();
    assert_eq!(client.projects().await.unwrap().len(), 2);
    client.logout().await.unwrap();

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    // The interesting events were logged...
    assert!(logs.contains("logging in again"), "{logs}");
    assert!(logs.contains("server busy; retrying"), "{logs}");
    assert!(logs.contains("logged in"), "{logs}");
    // ...without a secret.
    assert_clean("logs", &logs);
}
