//! A push from Python: the options (the CLI's, as a dict), checked before anything starts,
//! and the `pushdata_arrow::Push` builder configured with them.

use std::collections::HashMap;
use std::path::PathBuf;
use std::pin::Pin;

use arrow::array::RecordBatchReader;
use arrow::ffi_stream::RecordBatchStreamReader;
use pushdata_arrow::{
    IfExists, InputOptions, InputSource, ModelOptions, Push, PushPlan, PushReport, StorageOptions,
    Workflow,
};
use pushdata_core::Client;
use pushdata_core::wire::{Orientation, UpdatePolicy};
use pyo3::prelude::*;

use crate::errors::{arrow_error, config_error};
use crate::job::{EventSink, StopSignal};

/// A table's data.
pub(crate) enum Input {
    /// A file (Parquet, Arrow IPC, CSV, NDJSON), a directory of part files or a glob, read
    /// as one table through [`InputSource`], batch by batch.
    Path(PathBuf),
    /// An Arrow C stream (pyarrow, polars, DuckDB, ...), read batch by batch as the push
    /// consumes it (never collected).
    Stream(RecordBatchStreamReader),
}

/// A table's data, opened: its schema is known.
pub(crate) enum Opened {
    /// A path's files, listed and their schemas read.
    Source(InputSource),
    /// An Arrow C stream.
    Stream(RecordBatchStreamReader),
}

impl Input {
    /// Open the data of table `table`: for a path, list its files and read their schemas
    /// (footers, headers; off the GIL).
    /// `storage` configures the object store of a URL path.
    pub(crate) fn open(
        self,
        py: Python<'_>,
        table: &str,
        storage: &StorageOptions,
    ) -> PyResult<Opened> {
        let options = InputOptions::default().with_storage_options(storage.clone());
        match self {
            Input::Path(path) => py
                .detach(|| InputSource::open(table, &path, options))
                .map(Opened::Source)
                .map_err(|e| arrow_error(py, &e)),
            Input::Stream(reader) => Ok(Opened::Stream(reader)),
        }
    }
}

/// The options of `Client.push`, from the dict the Python layer passes (every key present;
/// `None` for the library's default).
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub(crate) struct PushOptions {
    /// Name of the dataset to create (`None` with `dataset_id`).
    dataset: Option<String>,
    /// The existing dataset to push into.
    dataset_id: Option<String>,
    /// Columns made attributes (`COL` or `TABLE.COL`).
    attributes: Vec<String>,
    /// Columns made metrics.
    metrics: Vec<String>,
    /// Attribute forms: `(attribute, column, category)`.
    forms: Vec<(String, String, String)>,
    /// Update policy of every table without its own.
    policy: Option<String>,
    /// Update policy per table.
    table_policies: HashMap<String, String>,
    /// `row` or `column`.
    orientation: Option<String>,
    /// Target chunk size in MiB.
    chunk_mb: Option<f64>,
    /// Chunk uploads in flight.
    concurrency: Option<usize>,
    /// Most encoded chunk data in memory, in MiB.
    max_buffered_mb: Option<f64>,
    /// One request per table instead of the upload session workflow.
    single_request: bool,
    /// Options of the object store of URL paths (object_store configuration keys).
    storage_options: HashMap<String, String>,
    /// Whether progress events are collected for Python.
    progress: bool,
    /// The folder a new dataset is created in (`None`: My Reports).
    folder: Option<String>,
    /// A new dataset's description.
    description: Option<String>,
    /// `fail` (default) or `update`: what a new dataset's name taken in its folder does.
    if_exists: Option<String>,
    /// Make every check and return the plan; write nothing.
    dry_run: bool,
}

/// The model options from the CLI's `--attribute` / `--metric` and the forms.
pub(crate) fn model_options(
    attributes: &[String],
    metrics: &[String],
    forms: &[(String, String, String)],
) -> ModelOptions {
    let opts = attributes
        .iter()
        .fold(ModelOptions::default(), |o, c| o.with_attribute(c.clone()));
    let opts = metrics.iter().fold(opts, |o, c| o.with_metric(c.clone()));
    forms.iter().fold(opts, |o, (attribute, column, category)| {
        o.with_form(attribute.clone(), column.clone(), category.clone())
    })
}

/// The settings of a push, checked.
struct Settings {
    model: ModelOptions,
    policy: UpdatePolicy,
    table_policies: Vec<(String, UpdatePolicy)>,
    orientation: Orientation,
    chunk_bytes: Option<usize>,
    concurrency: Option<usize>,
    max_buffered_bytes: Option<usize>,
    workflow: Workflow,
}

/// What a push did, or would do (`dry_run`).
pub(crate) enum Outcome {
    /// The push ran.
    Pushed(PushReport),
    /// The dry run's plan.
    Planned(Box<PushPlan>),
}

/// A running push.
pub(crate) type BoxedPush =
    Pin<Box<dyn Future<Output = pushdata_arrow::Result<Outcome>> + Send + 'static>>;

/// The push, ready to run once given its stop signal and event sink.
pub(crate) type PushRun = Box<dyn FnOnce(StopSignal, EventSink) -> BoxedPush + Send>;

/// Check `options` and prepare the push of `inputs` through `client`.
pub(crate) fn start_push(
    py: Python<'_>,
    client: Client,
    inputs: Vec<(String, Input)>,
    options: PushOptions,
) -> PyResult<PushRun> {
    let settings = settings(py, &options)?;
    let progress = options.progress;
    let dry_run = options.dry_run;
    let storage: StorageOptions = options.storage_options.clone().into_iter().collect();
    let inputs = inputs
        .into_iter()
        .map(|(name, input)| {
            let opened = input.open(py, &name, &storage)?;
            Ok((name, opened))
        })
        .collect::<PyResult<Vec<_>>>()?;
    let target = target(py, options)?;
    Ok(Box::new(move |stop, events| {
        let events = progress.then_some(events);
        match target {
            Target::New {
                name,
                folder,
                description,
                if_exists,
            } => {
                let mut push = Push::create(client, name).with_if_exists(if_exists);
                if let Some(folder) = folder {
                    push = push.with_folder(folder);
                }
                if let Some(description) = description {
                    push = push.with_description(description);
                }
                let push = configure(push, settings, inputs, events, stop);
                if dry_run {
                    Box::pin(async move { Ok(Outcome::Planned(Box::new(push.plan().await?))) })
                } else {
                    Box::pin(async move { Ok(Outcome::Pushed(push.await?)) })
                }
            }
            Target::Existing(id) => {
                let push = configure(
                    Push::into_dataset(client, id),
                    settings,
                    inputs,
                    events,
                    stop,
                );
                if dry_run {
                    Box::pin(async move { Ok(Outcome::Planned(Box::new(push.plan().await?))) })
                } else {
                    Box::pin(async move { Ok(Outcome::Pushed(push.await?)) })
                }
            }
        }
    }))
}

/// The dataset of `options`: a new one (with its folder, description and what a taken
/// name does) or an existing one, checked.
fn target(py: Python<'_>, options: PushOptions) -> PyResult<Target> {
    let if_exists = match options.if_exists.as_deref() {
        None | Some("fail") => IfExists::Fail,
        Some("update") => IfExists::Update,
        Some(other) => {
            return Err(config_error(
                py,
                format!("if_exists must be \"fail\" or \"update\", not {other:?}"),
            ));
        }
    };
    match (options.dataset_id, options.dataset) {
        (Some(id), None) => {
            if options.folder.is_some()
                || options.description.is_some()
                || options.if_exists.is_some()
            {
                return Err(config_error(
                    py,
                    "folder, description and if_exists are for a new dataset (dataset=), not \
                     with dataset_id"
                        .into(),
                ));
            }
            Ok(Target::Existing(id))
        }
        (None, Some(name)) => Ok(Target::New {
            name,
            folder: options.folder,
            description: options.description,
            if_exists,
        }),
        (Some(_), Some(_)) => Err(config_error(
            py,
            "give dataset (a new dataset's name) or dataset_id (an existing dataset), not both"
                .into(),
        )),
        (None, None) => Err(config_error(
            py,
            "give dataset (a new dataset's name) or dataset_id (an existing dataset)".into(),
        )),
    }
}

enum Target {
    New {
        name: String,
        folder: Option<String>,
        description: Option<String>,
        if_exists: IfExists,
    },
    Existing(String),
}

fn settings(py: Python<'_>, o: &PushOptions) -> PyResult<Settings> {
    let policy = |p: &str| {
        p.parse::<UpdatePolicy>()
            .map_err(|e| config_error(py, format!("policy: {e}")))
    };
    Ok(Settings {
        model: model_options(&o.attributes, &o.metrics, &o.forms),
        policy: o
            .policy
            .as_deref()
            .map(policy)
            .transpose()?
            .unwrap_or(UpdatePolicy::Replace),
        table_policies: o
            .table_policies
            .iter()
            .map(|(t, p)| Ok((t.clone(), policy(p)?)))
            .collect::<PyResult<_>>()?,
        orientation: o
            .orientation
            .as_deref()
            .map(|s| {
                s.parse::<Orientation>()
                    .map_err(|e| config_error(py, format!("orientation: {e}")))
            })
            .transpose()?
            .unwrap_or(Orientation::Row),
        chunk_bytes: mebibytes(py, "chunk_mb", o.chunk_mb)?,
        concurrency: match o.concurrency {
            Some(0) => return Err(config_error(py, "concurrency must be at least 1".into())),
            n => n,
        },
        max_buffered_bytes: mebibytes(py, "max_buffered_mb", o.max_buffered_mb)?,
        workflow: if o.single_request {
            Workflow::SingleRequest
        } else {
            Workflow::MultiRequest
        },
    })
}

/// `mb` MiB in bytes; it must be a positive number.
fn mebibytes(py: Python<'_>, what: &str, mb: Option<f64>) -> PyResult<Option<usize>> {
    match mb {
        None => Ok(None),
        Some(mb) if mb.is_finite() && mb > 0.0 => {
            // Saturating float-to-int conversion: a huge value means "no limit".
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let bytes = (mb * 1024.0 * 1024.0) as usize;
            Ok(Some(bytes))
        }
        Some(mb) => Err(config_error(
            py,
            format!("{what} must be a positive number of MiB, not {mb}"),
        )),
    }
}

/// The push's tables and settings (what the CLI's `configure` does for files).
fn configure<D>(
    push: Push<D>,
    s: Settings,
    inputs: Vec<(String, Opened)>,
    events: Option<EventSink>,
    stop: StopSignal,
) -> Push<D> {
    let mut push = push
        .with_policy(s.policy)
        .with_orientation(s.orientation)
        .with_model_options(s.model)
        .with_workflow(s.workflow)
        .with_stop_signal(stop.stopped());
    for (table, policy) in s.table_policies {
        push = push.with_table_policy(table, policy);
    }
    for (name, input) in inputs {
        push = match input {
            Opened::Source(source) => push.with_input_table(name, source),
            Opened::Stream(reader) => push.with_batches_table(name, reader.schema(), reader),
        };
    }
    if let Some(bytes) = s.chunk_bytes {
        push = push.with_chunk_bytes(bytes);
    }
    if let Some(n) = s.concurrency {
        push = push.with_concurrency(n);
    }
    if let Some(bytes) = s.max_buffered_bytes {
        push = push.with_max_buffered_bytes(bytes);
    }
    match events {
        Some(sink) => push.with_progress(move |e| sink.send(e)),
        None => push,
    }
}
