//! Update policies on overlapping keys, multi-table sessions, persistence, atomic publish.

use reqwest::Method;
use serde_json::json;

use crate::common::*;

/// Upload with duplicate keys: (2,b) twice, (4,d) twice.
const UPLOAD: &str = r#"[[2,"b",20.0],[4,"d",40.0],[4,"d",41.0],[2,"b",21.0]]"#;

/// The stored rows after `policy`, the same whether the server keeps staged chunks in
/// memory (default) or stages them as files (no staging memory).
async fn policy_result(policy: &str) -> Vec<String> {
    let in_memory = policy_result_with(policy, None).await;
    let as_files = policy_result_with(policy, Some(0)).await;
    assert_eq!(
        in_memory, as_files,
        "{policy}: memory and file staging differ"
    );
    in_memory
}

async fn policy_result_with(policy: &str, staging_memory: Option<usize>) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let h = start_with(dir.path(), |c| match staging_memory {
        Some(n) => c.with_staging_memory_bytes(n),
        None => c,
    })
    .await;
    let api = Api::login(&h).await;
    let ds = api.create_model(&items_model("p")).await;
    api.push(&ds, &[("items", "replace", BASE_ROWS)]).await;
    assert_eq!(
        stored(dir.path(), &ds, "items"),
        vec!["1|a|1.0", "2|b|2.0", "3|c|3.0"]
    );
    api.push(&ds, &[("items", policy, UPLOAD)]).await;
    let out = stored(dir.path(), &ds, "items");
    h.shutdown().await.unwrap();
    out
}

#[tokio::test]
async fn add_inserts_every_row_of_a_new_key_and_skips_stored_keys() {
    // Incoming rows are never de-duplicated: both rows of the new key 4 go in; both rows
    // of the stored key 2 are skipped.
    assert_eq!(
        policy_result("add").await,
        vec!["1|a|1.0", "2|b|2.0", "3|c|3.0", "4|d|40.0", "4|d|41.0"]
    );
}

#[tokio::test]
async fn update_replaces_a_stored_key_by_all_its_uploaded_rows() {
    // Replaced rows move after the kept ones (upload order); the new key 4 is skipped.
    assert_eq!(
        policy_result("update").await,
        vec!["1|a|1.0", "3|c|3.0", "2|b|20.0", "2|b|21.0"]
    );
}

#[tokio::test]
async fn upsert_replaces_stored_keys_and_inserts_new_ones_keeping_every_row() {
    assert_eq!(
        policy_result("Upsert").await,
        // Kept rows first, then every uploaded row in upload order.
        vec![
            "1|a|1.0", "3|c|3.0", "2|b|20.0", "4|d|40.0", "4|d|41.0", "2|b|21.0"
        ]
    );
}

#[tokio::test]
async fn the_publish_status_counts_the_rows_a_policy_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let h = start(dir.path()).await;
    let api = Api::login(&h).await;
    // Each policy on the base rows 1, 2, 3 with UPLOAD (keys 2, 4, 4, 2).
    for (policy, rows, skipped) in [("add", 5, 2), ("update", 4, 2), ("upsert", 6, 0)] {
        let ds = api.create_model(&items_model(policy)).await;
        api.push(&ds, &[("items", "replace", BASE_ROWS)]).await;
        let sid = api
            .open_session(&ds, &json!([{"name": "items", "updatePolicy": policy}]))
            .await;
        let r = api.put_chunk(&ds, &sid, "items", 1, UPLOAD).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let st = api.publish_and_wait(&ds, &sid).await;
        assert_eq!(st.status.0, 1, "{policy}: {}", st.message);
        assert_eq!(st.tables.len(), 1, "{policy}");
        assert_eq!(st.tables[0].name, "items");
        assert_eq!(
            (st.tables[0].rows, st.tables[0].rows_skipped),
            (rows, skipped),
            "{policy}"
        );
    }
    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_key_is_the_id_form_so_a_renamed_desc_updates_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let h = start(dir.path()).await;
    let api = Api::login(&h).await;
    let ds = api.create_model(&items_model("rename")).await;
    api.push(&ds, &[("items", "replace", BASE_ROWS)]).await;
    // Item 2 renamed from "b" to "bee": one element for ID 2, not two.
    api.push(&ds, &[("items", "upsert", r#"[[2,"bee",2.5]]"#)])
        .await;
    assert_eq!(
        stored(dir.path(), &ds, "items"),
        vec!["1|a|1.0", "3|c|3.0", "2|bee|2.5"]
    );
    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn keyed_policies_refuse_column_headers_without_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let h = start(dir.path()).await;
    let api = Api::login(&h).await;
    let ds = api.create_model(&items_model("headers")).await;
    api.push(&ds, &[("items", "replace", BASE_ROWS)]).await;
    for policy in ["add", "update", "upsert"] {
        let r = api
            .post(
                &format!("/api/datasets/{ds}/uploadSessions"),
                &json!({"tables": [{"name": "items", "updatePolicy": policy,
                    "columnHeaders": ["name", "value"]}]}),
            )
            .await;
        r.assert_error(400, &["\"items\"", "omit", "\"id\"", policy]);
    }
    // The single-request PATCH too.
    let r = api
        .send(
            Method::PATCH,
            &format!("/api/datasets/{ds}/tables/items"),
            Some(
                &json!({"name": "items", "columnHeaders": [{"name": "value", "dataType": "DOUBLE"}],
                    "data": b64(r#"[[9.0]]"#)})
                .to_string(),
            ),
            &[("updatePolicy", "upsert")],
        )
        .await;
    r.assert_error(400, &["omit", "\"id\""]);
    // Replace needs no key: the other columns become null.
    let sid = api
        .open_session(
            &ds,
            &json!([{"name": "items", "updatePolicy": "replace", "columnHeaders": ["name", "value"]}]),
        )
        .await;
    assert!(!sid.is_empty());
    assert_eq!(stored(dir.path(), &ds, "items").len(), 3, "nothing changed");
    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn replace_keeps_exactly_the_upload() {
    assert_eq!(
        policy_result("REPLACE").await,
        vec!["2|b|20.0", "4|d|40.0", "4|d|41.0", "2|b|21.0"]
    );
}

#[tokio::test]
async fn multi_table_session_with_different_policies() {
    let dir = tempfile::tempdir().unwrap();
    let h = start(dir.path()).await;
    let api = Api::login(&h).await;
    let ds = api.create_model(&items_model("multi")).await;
    api.push(
        &ds,
        &[
            ("items", "replace", BASE_ROWS),
            ("plain", "replace", "[[1,1.5]]"),
        ],
    )
    .await;
    // One session: items upsert, plain add (no key: appends).
    api.push(
        &ds,
        &[
            ("items", "upsert", r#"[[3,"c",30.0],[5,"e",50.0]]"#),
            ("plain", "add", "[[2,2.5],[1,1.5]]"),
        ],
    )
    .await;
    assert_eq!(
        stored(dir.path(), &ds, "items"),
        vec!["1|a|1.0", "2|b|2.0", "3|c|30.0", "5|e|50.0"]
    );
    assert_eq!(
        stored(dir.path(), &ds, "plain"),
        vec!["1|1.5", "2|2.5", "1|1.5"]
    );
    // update/upsert on a table without attribute columns: a clear 400 at session creation.
    let r = api
        .post(
            &format!("/api/datasets/{ds}/uploadSessions"),
            &json!({"tables": [{"name": "plain", "updatePolicy": "update"}]}),
        )
        .await;
    r.assert_error(400, &["plain", "no columns that feed attributes"]);
    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn published_data_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let h = start(dir.path()).await;
    let api = Api::login(&h).await;
    let ds = api.create_model(&items_model("persist")).await;
    api.push(&ds, &[("items", "replace", BASE_ROWS)]).await;
    h.shutdown().await.unwrap();

    let h = start(dir.path()).await;
    let api = Api::login(&h).await;
    assert_eq!(
        stored(dir.path(), &ds, "items"),
        vec!["1|a|1.0", "2|b|2.0", "3|c|3.0"]
    );
    let def = api.get(&format!("/api/datasets/{ds}?fields=tables")).await;
    assert_eq!(def.status, 200, "{}", def.body);
    assert_eq!(
        def.json()["result"]["definition"]["availableObjects"]["tables"][0]["rowCount"],
        3
    );
    // And it can be updated after the restart.
    api.push(&ds, &[("items", "add", r#"[[9,"z",9.0]]"#)]).await;
    assert_eq!(stored(dir.path(), &ds, "items").len(), 4);
    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn publish_interrupted_between_staging_and_swap_keeps_the_old_version() {
    let dir = tempfile::tempdir().unwrap();
    let h = start(dir.path()).await;
    let api = Api::login(&h).await;
    let ds = api.create_model(&items_model("crash")).await;
    api.push(&ds, &[("items", "replace", BASE_ROWS)]).await;
    h.shutdown().await.unwrap();

    // A server whose publishes stop after the new files are written and fsynced.
    let h = start_with_hook(dir.path(), FailBeforeSwap).await;
    let api = Api::login(&h).await;
    let sid = api
        .open_session(&ds, &json!([{"name": "items", "updatePolicy": "replace"}]))
        .await;
    assert_eq!(
        api.put_chunk(&ds, &sid, "items", 1, r#"[[7,"new",7.0]]"#)
            .await
            .status,
        200
    );
    let st = api.publish_and_wait(&ds, &sid).await;
    assert_eq!(st.status.0, 3, "{st:?}");
    assert!(st.message.contains("interrupted"), "{st:?}");
    assert_eq!(
        stored(dir.path(), &ds, "items"),
        vec!["1|a|1.0", "2|b|2.0", "3|c|3.0"]
    );
    // Single-request PATCH too: error, data unchanged.
    let r = api
        .send(
            Method::PATCH,
            &format!("/api/datasets/{ds}/tables/items"),
            Some(
                &json!({"name": "items", "columnHeaders": [
                {"name": "id", "dataType": "INTEGER"}, {"name": "name", "dataType": "STRING"},
                {"name": "value", "dataType": "DOUBLE"}], "data": b64(r#"[[8,"x",8.0]]"#)})
                .to_string(),
            ),
            &[("updatePolicy", "replace")],
        )
        .await;
    r.assert_error(500, &["interrupted"]);
    h.shutdown().await.unwrap();

    // "Crash" recovery: restart on the same directory; the old version is intact.
    let h = start(dir.path()).await;
    let api = Api::login(&h).await;
    assert_eq!(
        stored(dir.path(), &ds, "items"),
        vec!["1|a|1.0", "2|b|2.0", "3|c|3.0"]
    );
    let files: Vec<_> = std::fs::read_dir(dir.path().join("datasets").join(&ds).join("tables"))
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .collect();
    assert_eq!(
        files.len(),
        1,
        "leftover files of the interrupted publish are removed"
    );
    api.push(&ds, &[("items", "upsert", r#"[[1,"a",100.0]]"#)])
        .await;
    assert_eq!(
        stored(dir.path(), &ds, "items"),
        vec!["2|b|2.0", "3|c|3.0", "1|a|100.0"]
    );
    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn concurrent_publishes_to_one_dataset_are_serialized() {
    let dir = tempfile::tempdir().unwrap();
    let h = start(dir.path()).await;
    let api = Api::login(&h).await;
    let ds = api.create_model(&items_model("conc")).await;
    api.push(&ds, &[("items", "replace", BASE_ROWS)]).await;
    let mut sessions = Vec::new();
    for i in 0..6 {
        let sid = api
            .open_session(&ds, &json!([{"name": "items", "updatePolicy": "add"}]))
            .await;
        let data = format!(r#"[[{},"n{i}",{i}.0]]"#, 100 + i);
        assert_eq!(
            api.put_chunk(&ds, &sid, "items", 1, &data).await.status,
            200
        );
        sessions.push(sid);
    }
    let mut tasks = Vec::new();
    for sid in sessions {
        let api = api.clone();
        let ds = ds.clone();
        tasks.push(tokio::spawn(async move {
            api.publish_and_wait(&ds, &sid).await
        }));
    }
    for t in tasks {
        assert!(t.await.unwrap().status.is_ready());
    }
    // Every add landed: none was lost to a concurrent publish.
    assert_eq!(stored(dir.path(), &ds, "items").len(), 9);
    h.shutdown().await.unwrap();
}

/// The files of the published version of the one table of dataset `ds`, from its manifest.
fn version_files(dir: &std::path::Path, ds: &str) -> Vec<std::path::PathBuf> {
    let ds_dir = dir.join("datasets").join(ds);
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ds_dir.join("current.json")).unwrap()).unwrap();
    let tables = m["tables"].as_object().unwrap();
    assert_eq!(tables.len(), 1, "{m}");
    let files = tables.values().next().unwrap()["files"].as_array().unwrap();
    files
        .iter()
        .map(|f| ds_dir.join(f["file"].as_str().unwrap()))
        .collect()
}

#[cfg(unix)]
#[tokio::test]
async fn add_publishes_beside_the_stored_file_without_rewriting_it() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let h = start_with(dir.path(), |c| c).await;
    let api = Api::login(&h).await;
    let ds = api.create_model(&items_model("a")).await;
    api.push(&ds, &[("items", "replace", BASE_ROWS)]).await;
    let first = version_files(dir.path(), &ds);
    let inode = std::fs::metadata(&first[0]).unwrap().ino();
    api.push(&ds, &[("items", "add", r#"[[4,"d",4.0],[5,"e",5.0]]"#)])
        .await;
    let second = version_files(dir.path(), &ds);
    assert_eq!(second.len(), 2, "{second:?}");
    assert_eq!(second[0], first[0]);
    assert_eq!(std::fs::metadata(&second[0]).unwrap().ino(), inode);
    assert_eq!(
        stored(dir.path(), &ds, "items"),
        vec!["1|a|1.0", "2|b|2.0", "3|c|3.0", "4|d|4.0", "5|e|5.0"]
    );
    h.shutdown().await.unwrap();
}
