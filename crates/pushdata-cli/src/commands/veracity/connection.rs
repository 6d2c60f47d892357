//! The Veracity client of a command: built from `--url` and the credentials, or pointed at
//! the Veracity emulation of an embedded reference server started on `--data-dir`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use pushdata_core::veracity::wire::GATEWAY_PATH;
use pushdata_core::veracity::{Client, JobWait, gateway_url};
use pushdata_core::{BackoffConfig, Secret};
use pushdata_server::{
    DEFAULT_VERACITY_CLIENT_ID, DEFAULT_VERACITY_CLIENT_SECRET, DEFAULT_VERACITY_SUBSCRIPTION_KEY,
    Server, ServerConfig, ServerHandle,
};

use crate::args::VeracityConnectionArgs;
use crate::error::{CliError, Result};

/// The tenant segment of the embedded server's token URL (the emulation accepts any).
const EMBEDDED_TENANT: &str = "pushdata";

/// A client, and the embedded server it talks to when there is no `--url`.
#[derive(Debug)]
pub(super) struct Connection {
    /// The client.
    pub(super) client: Client,
    /// The embedded server and its (absolute) data directory.
    embedded: Option<(ServerHandle, PathBuf)>,
}

/// Whether an embedded server may create its data directory (a push) or needs an existing
/// one (a pull).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DataDir {
    /// Create it if missing.
    Create,
    /// It must exist.
    Existing,
}

impl Connection {
    /// Connect as `args` say: to `--url`, or to an embedded server started on `--data-dir`.
    pub(super) async fn open(args: &VeracityConnectionArgs, data_dir: DataDir) -> Result<Self> {
        if args.workspace.trim().is_empty() {
            return Err(CliError::Usage("the workspace id must not be empty".into()));
        }
        match &args.url {
            Some(root) => Ok(Connection {
                client: remote_client(args, root)?,
                embedded: None,
            }),
            None => embedded(args, data_dir).await,
        }
    }

    /// How long and how often to poll a job: quickly for the embedded server, whose jobs
    /// finish at once, else the library's default.
    pub(super) fn job_wait(&self) -> JobWait {
        match self.embedded {
            Some(_) => JobWait::default().with_poll(
                BackoffConfig::default()
                    .with_init_backoff(Duration::from_millis(20))
                    .with_max_backoff(Duration::from_millis(500)),
            ),
            None => JobWait::default(),
        }
    }

    /// The embedded server's data directory, if there is one.
    pub(super) fn data_dir(&self) -> Option<&Path> {
        self.embedded.as_ref().map(|(_, dir)| dir.as_path())
    }

    /// Stop the embedded server (if any) and return `result`: the work's error wins over a
    /// failure to stop.
    pub(super) async fn close<T>(self, result: Result<T>) -> Result<T> {
        let stopped = match self.embedded {
            Some((server, _)) => server.shutdown().await.map_err(CliError::from),
            None => Ok(()),
        };
        let value = result?;
        stopped?;
        Ok(value)
    }
}

/// A client for `--url`: every credential must be given.
fn remote_client(args: &VeracityConnectionArgs, root: &str) -> Result<Client> {
    let missing = |flag: &str, env: &str| {
        CliError::Usage(format!(
            "--url needs {flag} (or {env}); without --url the embedded server is used"
        ))
    };
    let id = args
        .client_id
        .clone()
        .ok_or_else(|| missing("--client-id", "PUSHDATA_VERACITY_CLIENT_ID"))?;
    let secret = args
        .client_secret
        .clone()
        .ok_or_else(|| missing("--client-secret", "PUSHDATA_VERACITY_CLIENT_SECRET"))?;
    let key = args
        .subscription_key
        .clone()
        .ok_or_else(|| missing("--subscription-key", "PUSHDATA_VERACITY_SUBSCRIPTION_KEY"))?;
    let mut builder = Client::builder(args.workspace.clone())
        .with_base_url(gateway_url(root))
        .with_credentials(id, secret)
        .with_subscription_key(key);
    if let Some(url) = &args.token_url {
        builder = builder.with_token_url(url.clone());
    }
    Ok(builder.build()?)
}

/// Start the reference server on `--data-dir` (accepting the given credentials, else its
/// defaults) and a client for its Veracity emulation.
async fn embedded(args: &VeracityConnectionArgs, data_dir: DataDir) -> Result<Connection> {
    let dir = std::path::absolute(&args.data_dir).map_err(|source| CliError::Io {
        what: format!("resolving the data directory {}", args.data_dir.display()),
        source,
    })?;
    prepare_dir(&dir, data_dir)?;
    let id = args
        .client_id
        .clone()
        .unwrap_or_else(|| DEFAULT_VERACITY_CLIENT_ID.to_string());
    let secret = args
        .client_secret
        .clone()
        .unwrap_or_else(|| Secret::new(DEFAULT_VERACITY_CLIENT_SECRET));
    let key = args
        .subscription_key
        .clone()
        .unwrap_or_else(|| Secret::new(DEFAULT_VERACITY_SUBSCRIPTION_KEY));
    let config = ServerConfig::new(dir.clone())
        .with_veracity_client(id.clone(), secret.clone())
        .with_veracity_subscription_key(key.clone());
    let server = Server::start(config).await?;
    let addr = server.addr();
    let token_url = args
        .token_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}/{EMBEDDED_TENANT}/oauth2/token"));
    let client = Client::builder(args.workspace.clone())
        .with_base_url(format!("http://{addr}{GATEWAY_PATH}"))
        .with_token_url(token_url)
        .with_credentials(id, secret)
        .with_subscription_key(key)
        .build();
    let connection = Connection {
        client: match client {
            Ok(client) => client,
            Err(e) => {
                let _ = server.shutdown().await;
                return Err(e.into());
            }
        },
        embedded: Some((server, dir)),
    };
    Ok(connection)
}

fn prepare_dir(dir: &Path, data_dir: DataDir) -> Result<()> {
    match data_dir {
        DataDir::Create => std::fs::create_dir_all(dir).map_err(|source| CliError::Io {
            what: format!("creating the data directory {}", dir.display()),
            source,
        }),
        DataDir::Existing if dir.is_dir() => Ok(()),
        DataDir::Existing => Err(CliError::Usage(format!(
            "no data directory {} for the embedded server (push something first, or give --url or --data-dir)",
            dir.display()
        ))),
    }
}
