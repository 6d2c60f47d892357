//! Compatibility endpoints (as mstrio-py calls them) and session cancel.

use reqwest::Method;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn compat_endpoints() {
    let dir = tempfile::tempdir().unwrap();
    let h = start(dir.path()).await;
    let api = Api::login(&h).await;

    let st = api.get("/api/status").await;
    assert_eq!(st.status, 200);
    assert!(
        st.json()["iServerVersion"]
            .as_str()
            .unwrap()
            .starts_with("11.5.0700")
    );
    assert!(
        st.json()["webVersion"]
            .as_str()
            .unwrap()
            .starts_with("11.5.0700")
    );

    let s = api.get("/api/sessions").await.json();
    assert_eq!(s["timeout"], 1800);
    assert!(s["workingSet"].is_u64() && s["maxSearch"].is_u64());
    assert_eq!(
        api.send(Method::PUT, "/api/sessions", None, &[])
            .await
            .status,
        204
    );

    let ds = api.create_model(&items_model("cube one")).await;
    api.push(&ds, &[("items", "replace", BASE_ROWS)]).await;

    let f = api
        .get("/api/folders/preDefined/20?offset=0&limit=10")
        .await;
    assert_eq!(f.status, 200, "{}", f.body);
    assert_eq!(f.headers["x-mstr-total-count"], "1");
    assert_eq!(f.json()[0]["id"], ds.as_str());
    assert_eq!(f.json()[0]["name"], "cube one");
    assert_eq!(f.json()[0]["type"], 3);

    let o = api.get(&format!("/api/objects/{ds}?type=3")).await;
    assert_eq!(o.status, 200, "{}", o.body);
    assert_eq!(o.json()["name"], "cube one");
    assert_eq!(o.json()["subtype"], 779);

    let c = api.get(&format!("/api/v2/cubes/{ds}")).await;
    assert_eq!(c.status, 200, "{}", c.body);
    let objs = &c.json()["definition"]["availableObjects"];
    assert_eq!(objs["attributes"][0]["name"], "Item");
    assert_eq!(objs["attributes"][0]["id"].as_str().unwrap().len(), 32);
    assert_eq!(objs["metrics"].as_array().unwrap().len(), 3);

    // Without fields: attributes and metrics.
    let d = api.get(&format!("/api/datasets/{ds}")).await.json();
    let a = &d["result"]["definition"]["availableObjects"];
    assert!(
        a["tables"].is_null() && a["attributes"].is_array() && a["metrics"].is_array(),
        "{d}"
    );

    // Delete the dataset: gone from listings, files removed.
    api.delete_dataset(&ds).await;
    api.get(&format!("/api/v2/cubes/{ds}"))
        .await
        .assert_error(404, &[&ds]);
    assert!(!dir.path().join("datasets").join(&ds).exists());
    let f = api.get("/api/folders/preDefined/20").await;
    assert_eq!(f.headers["x-mstr-total-count"], "0");
    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn deleting_an_open_session_discards_its_chunks() {
    let dir = tempfile::tempdir().unwrap();
    // Chunks staged as files (no staging memory), to see them go.
    let h = start_with(dir.path(), |c| c.with_staging_memory_bytes(0)).await;
    let api = Api::login(&h).await;
    let ds = api.create_model(&items_model("cancel")).await;
    api.push(&ds, &[("items", "replace", BASE_ROWS)]).await;
    let sid = api
        .open_session(&ds, &json!([{"name": "items", "updatePolicy": "replace"}]))
        .await;
    assert_eq!(
        api.put_chunk(&ds, &sid, "items", 1, r#"[[9,"z",9.0]]"#)
            .await
            .status,
        200
    );
    // The chunk's file is written after the answer: wait for it to appear.
    let staged = dir.path().join("staging").join(&sid);
    let mut waited = std::time::Duration::ZERO;
    while staged.read_dir().unwrap().next().is_none() && waited.as_secs() < 10 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        waited += std::time::Duration::from_millis(10);
    }
    assert!(staged.read_dir().unwrap().next().is_some());
    let r = api
        .send(
            Method::DELETE,
            &format!("/api/datasets/{ds}/uploadSessions/{sid}"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!dir.path().join("staging").join(&sid).exists());
    let r = api
        .send(
            Method::POST,
            &format!("/api/datasets/{ds}/uploadSessions/{sid}/publish"),
            None,
            &[],
        )
        .await;
    r.assert_error(404, &[&sid]);
    assert_eq!(
        stored(dir.path(), &ds, "items"),
        vec!["1|a|1.0", "2|b|2.0", "3|c|3.0"]
    );
    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn publish_is_asynchronous_and_a_running_publish_can_be_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let h = start_with_hook(
        dir.path(),
        DelayPublish(std::time::Duration::from_millis(400)),
    )
    .await;
    let api = Api::login(&h).await;
    let ds = api.create_model(&items_model("async")).await;
    api.push(&ds, &[("items", "replace", BASE_ROWS)]).await;

    // Running: status 6 "sql execution" right after publish returns, then 1.
    let sid = api
        .open_session(&ds, &json!([{"name": "items", "updatePolicy": "add"}]))
        .await;
    assert_eq!(
        api.put_chunk(&ds, &sid, "items", 1, r#"[[4,"d",4.0]]"#)
            .await
            .status,
        200
    );
    let t0 = std::time::Instant::now();
    let r = api
        .send(
            Method::POST,
            &format!("/api/datasets/{ds}/uploadSessions/{sid}/publish"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(
        t0.elapsed() < std::time::Duration::from_millis(300),
        "publish returns at once"
    );
    let st = api
        .get(&format!(
            "/api/datasets/{ds}/uploadSessions/{sid}/publishStatus"
        ))
        .await
        .json();
    assert_eq!(st["status"], 6, "{st}");
    assert_eq!(st["message"], "sql execution");
    assert!(api.wait(&ds, &sid).await.status.is_ready());
    assert_eq!(stored(dir.path(), &ds, "items").len(), 4);

    // Cancelled while running: the swap never happens.
    let sid = api
        .open_session(&ds, &json!([{"name": "items", "updatePolicy": "replace"}]))
        .await;
    assert_eq!(
        api.put_chunk(&ds, &sid, "items", 1, r#"[[9,"z",9.0]]"#)
            .await
            .status,
        200
    );
    let r = api
        .send(
            Method::POST,
            &format!("/api/datasets/{ds}/uploadSessions/{sid}/publish"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, 200);
    let r = api
        .send(
            Method::DELETE,
            &format!("/api/datasets/{ds}/uploadSessions/{sid}"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, 200);
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert_eq!(stored(dir.path(), &ds, "items").len(), 4);
    assert!(!dir.path().join("staging").join(&sid).exists());
    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn abandoned_sessions_are_dropped_with_their_files() {
    let dir = tempfile::tempdir().unwrap();
    let h = start_with(dir.path(), |c| {
        c.with_token_idle_timeout(std::time::Duration::from_millis(300))
    })
    .await;
    let api = Api::login(&h).await;
    let ds = api.create_model(&items_model("abandon")).await;
    let sid = api
        .open_session(&ds, &json!([{"name": "items", "updatePolicy": "replace"}]))
        .await;
    assert_eq!(
        api.put_chunk(&ds, &sid, "items", 1, r#"[[9,"z",9.0]]"#)
            .await
            .status,
        200
    );
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let api = Api::login(&h).await;
    let _other = api
        .open_session(&ds, &json!([{"name": "items", "updatePolicy": "replace"}]))
        .await;
    assert!(!dir.path().join("staging").join(&sid).exists());
    api.get(&format!(
        "/api/datasets/{ds}/uploadSessions/{sid}/publishStatus"
    ))
    .await
    .assert_error(404, &[&sid]);
    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn base_path_is_configurable() {
    let dir = tempfile::tempdir().unwrap();
    for (base, prefix) in [("/", ""), ("custom/lib/", "/custom/lib")] {
        let h = start_with(dir.path(), |c| c.with_base_path(base)).await;
        assert_eq!(h.base_url(), format!("http://{}{prefix}", h.addr()));
        let api = Api::login(&h).await;
        api.assert_alive().await;
        let r = reqwest::get(format!(
            "http://{}/MicroStrategyLibrary/api/status",
            h.addr()
        ))
        .await
        .unwrap();
        assert_eq!(r.status().as_u16(), 404);
        h.shutdown().await.unwrap();
    }
}

/// The core client's choice of project when none is named, and its dataset tables call,
/// against the server's `GET /api/projects` and `GET /api/datasets/{id}?fields=tables`.
#[tokio::test]
async fn core_client_chooses_the_only_project_and_lists_dataset_tables() {
    use pushdata_core::{Client, Credentials, Error};

    let dir = tempfile::tempdir().unwrap();
    let h = start(dir.path()).await;
    let client = Client::builder(h.base_url()).build().unwrap();
    client
        .login(Credentials::standard("administrator", ""))
        .await
        .unwrap();
    let only = client.select_only_project().await.unwrap();
    assert_eq!(only.id, PROJECT);
    assert_eq!(client.project_id().as_deref(), Some(PROJECT));

    let api = Api::login(&h).await;
    let ds = api.create_model(&items_model("tables")).await;
    api.push(&ds, &[("items", "replace", BASE_ROWS)]).await;
    let tables = client.dataset_tables(&ds).await.unwrap();
    assert_eq!(
        tables
            .iter()
            .map(|t| (t.name.as_str(), t.row_count))
            .collect::<Vec<_>>(),
        [("items", 3), ("plain", 0)]
    );
    let missing = client.dataset_tables(&"0".repeat(32)).await.unwrap_err();
    assert_eq!(missing.status(), Some(404), "{missing}");

    let dir2 = tempfile::tempdir().unwrap();
    let two = start_with(dir2.path(), |c| {
        c.with_project("Sales", "A".repeat(32))
            .with_project("Finance", "B".repeat(32))
    })
    .await;
    let client = Client::builder(two.base_url()).build().unwrap();
    client
        .login(Credentials::standard("administrator", ""))
        .await
        .unwrap();
    match client.select_only_project().await.unwrap_err() {
        Error::ProjectNotChosen { available } => assert_eq!(available, ["Sales", "Finance"]),
        other => panic!("{other}"),
    }
    assert_eq!(client.project_id(), None);
}
