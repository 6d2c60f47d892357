//! The server's one error type, and its conversion into an HTTP response with an
//! [`ErrorBody`].

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pushdata_core::wire::ErrorBody;

/// Everything that can go wrong in the server, from bad input to a failed disk write.
///
/// Each variant maps to one HTTP status; the message says what was wrong and where.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The request is malformed or its data does not fit the dataset (400).
    #[error("{0}")]
    BadRequest(String),
    /// Missing, unknown or expired auth token, or bad credentials (401).
    #[error("{0}")]
    Unauthorized(String),
    /// The named dataset, table, upload session or object does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with the state of a resource, e.g. a finished session (409).
    #[error("{0}")]
    Conflict(String),
    /// The request body is larger than the configured limit (413).
    #[error("{0}")]
    PayloadTooLarge(String),
    /// A configuration that the server refuses to run with.
    #[error("invalid server configuration: {0}")]
    Config(String),
    /// A disk operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What the server was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Arrow or Parquet failed on data the server wrote itself.
    #[error("{context}: {message}")]
    Storage {
        /// What the server was doing.
        context: String,
        /// The underlying error text.
        message: String,
    },
    /// A fault injected by a test hook.
    #[error("{0}")]
    Injected(String),
}

impl ServerError {
    /// A 400 error.
    pub fn bad_request(msg: impl Into<String>) -> Self {
        ServerError::BadRequest(msg.into())
    }

    /// A 404 error.
    pub fn not_found(msg: impl Into<String>) -> Self {
        ServerError::NotFound(msg.into())
    }

    /// An I/O error with context.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        ServerError::Io {
            context: context.into(),
            source,
        }
    }

    /// An Arrow/Parquet error with context.
    pub fn storage(context: impl Into<String>, err: impl std::fmt::Display) -> Self {
        ServerError::Storage {
            context: context.into(),
            message: err.to_string(),
        }
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            ServerError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ServerError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ServerError::NotFound(_) => StatusCode::NOT_FOUND,
            ServerError::Conflict(_) => StatusCode::CONFLICT,
            ServerError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ServerError::Config(_)
            | ServerError::Io { .. }
            | ServerError::Storage { .. }
            | ServerError::Injected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The error code in the body (`ERR001`-style, as the real server uses).
    pub fn code(&self) -> &'static str {
        match self {
            ServerError::BadRequest(_) => "ERR004",
            ServerError::Unauthorized(_) => "ERR003",
            ServerError::NotFound(_) => "ERR004",
            ServerError::Conflict(_) => "ERR006",
            ServerError::PayloadTooLarge(_) => "ERR007",
            ServerError::Config(_)
            | ServerError::Io { .. }
            | ServerError::Storage { .. }
            | ServerError::Injected(_) => "ERR001",
        }
    }

    /// The wire body for this error, with a fresh ticket id.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: Some(self.code().to_string()),
            message: self.to_string(),
            ticket_id: Some(crate::ids::new_object_id().to_lowercase()),
            i_server_code: None,
        }
    }
}

impl From<crate::decode::DecodeError> for ServerError {
    fn from(e: crate::decode::DecodeError) -> Self {
        use crate::decode::DecodeError;
        match e {
            DecodeError::Batch { place, source } => ServerError::storage(place.to_string(), source),
            e => ServerError::BadRequest(e.to_string()),
        }
    }
}

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = self.body();
        if status.is_server_error() {
            tracing::error!(ticket = ?body.ticket_id, "{}", body.message);
        } else {
            tracing::debug!(status = status.as_u16(), "{}", body.message);
        }
        (status, axum::Json(body)).into_response()
    }
}

/// Result alias for the server.
pub type Result<T, E = ServerError> = std::result::Result<T, E>;
