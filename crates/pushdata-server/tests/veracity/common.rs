//! Helpers: start a server, get a token, call the gateway, upload through the SAS URI.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use pushdata_core::veracity::wire::{IngestResponse, JobStatus, QueryPage};
use pushdata_server::{
    DEFAULT_VERACITY_CLIENT_ID, DEFAULT_VERACITY_CLIENT_SECRET, DEFAULT_VERACITY_SUBSCRIPTION_KEY,
    PublishHook, Server, ServerConfig, ServerHandle,
};
use reqwest::Method;
use serde_json::{Value, json};

pub(crate) const WS: &str = "5f1c2d3e-0000-4000-a000-000000000001";
pub(crate) const GATEWAY: &str = "/veracity/dw/gateway/api/v2";

pub(crate) struct Resp {
    pub(crate) status: u16,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: String,
}

impl Resp {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    /// Assert a Data Lake error: status, `x-ms-error-code` and the body's code.
    pub(crate) fn assert_lake(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.headers["x-ms-error-code"], code);
        assert_eq!(self.json()["error"]["code"], code, "{}", self.body);
        assert!(
            self.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains("RequestId:")
        );
    }
}

pub(crate) struct V {
    pub(crate) client: reqwest::Client,
    pub(crate) root: String,
    pub(crate) token: String,
    pub(crate) _handle: ServerHandle,
}

pub(crate) async fn start(dir: &Path) -> V {
    start_with(dir, |c| c).await
}

pub(crate) async fn start_with(dir: &Path, f: impl FnOnce(ServerConfig) -> ServerConfig) -> V {
    let config = f(ServerConfig::new(dir).with_addr("127.0.0.1:0".parse().unwrap()));
    connect(Server::start(config).await.unwrap()).await
}

/// A server on `dir` whose publishes run `hook`.
pub(crate) async fn start_hooked(dir: &Path, hook: Arc<dyn PublishHook>) -> V {
    let config = ServerConfig::new(dir).with_addr("127.0.0.1:0".parse().unwrap());
    connect(Server::start_with_hook(config, hook).await.unwrap()).await
}

/// A client of `handle`'s server, with a token if the default credentials get one.
pub(crate) async fn connect(handle: ServerHandle) -> V {
    let mut v = V {
        client: reqwest::Client::new(),
        root: format!("http://{}", handle.addr()),
        token: String::new(),
        _handle: handle,
    };
    let r = v
        .token_request(DEFAULT_VERACITY_CLIENT_ID, DEFAULT_VERACITY_CLIENT_SECRET)
        .await;
    if r.status == 200 {
        v.token = r.json()["access_token"].as_str().unwrap().to_string();
    }
    v
}

pub(crate) async fn send(req: reqwest::RequestBuilder) -> Resp {
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    Resp {
        status,
        headers,
        body: r.text().await.unwrap(),
    }
}

impl V {
    /// Shut the server down (its ingest runs stop before their commit) and wait.
    pub(crate) async fn stop(self) {
        self._handle.shutdown().await.unwrap();
    }

    /// The status of job `job`.
    pub(crate) async fn status(&self, job: &str) -> JobStatus {
        let r = self
            .gw(Method::GET, &format!("/ingest/job/{job}/status"), None)
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        serde_json::from_str(&r.body).unwrap()
    }

    pub(crate) async fn token_request(&self, id: &str, secret: &str) -> Resp {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
            (
                "resource",
                "https://dnvglb2cprod.onmicrosoft.com/83054ebf-1d7b-43f5-82ad-b2bde84d7b75",
            ),
        ];
        send(
            self.client
                .post(format!(
                    "{}/dnvglb2cprod.onmicrosoft.com/oauth2/token",
                    self.root
                ))
                .form(&form),
        )
        .await
    }

    /// A gateway call with the default key and this client's token.
    pub(crate) async fn gw(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        let mut req = self
            .client
            .request(
                method,
                format!("{}{GATEWAY}/workspaces/{WS}{path}", self.root),
            )
            .header(
                "Ocp-Apim-Subscription-Key",
                DEFAULT_VERACITY_SUBSCRIPTION_KEY,
            )
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        send(req).await
    }

    /// A schema of `columns`; returns its version id.
    pub(crate) async fn schema(&self, columns: Value) -> String {
        let r = self
            .gw(
                Method::POST,
                "/schemas/add",
                Some(json!({"name": "Wind", "columns": columns})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.json()["schemaVersions"][0]["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Register a job creating a dataset of a schema version, or updating a dataset.
    pub(crate) async fn register(&self, to: To<'_>, op: &str, auto: bool) -> Resp {
        match to {
            To::New(version) => {
                self.gw(
                    Method::POST,
                    "/ingest/dataset",
                    Some(json!({
                        "datasetName": "WindData", "schemaVersionId": version,
                        "files": [{"fileName": "ImportData.csv", "operation": op}],
                        "provider": "BYOD", "startAutomatically": auto
                    })),
                )
                .await
            }
            To::Existing(id) => {
                self.gw(
                    Method::PUT,
                    &format!("/ingest/dataset/{id}"),
                    Some(json!({
                        "files": [{"fileName": "ImportData.csv", "operation": op}],
                        "startAutomatically": auto
                    })),
                )
                .await
            }
        }
    }

    /// Create (PUT), append each chunk, flush.
    pub(crate) async fn upload(&self, sas_uri: &str, chunks: &[&[u8]]) {
        let f = FileUrl::new(sas_uri, "ImportData.csv");
        assert_eq!(f.create(self).await.status, 201);
        let mut pos = 0;
        for c in chunks {
            let r = f.append(self, pos, c.to_vec()).await;
            assert_eq!(r.status, 202, "{}", r.body);
            pos += c.len();
        }
        let r = f.flush(self, pos).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }

    pub(crate) async fn start_job(&self, job: &str) -> JobStatus {
        let r = self
            .gw(Method::POST, &format!("/ingest/job/{job}/start"), None)
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        serde_json::from_str(&r.body).unwrap()
    }

    /// Poll the job until it is done.
    pub(crate) async fn wait(&self, job: &str) -> JobStatus {
        for _ in 0..500 {
            let s = self.status(job).await;
            if s.status.is_terminal() {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("job {job} did not finish");
    }

    /// Register, upload `csv`, start and wait.
    pub(crate) async fn ingest(&self, to: To<'_>, op: &str, csv: &str) -> JobStatus {
        let r = self.register(to, op, false).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let reg: IngestResponse = serde_json::from_str(&r.body).unwrap();
        self.upload(reg.sas_token.expose(), &[csv.as_bytes()]).await;
        self.start_job(&reg.job_id).await;
        self.wait(&reg.job_id).await
    }

    /// A new dataset of `csv` on a fresh schema of `columns`; returns its id.
    pub(crate) async fn dataset(&self, columns: Value, csv: &str) -> String {
        let version = self.schema(columns).await;
        let s = self.ingest(To::New(&version), "Create", csv).await;
        assert!(s.status.is_success(), "{s:?}");
        s.dataset_id.unwrap()
    }

    pub(crate) async fn query(&self, id: &str, body: Value) -> QueryPage {
        let r = self
            .gw(Method::POST, &format!("/datasets/{id}/query"), Some(body))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        serde_json::from_str(&r.body).unwrap()
    }

    /// All rows, sorted by `col`, as compact JSON text per row.
    pub(crate) async fn rows(&self, id: &str, col: &str) -> Vec<String> {
        let p = self
            .query(id, json!({"pageIndex": 1, "pageSize": 1000, "sorting": {"column": col, "order": "Ascending"}}))
            .await;
        p.rows()
            .unwrap()
            .into_iter()
            .map(|r| Value::Object(r).to_string())
            .collect()
    }
}

/// What a job writes to.
#[derive(Clone, Copy)]
pub(crate) enum To<'a> {
    /// A new dataset of this schema version.
    New(&'a str),
    /// This dataset.
    Existing(&'a str),
}

/// The upload URL of a file in a SAS folder.
pub(crate) struct FileUrl {
    pub(crate) base: String,
    pub(crate) sas: String,
}

impl FileUrl {
    pub(crate) fn new(sas_uri: &str, file: &str) -> Self {
        let (folder, sas) = sas_uri.split_once('?').unwrap();
        FileUrl {
            base: format!("{folder}/{file}"),
            sas: sas.to_string(),
        }
    }
    fn url(&self, ops: &str) -> String {
        format!("{}?{}&{ops}", self.base, self.sas)
    }
    /// The same file on the server at `root` (after a restart on another port).
    pub(crate) fn on(&self, root: &str) -> Self {
        let path = &self.base[self.base.find("/ingest/").unwrap()..];
        FileUrl {
            base: format!("{root}{path}"),
            sas: self.sas.clone(),
        }
    }
    pub(crate) async fn create(&self, v: &V) -> Resp {
        send(
            v.client
                .put(self.url("resource=file"))
                .header("x-ms-version", "2023-05-03"),
        )
        .await
    }
    pub(crate) async fn append(&self, v: &V, pos: usize, body: Vec<u8>) -> Resp {
        let url = self.url(&format!("action=append&position={pos}"));
        send(
            v.client
                .patch(url)
                .header("content-type", "application/json")
                .body(body),
        )
        .await
    }
    pub(crate) async fn flush(&self, v: &V, pos: usize) -> Resp {
        let url = self.url(&format!(
            "action=flush&position={pos}&retainUncommittedData=false&close=false"
        ));
        send(v.client.patch(url).header("content-length", "0")).await
    }
}

pub(crate) fn keyed_columns() -> Value {
    json!([
        {"name": "Id", "type": "Int32", "isKey": true},
        {"name": "Name", "type": "String"},
        {"name": "Value", "type": "Double"},
        {"name": "TS", "type": "DateTime"},
        {"name": "Ok", "type": "Boolean"}
    ])
}
