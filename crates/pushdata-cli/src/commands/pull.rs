//! `pushdata pull DATASET_ID -o FILE.parquet`: read a published dataset back through the
//! Cube API (grouped by the attributes read, metrics summed; tables joined as MicroStrategy
//! joins multi-table datasets) into a Parquet file, page by page, against `--url` or an
//! embedded reference server on `--data-dir`. With `--table NAME`, one table's stored rows
//! exactly instead (the reference server's table rows extension).

use std::path::Path;

use pushdata_arrow::{Pull, PullReport};
use pushdata_core::Client;
use pushdata_server::{Server, ServerConfig};
use serde::Serialize;

use crate::args::PullArgs;
use crate::commands::session::with_session;
use crate::connection::Connection;
use crate::error::{CliError, Result};
use crate::output;

/// The result of a pull, as printed by `pull --json`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PullSummary {
    /// The dataset read.
    pub(crate) dataset_id: String,
    /// The file written.
    pub(crate) file: String,
    /// Rows written.
    pub(crate) rows: u64,
    /// Pages fetched.
    pub(crate) pages: u64,
    /// Column names and Arrow types, in order.
    pub(crate) columns: Vec<ColumnSummary>,
    /// Wall-clock time of the pull.
    pub(crate) seconds: f64,
}

/// One column of the file written.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ColumnSummary {
    /// Column name.
    pub(crate) name: String,
    /// Arrow type.
    pub(crate) arrow_type: String,
}

/// Connect, pull, write the file, print the result.
pub(crate) async fn run(args: PullArgs) -> Result<()> {
    if args.dataset_id.trim().is_empty() {
        return Err(CliError::Usage("the dataset id must not be empty".into()));
    }
    let connection = Connection::resolve(&args.connection)?;
    let report = match connection.url.clone() {
        Some(url) => pull_from(&connection, &url, &args).await?,
        None => {
            let data_dir = &args.data_dir;
            if !data_dir.is_dir() {
                return Err(CliError::Usage(format!(
                    "no data directory {} for the embedded server (push something first, or give --url or --data-dir)",
                    data_dir.display()
                )));
            }
            let config = connection.embedded_config(ServerConfig::new(data_dir.to_path_buf()));
            let server = Server::start(config).await?;
            let pulled = pull_from(&connection, server.base_url(), &args).await;
            let stopped = server.shutdown().await;
            let report = pulled?;
            stopped?;
            report
        }
    };
    print_report(&args, &report)
}

async fn pull_from(connection: &Connection, url: &str, args: &PullArgs) -> Result<PullReport> {
    with_session(connection, url, async |client: &Client| {
        let mut pull = match &args.table {
            Some(t) => Pull::table(client.clone(), args.dataset_id.clone(), t.clone()),
            None => Pull::new(client.clone(), args.dataset_id.clone()),
        };
        for a in &args.attributes {
            pull = pull.with_attribute(a.clone());
        }
        for m in &args.metrics {
            pull = pull.with_metric(m.clone());
        }
        if let Some(n) = args.page_size {
            pull = pull.with_page_size(n);
        }
        tokio::select! {
            r = pull.to_parquet(&args.output) => r.map_err(CliError::from),
            _ = tokio::signal::ctrl_c() => Err(CliError::Interrupted(
                "the pull was stopped; no output file was written",
            )),
        }
    })
    .await
}

fn print_report(args: &PullArgs, report: &PullReport) -> Result<()> {
    let summary = PullSummary {
        dataset_id: report.dataset_id.clone(),
        file: display(&args.output),
        rows: report.rows,
        pages: report.pages,
        columns: report
            .schema
            .fields()
            .iter()
            .map(|f| ColumnSummary {
                name: f.name().clone(),
                arrow_type: f.data_type().to_string(),
            })
            .collect(),
        seconds: output::seconds(report.elapsed),
    };
    if args.json {
        output::print_json(&summary)
    } else {
        output::print_line(format!(
            "pulled {} row{} ({} column{}, {} page{}) from dataset {} into {} in {:.1} s",
            summary.rows,
            if summary.rows == 1 { "" } else { "s" },
            summary.columns.len(),
            if summary.columns.len() == 1 { "" } else { "s" },
            summary.pages,
            if summary.pages == 1 { "" } else { "s" },
            summary.dataset_id,
            summary.file,
            summary.seconds
        ))
    }
}

fn display(p: &Path) -> String {
    p.display().to_string()
}
