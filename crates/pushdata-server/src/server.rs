//! Starting and stopping the server.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::RwLock;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::ServerConfig;
use crate::error::{Result, ServerError};
use crate::hook::{NoHook, PublishHook};
use crate::mstr::{self, Auth, ChunkSlots, Instances, Service};
use crate::store::{self, Catalog, DataQuota, DirLock, Staging};
use crate::tls::TlsConfig;
use crate::veracity::{self, VAuth, VService};
use pushdata_core::wire::LoginMode;

/// The reference server: the Push Data API on a table store in a data directory.
#[derive(Debug)]
pub struct Server;

/// A running server: its address, and a way to stop it.
///
/// Dropping the handle also stops the server (gracefully, in the background; running
/// Veracity ingest jobs stop before their commit and run again at the next start); keep it
/// alive for as long as the server should run.
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    scheme: &'static str,
    base_url: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
    /// The Veracity emulation, whose ingest jobs run in the background.
    veracity: Arc<VService>,
    /// The data directory stays locked until the handle is dropped.
    _lock: DirLock,
}

impl Server {
    /// Open the data directory, bind the address and start serving in the background.
    ///
    /// Refuses a non-loopback address while any user has an empty password, and a data
    /// directory another server uses ([`ServerError::DataDirLocked`]).
    pub async fn start(config: ServerConfig) -> Result<ServerHandle> {
        Self::start_with_hook(config, Arc::new(NoHook)).await
    }

    /// [`Server::start`], with `hook` run at fixed points of every publish: the seam through
    /// which tests inject faults and delays (see [`PublishHook`]).
    pub async fn start_with_hook(
        config: ServerConfig,
        hook: Arc<dyn PublishHook>,
    ) -> Result<ServerHandle> {
        check_config(&config)?;
        // A certificate that cannot be used stops the start before anything is opened.
        let tls = config
            .tls
            .as_ref()
            .map(TlsConfig::rustls_config)
            .transpose()?;
        let data_dir = config.data_dir.clone();
        let quota = DataQuota::new(&data_dir, config.data_quota_bytes);
        let staging_quota = quota.clone();
        let (lock, catalog, staging_dir, vstored) =
            tokio::task::spawn_blocking(move || open_data_dir(&data_dir, &quota))
                .await
                .map_err(ServerError::Task)??;
        let service = Arc::new(Service {
            auth: Auth::new(
                config.effective_users(),
                config.login_modes.clone(),
                &config.api_tokens,
                config.token_idle_timeout,
            ),
            catalog,
            sessions: RwLock::new(HashMap::new()),
            projects: config.effective_projects(),
            hook: hook.clone(),
            max_body_bytes: config.max_body_bytes,
            body_idle_timeout: config.body_idle_timeout,
            session_caps: (
                config.max_upload_sessions,
                config.max_upload_sessions_per_user,
            ),
            cube_instances: Instances::new(
                staging_dir.join("cube-instances"),
                config.cube_memory_bytes,
            ),
            chunk_slots: ChunkSlots::new(config.max_concurrent_chunks),
            staging: Arc::new(
                Staging::new(config.staging_memory_bytes, config.staging_disk_bytes)
                    .with_quota(staging_quota),
            ),
            staging_dir,
        });
        // A session outlives neither its own idle timeout nor its owner's token.
        spawn_sweeper(
            &service,
            config
                .upload_session_idle_timeout
                .min(config.token_idle_timeout),
        );
        let base = config.normalized_base_path();
        let listener = tokio::net::TcpListener::bind(config.addr)
            .await
            .map_err(|e| ServerError::io(format!("binding {}", config.addr), e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| ServerError::io("reading the bound address", e))?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let origin = format!("{scheme}://{addr}");
        let vservice = veracity_service(&config, vstored, &origin, hook, service.staging.clone());
        vservice.resume_runs().await;
        let app = mstr::router(
            service,
            &base,
            addr,
            config.allowed_hosts.clone(),
            config.body_idle_timeout,
            config.body_deadline,
            veracity::router(vservice.clone()),
        );
        let (tx, rx) = oneshot::channel::<()>();
        let task = match tls {
            None => tokio::spawn(async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await
            }),
            Some(tls) => serve_tls(listener, app, tls, rx)?,
        };
        let base_url = format!("{origin}{base}");
        tracing::info!(%base_url, data_dir = %config.data_dir.display(), "pushdata server listening");
        Ok(ServerHandle {
            addr,
            scheme,
            base_url,
            shutdown: Some(tx),
            task,
            veracity: vservice,
            _lock: lock,
        })
    }
}

/// Serve HTTPS on `listener` until `stop` fires, then finish the requests in flight.
fn serve_tls(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    tls: Arc<rustls::ServerConfig>,
    stop: oneshot::Receiver<()>,
) -> Result<JoinHandle<std::io::Result<()>>> {
    let listener = listener
        .into_std()
        .map_err(|e| ServerError::io("preparing the HTTPS listener", e))?;
    let server = axum_server::tls_rustls::from_tcp_rustls(
        listener,
        axum_server::tls_rustls::RustlsConfig::from_config(tls),
    )
    .map_err(|e| ServerError::io("preparing the HTTPS listener", e))?;
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        let _ = stop.await;
        stopper.graceful_shutdown(None);
    });
    Ok(tokio::spawn(async move {
        server.handle(handle).serve(app.into_make_service()).await
    }))
}

/// Sweep abandoned upload sessions on a timer (a quarter of the idle timeout, at most a
/// minute) for as long as the service lives.
fn spawn_sweeper(service: &Arc<Service>, idle: std::time::Duration) {
    let every = (idle / 4).clamp(
        std::time::Duration::from_millis(50),
        std::time::Duration::from_secs(60),
    );
    let weak = Arc::downgrade(service);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(service) = weak.upgrade() else {
                return;
            };
            service.sweep_sessions(idle);
        }
    });
}

/// Refuse configurations the server does not run with.
fn check_config(config: &ServerConfig) -> Result<()> {
    if !config.addr.ip().is_loopback()
        && let Some(u) = config
            .effective_users()
            .iter()
            .find(|u| u.password.is_empty())
    {
        return Err(ServerError::Config(format!(
            "refusing to listen on {} (not loopback) while user {:?} has an empty password; set a password or bind 127.0.0.1",
            config.addr, u.name
        )));
    }
    if !config.addr.ip().is_loopback() && config.login_modes.contains(&LoginMode::GUEST) {
        return Err(ServerError::Config(format!(
            "refusing to listen on {} (not loopback) with guest logins enabled: anyone could push; disable them or bind 127.0.0.1",
            config.addr
        )));
    }
    if config.login_modes.is_empty() {
        return Err(ServerError::Config("no login mode is enabled".into()));
    }
    if let Some(mode) = config.login_modes.iter().find(|m| m.name().is_none()) {
        return Err(ServerError::Config(format!(
            "login {mode} is not one this server implements (standard, guest, LDAP, API token)"
        )));
    }
    let users = config.effective_users();
    if let Some(t) = config
        .api_tokens
        .iter()
        .find(|t| !users.iter().any(|u| u.name.eq_ignore_ascii_case(&t.user)))
    {
        return Err(ServerError::Config(format!(
            "an API token is configured for user {:?}, who is not one of the server's users",
            t.user
        )));
    }
    if config.max_body_bytes == 0 {
        return Err(ServerError::Config("max_body_bytes must be > 0".into()));
    }
    Ok(())
}

/// The Veracity emulation's state: its stored datasets, schemas, SAS key and jobs, the
/// configured credentials, SAS URIs pointing at `origin` (`http(s)://addr`).
fn veracity_service(
    config: &ServerConfig,
    stored: veracity::Stored,
    origin: &str,
    hook: Arc<dyn PublishHook>,
    staging: Arc<Staging>,
) -> Arc<VService> {
    Arc::new(VService {
        auth: VAuth::new(
            config.veracity_client_id.clone(),
            config.veracity_client_secret.clone(),
            config.veracity_subscription_key.clone(),
            config.veracity_token_lifetime,
        ),
        sas: stored.sas,
        catalog: stored.catalog,
        schemas: stored.schemas,
        jobs: RwLock::new(stored.jobs),
        records: stored.records,
        runs: veracity::Runs::default(),
        staging_dir: stored.staging_dir,
        staging,
        public_url: origin.to_string(),
        sas_lifetime_secs: i64::try_from(config.veracity_sas_lifetime.as_secs())
            .unwrap_or(i64::MAX),
        max_body_bytes: config.max_body_bytes,
        hook,
        quota: DataQuota::new(&config.data_dir, config.data_quota_bytes),
    })
}

/// What opening the data directory gives: its lock, the Push Data API's datasets, the
/// staging directory, and the Veracity emulation's stored state.
type Opened = (
    DirLock,
    Catalog<mstr::DatasetDef>,
    PathBuf,
    veracity::Stored,
);

/// Create and lock the data directory, clear its staging area and load the datasets.
fn open_data_dir(data_dir: &Path, quota: &DataQuota) -> Result<Opened> {
    std::fs::create_dir_all(data_dir).map_err(|e| {
        ServerError::io(format!("creating data directory {}", data_dir.display()), e)
    })?;
    let lock = DirLock::acquire(data_dir)?;
    let staging = store::reset_dir(data_dir)?;
    let catalog = Catalog::open_with_quota(&data_dir.join(mstr::DATASETS_DIR), quota.clone())?;
    let vstored = veracity::open(data_dir, &staging, quota)?;
    Ok((lock, catalog, staging, vstored))
}

impl ServerHandle {
    /// The base URL clients use, e.g. `http://127.0.0.1:PORT/MicroStrategyLibrary`
    /// (`https://` with [`ServerConfig::with_tls`]).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `https` when serving with [`ServerConfig::with_tls`], else `http`.
    pub fn scheme(&self) -> &'static str {
        self.scheme
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stop accepting connections, finish in-flight requests, stop running Veracity ingest
    /// jobs (before their commit; they stay `Running` and run again at the next start) and
    /// wait until all is stopped.
    pub async fn shutdown(mut self) -> Result<()> {
        self.veracity.runs.request_stop();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let served = (&mut self.task)
            .await
            .map_err(ServerError::Task)?
            .map_err(|e| ServerError::io("serving", e));
        self.veracity.runs.stop().await;
        served
    }

    /// Wait until the server stops (it stops only on [`ServerHandle::shutdown`] or an I/O
    /// error), e.g. for a CLI that serves until interrupted.
    pub async fn wait(&mut self) -> Result<()> {
        (&mut self.task)
            .await
            .map_err(ServerError::Task)?
            .map_err(|e| ServerError::io("serving", e))
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        // Runs stop at their next check: the data directory's lock goes with the handle.
        self.veracity.runs.request_stop();
    }
}
