//! The errors of Push Data API requests and their HTTP answers: the one place that decides
//! the status, the `ERR00x` code and the message of every error the service returns.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pushdata_core::wire::ErrorBody;

use super::decode::DecodeError;
use crate::store::StoreError;

/// Why a request of the Push Data API failed.
///
/// The message-only variants carry the service's own words (what was wrong and where);
/// errors of other layers keep their source as a value.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    /// The request is malformed or its data does not fit the dataset (400).
    #[error("{0}")]
    BadRequest(String),
    /// Missing, unknown or expired auth token, or bad credentials (401).
    #[error("{0}")]
    Unauthorized(String),
    /// The named dataset, table, upload session or object does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// The path exists but not with this method (405).
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The request is refused whoever sends it, e.g. a `Host` that is not this server (403).
    #[error("{0}")]
    Forbidden(String),
    /// The request body stalled past the idle timeout (408).
    #[error("{0}")]
    RequestTimeout(String),
    /// Too many attempts (failed logins); try again later (429).
    #[error("{0}")]
    TooManyRequests(String),
    /// The request conflicts with the state of a resource, e.g. a finished session (409).
    #[error("{0}")]
    Conflict(String),
    /// The request body is larger than the configured limit (413).
    #[error("{0}")]
    PayloadTooLarge(String),
    /// A chunk or a single-request body could not be decoded (400; 500 when the decoded
    /// parts cannot be joined, which is the server's fault).
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The table store refused or failed (status by the store's error).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A chunk's staged file, written after the chunk was acknowledged, could not be
    /// written (status by the store's error; reported by the publish that waited for it).
    #[error("chunk {index} of table {table:?} could not be staged: {source}")]
    Staging {
        /// The table's name.
        table: String,
        /// The chunk's index.
        index: u64,
        #[source]
        source: std::sync::Arc<StoreError>,
    },
    /// A file-system call of the service failed (500).
    #[error("{context}: {source}")]
    Io {
        /// What the service was doing.
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// Anything else the service did not expect: Arrow on its own data, a panicked task (500).
    #[error("{context}: {source}")]
    Internal {
        /// What the service was doing.
        context: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// `Result` of the Push Data API service.
pub(crate) type Result<T, E = ApiError> = std::result::Result<T, E>;

impl ApiError {
    /// A 400 error.
    pub(crate) fn bad_request(msg: impl Into<String>) -> Self {
        ApiError::BadRequest(msg.into())
    }

    /// A 404 error.
    pub(crate) fn not_found(msg: impl Into<String>) -> Self {
        ApiError::NotFound(msg.into())
    }

    /// A file-system error while doing `context`.
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        ApiError::Io {
            context: context.into(),
            source,
        }
    }

    /// An unexpected error while doing `context`.
    pub(crate) fn internal(
        context: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        ApiError::Internal {
            context: context.into(),
            source: source.into(),
        }
    }

    /// The HTTP status this error is answered with.
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Store(e) => store_status(e),
            ApiError::Staging { source, .. } => store_status(source),
            ApiError::Decode(DecodeError::Batch { .. }) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Decode(_) => StatusCode::BAD_REQUEST,
            ApiError::Io { .. } | ApiError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The error code in the body (`ERR001`-style, as the real server uses).
    fn code(&self) -> &'static str {
        match self.status() {
            StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => {
                "ERR004"
            }
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => "ERR003",
            StatusCode::CONFLICT => "ERR006",
            StatusCode::PAYLOAD_TOO_LARGE => "ERR007",
            _ => "ERR001",
        }
    }

    /// Whether the message may name the server's files (paths of the data directory)
    /// or echo another layer's internals: such errors are logged in full and answered
    /// without the details.
    fn is_internal_detail(&self) -> bool {
        match self {
            ApiError::Io { .. } | ApiError::Internal { .. } => true,
            ApiError::Store(e) => store_is_internal(e),
            ApiError::Decode(e) => matches!(e, DecodeError::Batch { .. }),
            _ => false,
        }
    }

    /// The message a client sees: the error itself, or for the server's own failures
    /// the ticket under which the server's log has it.
    pub(crate) fn public_message(&self, ticket: &str) -> String {
        if let ApiError::Staging {
            table,
            index,
            source,
        } = self
            && store_is_internal(source)
        {
            // The chunk is named; the store's details (paths) stay in the log.
            format!(
                "chunk {index} of table {table:?} could not be staged: internal server error; the server's log has the details under ticket {ticket}"
            )
        } else if self.is_internal_detail() {
            format!("internal server error; the server's log has the details under ticket {ticket}")
        } else {
            self.to_string()
        }
    }

    /// The wire body for this error, with a fresh ticket id.
    fn body(&self, ticket: &str) -> ErrorBody {
        ErrorBody {
            code: Some(self.code().to_string()),
            message: self.public_message(ticket),
            ticket_id: Some(ticket.to_string()),
            i_server_code: None,
        }
    }
}

/// Whether a store error's message may name the server's files or echo another layer's
/// internals.
fn store_is_internal(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::Io { .. }
            | StoreError::Parquet { .. }
            | StoreError::Json { .. }
            | StoreError::Arrow { .. }
            | StoreError::Shape { .. }
            | StoreError::Locked { .. }
    )
}

/// The status of a store error: the caller's data (400), a missing table (404), a
/// cancelled commit (409), the server's own failure (500).
fn store_status(e: &StoreError) -> StatusCode {
    match e {
        StoreError::DoesNotFit { .. } | StoreError::NoKey { .. } => StatusCode::BAD_REQUEST,
        StoreError::UnknownTable { .. } | StoreError::Deleted { .. } => StatusCode::NOT_FOUND,
        StoreError::Cancelled => StatusCode::CONFLICT,
        StoreError::DiskQuota { .. } | StoreError::DataQuota { .. } => {
            StatusCode::INSUFFICIENT_STORAGE
        }
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The answer to a Cube API error: the request's faults are 400 (a failed join is its
/// cause's), an unknown or expired instance is 404, anything else is 500 with the error
/// kept as the source.
impl From<crate::mstr::cube::CubeError> for ApiError {
    fn from(e: crate::mstr::cube::CubeError) -> Self {
        use crate::mstr::cube::CubeError as E;
        /// Whether `e` is the request's fault.
        fn bad_request(e: &E) -> bool {
            match e {
                E::UnknownAttribute { .. }
                | E::UnknownMetric { .. }
                | E::NoSuchForms { .. }
                | E::NothingRequested { .. }
                | E::NoTableHoldsForms { .. }
                | E::FilterWithoutOperands { .. }
                | E::FilterUnknownAttribute { .. }
                | E::FilterOperands { .. }
                | E::FilterOperator { .. }
                | E::CrossTooLarge { .. }
                | E::SumOverflow { .. }
                | E::SumTooLarge { .. } => true,
                E::Join { source, .. } => bad_request(source),
                _ => false,
            }
        }
        match e {
            e if bad_request(&e) => ApiError::BadRequest(e.to_string()),
            e @ (E::InstanceNotFound { .. } | E::UnknownTable { .. }) => {
                ApiError::NotFound(e.to_string())
            }
            e @ E::TableChanged { .. } => ApiError::Conflict(e.to_string()),
            e => ApiError::internal("reading a cube", e),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let ticket = crate::ids::new_object_id().to_lowercase();
        let body = self.body(&ticket);
        if status.is_server_error() {
            tracing::error!(%ticket, "{self}");
        } else {
            tracing::debug!(status = status.as_u16(), "{}", body.message);
        }
        (status, axum::Json(body)).into_response()
    }
}
