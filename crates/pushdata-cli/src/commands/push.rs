//! `pushdata push FILE...`: files -> one dataset, through the push pipeline of
//! `pushdata-arrow`, against `--url` or an embedded reference server.

use std::path::{Path, PathBuf};

use pushdata_arrow::{NewDataset, Push, PushPlan, PushReport, TableSchema, Workflow, infer_model};
use pushdata_core::Client;
use pushdata_server::{Server, ServerConfig, ServerHandle};

use crate::args::PushArgs;
use crate::commands::session::with_session;
use crate::connection::Connection;
use crate::dry_run;
use crate::error::{CliError, Result};
use crate::inputs::{
    InputFile, input_name, input_options, model_options, read_inputs, table_names,
};
use crate::output::{self, PushSummary, TableSummary};
use crate::progress::Progress;

/// Check the inputs, connect, push, print the result.
pub(crate) async fn run(args: PushArgs) -> Result<()> {
    // Everything that can be checked locally is checked before any server is contacted.
    let tables = table_names(&args.files, args.table.as_deref())?;
    let dataset_name = match &args.dataset {
        Some(name) => name.clone(),
        None => match args.files.first() {
            Some(first) => input_name(first)?,
            None => return Err(CliError::Usage("no input file given".into())),
        },
    };
    let inputs = read_inputs(&args.files, tables, &input_options(&args.input)?)?;
    let schemas: Vec<TableSchema> = inputs.iter().map(InputFile::table_schema).collect();
    infer_model(&dataset_name, &schemas, &model_options(&args.model))?;

    let connection = Connection::resolve(&args.connection)?;

    match connection.url.clone() {
        Some(url) => {
            let outcome = push_to(&connection, &url, &args, &dataset_name, &inputs).await?;
            print_outcome(&args, &outcome, &inputs, None)
        }
        None => {
            let data_dir = absolute(&args.data_dir)?;
            let server = start_embedded(&data_dir, &connection).await?;
            let pushed = push_to(
                &connection,
                server.base_url(),
                &args,
                &dataset_name,
                &inputs,
            )
            .await;
            // Stop the server whatever happened; a push error is the one worth reporting.
            let stopped = server.shutdown().await;
            let outcome = pushed?;
            stopped?;
            print_outcome(&args, &outcome, &inputs, Some(&data_dir))
        }
    }
}

/// What a push did, or would do (`--dry-run`).
enum Outcome {
    /// The push ran.
    Pushed(PushReport),
    /// The dry run's plan.
    Planned(Box<PushPlan>),
}

/// Start the reference server on a free loopback port, storing into `data_dir`.
async fn start_embedded(data_dir: &Path, connection: &Connection) -> Result<ServerHandle> {
    std::fs::create_dir_all(data_dir).map_err(|source| CliError::Io {
        what: format!("creating the data directory {}", data_dir.display()),
        source,
    })?;
    let config = connection.embedded_config(ServerConfig::new(data_dir.to_path_buf()));
    Ok(Server::start(config).await?)
}

/// Run the push (or its dry run) in a session on `url`.
async fn push_to(
    connection: &Connection,
    url: &str,
    args: &PushArgs,
    dataset_name: &str,
    inputs: &[InputFile],
) -> Result<Outcome> {
    with_session(connection, url, async |client: &Client| {
        let progress = Progress::new(inputs.iter().filter_map(|i| i.rows).sum());
        // On Ctrl-C the push stops itself: it cancels its upload session and deletes a
        // dataset it created, before this session logs out.
        let outcome = match &args.dataset_id {
            Some(id) => {
                let push = Push::into_dataset(client.clone(), id.clone());
                let push = configure(push, args, inputs, &progress);
                if args.dry_run {
                    push.plan().await.map(|p| Outcome::Planned(Box::new(p)))
                } else {
                    push.await.map(Outcome::Pushed)
                }
            }
            None => {
                let push = new_dataset(client, dataset_name, args);
                let push = configure(push, args, inputs, &progress);
                if args.dry_run {
                    push.plan().await.map(|p| Outcome::Planned(Box::new(p)))
                } else {
                    push.await.map(Outcome::Pushed)
                }
            }
        };
        let outcome = outcome.map_err(|e| match e {
            pushdata_arrow::Error::Interrupted if args.dry_run => {
                CliError::Interrupted("the dry run was stopped; nothing was written")
            }
            pushdata_arrow::Error::Interrupted => {
                CliError::Interrupted("the push was stopped before its data was published")
            }
            e @ pushdata_arrow::Error::PublishOutcomeUnknown { source: None, .. } => {
                CliError::InterruptedAfterPublish(e)
            }
            e @ pushdata_arrow::Error::DatasetExists { .. } => CliError::DatasetExists(e),
            e => CliError::from(e),
        });
        progress.finish(outcome.is_ok());
        outcome
    })
    .await
}

/// A push that creates dataset `name` (`--folder`, `--description`, `--if-exists`).
fn new_dataset(client: &Client, name: &str, args: &PushArgs) -> Push<NewDataset> {
    let mut push =
        Push::create(client.clone(), name.to_string()).with_if_exists(args.if_exists.into());
    if let Some(folder) = &args.folder {
        push = push.with_folder(folder.clone());
    }
    if let Some(description) = &args.description {
        push = push.with_description(description.clone());
    }
    push
}

/// The push's tables and settings from the command line.
fn configure<D>(
    push: Push<D>,
    args: &PushArgs,
    inputs: &[InputFile],
    progress: &Progress,
) -> Push<D> {
    let mut push = push
        .with_policy(args.policy.into())
        .with_orientation(args.orientation.into())
        .with_model_options(model_options(&args.model))
        .with_workflow(if args.single_request {
            Workflow::SingleRequest
        } else {
            Workflow::MultiRequest
        });
    for input in inputs {
        push = push.with_input_table(input.table.clone(), input.source.clone());
    }
    if let Some(mb) = args.chunk_mb {
        push = push.with_chunk_bytes(usize::try_from(mb * 1024 * 1024).unwrap_or(usize::MAX));
    }
    if let Some(n) = args.concurrency {
        push = push.with_concurrency(usize::try_from(n).unwrap_or(1));
    }
    if let Some(mb) = args.max_buffered_mb {
        push =
            push.with_max_buffered_bytes(usize::try_from(mb * 1024 * 1024).unwrap_or(usize::MAX));
    }
    let sink = progress.clone();
    push.with_progress(move |event| sink.event(&event))
        .with_stop_signal(super::ctrl_c())
}

fn print_outcome(
    args: &PushArgs,
    outcome: &Outcome,
    inputs: &[InputFile],
    data_dir: Option<&Path>,
) -> Result<()> {
    match outcome {
        Outcome::Pushed(report) => print_report(args, report, data_dir),
        Outcome::Planned(plan) if args.json => dry_run::print_json(plan),
        Outcome::Planned(plan) => dry_run::print_text(plan, inputs),
    }
}

fn print_report(args: &PushArgs, report: &PushReport, data_dir: Option<&Path>) -> Result<()> {
    let summary = summary(report);
    if args.json {
        output::print_json(&summary)?;
        if let Some(dir) = data_dir {
            eprintln!("{}", output::embedded_note(dir, &summary.dataset_id));
        }
    } else {
        output::print_push(&summary)?;
        if let Some(dir) = data_dir {
            output::print_line(output::embedded_note(dir, &summary.dataset_id))?;
        }
    }
    Ok(())
}

fn summary(report: &PushReport) -> PushSummary {
    PushSummary {
        dataset_id: report.dataset_id.clone(),
        tables: report
            .tables
            .iter()
            .map(|t| TableSummary {
                name: t.name.clone(),
                rows: t.rows,
                rows_skipped: t.rows_skipped,
            })
            .collect(),
        chunks: report.chunks,
        bytes: report.bytes,
        seconds: output::seconds(report.elapsed),
    }
}

/// `dir` made absolute against the current directory, for the message saying where the
/// data went.
fn absolute(dir: &Path) -> Result<PathBuf> {
    std::path::absolute(dir).map_err(|source| CliError::Io {
        what: format!("resolving the data directory {}", dir.display()),
        source,
    })
}
