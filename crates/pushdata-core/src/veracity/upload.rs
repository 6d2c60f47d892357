//! The upload leg: Azure Data Lake Storage Gen2 path calls through the SAS URI of a
//! register response ([`DataLakeUpload`]).

use std::fmt;
use std::time::SystemTime;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{Method, StatusCode};
use rand::Rng;
use url::Url;

use super::client::{Client, http_error, raw_text};
use super::error::{CallContext, Error, Result, Service};
use super::wire::{
    MS_CLIENT_REQUEST_ID_HEADER, MS_DATE_HEADER, MS_ERROR_CODE_HEADER, MS_REQUEST_ID_HEADER,
    MS_VERSION_HEADER, STORAGE_API_VERSION, StorageErrorBody, StorageErrorDetail,
};
use crate::client::CallBody;
use crate::client::retry::{RetryState, is_retryable_transport, retry_after};
use crate::secret::Secret;

/// The streaming upload of one file into the folder of a SAS URI.
///
/// [`create`](DataLakeUpload::create) sends `PUT {folder}/{file}?resource=file` (an
/// existing file is overwritten), each [`append`](DataLakeUpload::append) sends
/// `PATCH ?action=append&position=N` with the bytes and advances the position, and
/// [`flush`](DataLakeUpload::flush) sends `PATCH ?action=flush&position=TOTAL`, which makes
/// the data visible. Every call carries `x-ms-version`, `x-ms-date` and
/// `x-ms-client-request-id`; the SAS query goes on the URL as given and never into logs,
/// errors or `Debug`.
///
/// All three calls are idempotent (an append names its position), so they are retried
/// with the client's [`RetryConfig`](crate::RetryConfig) after transport failures and
/// 408, 429, 500, 502, 503, 504: a failed append is sent again at the same position.
///
/// ```no_run
/// use bytes::Bytes;
/// use pushdata_core::Secret;
/// use pushdata_core::veracity::{Client, DataLakeUpload};
///
/// # async fn run(client: Client, sas_uri: Secret) -> pushdata_core::veracity::Result<()> {
/// let mut upload = DataLakeUpload::create(&client, &sas_uri, "data.csv").await?;
/// upload.append(Bytes::from_static(b"a,b\n")).await?;
/// upload.append(Bytes::from_static(b"1,2\n")).await?;
/// assert_eq!(upload.position(), 8);
/// let size = upload.flush().await?;
/// assert_eq!(size, 8);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct DataLakeUpload {
    client: Client,
    /// `{scheme}://{host}/{filesystem}/{folder}/{file}`, without query.
    file_url: Url,
    /// The SAS query string, as given.
    sas: Secret,
    position: u64,
    file_name: String,
    job: Option<String>,
}

impl fmt::Debug for DataLakeUpload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataLakeUpload")
            .field("path", &self.file_url.path())
            .field("sas", &self.sas)
            .field("position", &self.position)
            .field("job", &self.job)
            .finish_non_exhaustive()
    }
}

impl DataLakeUpload {
    /// The largest piece [`Client::upload`] appends in one call (64 MiB).
    pub const MAX_APPEND: usize = 64 * 1024 * 1024;

    /// Create (or overwrite) `file_name` in the folder of `sas_uri` (the `sasToken` of a
    /// register response) and return the upload, at position 0.
    pub async fn create(client: &Client, sas_uri: &Secret, file_name: &str) -> Result<Self> {
        Self::create_for_job(client, sas_uri, file_name, None).await
    }

    pub(crate) async fn create_for_job(
        client: &Client,
        sas_uri: &Secret,
        file_name: &str,
        job: Option<&str>,
    ) -> Result<Self> {
        if file_name.is_empty() || file_name.contains('/') {
            return Err(Error::InvalidInput {
                what: "file name",
                message: format!("{file_name:?} must be a non-empty name without '/'"),
            });
        }
        let (file_url, sas) = split_sas_uri(sas_uri, file_name)?;
        let upload = DataLakeUpload {
            client: client.clone(),
            file_url,
            sas,
            position: 0,
            file_name: file_name.to_string(),
            job: job.map(str::to_string),
        };
        upload
            .send(
                Method::PUT,
                "resource=file",
                CallBody::Whole(Bytes::new()),
                None,
            )
            .await?;
        Ok(upload)
    }

    /// The number of bytes appended so far (the next append's position).
    pub fn position(&self) -> u64 {
        self.position
    }

    /// The URL path of the file (no query).
    pub fn path(&self) -> &str {
        self.file_url.path()
    }

    /// Append `data` at the current position, then advance it. Empty data sends nothing.
    pub async fn append(&mut self, data: Bytes) -> Result<()> {
        self.append_body(CallBody::Whole(data)).await
    }

    /// Append the concatenation of `segments` at the current position as one call, then
    /// advance the position. The segments are sent one after the other, not joined (no
    /// copy), in a body of exact `Content-Length` (never chunked transfer encoding, which
    /// the Data Lake append refuses); a retry sends the same segments again. Empty
    /// segments add nothing; if all are empty nothing is sent.
    ///
    /// ```no_run
    /// use bytes::Bytes;
    /// # async fn run(mut upload: pushdata_core::veracity::DataLakeUpload) -> pushdata_core::veracity::Result<()> {
    /// let rows = Bytes::from_static(b"a,b\n1,2\n3,4\n");
    /// upload.append_segments(vec![rows.slice(..4), rows.slice(4..)]).await?;
    /// assert_eq!(upload.position(), 12);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn append_segments(&mut self, segments: Vec<Bytes>) -> Result<()> {
        self.append_body(CallBody::Segments(segments.into())).await
    }

    /// Start appending `segments` (as [`append_segments`](Self::append_segments) does) at
    /// the current position and advance it now, without waiting for the answer: the
    /// returned future sends the call (and its retries at the same position) and owns what
    /// it needs. Several such appends may be in flight at once, at their own positions (Data
    /// Lake stages each at its position, in whatever order they arrive, as the Azure
    /// SDKs' parallel uploads rely on); [`flush`](Self::flush) only once every one has
    /// succeeded.
    ///
    /// ```no_run
    /// # use bytes::Bytes;
    /// # use pushdata_core::veracity::{Client, DataLakeUpload};
    /// # async fn run(mut upload: DataLakeUpload) -> pushdata_core::veracity::Result<()> {
    /// let first = upload.start_append(vec![Bytes::from_static(b"a,b\n")]);
    /// let second = upload.start_append(vec![Bytes::from_static(b"1,2\n")]);
    /// let (a, b) = tokio::join!(first, second);
    /// a?;
    /// b?;
    /// assert_eq!(upload.flush().await?, 8);
    /// # Ok(())
    /// # }
    /// ```
    pub fn start_append(
        &mut self,
        segments: Vec<Bytes>,
    ) -> impl Future<Output = Result<()>> + Send + 'static {
        self.start_body(CallBody::Segments(segments.into()))
    }

    /// The append of `body` at the current position (nothing is sent for an empty body),
    /// the position advanced now.
    fn start_body(&mut self, body: CallBody) -> impl Future<Output = Result<()>> + Send + 'static {
        let (call, position, len) = (self.clone(), self.position, body.len() as u64);
        self.position += len;
        async move {
            if len == 0 {
                return Ok(());
            }
            let ops = format!("action=append&position={position}");
            call.send(Method::PATCH, &ops, body, Some(position)).await
        }
    }

    /// Append `body` and wait for it; a failed append leaves the position where it was.
    async fn append_body(&mut self, body: CallBody) -> Result<()> {
        let len = body.len() as u64;
        let appended = self.start_body(body).await;
        if appended.is_err() {
            self.position -= len;
        }
        appended
    }

    /// Commit everything appended (`action=flush&position=TOTAL`); returns the file size.
    pub async fn flush(self) -> Result<u64> {
        let ops = format!(
            "action=flush&position={}&retainUncommittedData=false&close=false",
            self.position
        );
        self.send(
            Method::PATCH,
            &ops,
            CallBody::Whole(Bytes::new()),
            Some(self.position),
        )
        .await?;
        Ok(self.position)
    }

    fn context(&self, method: &Method, position: Option<u64>) -> CallContext {
        let mut c = CallContext::new(Service::Storage, method.clone(), self.file_url.path());
        c.workspace = Some(self.client.workspace().to_string());
        c.job = self.job.clone();
        c.file = Some(self.file_name.clone());
        c.position = position;
        c
    }

    /// One Data Lake call with retries. `ops` goes after the SAS query.
    async fn send(
        &self,
        method: Method,
        ops: &str,
        body: CallBody,
        position: Option<u64>,
    ) -> Result<()> {
        let context = self.context(&method, position);
        let mut url = self.file_url.clone();
        let sas = self.sas.expose();
        if sas.is_empty() {
            url.set_query(Some(ops));
        } else {
            url.set_query(Some(&format!("{sas}&{ops}")));
        }
        let client_request_id = uuid_v4();
        let length = body.len();
        let mut retry = RetryState::new(self.client.retry_config());
        loop {
            let mut request = self
                .client
                .http()
                .request(method.clone(), url.clone())
                .header(MS_VERSION_HEADER, STORAGE_API_VERSION)
                .header(MS_DATE_HEADER, httpdate::fmt_http_date(SystemTime::now()))
                .header(MS_CLIENT_REQUEST_ID_HEADER, client_request_id.as_str());
            // Create and flush need `Content-Length: 0` (hyper omits it for an empty body).
            request = request.header(CONTENT_LENGTH, length);
            if length > 0 {
                request = request
                    .header(CONTENT_TYPE, "application/octet-stream")
                    .body(body.to_reqwest());
            }
            let response = match request.send().await {
                Ok(r) => r,
                Err(e) if is_retryable_transport(&e, true) => match retry.next_wait(None) {
                    Some(wait) => {
                        tracing::debug!(call = %context, ?wait, "data lake call failed to send; retrying");
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    None => return Err(http_error(context, e)),
                },
                Err(e) => return Err(http_error(context, e)),
            };
            let status = response.status();
            tracing::debug!(call = %context, status = status.as_u16(), "data lake call");
            if status.is_success() {
                return Ok(());
            }
            if is_retryable_storage_status(status)
                && let Some(wait) = retry.next_wait(retry_after(
                    response.headers(),
                    std::time::SystemTime::now(),
                ))
            {
                tokio::time::sleep(wait).await;
                continue;
            }
            let headers = response.headers().clone();
            let header_text = |name: &str| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            let bytes = response.bytes().await.unwrap_or_default();
            let mut error = serde_json::from_slice::<StorageErrorBody>(&bytes)
                .map(|b| b.error)
                .unwrap_or_else(|_| StorageErrorDetail {
                    code: String::new(),
                    message: raw_text(&bytes),
                });
            if let Some(code) = header_text(MS_ERROR_CODE_HEADER).filter(|c| !c.is_empty()) {
                error.code = code;
            }
            return Err(Error::Storage {
                status: status.as_u16(),
                context: Box::new(context),
                error: Box::new(error),
                request_id: header_text(MS_REQUEST_ID_HEADER),
            });
        }
    }
}

/// The statuses the Azure SDKs retry.
fn is_retryable_storage_status(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::REQUEST_TIMEOUT
            | StatusCode::TOO_MANY_REQUESTS
            | StatusCode::INTERNAL_SERVER_ERROR
            | StatusCode::BAD_GATEWAY
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT
    )
}

/// Split a SAS folder URI into the file's URL (no query) and the SAS query (as given).
/// Errors never repeat the URI.
fn split_sas_uri(sas_uri: &Secret, file_name: &str) -> Result<(Url, Secret)> {
    let bad = |reason: &str| Error::SasUri {
        reason: reason.to_string(),
    };
    let mut url = Url::parse(sas_uri.expose().trim()).map_err(|_| bad("not a valid URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(bad("not an http:// or https:// URL"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host"));
    }
    if url.path().trim_matches('/').is_empty() {
        return Err(bad("no file system in the path"));
    }
    let sas = Secret::new(url.query().unwrap_or_default());
    url.set_query(None);
    url.set_fragment(None);
    url.path_segments_mut()
        .map_err(|()| bad("cannot take a path"))?
        .pop_if_empty()
        .push(file_name);
    Ok((url, sas))
}

/// A random (version 4) uuid for `x-ms-client-request-id`.
fn uuid_v4() -> String {
    let mut b: [u8; 16] = rand::rng().random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_the_sas_uri() {
        let sas =
            Secret::new("https://acct.dfs.core.windows.net/ingest/job 1/?sv=2020&sig=abc%2Bdef%3D");
        let (url, query) = split_sas_uri(&sas, "Import Data.csv").expect("split");
        assert_eq!(
            url.as_str(),
            "https://acct.dfs.core.windows.net/ingest/job%201/Import%20Data.csv"
        );
        assert_eq!(query.expose(), "sv=2020&sig=abc%2Bdef%3D");
        let bad = split_sas_uri(&Secret::new("nope?sig=SECRET"), "a.csv").expect_err("bad");
        assert!(!bad.to_string().contains("SECRET"));
        assert!(split_sas_uri(&Secret::new("https://h/?sig=x"), "a.csv").is_err());
    }

    #[test]
    fn uuid_shape() {
        let u = uuid_v4();
        assert_eq!(u.len(), 36);
        assert_eq!(u.as_bytes()[14], b'4');
    }
}
