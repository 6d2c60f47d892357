//! `pushdata`: push Parquet files into analytics datasets through the Push Data API, run the
//! reference server, and show the model a push would create.
//!
//! This binary only parses arguments, wires the library calls, shows progress and prints
//! results; the protocol lives in `pushdata-core`, the Arrow work in `pushdata-arrow` and
//! the server in `pushdata-server`.

mod args;
mod commands;
mod connection;
mod dry_run;
mod error;
mod inputs;
mod output;
mod profiles;
mod progress;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};
use crate::error::{CliError, one_line};

fn main() -> ExitCode {
    install_panic_hook();
    let cli = Cli::parse();
    pushdata_core::allocator::one_arena_per_core();
    init_tracing(match cli.command {
        // The server's own events (logins, datasets, publishes) are what `serve` is watched for.
        Command::Serve(_) => "warn,pushdata_server=info",
        // The client's one warning (certificate checks disabled) is the CLI's own
        // `--insecure` warning, printed whatever RUST_LOG says.
        Command::Push(_) | Command::Pull(_) => "warn,pushdata_core::client=error",
        Command::Schema(_) | Command::Veracity(_) => "warn",
    });
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(source) => {
            return fail(&CliError::Io {
                what: "starting the async runtime".into(),
                source,
            });
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Push(args) => commands::push::run(args).await,
            Command::Pull(args) => commands::pull::run(args).await,
            Command::Serve(args) => commands::serve::run(args).await,
            Command::Schema(args) => commands::schema::run(args),
            Command::Veracity(args) => commands::veracity::run(args).await,
        }
    });
    // Do not wait for stray blocking tasks (e.g. a file reader of a cancelled push).
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn fail(e: &CliError) -> ExitCode {
    eprintln!("error: {}", e.one_line());
    ExitCode::from(e.exit_code())
}

/// A panic is a bug, but the user still gets one line on stderr and exit code 101, never a
/// backtrace.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".to_string());
        let location = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "error: internal error (a bug in pushdata; please report it): {}{location}",
            one_line(&message)
        );
    }));
}

/// Logs go to stderr, filtered by `RUST_LOG` (else by `default`).
fn init_tracing(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}
