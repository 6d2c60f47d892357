//! The cube calls of the client against a mock server: what is sent (path, query,
//! project header, body) and the retry of instance creation on 503, a fault the
//! reference server cannot produce.
#![allow(clippy::unwrap_used, dead_code, missing_docs)]

#[path = "client/common.rs"]
mod common;

use common::*;
use pushdata_core::Error;
use pushdata_core::wire::{CubeInstanceRequest, PROJECT_ID_HEADER};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn page(offset: u64, current: u64) -> serde_json::Value {
    json!({"id": "C", "name": "cube", "instanceId": "I1", "status": 1,
        "definition": {"grid": {"crossTab": false, "rows": [], "columns": [
            {"name": "Metrics", "id": "00000000000000000000000000000000", "type": "templateMetrics",
             "elements": [{"name": "M", "id": "MID", "type": "metric", "dataType": "BIGDECIMAL", "precision": 38, "scale": 1}]}]}},
        "data": {"paging": {"total": 3, "current": current, "offset": offset, "limit": 2},
            "headers": {"rows": [[]], "columns": [[0]]},
            "metricValues": {"raw": [[1.5]]}}})
}

#[tokio::test]
async fn create_instance_is_retried_and_sends_query_project_and_body() {
    let server = MockServer::start().await;
    let client = logged_in(&server).await;
    let p = api("v2/cubes/C/instances");
    Mock::given(method("POST"))
        .and(path(p.clone()))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(p.clone()))
        .respond_with(ResponseTemplate::new(201).set_body_json(page(0, 2)))
        .mount(&server)
        .await;
    let req = CubeInstanceRequest::with_objects(["A1"], ["MID"]);
    let got = client.create_cube_instance("C", &req, 0, 2).await.unwrap();
    assert_eq!(got.instance_id, "I1");
    assert_eq!(got.metrics()[0].scale, Some(1));
    let reqs = requests_to(&server, &p).await;
    assert_eq!(reqs.len(), 2, "one retry after 503");
    let r = &reqs[1];
    let q: Vec<(String, String)> = r.url.query_pairs().into_owned().collect();
    assert!(q.contains(&("offset".into(), "0".into())), "{q:?}");
    assert!(q.contains(&("limit".into(), "2".into())), "{q:?}");
    assert!(
        q.iter()
            .any(|(k, v)| k == "fields" && v.contains("-data.metricValues.formatted"))
    );
    assert_eq!(r.headers[PROJECT_ID_HEADER], PROJECT);
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        body,
        json!({"requestedObjects": {"attributes": [{"id": "A1"}], "metrics": [{"id": "MID"}]}})
    );
}

#[tokio::test]
async fn pages_and_definition_and_bad_ids() {
    let server = MockServer::start().await;
    let client = logged_in(&server).await;
    Mock::given(method("GET"))
        .and(path(api("v2/cubes/C/instances/I1")))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(2, 1)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(api("v2/cubes/C")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "C", "name": "cube",
            "definition": {"availableObjects": {"attributes": [], "metrics": [{"id": "MID", "name": "M", "type": "Metric"}]}}
        })))
        .mount(&server)
        .await;
    let p = client.cube_instance_page("C", "I1", 2, 2).await.unwrap();
    assert_eq!(p.data.paging.offset, 2);
    assert_eq!(p.data.metric_values.raw[0][0].get(), "1.5");
    let d = client.cube_definition("C").await.unwrap();
    assert_eq!(d.definition.available_objects.metrics[0].name, "M");
    let e = client.cube_instance_page("C", " ", 0, 1).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidInput {
                what: "cube instance id",
                ..
            }
        ),
        "{e}"
    );
    let e = client
        .create_cube_instance("", &CubeInstanceRequest::all(), 0, 1)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidInput {
                what: "cube id",
                ..
            }
        ),
        "{e}"
    );
}
