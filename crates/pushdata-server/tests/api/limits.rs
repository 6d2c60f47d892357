//! The server's own limits: live upload sessions, staged bytes on disk, idle sessions.

use std::time::Duration;

use serde_json::json;

use crate::common::*;

fn replace_items() -> serde_json::Value {
    json!([{"name": "items", "updatePolicy": "replace"}])
}

#[tokio::test]
async fn upload_sessions_are_capped_per_user_and_in_all() {
    let dir = tempfile::tempdir().unwrap();
    let h = start_with(dir.path(), |c| {
        c.with_user("ann", "a")
            .with_user("bob", "b")
            .with_max_upload_sessions(3, 2)
    })
    .await;
    let ann = Api::login_as(&h, "ann", "a").await;
    let bob = Api::login_as(&h, "bob", "b").await;
    let a = ann.create_model(&items_model("a")).await;
    let b = bob.create_model(&items_model("b")).await;
    let first = ann.open_session(&a, &replace_items()).await;
    ann.open_session(&a, &replace_items()).await;
    let path = |ds: &str| format!("/api/datasets/{ds}/uploadSessions");
    let body = json!({"tables": replace_items()});
    ann.post(&path(&a), &body)
        .await
        .assert_error(429, &["\"ann\"", "per user"]);
    bob.open_session(&b, &body["tables"]).await;
    bob.post(&path(&b), &body)
        .await
        .assert_error(429, &["the most it allows"]);
    // A finished session no longer counts.
    let r = ann.put_chunk(&a, &first, "items", 1, BASE_ROWS).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ann.publish_and_wait(&a, &first).await.status.0, 1);
    bob.open_session(&b, &body["tables"]).await;
    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn staged_files_past_the_disk_quota_are_refused_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let h = start_with(dir.path(), |c| {
        c.with_staging_memory_bytes(0).with_staging_disk_bytes(64)
    })
    .await;
    let api = Api::login(&h).await;
    let ds = api.create_model(&items_model("quota")).await;
    let sid = api.open_session(&ds, &replace_items()).await;
    api.put_chunk(&ds, &sid, "items", 1, BASE_ROWS)
        .await
        .assert_error(507, &["staging area is full", "64 bytes"]);
    let staged: Vec<_> = std::fs::read_dir(dir.path().join("staging").join(&sid))
        .unwrap()
        .collect();
    assert!(staged.is_empty(), "{staged:?}");
    api.assert_alive().await;
    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn abandoned_sessions_are_swept_on_a_timer() {
    let dir = tempfile::tempdir().unwrap();
    let h = start_with(dir.path(), |c| {
        c.with_token_idle_timeout(Duration::from_millis(200))
            .with_staging_memory_bytes(0)
    })
    .await;
    let api = Api::login(&h).await;
    let ds = api.create_model(&items_model("swept")).await;
    let sid = api.open_session(&ds, &replace_items()).await;
    let r = api.put_chunk(&ds, &sid, "items", 1, BASE_ROWS).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let staged = dir.path().join("staging").join(&sid);
    assert!(staged.exists());
    // Nobody creates another session: the timer alone drops it with its files.
    let mut waited = Duration::ZERO;
    while staged.exists() && waited < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += Duration::from_millis(50);
    }
    assert!(
        !staged.exists(),
        "staging of the abandoned session is still there"
    );
    let api = Api::login(&h).await;
    api.get(&format!(
        "/api/datasets/{ds}/uploadSessions/{sid}/publishStatus"
    ))
    .await
    .assert_error(404, &["upload session"]);
    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn single_request_bodies_wait_for_a_decode_slot_like_chunks() {
    use tokio::io::AsyncReadExt;
    let dir = tempfile::tempdir().unwrap();
    // Two slots: one user holds at most one.
    let h = start_with(dir.path(), |c| {
        c.with_max_concurrent_chunks(2)
            .with_body_idle_timeout(Duration::from_millis(400))
    })
    .await;
    let api = Api::login(&h).await;
    let ds = api.create_model(&items_model("slots")).await;
    let sid = api.open_session(&ds, &replace_items()).await;
    // The user's one slot is held by a stalled chunk...
    let mut stalled = crate::isolation::stalled_put(&api, &h, &ds, &sid).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<&str>();
    let stalled_tx = tx.clone();
    let stalled_done = tokio::spawn(async move {
        let mut buf = vec![0u8; 64];
        let n = stalled.read(&mut buf).await.unwrap();
        let _ = stalled_tx.send("stalled chunk answered");
        String::from_utf8_lossy(&buf[..n]).to_string()
    });
    // ...so the user's single-request PATCH waits for it: it is answered after the
    // stalled chunk is abandoned, never before.
    let patch = {
        let api = api.clone();
        let ds = ds.clone();
        tokio::spawn(async move {
            let body = json!({"name": "items", "columnHeaders": [], "data": b64(BASE_ROWS)});
            let r = api
                .send(
                    reqwest::Method::PATCH,
                    &format!("/api/datasets/{ds}/tables/items"),
                    Some(&body.to_string()),
                    &[("updatePolicy", "replace")],
                )
                .await;
            let _ = tx.send("patch answered");
            r.status
        })
    };
    assert_eq!(rx.recv().await, Some("stalled chunk answered"));
    assert_eq!(rx.recv().await, Some("patch answered"));
    assert!(stalled_done.await.unwrap().starts_with("HTTP/1.1 408"));
    assert_eq!(patch.await.unwrap(), 200);
    assert_eq!(stored(dir.path(), &ds, "items").len(), 3);
    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_cube_page_is_capped_whatever_the_limit_asks() {
    let dir = tempfile::tempdir().unwrap();
    let h = start(dir.path()).await;
    let api = Api::login(&h).await;
    let ds = api.create_model(&items_model("big")).await;
    let rows = 100_001;
    let data = format!(
        "[{}]",
        (0..rows)
            .map(|i| format!("[{i},\"n\",1.0]"))
            .collect::<Vec<_>>()
            .join(",")
    );
    api.push(&ds, &[("items", "replace", &data)]).await;
    for limit in ["-1", "1000000"] {
        let r = api
            .post(
                &format!("/api/v2/cubes/{ds}/instances?limit={limit}"),
                &json!({"requestedObjects": {
                    "attributes": [{"id": "Item"}], "metrics": [{"id": "value"}]}}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", &r.body[..r.body.len().min(300)]);
        let paging = &r.json()["data"]["paging"];
        assert_eq!(paging["total"], rows, "{paging}");
        assert_eq!(paging["current"], 100_000, "{paging}");
    }
    h.shutdown().await.unwrap();
}

/// A chunk's staged file is written after the chunk is acknowledged: when that write
/// fails, the PUT was already answered 200, so the publish fails instead, naming the table
/// and the chunk (not the server's paths), and the dataset keeps its previous version.
#[tokio::test]
async fn a_staged_file_that_fails_after_the_answer_fails_the_publish_naming_the_chunk() {
    let dir = tempfile::tempdir().unwrap();
    // No memory for staged chunks: every chunk is a file.
    let h = start_with(dir.path(), |c| c.with_staging_memory_bytes(0)).await;
    let api = Api::login(&h).await;
    let ds = api.create_model(&items_model("late")).await;
    api.push(&ds, &[("items", "replace", BASE_ROWS)]).await;
    let before = stored(dir.path(), &ds, "items");
    let sid = api.open_session(&ds, &replace_items()).await;
    // The session's staging directory vanishes behind the server's back: the chunk decodes
    // and is answered, its file cannot be created.
    let staging = dir.path().join("staging").join(&sid);
    std::fs::remove_dir_all(&staging).unwrap();
    let r = api
        .put_chunk(&ds, &sid, "items", 2, r#"[[7,"q",7.0]]"#)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let st = api.publish_and_wait(&ds, &sid).await;
    assert_eq!(st.status.0, 3, "{st:?}");
    for needle in ["chunk 2", "\"items\"", "ticket"] {
        assert!(st.message.contains(needle), "{needle:?}: {st:?}");
    }
    let dir_text = dir.path().display().to_string();
    assert!(!st.message.contains(&dir_text), "{st:?}");
    assert_eq!(stored(dir.path(), &ds, "items"), before);
    // A later session stages and publishes as usual.
    api.push(&ds, &[("items", "replace", r#"[[8,"r",8.0]]"#)])
        .await;
    assert_eq!(stored(dir.path(), &ds, "items").len(), 1);
    h.shutdown().await.unwrap();
}
