//! The error body every endpoint returns on failure.

use serde::{Deserialize, Serialize};

/// `{code, message, ticketId, iServerCode}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// Error code such as `ERR001`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// What went wrong, and where.
    #[serde(default)]
    pub message: String,
    /// Ticket id to quote when reporting the error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<String>,
    /// The Intelligence Server's numeric code, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub i_server_code: Option<i64>,
}
