//! The cube instance API over real HTTP: the v2 grid JSON as mstrio-py reads it, paging,
//! `fields`, forms, grouping across tables, and error cases.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs, dead_code)]

#[path = "api/common.rs"]
mod common;

use common::*;
use reqwest::Method;
use serde_json::{Value, json};

fn model() -> Value {
    json!({
        "name": "regions",
        "tables": [
            {"name": "sales", "columnHeaders": [
                {"name": "rid", "dataType": "INTEGER"},
                {"name": "region", "dataType": "STRING"},
                {"name": "day", "dataType": "DATE"},
                {"name": "cost", "dataType": "BIGDECIMAL"}]},
            {"name": "fx", "columnHeaders": [
                {"name": "rate", "dataType": "DOUBLE"}]}
        ],
        "attributes": [
            {"name": "Region", "attributeForms": [
                {"category": "ID", "expressions": [{"tableName": "sales", "columnName": "rid"}]},
                {"category": "DESC", "expressions": [{"tableName": "sales", "columnName": "region"}]}]},
            {"name": "Day", "attributeForms": [
                {"category": "ID", "expressions": [{"tableName": "sales", "columnName": "day"}]}]}
        ],
        "metrics": [
            {"name": "Cost", "dataType": "BIGDECIMAL", "expressions": [{"tableName": "sales", "columnName": "cost"}]},
            {"name": "Rate", "expressions": [{"tableName": "fx", "columnName": "rate"}]}
        ]
    })
}

const SALES: &str = r#"[[1,"north","2020-01-02",12345678901234567890.12],
  [2,"south","2020-01-02",0.5],
  [1,"north","2020-01-03",null],
  [1,"north","2020-01-02",1.01]]"#;

async fn setup() -> (
    tempfile::TempDir,
    pushdata_server::ServerHandle,
    Api,
    String,
    Value,
) {
    let dir = tempfile::tempdir().unwrap();
    let h = start(dir.path()).await;
    let api = Api::login(&h).await;
    let ds = api.create_model(&model()).await;
    api.push(
        &ds,
        &[
            ("sales", "replace", SALES),
            ("fx", "replace", "[[1.5],[2.25]]"),
        ],
    )
    .await;
    let def = api.get(&format!("/api/v2/cubes/{ds}")).await.json();
    (dir, h, api, ds, def)
}

fn id_of(def: &Value, kind: &str, name: &str) -> String {
    def["definition"]["availableObjects"][kind]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == name)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn grid_json_paging_and_fields() {
    let (_dir, h, api, ds, def) = setup().await;
    let region = id_of(&def, "attributes", "Region");
    let cost = id_of(&def, "metrics", "Cost");
    // No body at all: every attribute and metric. Rate's table shares no attribute: its
    // total (3.75) repeats on every row.
    let r = api
        .send(
            Method::POST,
            &format!("/api/v2/cubes/{ds}/instances?offset=0&limit=2"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let v = r.json();
    let grid = &v["definition"]["grid"];
    assert_eq!(grid["metricsPosition"]["axis"], "columns");
    assert_eq!(grid["rows"][0]["name"], "Region");
    assert_eq!(grid["rows"][0]["forms"][0]["name"], "ID");
    assert_eq!(grid["rows"][0]["forms"][0]["dataType"], "INTEGER");
    assert_eq!(grid["rows"][0]["forms"][1]["name"], "DESC");
    assert_eq!(
        grid["rows"][0]["elements"][0]["formValues"],
        json!(["1", "north"])
    );
    assert_eq!(grid["rows"][1]["forms"][0]["dataType"], "DATE");
    assert_eq!(grid["columns"][0]["type"], "templateMetrics");
    let metrics = &grid["columns"][0]["elements"];
    assert_eq!(metrics[0]["name"], "Cost");
    assert_eq!(metrics[0]["dataType"], "BIGDECIMAL");
    assert_eq!(metrics[0]["precision"], 38);
    assert_eq!(metrics[0]["scale"], 2);
    assert_eq!(metrics[1]["name"], "Rate");
    assert_eq!(
        v["data"]["paging"],
        json!({"total": 3, "current": 2, "offset": 0, "limit": 2})
    );
    assert_eq!(v["data"]["headers"]["rows"], json!([[0, 0], [1, 0]]));
    assert_eq!(v["data"]["headers"]["columns"], json!([[0, 1]]));
    // Exact digits: the two (1, north, 2020-01-02) rows are summed.
    assert!(r.body.contains("12345678901234567891.13"), "{}", r.body);
    assert_eq!(v["data"]["metricValues"]["raw"][1], json!([0.5, 3.75]));
    assert_eq!(
        v["data"]["metricValues"]["formatted"][1],
        json!(["0.50", "3.75"])
    );
    let instance = v["instanceId"].as_str().unwrap().to_string();
    assert_eq!(instance.len(), 32);

    // Next page, without formatted values (as mstrio-py asks).
    let p = api
        .get(&format!(
            "/api/v2/cubes/{ds}/instances/{instance}?offset=2&limit=2&fields=-data.metricValues.extras,-data.metricValues.formatted"
        ))
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    let p = p.json();
    assert_eq!(
        p["data"]["paging"],
        json!({"total": 3, "current": 1, "offset": 2, "limit": 2})
    );
    assert_eq!(p["data"]["metricValues"]["raw"], json!([[null, 3.75]]));
    assert!(p["data"]["metricValues"].get("formatted").is_none());
    assert_eq!(
        p["definition"]["grid"]["rows"][1]["elements"][0]["formValues"],
        json!(["2020-01-03"])
    );

    // One form of one attribute, one metric; limit=-1 is every row.
    let forms = def_form_ids(&api, &ds, &region).await;
    let body = json!({"requestedObjects": {
        "attributes": [{"id": region, "forms": [{"id": forms[1]}]}],
        "metrics": [{"id": cost}]}});
    let r = api
        .post(&format!("/api/v2/cubes/{ds}/instances?limit=-1"), &body)
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let v = r.json();
    assert_eq!(
        v["definition"]["grid"]["rows"][0]["forms"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(v["data"]["paging"]["total"], 2);
    assert!(r.body.contains("12345678901234567891.13"), "{}", r.body);

    // NotIn filter on elements.
    let body = json!({
        "requestedObjects": {"attributes": [{"id": region}], "metrics": [{"id": cost}]},
        "viewFilter": {"operator": "NotIn", "operands": [
            {"type": "attribute", "id": region},
            {"type": "elements", "elements": [{"id": format!("{region}:1;north")}]}]}});
    let r = api
        .post(&format!("/api/v2/cubes/{ds}/instances"), &body)
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["data"]["paging"]["total"], 1);
    assert_eq!(r.json()["data"]["metricValues"]["raw"], json!([[0.5]]));
    h.shutdown().await.unwrap();
}

/// The form ids, from a page of an instance of `attribute`.
async fn def_form_ids(api: &Api, ds: &str, attribute: &str) -> Vec<String> {
    let body = json!({"requestedObjects": {"attributes": [{"id": attribute}], "metrics": []}});
    let r = api
        .post(&format!("/api/v2/cubes/{ds}/instances"), &body)
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["definition"]["grid"]["rows"][0]["forms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn errors_name_what_is_wrong() {
    let (_dir, h, api, ds, def) = setup().await;
    let path = format!("/api/v2/cubes/{ds}/instances");
    api.post(&format!("{path}?limit=0"), &json!({}))
        .await
        .assert_error(400, &["limit=0"]);
    api.post(&format!("{path}?offset=x"), &json!({}))
        .await
        .assert_error(400, &["offset"]);
    api.post(
        &path,
        &json!({"requestedObjects": {"attributes": [{"id": "NOPE"}]}}),
    )
    .await
    .assert_error(400, &["NOPE", "attribute", &ds]);
    api.post(
        &path,
        &json!({"requestedObjects": {"attributes": [], "metrics": []}}),
    )
    .await
    .assert_error(400, &["no attribute and no metric"]);
    api.post(
        &path,
        &json!({"viewFilter": {"operator": "Like", "operands": []}}),
    )
    .await
    .assert_error(400, &["Like"]);
    api.send(Method::POST, &path, Some("{not json"), &[])
        .await
        .assert_error(400, &["invalid JSON", "instances"]);
    api.get(&format!("{path}/0123456789ABCDEF0123456789ABCDEF"))
        .await
        .assert_error(404, &["0123456789ABCDEF0123456789ABCDEF", "expire"]);
    api.post(
        "/api/v2/cubes/0123456789ABCDEF0123456789ABCDEF/instances",
        &json!({}),
    )
    .await
    .assert_error(404, &["0123456789ABCDEF0123456789ABCDEF"]);
    // An instance belongs to its cube.
    let other = api.create_model(&items_model("other")).await;
    let r = api.post(&path, &json!({})).await;
    let inst = r.json()["instanceId"].as_str().unwrap().to_string();
    api.get(&format!("/api/v2/cubes/{other}/instances/{inst}"))
        .await
        .assert_error(404, &[&inst]);
    // Not logged in.
    let anon = Api::new(&h);
    assert_eq!(anon.post(&path, &json!({})).await.status, 401);
    let _ = def;
    h.shutdown().await.unwrap();
}
