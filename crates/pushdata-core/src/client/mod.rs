//! The async HTTP client of the Push Data API: [`ClientBuilder`] and [`Client`].
//!
//! One file per job:
//! - this file: configuration ([`ClientBuilder`]) and the shared session state;
//! - `request`: sending one call (headers, retries, one re-login on 401, error bodies);
//! - `retry`: [`RetryConfig`], [`BackoffConfig`] and the backoff itself;
//! - `auth`: [`Credentials`], login, logout and projects;
//! - `datasets`: dataset, model, definition, upload session, chunk and publish calls;
//! - `folders`: [`Folder`], folder listings, object metadata and finding a name in a folder;
//! - `publish`: [`PublishWait`] and waiting for a publish to finish.

mod auth;
mod cube;
mod datasets;
mod folders;
mod publish;
mod request;
pub(crate) mod retry;
mod tls;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use url::Url;

pub use auth::Credentials;
pub use folders::{Folder, FolderPage};
pub use publish::PublishWait;
pub use retry::{BackoffConfig, RetryConfig};

pub(crate) use request::CallBody;

use crate::error::{Error, Result};
use crate::secret::Secret;

/// Configures and builds a [`Client`].
///
/// Defaults: 300 s per request (a 100 MB chunk on a slow link needs time), 10 s to
/// connect, [`RetryConfig::default`], the webpki root certificates, invalid certificates
/// rejected.
///
/// ```
/// use std::time::Duration;
/// use pushdata_core::{Client, RetryConfig};
///
/// let client = Client::builder("http://127.0.0.1:8080/MicroStrategyLibrary")
///     .with_timeout(Duration::from_secs(120))
///     .with_connect_timeout(Duration::from_secs(5))
///     .with_retry(RetryConfig::default().with_max_retries(3))
///     .build()?;
/// assert_eq!(client.base_url().as_str(), "http://127.0.0.1:8080/MicroStrategyLibrary");
/// # Ok::<(), pushdata_core::Error>(())
/// ```
#[derive(Clone)]
pub struct ClientBuilder {
    base_url: String,
    timeout: Duration,
    connect_timeout: Duration,
    retry: RetryConfig,
    root_certificates: Vec<tls::RootCertificate>,
    accept_invalid_certs: bool,
    user_agent: String,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("retry", &self.retry)
            .field("root_certificates", &self.root_certificates)
            .field("accept_invalid_certs", &self.accept_invalid_certs)
            .field("user_agent", &self.user_agent)
            .finish()
    }
}

impl ClientBuilder {
    /// A builder for a server whose API lives under `base_url`, e.g.
    /// `https://host/MicroStrategyLibrary` (calls go to `{base_url}/api/...`; a trailing
    /// slash is ignored).
    pub fn new(base_url: impl Into<String>) -> Self {
        ClientBuilder {
            base_url: base_url.into(),
            timeout: Duration::from_secs(300),
            connect_timeout: Duration::from_secs(10),
            retry: RetryConfig::default(),
            root_certificates: Vec::new(),
            accept_invalid_certs: false,
            user_agent: concat!("pushdata/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }

    /// The most time one request (one attempt) may take, from connect to the end of the
    /// response body.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The most time opening a connection may take.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How failed requests are retried.
    pub fn with_retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// Trust the certificate(s) of this PEM text as roots, in addition to the built-in ones
    /// (for servers with a private CA). May be called more than once.
    pub fn with_root_certificate_pem(mut self, pem: &[u8]) -> Self {
        self.root_certificates
            .push(tls::RootCertificate::Pem(pem.to_vec()));
        self
    }

    /// Trust the certificate(s) of this PEM file as roots, like
    /// [`with_root_certificate_pem`](Self::with_root_certificate_pem). The file is read by
    /// [`build`](Self::build), whose error names it when it cannot be read or holds no
    /// usable certificate.
    ///
    /// ```
    /// use pushdata_core::{Client, Error};
    ///
    /// let e = Client::builder("https://127.0.0.1:1/lib")
    ///     .with_root_certificate_file("/no/such/ca.pem")
    ///     .build()
    ///     .unwrap_err();
    /// assert!(matches!(e, Error::Config { .. }));
    /// assert!(e.to_string().contains("/no/such/ca.pem"));
    /// ```
    pub fn with_root_certificate_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.root_certificates
            .push(tls::RootCertificate::File(path.into()));
        self
    }

    /// Accept any server certificate, even invalid or self-signed ones.
    ///
    /// This disables the protection TLS gives against impostors; use it only against a
    /// test server you control. Off by default.
    pub fn with_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.accept_invalid_certs = accept;
        self
    }

    /// The `User-Agent` header (default `pushdata/<version>`).
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Build the client. Fails with [`Error::Config`] on a bad base URL or certificate.
    pub fn build(self) -> Result<Client> {
        let base = parse_base_url(&self.base_url)?;
        let mut http = reqwest::Client::builder()
            .use_rustls_tls()
            .cookie_store(true)
            // Redirects are not followed: the auth token is a custom header that reqwest
            // would forward to any host, and 301/302 would turn a POST into a GET. A
            // redirect is reported with its target instead.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .user_agent(self.user_agent.clone())
            .danger_accept_invalid_certs(self.accept_invalid_certs);
        for (i, root) in self.root_certificates.iter().enumerate() {
            for cert in root.load(i + 1)? {
                http = http.add_root_certificate(cert);
            }
        }
        let http = http.build().map_err(|e| Error::Config {
            message: "cannot build the HTTP client".to_string(),
            source: Some(Box::new(e)),
        })?;
        if self.accept_invalid_certs {
            tracing::warn!(base_url = %base, "TLS certificate validation is disabled");
        }
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                timeout: self.timeout,
                connect_timeout: self.connect_timeout,
                retry: self.retry,
                session: RwLock::new(Session::default()),
                login_lock: tokio::sync::Mutex::new(()),
            }),
        })
    }
}

/// Parse and check the base URL: http(s), no credentials, no query or fragment.
fn parse_base_url(text: &str) -> Result<Url> {
    let mut url = Url::parse(text.trim()).map_err(|e| Error::Config {
        message: format!("base URL {text:?} is not a valid URL"),
        source: Some(Box::new(e)),
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        // Do not echo the URL: it holds a password.
        return Err(Error::config(
            "base URL must not contain a user name or password; pass Credentials to login",
        ));
    }
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(Error::config(format!(
            "base URL {text:?} must be an http:// or https:// URL"
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::config(format!("base URL {text:?} has no host")));
    }
    url.set_query(None);
    url.set_fragment(None);
    if url.path().ends_with('/') && url.path() != "/" {
        let trimmed = url.path().trim_end_matches('/').to_string();
        url.set_path(&trimmed);
    }
    Ok(url)
}

/// An async client of the Push Data API.
///
/// Cheap to clone (an [`Arc`] inside); clones share the connection pool, cookies, the auth
/// token and the selected project. `Send + Sync`, so one client can serve many tasks.
///
/// A session that expires (HTTP 401 on any call after [`login`](Client::login)) is renewed
/// once with the stored credentials and the call is sent again; a second 401 is returned.
///
/// ```no_run
/// use pushdata_core::{Client, Credentials};
///
/// # async fn run() -> pushdata_core::Result<()> {
/// let client = Client::builder("http://127.0.0.1:8080/MicroStrategyLibrary").build()?;
/// client.login(Credentials::standard("administrator", "")).await?;
/// let project = client.select_project("MicroStrategy Tutorial").await?;
/// println!("project {}", project.id);
/// client.logout().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    timeout: Duration,
    connect_timeout: Duration,
    retry: RetryConfig,
    session: RwLock<Session>,
    /// Serializes logins, so concurrent 401s renew the session once.
    login_lock: tokio::sync::Mutex<()>,
}

/// The mutable part of a client: who is logged in, and where.
#[derive(Default)]
struct Session {
    token: Option<Secret>,
    /// Incremented by every login and logout; tells a 401 handler whether the session it
    /// used has already been renewed by another task.
    generation: u64,
    credentials: Option<Credentials>,
    project_id: Option<String>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.inner.session.read();
        f.debug_struct("Client")
            .field("base_url", &self.inner.base.as_str())
            .field("timeout", &self.inner.timeout)
            .field("retry", &self.inner.retry)
            .field("logged_in", &s.token.is_some())
            .field("credentials", &s.credentials)
            .field("project_id", &s.project_id)
            .finish()
    }
}

impl Client {
    /// Start configuring a client for the server whose API lives under `base_url`
    /// (e.g. `http://127.0.0.1:8080/MicroStrategyLibrary`).
    ///
    /// ```
    /// use pushdata_core::Client;
    ///
    /// let client = Client::builder("http://127.0.0.1:8080/MicroStrategyLibrary/").build()?;
    /// // The trailing slash is dropped; calls go to .../MicroStrategyLibrary/api/...
    /// assert_eq!(client.base_url().path(), "/MicroStrategyLibrary");
    /// assert!(!client.is_logged_in());
    ///
    /// // A bad base URL is a configuration error, not a panic.
    /// assert!(Client::builder("ftp://example").build().is_err());
    /// # Ok::<(), pushdata_core::Error>(())
    /// ```
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(base_url)
    }

    /// The base URL the API paths are appended to.
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// The per-request timeout.
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// The retry configuration.
    pub fn retry_config(&self) -> &RetryConfig {
        &self.inner.retry
    }

    /// Whether the client holds an auth token (it may still have expired on the server).
    pub fn is_logged_in(&self) -> bool {
        self.inner.session.read().token.is_some()
    }

    /// The project id sent in `X-MSTR-ProjectID`, if one was chosen.
    pub fn project_id(&self) -> Option<String> {
        self.inner.session.read().project_id.clone()
    }

    /// Send `X-MSTR-ProjectID: project_id` on dataset calls from now on, without checking
    /// that the project exists (see [`select_project`](Client::select_project)).
    pub fn set_project_id(&self, project_id: impl Into<String>) {
        self.inner.session.write().project_id = Some(project_id.into());
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn base_url_forms() {
        let u = parse_base_url("http://127.0.0.1:1/MicroStrategyLibrary/").unwrap();
        assert_eq!(u.as_str(), "http://127.0.0.1:1/MicroStrategyLibrary");
        let u = parse_base_url("https://h/a/b//?x=1#f").unwrap();
        assert_eq!(u.as_str(), "https://h/a/b");
        let u = parse_base_url("http://h:8080").unwrap();
        assert_eq!(u.as_str(), "http://h:8080/");
    }

    #[test]
    fn bad_base_urls_are_config_errors() {
        for bad in ["", "not a url", "ftp://h/x", "mailto:a@b", "file:///tmp"] {
            let e = parse_base_url(bad).unwrap_err();
            assert!(matches!(e, Error::Config { .. }), "{bad}: {e}");
        }
        let e = parse_base_url("http://user:hunter2-secret@h/lib").unwrap_err();
        assert!(!e.to_string().contains("hunter2-secret"));
        assert!(!format!("{e:?}").contains("hunter2-secret"));
    }

    #[test]
    fn bad_pem_is_config_error() {
        let e = Client::builder("http://127.0.0.1:1")
            .with_root_certificate_pem(b"not a certificate")
            .build()
            .unwrap_err();
        assert!(matches!(e, Error::Config { .. }), "{e}");
    }

    #[test]
    fn valid_pem_root_certificate_is_accepted() {
        let pem = include_bytes!("../../tests/fixtures/test_ca.pem");
        let client = Client::builder("https://127.0.0.1:1/lib")
            .with_root_certificate_pem(pem)
            .with_accept_invalid_certs(false)
            .build()
            .unwrap();
        assert_eq!(client.base_url().scheme(), "https");
        // A PEM with no certificate in it is refused.
        let e = Client::builder("https://127.0.0.1:1/lib")
            .with_root_certificate_pem(b"")
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("root certificate #1"), "{e}");
    }

    #[test]
    fn client_is_send_sync_clone() {
        fn check<T: Send + Sync + Clone + 'static>() {}
        fn check_error<T: Send + Sync + std::error::Error + 'static>() {}
        check::<Client>();
        check_error::<Error>();
    }
}
