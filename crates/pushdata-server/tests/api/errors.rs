//! Bad input and auth: status code, message content, server still serving, published data
//! unchanged.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::common::*;

const BASE: [&str; 3] = ["1|a|1.0", "2|b|2.0", "3|c|3.0"];

#[tokio::test]
async fn bad_chunks_are_refused_clearly_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let h = start_with(dir.path(), |c| c.with_max_body_bytes(4096)).await;
    let api = Api::login(&h).await;
    let ds = api.create_model(&items_model("bad")).await;
    api.push(&ds, &[("items", "replace", BASE_ROWS)]).await;
    let sid = api
        .open_session(&ds, &json!([{"name": "items", "updatePolicy": "replace"}]))
        .await;
    let put = |body: String| {
        let api = api.clone();
        let path = format!("/api/datasets/{ds}/uploadSessions/{sid}");
        async move { api.send(Method::PUT, &path, Some(&body), &[]).await }
    };

    // Malformed base64.
    put(json!({"tableName": "items", "index": 3, "data": "!!!notbase64"}).to_string())
        .await
        .assert_error(400, &["chunk 3", "base64"]);
    // Malformed JSON inside the base64.
    api.put_chunk(&ds, &sid, "items", 4, r#"[[1,"a",1.0],[2,"b""#)
        .await
        .assert_error(400, &["\"items\"", "chunk 4", "malformed JSON"]);
    // Wrong column count.
    api.put_chunk(&ds, &sid, "items", 5, r#"[[1,"a",1.0],[2,"b"]]"#)
        .await
        .assert_error(400, &["chunk 5", "row 2", "has 2 values, expected 3"]);
    // A value that does not fit its column's type.
    api.put_chunk(&ds, &sid, "items", 6, r#"[[1,"a",1.0],[2,"b","lots"]]"#)
        .await
        .assert_error(
            400,
            &["chunk 6", "row 2", "\"value\"", "DOUBLE", "not a number"],
        );
    api.put_chunk(&ds, &sid, "items", 6, r#"[[3000000000,"a",1.0]]"#)
        .await
        .assert_error(400, &["\"id\"", "out of range"]);
    // Unknown table.
    api.put_chunk(&ds, &sid, "nope", 1, "[]")
        .await
        .assert_error(400, &["\"nope\"", "\"items\""]);
    // Malformed request JSON.
    put("{\"tableName\": ".to_string())
        .await
        .assert_error(400, &["invalid chunk body"]);
    // Body over the limit: 413.
    let big = "x".repeat(5000);
    put(json!({"tableName": "items", "index": 9, "data": big}).to_string())
        .await
        .assert_error(413, &["limit of 4096 bytes"]);
    // Unknown session.
    let r = api
        .send(
            Method::PUT,
            &format!("/api/datasets/{ds}/uploadSessions/0123456789ABCDEF0123456789ABCDEF"),
            Some("{}"),
            &[],
        )
        .await;
    r.assert_error(404, &["upload session"]);
    // Unknown dataset.
    api.get("/api/datasets/0123456789ABCDEF0123456789ABCDEF")
        .await
        .assert_error(404, &["dataset"]);

    // The session still works after all that; nothing bad was staged.
    api.assert_alive().await;
    assert_eq!(stored(dir.path(), &ds, "items"), BASE);
    assert_eq!(
        api.put_chunk(&ds, &sid, "items", 1, r#"[[5,"e",5.0]]"#)
            .await
            .status,
        200
    );
    assert!(api.publish_and_wait(&ds, &sid).await.status.is_ready());
    assert_eq!(stored(dir.path(), &ds, "items"), vec!["5|e|5.0"]);
    // Finished session: 409, data unchanged.
    api.put_chunk(&ds, &sid, "items", 2, r#"[[6,"f",6.0]]"#)
        .await
        .assert_error(409, &["already published"]);
    let r = api
        .send(
            Method::POST,
            &format!("/api/datasets/{ds}/uploadSessions/{sid}/publish"),
            None,
            &[],
        )
        .await;
    r.assert_error(409, &[&sid]);
    assert_eq!(stored(dir.path(), &ds, "items"), vec!["5|e|5.0"]);
    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_single_requests_and_headers() {
    let dir = tempfile::tempdir().unwrap();
    let h = start(dir.path()).await;
    let mut api = Api::login(&h).await;
    let body = |data: &str| {
        json!({"name": "items", "columnHeaders": [
            {"name": "id", "dataType": "INTEGER"}, {"name": "name", "dataType": "STRING"},
            {"name": "value", "dataType": "DOUBLE"}], "data": b64(data)})
        .to_string()
    };
    let ds = api.create_model(&items_model("single")).await;
    let patch = |api: Api, policy: Option<&'static str>, b: String| {
        let ds = ds.clone();
        async move {
            let h: Vec<(&str, &str)> = policy
                .map(|p| vec![("updatePolicy", p)])
                .unwrap_or_default();
            api.send(
                Method::PATCH,
                &format!("/api/datasets/{ds}/tables/items"),
                Some(&b),
                &h,
            )
            .await
        }
    };
    assert_eq!(
        patch(api.clone(), Some("replace"), body(BASE_ROWS))
            .await
            .status,
        200
    );
    assert_eq!(stored(dir.path(), &ds, "items"), BASE);

    patch(api.clone(), None, body(BASE_ROWS))
        .await
        .assert_error(400, &["updatePolicy"]);
    patch(api.clone(), Some("merge"), body(BASE_ROWS))
        .await
        .assert_error(400, &["\"merge\"", "upsert"]);
    patch(api.clone(), Some("add"), body(r#"[{"id":1,"bogus":2}]"#))
        .await
        .assert_error(400, &["unknown column \"bogus\""]);
    let r = api
        .send(
            Method::PATCH,
            &format!("/api/datasets/{ds}/tables/nosuch"),
            Some(&body("[]")),
            &[("updatePolicy", "add")],
        )
        .await;
    r.assert_error(404, &["\"nosuch\"", "\"items\""]);
    // Create with a formula naming an unknown table: 400, no dataset created.
    let r = api
        .post(
            "/api/datasets",
            &json!({"name": "x", "tables": [{"name": "T", "columnHeaders": [
            {"name": "a", "dataType": "INTEGER"}], "data": b64("[[1]]")}],
            "metrics": [{"name": "a", "expressions": [{"formula": "U.a"}]}]}),
        )
        .await;
    r.assert_error(400, &["\"U.a\""]);
    // Names break the API's rule (forbidden characters, control characters): 400 naming it.
    let r = api
        .post(
            "/api/datasets/models",
            &json!({"name": "x", "tables": [{"name": "T", "columnHeaders": [
            {"name": "a[1]", "dataType": "INTEGER"}]}]}),
        )
        .await;
    r.assert_error(400, &["column of table \"T\"", "\"a[1]\"", "not allowed"]);
    let r = api
        .post(
            "/api/datasets/models",
            &json!({"name": "x", "tables": [{"name": "T\u{7}", "columnHeaders": [
            {"name": "a", "dataType": "INTEGER"}]}]}),
        )
        .await;
    r.assert_error(400, &["table", "control character"]);

    // Project header: missing 400, unknown 401.
    api.project = None;
    api.get(&format!("/api/datasets/{ds}"))
        .await
        .assert_error(400, &["X-MSTR-ProjectID"]);
    api.project = Some("00000000000000000000000000000000".into());
    api.get(&format!("/api/datasets/{ds}"))
        .await
        .assert_error(401, &["00000000000000000000000000000000"]);
    api.project = Some(PROJECT.into());
    api.assert_alive().await;
    assert_eq!(stored(dir.path(), &ds, "items"), BASE);
    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn auth_rules() {
    let dir = tempfile::tempdir().unwrap();
    let h = start_with(dir.path(), |c| {
        c.with_user("alice", "s3cret")
            .with_token_idle_timeout(Duration::from_millis(400))
    })
    .await;
    let mut api = Api::new(&h);
    // No token.
    api.get("/api/projects")
        .await
        .assert_error(401, &["X-MSTR-AuthToken"]);
    // Bad password; the password never appears in the message.
    let r = api
        .post(
            "/api/auth/login",
            &json!({"loginMode": 1, "username": "alice", "password": "hunter2-bad"}),
        )
        .await;
    r.assert_error(401, &["login failed"]);
    assert!(!r.body.contains("hunter2-bad"));
    // The default user is gone once a user is configured.
    let r = api
        .post(
            "/api/auth/login",
            &json!({"loginMode": 1, "username": "administrator", "password": ""}),
        )
        .await;
    assert_eq!(r.status, 401);
    // Form-encoded login, as mstrio-py sends it.
    let resp = api
        .client
        .post(format!("{}/api/auth/login", api.base))
        .form(&[
            ("username", "alice"),
            ("password", "s3cret"),
            ("loginMode", "1"),
            ("applicationType", "35"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    api.token = Some(
        resp.headers()["x-mstr-authtoken"]
            .to_str()
            .unwrap()
            .to_string(),
    );
    api.assert_alive().await;
    // Session info for clients: integer timeout in seconds.
    let info = api.get("/api/sessions").await.json();
    assert!(info["timeout"].is_u64(), "{info}");
    // Idle expiry.
    tokio::time::sleep(Duration::from_millis(700)).await;
    api.get("/api/projects")
        .await
        .assert_error(401, &["expired"]);
    // Logout kills the token.
    let r = api
        .post(
            "/api/auth/login",
            &json!({"username": "alice", "password": "s3cret"}),
        )
        .await;
    api.token = Some(r.headers["x-mstr-authtoken"].to_str().unwrap().to_string());
    api.assert_alive().await;
    assert_eq!(
        api.send(Method::POST, "/api/auth/logout", None, &[])
            .await
            .status,
        204
    );
    api.get("/api/projects")
        .await
        .assert_error(401, &["not valid"]);
    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn refuses_non_loopback_with_an_empty_password() {
    let dir = tempfile::tempdir().unwrap();
    let config =
        pushdata_server::ServerConfig::new(dir.path()).with_addr("0.0.0.0:0".parse().unwrap());
    let err = pushdata_server::Server::start(config).await.unwrap_err();
    assert!(err.to_string().contains("empty password"), "{err}");
}

#[tokio::test]
async fn a_second_server_on_one_data_directory_is_refused_and_the_first_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let h = start(dir.path()).await;
    let api = Api::login(&h).await;
    let ds = api.create_model(&items_model("locked")).await;
    api.push(&ds, &[("items", "replace", BASE_ROWS)]).await;

    // A second server on the same directory would clear the first one's staging and
    // collect files it has not swapped in yet: it must not start.
    let err = pushdata_server::Server::start(pushdata_server::ServerConfig::new(dir.path()))
        .await
        .unwrap_err();
    match &err {
        pushdata_server::ServerError::DataDirLocked { dir: d, holder } => {
            assert_eq!(d, dir.path());
            assert!(
                holder.contains(&format!("pid {}", std::process::id())),
                "{holder}"
            );
        }
        other => panic!("expected DataDirLocked, got {other:?}"),
    }
    assert!(
        err.to_string().contains(&dir.path().display().to_string()),
        "{err}"
    );

    // The first server is untouched: its data and a new push work.
    api.push(&ds, &[("items", "add", r#"[[9,"z",9.0]]"#)]).await;
    assert_eq!(stored(dir.path(), &ds, "items").len(), 4);
    h.shutdown().await.unwrap();

    // Once it has stopped, the directory can be opened again.
    let h = start(dir.path()).await;
    assert_eq!(stored(dir.path(), &ds, "items").len(), 4);
    h.shutdown().await.unwrap();
}

/// Send a raw HTTP/1.1 request head (no body follows) and read the status line, or
/// `None` if the server answered nothing within `wait`.
async fn raw_status(addr: std::net::SocketAddr, head: &str, wait: Duration) -> Option<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 256];
    let n = tokio::time::timeout(wait, s.read(&mut buf))
        .await
        .ok()?
        .ok()?;
    let line = String::from_utf8_lossy(&buf[..n]).to_string();
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test]
async fn the_token_is_checked_before_any_body_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let h = start(dir.path()).await;
    let addr = h.addr();
    // Announces 200 MB and sends none of it: answered at once from the headers alone.
    for path in [
        "/api/datasets/models",
        "/api/datasets",
        "/api/datasets/X/uploadSessions",
    ] {
        let head = format!(
            "POST /MicroStrategyLibrary{path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 200000000\r\n\r\n"
        );
        let status = raw_status(addr, &head, Duration::from_secs(5)).await;
        assert_eq!(status, Some(401), "{path}");
    }
    // Logged in, a control endpoint refuses a body over its small limit (1 MiB).
    let api = Api::login(&h).await;
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(2 << 20));
    api.send(Method::POST, "/api/datasets/models", Some(&big), &[])
        .await
        .assert_error(413, &["limit of 1048576 bytes"]);
    api.assert_alive().await;
    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn requests_naming_another_host_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let h = start(dir.path()).await;
    let addr = h.addr();
    let head = |host: &str| {
        format!(
            "GET /MicroStrategyLibrary/api/status HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )
    };
    let wait = Duration::from_secs(5);
    // A page on evil.example whose name resolves to 127.0.0.1 (DNS rebinding).
    assert_eq!(
        raw_status(addr, &head("evil.example"), wait).await,
        Some(403)
    );
    assert_eq!(
        raw_status(addr, &head(&format!("evil.example:{}", addr.port())), wait).await,
        Some(403)
    );
    for ok in [
        addr.to_string(),
        format!("localhost:{}", addr.port()),
        format!("[::1]:{}", addr.port()),
    ] {
        assert_eq!(raw_status(addr, &head(&ok), wait).await, Some(200), "{ok}");
    }
    h.shutdown().await.unwrap();

    // A name the configuration allows.
    let h = start_with(dir.path(), |c| c.with_allowed_host("pushdata.internal")).await;
    let addr = h.addr();
    assert_eq!(
        raw_status(addr, &head("pushdata.internal:1234"), wait).await,
        Some(200)
    );
    h.shutdown().await.unwrap();
}

/// A ROW chunk of `rows` rows of `items` whose names hold `],[` (where the server may cut
/// rows off while the body arrives), and the rows as stored.
fn large_items_chunk(rows: usize) -> (String, Vec<String>) {
    let mut json = String::from("[");
    let mut want = Vec::with_capacity(rows);
    for r in 0..rows {
        if r > 0 {
            json.push_str(if r % 5 == 0 { " ,\n " } else { "," });
        }
        let name = if r % 1000 == 7 {
            format!("x],[{r}],[")
        } else {
            format!("item {r}")
        };
        json.push_str(&format!("[{r},\"{name}\",{r}.5]"));
        want.push(format!("{r}|{name}|{r}.5"));
    }
    json.push(']');
    (json, want)
}

#[tokio::test]
async fn large_row_chunks_are_decoded_while_they_arrive_and_errors_name_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let h = start(dir.path()).await;
    let api = Api::login(&h).await;
    let ds = api.create_model(&items_model("large")).await;
    let sid = api
        .open_session(&ds, &json!([{"name": "items", "updatePolicy": "replace"}]))
        .await;
    // About 10 MB of chunk JSON: several parts cut off while the body arrives.
    let (json, want) = large_items_chunk(300_000);
    assert!(json.len() > 8 << 20, "{}", json.len());
    // A bad value late in the chunk: the error names its row, as for a chunk decoded whole.
    let bad = json.replacen("[290001,", "[290001.5,", 1);
    api.put_chunk(&ds, &sid, "items", 1, &bad)
        .await
        .assert_error(400, &["chunk 1", "row 290002", "\"id\""]);
    // A string broken late in the chunk.
    let bad = json.replacen("\"item 250001\"", "\"item 250001", 1);
    api.put_chunk(&ds, &sid, "items", 1, &bad)
        .await
        .assert_error(400, &["chunk 1", "malformed JSON"]);
    let r = api.put_chunk(&ds, &sid, "items", 1, &json).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let st = api.publish_and_wait(&ds, &sid).await;
    assert!(st.status.is_ready(), "{st:?}");
    assert_eq!(stored(dir.path(), &ds, "items"), want);
    h.shutdown().await.unwrap();
}
