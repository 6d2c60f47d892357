//! The errors of the Veracity emulation and their HTTP answers: the one place that decides
//! the status and body of every error, in the style of the service that would answer it:
//! Azure AD (token endpoint), API Management (subscription key, bearer token), the Veracity
//! gateway (`{type, message, traceId}`) and Azure Data Lake Storage
//! (`{"error":{"code","message"}}` with `x-ms-error-code`).

use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::store::StoreError;

/// A Data Lake Storage error code (the `x-ms-error-code` header and `error.code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LakeCode {
    /// 403: the SAS is missing parameters, its signature does not match, or it expired.
    AuthenticationFailed,
    /// 403: the SAS does not grant the permission the operation needs.
    AuthorizationPermissionMismatch,
    /// 400: an append or flush position is not the file's current length.
    InvalidFlushPosition,
    /// 404: the file was never created.
    PathNotFound,
    /// 404: a method the emulation does not serve on a Data Lake path (reads, deletes):
    /// also what unknown paths of the server's other methods get.
    ResourceNotFound,
    /// 400: a flush carried a body.
    ContentLengthMustBeZero,
    /// 400: a query parameter is missing or invalid.
    InvalidQueryParameterValue,
    /// 409: the job of this folder was already started; its file can no longer change.
    OperationNotAllowedOnThePath,
    /// 413: the request body is larger than the server's limit.
    RequestBodyTooLarge,
    /// 408: the request body stalled past the idle timeout or trickled past the deadline.
    RequestTimeout,
    /// 400: the request body could not be read (the client cut it short).
    InvalidInput,
    /// 411: an append without `Content-Length` (Azure requires it: the emulation records
    /// which staged bytes an append replaces before it writes them).
    MissingContentLengthHeader,
}

impl LakeCode {
    fn status(self) -> StatusCode {
        match self {
            LakeCode::AuthenticationFailed | LakeCode::AuthorizationPermissionMismatch => {
                StatusCode::FORBIDDEN
            }
            LakeCode::InvalidFlushPosition
            | LakeCode::ContentLengthMustBeZero
            | LakeCode::InvalidQueryParameterValue => StatusCode::BAD_REQUEST,
            LakeCode::PathNotFound | LakeCode::ResourceNotFound => StatusCode::NOT_FOUND,
            LakeCode::OperationNotAllowedOnThePath => StatusCode::CONFLICT,
            LakeCode::RequestBodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            LakeCode::MissingContentLengthHeader => StatusCode::LENGTH_REQUIRED,
            LakeCode::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            LakeCode::InvalidInput => StatusCode::BAD_REQUEST,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            LakeCode::AuthenticationFailed => "AuthenticationFailed",
            LakeCode::AuthorizationPermissionMismatch => "AuthorizationPermissionMismatch",
            LakeCode::InvalidFlushPosition => "InvalidFlushPosition",
            LakeCode::PathNotFound => "PathNotFound",
            LakeCode::ResourceNotFound => "ResourceNotFound",
            LakeCode::ContentLengthMustBeZero => "ContentLengthMustBeZero",
            LakeCode::InvalidQueryParameterValue => "InvalidQueryParameterValue",
            LakeCode::OperationNotAllowedOnThePath => "OperationNotAllowedOnThePath",
            LakeCode::RequestBodyTooLarge => "RequestBodyTooLarge",
            LakeCode::MissingContentLengthHeader => "MissingContentLengthHeader",
            LakeCode::RequestTimeout => "RequestTimeout",
            LakeCode::InvalidInput => "InvalidInput",
        }
    }

    /// Azure's own message for the code (the emulator adds no secrets or paths to it).
    fn message(self) -> &'static str {
        match self {
            LakeCode::AuthenticationFailed => {
                "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature."
            }
            LakeCode::AuthorizationPermissionMismatch => {
                "This request is not authorized to perform this operation using this permission."
            }
            LakeCode::InvalidFlushPosition => {
                "The uploaded data is not contiguous or the position query parameter value is not equal to the length of the file after appending the uploaded data."
            }
            LakeCode::PathNotFound => "The specified path does not exist.",
            LakeCode::ResourceNotFound => "The specified resource does not exist.",
            LakeCode::ContentLengthMustBeZero => "The Content-Length request header must be zero.",
            LakeCode::InvalidQueryParameterValue => {
                "Value for one of the query parameters specified in the request URI is invalid."
            }
            LakeCode::OperationNotAllowedOnThePath => {
                "The operation is not allowed: the ingest job of this folder has already started."
            }
            LakeCode::RequestBodyTooLarge => "The request body is too large.",
            LakeCode::MissingContentLengthHeader => "Content-Length HTTP header is missing.",
            LakeCode::RequestTimeout => "The request body did not arrive in time.",
            LakeCode::InvalidInput => "One of the request inputs is not valid.",
        }
    }
}

/// Why a request to the Veracity emulation failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum VeracityError {
    /// Token endpoint: the client secret is wrong (401 `invalid_client`, AADSTS7000215).
    #[error("invalid client secret for client {client_id:?}")]
    InvalidClientSecret {
        /// The client id that was sent.
        client_id: String,
    },
    /// Token endpoint: the client id is unknown (400 `unauthorized_client`, AADSTS700016).
    #[error("unknown client {client_id:?}")]
    UnknownClient {
        /// The client id that was sent.
        client_id: String,
    },
    /// Token endpoint: a form field is missing or the grant type is not
    /// `client_credentials` (400 `invalid_request` / `unsupported_grant_type`).
    #[error("token request: {reason}")]
    TokenRequest {
        /// The AAD error code (`invalid_request`, `unsupported_grant_type`).
        error: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// API Management: no `Ocp-Apim-Subscription-Key` (401).
    #[error("missing subscription key")]
    MissingSubscriptionKey,
    /// API Management: a wrong `Ocp-Apim-Subscription-Key` (401).
    #[error("invalid subscription key")]
    InvalidSubscriptionKey,
    /// API Management: no bearer token, or an unknown or expired one (401).
    #[error("access token is missing or invalid")]
    InvalidToken,
    /// Gateway: the request is malformed or breaks a rule of the service (400).
    #[error("{0}")]
    BadRequest(String),
    /// Gateway: the workspace has no such schema, dataset or job (404).
    #[error("{0}")]
    NotFound(String),
    /// Data Lake Storage: a path call failed (status and code by [`LakeCode`]).
    #[error("data lake: {code:?}: {detail}")]
    Lake {
        /// The Azure error code.
        code: LakeCode,
        /// What the emulator saw (logged, not answered).
        detail: String,
    },
    /// The table store failed (500).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A file-system call of the service failed (500).
    #[error("{context}: {source}")]
    Io {
        /// What the service was doing.
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// Anything else the service did not expect (500).
    #[error("{context}: {source}")]
    Internal {
        /// What the service was doing.
        context: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// `Result` of the Veracity emulation.
pub(crate) type Result<T, E = VeracityError> = std::result::Result<T, E>;

impl VeracityError {
    /// A Data Lake error with `code`, and what the emulator saw (for its log).
    pub(crate) fn lake(code: LakeCode, detail: impl Into<String>) -> Self {
        VeracityError::Lake {
            code,
            detail: detail.into(),
        }
    }

    /// A gateway 400.
    pub(crate) fn bad_request(msg: impl Into<String>) -> Self {
        VeracityError::BadRequest(msg.into())
    }

    /// A gateway 404.
    pub(crate) fn not_found(msg: impl Into<String>) -> Self {
        VeracityError::NotFound(msg.into())
    }

    /// A file-system error while doing `context`.
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        VeracityError::Io {
            context: context.into(),
            source,
        }
    }

    /// An unexpected error while doing `context`.
    pub(crate) fn internal(
        context: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        VeracityError::Internal {
            context: context.into(),
            source: source.into(),
        }
    }
}

/// A fresh trace / request id (32 lower-case hex).
fn trace_id() -> String {
    crate::ids::new_object_id().to_lowercase()
}

/// An AAD v1 token error body.
fn aad(status: StatusCode, error: &str, code: u32, description: &str) -> Response {
    let trace = trace_id();
    let body = json!({
        "error": error,
        "error_description": format!("AADSTS{code}: {description}\r\nTrace ID: {trace}"),
        "error_codes": [code],
        "timestamp": super::time::iso8601(super::time::now_secs()),
        "trace_id": trace,
        "correlation_id": trace_id(),
    });
    (status, Json(body)).into_response()
}

/// An API Management error body.
fn apim(message: &str) -> Response {
    let body = json!({ "statusCode": 401, "message": message });
    (StatusCode::UNAUTHORIZED, Json(body)).into_response()
}

/// A gateway error body (`{type, message, traceId}`).
fn gateway(status: StatusCode, kind: &str, message: String) -> Response {
    let body = json!({ "type": kind, "message": message, "traceId": trace_id() });
    (status, Json(body)).into_response()
}

/// A Data Lake Storage error: JSON body and the `x-ms-error-code` header.
fn lake(code: LakeCode) -> Response {
    let request_id = crate::veracity::time::uuid();
    let message = format!(
        "{}\nRequestId:{request_id}\nTime:{}",
        code.message(),
        super::time::iso8601_7(super::time::now_secs())
    );
    let body = json!({ "error": { "code": code.as_str(), "message": message } });
    let mut resp = (code.status(), Json(body)).into_response();
    let headers = resp.headers_mut();
    headers.insert("x-ms-error-code", HeaderValue::from_static(code.as_str()));
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        headers.insert("x-ms-request-id", v);
    }
    resp
}

impl IntoResponse for VeracityError {
    fn into_response(self) -> Response {
        match &self {
            VeracityError::Store(e @ StoreError::DataQuota { .. }) => {
                tracing::warn!("veracity request refused: {e}");
                gateway(
                    StatusCode::INSUFFICIENT_STORAGE,
                    "InsufficientStorage",
                    e.to_string(),
                )
            }
            VeracityError::Store(_) | VeracityError::Io { .. } | VeracityError::Internal { .. } => {
                let ticket = trace_id();
                tracing::error!(%ticket, "veracity request failed: {self}");
                gateway(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "ServerError",
                    format!(
                        "internal server error; the server's log has the details under trace id {ticket}"
                    ),
                )
            }
            VeracityError::InvalidClientSecret { .. } => aad(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7_000_215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
            ),
            VeracityError::UnknownClient { client_id } => aad(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                700_016,
                &format!(
                    "Application with identifier '{client_id}' was not found in the directory."
                ),
            ),
            VeracityError::TokenRequest { error, reason } => {
                aad(StatusCode::BAD_REQUEST, error, 900_144, reason)
            }
            VeracityError::MissingSubscriptionKey => apim(
                "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.",
            ),
            VeracityError::InvalidSubscriptionKey => apim(
                "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.",
            ),
            VeracityError::InvalidToken => {
                apim("Unauthorized. Access token is missing or invalid.")
            }
            VeracityError::BadRequest(m) => {
                gateway(StatusCode::BAD_REQUEST, "BusinessError", m.clone())
            }
            VeracityError::NotFound(m) => gateway(StatusCode::NOT_FOUND, "NotFound", m.clone()),
            VeracityError::Lake { code, detail } => {
                tracing::debug!(code = code.as_str(), "data lake call refused: {detail}");
                lake(*code)
            }
        }
    }
}
