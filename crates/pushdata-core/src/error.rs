//! The crate's one error type.
//!
//! Every failure of a call keeps what is needed to act on it: the HTTP status, the
//! server's error body (`code`, `message`, `ticketId`, `iServerCode`), the method and URL
//! path of the call, and for chunk uploads the table and chunk index. Secrets (passwords,
//! tokens) never reach an error: they are only ever held as [`Secret`](crate::Secret) and
//! request headers are not part of any variant.

use std::fmt;
use std::time::Duration;

use http::{Method, StatusCode};

use crate::wire::ErrorBody;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The call that failed: its method, its URL path, and what it carried when that helps
/// (e.g. `table "sales", chunk 3`).
///
/// Displays as `PUT /MicroStrategyLibrary/api/datasets/D/uploadSessions/S (table "t", chunk 3)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// HTTP method.
    pub method: Method,
    /// URL path (percent-encoded, without scheme, host or query).
    pub path: String,
    /// What the call carried, when it helps to find the culprit (table, chunk index).
    pub detail: Option<String>,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)?;
        if let Some(detail) = &self.detail {
            write!(f, " ({detail})")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong in `pushdata-core`.
///
/// Use [`Error::status`], [`Error::server_error`], [`Error::code`] and
/// [`Error::ticket_id`] to inspect a failure without matching on variants.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with an error status (after any retries).
    #[error("{endpoint} failed: HTTP {}{}", StatusText(*status), ServerText(body))]
    Server {
        /// HTTP status code.
        status: u16,
        /// The call that failed (boxed to keep `Error` small).
        endpoint: Box<Endpoint>,
        /// The server's error body (`message` holds the raw body text when it was not JSON).
        body: ErrorBody,
    },

    /// The request could not be sent or its response could not be read (connection refused,
    /// reset, TLS failure, ...), after any retries.
    #[error("{endpoint} failed: {}", ChainText(source))]
    Http {
        /// The call that failed (boxed to keep `Error` small).
        endpoint: Box<Endpoint>,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },

    /// The server's TLS certificate was refused: not signed by a trusted root (a private
    /// CA: trust it with
    /// [`ClientBuilder::with_root_certificate_pem`](crate::ClientBuilder::with_root_certificate_pem)),
    /// not valid for the host name, expired, ... Nothing was sent; it is never retried.
    #[error("{endpoint} failed: the TLS certificate of {server} is not trusted ({reason})")]
    UntrustedCertificate {
        /// The server, as `https://host:port`.
        server: String,
        /// The call that failed.
        endpoint: Box<Endpoint>,
        /// Why the certificate was refused, in the TLS library's words.
        reason: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },

    /// The request did not complete within the configured timeout (after any retries).
    #[error("{endpoint} timed out after {timeout:?}")]
    Timeout {
        /// The call that timed out.
        endpoint: Box<Endpoint>,
        /// The per-request timeout that was exceeded.
        timeout: Duration,
        /// The transport error reporting the timeout.
        #[source]
        source: reqwest::Error,
    },

    /// The publish status reported a failure.
    #[error(
        "publishing upload session {session_id} of dataset {dataset_id} failed (status {status}): {message}"
    )]
    PublishFailed {
        /// Dataset id.
        dataset_id: String,
        /// Upload session id.
        session_id: String,
        /// The publish status value (3, or a negative value).
        status: i64,
        /// The server's message explaining the failure.
        message: String,
    },

    /// The publish status reported a value that is neither done (1), in progress (6) nor a
    /// failure (3, negative): the wait ends there instead of polling it until its timeout.
    /// Whether the data was published is not known.
    #[error(
        "publishing upload session {session_id} of dataset {dataset_id} reported status {status}, which is neither done, in progress nor failed: {message}"
    )]
    PublishUnexpectedStatus {
        /// Dataset id.
        dataset_id: String,
        /// Upload session id.
        session_id: String,
        /// The publish status value.
        status: i64,
        /// The server's message with it.
        message: String,
    },

    /// Publishing did not finish within [`PublishWait::timeout`](crate::PublishWait::timeout).
    #[error(
        "publishing upload session {session_id} of dataset {dataset_id} did not finish within {timeout:?}{}",
        LastStatusText(*last_status, last_message)
    )]
    PublishTimeout {
        /// Dataset id.
        dataset_id: String,
        /// Upload session id.
        session_id: String,
        /// The overall time that was allowed.
        timeout: Duration,
        /// The last status the server reported, if any.
        last_status: Option<i64>,
        /// The last status message the server reported (empty if none).
        last_message: String,
    },

    /// A response body was not the JSON the endpoint is documented to return.
    #[error("cannot decode the response of {endpoint}: {source}")]
    Decode {
        /// The call whose response was malformed.
        endpoint: Box<Endpoint>,
        /// The JSON error (it names the line and column).
        #[source]
        source: serde_json::Error,
    },

    /// A request body could not be serialized to JSON.
    #[error("cannot encode the request body of {endpoint}: {source}")]
    Encode {
        /// The call whose body could not be written.
        endpoint: Box<Endpoint>,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },

    /// The client configuration is unusable (bad base URL, bad certificate, ...).
    #[error("invalid client configuration: {message}")]
    Config {
        /// What is wrong, naming the setting.
        message: String,
        /// The underlying error, if any.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    },

    /// An argument of a call is unusable (empty id, text that cannot go into a header, ...).
    #[error("invalid {what}: {message}")]
    InvalidInput {
        /// Which argument, e.g. `dataset id`.
        what: &'static str,
        /// What is wrong with it.
        message: String,
    },

    /// A call that needs a session was made before [`Client::login`](crate::Client::login)
    /// (or after [`Client::logout`](crate::Client::logout)).
    #[error("not logged in: call Client::login first")]
    NotLoggedIn,

    /// A dataset call was made before a project was chosen.
    #[error(
        "{endpoint} needs a project: call Client::select_project or Client::set_project_id first"
    )]
    NoProjectSelected {
        /// The call that needed the project.
        endpoint: Box<Endpoint>,
    },

    /// [`Client::select_project`](crate::Client::select_project) found no project with
    /// that name or id.
    #[error(
        "no project is named {name:?} or has that id; the user can see: {}",
        ListText(available)
    )]
    UnknownProject {
        /// The name or id that was asked for.
        name: String,
        /// The names of the projects the user can see.
        available: Vec<String>,
    },

    /// No project was named and the user does not see exactly one
    /// ([`Client::select_only_project`](crate::Client::select_only_project)).
    #[error("{}", ProjectChoiceText(available))]
    ProjectNotChosen {
        /// The names of the projects the user can see (none, or several).
        available: Vec<String>,
    },

    /// Login succeeded but the response carried no usable auth token header.
    #[error("{endpoint} returned no usable X-MSTR-AuthToken header: {reason}")]
    MissingAuthToken {
        /// The login call.
        endpoint: Box<Endpoint>,
        /// Whether it was missing or malformed.
        reason: &'static str,
    },

    /// A call of the Veracity Data Workbench client failed; the boxed error keeps its
    /// context (workspace, dataset, job, position) and parsed error body.
    #[error(transparent)]
    Veracity(Box<crate::veracity::Error>),
}

impl From<crate::veracity::Error> for Error {
    fn from(e: crate::veracity::Error) -> Self {
        Error::Veracity(Box::new(e))
    }
}

impl Error {
    /// The HTTP status of the failed call, if the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Server { status, .. } => Some(*status),
            Error::Http { source, .. }
            | Error::Timeout { source, .. }
            | Error::UntrustedCertificate { source, .. } => source.status().map(|s| s.as_u16()),
            Error::Veracity(e) => e.status(),
            _ => None,
        }
    }

    /// The server's error body (`code`, `message`, `ticketId`, `iServerCode`), if the server
    /// answered with an error status.
    pub fn server_error(&self) -> Option<&ErrorBody> {
        match self {
            Error::Server { body, .. } => Some(body),
            _ => None,
        }
    }

    /// The server's error code, such as `ERR001`.
    pub fn code(&self) -> Option<&str> {
        self.server_error().and_then(|b| b.code.as_deref())
    }

    /// The server's ticket id, to quote when reporting the error.
    pub fn ticket_id(&self) -> Option<&str> {
        self.server_error().and_then(|b| b.ticket_id.as_deref())
    }

    /// The call that failed, for errors that come from one.
    pub fn endpoint(&self) -> Option<&Endpoint> {
        match self {
            Error::Server { endpoint, .. }
            | Error::Http { endpoint, .. }
            | Error::UntrustedCertificate { endpoint, .. }
            | Error::Timeout { endpoint, .. }
            | Error::Decode { endpoint, .. }
            | Error::Encode { endpoint, .. }
            | Error::NoProjectSelected { endpoint }
            | Error::MissingAuthToken { endpoint, .. } => Some(endpoint.as_ref()),
            _ => None,
        }
    }

    /// Whether this is a timeout (of one request, or of waiting for a publish).
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. } | Error::PublishTimeout { .. })
    }

    /// Whether the call may have been carried out by the server although it failed: it
    /// timed out or its connection broke after the request was sent (a connection that
    /// could not be opened sent nothing), or a gateway answered 504. A call that the
    /// server answered with any other error status was not carried out.
    pub fn outcome_unknown(&self) -> bool {
        match self {
            Error::Timeout { source, .. } | Error::Http { source, .. } => !source.is_connect(),
            Error::Server { status, .. } => *status == 504,
            _ => false,
        }
    }

    /// Whether the server rejected the session or the credentials (HTTP 401).
    pub fn is_unauthorized(&self) -> bool {
        self.status() == Some(401) || matches!(self, Error::NotLoggedIn)
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error::Config {
            message: message.into(),
            source: None,
        }
    }
}

/// `400 Bad Request`.
struct StatusText(u16);

impl fmt::Display for StatusText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let reason = StatusCode::from_u16(self.0)
            .ok()
            .and_then(|s| s.canonical_reason());
        match reason {
            Some(r) => write!(f, "{} {r}", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

/// `: [ERR001] message (ticket id 123, iServer code -2147)`, or nothing for an empty body.
struct ServerText<'a>(&'a ErrorBody);

impl fmt::Display for ServerText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        if b.code.is_none() && b.message.is_empty() && b.ticket_id.is_none() {
            return Ok(());
        }
        f.write_str(":")?;
        if let Some(code) = &b.code {
            write!(f, " [{code}]")?;
        }
        if !b.message.is_empty() {
            write!(f, " {}", b.message)?;
        }
        let mut extras = Vec::new();
        if let Some(t) = &b.ticket_id {
            extras.push(format!("ticket id {t}"));
        }
        if let Some(c) = b.i_server_code {
            extras.push(format!("iServer code {c}"));
        }
        if !extras.is_empty() {
            write!(f, " ({})", extras.join(", "))?;
        }
        Ok(())
    }
}

/// An error and its causes, joined with `: ` (reqwest's own text hides the root cause).
struct ChainText<'a>(&'a reqwest::Error);

impl fmt::Display for ChainText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = std::error::Error::source(self.0);
        while let Some(c) = cause {
            write!(f, ": {c}")?;
            cause = c.source();
        }
        Ok(())
    }
}

/// ` (last status 6: sql execution)`.
struct LastStatusText<'a>(Option<i64>, &'a str);

impl fmt::Display for LastStatusText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.0, self.1.is_empty()) {
            (Some(s), false) => write!(f, " (last status {s}: {})", self.1),
            (Some(s), true) => write!(f, " (last status {s})"),
            (None, _) => f.write_str(" (no status was received)"),
        }
    }
}

/// `the user can see no project`, or `the user can see 2 projects; choose one: "A", "B"`.
struct ProjectChoiceText<'a>(&'a [String]);

impl fmt::Display for ProjectChoiceText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.len() {
            0 => f.write_str("the user can see no project"),
            n => write!(
                f,
                "the user can see {n} projects; choose one: {}",
                ListText(self.0)
            ),
        }
    }
}

/// `a, b, c`, or `(none)`.
struct ListText<'a>(&'a [String]);

impl fmt::Display for ListText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(none)");
        }
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{s:?}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint() -> Endpoint {
        Endpoint {
            method: Method::PUT,
            path: "/lib/api/datasets/D/uploadSessions/S".into(),
            detail: Some("table \"t\", chunk 3".into()),
        }
    }

    #[test]
    fn server_error_display_names_everything() {
        let e = Error::Server {
            status: 400,
            endpoint: Box::new(endpoint()),
            body: ErrorBody {
                code: Some("ERR001".into()),
                message: "bad row 7".into(),
                ticket_id: Some("abc123".into()),
                i_server_code: Some(-2147072488),
            },
        };
        assert_eq!(
            e.to_string(),
            "PUT /lib/api/datasets/D/uploadSessions/S (table \"t\", chunk 3) failed: \
             HTTP 400 Bad Request: [ERR001] bad row 7 (ticket id abc123, iServer code -2147072488)"
        );
        assert_eq!(e.status(), Some(400));
        assert_eq!(e.code(), Some("ERR001"));
        assert_eq!(e.ticket_id(), Some("abc123"));
        assert!(!e.is_timeout());
    }

    #[test]
    fn server_error_with_empty_body() {
        let e = Error::Server {
            status: 599,
            endpoint: Box::new(endpoint()),
            body: ErrorBody::default(),
        };
        assert!(e.to_string().ends_with("failed: HTTP 599"), "{e}");
    }

    #[test]
    fn publish_timeout_display() {
        let e = Error::PublishTimeout {
            dataset_id: "D".into(),
            session_id: "S".into(),
            timeout: Duration::from_secs(2),
            last_status: Some(6),
            last_message: "sql execution".into(),
        };
        assert_eq!(
            e.to_string(),
            "publishing upload session S of dataset D did not finish within 2s \
             (last status 6: sql execution)"
        );
        assert!(e.is_timeout());
    }

    #[test]
    fn project_not_chosen_says_how_many() {
        let none = Error::ProjectNotChosen { available: vec![] };
        assert_eq!(none.to_string(), "the user can see no project");
        let two = Error::ProjectNotChosen {
            available: vec!["A".into(), "B".into()],
        };
        assert_eq!(
            two.to_string(),
            "the user can see 2 projects; choose one: \"A\", \"B\""
        );
    }

    #[test]
    fn unknown_project_lists_names() {
        let e = Error::UnknownProject {
            name: "Nope".into(),
            available: vec!["A".into(), "B".into()],
        };
        assert_eq!(
            e.to_string(),
            "no project is named \"Nope\" or has that id; the user can see: \"A\", \"B\""
        );
    }
}
