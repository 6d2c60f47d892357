//! The login modes over HTTP, with the bodies real clients send: mstrio-py's form body for
//! standard and LDAP logins, its JSON body with the token in `username` for API token
//! logins (mode 4096), guest logins when enabled, and API tokens issued by
//! `POST /api/auth/apiTokens`.

use pushdata_core::wire::LoginMode;
use pushdata_server::{GUEST_USER, ServerHandle};
use reqwest::Method;
use serde_json::json;

use crate::common::*;

/// `POST /api/auth/login` with a form body, as mstrio-py sends modes 1 and 16.
async fn form_login(handle: &ServerHandle, mode: u32, user: &str, password: &str) -> Resp {
    let resp = reqwest::Client::new()
        .post(format!("{}/api/auth/login", handle.base_url()))
        .form(&[
            ("loginMode", mode.to_string().as_str()),
            ("applicationType", "35"),
            ("username", user),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    Resp {
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
        body: resp.text().await.unwrap(),
    }
}

/// `POST /api/auth/login` with a JSON body.
async fn json_login(handle: &ServerHandle, body: serde_json::Value) -> Resp {
    Api::new(handle)
        .send(
            Method::POST,
            "/api/auth/login",
            Some(&body.to_string()),
            &[],
        )
        .await
}

/// The user name a login's token belongs to (`GET /api/sessions`).
async fn session_user(handle: &ServerHandle, login: &Resp) -> String {
    assert_eq!(login.status, 204, "{}", login.body);
    let mut api = Api::new(handle);
    api.token = Some(
        login.headers["x-mstr-authtoken"]
            .to_str()
            .unwrap()
            .to_string(),
    );
    let r = api.get("/api/sessions").await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["username"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn standard_and_ldap_check_the_users_and_say_which_mode_failed() {
    let dir = tempfile::tempdir().unwrap();
    let h = start_with(dir.path(), |c| c.with_user("ann", "s3cret")).await;
    for mode in [1, 16] {
        let ok = form_login(&h, mode, "ann", "s3cret").await;
        assert_eq!(session_user(&h, &ok).await, "ann");
        let bad = form_login(&h, mode, "ann", "wrong").await;
        let name = LoginMode(mode).to_string();
        bad.assert_error(401, &["login failed", &name, "\"ann\""]);
    }
}

#[tokio::test]
async fn a_mode_that_is_not_enabled_is_refused_naming_the_enabled_ones() {
    let dir = tempfile::tempdir().unwrap();
    let h = start_with(dir.path(), |c| c.with_login_modes([LoginMode::LDAP])).await;
    let r = form_login(&h, 1, "administrator", "").await;
    r.assert_error(401, &["standard (1) is not enabled", "LDAP (16)"]);
    let ok = form_login(&h, 16, "administrator", "").await;
    assert_eq!(session_user(&h, &ok).await, "administrator");
    // Guest logins are off unless enabled.
    let r = json_login(&h, json!({"loginMode": 8})).await;
    r.assert_error(401, &["guest (8) is not enabled"]);
}

#[tokio::test]
async fn guest_logins_when_enabled_are_the_guest_user() {
    let dir = tempfile::tempdir().unwrap();
    let h = start_with(dir.path(), |c| {
        c.with_login_modes([LoginMode::STANDARD, LoginMode::GUEST])
    })
    .await;
    let r = json_login(&h, json!({"loginMode": 8})).await;
    assert_eq!(session_user(&h, &r).await, GUEST_USER);
}

#[tokio::test]
async fn api_tokens_issued_and_configured_log_in_as_their_user() {
    let dir = tempfile::tempdir().unwrap();
    let h = start_with(dir.path(), |c| {
        c.with_user("ann", "pw")
            .with_user("bob", "pw2")
            .with_api_token("bob", "bobs-configured-token")
    })
    .await;
    let ann = Api::login_as(&h, "ann", "pw").await;
    let r = ann
        .send(Method::POST, "/api/auth/apiTokens", None, &[])
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let token = r.json()["apiToken"].as_str().unwrap().to_string();

    let login = json_login(&h, json!({"loginMode": 4096, "username": token})).await;
    assert_eq!(session_user(&h, &login).await, "ann");
    let login = json_login(
        &h,
        json!({"loginMode": 4096, "username": "bobs-configured-token"}),
    )
    .await;
    assert_eq!(session_user(&h, &login).await, "bob");

    let r = json_login(&h, json!({"loginMode": 4096, "username": "no-such-token"})).await;
    r.assert_error(401, &["API token is not valid"]);
    let r = json_login(&h, json!({"loginMode": 4096})).await;
    r.assert_error(401, &["needs the API token in the username field"]);

    // A token for someone else needs a privilege this server does not give.
    let r = ann
        .post(
            "/api/auth/apiTokens",
            &json!({"userId": "0123456789ABCDEF0123456789ABCDEF"}),
        )
        .await;
    r.assert_error(403, &["only for themselves"]);
    // Issuing needs a session.
    let r = Api::new(&h)
        .send(Method::POST, "/api/auth/apiTokens", None, &[])
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
}

#[tokio::test]
async fn unusable_login_configurations_are_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let config = |c: pushdata_server::ServerConfig| c.with_addr("127.0.0.1:0".parse().unwrap());
    let refused = [
        config(pushdata_server::ServerConfig::new(dir.path())).with_login_modes(std::iter::empty()),
        config(pushdata_server::ServerConfig::new(dir.path())).with_login_modes([LoginMode(64)]),
        config(pushdata_server::ServerConfig::new(dir.path())).with_api_token("nobody", "t"),
        pushdata_server::ServerConfig::new(dir.path())
            .with_addr("0.0.0.0:0".parse().unwrap())
            .with_user("ann", "pw")
            .with_login_modes([LoginMode::GUEST]),
    ];
    for c in refused {
        let e = pushdata_server::Server::start(c).await.unwrap_err();
        assert!(matches!(e, pushdata_server::ServerError::Config(_)), "{e}");
    }
}
