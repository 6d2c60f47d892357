//! The OpenAPI document: served at `OPENAPI_PATH`, generated from the same `routes!`
//! calls that build the router. Checked against the running router: every documented
//! operation reaches a handler, and a documented Push Data API path answers 405 (not the
//! fallback's 404) to a method the document does not list for it.

use reqwest::Method;
use serde_json::Value;

use crate::common::*;

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

/// A documented path with its parameters filled in.
fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').unwrap() + open;
        out.push_str(match &rest[open + 1..close] {
            "ws" => WS_ID,
            _ => "0123456789ABCDEF0123456789ABCDEF",
        });
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

const WS_ID: &str = "5f1c2d3e-0000-4000-a000-000000000001";

#[tokio::test]
async fn the_openapi_document_lists_the_routes_the_router_serves() {
    let dir = tempfile::tempdir().unwrap();
    let h = start(dir.path()).await;
    let api = Api::login(&h).await;
    let root = format!("http://{}", h.addr());
    let r = api
        .client
        .get(format!("{root}{}", pushdata_server::OPENAPI_PATH))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let doc: Value = r.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, item) in paths {
        let documented: Vec<&str> = METHODS
            .iter()
            .copied()
            .filter(|m| item.get(*m).is_some())
            .collect();
        assert!(!documented.is_empty(), "{path}");
        // Every parameter of the path is declared.
        for m in &documented {
            let declared = item[*m]["parameters"].as_array().map_or(0, Vec::len);
            assert_eq!(declared, path.matches('{').count(), "{m} {path}");
            assert!(!item[*m]["responses"].as_object().unwrap().is_empty());
        }
        let url = format!("{root}{}", concrete(path));
        let send = |m: &str| {
            let m = Method::from_bytes(m.to_uppercase().as_bytes()).unwrap();
            let mut req = api.client.request(m, &url);
            if let Some(t) = &api.token {
                req = req.header("X-MSTR-AuthToken", t);
            }
            req.header("X-MSTR-ProjectID", PROJECT).send()
        };
        for m in &documented {
            let status = send(m).await.unwrap().status().as_u16();
            assert_ne!(status, 405, "{m} {path}");
            assert!(status < 500, "{m} {path}: {status}");
            operations += 1;
        }
        if path.starts_with("/MicroStrategyLibrary/") {
            for m in METHODS.iter().filter(|m| !documented.contains(m)) {
                let status = send(m).await.unwrap().status().as_u16();
                assert_eq!(
                    status, 405,
                    "{m} {path}: the router has a route the document lacks"
                );
            }
        }
    }
    // Both services and the document itself.
    for p in [
        "/MicroStrategyLibrary/api/datasets/{id}/uploadSessions/{sid}",
        "/veracity/dw/gateway/api/v2/workspaces/{ws}/ingest/dataset",
        "/{fs}/oauth2/token",
        "/{fs}/{path}",
        pushdata_server::OPENAPI_PATH,
    ] {
        assert!(paths.contains_key(p), "{p}");
    }
    println!("openapi operations checked: {operations}");
    h.shutdown().await.unwrap();
}
