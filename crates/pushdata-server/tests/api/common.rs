//! Helpers: start a server on a temp dir, log in, send requests, read stored rows.

use std::path::Path;
use std::time::Duration;

use arrow_array::RecordBatch;
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use base64::Engine;
use pushdata_core::wire::{ErrorBody, PublishStatus};
use pushdata_server::{HookError, PublishHook, Server, ServerConfig, ServerHandle};
use reqwest::Method;
use serde_json::{Value, json};

pub(crate) const PROJECT: &str = "B19DEDCC11D4E0EFC000EB9495D0F44F";

pub(crate) async fn start(dir: &Path) -> ServerHandle {
    start_with(dir, |c| c).await
}

pub(crate) async fn start_with(
    dir: &Path,
    f: impl FnOnce(ServerConfig) -> ServerConfig,
) -> ServerHandle {
    let config = f(ServerConfig::new(dir).with_addr("127.0.0.1:0".parse().unwrap()));
    Server::start(config).await.unwrap()
}

/// A server whose publishes run `hook` (the seam for faults and delays).
pub(crate) async fn start_with_hook(dir: &Path, hook: impl PublishHook) -> ServerHandle {
    let config = ServerConfig::new(dir).with_addr("127.0.0.1:0".parse().unwrap());
    Server::start_with_hook(config, std::sync::Arc::new(hook))
        .await
        .unwrap()
}

/// Fails every publish after its files are written, before the swap (a crash at the
/// worst moment).
#[derive(Debug)]
pub(crate) struct FailBeforeSwap;

impl PublishHook for FailBeforeSwap {
    fn before_swap(&self, _dataset_id: &str, _version: u64) -> Result<(), HookError> {
        Err(HookError::new("fault injection"))
    }
}

/// Delays the start of every upload-session publish.
#[derive(Debug)]
pub(crate) struct DelayPublish(pub std::time::Duration);

impl PublishHook for DelayPublish {
    fn before_publish(&self, _dataset_id: &str) {
        std::thread::sleep(self.0);
    }
}

#[derive(Clone)]
pub(crate) struct Api {
    pub(crate) client: reqwest::Client,
    pub(crate) base: String,
    pub(crate) token: Option<String>,
    pub(crate) project: Option<String>,
}

pub(crate) struct Resp {
    pub(crate) status: u16,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: String,
}

impl Resp {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    pub(crate) fn error(&self) -> ErrorBody {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not an ErrorBody ({e}): {}", self.body))
    }
    /// Assert the status and that the error message contains every needle.
    pub(crate) fn assert_error(&self, status: u16, needles: &[&str]) {
        assert_eq!(self.status, status, "body: {}", self.body);
        let e = self.error();
        assert!(e.code.is_some() && e.ticket_id.is_some(), "{e:?}");
        for n in needles {
            assert!(e.message.contains(n), "message {:?} lacks {n:?}", e.message);
        }
    }
}

impl Api {
    pub(crate) fn new(handle: &ServerHandle) -> Self {
        Api {
            client: reqwest::Client::new(),
            base: handle.base_url().to_string(),
            token: None,
            project: Some(PROJECT.to_string()),
        }
    }

    /// A logged-in API (administrator, empty password).
    pub(crate) async fn login(handle: &ServerHandle) -> Self {
        Api::login_as(handle, "administrator", "").await
    }

    /// A logged-in API for `user`.
    pub(crate) async fn login_as(handle: &ServerHandle, user: &str, password: &str) -> Self {
        let mut api = Api::new(handle);
        let body = json!({"loginMode": 1, "username": user, "password": password}).to_string();
        let r = api
            .send(Method::POST, "/api/auth/login", Some(&body), &[])
            .await;
        assert_eq!(r.status, 204, "{}", r.body);
        api.token = Some(r.headers["x-mstr-authtoken"].to_str().unwrap().to_string());
        api
    }

    pub(crate) async fn send(
        &self,
        m: Method,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut r = self.client.request(m, format!("{}{}", self.base, path));
        if let Some(t) = &self.token {
            r = r.header("X-MSTR-AuthToken", t);
        }
        if let Some(p) = &self.project {
            r = r.header("X-MSTR-ProjectID", p);
        }
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        if let Some(b) = body {
            r = r
                .header("Content-Type", "application/json")
                .body(b.to_string());
        }
        let resp = r.send().await.unwrap();
        Resp {
            status: resp.status().as_u16(),
            headers: resp.headers().clone(),
            body: resp.text().await.unwrap(),
        }
    }

    pub(crate) async fn get(&self, path: &str) -> Resp {
        self.send(Method::GET, path, None, &[]).await
    }

    pub(crate) async fn post(&self, path: &str, body: &Value) -> Resp {
        self.send(Method::POST, path, Some(&body.to_string()), &[])
            .await
    }

    /// Server still serving: projects listing works.
    pub(crate) async fn assert_alive(&self) {
        let r = self.get("/api/projects").await;
        assert_eq!(r.status, 200, "{}", r.body);
    }

    /// Create a model; returns (dataset id).
    pub(crate) async fn create_model(&self, model: &Value) -> String {
        let r = self.post("/api/datasets/models", model).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()["id"].as_str().unwrap().to_string()
    }

    pub(crate) async fn open_session(&self, ds: &str, tables: &Value) -> String {
        let r = self
            .post(
                &format!("/api/datasets/{ds}/uploadSessions"),
                &json!({ "tables": tables }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()["uploadSessionId"].as_str().unwrap().to_string()
    }

    pub(crate) async fn put_chunk(
        &self,
        ds: &str,
        sid: &str,
        table: &str,
        index: u64,
        data_json: &str,
    ) -> Resp {
        let body = json!({ "tableName": table, "index": index, "data": b64(data_json) });
        self.send(
            Method::PUT,
            &format!("/api/datasets/{ds}/uploadSessions/{sid}"),
            Some(&body.to_string()),
            &[],
        )
        .await
    }

    /// Ask for the publish of an upload session (it runs in the background).
    pub(crate) async fn publish(&self, ds: &str, sid: &str) {
        let r = self
            .send(
                Method::POST,
                &format!("/api/datasets/{ds}/uploadSessions/{sid}/publish"),
                None,
                &[],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }

    /// Delete a dataset the way mstrio-py does (204).
    pub(crate) async fn delete_dataset(&self, ds: &str) {
        let r = self
            .send(
                Method::DELETE,
                &format!("/api/objects/{ds}?type=3"),
                None,
                &[],
            )
            .await;
        assert_eq!(r.status, 204, "{}", r.body);
    }

    pub(crate) async fn publish_and_wait(&self, ds: &str, sid: &str) -> PublishStatus {
        self.publish(ds, sid).await;
        self.wait(ds, sid).await
    }

    pub(crate) async fn wait(&self, ds: &str, sid: &str) -> PublishStatus {
        for _ in 0..4800 {
            let r = self
                .get(&format!(
                    "/api/datasets/{ds}/uploadSessions/{sid}/publishStatus"
                ))
                .await;
            assert_eq!(r.status, 200, "{}", r.body);
            let st: PublishStatus = serde_json::from_str(&r.body).unwrap();
            if st.status.is_ready() || st.status.is_failed() {
                return st;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("publish did not finish");
    }

    /// One session, one chunk per table, publish, wait; asserts success.
    pub(crate) async fn push(&self, ds: &str, tables: &[(&str, &str, &str)]) {
        let spec: Vec<Value> = tables
            .iter()
            .map(|(t, p, _)| json!({ "name": t, "updatePolicy": p }))
            .collect();
        let sid = self.open_session(ds, &Value::Array(spec)).await;
        for (t, _, data) in tables {
            let r = self.put_chunk(ds, &sid, t, 1, data).await;
            assert_eq!(r.status, 200, "{}", r.body);
        }
        let st = self.publish_and_wait(ds, &sid).await;
        assert!(st.status.is_ready(), "{st:?}");
    }
}

pub(crate) fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s.as_bytes())
}

/// Rows as `a|b|c` strings (nulls empty).
pub(crate) fn rows(batches: &[RecordBatch]) -> Vec<String> {
    let opts = FormatOptions::default();
    let mut out = Vec::new();
    for b in batches {
        let fmts: Vec<ArrayFormatter> = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts).unwrap())
            .collect();
        for i in 0..b.num_rows() {
            out.push(
                fmts.iter()
                    .map(|f| f.value(i).to_string())
                    .collect::<Vec<_>>()
                    .join("|"),
            );
        }
    }
    out
}

pub(crate) fn stored(dir: &Path, ds: &str, table: &str) -> Vec<String> {
    rows(&pushdata_server::read_table(dir, ds, table).unwrap())
}

/// A model with one table `items(id INTEGER, name STRING, value DOUBLE)` keyed by the
/// attribute Item (ID form id, DESC form name), metric value; and a second table
/// `plain(x INTEGER, y DOUBLE)` with only metrics (no key).
pub(crate) fn items_model(name: &str) -> Value {
    json!({
        "name": name,
        "tables": [
            {"name": "items", "columnHeaders": [
                {"name": "id", "dataType": "INTEGER"},
                {"name": "name", "dataType": "STRING"},
                {"name": "value", "dataType": "DOUBLE"}]},
            {"name": "plain", "columnHeaders": [
                {"name": "x", "dataType": "INTEGER"},
                {"name": "y", "dataType": "DOUBLE"}]}
        ],
        "attributes": [
            {"name": "Item", "attributeForms": [
                {"category": "ID", "expressions": [{"tableName": "items", "columnName": "id"}]},
                {"category": "DESC", "expressions": [{"tableName": "items", "columnName": "name"}]}]}
        ],
        "metrics": [
            {"name": "value", "expressions": [{"tableName": "items", "columnName": "value"}]},
            {"name": "x", "expressions": [{"tableName": "plain", "columnName": "x"}]},
            {"name": "y", "expressions": [{"tableName": "plain", "columnName": "y"}]}
        ]
    })
}

pub(crate) const BASE_ROWS: &str = r#"[[1,"a",1.0],[2,"b",2.0],[3,"c",3.0]]"#;
