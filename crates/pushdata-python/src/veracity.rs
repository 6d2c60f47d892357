//! Veracity Data Workbench from Python: `pushdata.veracity.connect(...)`, a push (one table
//! as one ingest job) and a pull (a dataset typed by its schema), each as a [`Job`].

use std::collections::HashMap;
use std::future::IntoFuture;
use std::time::Duration;

use arrow::array::RecordBatchReader;
use pushdata_arrow::StorageOptions;
use pushdata_arrow::veracity::{
    MAX_APPENDS_IN_FLIGHT, MAX_PART_MB, Operation, VeracityPull, VeracityPush, VeracityPushReport,
};
use pushdata_core::BackoffConfig;
use pushdata_core::veracity::{Client, JobWait, gateway_url};
use pushdata_server::{
    DEFAULT_VERACITY_CLIENT_ID, DEFAULT_VERACITY_CLIENT_SECRET, DEFAULT_VERACITY_SUBSCRIPTION_KEY,
};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::client::{input, stopped};
use crate::convert::pyarrow_table;
use crate::errors::{config_error, transfer_error, veracity_client_error};
use crate::job::{Finish, Job};
use crate::push::Opened;

/// A client of one Veracity workspace.
#[pyclass(module = "pushdata._native", frozen)]
pub(crate) struct VeracityClient {
    client: Client,
    workspace: String,
    wait: JobWait,
}

/// Where and as whom to connect, from the dict the Python layer passes.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub(crate) struct VeracityConnection {
    /// The workspace id.
    workspace: String,
    /// A service root such as `https://api.veracity.com`, or a gateway URL.
    url: String,
    /// The service account's client id.
    client_id: String,
    /// Its secret.
    client_secret: String,
    /// The gateway's subscription key.
    subscription_key: String,
    /// The OAuth2 token URL (`None`: Veracity's Azure AD one).
    token_url: Option<String>,
    /// Poll jobs every 20 ms at first (the reference server's jobs end at once), as the CLI
    /// does against its embedded server.
    quick_poll: bool,
}

/// A client of the Veracity workspace `c` names (no call is made until the first push or
/// pull, which fetches the token).
#[pyfunction]
pub(crate) fn veracity_connect(py: Python<'_>, c: VeracityConnection) -> PyResult<VeracityClient> {
    if c.workspace.trim().is_empty() {
        return Err(config_error(
            py,
            "the workspace id must not be empty".into(),
        ));
    }
    let mut builder = Client::builder(c.workspace.clone())
        .with_base_url(gateway_url(&c.url))
        .with_credentials(c.client_id, c.client_secret)
        .with_subscription_key(c.subscription_key);
    if let Some(token_url) = c.token_url {
        builder = builder.with_token_url(token_url);
    }
    let client = builder.build().map_err(|e| veracity_client_error(py, &e))?;
    let wait = if c.quick_poll {
        JobWait::default().with_poll(
            BackoffConfig::default()
                .with_init_backoff(Duration::from_millis(20))
                .with_max_backoff(Duration::from_millis(500)),
        )
    } else {
        JobWait::default()
    };
    Ok(VeracityClient {
        client,
        workspace: c.workspace,
        wait,
    })
}

/// The options of `veracity.Client.push`, from the dict the Python layer passes.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub(crate) struct VeracityPushOptions {
    /// Name of the dataset to create.
    dataset: Option<String>,
    /// The existing dataset to apply `operation` to.
    dataset_id: Option<String>,
    /// `upsert`, `delete`, `overwrite` or `append` (with `dataset_id`).
    operation: Option<String>,
    /// Key columns.
    keys: Vec<String>,
    /// The existing dataset's schema id (checks before the upload).
    schema_id: Option<String>,
    /// An existing schema version to create the dataset with.
    schema_version: Option<String>,
    /// The new dataset's description.
    description: Option<String>,
    /// Options of the object store of a URL path (object_store configuration keys).
    storage_options: HashMap<String, String>,
    /// MiB of CSV per append (checked by the Python layer: 1 to `MAX_PART_MB`).
    part_mb: Option<usize>,
    /// Appends sent before the first is answered (checked by the Python layer: 1 to `MAX_APPENDS_IN_FLIGHT`).
    appends_in_flight: Option<usize>,
}

/// How the push's CSV is cut into appends and sent.
struct Appends {
    part_mb: Option<usize>,
    in_flight: Option<usize>,
}

fn operation(py: Python<'_>, name: &str) -> PyResult<Operation> {
    Ok(match name.trim().to_ascii_lowercase().as_str() {
        "upsert" => Operation::Upsert,
        "delete" => Operation::Delete,
        "overwrite" => Operation::Overwrite,
        "append" => Operation::Append,
        _ => {
            return Err(config_error(
                py,
                format!(
                    "unknown operation {name:?}; expected one of upsert, delete, overwrite, append"
                ),
            ));
        }
    })
}

/// The push's input and keys (both kinds of push).
fn with_input<D>(
    mut push: VeracityPush<D>,
    name: String,
    data: Opened,
    keys: Vec<String>,
    appends: Appends,
    wait: JobWait,
) -> VeracityPush<D> {
    if let Some(mb) = appends.part_mb {
        push = push.with_part_bytes(mb.saturating_mul(1024 * 1024));
    }
    if let Some(n) = appends.in_flight {
        push = push.with_appends_in_flight(n);
    }
    push = match data {
        Opened::Source(source) => push.with_input(source),
        Opened::Stream(reader) => push
            .with_batches(reader.schema(), reader)
            .with_table_name(name),
    };
    for key in keys {
        push = push.with_key(key);
    }
    push.with_job_wait(wait)
}

#[pymethods]
impl VeracityClient {
    /// The workspace id.
    #[getter]
    fn workspace(&self) -> &str {
        &self.workspace
    }

    /// Push one table (`name`: how errors name it; `data`: a Parquet path or an Arrow
    /// stream) as one ingest job, in a job whose result is the report as a dict.
    fn push(
        &self,
        py: Python<'_>,
        name: String,
        data: Bound<'_, PyAny>,
        options: VeracityPushOptions,
    ) -> PyResult<Job> {
        let storage: StorageOptions = options.storage_options.clone().into_iter().collect();
        let data = input(&data)?.open(py, &name, &storage)?;
        let o = options;
        let client = self.client.clone();
        let wait = self.wait.clone();
        let appends = Appends {
            part_mb: o.part_mb,
            in_flight: o.appends_in_flight,
        };
        let future = match (o.dataset, o.dataset_id, o.operation) {
            (Some(dataset), None, None) => {
                let mut push = VeracityPush::create(client, dataset);
                if let Some(version) = o.schema_version {
                    push = push.with_schema_version(version);
                }
                if let Some(description) = o.description {
                    push = push.with_description(description);
                }
                with_input(push, name, data, o.keys, appends, wait).into_future()
            }
            (None, Some(id), Some(op)) => {
                let mut push = VeracityPush::into_dataset(client, id, operation(py, &op)?);
                if let Some(schema_id) = o.schema_id {
                    push = push.with_schema_id(schema_id);
                }
                with_input(push, name, data, o.keys, appends, wait).into_future()
            }
            _ => {
                return Err(config_error(
                    py,
                    "give dataset= (a new dataset's name), or dataset_id= with operation=".into(),
                ));
            }
        };
        Job::spawn("Veracity push", move |stop, _| async move {
            let result = tokio::select! {
                r = future => r,
                () = stop.stopped() => return stopped("Veracity push"),
            };
            Box::new(move |py: Python<'_>| match result {
                Ok(report) => push_report(py, &report),
                Err(e) => Err(transfer_error(py, &e)),
            }) as Finish
        })
    }

    /// Read dataset `dataset_id`, typed by schema `schema_id`'s current version, page by
    /// page, in a job whose result is a `pyarrow.Table`.
    #[pyo3(signature = (dataset_id, schema_id, page_size=None))]
    fn pull(&self, dataset_id: String, schema_id: String, page_size: Option<u64>) -> PyResult<Job> {
        let mut pull = VeracityPull::new(self.client.clone(), dataset_id).with_schema_id(schema_id);
        if let Some(n) = page_size {
            pull = pull.with_page_size(n);
        }
        Job::spawn("Veracity pull", move |stop, _| async move {
            let result = tokio::select! {
                r = pull.collect() => r,
                () = stop.stopped() => return stopped("Veracity pull"),
            };
            Box::new(move |py: Python<'_>| match result {
                Ok((schema, batches)) => pyarrow_table(py, schema, batches),
                Err(e) => Err(transfer_error(py, &e)),
            }) as Finish
        })
    }

    fn __repr__(&self) -> String {
        format!("<pushdata.veracity.Client workspace {}>", self.workspace)
    }
}

fn push_report(py: Python<'_>, r: &VeracityPushReport) -> PyResult<Py<PyAny>> {
    let d = PyDict::new(py);
    d.set_item("dataset_id", &r.dataset_id)?;
    d.set_item("job_id", &r.job_id)?;
    d.set_item("schema_id", &r.schema_id)?;
    d.set_item("schema_version_id", &r.schema_version_id)?;
    d.set_item("operation", r.operation.as_str())?;
    d.set_item("rows", r.rows)?;
    d.set_item("bytes", r.bytes)?;
    d.set_item("parts", r.parts)?;
    d.set_item("seconds", r.seconds)?;
    d.set_item("status", r.status.as_str())?;
    Ok(d.into_any().unbind())
}

/// Register the Veracity classes, functions and the reference server's defaults.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<VeracityClient>()?;
    m.add_function(wrap_pyfunction!(veracity_connect, m)?)?;
    m.add("DEFAULT_VERACITY_CLIENT_ID", DEFAULT_VERACITY_CLIENT_ID)?;
    m.add(
        "DEFAULT_VERACITY_CLIENT_SECRET",
        DEFAULT_VERACITY_CLIENT_SECRET,
    )?;
    m.add(
        "DEFAULT_VERACITY_SUBSCRIPTION_KEY",
        DEFAULT_VERACITY_SUBSCRIPTION_KEY,
    )?;
    m.add("VERACITY_MAX_PART_MB", MAX_PART_MB)?;
    m.add("VERACITY_MAX_APPENDS_IN_FLIGHT", MAX_APPENDS_IN_FLIGHT)?;
    Ok(())
}
