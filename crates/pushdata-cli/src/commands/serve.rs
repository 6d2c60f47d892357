//! `pushdata serve`: run the reference server until Ctrl-C (or SIGTERM).

use std::path::Path;

use pushdata_core::Secret;
use pushdata_core::wire::LoginMode;
use pushdata_server::{Server, ServerConfig, TlsConfig};

use crate::args::ServeArgs;
use crate::error::{CliError, Result};
use crate::output;

/// The environment variable `--user`'s password is read from (as for `push`).
const PASSWORD_ENV: &str = "PUSHDATA_PASSWORD";

/// Start the server, print its base URL on stdout, wait for a shutdown signal, stop cleanly.
pub(crate) async fn run(args: ServeArgs) -> Result<()> {
    let users = users(&args)?;
    std::fs::create_dir_all(&args.data_dir).map_err(|source| CliError::Io {
        what: format!("creating the data directory {}", args.data_dir.display()),
        source,
    })?;
    let mut config = ServerConfig::new(args.data_dir.clone()).with_addr(args.addr);
    for (user, password) in users {
        config = config.with_user(user, password);
    }
    if !args.login_modes.is_empty() {
        config = config.with_login_modes(args.login_modes.iter().map(|m| LoginMode::from(*m)));
    }
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        config = config.with_tls(TlsConfig::from_pem_files(cert, key));
    }
    if let Some(mb) = args.staging_memory_mb {
        config = config
            .with_staging_memory_bytes(usize::try_from(mb * 1024 * 1024).unwrap_or(usize::MAX));
    }
    if let Some(mb) = args.cube_memory_mb {
        config =
            config.with_cube_memory_bytes(usize::try_from(mb * 1024 * 1024).unwrap_or(usize::MAX));
    }
    if let Some(secs) = args.session_idle_secs {
        config = config.with_upload_session_idle_timeout(std::time::Duration::from_secs(secs));
    }
    if let Some(mb) = args.data_quota_mb {
        config = config.with_data_quota_bytes(mb << 20);
    }
    if let Some(secs) = args.veracity_token_lifetime_secs {
        config = config.with_veracity_token_lifetime(std::time::Duration::from_secs(secs));
    }
    let veracity = VeracityCredentials::from_args(&args);
    config = veracity.configure(config);
    let signal = ShutdownSignal::install()?;
    let handle = Server::start(config).await?;
    output::print_line(handle.base_url())?;
    eprintln!(
        "serving data in {} (Ctrl-C to stop)",
        args.data_dir.display()
    );
    veracity.announce(&format!("{}://{}", handle.scheme(), handle.addr()));
    let waited = signal.wait().await;
    eprintln!("shutting down");
    let stopped = handle.shutdown().await;
    waited?;
    stopped?;
    Ok(())
}

/// The users to configure: `--users-file`, or `--user` with its password (from
/// `--password-file`, `--password` or `PUSHDATA_PASSWORD`), or none (the server's default
/// user).
fn users(args: &ServeArgs) -> Result<Vec<(String, Secret)>> {
    if let Some(path) = &args.users_file {
        return parse_users(path, &read_file(path, "the users file")?);
    }
    let Some(user) = &args.user else {
        return Ok(Vec::new());
    };
    let password = if let Some(path) = &args.password_file {
        let text = read_file(path, "the password file")?;
        Secret::new(text.lines().next().unwrap_or_default())
    } else if let Some(password) = &args.password {
        password.clone()
    } else if let Some(password) = std::env::var_os(PASSWORD_ENV) {
        let password = password
            .into_string()
            .map_err(|_| CliError::Usage(format!("{PASSWORD_ENV} is not valid UTF-8")))?;
        Secret::new(password)
    } else {
        return Err(CliError::Usage(format!(
            "--user {user} needs a password: --password-file FILE, {PASSWORD_ENV} or --password"
        )));
    };
    Ok(vec![(user.clone(), password)])
}

fn read_file(path: &Path, what: &str) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| CliError::Io {
        what: format!("reading {what} {}", path.display()),
        source,
    })
}

/// `name:password` lines; `#` comments and blank lines skipped. Errors name the file and
/// the line number, never the line (it holds a password).
fn parse_users(path: &Path, text: &str) -> Result<Vec<(String, Secret)>> {
    let mut users: Vec<(String, Secret)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let bad = |message: &str| CliError::File {
            path: path.to_path_buf(),
            message: format!("line {}: {message}", i + 1),
        };
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let Some((name, password)) = line.split_once(':') else {
            return Err(bad("expected name:password"));
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(bad("the user name is empty"));
        }
        if users.iter().any(|(u, _)| u.eq_ignore_ascii_case(name)) {
            return Err(bad(&format!("user {name:?} appears twice")));
        }
        users.push((name.to_string(), Secret::new(password)));
    }
    if users.is_empty() {
        return Err(CliError::File {
            path: path.to_path_buf(),
            message: "names no user (one name:password per line)".into(),
        });
    }
    Ok(users)
}
/// The Veracity emulation's credentials: as given, or the documented defaults.
struct VeracityCredentials {
    client_id: String,
    secret: Option<Secret>,
    key: Option<Secret>,
}

impl VeracityCredentials {
    fn from_args(args: &ServeArgs) -> Self {
        VeracityCredentials {
            client_id: args
                .veracity_client_id
                .clone()
                .unwrap_or_else(|| pushdata_server::DEFAULT_VERACITY_CLIENT_ID.to_string()),
            secret: args.veracity_client_secret.clone(),
            key: args.veracity_subscription_key.clone(),
        }
    }

    fn configure(&self, config: ServerConfig) -> ServerConfig {
        let secret = self
            .secret
            .clone()
            .unwrap_or_else(|| Secret::new(pushdata_server::DEFAULT_VERACITY_CLIENT_SECRET));
        let key = self
            .key
            .clone()
            .unwrap_or_else(|| Secret::new(pushdata_server::DEFAULT_VERACITY_SUBSCRIPTION_KEY));
        config
            .with_veracity_client(self.client_id.clone(), secret)
            .with_veracity_subscription_key(key)
    }

    /// Where the emulation listens and with which credentials; a secret is shown only when
    /// it is the public default.
    fn announce(&self, origin: &str) {
        let shown = |given: &Option<Secret>, default: &str| match given {
            Some(_) => "(as given)".to_string(),
            None => format!("{default} (the default)"),
        };
        eprintln!(
            "veracity emulation: token {origin}/<tenant>/oauth2/token, gateway {origin}/veracity/dw/gateway/api/v2; client id {}, client secret {}, subscription key {}",
            self.client_id,
            shown(
                &self.secret,
                pushdata_server::DEFAULT_VERACITY_CLIENT_SECRET
            ),
            shown(
                &self.key,
                pushdata_server::DEFAULT_VERACITY_SUBSCRIPTION_KEY
            ),
        );
    }
}

/// Resolves on Ctrl-C, or on SIGTERM on Unix.
struct ShutdownSignal {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl ShutdownSignal {
    /// Install the handlers now, so a signal that arrives before [`ShutdownSignal::wait`]
    /// is polled still stops the server cleanly.
    fn install() -> Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(ShutdownSignal {
                interrupt: signal(SignalKind::interrupt()).map_err(signal_error)?,
                terminate: signal(SignalKind::terminate()).map_err(signal_error)?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(ShutdownSignal {})
        }
    }

    async fn wait(mut self) -> Result<()> {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => {}
                _ = self.terminate.recv() => {}
            }
            Ok(())
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c().await.map_err(signal_error)
        }
    }
}

fn signal_error(source: std::io::Error) -> CliError {
    CliError::Io {
        what: "installing the shutdown signal handler".into(),
        source,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn users_file_lines() {
        let p = Path::new("users.txt");
        let users = parse_users(p, "# team\n\nalice:s3cret:with:colons\r\n  bob :\n").unwrap();
        assert_eq!(users.len(), 2);
        assert_eq!(users[0].0, "alice");
        assert_eq!(users[0].1.expose(), "s3cret:with:colons");
        assert_eq!((users[1].0.as_str(), users[1].1.expose()), ("bob", ""));
        let e = parse_users(p, "alice hunter2\n").unwrap_err();
        assert_eq!(e.to_string(), "users.txt: line 1: expected name:password");
        let e = parse_users(p, "a:hunter2\nA:hunter3\n").unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
        assert!(!e.to_string().contains("hunter"), "{e}");
        assert!(parse_users(p, "# nobody\n").is_err());
        assert!(parse_users(p, ":pw\n").is_err());
    }
}
