//! Rust errors as Python exceptions: the class is chosen by the error's variant (never by
//! its text), the message is the error's own (as the CLI prints it), and what the variant
//! knows (HTTP status, server code, ticket id, table, column, row, ...) becomes attributes.
//!
//! `PushdataError` is defined here; its subclasses live in `pushdata/_errors.py`, looked up
//! by name when an error is raised.

use pushdata_arrow::Error as ArrowError;
use pushdata_arrow::veracity::{TransferError, VeracityError};
use pushdata_core::Error as CoreError;
use pushdata_core::veracity::Error as VeracityClientError;
use pushdata_server::ServerError;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(
    _native,
    PushdataError,
    PyException,
    "The base class of every error pushdata raises."
);

/// One attribute value of an exception.
enum Value {
    Str(String),
    Int(u64),
    List(Vec<String>),
}

/// An exception to raise: its class (a name in `pushdata._errors`) and attributes.
struct Raise {
    class: &'static str,
    attrs: Vec<(&'static str, Value)>,
}

impl Raise {
    fn new(class: &'static str) -> Self {
        Raise {
            class,
            attrs: Vec::new(),
        }
    }

    fn str(mut self, name: &'static str, value: Option<impl Into<String>>) -> Self {
        if let Some(v) = value {
            self.attrs.push((name, Value::Str(v.into())));
        }
        self
    }

    fn int(mut self, name: &'static str, value: Option<u64>) -> Self {
        if let Some(v) = value {
            self.attrs.push((name, Value::Int(v)));
        }
        self
    }

    fn list(mut self, name: &'static str, value: Vec<String>) -> Self {
        self.attrs.push((name, Value::List(value)));
        self
    }

    /// The exception, with `message`; if the class cannot be made (the Python package is
    /// damaged), a `PushdataError` with the same message.
    fn into_err(self, py: Python<'_>, message: String) -> PyErr {
        match self.build(py, &message) {
            Ok(err) => err,
            Err(_) => PushdataError::new_err(message),
        }
    }

    fn build(self, py: Python<'_>, message: &str) -> PyResult<PyErr> {
        let class = py.import("pushdata._errors")?.getattr(self.class)?;
        let exc = class.call1((message,))?;
        for (name, value) in self.attrs {
            match value {
                Value::Str(s) => exc.setattr(name, s)?,
                Value::Int(i) => exc.setattr(name, i)?,
                Value::List(l) => exc.setattr(name, l)?,
            }
        }
        Ok(PyErr::from_value(exc))
    }
}

/// An error of pushdata itself (an invariant that does not hold).
pub(crate) fn internal(message: String) -> PyErr {
    PushdataError::new_err(message)
}

/// A `ConfigError`: an option or argument that cannot be used.
pub(crate) fn config_error(py: Python<'_>, message: String) -> PyErr {
    Raise::new("ConfigError").into_err(py, message)
}

/// An error of the Push Data API client (log in, projects, log out).
pub(crate) fn core_error(py: Python<'_>, e: &CoreError) -> PyErr {
    core_raise(e).into_err(py, e.to_string())
}

fn core_raise(e: &CoreError) -> Raise {
    let class = match e {
        CoreError::Server { status: 401, .. } => "AuthenticationError",
        CoreError::Server { .. }
        | CoreError::Decode { .. }
        | CoreError::MissingAuthToken { .. } => "ApiError",
        CoreError::Http { .. } | CoreError::Timeout { .. } => "ConnectionError",
        CoreError::PublishFailed { .. }
        | CoreError::PublishUnexpectedStatus { .. }
        | CoreError::PublishTimeout { .. } => "PublishError",
        CoreError::Config { .. } | CoreError::InvalidInput { .. } => "ConfigError",
        CoreError::UnknownProject { .. } | CoreError::ProjectNotChosen { .. } => "ProjectError",
        CoreError::NotLoggedIn | CoreError::NoProjectSelected { .. } => "ClosedError",
        CoreError::Veracity(v) => return veracity_client_raise(v),
        _ => "PushdataError",
    };
    let mut raise = Raise::new(class)
        .int("status", e.status().map(u64::from))
        .str("code", e.code())
        .str("ticket_id", e.ticket_id())
        .str("endpoint", e.endpoint().map(ToString::to_string));
    match e {
        CoreError::UnknownProject { available, .. } | CoreError::ProjectNotChosen { available } => {
            raise = raise.list("available", available.clone());
        }
        CoreError::PublishFailed {
            dataset_id,
            session_id,
            ..
        }
        | CoreError::PublishUnexpectedStatus {
            dataset_id,
            session_id,
            ..
        }
        | CoreError::PublishTimeout {
            dataset_id,
            session_id,
            ..
        } => {
            raise = raise
                .str("dataset_id", Some(dataset_id.as_str()))
                .str("session_id", Some(session_id.as_str()));
        }
        _ => {}
    }
    raise
}

/// An error of a push or pull.
pub(crate) fn arrow_error(py: Python<'_>, e: &ArrowError) -> PyErr {
    arrow_raise(e).into_err(py, e.to_string())
}

fn arrow_raise(e: &ArrowError) -> Raise {
    match e {
        ArrowError::UnsupportedType { table, column, .. } => Raise::new("ModelError")
            .str("table", Some(table.as_str()))
            .str("column", Some(column.as_str())),
        ArrowError::InvalidName { .. } | ArrowError::Model(_) => Raise::new("ModelError"),
        ArrowError::Value {
            table, column, row, ..
        }
        | ArrowError::Cell {
            table, column, row, ..
        } => Raise::new("DataError")
            .str("table", Some(table.as_str()))
            .str("column", Some(column.as_str()))
            .int("row", Some(*row)),
        ArrowError::Cast { table, column, .. } => Raise::new("DataError")
            .str("table", Some(table.as_str()))
            .str("column", Some(column.as_str())),
        ArrowError::SchemaMismatch { table, .. } | ArrowError::Arrow { table, .. } => {
            Raise::new("DataError").str("table", Some(table.as_str()))
        }
        ArrowError::Parquet { table, path, .. }
        | ArrowError::Io { table, path, .. }
        | ArrowError::FileChanged { table, path } => Raise::new("DataError")
            .str("table", Some(table.as_str()))
            .str("path", Some(path.display().to_string())),
        ArrowError::Config(_) => Raise::new("ConfigError"),
        ArrowError::Input { table, source } => Raise::new("DataError")
            .str("table", Some(table.as_str()))
            .str("path", source.path().map(|p| p.display().to_string())),
        ArrowError::DefinitionDrift {
            dataset_id,
            differences,
        } => Raise::new("DefinitionDriftError")
            .str("dataset_id", Some(dataset_id.as_str()))
            .list(
                "differences",
                differences.iter().map(ToString::to_string).collect(),
            ),
        ArrowError::DatasetExists { name, existing, .. }
        | ArrowError::DatasetNameAmbiguous { name, existing, .. } => {
            Raise::new("DatasetExistsError")
                .str("name", Some(name.as_str()))
                .list(
                    "existing_ids",
                    existing.iter().map(|d| d.id.clone()).collect(),
                )
        }
        ArrowError::Chunk {
            table,
            chunk,
            source,
            ..
        } => core_raise(source)
            .str("table", Some(table.as_str()))
            .int("chunk", Some(*chunk)),
        ArrowError::Api { step, source }
        | ArrowError::NoTableRowsExtension { step, source, .. } => {
            core_raise(source).str("step", Some(step.as_str()))
        }
        ArrowError::TableRowsPage { step, .. } => {
            Raise::new("ApiError").str("step", Some(step.as_str()))
        }
        ArrowError::PublishOutcomeUnknown {
            dataset_id,
            session_id,
            ..
        } => Raise::new("PublishOutcomeUnknownError")
            .str("dataset_id", dataset_id.as_deref())
            .str("session_id", session_id.as_deref()),
        _ => Raise::new("PushdataError"),
    }
}

/// An error of the reference server (starting, stopping).
pub(crate) fn server_error(py: Python<'_>, e: &ServerError) -> PyErr {
    let raise = match e {
        ServerError::Config(_) => Raise::new("ConfigError"),
        ServerError::DataDirLocked { dir, .. } => {
            Raise::new("ServerError").str("path", Some(dir.display().to_string()))
        }
        _ => Raise::new("ServerError"),
    };
    raise.into_err(py, e.to_string())
}

/// An error of a Veracity push or pull.
pub(crate) fn transfer_error(py: Python<'_>, e: &TransferError) -> PyErr {
    let raise = match e {
        TransferError::Check { table, source } => {
            veracity_check_raise(source).str("table", Some(table.as_str()))
        }
        TransferError::Source { source, .. } => arrow_raise(source),
        TransferError::Service {
            table,
            step,
            source,
        } => veracity_client_raise(source)
            .str("table", Some(table.as_str()))
            .str("step", Some(*step)),
        TransferError::UnknownKey { table, column } => Raise::new("ModelError")
            .str("table", Some(table.as_str()))
            .str("column", Some(column.as_str())),
        TransferError::Decode { table, .. } => {
            Raise::new("DataError").str("table", Some(table.as_str()))
        }
        TransferError::Parquet { table, path, .. } => Raise::new("DataError")
            .str("table", Some(table.as_str()))
            .str("path", Some(path.display().to_string())),
        TransferError::Config(_) => Raise::new("ConfigError"),
        TransferError::NoDatasetId { table, job_id } => Raise::new("JobError")
            .str("table", Some(table.as_str()))
            .str("job_id", Some(job_id.as_str())),
        TransferError::NothingApplied { .. }
        | TransferError::Stopped { .. }
        | TransferError::StoppedAfterStart { .. } => {
            Raise::new("JobError").str("job_id", e.job_id())
        }
        _ => Raise::new("PushdataError"),
    };
    raise.into_err(py, e.to_string())
}

/// An error of the Veracity client (token, gateway, Data Lake, jobs).
pub(crate) fn veracity_client_error(py: Python<'_>, e: &VeracityClientError) -> PyErr {
    veracity_client_raise(e).into_err(py, e.to_string())
}

fn veracity_client_raise(e: &VeracityClientError) -> Raise {
    let class = match e {
        VeracityClientError::Token { status: 401, .. }
        | VeracityClientError::Gateway { status: 401, .. }
        | VeracityClientError::Storage { status: 401, .. } => "AuthenticationError",
        VeracityClientError::Token { .. }
        | VeracityClientError::Gateway { .. }
        | VeracityClientError::Storage { .. }
        | VeracityClientError::Decode { .. } => "ApiError",
        VeracityClientError::Http { .. } => "ConnectionError",
        VeracityClientError::JobFailed { .. } | VeracityClientError::JobTimeout { .. } => {
            "JobError"
        }
        VeracityClientError::Config { .. }
        | VeracityClientError::InvalidInput { .. }
        | VeracityClientError::SasUri { .. } => "ConfigError",
        _ => "PushdataError",
    };
    Raise::new(class)
        .int("status", e.status().map(u64::from))
        .str("trace_id", e.trace_id())
        .str("code", e.storage_code())
        .str("job_id", e.job_id())
        .str("endpoint", e.context().map(ToString::to_string))
}

/// A table that does not fit a Veracity dataset: its model (types, keys, columns), or a
/// value.
fn veracity_check_raise(e: &VeracityError) -> Raise {
    match e {
        VeracityError::Value { column, row, .. } => Raise::new("DataError")
            .str("column", Some(column.as_str()))
            .int("row", Some(*row)),
        VeracityError::SchemaMismatch { .. } => Raise::new("DataError"),
        VeracityError::UnsupportedType { column, .. }
        | VeracityError::UnknownColumnType { column, .. }
        | VeracityError::DuplicateColumn { column, .. }
        | VeracityError::KeysForbidden { column, .. }
        | VeracityError::MissingColumn { column }
        | VeracityError::UnexpectedColumn { column }
        | VeracityError::TypeMismatch { column, .. } => {
            Raise::new("ModelError").str("column", Some(column.as_str()))
        }
        _ => Raise::new("ModelError"),
    }
}
