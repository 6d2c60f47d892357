//! Sending one call: URL, headers, body, retries, one re-login on 401, and turning error
//! responses into [`Error::Server`].

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::SystemTime;

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use http::{HeaderName, HeaderValue, Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::Client;
use super::retry::{RetryState, is_retryable_status, is_retryable_transport, retry_after};
use crate::error::{Endpoint, Error, Result};
use crate::wire::{AUTH_TOKEN_HEADER, ErrorBody, PROJECT_ID_HEADER};

/// The most bytes reserved up front for a response body from its `Content-Length`.
const MAX_RESERVED_BODY_BYTES: usize = 256 << 20;

/// The longest raw (non-JSON) error body kept in [`ErrorBody::message`].
const MAX_RAW_ERROR_CHARS: usize = 2000;

/// Reject an empty id or name before it turns into a confusing 404 on a path like
/// `datasets//...`.
pub(crate) fn require(what: &'static str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::InvalidInput {
            what,
            message: "must not be empty".to_string(),
        });
    }
    Ok(())
}

/// A request body: one buffer, or segments sent one after the other (a chunk body).
/// Either way a retry resends it without copying (cloning [`Bytes`] counts a reference).
#[derive(Clone)]
pub(crate) enum CallBody {
    /// One buffer.
    Whole(Bytes),
    /// Segments whose concatenation is the body.
    Segments(Arc<[Bytes]>),
}

impl CallBody {
    pub(crate) fn len(&self) -> usize {
        match self {
            CallBody::Whole(b) => b.len(),
            CallBody::Segments(s) => s.iter().map(Bytes::len).sum(),
        }
    }

    /// The body for reqwest. Segments go out as an [`http_body::Body`] of exact size, so
    /// hyper frames the request with `Content-Length` (not chunked transfer encoding).
    pub(crate) fn to_reqwest(&self) -> reqwest::Body {
        match self {
            CallBody::Whole(b) => reqwest::Body::from(b.clone()),
            CallBody::Segments(s) => reqwest::Body::wrap(SegmentedBody::new(s.clone())),
        }
    }
}

/// An [`http_body::Body`] that yields its segments in order and knows its exact size.
pub(crate) struct SegmentedBody {
    segments: Arc<[Bytes]>,
    next: usize,
    remaining: u64,
}

impl SegmentedBody {
    fn new(segments: Arc<[Bytes]>) -> Self {
        let remaining = segments.iter().map(|s| s.len() as u64).sum();
        SegmentedBody {
            segments,
            next: 0,
            remaining,
        }
    }
}

impl http_body::Body for SegmentedBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<std::result::Result<http_body::Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        while let Some(segment) = this.segments.get(this.next) {
            this.next += 1;
            if !segment.is_empty() {
                this.remaining -= segment.len() as u64;
                return Poll::Ready(Some(Ok(http_body::Frame::data(segment.clone()))));
            }
        }
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.remaining)
    }
}

/// One API call, ready to be sent (and sent again on retry without copying the body).
pub(crate) struct Call {
    url: Url,
    endpoint: Endpoint,
    body: Option<CallBody>,
    headers: Vec<(HeaderName, HeaderValue)>,
    /// Send the auth token (and fail with `NotLoggedIn` without one).
    session: bool,
    /// On 401, log in again once with the stored credentials and resend.
    relogin: bool,
    /// Send `X-MSTR-ProjectID` (and fail with `NoProjectSelected` without one).
    project: bool,
    /// Safe to resend after a timeout, a dropped connection or 502/504 (429 and 503 are
    /// retried for every call).
    idempotent: bool,
}

impl std::fmt::Debug for Call {
    /// Never shows the body: the login body holds the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("endpoint", &self.endpoint)
            .field("body_bytes", &self.body.as_ref().map(CallBody::len))
            .field("session", &self.session)
            .field("relogin", &self.relogin)
            .field("project", &self.project)
            .field("idempotent", &self.idempotent)
            .finish_non_exhaustive()
    }
}

impl Call {
    /// The call's endpoint, for error messages.
    pub(crate) fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Describe what the call carries (e.g. `table "t", chunk 3`) in errors and logs.
    pub(crate) fn detail(mut self, detail: String) -> Self {
        self.endpoint.detail = Some(detail);
        self
    }

    /// Send no auth token (login).
    pub(crate) fn without_session(mut self) -> Self {
        self.session = false;
        self.relogin = false;
        self
    }

    /// Do not log in again on 401 (logout).
    pub(crate) fn without_relogin(mut self) -> Self {
        self.relogin = false;
        self
    }

    /// Send `X-MSTR-ProjectID`.
    pub(crate) fn with_project(mut self) -> Self {
        self.project = true;
        self
    }

    /// Add a header.
    pub(crate) fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Append a query parameter.
    pub(crate) fn query(mut self, key: &str, value: &str) -> Self {
        self.url.query_pairs_mut().append_pair(key, value);
        self
    }

    /// Mark the call safe to resend (a POST that changes nothing).
    pub(crate) fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }

    /// A JSON body already serialized.
    pub(crate) fn body(mut self, body: Bytes) -> Self {
        self.body = Some(CallBody::Whole(body));
        self
    }

    /// A JSON body in segments, sent one after the other without joining them.
    pub(crate) fn body_segments(mut self, segments: impl IntoIterator<Item = Bytes>) -> Self {
        self.body = Some(CallBody::Segments(segments.into_iter().collect()));
        self
    }

    /// Serialize `value` as the JSON body.
    pub(crate) fn json<T: Serialize + ?Sized>(self, value: &T) -> Result<Self> {
        match serde_json::to_vec(value) {
            Ok(v) => Ok(self.body(Bytes::from(v))),
            Err(source) => Err(Error::Encode {
                endpoint: Box::new(self.endpoint),
                source,
            }),
        }
    }
}

/// What a call sends from the session, taken at one moment.
struct Snapshot {
    token: Option<HeaderValue>,
    project: Option<HeaderValue>,
    generation: u64,
}

impl Client {
    /// A call to `{base}/api/{segments...}`; each segment is percent-encoded.
    ///
    /// GET, PUT and DELETE are idempotent; the call sends the auth token and logs in again
    /// on 401 unless told otherwise.
    pub(crate) fn call(&self, method: Method, segments: &[&str]) -> Result<Call> {
        let mut url = self.inner.base.clone();
        {
            let mut path = url
                .path_segments_mut()
                .map_err(|()| Error::config("base URL cannot take a path"))?;
            path.pop_if_empty().push("api").extend(segments);
        }
        let idempotent = matches!(method, Method::GET | Method::PUT | Method::DELETE);
        let endpoint = Endpoint {
            method,
            path: url.path().to_string(),
            detail: None,
        };
        Ok(Call {
            url,
            endpoint,
            body: None,
            headers: Vec::new(),
            session: true,
            relogin: true,
            project: false,
            idempotent,
        })
    }

    /// Send a call and return its successful response.
    ///
    /// Retries per the [`RetryConfig`](super::RetryConfig); on 401 (after login) logs in
    /// again once and resends; any other error status becomes [`Error::Server`].
    pub(crate) async fn execute(&self, call: &Call) -> Result<reqwest::Response> {
        let mut renewed = false;
        loop {
            let snapshot = self.snapshot(call)?;
            let response = self.send_with_retries(call, &snapshot).await?;
            let status = response.status();
            if status.is_success() {
                return Ok(response);
            }
            let error = server_error(response, &call.endpoint).await;
            if status == StatusCode::UNAUTHORIZED && call.relogin && !renewed {
                tracing::debug!(
                    endpoint = %call.endpoint,
                    "HTTP 401: the session has expired; logging in again"
                );
                if self.renew_session(snapshot.generation).await? {
                    renewed = true;
                    continue;
                }
            }
            return Err(error);
        }
    }

    /// Send a call and decode its JSON response.
    pub(crate) async fn execute_json<T: DeserializeOwned>(&self, call: &Call) -> Result<T> {
        let bytes = self.execute_bytes(call).await?;
        decode_json(&bytes, &call.endpoint)
    }

    /// Send a call and return its response body as it came.
    pub(crate) async fn execute_bytes(&self, call: &Call) -> Result<Bytes> {
        let response = self.execute(call).await?;
        self.read_body(response, &call.endpoint).await
    }

    /// Send a call and decode its JSON response; also returns the response headers.
    pub(crate) async fn execute_json_with_headers<T: DeserializeOwned>(
        &self,
        call: &Call,
    ) -> Result<(T, http::HeaderMap)> {
        let response = self.execute(call).await?;
        let headers = response.headers().clone();
        let bytes = self.read_body(response, &call.endpoint).await?;
        Ok((decode_json(&bytes, &call.endpoint)?, headers))
    }

    /// Send a call whose response body does not matter (it is read, so the connection can
    /// be reused).
    pub(crate) async fn execute_empty(&self, call: &Call) -> Result<()> {
        let response = self.execute(call).await?;
        self.read_body(response, &call.endpoint).await.map(drop)
    }

    /// Send a call and read its response body into `buf` (cleared first; its capacity is
    /// kept, so a buffer used again takes no new memory).
    pub(crate) async fn execute_into(&self, call: &Call, buf: &mut Vec<u8>) -> Result<()> {
        let mut response = self.execute(call).await?;
        buf.clear();
        if let Some(n) = response.content_length() {
            // The length announced, up to a bound (the body may still be longer).
            buf.reserve(usize::try_from(n).unwrap_or(0).min(MAX_RESERVED_BODY_BYTES));
        }
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error(e, &call.endpoint))?
        {
            buf.extend_from_slice(&chunk);
        }
        Ok(())
    }

    /// Read a response body (a timeout while reading is an [`Error::Timeout`]).
    async fn read_body(&self, response: reqwest::Response, endpoint: &Endpoint) -> Result<Bytes> {
        response
            .bytes()
            .await
            .map_err(|e| self.transport_error(e, endpoint))
    }

    /// Send a call without the 401 handling: retries only. Returns the last response,
    /// whatever its status.
    pub(crate) async fn send_once_with_retries(&self, call: &Call) -> Result<reqwest::Response> {
        let snapshot = self.snapshot(call)?;
        self.send_with_retries(call, &snapshot).await
    }

    fn snapshot(&self, call: &Call) -> Result<Snapshot> {
        let session = self.inner.session.read();
        let token = if call.session {
            let token = session.token.as_ref().ok_or(Error::NotLoggedIn)?;
            // Checked at login; a token that cannot be a header value never gets stored.
            let mut value =
                HeaderValue::from_str(token.expose()).map_err(|_| Error::MissingAuthToken {
                    endpoint: Box::new(call.endpoint.clone()),
                    reason: "the stored token is not a valid header value",
                })?;
            value.set_sensitive(true);
            Some(value)
        } else {
            None
        };
        let project = if call.project {
            let id = session
                .project_id
                .as_deref()
                .ok_or_else(|| Error::NoProjectSelected {
                    endpoint: Box::new(call.endpoint.clone()),
                })?;
            Some(HeaderValue::from_str(id).map_err(|_| Error::InvalidInput {
                what: "project id",
                message: format!("{id:?} cannot be sent in the {PROJECT_ID_HEADER} header"),
            })?)
        } else {
            None
        };
        Ok(Snapshot {
            token,
            project,
            generation: session.generation,
        })
    }

    async fn send_with_retries(
        &self,
        call: &Call,
        snapshot: &Snapshot,
    ) -> Result<reqwest::Response> {
        let mut state = RetryState::new(&self.inner.retry);
        loop {
            let mut request = self
                .inner
                .http
                .request(call.endpoint.method.clone(), call.url.clone())
                .header(ACCEPT, "application/json");
            if let Some(token) = &snapshot.token {
                request = request.header(AUTH_TOKEN_HEADER, token.clone());
            }
            if let Some(project) = &snapshot.project {
                request = request.header(PROJECT_ID_HEADER, project.clone());
            }
            for (name, value) in &call.headers {
                request = request.header(name.clone(), value.clone());
            }
            match &call.body {
                Some(body) => {
                    // The exact length, also for a segmented body (hyper would derive it
                    // from the body's size hint; saying it keeps the framing explicit).
                    request = request
                        .header(CONTENT_TYPE, "application/json")
                        .header(CONTENT_LENGTH, body.len())
                        .body(body.to_reqwest());
                }
                None if call.endpoint.method != Method::GET
                    && call.endpoint.method != Method::DELETE =>
                {
                    // Some servers and proxies require a length on POST even without a body
                    // (411 Length Required); hyper does not add one for an empty body.
                    request = request.header(CONTENT_LENGTH, "0");
                }
                None => {}
            }

            match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    if is_retryable_status(status, call.idempotent) {
                        let hint = retry_after(response.headers(), SystemTime::now());
                        if let Some(wait) = state.next_wait(hint) {
                            tracing::debug!(
                                endpoint = %call.endpoint,
                                status = status.as_u16(),
                                retry = state.retries(),
                                max_retries = self.inner.retry.max_retries,
                                wait_ms = wait.as_millis() as u64,
                                retry_after = hint.is_some(),
                                "server busy; retrying"
                            );
                            drop(response);
                            tokio::time::sleep(wait).await;
                            continue;
                        }
                        tracing::debug!(
                            endpoint = %call.endpoint,
                            status = status.as_u16(),
                            retries = state.retries(),
                            "giving up retrying"
                        );
                    }
                    return Ok(response);
                }
                Err(error) => {
                    if is_retryable_transport(&error, call.idempotent)
                        && let Some(wait) = state.next_wait(None)
                    {
                        tracing::debug!(
                            endpoint = %call.endpoint,
                            error = %error,
                            retry = state.retries(),
                            max_retries = self.inner.retry.max_retries,
                            wait_ms = wait.as_millis() as u64,
                            "request failed; retrying"
                        );
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    return Err(self.transport_error(error, &call.endpoint));
                }
            }
        }
    }

    /// A transport failure as [`Error::Timeout`] or [`Error::Http`].
    pub(crate) fn transport_error(&self, error: reqwest::Error, endpoint: &Endpoint) -> Error {
        // The endpoint already names the path; drop reqwest's copy of the URL.
        let source = error.without_url();
        if let Some(reason) = super::tls::refused_certificate(&source) {
            Error::UntrustedCertificate {
                server: self.inner.base.origin().ascii_serialization(),
                endpoint: Box::new(endpoint.clone()),
                reason,
                source,
            }
        } else if source.is_timeout() {
            let timeout = if source.is_connect() {
                self.inner.connect_timeout
            } else {
                self.inner.timeout
            };
            Error::Timeout {
                endpoint: Box::new(endpoint.clone()),
                timeout,
                source,
            }
        } else {
            Error::Http {
                endpoint: Box::new(endpoint.clone()),
                source,
            }
        }
    }
}

/// Decode a JSON response body.
fn decode_json<T: DeserializeOwned>(bytes: &[u8], endpoint: &Endpoint) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|source| Error::Decode {
        endpoint: Box::new(endpoint.clone()),
        source,
    })
}

/// An error response as [`Error::Server`], keeping the server's code, message and ticket.
pub(crate) async fn server_error(response: reqwest::Response, endpoint: &Endpoint) -> Error {
    let status = response.status().as_u16();
    if response.status().is_redirection() {
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|l| l.to_str().ok())
            .unwrap_or("(no Location header)")
            .to_string();
        return Error::Server {
            status,
            endpoint: Box::new(endpoint.clone()),
            body: ErrorBody {
                message: format!(
                    "redirected to {location}; redirects are not followed, use the address \
                     they point to as the base URL"
                ),
                ..ErrorBody::default()
            },
        };
    }
    let body = match response.bytes().await {
        Ok(bytes) => parse_error_body(&bytes),
        Err(e) => ErrorBody {
            message: format!("(the error body could not be read: {})", e.without_url()),
            ..ErrorBody::default()
        },
    };
    Error::Server {
        status,
        endpoint: Box::new(endpoint.clone()),
        body,
    }
}

/// The server's `{code, message, ticketId, iServerCode}`, or the raw text as the message.
fn parse_error_body(bytes: &[u8]) -> ErrorBody {
    if let Ok(body) = serde_json::from_slice::<ErrorBody>(bytes)
        && (body.code.is_some() || !body.message.is_empty() || body.ticket_id.is_some())
    {
        return body;
    }
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    let message = match text.char_indices().nth(MAX_RAW_ERROR_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    };
    ErrorBody {
        message,
        ..ErrorBody::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_json() {
        let b = parse_error_body(
            br#"{"code":"ERR004","message":"Not found","ticketId":"t1","iServerCode":-1}"#,
        );
        assert_eq!(b.code.as_deref(), Some("ERR004"));
        assert_eq!(b.message, "Not found");
        assert_eq!(b.ticket_id.as_deref(), Some("t1"));
        assert_eq!(b.i_server_code, Some(-1));
    }

    #[test]
    fn error_body_raw_text_is_kept_and_truncated() {
        let b = parse_error_body(b"  <html>Bad Gateway</html>\n");
        assert_eq!(b.message, "<html>Bad Gateway</html>");
        assert_eq!(b.code, None);
        let b = parse_error_body(br#"{"error":"other shape"}"#);
        assert_eq!(b.message, r#"{"error":"other shape"}"#);
        let long = "é".repeat(MAX_RAW_ERROR_CHARS + 10);
        let b = parse_error_body(long.as_bytes());
        assert_eq!(b.message.chars().count(), MAX_RAW_ERROR_CHARS + 1);
        assert!(parse_error_body(b"").message.is_empty());
    }
}
