//! `pushdata serve`: run the reference server until Ctrl-C (or SIGTERM).

use pushdata_server::{Server, ServerConfig};

use crate::args::ServeArgs;
use crate::error::{CliError, Result};
use crate::output;

/// Start the server, print its base URL on stdout, wait for a shutdown signal, stop cleanly.
pub async fn run(args: ServeArgs) -> Result<()> {
    std::fs::create_dir_all(&args.data_dir).map_err(|source| CliError::Io {
        what: format!("creating the data directory {}", args.data_dir.display()),
        source,
    })?;
    let mut config = ServerConfig::new(args.data_dir.clone()).with_addr(args.addr);
    if let (Some(user), Some(password)) = (args.user, args.password) {
        config = config.with_user(user, password);
    }
    let handle = Server::start(config).await?;
    output::print_line(handle.base_url())?;
    eprintln!(
        "serving data in {} (Ctrl-C to stop)",
        args.data_dir.display()
    );
    let signal = shutdown_signal().await;
    eprintln!("shutting down");
    let stopped = handle.shutdown().await;
    signal?;
    stopped?;
    Ok(())
}

/// Resolves on Ctrl-C, or on SIGTERM on Unix.
async fn shutdown_signal() -> Result<()> {
    let io = |source| CliError::Io {
        what: "waiting for the shutdown signal".into(),
        source,
    };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).map_err(io)?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.map_err(io),
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.map_err(io)
    }
}
