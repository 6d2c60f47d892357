//! `pushdata serve`: run the reference server until Ctrl-C (or SIGTERM).

use pushdata_server::{Server, ServerConfig};

use crate::args::ServeArgs;
use crate::error::{CliError, Result};
use crate::output;

/// Start the server, print its base URL on stdout, wait for a shutdown signal, stop cleanly.
pub(crate) async fn run(args: ServeArgs) -> Result<()> {
    std::fs::create_dir_all(&args.data_dir).map_err(|source| CliError::Io {
        what: format!("creating the data directory {}", args.data_dir.display()),
        source,
    })?;
    let mut config = ServerConfig::new(args.data_dir.clone()).with_addr(args.addr);
    if let (Some(user), Some(password)) = (args.user, args.password) {
        config = config.with_user(user, password);
    }
    if let Some(mb) = args.staging_memory_mb {
        config = config
            .with_staging_memory_bytes(usize::try_from(mb * 1024 * 1024).unwrap_or(usize::MAX));
    }
    let signal = ShutdownSignal::install()?;
    let handle = Server::start(config).await?;
    output::print_line(handle.base_url())?;
    eprintln!(
        "serving data in {} (Ctrl-C to stop)",
        args.data_dir.display()
    );
    let waited = signal.wait().await;
    eprintln!("shutting down");
    let stopped = handle.shutdown().await;
    waited?;
    stopped?;
    Ok(())
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
