//! A fault-injecting HTTP proxy on 127.0.0.1:0, for the faults the reference server cannot
//! produce (a lost answer to a call the server carried out). It forwards every request to
//! the server with reqwest and passes the server's answer back, with the server's origin in
//! the body rewritten to the proxy's (so a SAS URI the server issues leads back through the
//! proxy), except for the requests a [`Rule`] picks: those are forwarded, and then the
//! server's answer is replaced by the rule's [`Fault`].

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONNECTION, CONTENT_LENGTH, HOST, HeaderValue, TRANSFER_ENCODING};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// What the proxy does instead of passing the server's answer back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Close the connection without an answer.
    DropConnection,
    /// Answer with this status and an Azure-style error body (`ServerBusy`).
    Status(u16),
}

/// Which request gets a fault: the `nth` (1-based) whose query has `action=<action>`.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub(crate) action: &'static str,
    pub(crate) nth: usize,
    pub(crate) fault: Fault,
}

/// A request the proxy saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Seen {
    pub(crate) method: String,
    pub(crate) path: String,
    /// The `action` query parameter (Data Lake calls).
    pub(crate) action: Option<String>,
    /// The `position` query parameter (Data Lake appends and flushes).
    pub(crate) position: Option<u64>,
    /// The server's status.
    pub(crate) status: u16,
    /// The fault that replaced the server's answer, if any.
    pub(crate) fault: Option<Fault>,
}

#[derive(Debug, Default)]
struct State {
    upstream: String,
    origin: String,
    rules: Vec<Rule>,
    seen: Vec<Seen>,
}

/// The proxy; it serves until dropped.
pub(crate) struct FaultProxy {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// A proxy in front of `upstream` (`http://host:port`, no path).
    pub(crate) async fn start(upstream: &str) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State {
            upstream: upstream.trim_end_matches('/').to_string(),
            origin: format!("http://{addr}"),
            ..State::default()
        }));
        let http = reqwest::Client::new();
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (state, http) = (shared.clone(), http.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |req| forward(state.clone(), http.clone(), req));
                    // A dropped connection ends here with an error: that is the fault.
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        FaultProxy { addr, state, task }
    }

    /// The proxy's origin, `http://127.0.0.1:PORT`.
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Apply `rule` from now on (once: to the `nth` matching request).
    pub(crate) fn inject(&self, rule: Rule) {
        self.state.lock().unwrap().rules.push(rule);
    }

    /// Every request seen so far, in order.
    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The proxy's refusal to answer ([`Fault::DropConnection`]): hyper closes the connection.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by the fault proxy")
    }
}

impl std::error::Error for Dropped {}

async fn forward(
    state: Arc<Mutex<State>>,
    http: reqwest::Client,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map_err(|_| Dropped)?.to_bytes();
    let query: Vec<(String, String)> = parts.uri.query().map(url_pairs).unwrap_or_default();
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let (upstream, origin) = {
        let s = state.lock().unwrap();
        (s.upstream.clone(), s.origin.clone())
    };
    let target = format!(
        "{upstream}{}",
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let mut request = http.request(parts.method.clone(), target).body(body);
    for (name, value) in &parts.headers {
        if ![HOST, CONTENT_LENGTH, TRANSFER_ENCODING, CONNECTION].contains(name) {
            request = request.header(name, value);
        }
    }
    let answer = request.send().await.map_err(|_| Dropped)?;
    let status = answer.status();
    let headers = answer.headers().clone();
    let bytes = answer.bytes().await.map_err(|_| Dropped)?;
    let action = param("action");
    let fault = {
        let mut s = state.lock().unwrap();
        let matching = s.seen.iter().filter(|seen| seen.action == action).count() + 1;
        let fault = action.as_deref().and_then(|a| {
            s.rules
                .iter()
                .find(|r| r.action == a && r.nth == matching)
                .map(|r| r.fault)
        });
        s.seen.push(Seen {
            method: parts.method.to_string(),
            path: parts.uri.path().to_string(),
            action: action.clone(),
            position: param("position").and_then(|p| p.parse().ok()),
            status: status.as_u16(),
            fault,
        });
        fault
    };
    match fault {
        Some(Fault::DropConnection) => Err(Dropped),
        Some(Fault::Status(code)) => Ok(busy(code)),
        None => {
            let body = match std::str::from_utf8(&bytes) {
                Ok(text) if text.contains(&upstream) => {
                    Bytes::from(text.replace(&upstream, &origin))
                }
                _ => bytes,
            };
            let mut response = Response::new(Full::new(body));
            *response.status_mut() = status;
            for (name, value) in &headers {
                if ![CONTENT_LENGTH, TRANSFER_ENCODING, CONNECTION].contains(name) {
                    response.headers_mut().append(name, value.clone());
                }
            }
            Ok(response)
        }
    }
}

/// An Azure Storage-style error answer with `status` (`ServerBusy`).
fn busy(status: u16) -> Response<Full<Bytes>> {
    let body = r#"{"error":{"code":"ServerBusy","message":"injected by the fault proxy"}}"#;
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = StatusCode::from_u16(status).unwrap();
    let headers = response.headers_mut();
    headers.insert("x-ms-error-code", HeaderValue::from_static("ServerBusy"));
    headers.insert(
        "content-type",
        HeaderValue::from_static("application/json;charset=utf-8"),
    );
    response
}

/// The `name=value` pairs of a query string, as sent (the proxy reads only plain ones).
fn url_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
