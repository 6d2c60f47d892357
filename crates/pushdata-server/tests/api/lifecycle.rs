//! A dataset's life on disk: deletes racing publishes, start-up after interrupted work.

use std::time::Duration;

use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn a_publish_racing_a_delete_fails_and_leaves_no_orphan() {
    let dir = tempfile::tempdir().unwrap();
    // Every upload-session publish waits 400 ms before it takes the dataset's lock.
    let h = start_with_hook(dir.path(), DelayPublish(Duration::from_millis(400))).await;
    let api = Api::login(&h).await;
    let ds = api.create_model(&items_model("doomed")).await;
    let sid = api
        .open_session(&ds, &json!([{"name": "items", "updatePolicy": "replace"}]))
        .await;
    let r = api.put_chunk(&ds, &sid, "items", 1, BASE_ROWS).await;
    assert_eq!(r.status, 200, "{}", r.body);
    api.publish(&ds, &sid).await;
    // A second session, still open when the dataset goes.
    let open = api
        .open_session(&ds, &json!([{"name": "items", "updatePolicy": "add"}]))
        .await;
    api.delete_dataset(&ds).await;

    // The publish that was waiting fails instead of recreating the dataset's directory.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let dataset_dir = dir.path().join("datasets").join(&ds);
    assert!(
        !dataset_dir.exists(),
        "orphan left at {}",
        dataset_dir.display()
    );
    api.get(&format!("/api/datasets/{ds}"))
        .await
        .assert_error(404, &["dataset"]);
    let r = api.put_chunk(&ds, &open, "items", 1, BASE_ROWS).await;
    assert_eq!(r.status, 404, "{}", r.body);
    api.assert_alive().await;
    h.shutdown().await.unwrap();

    // A restart finds nothing of it.
    let h = start(dir.path()).await;
    let api = Api::login(&h).await;
    api.get(&format!("/api/datasets/{ds}"))
        .await
        .assert_error(404, &["dataset"]);
    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn start_up_cleans_leftovers_and_quarantines_a_damaged_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let h = start(dir.path()).await;
    let api = Api::login(&h).await;
    let good = api.create_model(&items_model("good")).await;
    api.push(&good, &[("items", "replace", BASE_ROWS)]).await;
    let bad = api.create_model(&items_model("bad")).await;
    h.shutdown().await.unwrap();

    let datasets = dir.path().join("datasets");
    // A delete interrupted after the definition went: no definition, some files.
    let orphan = datasets.join("0123456789ABCDEF0123456789ABCDEF");
    std::fs::create_dir_all(orphan.join("tables")).unwrap();
    // A manifest write interrupted before its rename.
    let tmp = datasets.join(&good).join("current.tmp-0badc0ffee");
    std::fs::write(&tmp, b"{\"version\":").unwrap();
    // A definition damaged on disk.
    std::fs::write(datasets.join(&bad).join("definition.json"), b"{not json").unwrap();

    let h = start(dir.path()).await;
    let api = Api::login(&h).await;
    assert!(!orphan.exists(), "the orphan directory is removed");
    assert!(!tmp.exists(), "the temporary manifest is removed");
    // The damaged dataset is moved aside, not deleted, and the others serve.
    assert!(!datasets.join(&bad).exists());
    let quarantined: Vec<String> = std::fs::read_dir(dir.path().join("quarantine"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(quarantined.len(), 1);
    assert!(quarantined[0].starts_with(&bad), "{quarantined:?}");
    assert_eq!(stored(dir.path(), &good, "items").len(), 3);
    api.push(&good, &[("items", "add", r#"[[9,"z",9.0]]"#)])
        .await;
    assert_eq!(stored(dir.path(), &good, "items").len(), 4);
    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn server_failures_are_answered_without_server_paths() {
    let dir = tempfile::tempdir().unwrap();
    let h = start(dir.path()).await;
    let api = Api::login(&h).await;
    let ds = api.create_model(&items_model("lost")).await;
    api.push(&ds, &[("items", "replace", BASE_ROWS)]).await;
    // The published file disappears behind the server's back.
    let tables = dir.path().join("datasets").join(&ds).join("tables");
    std::fs::remove_dir_all(&tables).unwrap();
    let r = api
        .post(&format!("/api/v2/cubes/{ds}/instances"), &json!({}))
        .await;
    r.assert_error(500, &["internal server error", "ticket"]);
    let e = r.error();
    let dir_text = dir.path().display().to_string();
    assert!(!e.message.contains(&dir_text), "{}", e.message);
    assert!(
        e.message.contains(e.ticket_id.as_deref().unwrap()),
        "{}",
        e.message
    );
    // A publish that fails the same way says so in its status, without the path either.
    let sid = api
        .open_session(&ds, &json!([{"name": "items", "updatePolicy": "add"}]))
        .await;
    let r = api
        .put_chunk(&ds, &sid, "items", 1, r#"[[9,"z",9.0]]"#)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let st = api.publish_and_wait(&ds, &sid).await;
    assert_eq!(st.status.0, 3, "{st:?}");
    assert!(st.message.contains("ticket"), "{st:?}");
    assert!(!st.message.contains(&dir_text), "{st:?}");
    api.assert_alive().await;
    h.shutdown().await.unwrap();
}
