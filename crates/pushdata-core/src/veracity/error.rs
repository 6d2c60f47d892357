//! The Veracity client's error type.
//!
//! Every failure keeps what is needed to act on it: the call (method, URL path — never the
//! query, which holds the SAS signature on Data Lake calls), the workspace, dataset, job,
//! file and upload position it concerned, the HTTP status, and the parsed error body
//! (`traceId` of the gateway; `code`/`message` and `x-ms-error-code` of Data Lake; OAuth2
//! `error` of the token endpoint). Secrets never reach an error.

use std::fmt;
use std::time::Duration;

use http::Method;

use super::wire::{
    GatewayErrorBody, JobState, StorageErrorDetail, TokenErrorBody, ValidationIssue,
};

/// `Result` with the Veracity [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Which service a call went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Service {
    /// The OAuth2 token endpoint.
    Token,
    /// The Data Workbench gateway (API Management).
    Gateway,
    /// Azure Data Lake Storage Gen2, through the SAS URI.
    Storage,
}

/// The call that failed and what it concerned.
///
/// Displays as `PATCH /fs/dir/data.csv (workspace W, job J, file "data.csv", position 1024)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallContext {
    /// The service called.
    pub service: Service,
    /// HTTP method.
    pub method: Method,
    /// URL path, percent-encoded, without scheme, host or query.
    pub path: String,
    /// Workspace id, when the call concerns one.
    pub workspace: Option<String>,
    /// Dataset id, when the call concerns one.
    pub dataset: Option<String>,
    /// Ingest job id, when the call concerns one.
    pub job: Option<String>,
    /// Uploaded file name, on Data Lake calls.
    pub file: Option<String>,
    /// Upload position (byte offset) of a Data Lake append or flush.
    pub position: Option<u64>,
}

impl CallContext {
    pub(crate) fn new(service: Service, method: Method, path: impl Into<String>) -> Self {
        CallContext {
            service,
            method,
            path: path.into(),
            workspace: None,
            dataset: None,
            job: None,
            file: None,
            position: None,
        }
    }

    pub(crate) fn workspace(mut self, ws: &str) -> Self {
        self.workspace = Some(ws.to_string());
        self
    }

    pub(crate) fn dataset(mut self, id: &str) -> Self {
        self.dataset = Some(id.to_string());
        self
    }

    pub(crate) fn job(mut self, id: &str) -> Self {
        self.job = Some(id.to_string());
        self
    }
}

impl fmt::Display for CallContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)?;
        let mut parts: Vec<String> = Vec::new();
        if let Some(ws) = &self.workspace {
            parts.push(format!("workspace {ws}"));
        }
        if let Some(d) = &self.dataset {
            parts.push(format!("dataset {d}"));
        }
        if let Some(j) = &self.job {
            parts.push(format!("job {j}"));
        }
        if let Some(file) = &self.file {
            parts.push(format!("file {file:?}"));
        }
        if let Some(p) = self.position {
            parts.push(format!("position {p}"));
        }
        if !parts.is_empty() {
            write!(f, " ({})", parts.join(", "))?;
        }
        Ok(())
    }
}

/// Everything that can go wrong in the Veracity client.
///
/// Inspect a failure with [`Error::status`], [`Error::context`], [`Error::trace_id`],
/// [`Error::storage_code`] and [`Error::job_id`] instead of comparing its text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The token endpoint refused the credentials or failed.
    #[error(
        "getting a token from {context} failed: HTTP {status}{}",
        TokenText(body)
    )]
    Token {
        /// HTTP status.
        status: u16,
        /// The call (token URL path).
        context: Box<CallContext>,
        /// The OAuth2 error body (`error` holds the raw text when it was not JSON).
        body: Box<TokenErrorBody>,
    },

    /// The gateway answered with an error status (after any retries and the one token
    /// refresh on 401).
    #[error("{context} failed: HTTP {status}{}", GatewayText(body))]
    Gateway {
        /// HTTP status.
        status: u16,
        /// The call.
        context: Box<CallContext>,
        /// The error body (`message` holds the raw text when it was not JSON).
        body: Box<GatewayErrorBody>,
    },

    /// Data Lake Storage answered with an error status (after any retries).
    #[error(
        "{context} failed: HTTP {status}{}{}",
        StorageText(error),
        RequestIdText(request_id)
    )]
    Storage {
        /// HTTP status.
        status: u16,
        /// The call (path without the SAS query).
        context: Box<CallContext>,
        /// `code` (from `x-ms-error-code`, or the body) and `message` (from the body).
        error: Box<StorageErrorDetail>,
        /// `x-ms-request-id`, when sent.
        request_id: Option<String>,
    },

    /// The request could not be sent or its response not read (connection refused, reset,
    /// timeout, TLS), after any retries. The source never holds the URL.
    #[error("{context} failed: {}", ChainText(source))]
    Http {
        /// The call.
        context: Box<CallContext>,
        /// The transport error (its URL removed).
        #[source]
        source: reqwest::Error,
    },

    /// A success response body could not be parsed.
    #[error("cannot parse the response of {context}: {source}")]
    Decode {
        /// The call.
        context: Box<CallContext>,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },

    /// The ingest job ended in failure: a terminal status other than `Completed`, a
    /// notebook error or validation errors.
    #[error(
        "ingest job {job_id} in workspace {workspace} failed (status {status}){}{}",
        NotebookText(notebook_error_message),
        ValidationText(validation_errors)
    )]
    JobFailed {
        /// Workspace id.
        workspace: String,
        /// Job id.
        job_id: String,
        /// The final status.
        status: JobState,
        /// `notebookErrorMessage` (empty when none).
        notebook_error_message: String,
        /// `validationError` entries.
        validation_errors: Vec<ValidationIssue>,
    },

    /// The job did not reach a terminal status within the wait's deadline. Whether it will
    /// complete is not known.
    #[error(
        "ingest job {job_id} in workspace {workspace} did not finish within {timeout:?} (last status {})",
        last_status.as_ref().map_or("unknown", JobState::as_str)
    )]
    JobTimeout {
        /// Workspace id.
        workspace: String,
        /// Job id.
        job_id: String,
        /// The deadline that passed.
        timeout: Duration,
        /// The last status read, if any.
        last_status: Option<JobState>,
    },

    /// The SAS URI returned by the register call is unusable. The URI is not repeated (it
    /// holds a signature).
    #[error("invalid SAS URI: {reason}")]
    SasUri {
        /// What is wrong with it.
        reason: String,
    },

    /// The client configuration is unusable (bad URL, missing setting, ...).
    #[error("invalid Veracity client configuration: {message}")]
    Config {
        /// What is wrong, naming the setting.
        message: String,
        /// The underlying error, if any.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    },

    /// An argument of a call is unusable (empty id, position mismatch, ...).
    #[error("invalid {what}: {message}")]
    InvalidInput {
        /// The argument.
        what: &'static str,
        /// What is wrong.
        message: String,
    },
}

impl Error {
    /// The HTTP status of a failed call, if the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Token { status, .. }
            | Error::Gateway { status, .. }
            | Error::Storage { status, .. } => Some(*status),
            Error::Http { source, .. } => source.status().map(|s| s.as_u16()),
            _ => None,
        }
    }

    /// Whether the call may have been carried out although it failed: its connection
    /// broke after the request was sent, or it timed out (a connection that could not be
    /// opened sent nothing), or a gateway answered 504. An answer with any other error
    /// status means the call was not carried out.
    pub fn outcome_unknown(&self) -> bool {
        match self {
            Error::Http { source, .. } => !source.is_connect() && source.status().is_none(),
            Error::Gateway { status, .. } => *status == 504,
            _ => false,
        }
    }

    /// The call that failed, if the error comes from one.
    pub fn context(&self) -> Option<&CallContext> {
        match self {
            Error::Token { context, .. }
            | Error::Gateway { context, .. }
            | Error::Storage { context, .. }
            | Error::Http { context, .. }
            | Error::Decode { context, .. } => Some(context),
            _ => None,
        }
    }

    /// The gateway's `traceId`, to quote to Veracity support.
    pub fn trace_id(&self) -> Option<&str> {
        match self {
            Error::Gateway { body, .. } => body.trace_id.as_deref(),
            _ => None,
        }
    }

    /// The Data Lake error code (e.g. `InvalidFlushPosition`, `AuthenticationFailed`).
    pub fn storage_code(&self) -> Option<&str> {
        match self {
            Error::Storage { error, .. } if !error.code.is_empty() => Some(&error.code),
            _ => None,
        }
    }

    /// The ingest job concerned, if any.
    pub fn job_id(&self) -> Option<&str> {
        match self {
            Error::JobFailed { job_id, .. } | Error::JobTimeout { job_id, .. } => Some(job_id),
            _ => self.context().and_then(|c| c.job.as_deref()),
        }
    }

    /// Whether a request timed out.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Http { source, .. } if source.is_timeout())
    }

    /// Whether the server said 401 (after the one token refresh).
    pub fn is_unauthorized(&self) -> bool {
        self.status() == Some(401)
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error::Config {
            message: message.into(),
            source: None,
        }
    }
}

struct TokenText<'a>(&'a TokenErrorBody);

impl fmt::Display for TokenText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.0.error.is_empty() {
            write!(f, ": {}", self.0.error)?;
        }
        if let Some(d) = &self.0.error_description {
            write!(f, ": {}", d.lines().next().unwrap_or_default())?;
        }
        Ok(())
    }
}

struct GatewayText<'a>(&'a GatewayErrorBody);

impl fmt::Display for GatewayText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        if let Some(t) = &b.error_type {
            write!(f, ": {t}")?;
        }
        if let Some(t) = &b.title {
            write!(f, ": {t}")?;
        }
        if let Some(m) = &b.message {
            write!(f, ": {m}")?;
        }
        if let Some(e) = &b.errors {
            write!(f, " {e}")?;
        }
        if let Some(t) = &b.trace_id {
            write!(f, " (traceId {t})")?;
        }
        Ok(())
    }
}

struct StorageText<'a>(&'a StorageErrorDetail);

impl fmt::Display for StorageText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.0.code.is_empty() {
            write!(f, ": {}", self.0.code)?;
        }
        // The message's first line; RequestId and Time follow on the next lines.
        if let Some(first) = self.0.message.lines().next().filter(|l| !l.is_empty()) {
            write!(f, ": {first}")?;
        }
        Ok(())
    }
}

struct RequestIdText<'a>(&'a Option<String>);

impl fmt::Display for RequestIdText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(id) => write!(f, " (x-ms-request-id {id})"),
            None => Ok(()),
        }
    }
}

struct NotebookText<'a>(&'a str);

impl fmt::Display for NotebookText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.trim().is_empty() {
            Ok(())
        } else {
            write!(f, ": {}", self.0.trim())
        }
    }
}

struct ValidationText<'a>(&'a [ValidationIssue]);

impl fmt::Display for ValidationText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 5;
        if self.0.is_empty() {
            return Ok(());
        }
        write!(f, "; {} validation error(s): ", self.0.len())?;
        for (i, v) in self.0.iter().take(SHOWN).enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{v}")?;
        }
        if self.0.len() > SHOWN {
            write!(f, "; ...")?;
        }
        Ok(())
    }
}

struct ChainText<'a>(&'a reqwest::Error);

impl fmt::Display for ChainText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = std::error::Error::source(self.0);
        while let Some(e) = source {
            write!(f, ": {e}")?;
            source = e.source();
        }
        Ok(())
    }
}
