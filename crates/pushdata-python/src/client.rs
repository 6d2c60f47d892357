//! A session on a Push Data API server: `pushdata.connect(url, ...)`, and the operations
//! run in it (push, pull, log out), each as a [`Job`].

use arrow::ffi_stream::RecordBatchStreamReader;
use arrow::pyarrow::PyArrowType;
use pushdata_arrow::Pull;
use pushdata_core::{Client as RustClient, Credentials, Secret};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};

use crate::convert::{push_plan, push_report, pyarrow_table};
use crate::errors::{arrow_error, core_error, internal};
use crate::job::{Finish, Job};
use crate::push::{Input, Outcome, PushOptions, start_push};

/// User name when none is given: the reference server's default user, as in the CLI.
pub(crate) const DEFAULT_USER: &str = "administrator";

/// A logged-in client with a project selected.
#[pyclass(module = "pushdata._native", frozen)]
pub(crate) struct Client {
    client: RustClient,
    url: String,
    user: String,
}

/// The error of an operation stopped by [`Job::stop`] (Python raises `KeyboardInterrupt`
/// or `CancelledError` instead; this is what `result()` says if asked anyway).
pub(crate) fn stopped(what: &'static str) -> Finish {
    Box::new(move |_py| Err(internal(format!("the {what} was stopped"))))
}

/// Log in to `url` as `user` and select `project` (default: the user's only project), in a
/// job whose result is a `Client`. A failed project selection logs out again.
#[pyfunction]
#[pyo3(signature = (url, user, password, project=None))]
pub(crate) fn connect(
    url: String,
    user: String,
    password: String,
    project: Option<String>,
) -> PyResult<Job> {
    let password = Secret::new(password);
    Job::spawn("connect", move |stop, _| async move {
        let login = login(&url, &user, password, project.as_deref());
        let result = tokio::select! {
            r = login => r,
            () = stop.stopped() => return stopped("connect"),
        };
        Box::new(move |py: Python<'_>| match result {
            Ok(client) => Ok(Py::new(py, Client { client, url, user })?.into_any()),
            Err(e) => Err(core_error(py, &e)),
        }) as Finish
    })
}

async fn login(
    url: &str,
    user: &str,
    password: Secret,
    project: Option<&str>,
) -> pushdata_core::Result<RustClient> {
    let client = RustClient::builder(url).build()?;
    client.login(Credentials::standard(user, password)).await?;
    let selected = match project {
        Some(project) => client.select_project(project).await,
        None => client.select_only_project().await,
    };
    if let Err(e) = selected {
        if let Err(logout) = client.logout().await {
            tracing::warn!("logging out after a failed project selection failed: {logout}");
        }
        return Err(e);
    }
    Ok(client)
}

#[pymethods]
impl Client {
    /// The server's base URL.
    #[getter]
    fn url(&self) -> &str {
        &self.url
    }

    /// The user logged in.
    #[getter]
    fn user(&self) -> &str {
        &self.user
    }

    /// The id of the project selected.
    #[getter]
    fn project_id(&self) -> Option<String> {
        self.client.project_id()
    }

    /// Push `tables` (pairs of table name and a Parquet path or an Arrow stream) with
    /// `options` (a dict, see `PushOptions`), in a job whose result is the report as a dict.
    fn push(
        &self,
        py: Python<'_>,
        tables: Vec<(String, Bound<'_, PyAny>)>,
        options: PushOptions,
    ) -> PyResult<Job> {
        let inputs = tables
            .into_iter()
            .map(|(name, obj)| Ok((name, input(&obj)?)))
            .collect::<PyResult<Vec<_>>>()?;
        let push = start_push(py, self.client.clone(), inputs, options)?;
        Job::spawn("push", move |stop, events| async move {
            let result = push(stop, events).await;
            Box::new(move |py: Python<'_>| match result {
                Ok(Outcome::Pushed(report)) => push_report(py, &report),
                Ok(Outcome::Planned(plan)) => push_plan(py, &plan),
                Err(e) => Err(arrow_error(py, &e)),
            }) as Finish
        })
    }

    /// Read dataset `dataset_id` back, in a job whose result is a `pyarrow.Table`: through
    /// the Cube API (the `attributes` and `metrics` given, or all), or with `table` one
    /// table's stored rows exactly (an extension of the reference server).
    #[pyo3(signature = (dataset_id, table=None, attributes=Vec::new(), metrics=Vec::new(), page_size=None))]
    fn pull(
        &self,
        dataset_id: String,
        table: Option<String>,
        attributes: Vec<String>,
        metrics: Vec<String>,
        page_size: Option<u64>,
    ) -> PyResult<Job> {
        let mut pull = match table {
            Some(t) => Pull::table(self.client.clone(), dataset_id, t),
            None => Pull::new(self.client.clone(), dataset_id),
        };
        for a in attributes {
            pull = pull.with_attribute(a);
        }
        for m in metrics {
            pull = pull.with_metric(m);
        }
        if let Some(n) = page_size {
            pull = pull.with_page_size(n);
        }
        Job::spawn("pull", move |stop, _| async move {
            let result = tokio::select! {
                r = pull.collect() => r,
                () = stop.stopped() => return stopped("pull"),
            };
            Box::new(move |py: Python<'_>| match result {
                Ok((schema, batches)) => pyarrow_table(py, schema, batches),
                Err(e) => Err(arrow_error(py, &e)),
            }) as Finish
        })
    }

    /// The tables of dataset `dataset_id`, in a job whose result is a list of dicts
    /// (`id`, `name`, `rows`: the published row count).
    fn dataset_tables(&self, dataset_id: String) -> PyResult<Job> {
        let client = self.client.clone();
        Job::spawn("dataset tables", move |stop, _| async move {
            let result = tokio::select! {
                r = client.dataset_tables(&dataset_id) => r,
                () = stop.stopped() => return stopped("dataset tables"),
            };
            Box::new(move |py: Python<'_>| match result {
                Ok(tables) => {
                    let list = PyList::empty(py);
                    for t in tables {
                        let d = PyDict::new(py);
                        d.set_item("id", t.id)?;
                        d.set_item("name", t.name)?;
                        d.set_item("rows", t.row_count)?;
                        list.append(d)?;
                    }
                    Ok(list.into_any().unbind())
                }
                Err(e) => Err(core_error(py, &e)),
            }) as Finish
        })
    }

    /// Log out, in a job whose result is `None`.
    fn close(&self) -> PyResult<Job> {
        let client = self.client.clone();
        Job::spawn("log out", move |_, _| async move {
            let result = client.logout().await;
            Box::new(move |py: Python<'_>| match result {
                Ok(()) => Ok(py.None()),
                Err(e) => Err(core_error(py, &e)),
            }) as Finish
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "<pushdata.Client {} as {:?}, project {}>",
            self.url,
            self.user,
            self.client.project_id().unwrap_or_default()
        )
    }
}

/// A table's data as given by Python: a path (`str` or `os.PathLike`) is a Parquet file;
/// anything else must export an Arrow stream (`__arrow_c_stream__`), imported zero-copy.
pub(crate) fn input(obj: &Bound<'_, PyAny>) -> PyResult<Input> {
    if obj.is_instance_of::<PyString>() || obj.hasattr("__fspath__")? {
        return Ok(Input::Path(obj.extract()?));
    }
    let PyArrowType(reader) = obj.extract::<PyArrowType<RecordBatchStreamReader>>()?;
    Ok(Input::Stream(reader))
}
