//! [`ClientBuilder`] and [`Client`]: token handling and the gateway calls (register, start,
//! status, schemas, query).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderValue, Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::error::{CallContext, Error, Result, Service};
use super::upload::DataLakeUpload;
use super::wire::{
    AddSchemaRequest, AddSchemaVersionRequest, CreateDatasetRequest, DEFAULT_BASE_URL,
    DEFAULT_RESOURCE, DEFAULT_TOKEN_URL, GRANT_TYPE_CLIENT_CREDENTIALS, GatewayErrorBody,
    IdResponse, IngestResponse, JobStatus, QueryPage, QueryRequest, SUBSCRIPTION_KEY_HEADER,
    Schema, SchemaVersion, TokenErrorBody, TokenRequest, TokenResponse, UpdateDatasetRequest,
};
use crate::client::retry::{
    Backoff, RetryState, is_retryable_status, is_retryable_transport, retry_after,
};
use crate::client::{BackoffConfig, RetryConfig};
use crate::secret::Secret;

/// The longest raw (non-JSON) error body kept in an error.
const MAX_RAW_ERROR_CHARS: usize = 2000;
/// The token lifetime assumed when the token response gives none.
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(300);

/// Configures and builds a Veracity [`Client`].
///
/// Defaults: the production gateway ([`DEFAULT_BASE_URL`]) and Azure AD v1 token URL
/// ([`DEFAULT_TOKEN_URL`]) with `resource` [`DEFAULT_RESOURCE`]; 300 s per request, 10 s to
/// connect; [`RetryConfig::default`]; tokens refreshed 120 s before they expire.
///
/// ```
/// use std::time::Duration;
/// use pushdata_core::RetryConfig;
/// use pushdata_core::veracity::Client;
///
/// let client = Client::builder("my-workspace-id")
///     .with_credentials("service-account-id", "service-account-secret")
///     .with_subscription_key("api-key")
///     .with_base_url("http://127.0.0.1:8080/api/v2")
///     .with_token_url("http://127.0.0.1:8080/oauth2/token")
///     .with_retry(RetryConfig::default().with_max_retries(3))
///     .with_timeout(Duration::from_secs(60))
///     .build()?;
/// assert_eq!(client.workspace(), "my-workspace-id");
/// // Secrets never show:
/// assert!(!format!("{client:?}").contains("service-account-secret"));
/// # Ok::<(), pushdata_core::veracity::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    workspace: String,
    base_url: String,
    token_url: String,
    resource: Option<String>,
    scope: Option<String>,
    client_id: String,
    client_secret: Secret,
    subscription_key: Secret,
    timeout: Duration,
    connect_timeout: Duration,
    retry: RetryConfig,
    user_agent: String,
    token_refresh_margin: Duration,
}

impl ClientBuilder {
    /// A builder for calls in workspace `workspace_id`.
    pub fn new(workspace_id: impl Into<String>) -> Self {
        ClientBuilder {
            workspace: workspace_id.into(),
            base_url: DEFAULT_BASE_URL.to_string(),
            token_url: DEFAULT_TOKEN_URL.to_string(),
            resource: Some(DEFAULT_RESOURCE.to_string()),
            scope: None,
            client_id: String::new(),
            client_secret: Secret::default(),
            subscription_key: Secret::default(),
            timeout: Duration::from_secs(300),
            connect_timeout: Duration::from_secs(10),
            retry: RetryConfig::default(),
            user_agent: concat!("pushdata/", env!("CARGO_PKG_VERSION")).to_string(),
            token_refresh_margin: Duration::from_secs(120),
        }
    }

    /// Set the gateway base URL (e.g. `https://api.veracity.com/veracity/dw/gateway/api/v2`).
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// Set the OAuth2 token URL.
    pub fn with_token_url(mut self, token_url: impl Into<String>) -> Self {
        self.token_url = token_url.into();
        self
    }

    /// Set the v1 `resource` of the token request (`None`: not sent).
    pub fn with_resource(mut self, resource: Option<String>) -> Self {
        self.resource = resource;
        self
    }

    /// Set the v2 `scope` of the token request (`None`: not sent; the default).
    pub fn with_scope(mut self, scope: Option<String>) -> Self {
        self.scope = scope;
        self
    }

    /// Set the service account id and secret.
    pub fn with_credentials(
        mut self,
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
    ) -> Self {
        self.client_id = client_id.into();
        self.client_secret = client_secret.into();
        self
    }

    /// Set the API (subscription) key sent as `Ocp-Apim-Subscription-Key`.
    pub fn with_subscription_key(mut self, key: impl Into<Secret>) -> Self {
        self.subscription_key = key.into();
        self
    }

    /// Set the per-request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Set the connect timeout.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Set how failed requests are retried.
    pub fn with_retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// Set the `User-Agent` (default `pushdata/<version>`).
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Refresh a token this long before it expires (default 120 s; a token living less
    /// than twice this is refreshed after half its life).
    pub fn with_token_refresh_margin(mut self, margin: Duration) -> Self {
        self.token_refresh_margin = margin;
        self
    }

    /// Build the client. Fails with [`Error::Config`] on a bad URL or a missing setting.
    pub fn build(self) -> Result<Client> {
        if self.workspace.trim().is_empty() {
            return Err(Error::config("the workspace id is empty"));
        }
        if self.client_id.trim().is_empty() {
            return Err(Error::config(
                "the service account id is empty (with_credentials)",
            ));
        }
        let base_url = parse_http_url("base URL", &self.base_url)?;
        let token_url = parse_http_url("token URL", &self.token_url)?;
        let mut subscription_key = HeaderValue::from_str(self.subscription_key.expose())
            .map_err(|_| Error::config("the subscription key cannot go into a header"))?;
        subscription_key.set_sensitive(true);
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            // Never follow redirects: the bearer token and the subscription key would go
            // along to any host.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .user_agent(self.user_agent.clone())
            .build()
            .map_err(|e| Error::Config {
                message: "cannot build the HTTP client".to_string(),
                source: Some(Box::new(e)),
            })?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base_url,
                token_url,
                resource: self.resource,
                scope: self.scope,
                client_id: self.client_id,
                client_secret: self.client_secret,
                subscription_key,
                retry: self.retry,
                token_refresh_margin: self.token_refresh_margin,
                token: tokio::sync::Mutex::new(None),
            }),
            workspace: Arc::from(self.workspace.trim()),
        })
    }
}

/// Parse and check a URL: http(s), a host, no credentials, query or fragment.
fn parse_http_url(what: &str, text: &str) -> Result<Url> {
    let mut url = Url::parse(text.trim()).map_err(|e| Error::Config {
        message: format!("{what} {text:?} is not a valid URL"),
        source: Some(Box::new(e)),
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::config(format!(
            "{what} must not contain a user name or password"
        )));
    }
    if !matches!(url.scheme(), "http" | "https")
        || url.cannot_be_a_base()
        || url.host_str().is_none_or(str::is_empty)
    {
        return Err(Error::config(format!(
            "{what} {text:?} must be an http:// or https:// URL with a host"
        )));
    }
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

/// A token and when to stop using it.
struct CachedToken {
    token: Secret,
    refresh_at: Instant,
}

struct Inner {
    http: reqwest::Client,
    base_url: Url,
    token_url: Url,
    resource: Option<String>,
    scope: Option<String>,
    client_id: String,
    client_secret: Secret,
    subscription_key: HeaderValue,
    retry: RetryConfig,
    token_refresh_margin: Duration,
    /// Held while a token is fetched, so concurrent calls wait for one refresh.
    token: tokio::sync::Mutex<Option<CachedToken>>,
}

/// An async client of the Veracity Data Workbench gateway and of the Data Lake upload.
///
/// Cheap to clone (an [`Arc`] inside); clones share the connection pool and the token.
/// [`Client::for_workspace`] gives a client for another workspace sharing both.
///
/// Every gateway call sends `Authorization: Bearer <token>`, `Ocp-Apim-Subscription-Key`
/// and a `User-Agent`. The token (OAuth2 client credentials) is fetched on first use,
/// refreshed before it expires, and refreshed once more when a call gets HTTP 401.
///
/// The whole ingest of one CSV file into a new dataset:
///
/// ```no_run
/// use bytes::Bytes;
/// use pushdata_core::veracity::{Client, JobWait};
/// use pushdata_core::veracity::wire::{
///     CreateDatasetRequest, FileOperation, IngestFile, PROVIDER_BYOD,
/// };
///
/// # async fn run() -> pushdata_core::veracity::Result<()> {
/// let client = Client::builder("workspace-id")
///     .with_credentials("service-account-id", "service-account-secret")
///     .with_subscription_key("api-key")
///     .build()?;
/// let ingest = client
///     .create_dataset(&CreateDatasetRequest {
///         dataset_name: "WindData".into(),
///         dataset_description: None,
///         schema_version_id: "schema-version-id".into(),
///         files: vec![IngestFile { file_name: "data.csv".into(), operation: FileOperation::Create }],
///         tags: vec![],
///         provider: Some(PROVIDER_BYOD.into()),
///         start_automatically: false,
///     })
///     .await?;
/// let mut upload = client.start_upload(&ingest, "data.csv").await?;
/// upload.append(Bytes::from_static(b"TS,V\n2024-05-01T00:00:00,1.5\n")).await?;
/// upload.flush().await?;
/// client.start_job(&ingest.job_id).await?;
/// let status = client.wait_for_job(&ingest.job_id, &JobWait::default()).await?;
/// println!("dataset {:?}", status.dataset_id);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    workspace: Arc<str>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("workspace", &self.workspace)
            .field("base_url", &self.inner.base_url.as_str())
            .field("token_url", &self.inner.token_url.as_str())
            .field("client_id", &self.inner.client_id)
            .field("client_secret", &self.inner.client_secret)
            .field("subscription_key", &"***")
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

/// How long and how often [`Client::wait_for_job`] polls the job status.
///
/// ```
/// use std::time::Duration;
/// use pushdata_core::BackoffConfig;
/// use pushdata_core::veracity::JobWait;
///
/// let wait = JobWait::default()
///     .with_timeout(Duration::from_secs(120))
///     .with_poll(BackoffConfig::default().with_init_backoff(Duration::from_millis(500)));
/// assert_eq!(wait.timeout, Duration::from_secs(120));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct JobWait {
    /// Give up (with [`Error::JobTimeout`]) after this long (default 15 minutes).
    pub timeout: Duration,
    /// The waits between polls (default: the first 5 ms, each next drawn between 5 ms
    /// and 3× the last, up to 15 s). Whatever the settings, a wait is never longer than a
    /// quarter of the time waited so far (nor shorter than the first wait allows), so a job
    /// is seen to end within about a quarter of its length: a job of half a second within
    /// a few tens of milliseconds, a job of minutes with a poll every few seconds.
    pub poll: BackoffConfig,
}

impl Default for JobWait {
    fn default() -> Self {
        JobWait {
            timeout: Duration::from_secs(15 * 60),
            poll: BackoffConfig::default()
                .with_init_backoff(Duration::from_millis(5))
                .with_max_backoff(Duration::from_secs(15))
                .with_base(3.0),
        }
    }
}

impl JobWait {
    /// Set the deadline.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Set the waits between polls.
    pub fn with_poll(mut self, poll: BackoffConfig) -> Self {
        self.poll = poll;
        self
    }
}

/// What a gateway call needs besides its URL.
struct GatewayCall<'a> {
    method: Method,
    segments: &'a [&'a str],
    body: Option<Bytes>,
    context: CallContext,
    /// Safe to resend after a timeout, a dropped connection or 502/504 (429 and 503 are
    /// retried for every call).
    idempotent: bool,
}

impl Client {
    /// A builder for calls in workspace `workspace_id`.
    pub fn builder(workspace_id: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(workspace_id)
    }

    /// The workspace id of this client's calls.
    pub fn workspace(&self) -> &str {
        &self.workspace
    }

    /// The gateway base URL.
    pub fn base_url(&self) -> &Url {
        &self.inner.base_url
    }

    /// The retry configuration.
    pub fn retry_config(&self) -> &RetryConfig {
        &self.inner.retry
    }

    /// A client for another workspace, sharing connections and the token.
    pub fn for_workspace(&self, workspace_id: impl Into<String>) -> Client {
        Client {
            inner: self.inner.clone(),
            workspace: Arc::from(workspace_id.into().trim()),
        }
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    // -----------------------------------------------------------------------------------
    // Token
    // -----------------------------------------------------------------------------------

    /// A valid bearer token: the cached one, or a new one when it is (nearly) expired.
    pub async fn token(&self) -> Result<Secret> {
        let mut guard = self.inner.token.lock().await;
        if let Some(cached) = guard.as_ref().filter(|c| Instant::now() < c.refresh_at) {
            return Ok(cached.token.clone());
        }
        let fresh = self.fetch_token().await?;
        let token = fresh.token.clone();
        *guard = Some(fresh);
        Ok(token)
    }

    /// Forget `used` if it is still the cached token (after a 401).
    async fn invalidate_token(&self, used: &Secret) {
        let mut guard = self.inner.token.lock().await;
        if guard.as_ref().is_some_and(|c| c.token == *used) {
            *guard = None;
        }
    }

    async fn fetch_token(&self) -> Result<CachedToken> {
        let inner = &self.inner;
        let context = CallContext::new(Service::Token, Method::POST, inner.token_url.path());
        let form = TokenRequest {
            grant_type: GRANT_TYPE_CLIENT_CREDENTIALS.to_string(),
            client_id: inner.client_id.clone(),
            client_secret: inner.client_secret.clone(),
            resource: inner.resource.clone(),
            scope: inner.scope.clone(),
        };
        let mut retry = RetryState::new(&inner.retry);
        loop {
            let sent_at = Instant::now();
            let result = inner
                .http
                .post(inner.token_url.clone())
                .header(ACCEPT, "application/json")
                .form(&form)
                .send()
                .await;
            let response = match result {
                Ok(r) => r,
                // Getting a token changes nothing: any transport failure may be retried.
                Err(e) if is_retryable_transport(&e, true) => match retry.next_wait(None) {
                    Some(wait) => {
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    None => return Err(http_error(context, e)),
                },
                Err(e) => return Err(http_error(context, e)),
            };
            let status = response.status();
            if is_retryable_status(status, true)
                && let Some(wait) = retry.next_wait(retry_after(
                    response.headers(),
                    std::time::SystemTime::now(),
                ))
            {
                tokio::time::sleep(wait).await;
                continue;
            }
            let bytes = response
                .bytes()
                .await
                .map_err(|e| http_error(context.clone(), e))?;
            if !status.is_success() {
                let body = serde_json::from_slice::<TokenErrorBody>(&bytes).unwrap_or_else(|_| {
                    TokenErrorBody {
                        error: raw_text(&bytes),
                        ..TokenErrorBody::default()
                    }
                });
                tracing::debug!(call = %context, status = status.as_u16(), "veracity token request failed");
                return Err(Error::Token {
                    status: status.as_u16(),
                    context: Box::new(context),
                    body: Box::new(body),
                });
            }
            let parsed: TokenResponse =
                serde_json::from_slice(&bytes).map_err(|source| Error::Decode {
                    context: Box::new(context.clone()),
                    source,
                })?;
            let lifetime = token_lifetime(&parsed);
            let margin = inner.token_refresh_margin;
            let usable = if lifetime > margin.saturating_mul(2) {
                lifetime - margin
            } else {
                lifetime / 2
            };
            tracing::debug!(lifetime_s = lifetime.as_secs(), "veracity token acquired");
            return Ok(CachedToken {
                token: parsed.access_token,
                refresh_at: sent_at + usable,
            });
        }
    }

    // -----------------------------------------------------------------------------------
    // Gateway
    // -----------------------------------------------------------------------------------

    fn gateway_url(&self, segments: &[&str]) -> Result<Url> {
        let mut url = self.inner.base_url.clone();
        url.path_segments_mut()
            .map_err(|()| Error::config("the base URL cannot take a path"))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    fn context(&self, method: &Method, url: &Url) -> CallContext {
        CallContext::new(Service::Gateway, method.clone(), url.path()).workspace(&self.workspace)
    }

    /// Send one gateway call with retries and one token refresh on 401; the success body.
    async fn gateway(&self, call: GatewayCall<'_>) -> Result<Bytes> {
        let url = self.gateway_url(call.segments)?;
        let mut context = call.context;
        context.path = url.path().to_string();
        let mut retry = RetryState::new(&self.inner.retry);
        let mut refreshed = false;
        loop {
            let token = self.token().await?;
            let mut request = self
                .inner
                .http
                .request(call.method.clone(), url.clone())
                .bearer_auth(token.expose())
                .header(SUBSCRIPTION_KEY_HEADER, self.inner.subscription_key.clone())
                .header(ACCEPT, "application/json");
            request = match &call.body {
                Some(body) => request
                    .header(CONTENT_TYPE, "application/json")
                    .body(body.clone()),
                // Some servers and proxies require a length on POST/PUT even without a body
                // (411 Length Required); hyper does not add one for an empty body.
                None if call.method != Method::GET => request.header(CONTENT_LENGTH, "0"),
                None => request,
            };
            let response = match request.send().await {
                Ok(r) => r,
                Err(e) if is_retryable_transport(&e, call.idempotent) => {
                    match retry.next_wait(None) {
                        Some(wait) => {
                            tracing::debug!(call = %context, ?wait, "veracity call failed to send; retrying");
                            tokio::time::sleep(wait).await;
                            continue;
                        }
                        None => return Err(http_error(context, e)),
                    }
                }
                Err(e) => return Err(http_error(context, e)),
            };
            let status = response.status();
            tracing::debug!(call = %context, status = status.as_u16(), "veracity call");
            if status.is_success() {
                return response.bytes().await.map_err(|e| http_error(context, e));
            }
            if status == StatusCode::UNAUTHORIZED && !refreshed {
                refreshed = true;
                self.invalidate_token(&token).await;
                continue;
            }
            if is_retryable_status(status, call.idempotent)
                && let Some(wait) = retry.next_wait(retry_after(
                    response.headers(),
                    std::time::SystemTime::now(),
                ))
            {
                tokio::time::sleep(wait).await;
                continue;
            }
            let bytes = response.bytes().await.unwrap_or_default();
            let body = serde_json::from_slice::<GatewayErrorBody>(&bytes).unwrap_or_else(|_| {
                GatewayErrorBody {
                    message: Some(raw_text(&bytes)).filter(|m| !m.is_empty()),
                    ..GatewayErrorBody::default()
                }
            });
            return Err(Error::Gateway {
                status: status.as_u16(),
                context: Box::new(context),
                body: Box::new(body),
            });
        }
    }

    async fn gateway_json<T: DeserializeOwned>(&self, call: GatewayCall<'_>) -> Result<T> {
        let context = call.context.clone();
        let url = self.gateway_url(call.segments)?;
        let bytes = self.gateway(call).await?;
        serde_json::from_slice(&bytes).map_err(|source| Error::Decode {
            context: Box::new(CallContext {
                path: url.path().to_string(),
                ..context
            }),
            source,
        })
    }

    fn json_body<T: Serialize>(&self, body: &T, context: &CallContext) -> Result<Bytes> {
        serde_json::to_vec(body)
            .map(Bytes::from)
            .map_err(|source| Error::Decode {
                context: Box::new(context.clone()),
                source,
            })
    }

    /// `POST /workspaces/{ws}/ingest/dataset`: register a new dataset and its file; the job
    /// id and the SAS URI to upload to.
    pub async fn create_dataset(&self, request: &CreateDatasetRequest) -> Result<IngestResponse> {
        let segments = ["workspaces", &self.workspace, "ingest", "dataset"];
        let context = self.context(&Method::POST, &self.gateway_url(&segments)?);
        let body = self.json_body(request, &context)?;
        self.gateway_json(GatewayCall {
            method: Method::POST,
            segments: &segments,
            body: Some(body),
            context,
            idempotent: false,
        })
        .await
    }

    /// `PUT /workspaces/{ws}/ingest/dataset/{datasetId}`: register an update (`Upsert`,
    /// `Delete`, `Overwrite`, `Append`) of a dataset; the job id and the SAS URI.
    pub async fn update_dataset(
        &self,
        dataset_id: &str,
        request: &UpdateDatasetRequest,
    ) -> Result<IngestResponse> {
        non_empty("dataset id", dataset_id)?;
        let segments = [
            "workspaces",
            &self.workspace,
            "ingest",
            "dataset",
            dataset_id,
        ];
        let context = self
            .context(&Method::PUT, &self.gateway_url(&segments)?)
            .dataset(dataset_id);
        let body = self.json_body(request, &context)?;
        self.gateway_json(GatewayCall {
            method: Method::PUT,
            segments: &segments,
            body: Some(body),
            context,
            idempotent: false,
        })
        .await
    }

    /// Open the upload of `file_name` into the folder of a register response (creates the
    /// file; see [`DataLakeUpload`]).
    pub async fn start_upload(
        &self,
        ingest: &IngestResponse,
        file_name: &str,
    ) -> Result<DataLakeUpload> {
        DataLakeUpload::create_for_job(self, &ingest.sas_token, file_name, Some(&ingest.job_id))
            .await
    }

    /// Upload `data` as `file_name` in one go (append in pieces of at most
    /// `DataLakeUpload::MAX_APPEND` bytes, then flush). Returns the file size.
    pub async fn upload(
        &self,
        ingest: &IngestResponse,
        file_name: &str,
        data: Bytes,
    ) -> Result<u64> {
        let mut upload = self.start_upload(ingest, file_name).await?;
        let mut offset = 0;
        while offset < data.len() {
            let end = (offset + DataLakeUpload::MAX_APPEND).min(data.len());
            upload.append(data.slice(offset..end)).await?;
            offset = end;
        }
        upload.flush().await
    }

    /// `POST /workspaces/{ws}/ingest/job/{jobId}/start`. Returns the job status when the
    /// response body is one (its real shape is undocumented), otherwise `None`.
    pub async fn start_job(&self, job_id: &str) -> Result<Option<JobStatus>> {
        non_empty("job id", job_id)?;
        let segments = [
            "workspaces",
            &self.workspace,
            "ingest",
            "job",
            job_id,
            "start",
        ];
        let context = self
            .context(&Method::POST, &self.gateway_url(&segments)?)
            .job(job_id);
        let bytes = self
            .gateway(GatewayCall {
                method: Method::POST,
                segments: &segments,
                body: None,
                context,
                idempotent: false,
            })
            .await?;
        Ok(serde_json::from_slice::<JobStatus>(&bytes).ok())
    }

    /// `GET /workspaces/{ws}/ingest/job/{jobId}/status`.
    pub async fn job_status(&self, job_id: &str) -> Result<JobStatus> {
        non_empty("job id", job_id)?;
        let segments = [
            "workspaces",
            &self.workspace,
            "ingest",
            "job",
            job_id,
            "status",
        ];
        let context = self
            .context(&Method::GET, &self.gateway_url(&segments)?)
            .job(job_id);
        self.gateway_json(GatewayCall {
            method: Method::GET,
            segments: &segments,
            body: None,
            context,
            idempotent: true,
        })
        .await
    }

    /// Poll the job status (waits from `wait.poll`) until it is `Completed` or fails, or
    /// until `wait.timeout`.
    ///
    /// Fails with [`Error::JobFailed`] as soon as a status is terminal other than
    /// `Completed`, or carries a non-empty `notebookErrorMessage` or `validationError`;
    /// with [`Error::JobTimeout`] at the deadline. A status call that fails (after its own
    /// retries) ends the wait with that error.
    pub async fn wait_for_job(&self, job_id: &str, wait: &JobWait) -> Result<JobStatus> {
        self.wait_for_job_with(job_id, wait, |_| {}).await
    }

    /// [`wait_for_job`](Client::wait_for_job), calling `on_status` with every status read
    /// (before it is judged), e.g. to show progress.
    pub async fn wait_for_job_with(
        &self,
        job_id: &str,
        wait: &JobWait,
        mut on_status: impl FnMut(&JobStatus),
    ) -> Result<JobStatus> {
        let started = Instant::now();
        let deadline = started + wait.timeout;
        let mut backoff = Backoff::new(&wait.poll);
        loop {
            let status = self.job_status(job_id).await?;
            on_status(&status);
            if status.has_failed() {
                return Err(Error::JobFailed {
                    workspace: self.workspace.to_string(),
                    job_id: job_id.to_string(),
                    status: status.status,
                    notebook_error_message: status.notebook_error_message,
                    validation_errors: status.validation_error,
                });
            }
            if status.status.is_success() {
                return Ok(status);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::JobTimeout {
                    workspace: self.workspace.to_string(),
                    job_id: job_id.to_string(),
                    timeout: wait.timeout,
                    last_status: Some(status.status),
                });
            }
            let pause = backoff.next_poll(now - started).min(deadline - now);
            tokio::time::sleep(pause).await;
        }
    }

    // -----------------------------------------------------------------------------------
    // Schemas
    // -----------------------------------------------------------------------------------

    /// `POST /workspaces/{ws}/schemas/add`: a new schema with version 1 (active).
    pub async fn add_schema(&self, request: &AddSchemaRequest) -> Result<Schema> {
        let segments = ["workspaces", &self.workspace, "schemas", "add"];
        let context = self.context(&Method::POST, &self.gateway_url(&segments)?);
        let body = self.json_body(request, &context)?;
        self.gateway_json(GatewayCall {
            method: Method::POST,
            segments: &segments,
            body: Some(body),
            context,
            idempotent: false,
        })
        .await
    }

    /// `GET /workspaces/{ws}/schemas/{schemaId}`: the schema with its versions.
    pub async fn schema(&self, schema_id: &str) -> Result<Schema> {
        non_empty("schema id", schema_id)?;
        let segments = ["workspaces", &self.workspace, "schemas", schema_id];
        let context = self.context(&Method::GET, &self.gateway_url(&segments)?);
        self.gateway_json(GatewayCall {
            method: Method::GET,
            segments: &segments,
            body: None,
            context,
            idempotent: true,
        })
        .await
    }

    /// The versions of a schema (from [`Client::schema`]).
    pub async fn schema_versions(&self, schema_id: &str) -> Result<Vec<SchemaVersion>> {
        Ok(self.schema(schema_id).await?.schema_versions)
    }

    /// `POST /workspaces/{ws}/schemas/schemaversions/add`: the new version's id.
    pub async fn add_schema_version(&self, request: &AddSchemaVersionRequest) -> Result<String> {
        let segments = [
            "workspaces",
            &self.workspace,
            "schemas",
            "schemaversions",
            "add",
        ];
        let context = self.context(&Method::POST, &self.gateway_url(&segments)?);
        let body = self.json_body(request, &context)?;
        let id: IdResponse = self
            .gateway_json(GatewayCall {
                method: Method::POST,
                segments: &segments,
                body: Some(body),
                context,
                idempotent: false,
            })
            .await?;
        Ok(id.id)
    }

    /// `POST .../schemas/{schemaId}/schemaversions/{versionId}/activate`.
    pub async fn activate_schema_version(&self, schema_id: &str, version_id: &str) -> Result<()> {
        self.schema_version_action(schema_id, version_id, "activate")
            .await
    }

    /// `POST .../schemas/{schemaId}/schemaversions/{versionId}/lock`.
    pub async fn lock_schema_version(&self, schema_id: &str, version_id: &str) -> Result<()> {
        self.schema_version_action(schema_id, version_id, "lock")
            .await
    }

    async fn schema_version_action(
        &self,
        schema_id: &str,
        version_id: &str,
        action: &str,
    ) -> Result<()> {
        non_empty("schema id", schema_id)?;
        non_empty("schema version id", version_id)?;
        let segments = [
            "workspaces",
            &self.workspace,
            "schemas",
            schema_id,
            "schemaversions",
            version_id,
            action,
        ];
        let context = self.context(&Method::POST, &self.gateway_url(&segments)?);
        self.gateway(GatewayCall {
            method: Method::POST,
            segments: &segments,
            body: None,
            context,
            // Activating or locking twice ends in the same state.
            idempotent: true,
        })
        .await
        .map(drop)
    }

    // -----------------------------------------------------------------------------------
    // Query
    // -----------------------------------------------------------------------------------

    /// `POST /workspaces/{ws}/datasets/{datasetId}/query`: one page of rows (1-based
    /// `pageIndex`), rows as JSON objects keyed by column name.
    pub async fn query(&self, dataset_id: &str, request: &QueryRequest) -> Result<QueryPage> {
        non_empty("dataset id", dataset_id)?;
        if request.page_index == 0 {
            return Err(Error::InvalidInput {
                what: "page index",
                message: "pages are numbered from 1".to_string(),
            });
        }
        let segments = [
            "workspaces",
            &self.workspace,
            "datasets",
            dataset_id,
            "query",
        ];
        let context = self
            .context(&Method::POST, &self.gateway_url(&segments)?)
            .dataset(dataset_id);
        let body = self.json_body(request, &context)?;
        self.gateway_json(GatewayCall {
            method: Method::POST,
            segments: &segments,
            body: Some(body),
            context,
            // A read: safe to resend.
            idempotent: true,
        })
        .await
    }
}

/// A transport error, its URL removed (a Data Lake URL holds the SAS signature).
pub(crate) fn http_error(context: CallContext, error: reqwest::Error) -> Error {
    Error::Http {
        context: Box::new(context),
        source: error.without_url(),
    }
}

/// A non-JSON error body as text, cut to a sane length.
pub(crate) fn raw_text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .trim()
        .chars()
        .take(MAX_RAW_ERROR_CHARS)
        .collect()
}

fn non_empty(what: &'static str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::InvalidInput {
            what,
            message: "it is empty".to_string(),
        });
    }
    Ok(())
}

/// How long a token lives: `expires_in`, else `expires_on` minus now, else 5 minutes.
fn token_lifetime(token: &TokenResponse) -> Duration {
    if let Some(secs) = token.expires_in {
        return Duration::from_secs(secs);
    }
    if let Some(on) = token.expires_on {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        return Duration::from_secs(on.saturating_sub(now));
    }
    DEFAULT_TOKEN_LIFETIME
}
