//! `pushdata veracity push INPUT`: one input (a data file, a directory of part files or a
//! glob) into a Veracity dataset as one ingest job (Create, or Upsert / Delete / Overwrite / Append on an existing dataset).

use std::future::IntoFuture;
use std::path::Path;

use pushdata_arrow::InputSource;
use pushdata_arrow::veracity::{Operation, VeracityPush, VeracityPushReport};
use serde::Serialize;

use super::connection::{Connection, DataDir};
use crate::args::VeracityPushArgs;
use crate::error::{CliError, Result};
use crate::inputs::input_options;
use crate::output;
use crate::progress::Progress;

/// The result of a push, as printed by `veracity push --json`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VeracityPushSummary {
    /// The dataset created or updated.
    pub(crate) dataset_id: String,
    /// The ingest job.
    pub(crate) job_id: String,
    /// The schema made for a created dataset (what later `--schema-id`s take).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) schema_id: Option<String>,
    /// The operation applied (`Create`, `Upsert`, ...).
    pub(crate) operation: String,
    /// Data rows uploaded.
    pub(crate) rows: u64,
    /// Bytes of the uploaded CSV file.
    pub(crate) bytes: u64,
    /// Appends the file was uploaded in.
    pub(crate) parts: u64,
    /// Seconds from the start to the job's end.
    pub(crate) seconds: f64,
    /// The job's final status.
    pub(crate) status: String,
}

/// Open the input, connect, push, print the result.
pub(crate) async fn run(args: VeracityPushArgs) -> Result<()> {
    let name = args.file.display().to_string();
    let input = InputSource::open(&name, &args.file, input_options(&args.input)?)?;
    if let Some(operation) = args.operation {
        check_keys_known(&args, operation.into())?;
    }
    let progress = progress(&args, &input);
    let connection = Connection::open(&args.connection, DataDir::Create).await?;
    let data_dir = connection.data_dir().map(Path::to_path_buf);
    let pushed = push(&connection, &args, input, &progress).await;
    progress.finish(pushed.is_ok());
    let report = connection.close(pushed).await?;
    print_report(&args, &report, data_dir.as_deref())
}

/// A bar on a terminal (rows from the Parquet footers, when known), unless `--json`;
/// nothing otherwise (the command's output is its one result line or JSON object).
fn progress(args: &VeracityPushArgs, input: &InputSource) -> Progress {
    if args.connection.json || !Progress::bar_possible() {
        return Progress::hidden();
    }
    Progress::new(input.num_rows().unwrap_or(0))
}

/// Run the push the arguments describe, showing its progress; Ctrl-C stops it (the push
/// then says which job it left unstarted, or which may still complete).
async fn push(
    connection: &Connection,
    args: &VeracityPushArgs,
    input: InputSource,
    progress: &Progress,
) -> Result<VeracityPushReport> {
    let client = connection.client.clone();
    let future = match (&args.create, &args.dataset_id, args.operation) {
        (Some(name), _, _) => {
            let mut push = VeracityPush::create(client, name.clone());
            if let Some(version) = &args.schema_version {
                push = push.with_schema_version(version.clone());
            }
            configure(push, args, input, connection, progress).into_future()
        }
        (None, Some(id), Some(operation)) => {
            let mut push = VeracityPush::into_dataset(client, id.clone(), operation.into());
            if let Some(schema_id) = &args.schema_id {
                push = push.with_schema_id(schema_id.clone());
            }
            configure(push, args, input, connection, progress).into_future()
        }
        _ => {
            return Err(CliError::Usage(
                "give --create NAME, or --dataset-id ID with --operation".into(),
            ));
        }
    };
    future.await.map_err(|e| {
        if e.is_stopped() {
            CliError::VeracityInterrupted(e)
        } else {
            CliError::from(e)
        }
    })
}

/// The input, keys, job wait, progress and stop signal of either kind of push.
fn configure<D>(
    mut push: VeracityPush<D>,
    args: &VeracityPushArgs,
    input: InputSource,
    connection: &Connection,
    progress: &Progress,
) -> VeracityPush<D> {
    for key in &args.keys {
        push = push.with_key(key.clone());
    }
    if let Some(mb) = args.part_mb {
        // At most MAX_PART_MB (the argument's range): the product fits.
        push = push.with_part_bytes(mb * 1024 * 1024);
    }
    if let Some(n) = args.appends_in_flight {
        push = push.with_appends_in_flight(n);
    }
    let sink = progress.clone();
    push.with_input(input)
        .with_job_wait(connection.job_wait())
        .with_progress(move |event| sink.veracity_event(&event))
        .with_stop_signal(crate::commands::ctrl_c())
}

/// Upsert and Delete match rows by key: without --schema-id the keys must come from --key.
fn check_keys_known(args: &VeracityPushArgs, operation: Operation) -> Result<()> {
    let needs_keys = matches!(operation, Operation::Upsert | Operation::Delete);
    if needs_keys && args.schema_id.is_none() && args.keys.is_empty() {
        return Err(CliError::Usage(format!(
            "--operation {} matches rows by key: give the dataset's --schema-id, or its key columns with --key",
            operation.as_str().to_lowercase()
        )));
    }
    Ok(())
}

fn summary(report: &VeracityPushReport) -> VeracityPushSummary {
    VeracityPushSummary {
        dataset_id: report.dataset_id.clone(),
        job_id: report.job_id.clone(),
        schema_id: report.schema_id.clone(),
        operation: report.operation.as_str().to_string(),
        rows: report.rows,
        bytes: report.bytes,
        parts: report.parts,
        seconds: report.seconds,
        status: report.status.as_str().to_string(),
    }
}

fn print_report(
    args: &VeracityPushArgs,
    report: &VeracityPushReport,
    data_dir: Option<&Path>,
) -> Result<()> {
    let s = summary(report);
    let schema_id = s.schema_id.as_deref().or(args.schema_id.as_deref());
    let note = data_dir.map(|dir| embedded_note(dir, &args.connection.workspace, schema_id, &s));
    if args.connection.json {
        output::print_json(&s)?;
        if let Some(note) = note {
            eprintln!("{note}");
        }
        return Ok(());
    }
    output::print_line(format!(
        "pushed {} row{} to dataset {} (job {}, {})",
        s.rows,
        if s.rows == 1 { "" } else { "s" },
        s.dataset_id,
        s.job_id,
        s.status
    ))?;
    if let Some(schema_id) = &s.schema_id {
        output::print_line(format!(
            "schema id {schema_id} (give it to --schema-id of later pushes and pulls)"
        ))?;
    }
    match note {
        Some(note) => output::print_line(note),
        None => Ok(()),
    }
}

/// Where the embedded server stored the dataset, and how to read it back.
fn embedded_note(
    dir: &Path,
    workspace: &str,
    schema_id: Option<&str>,
    s: &VeracityPushSummary,
) -> String {
    let schema = schema_id.unwrap_or("SCHEMA_ID");
    format!(
        "data stored by the embedded server in {} (dataset id {}); read it back with: \
         pushdata veracity pull {} --workspace {workspace} --schema-id {schema} -o FILE.parquet",
        dir.display(),
        s.dataset_id,
        s.dataset_id
    )
}
