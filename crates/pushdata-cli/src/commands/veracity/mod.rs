//! `pushdata veracity push|pull`: one Parquet file into a Veracity Data Workbench dataset as
//! one ingest job, or a dataset back into a Parquet file, against `--url` or the Veracity
//! emulation of an embedded reference server on `--data-dir`.

mod connection;
mod pull;
mod push;

use crate::args::{VeracityArgs, VeracityCommand};
use crate::error::Result;

/// Run a `veracity` subcommand.
pub(crate) async fn run(args: VeracityArgs) -> Result<()> {
    match args.command {
        VeracityCommand::Push(args) => push::run(args).await,
        VeracityCommand::Pull(args) => pull::run(args).await,
    }
}
