//! Login, the token and cookie on later calls, re-login on 401, logout, projects.

use std::time::Duration;

use pushdata_core::wire::{AUTH_TOKEN_HEADER, PROJECT_ID_HEADER};
use pushdata_core::{Credentials, Error, RetryConfig};
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::*;

#[tokio::test]
async fn login_sends_the_body_and_later_calls_carry_token_and_cookie() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(api("auth/login")))
        .and(body_json(
            json!({"loginMode": 1, "username": "administrator", "password": PASSWORD}),
        ))
        .and(header("content-type", "application/json"))
        .respond_with(login_ok(TOKEN))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(api("projects")))
        .and(header(AUTH_TOKEN_HEADER, TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(projects_json()))
        .expect(1)
        .mount(&server)
        .await;

    let client = client(&server);
    assert!(!client.is_logged_in());
    client
        .login(Credentials::standard("administrator", PASSWORD))
        .await
        .unwrap();
    assert!(client.is_logged_in());
    let projects = client.projects().await.unwrap();
    assert_eq!(projects.len(), 2);
    assert_eq!(projects[0].name, "MicroStrategy Tutorial");

    let got = requests_to(&server, &api("projects")).await;
    assert_eq!(got.len(), 1);
    let cookie = got[0].headers.get("cookie").unwrap().to_str().unwrap();
    assert!(cookie.contains("JSESSIONID=cookie-1"), "{cookie}");
    // The project header is only sent on dataset calls.
    assert!(got[0].headers.get(PROJECT_ID_HEADER).is_none());
}

#[tokio::test]
async fn other_login_modes_send_their_mode() {
    let server = MockServer::start().await;
    for (body, creds) in [
        (
            json!({"loginMode": 16, "username": "u", "password": "p"}),
            Credentials::ldap("u", "p"),
        ),
        (json!({"loginMode": 8}), Credentials::guest()),
        (
            json!({"loginMode": 4096, "username": "api-tok"}),
            Credentials::api_token("api-tok"),
        ),
    ] {
        let _mock = Mock::given(method("POST"))
            .and(path(api("auth/login")))
            .and(body_json(body))
            .respond_with(login_ok(TOKEN))
            .expect(1)
            .mount_as_scoped(&server)
            .await;
        client(&server).login(creds).await.unwrap();
    }
}

#[tokio::test]
async fn login_without_token_header_is_an_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(api("auth/login")))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let client = client(&server);
    let e = client
        .login(Credentials::standard("administrator", ""))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::MissingAuthToken { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("/MicroStrategyLibrary/api/auth/login"),
        "{e}"
    );
    assert!(!client.is_logged_in());
}

#[tokio::test]
async fn rejected_login_is_a_401_and_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(api("auth/login")))
        .respond_with(ResponseTemplate::new(401).set_body_json(error_body(
            "ERR003",
            "Invalid login",
            "t-login",
        )))
        .expect(1)
        .mount(&server)
        .await;
    let e = client(&server)
        .login(Credentials::standard("administrator", PASSWORD))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(401));
    assert!(e.is_unauthorized());
    assert_eq!(e.code(), Some("ERR003"));
    assert_eq!(e.ticket_id(), Some("t-login"));
}

#[tokio::test]
async fn calls_before_login_fail_without_a_request() {
    let server = MockServer::start().await;
    let client = client(&server);
    let e = client.projects().await.unwrap_err();
    assert!(matches!(e, Error::NotLoggedIn), "{e}");
    client.set_project_id(PROJECT);
    let e = client.publish_status("D", "S").await.unwrap_err();
    assert!(matches!(e, Error::NotLoggedIn), "{e}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn expired_session_logs_in_again_once_and_resends() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(api("auth/login")))
        .respond_with(login_ok("tok-first"))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(api("auth/login")))
        .and(body_json(
            json!({"loginMode": 1, "username": "administrator", "password": PASSWORD}),
        ))
        .respond_with(login_ok("tok-second"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(api("projects")))
        .and(header(AUTH_TOKEN_HEADER, "tok-first"))
        .respond_with(ResponseTemplate::new(401).set_body_json(error_body(
            "ERR009",
            "The user's session has expired, please reauthenticate",
            "t1",
        )))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(api("projects")))
        .and(header(AUTH_TOKEN_HEADER, "tok-second"))
        .respond_with(ResponseTemplate::new(200).set_body_json(projects_json()))
        .expect(2)
        .mount(&server)
        .await;

    let client = client(&server);
    client
        .login(Credentials::standard("administrator", PASSWORD))
        .await
        .unwrap();
    assert_eq!(client.projects().await.unwrap().len(), 2);
    // The renewed token is kept for later calls.
    assert_eq!(client.projects().await.unwrap().len(), 2);
}

#[tokio::test]
async fn non_idempotent_call_is_resent_after_relogin() {
    // A 401 means the server did not act on the request, so even a POST is resent.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(api("auth/login")))
        .respond_with(login_ok("tok-first"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mount_login(&server, "tok-second").await;
    Mock::given(method("POST"))
        .and(path(api("datasets/D/uploadSessions/S/publish")))
        .and(header(AUTH_TOKEN_HEADER, "tok-first"))
        .respond_with(ResponseTemplate::new(401))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(api("datasets/D/uploadSessions/S/publish")))
        .and(header(AUTH_TOKEN_HEADER, "tok-second"))
        .and(header(PROJECT_ID_HEADER, PROJECT))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    client
        .login(Credentials::standard("administrator", PASSWORD))
        .await
        .unwrap();
    client.set_project_id(PROJECT);
    client.publish("D", "S").await.unwrap();
}

#[tokio::test]
async fn second_401_is_returned() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(api("auth/login")))
        .respond_with(login_ok(TOKEN))
        .expect(2) // the login, and exactly one renewal
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(api("projects")))
        .respond_with(ResponseTemplate::new(401).set_body_json(error_body(
            "ERR009",
            "session expired",
            "t-401",
        )))
        .expect(2)
        .mount(&server)
        .await;
    let client = client(&server);
    client
        .login(Credentials::standard("administrator", PASSWORD))
        .await
        .unwrap();
    let e = client.projects().await.unwrap_err();
    assert_eq!(e.status(), Some(401));
    assert_eq!(e.ticket_id(), Some("t-401"));
    assert!(e.to_string().contains("HTTP 401 Unauthorized"), "{e}");
}

#[tokio::test]
async fn concurrent_401s_renew_the_session_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(api("auth/login")))
        .respond_with(login_ok("tok-first"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(api("auth/login")))
        .respond_with(login_ok("tok-second"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(api("projects")))
        .and(header(AUTH_TOKEN_HEADER, "tok-first"))
        // Slow enough that all tasks send with the first token before any renewal.
        .respond_with(ResponseTemplate::new(401).set_delay(Duration::from_millis(100)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(api("projects")))
        .and(header(AUTH_TOKEN_HEADER, "tok-second"))
        .respond_with(ResponseTemplate::new(200).set_body_json(projects_json()))
        .mount(&server)
        .await;
    let client = client(&server);
    client
        .login(Credentials::standard("administrator", PASSWORD))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.projects().await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap().len(), 2);
    }
}

#[tokio::test]
async fn logout_sends_the_token_and_forgets_the_session() {
    let server = MockServer::start().await;
    let client = logged_in(&server).await;
    Mock::given(method("POST"))
        .and(path(api("auth/logout")))
        .and(header(AUTH_TOKEN_HEADER, TOKEN))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    client.logout().await.unwrap();
    assert!(!client.is_logged_in());
    assert!(matches!(
        client.projects().await.unwrap_err(),
        Error::NotLoggedIn
    ));
    // Logging out twice does nothing.
    client.logout().await.unwrap();
}

#[tokio::test]
async fn logout_of_an_expired_session_succeeds_without_relogin() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(api("auth/login")))
        .respond_with(login_ok(TOKEN))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(api("auth/logout")))
        .respond_with(ResponseTemplate::new(401))
        .expect(1)
        .mount(&server)
        .await;
    let client = client_with(&server, RetryConfig::none());
    client
        .login(Credentials::standard("administrator", PASSWORD))
        .await
        .unwrap();
    client.logout().await.unwrap();
    assert!(!client.is_logged_in());
}

#[tokio::test]
async fn select_project_by_name_or_id_then_sends_the_project_header() {
    let server = MockServer::start().await;
    let client = client(&server);
    mount_login(&server, TOKEN).await;
    client
        .login(Credentials::standard("administrator", PASSWORD))
        .await
        .unwrap();
    Mock::given(method("GET"))
        .and(path(api("projects")))
        .respond_with(ResponseTemplate::new(200).set_body_json(projects_json()))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(api("datasets/D/uploadSessions/S")))
        .and(header(
            PROJECT_ID_HEADER,
            "AF09B3E3458F78B4FBE4DEB68528BF7B",
        ))
        .and(header(AUTH_TOKEN_HEADER, TOKEN))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;

    let p = client
        .select_project("MicroStrategy Tutorial")
        .await
        .unwrap();
    assert_eq!(p.id, PROJECT);
    assert_eq!(client.project_id().as_deref(), Some(PROJECT));
    let p = client
        .select_project("af09b3e3458f78b4fbe4deb68528bf7b")
        .await
        .unwrap();
    assert_eq!(p.name, "Human Resources Analysis Module");
    client.cancel_upload_session("D", "S").await.unwrap();

    let e = client.select_project("Nope").await.unwrap_err();
    match &e {
        Error::UnknownProject { name, available } => {
            assert_eq!(name, "Nope");
            assert_eq!(available.len(), 2);
        }
        other => panic!("{other}"),
    }
    assert!(e.to_string().contains("\"MicroStrategy Tutorial\""), "{e}");
}

#[tokio::test]
async fn dataset_call_without_project_fails_without_a_request() {
    let server = MockServer::start().await;
    mount_login(&server, TOKEN).await;
    let client = client(&server);
    client
        .login(Credentials::standard("administrator", PASSWORD))
        .await
        .unwrap();
    let e = client.publish("D", "S").await.unwrap_err();
    assert!(matches!(e, Error::NoProjectSelected { .. }), "{e}");
    assert!(
        requests_to(&server, &api("datasets/D/uploadSessions/S/publish"))
            .await
            .is_empty()
    );
}
