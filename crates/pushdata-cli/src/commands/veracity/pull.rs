//! `pushdata veracity pull DATASET_ID -o FILE.parquet`: a Veracity dataset, typed by its
//! schema, page by page through the query API into a Parquet file.

use std::path::{Path, PathBuf};
use std::time::Instant;

use pushdata_arrow::veracity::VeracityPull;
use serde::Serialize;

use super::connection::{Connection, DataDir};
use crate::args::VeracityPullArgs;
use crate::error::{CliError, Result};
use crate::output;

/// The result of a pull, as printed by `veracity pull --json`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VeracityPullSummary {
    /// The dataset read.
    pub(crate) dataset_id: String,
    /// Rows written.
    pub(crate) rows: u64,
    /// The file written.
    pub(crate) file: String,
    /// Wall-clock time of the pull.
    pub(crate) seconds: f64,
}

/// Connect, pull into the file, print the result.
pub(crate) async fn run(args: VeracityPullArgs) -> Result<()> {
    if args.dataset_id.trim().is_empty() || args.schema_id.trim().is_empty() {
        return Err(CliError::Usage(
            "the dataset id and the schema id must not be empty".into(),
        ));
    }
    let started = Instant::now();
    let connection = Connection::open(&args.connection, DataDir::Existing).await?;
    let pulled = pull(&connection, &args).await;
    let rows = connection.close(pulled).await?;
    let summary = VeracityPullSummary {
        dataset_id: args.dataset_id.clone(),
        rows,
        file: args.output.display().to_string(),
        seconds: output::seconds(started.elapsed()),
    };
    if args.connection.json {
        output::print_json(&summary)
    } else {
        output::print_line(format!(
            "pulled {} row{} from dataset {} into {} in {:.1} s",
            summary.rows,
            if summary.rows == 1 { "" } else { "s" },
            summary.dataset_id,
            summary.file,
            summary.seconds
        ))
    }
}

/// Write the rows under `FILE.partial`, renamed to FILE once complete (removed on failure
/// or Ctrl-C); the number of rows.
async fn pull(connection: &Connection, args: &VeracityPullArgs) -> Result<u64> {
    let partial = partial_path(&args.output);
    let mut pull = VeracityPull::new(connection.client.clone(), args.dataset_id.clone())
        .with_schema_id(args.schema_id.clone());
    if let Some(n) = args.page_size {
        pull = pull.with_page_size(n);
    }
    let written = tokio::select! {
        r = pull.write_parquet(partial.clone()) => r.map_err(CliError::from),
        _ = tokio::signal::ctrl_c() => Err(CliError::Interrupted(
            "the pull was stopped; no output file was written",
        )),
    };
    match written {
        Ok(rows) => {
            std::fs::rename(&partial, &args.output).map_err(|source| CliError::Io {
                what: format!(
                    "renaming {} to {}",
                    partial.display(),
                    args.output.display()
                ),
                source,
            })?;
            Ok(rows)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

/// `FILE.partial` next to FILE.
fn partial_path(output: &Path) -> PathBuf {
    let mut name = output.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}
