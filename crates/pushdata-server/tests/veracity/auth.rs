//! Token endpoint, API Management checks, routing beside the Push Data API, Host check.

use pushdata_server::DEFAULT_VERACITY_SUBSCRIPTION_KEY;
use reqwest::Method;

use crate::common::{GATEWAY, WS, send, start, start_with};

#[tokio::test]
async fn token_v1_shape_and_aad_errors() {
    let dir = tempfile::tempdir().unwrap();
    let v = start(dir.path()).await;
    let ok = v
        .token_request(
            pushdata_server::DEFAULT_VERACITY_CLIENT_ID,
            pushdata_server::DEFAULT_VERACITY_CLIENT_SECRET,
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let j = ok.json();
    assert_eq!(j["token_type"], "Bearer");
    assert_eq!(j["expires_in"], "3599", "v1 numbers are strings");
    let bad = v
        .token_request(pushdata_server::DEFAULT_VERACITY_CLIENT_ID, "wrong")
        .await;
    assert_eq!(bad.status, 401);
    assert_eq!(bad.json()["error"], "invalid_client");
    assert_eq!(bad.json()["error_codes"][0], 7_000_215);
    let unknown = v.token_request("someone-else", "x").await;
    assert_eq!(unknown.status, 400);
    assert_eq!(unknown.json()["error"], "unauthorized_client");
    let missing = send(
        v.client
            .post(format!("{}/t/oauth2/token", v.root))
            .form(&[("grant_type", "client_credentials")]),
    )
    .await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.json()["error"], "invalid_request");
    assert!(
        !bad.body
            .contains(pushdata_server::DEFAULT_VERACITY_CLIENT_SECRET)
    );
}

#[tokio::test]
async fn gateway_checks_subscription_key_then_token() {
    let dir = tempfile::tempdir().unwrap();
    let v = start(dir.path()).await;
    let url = format!(
        "{}{GATEWAY}/workspaces/{WS}/schemas/00000000-0000-4000-a000-000000000000",
        v.root
    );
    let no_key = send(v.client.get(&url).bearer_auth(&v.token)).await;
    assert_eq!(no_key.status, 401);
    assert_eq!(no_key.json()["statusCode"], 401);
    assert!(
        no_key.json()["message"]
            .as_str()
            .unwrap()
            .contains("missing subscription key")
    );
    let wrong_key = send(
        v.client
            .get(&url)
            .bearer_auth(&v.token)
            .header("Ocp-Apim-Subscription-Key", "nope"),
    )
    .await;
    assert_eq!(wrong_key.status, 401);
    assert!(
        wrong_key.json()["message"]
            .as_str()
            .unwrap()
            .contains("invalid subscription key")
    );
}

#[tokio::test]
async fn gateway_checks_the_bearer_token_and_workspace() {
    let dir = tempfile::tempdir().unwrap();
    let v = start(dir.path()).await;
    let url = format!(
        "{}{GATEWAY}/workspaces/{WS}/schemas/00000000-0000-4000-a000-000000000000",
        v.root
    );
    let key = (
        "Ocp-Apim-Subscription-Key",
        DEFAULT_VERACITY_SUBSCRIPTION_KEY,
    );
    let no_token = send(v.client.get(&url).header(key.0, key.1)).await;
    assert_eq!(no_token.status, 401);
    let bad_token = send(
        v.client
            .get(&url)
            .header(key.0, key.1)
            .bearer_auth("forged"),
    )
    .await;
    assert_eq!(bad_token.status, 401);
    assert!(
        bad_token.json()["message"]
            .as_str()
            .unwrap()
            .contains("Access token")
    );
    let ok = send(
        v.client
            .get(&url)
            .header(key.0, key.1)
            .bearer_auth(&v.token),
    )
    .await;
    assert_eq!(
        ok.status, 404,
        "authorized; the schema does not exist: {}",
        ok.body
    );
    assert_eq!(ok.json()["type"], "NotFound");
    assert!(ok.json()["traceId"].is_string());
    let unknown = send(v.client.get(format!("{}{GATEWAY}/nothing", v.root))).await;
    assert_eq!(
        unknown.status, 401,
        "API Management answers before the backend"
    );
    let not_uuid = v
        .gw(Method::GET, "/../../workspaces/not-a-uuid/schemas/x", None)
        .await;
    assert_eq!(not_uuid.status, 404);
}

#[tokio::test]
async fn configured_credentials_replace_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let v = start_with(dir.path(), |c| {
        c.with_veracity_client("svc-1", "s3cret")
            .with_veracity_subscription_key("k3y")
    })
    .await;
    assert!(v.token.is_empty(), "the default client no longer works");
    let ok = v.token_request("svc-1", "s3cret").await;
    assert_eq!(ok.status, 200);
    let token = ok.json()["access_token"].as_str().unwrap().to_string();
    let url = format!("{}{GATEWAY}/workspaces/{WS}/schemas/x", v.root);
    let old_key = send(v.client.get(&url).bearer_auth(&token).header(
        "Ocp-Apim-Subscription-Key",
        DEFAULT_VERACITY_SUBSCRIPTION_KEY,
    ))
    .await;
    assert_eq!(old_key.status, 401);
    let new_key = send(
        v.client
            .get(&url)
            .bearer_auth(&token)
            .header("Ocp-Apim-Subscription-Key", "k3y"),
    )
    .await;
    assert_eq!(new_key.status, 404);
    let config = pushdata_server::ServerConfig::new(dir.path())
        .with_veracity_client("svc", "s3cret")
        .with_veracity_subscription_key("k3y");
    let debug = format!("{config:?}");
    assert!(
        !debug.contains("s3cret") && !debug.contains("k3y"),
        "{debug}"
    );
}

#[tokio::test]
async fn push_data_api_is_not_shadowed_and_hosts_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let v = start(dir.path()).await;
    let status = send(
        v.client
            .get(format!("{}/MicroStrategyLibrary/api/status", v.root)),
    )
    .await;
    assert_eq!(status.status, 200, "{}", status.body);
    let login = send(
        v.client
            .post(format!("{}/MicroStrategyLibrary/api/auth/login", v.root))
            .json(
                &serde_json::json!({"username": "administrator", "password": "", "loginMode": 1}),
            ),
    )
    .await;
    assert_eq!(login.status, 204, "{}", login.body);
    let unknown = send(
        v.client
            .put(format!("{}/MicroStrategyLibrary/api/nothing", v.root)),
    )
    .await;
    assert_eq!(unknown.status, 404);
    assert!(
        unknown.headers.get("x-ms-error-code").is_none(),
        "answered by the Push Data API, not the Data Lake"
    );
    let evil = send(
        v.client
            .get(format!("{}{GATEWAY}/workspaces/{WS}/schemas/x", v.root))
            .header("host", "evil.example.com"),
    )
    .await;
    assert_eq!(evil.status, 403);
    let evil_lake = send(
        v.client
            .put(format!("{}/ingest/job/f.csv?resource=file", v.root))
            .header("host", "evil.example.com"),
    )
    .await;
    assert_eq!(evil_lake.status, 403);
    assert!(evil_lake.headers.get("x-ms-error-code").is_none());
}

#[tokio::test]
async fn other_paths_and_methods_are_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let v = start_with(dir.path(), |c| c.with_base_path("/custom")).await;
    let old_base = send(
        v.client
            .get(format!("{}/MicroStrategyLibrary/api/status", v.root)),
    )
    .await;
    assert_eq!(old_base.status, 404);
    let read = send(
        v.client
            .get(format!("{}/ingest/job/ImportData.csv", v.root)),
    )
    .await;
    assert_eq!(read.status, 404);
    assert_eq!(read.headers["x-ms-error-code"], "ResourceNotFound");
    let custom = send(v.client.get(format!("{}/custom/api/status", v.root))).await;
    assert_eq!(custom.status, 200);
}
