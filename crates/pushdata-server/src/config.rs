//! Server configuration: a plain struct with `with_*` builders.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use pushdata_core::Secret;
use pushdata_core::wire::LoginMode;

use crate::tls::TlsConfig;

/// A user the server accepts at login.
#[derive(Debug, Clone)]
pub struct UserConfig {
    /// User name (compared case-insensitively, as the real server does).
    pub name: String,
    /// Password (may be empty; then the server only listens on loopback).
    pub password: Secret,
}

/// An API token the server accepts at login mode 4096, for one of its users.
#[derive(Debug, Clone)]
pub struct ApiTokenConfig {
    /// The user the token logs in as (one of the configured users).
    pub user: String,
    /// The token.
    pub token: Secret,
}

/// A project the server serves.
#[derive(Debug, Clone)]
pub struct ProjectConfig {
    /// Project name.
    pub name: String,
    /// Project id (32 hex characters).
    pub id: String,
}

/// Configuration of a [`Server`](crate::Server).
///
/// ```
/// use pushdata_server::ServerConfig;
/// let config = ServerConfig::new("/tmp/pushdata-data")
///     .with_base_path("/MicroStrategyLibrary")
///     .with_user("administrator", "");
/// assert_eq!(config.base_path, "/MicroStrategyLibrary");
/// ```
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Directory where datasets, published tables and staging files live.
    pub data_dir: PathBuf,
    /// Address to listen on (default `127.0.0.1:0`).
    pub addr: SocketAddr,
    /// Path prefix in front of `/api/...` (default `/MicroStrategyLibrary`).
    pub base_path: String,
    /// Users accepted at login (default: `administrator` with an empty password).
    pub users: Vec<UserConfig>,
    /// Projects served (default: `MicroStrategy Tutorial`).
    pub projects: Vec<ProjectConfig>,
    /// The login modes accepted (default [`DEFAULT_LOGIN_MODES`]: standard, LDAP and API
    /// token). Standard and LDAP logins check the same users (the emulation's LDAP
    /// directory is the user list); a guest login (mode 8, only when enabled) is user
    /// [`GUEST_USER`]; an API token login takes a token of [`api_tokens`](Self::api_tokens)
    /// or one issued by `POST /api/auth/apiTokens`.
    pub login_modes: Vec<LoginMode>,
    /// API tokens accepted from the start (more are issued by `POST /api/auth/apiTokens`,
    /// and live as long as the server).
    pub api_tokens: Vec<ApiTokenConfig>,
    /// Serve HTTPS with this certificate and key instead of plain HTTP (default: none).
    pub tls: Option<TlsConfig>,
    /// An auth token dies after this long without use (default 30 minutes).
    pub token_idle_timeout: Duration,
    /// An upload session that sees no request (chunk, publish, status) for this long while
    /// open is cancelled and its staged chunks freed (default 30 minutes): a client that
    /// died mid-push does not hold staging. A session being published is never dropped.
    /// Sessions are also dropped after [`token_idle_timeout`](Self::token_idle_timeout)
    /// when that is shorter (their owner's token has expired too).
    pub upload_session_idle_timeout: Duration,
    /// Largest accepted request body (default 512 MiB).
    pub max_body_bytes: usize,
    /// How many chunk bodies are read and decoded at once (default 4); further chunk
    /// uploads wait, so server memory stays bounded by a few chunks. One user holds at most
    /// all but one of them (at least one), so that another user is never locked out.
    pub max_concurrent_chunks: usize,
    /// Decoded chunks of open upload sessions are kept in memory up to this many bytes of
    /// Arrow data in all (default 256 MiB); past it they are staged as Parquet files in
    /// the data directory. Staged chunks are not durable either way (an upload session does
    /// not survive a restart); only a publish makes data durable.
    pub staging_memory_bytes: usize,
    /// Staged chunk files of open upload sessions may take this many bytes of disk in all
    /// (default 64 GiB); a chunk past it is refused with 507 and the session stays usable.
    pub staging_disk_bytes: usize,
    /// The grouped rows of all live cube instances (the Cube API's reads) are kept in
    /// memory up to this many bytes of Arrow data in all (default 512 MiB); an instance
    /// whose rows do not fit writes them to a file under the data directory, and its pages
    /// are read from there.
    pub cube_memory_bytes: usize,
    /// Host names (besides the bound address and loopback names) that requests may name
    /// in their `Host` header, e.g. the machine's name when serving a network. Requests
    /// naming any other host are refused (DNS-rebinding protection).
    pub allowed_hosts: Vec<String>,
    /// A request body that sends nothing for this long is abandoned (default 30 s): a
    /// stalled client cannot hold a decode slot or its memory.
    pub body_idle_timeout: Duration,
    /// A request body must arrive whole within this long from its first read (default
    /// 10 min): a client trickling bytes inside the idle timeout is cut off with 408.
    pub body_deadline: Duration,
    /// The most upload sessions open or publishing at once (default 1024); a new one past
    /// it is refused with 429.
    pub max_upload_sessions: usize,
    /// The most upload sessions one user has open or publishing (default 128).
    pub max_upload_sessions_per_user: usize,
    /// The Veracity emulation's service account (client id) accepted at its token
    /// endpoint (default [`DEFAULT_VERACITY_CLIENT_ID`]).
    pub veracity_client_id: String,
    /// The Veracity service account's secret (default [`DEFAULT_VERACITY_CLIENT_SECRET`]).
    pub veracity_client_secret: Secret,
    /// The Veracity gateway's `Ocp-Apim-Subscription-Key` (default
    /// [`DEFAULT_VERACITY_SUBSCRIPTION_KEY`]).
    pub veracity_subscription_key: Secret,
    /// How long a Veracity ingest SAS URI stays valid (default 1 hour).
    pub veracity_sas_lifetime: Duration,
    /// How long a Veracity bearer token from the emulated token endpoint stays valid
    /// (default [`DEFAULT_VERACITY_TOKEN_LIFETIME`], as Azure AD's tokens).
    pub veracity_token_lifetime: Duration,
    /// The most bytes the data directory's files (published versions, staged chunks,
    /// Veracity uploads) may take in all (default: no limit), as a full disk would set: a
    /// chunk, publish or append that would pass it is refused with 507 Insufficient
    /// Storage naming the quota, and every dataset keeps its previous version.
    pub data_quota_bytes: Option<u64>,
}

/// The default project's id.
pub const DEFAULT_PROJECT_ID: &str = "B19DEDCC11D4E0EFC000EB9495D0F44F";
/// The default project's name.
pub const DEFAULT_PROJECT_NAME: &str = "MicroStrategy Tutorial";
/// The login modes a server accepts unless told otherwise: standard, LDAP, API token
/// (guest logins must be enabled explicitly).
pub const DEFAULT_LOGIN_MODES: [LoginMode; 3] =
    [LoginMode::STANDARD, LoginMode::LDAP, LoginMode::API_TOKEN];
/// The user name of guest (mode 8) sessions.
pub const GUEST_USER: &str = "Guest";
/// The default memory for staged chunks: 256 MiB.
pub const DEFAULT_STAGING_MEMORY_BYTES: usize = 256 * 1024 * 1024;
/// The default memory for the grouped rows of cube instances: 512 MiB.
pub const DEFAULT_CUBE_MEMORY_BYTES: usize = 512 << 20;
/// The default disk quota of staged chunk files: 64 GiB.
pub const DEFAULT_STAGING_DISK_BYTES: usize = 64 << 30;
/// The default Veracity service account (client id) of the emulation.
pub const DEFAULT_VERACITY_CLIENT_ID: &str = "pushdata-veracity-client";
/// The default Veracity service account secret of the emulation (local use only).
pub const DEFAULT_VERACITY_CLIENT_SECRET: &str = "pushdata-veracity-secret";
/// The default Veracity subscription key (`Ocp-Apim-Subscription-Key`) of the emulation.
pub const DEFAULT_VERACITY_SUBSCRIPTION_KEY: &str = "pushdata-veracity-key";
/// The default lifetime of a Veracity bearer token (Azure AD's: just under an hour).
pub const DEFAULT_VERACITY_TOKEN_LIFETIME: Duration = Duration::from_secs(3599);
/// The default body limit: 512 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 512 * 1024 * 1024;

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            data_dir: PathBuf::from("pushdata-data"),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            base_path: "/MicroStrategyLibrary".to_string(),
            users: Vec::new(),
            projects: Vec::new(),
            login_modes: DEFAULT_LOGIN_MODES.to_vec(),
            api_tokens: Vec::new(),
            tls: None,
            token_idle_timeout: Duration::from_secs(30 * 60),
            upload_session_idle_timeout: Duration::from_secs(30 * 60),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_concurrent_chunks: 4,
            staging_memory_bytes: DEFAULT_STAGING_MEMORY_BYTES,
            staging_disk_bytes: DEFAULT_STAGING_DISK_BYTES,
            cube_memory_bytes: DEFAULT_CUBE_MEMORY_BYTES,
            allowed_hosts: Vec::new(),
            body_idle_timeout: Duration::from_secs(30),
            body_deadline: Duration::from_secs(10 * 60),
            max_upload_sessions: 1024,
            max_upload_sessions_per_user: 128,
            veracity_client_id: DEFAULT_VERACITY_CLIENT_ID.to_string(),
            veracity_client_secret: Secret::new(DEFAULT_VERACITY_CLIENT_SECRET),
            veracity_subscription_key: Secret::new(DEFAULT_VERACITY_SUBSCRIPTION_KEY),
            veracity_sas_lifetime: Duration::from_secs(60 * 60),
            veracity_token_lifetime: DEFAULT_VERACITY_TOKEN_LIFETIME,
            data_quota_bytes: None,
        }
    }
}

impl ServerConfig {
    /// A configuration storing its data under `data_dir`, with all other settings default.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        ServerConfig {
            data_dir: data_dir.into(),
            ..ServerConfig::default()
        }
    }

    /// Listen on `addr`.
    pub fn with_addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Serve the API under `base_path` (e.g. `/MicroStrategyLibrary`; `""` or `/` for none).
    pub fn with_base_path(mut self, base_path: impl Into<String>) -> Self {
        self.base_path = base_path.into();
        self
    }

    /// Accept this user at login. The first call replaces the default user.
    pub fn with_user(mut self, name: impl Into<String>, password: impl Into<Secret>) -> Self {
        self.users.push(UserConfig {
            name: name.into(),
            password: password.into(),
        });
        self
    }

    /// Serve this project. The first call replaces the default project.
    pub fn with_project(mut self, name: impl Into<String>, id: impl Into<String>) -> Self {
        self.projects.push(ProjectConfig {
            name: name.into(),
            id: id.into(),
        });
        self
    }

    /// Accept exactly these login modes (e.g. add [`LoginMode::GUEST`], or only
    /// [`LoginMode::LDAP`] to check that a client sends it).
    pub fn with_login_modes(mut self, modes: impl IntoIterator<Item = LoginMode>) -> Self {
        self.login_modes = modes.into_iter().collect();
        self
    }

    /// Accept `token` at API token logins (mode 4096) as `user`, who must be one of the
    /// configured users.
    pub fn with_api_token(mut self, user: impl Into<String>, token: impl Into<Secret>) -> Self {
        self.api_tokens.push(ApiTokenConfig {
            user: user.into(),
            token: token.into(),
        });
        self
    }

    /// Serve HTTPS with this certificate and key (see [`TlsConfig`]); the base URL of the
    /// handle is then `https://...`.
    pub fn with_tls(mut self, tls: TlsConfig) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Let staged chunk files take at most `bytes` of disk in all.
    pub fn with_staging_disk_bytes(mut self, bytes: usize) -> Self {
        self.staging_disk_bytes = bytes;
        self
    }

    /// Auth tokens expire after this long without use.
    pub fn with_token_idle_timeout(mut self, timeout: Duration) -> Self {
        self.token_idle_timeout = timeout;
        self
    }

    /// Cancel upload sessions idle for longer than `timeout` and free their staging.
    ///
    /// ```
    /// use std::time::Duration;
    /// let config = pushdata_server::ServerConfig::new("/tmp/pushdata-data")
    ///     .with_upload_session_idle_timeout(Duration::from_secs(60));
    /// assert_eq!(config.upload_session_idle_timeout, Duration::from_secs(60));
    /// ```
    pub fn with_upload_session_idle_timeout(mut self, timeout: Duration) -> Self {
        self.upload_session_idle_timeout = timeout;
        self
    }

    /// Refuse request bodies larger than `bytes` with 413.
    pub fn with_max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Read and decode at most `n` chunk bodies at once (at least 1).
    pub fn with_max_concurrent_chunks(mut self, n: usize) -> Self {
        self.max_concurrent_chunks = n.max(1);
        self
    }

    /// Keep at most `bytes` of decoded chunks in memory (0: stage every chunk as a file).
    pub fn with_staging_memory_bytes(mut self, bytes: usize) -> Self {
        self.staging_memory_bytes = bytes;
        self
    }

    /// Keep at most `bytes` of cube instances' grouped rows in memory (0: every instance's
    /// rows are written to a file).
    pub fn with_cube_memory_bytes(mut self, bytes: usize) -> Self {
        self.cube_memory_bytes = bytes;
        self
    }

    /// Allow at most `total` live upload sessions, `per_user` of them for one user (each at
    /// least 1).
    pub fn with_max_upload_sessions(mut self, total: usize, per_user: usize) -> Self {
        self.max_upload_sessions = total.max(1);
        self.max_upload_sessions_per_user = per_user.max(1);
        self
    }

    /// Abandon a request body that sends nothing for `timeout`.
    pub fn with_body_idle_timeout(mut self, timeout: Duration) -> Self {
        self.body_idle_timeout = timeout;
        self
    }

    /// Cut off a request body that has not arrived whole `deadline` after its first read.
    pub fn with_body_deadline(mut self, deadline: Duration) -> Self {
        self.body_deadline = deadline;
        self
    }

    /// Also answer requests whose `Host` is `name` (with any port).
    pub fn with_allowed_host(mut self, name: impl Into<String>) -> Self {
        self.allowed_hosts.push(name.into());
        self
    }

    /// Accept this Veracity service account (client id and secret) at the emulated token
    /// endpoint, instead of the defaults.
    pub fn with_veracity_client(
        mut self,
        id: impl Into<String>,
        secret: impl Into<Secret>,
    ) -> Self {
        self.veracity_client_id = id.into();
        self.veracity_client_secret = secret.into();
        self
    }

    /// Require this `Ocp-Apim-Subscription-Key` on the emulated Veracity gateway.
    pub fn with_veracity_subscription_key(mut self, key: impl Into<Secret>) -> Self {
        self.veracity_subscription_key = key.into();
        self
    }

    /// Issue Veracity ingest SAS URIs valid for `lifetime`.
    pub fn with_veracity_sas_lifetime(mut self, lifetime: Duration) -> Self {
        self.veracity_sas_lifetime = lifetime;
        self
    }

    /// Issue Veracity bearer tokens valid for `lifetime` (e.g. a second, to see a client
    /// renew its token in the middle of a push).
    ///
    /// ```
    /// use std::time::Duration;
    /// let config = pushdata_server::ServerConfig::new("/tmp/pushdata-data")
    ///     .with_veracity_token_lifetime(Duration::from_secs(2));
    /// assert_eq!(config.veracity_token_lifetime, Duration::from_secs(2));
    /// ```
    pub fn with_veracity_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.veracity_token_lifetime = lifetime;
        self
    }

    /// Let the data directory's files take at most `bytes` in all (see
    /// [`data_quota_bytes`](Self::data_quota_bytes)).
    ///
    /// ```
    /// let config = pushdata_server::ServerConfig::new("/tmp/pushdata-data")
    ///     .with_data_quota_bytes(64 << 20);
    /// assert_eq!(config.data_quota_bytes, Some(64 << 20));
    /// ```
    pub fn with_data_quota_bytes(mut self, bytes: u64) -> Self {
        self.data_quota_bytes = Some(bytes);
        self
    }

    /// The users in effect (the default user when none was configured).
    pub fn effective_users(&self) -> Vec<UserConfig> {
        if self.users.is_empty() {
            vec![UserConfig {
                name: "administrator".to_string(),
                password: Secret::default(),
            }]
        } else {
            self.users.clone()
        }
    }

    /// The projects in effect (the default project when none was configured).
    pub fn effective_projects(&self) -> Vec<ProjectConfig> {
        if self.projects.is_empty() {
            vec![ProjectConfig {
                name: DEFAULT_PROJECT_NAME.to_string(),
                id: DEFAULT_PROJECT_ID.to_string(),
            }]
        } else {
            self.projects.clone()
        }
    }

    /// The base path normalized: empty, or starting with `/` and not ending with one.
    pub fn normalized_base_path(&self) -> String {
        let t = self.base_path.trim().trim_end_matches('/');
        if t.is_empty() {
            String::new()
        } else if t.starts_with('/') {
            t.to_string()
        } else {
            format!("/{t}")
        }
    }
}
