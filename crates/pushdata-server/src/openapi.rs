//! The server's OpenAPI document: generated from the `#[utoipa::path]` annotations of the
//! handlers, collected by the same `utoipa_axum::routes!` calls that build the router (so
//! the document lists exactly the routes the server serves), and served at
//! [`OPENAPI_PATH`].

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Extension;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::path::Paths;
use utoipa::openapi::response::{Response as ApiResponse, ResponseBuilder};
use utoipa::openapi::schema::Type;
use utoipa::openapi::{ContentBuilder, InfoBuilder, ObjectBuilder, OpenApi, RefOr};

/// Where the document is served.
pub const OPENAPI_PATH: &str = "/api-docs/openapi.json";

/// The errors every Push Data API endpoint may answer: `{code, message, ticketId}`.
#[derive(Debug)]
pub(crate) struct MstrErrors;

/// The errors every Veracity endpoint may answer (Azure AD, API Management, gateway and
/// Data Lake styles).
#[derive(Debug)]
pub(crate) struct VeracityErrors;

/// The form of the token endpoint (Azure AD v1 client credentials).
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct TokenForm {
    /// `client_credentials`.
    grant_type: String,
    /// The service account's client id.
    client_id: String,
    /// The service account's secret.
    client_secret: String,
    /// The resource the token is for.
    resource: Option<String>,
}

/// The body of `POST /api/auth/login`.
#[derive(Debug, utoipa::ToSchema)]
#[schema(rename_all = "camelCase")]
#[allow(dead_code)]
pub(crate) struct LoginBody {
    /// 1 standard, 8 guest, 16 LDAP, 4096 API token.
    login_mode: i32,
    /// The user name.
    username: String,
    /// The password (or the API token).
    password: String,
}

/// A table of `POST /api/datasets/{id}/uploadSessions`.
#[derive(Debug, utoipa::ToSchema)]
#[schema(rename_all = "camelCase")]
#[allow(dead_code)]
pub(crate) struct SessionTable {
    /// The table's name.
    name: String,
    /// `add`, `update`, `upsert` or `replace`.
    update_policy: String,
}

/// The body of `POST /api/datasets/{id}/uploadSessions`.
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct SessionBody {
    /// The tables the session uploads.
    tables: Vec<SessionTable>,
}

/// The body of `PUT /api/datasets/{id}/uploadSessions/{sid}`: one chunk of a table.
#[derive(Debug, utoipa::ToSchema)]
#[schema(rename_all = "camelCase")]
#[allow(dead_code)]
pub(crate) struct ChunkBody {
    /// The table's name.
    table_name: String,
    /// The chunk's index in the session (from 1).
    index: u64,
    /// The rows: base64 of a JSON array of row arrays.
    data: String,
}

/// The 4xx answers of the server, by status.
const CLIENT_ERRORS: [(&str, &str); 11] = [
    ("400", "malformed request, or data that does not fit"),
    ("401", "missing, unknown or expired credentials"),
    (
        "403",
        "refused: another Host, or a SAS that does not grant the call",
    ),
    ("404", "no such object, or another user's"),
    ("405", "the path does not take this method"),
    ("408", "the request body stalled or was too slow"),
    ("409", "conflicts with the state of the object"),
    ("411", "an append without Content-Length"),
    ("413", "the request body is over the limit"),
    ("429", "too many attempts or sessions"),
    ("431", "the request's headers are over the limit"),
];

/// The error responses, each with a JSON object body of `required` string fields.
fn error_responses(required: &[&str]) -> BTreeMap<String, RefOr<ApiResponse>> {
    let mut body = ObjectBuilder::new();
    for field in required {
        let string = ObjectBuilder::new().schema_type(Type::String);
        body = body.property(*field, string).required(*field);
    }
    let body = body.build();
    CLIENT_ERRORS
        .iter()
        .map(|(status, description)| {
            let content = ContentBuilder::new().schema(Some(body.clone())).build();
            let response = ResponseBuilder::new()
                .description(*description)
                .content("application/json", content)
                .build();
            (status.to_string(), RefOr::T(response))
        })
        .collect()
}

impl utoipa::IntoResponses for MstrErrors {
    fn responses() -> BTreeMap<String, RefOr<ApiResponse>> {
        error_responses(&["code", "message", "ticketId"])
    }
}

impl utoipa::IntoResponses for VeracityErrors {
    fn responses() -> BTreeMap<String, RefOr<ApiResponse>> {
        error_responses(&[])
    }
}

/// The document of `parts` (the services' documents, each already at its mount point):
/// axum's wildcard segments (`{*path}`) become plain path parameters.
pub(crate) fn document(parts: impl IntoIterator<Item = OpenApi>) -> OpenApi {
    let mut doc = OpenApi::new(
        InfoBuilder::new()
            .title("pushdata reference server")
            .version(env!("CARGO_PKG_VERSION"))
            .description(Some(
                "The Push Data API (MicroStrategy) and the Veracity Data Workbench ingest \
                 (gateway, token endpoint, Data Lake upload) as the reference server implements them.",
            ))
            .build(),
        Paths::new(),
    );
    for p in parts {
        doc.merge(p);
    }
    let paths = std::mem::take(&mut doc.paths.paths);
    doc.paths.paths = paths
        .into_iter()
        .map(|(path, item)| (path.replace("{*", "{"), item))
        .collect();
    doc
}

/// `GET /api-docs/openapi.json`: this document.
#[utoipa::path(
    get,
    path = "/api-docs/openapi.json",
    tag = "openapi",
    responses((status = 200, description = "the OpenAPI document", body = serde_json::Value))
)]
pub(crate) async fn openapi_json(Extension(doc): Extension<Arc<String>>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        doc.as_str().to_owned(),
    )
        .into_response()
}
