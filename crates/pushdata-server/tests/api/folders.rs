//! Folders over plain HTTP, as mstrio-py lists them for its same-name check: My Reports
//! (`preDefined/20`) and folders by id, created on demand by `folderId`, each listing the
//! caller's datasets of the project with the total in `X-MSTR-Total-Count`; folders as
//! objects (`type=8`); description and folder of a dataset in its object info.

use serde_json::{Value, json};

use crate::common::*;

const FOLDER: &str = "0123456789abcdef0123456789ABCDEF";
const FOLDER_UPPER: &str = "0123456789ABCDEF0123456789ABCDEF";

/// `items_model(name)` with `folderId` and `description` set.
fn model_in(name: &str, folder: Option<&str>, description: Option<&str>) -> Value {
    let mut m = items_model(name);
    if let Some(f) = folder {
        m["folderId"] = json!(f);
    }
    if let Some(d) = description {
        m["description"] = json!(d);
    }
    m
}

/// The names in a listing, in order.
fn names(listing: &Value) -> Vec<String> {
    listing
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn folders_hold_the_datasets_created_in_them() {
    let dir = tempfile::tempdir().unwrap();
    let h = start(dir.path()).await;
    let api = Api::login(&h).await;

    let a = api.create_model(&model_in("beta", None, None)).await;
    // mstrio-py sends an empty folderId for My Reports
    let _c = api.create_model(&model_in("Alpha", Some(""), None)).await;
    let b = api
        .create_model(&model_in("in folder", Some(FOLDER), Some("kept here")))
        .await;

    // My Reports: the datasets created without a folder, by name, with the total.
    let r = api
        .get("/api/folders/preDefined/20?offset=0&limit=1000")
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.headers["x-mstr-total-count"], "2");
    assert_eq!(names(&r.json()), ["Alpha", "beta"]);
    let my_reports = r.json()[1]["ancestors"][0].clone();
    assert_eq!(my_reports["name"], "My Reports");
    let my_reports_id = my_reports["id"].as_str().unwrap().to_string();
    assert_eq!(r.json()[1]["id"], a.as_str());
    assert_eq!(r.json()[1]["type"], 3);
    assert_eq!(r.json()[1]["subtype"], 779);

    // A page of one, and My Reports by its id.
    let r = api.get("/api/folders/preDefined/20?offset=1&limit=1").await;
    assert_eq!(r.headers["x-mstr-total-count"], "2");
    assert_eq!(names(&r.json()), ["beta"]);
    let r = api.get(&format!("/api/folders/{my_reports_id}")).await;
    assert_eq!(names(&r.json()), ["Alpha", "beta"]);

    // The folder by id (any case): its one dataset, with description and folder.
    for id in [FOLDER, FOLDER_UPPER] {
        let r = api
            .get(&format!("/api/folders/{id}?offset=0&limit=10"))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.headers["x-mstr-total-count"], "1");
        assert_eq!(r.json()[0]["id"], b.as_str());
        assert_eq!(r.json()[0]["description"], "kept here");
        assert_eq!(r.json()[0]["ancestors"][0]["id"], FOLDER_UPPER);
    }
    let o = api.get(&format!("/api/objects/{b}?type=3")).await.json();
    assert_eq!(o["description"], "kept here");
    assert_eq!(o["ancestors"][0]["id"], FOLDER_UPPER);

    // A folder is an object of type 8; any object id names one, empty until used.
    let f = api.get(&format!("/api/objects/{FOLDER}?type=8")).await;
    assert_eq!(f.status, 200, "{}", f.body);
    assert_eq!(f.json()["id"], FOLDER_UPPER);
    assert_eq!(f.json()["type"], 8);
    let f = api
        .get(&format!("/api/objects/{my_reports_id}?type=8"))
        .await;
    assert_eq!(f.json()["name"], "My Reports");
    let empty = "FEDCBA9876543210FEDCBA9876543210";
    let r = api.get(&format!("/api/folders/{empty}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.headers["x-mstr-total-count"], "0");
    assert_eq!(r.json(), json!([]));

    // Other predefined folders hold nothing here.
    let r = api.get("/api/folders/preDefined/7").await;
    assert_eq!(r.json(), json!([]));
    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn folder_ids_that_are_not_folders_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let h = start(dir.path()).await;
    let api = Api::login(&h).await;
    let ds = api.create_model(&items_model("a dataset")).await;

    api.post(
        "/api/datasets/models",
        &model_in("x", Some("my-folder"), None),
    )
    .await
    .assert_error(400, &["my-folder", "folder id"]);
    api.get("/api/folders/not-an-id")
        .await
        .assert_error(400, &["not-an-id"]);
    api.get(&format!("/api/folders/{ds}"))
        .await
        .assert_error(404, &[&ds, "not a folder"]);
    api.get(&format!("/api/objects/{PROJECT}?type=8"))
        .await
        .assert_error(404, &["not a folder"]);
    api.get("/api/folders/preDefined/20?limit=ten")
        .await
        .assert_error(400, &["limit"]);
    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_folder_lists_only_the_callers_datasets() {
    let dir = tempfile::tempdir().unwrap();
    let h = start_with(dir.path(), |c| {
        c.with_user("ann", "ann-pw").with_user("bob", "bob-pw")
    })
    .await;
    let ann = Api::login_as(&h, "ann", "ann-pw").await;
    let bob = Api::login_as(&h, "bob", "bob-pw").await;
    ann.create_model(&model_in("shared name", Some(FOLDER), None))
        .await;
    ann.create_model(&model_in("shared name", None, None)).await;
    for path in [
        format!("/api/folders/{FOLDER}"),
        "/api/folders/preDefined/20".to_string(),
    ] {
        assert_eq!(
            names(&ann.get(&path).await.json()),
            ["shared name"],
            "{path}"
        );
        let r = bob.get(&path).await;
        assert_eq!(r.json(), json!([]), "{path}");
        assert_eq!(r.headers["x-mstr-total-count"], "0");
    }
    h.shutdown().await.unwrap();
}
