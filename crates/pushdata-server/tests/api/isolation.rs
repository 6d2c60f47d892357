//! Several users on one server: each sees only their own datasets, sessions and cube
//! instances; a stalled client holds neither all decode slots nor another user's.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use tokio::io::AsyncWriteExt;

use crate::common::*;

async fn two_users(dir: &std::path::Path) -> pushdata_server::ServerHandle {
    start_with(dir, |c| {
        c.with_user("ann", "ann-pw")
            .with_user("bob", "bob-pw")
            .with_max_concurrent_chunks(2)
    })
    .await
}

#[tokio::test]
async fn a_user_cannot_see_or_touch_another_users_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let h = two_users(dir.path()).await;
    let ann = Api::login_as(&h, "ann", "ann-pw").await;
    let bob = Api::login_as(&h, "bob", "bob-pw").await;
    let ds = ann.create_model(&items_model("ann's")).await;
    ann.push(&ds, &[("items", "replace", BASE_ROWS)]).await;
    let sid = ann
        .open_session(&ds, &json!([{"name": "items", "updatePolicy": "add"}]))
        .await;
    let r = ann
        .post(&format!("/api/v2/cubes/{ds}/instances"), &json!({}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let iid = r.json()["instanceId"].as_str().unwrap().to_string();

    // Everything of ann's is "not found" for bob.
    bob.get(&format!("/api/datasets/{ds}"))
        .await
        .assert_error(404, &["dataset"]);
    bob.post(
        &format!("/api/datasets/{ds}/uploadSessions"),
        &json!({"tables": [{"name": "items", "updatePolicy": "replace"}]}),
    )
    .await
    .assert_error(404, &["dataset"]);
    bob.put_chunk(&ds, &sid, "items", 1, "[]")
        .await
        .assert_error(404, &["dataset"]);
    bob.send(
        Method::PATCH,
        &format!("/api/datasets/{ds}/tables/items"),
        Some(&json!({"name": "items", "columnHeaders": [], "data": b64("[]")}).to_string()),
        &[("updatePolicy", "replace")],
    )
    .await
    .assert_error(404, &["dataset"]);
    bob.get(&format!("/api/v2/cubes/{ds}/instances/{iid}"))
        .await
        .assert_error(404, &["dataset"]);
    bob.send(
        Method::DELETE,
        &format!("/api/objects/{ds}?type=3"),
        None,
        &[],
    )
    .await
    .assert_error(404, &["dataset"]);
    let listed = bob.get("/api/folders/preDefined/7").await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(
        listed.json().as_array().unwrap().len(),
        0,
        "{}",
        listed.body
    );

    // Ann's data and session are intact.
    assert_eq!(stored(dir.path(), &ds, "items").len(), 3);
    let r = ann
        .put_chunk(&ds, &sid, "items", 1, r#"[[7,"g",7.0]]"#)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    h.shutdown().await.unwrap();
}

/// Open a PUT of a chunk that announces `len` bytes and sends only its first few.
pub(crate) async fn stalled_put(
    api: &Api,
    h: &pushdata_server::ServerHandle,
    ds: &str,
    sid: &str,
) -> tokio::net::TcpStream {
    let mut s = tokio::net::TcpStream::connect(h.addr()).await.unwrap();
    let head = format!(
        "PUT /MicroStrategyLibrary/api/datasets/{ds}/uploadSessions/{sid} HTTP/1.1\r\nHost: {}\r\nX-MSTR-AuthToken: {}\r\nX-MSTR-ProjectID: {PROJECT}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{\"tableName\": \"items\", \"index\": 1, \"data\": \"W1s",
        h.addr(),
        api.token.as_deref().unwrap()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s
}

#[tokio::test]
async fn stalled_uploads_of_one_user_leave_room_for_another() {
    let dir = tempfile::tempdir().unwrap();
    let h = two_users(dir.path()).await;
    let ann = Api::login_as(&h, "ann", "ann-pw").await;
    let bob = Api::login_as(&h, "bob", "bob-pw").await;
    let ann_ds = ann.create_model(&items_model("a")).await;
    let ann_sid = ann
        .open_session(
            &ann_ds,
            &json!([{"name": "items", "updatePolicy": "replace"}]),
        )
        .await;
    // Bob stalls eight uploads: he holds at most one of the two decode slots.
    let bob_ds = bob.create_model(&items_model("b")).await;
    let bob_sid = bob
        .open_session(
            &bob_ds,
            &json!([{"name": "items", "updatePolicy": "replace"}]),
        )
        .await;
    let mut stalled = Vec::new();
    for _ in 0..8 {
        stalled.push(stalled_put(&bob, &h, &bob_ds, &bob_sid).await);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Ann's upload goes through while Bob's stay stalled (the idle timeout is 30 s).
    let r = tokio::time::timeout(
        Duration::from_secs(10),
        ann.put_chunk(&ann_ds, &ann_sid, "items", 1, BASE_ROWS),
    )
    .await
    .expect("ann's chunk waited for bob's stalled uploads");
    assert_eq!(r.status, 200, "{}", r.body);
    drop(stalled);
    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_stalled_body_is_abandoned_after_the_idle_timeout() {
    use tokio::io::AsyncReadExt;
    let dir = tempfile::tempdir().unwrap();
    let h = start_with(dir.path(), |c| {
        c.with_body_idle_timeout(Duration::from_millis(300))
            .with_max_concurrent_chunks(1)
    })
    .await;
    let api = Api::login(&h).await;
    let ds = api.create_model(&items_model("idle")).await;
    let sid = api
        .open_session(&ds, &json!([{"name": "items", "updatePolicy": "replace"}]))
        .await;
    let mut s = stalled_put(&api, &h, &ds, &sid).await;
    let mut buf = vec![0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
        .await
        .expect("the stalled body was never abandoned")
        .unwrap();
    let answer = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    // Its slot is free again: a normal chunk goes through.
    let r = api.put_chunk(&ds, &sid, "items", 1, BASE_ROWS).await;
    assert_eq!(r.status, 200, "{}", r.body);
    h.shutdown().await.unwrap();
}
