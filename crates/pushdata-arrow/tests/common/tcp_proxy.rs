//! A fault-injecting TCP proxy on 127.0.0.1:0 that reads the HTTP/1.1 requests passing
//! through it (request line, headers, `Content-Length` body; the clients never send
//! chunked request bodies) and, for the requests a [`Rule`] picks, breaks the connection
//! at the TCP level: a reset part-way through the request body, a response held back until
//! the client gives up, a response dropped after the server carried the request out, or an
//! answer of its own (503/429 with `Retry-After`) without passing the request on.
//!
//! Unlike [`super::fault_proxy`] (HTTP-level, for Data Lake appends whose SAS URI must be
//! rewritten), this one passes every byte through unchanged, so it sits in front of the
//! Push Data API and the Veracity gateway.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex as AsyncMutex;

/// What the proxy does to a request a [`Rule`] picks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TcpFault {
    /// Pass nothing of the request on; reset both connections.
    ResetBeforeRequest,
    /// Pass the head and this many bytes of the body on, then reset both connections.
    ResetAfterBodyBytes(usize),
    /// Pass the request on, then hold the server's answer until the client closes.
    StallResponse,
    /// Pass the request on, then close the client's connection when the answer starts.
    DropResponse,
    /// Read the request, do not pass it on, and answer with this status and
    /// `Retry-After` (when given), closing the connection.
    Answer {
        status: u16,
        retry_after: Option<String>,
    },
}

/// Which requests get a fault: those whose method is `method` and whose path (without
/// query) contains `path_contains`, from the `skip + 1`-th match on, `times` of them.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub(crate) method: &'static str,
    pub(crate) path_contains: String,
    pub(crate) skip: usize,
    pub(crate) times: usize,
    pub(crate) fault: TcpFault,
}

impl Rule {
    /// The first `times` requests `method …path_contains…` get `fault`.
    pub(crate) fn new(
        method: &'static str,
        path_contains: impl Into<String>,
        times: usize,
        fault: TcpFault,
    ) -> Rule {
        Rule {
            method,
            path_contains: path_contains.into(),
            skip: 0,
            times,
            fault,
        }
    }

    /// Let the first `skip` matching requests through.
    pub(crate) fn after(mut self, skip: usize) -> Rule {
        self.skip = skip;
        self
    }
}

/// A request the proxy saw, and the fault it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SeenRequest {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) fault: Option<TcpFault>,
}

#[derive(Debug, Default)]
struct State {
    rules: Vec<(Rule, usize)>,
    seen: Vec<SeenRequest>,
}

impl State {
    /// Record a request; the fault it gets, if any.
    fn pick(&mut self, method: &str, path: &str) -> Option<TcpFault> {
        let mut fault = None;
        for (rule, matched) in &mut self.rules {
            if rule.method == method && path.contains(&rule.path_contains) {
                *matched += 1;
                if fault.is_none() && *matched > rule.skip && *matched <= rule.skip + rule.times {
                    fault = Some(rule.fault.clone());
                }
            }
        }
        self.seen.push(SeenRequest {
            method: method.to_string(),
            path: path.to_string(),
            fault: fault.clone(),
        });
        fault
    }
}

/// The proxy; it serves until dropped.
pub(crate) struct TcpProxy {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl TcpProxy {
    /// A proxy in front of `upstream`.
    pub(crate) async fn start(upstream: SocketAddr) -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(upstream).await {
                        serve(client, server, state).await;
                    }
                });
            }
        });
        TcpProxy { addr, state, task }
    }

    /// The proxy's origin, `http://127.0.0.1:PORT`.
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Apply `rule` from now on.
    pub(crate) fn inject(&self, rule: Rule) {
        self.state.lock().unwrap().rules.push((rule, 0));
    }

    /// Every request seen so far, in order.
    pub(crate) fn seen(&self) -> Vec<SeenRequest> {
        self.state.lock().unwrap().seen.clone()
    }

    /// How many requests got a fault.
    pub(crate) fn faults(&self) -> usize {
        self.seen().iter().filter(|s| s.fault.is_some()).count()
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What the server→client pump does with the next answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Pass,
    Stall,
    Drop,
}

/// Pump one connection pair until either side closes or a fault ends it.
async fn serve(client: TcpStream, server: TcpStream, state: Arc<Mutex<State>>) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let client_write = Arc::new(AsyncMutex::new(client_write));
    let (answer_tx, answer_rx) = tokio::sync::watch::channel(Answer::Pass);
    let up = requests(
        client_read,
        server_write,
        client_write.clone(),
        state,
        answer_tx,
    );
    let down = answers(server_read, client_write, answer_rx);
    // Whichever side ends first ends the connection pair (both halves are dropped).
    tokio::select! {
        _ = up => {}
        _ = down => {}
    }
}

/// Client → server: one request at a time, faults applied.
async fn requests(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    client_write: Arc<AsyncMutex<OwnedWriteHalf>>,
    state: Arc<Mutex<State>>,
    answer: tokio::sync::watch::Sender<Answer>,
) {
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let Some(head_len) = read_head(&mut from, &mut buf).await else {
            return;
        };
        let (method, path, body_len) = parse_head(&buf[..head_len]);
        let fault = state.lock().unwrap().pick(&method, &path);
        let remaining = head_len + body_len;
        match fault {
            Some(TcpFault::ResetBeforeRequest | TcpFault::ResetAfterBodyBytes(_)) => {
                if let Some(TcpFault::ResetAfterBodyBytes(n)) = fault {
                    let cut = head_len + n.min(body_len);
                    let _ = copy_exact(&mut from, &mut to, &mut buf, cut).await;
                }
                // SO_LINGER 0: closing sends RST to both sides.
                let _ = to.as_ref().set_zero_linger();
                let _ = client_write.lock().await.as_ref().set_zero_linger();
                return;
            }
            Some(TcpFault::Answer {
                status,
                retry_after,
            }) => {
                if discard_exact(&mut from, &mut buf, remaining).await.is_err() {
                    return;
                }
                let after = retry_after
                    .map(|r| format!("Retry-After: {r}\r\n"))
                    .unwrap_or_default();
                let reply = format!(
                    "HTTP/1.1 {status} Injected\r\n{after}Content-Type: application/json\r\n\
                     Content-Length: 2\r\nConnection: close\r\n\r\n{{}}"
                );
                let mut w = client_write.lock().await;
                let _ = w.write_all(reply.as_bytes()).await;
                let _ = w.shutdown().await;
                return;
            }
            Some(TcpFault::StallResponse) => {
                answer.send_replace(Answer::Stall);
            }
            Some(TcpFault::DropResponse) => {
                answer.send_replace(Answer::Drop);
            }
            None => {}
        }
        if copy_exact(&mut from, &mut to, &mut buf, remaining)
            .await
            .is_err()
        {
            return;
        }
        if matches!(fault, Some(TcpFault::StallResponse)) {
            // Wait for the client to give up (it closes), then end both connections.
            let mut sink = [0u8; 1024];
            while matches!(from.read(&mut sink).await, Ok(n) if n > 0) {}
            return;
        }
    }
}

/// Server → client: pass answers on, unless told to hold or drop the next one.
async fn answers(
    mut from: OwnedReadHalf,
    to: Arc<AsyncMutex<OwnedWriteHalf>>,
    answer: tokio::sync::watch::Receiver<Answer>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let mode = *answer.borrow();
        match mode {
            Answer::Pass => {}
            Answer::Drop => return,
            Answer::Stall => {
                std::future::pending::<()>().await;
            }
        }
        if to.lock().await.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// Read until `buf` holds a whole request head; its length (with the blank line).
async fn read_head(from: &mut OwnedReadHalf, buf: &mut Vec<u8>) -> Option<usize> {
    loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            return Some(at + 4);
        }
        let mut chunk = [0u8; 16 * 1024];
        match from.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Method, path (without query) and `Content-Length` of a request head.
fn parse_head(head: &[u8]) -> (String, String, usize) {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_string();
    let target = first.next().unwrap_or_default();
    let path = target.split('?').next().unwrap_or_default().to_string();
    let body_len = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    (method, path, body_len)
}

/// Pass `len` bytes on: what `buf` holds first, then from the socket; the rest of `buf`
/// (the start of the next request) stays in it.
async fn copy_exact(
    from: &mut OwnedReadHalf,
    to: &mut OwnedWriteHalf,
    buf: &mut Vec<u8>,
    mut len: usize,
) -> std::io::Result<()> {
    let take = len.min(buf.len());
    to.write_all(&buf[..take]).await?;
    buf.drain(..take);
    len -= take;
    let mut chunk = vec![0u8; 64 * 1024];
    while len > 0 {
        let want = len.min(chunk.len());
        let n = from.read(&mut chunk[..want]).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        to.write_all(&chunk[..n]).await?;
        len -= n;
    }
    Ok(())
}

/// Read and drop `len` bytes (what `buf` holds first).
async fn discard_exact(
    from: &mut OwnedReadHalf,
    buf: &mut Vec<u8>,
    mut len: usize,
) -> std::io::Result<()> {
    let take = len.min(buf.len());
    buf.drain(..take);
    len -= take;
    let mut chunk = vec![0u8; 64 * 1024];
    while len > 0 {
        let want = len.min(chunk.len());
        let n = from.read(&mut chunk[..want]).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        len -= n;
    }
    Ok(())
}
