//! The Cube API's instance endpoints: `POST /api/v2/cubes/{id}/instances` creates an
//! instance (grouped rows of the requested attributes and metrics) and returns its first
//! page; `GET /api/v2/cubes/{id}/instances/{instanceId}` returns further pages.
//!
//! Query parameters: `offset` (default 0), `limit` (default 1000; `-1` for as many rows as
//! a page may have, [`MAX_PAGE_ROWS`]; larger limits are capped there too),
//! `fields` (`-data.metricValues.formatted` leaves the formatted values out).
//!
//! Also here, as a **pushdata reference-server extension** (MicroStrategy servers do not
//! have it): `GET /api/datasets/{id}/tables/{table}/rows?offset=&limit=&version=`, one
//! table's stored rows exactly (no grouping, no join; see [`crate::mstr::cube::rows`]).
//! `{table}` is the table's name or id; `offset` defaults to 0, `limit` to (and at most)
//! [`MAX_TABLE_PAGE_ROWS`]; `version` is the `X-Pushdata-Table-Version` of an earlier
//! page (409 once the table was published again). The answer is
//! `application/vnd.apache.arrow.stream` (the schema, then the rows in stored order) with
//! the headers `X-Pushdata-Total-Rows` (rows in the table) and `X-Pushdata-Table-Version`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use pushdata_core::wire::CubeInstanceRequest;

use super::extract::InDataset;
use super::{CONTROL_BODY_BYTES, Shared, body_bytes, parse_json};
use crate::mstr::cube::grid::{self, PageBytes};
use crate::mstr::cube::rows::{self, MAX_TABLE_PAGE_ROWS, PageRequest};
use crate::mstr::error::{ApiError, Result};
use crate::mstr::publish::blocking;

/// The page size when the request gives none.
/// The most rows one page renders, whatever the request asks: a page is built in memory.
pub(crate) const MAX_PAGE_ROWS: u64 = 100_000;

const DEFAULT_LIMIT: u64 = 1000;

struct PageParams {
    offset: u64,
    limit: Option<u64>,
    formatted: bool,
}

impl PageParams {
    /// The rows this page renders: the limit asked, at most [`MAX_PAGE_ROWS`].
    fn rows(&self) -> u64 {
        self.limit.unwrap_or(MAX_PAGE_ROWS).min(MAX_PAGE_ROWS)
    }
}

fn page_params(q: Option<&str>) -> Result<PageParams> {
    let mut p = PageParams {
        offset: 0,
        limit: Some(DEFAULT_LIMIT),
        formatted: true,
    };
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q.unwrap_or(""))
        .map_err(|e| ApiError::bad_request(format!("invalid query string: {e}")))?;
    for (k, v) in pairs {
        match k.as_str() {
            "offset" => {
                p.offset = v.trim().parse().map_err(|_| {
                    ApiError::bad_request(format!(
                        "query parameter offset={v:?} is not a non-negative integer"
                    ))
                })?;
            }
            "limit" => {
                let l: i64 = v.trim().parse().map_err(|_| {
                    ApiError::bad_request(format!("query parameter limit={v:?} is not an integer"))
                })?;
                p.limit = match l {
                    -1 => None,
                    l if l > 0 => Some(l as u64),
                    _ => {
                        return Err(ApiError::bad_request(format!(
                            "query parameter limit={l} must be positive (or -1 for all rows)"
                        )));
                    }
                };
            }
            "fields"
                if v.split(',')
                    .any(|f| f.trim() == "-data.metricValues.formatted") =>
            {
                p.formatted = false;
            }
            _ => {}
        }
    }
    Ok(p)
}

/// `POST /api/v2/cubes/{id}/instances`: create an instance, answer its first page (201).
#[utoipa::path(
    post,
    path = "/api/v2/cubes/{id}/instances",
    tag = "cubes",
    params(("id" = String, Path, description = "dataset id")),
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, description = "success", body = serde_json::Value), crate::openapi::MstrErrors)
)]
pub(crate) async fn create_instance(
    State(s): State<Shared>,
    InDataset { ds, .. }: InDataset,
    RawQuery(q): RawQuery,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Response)> {
    let id = ds.def.id.clone();
    let params = page_params(q.as_deref())?;
    let bytes = body_bytes(body, CONTROL_BODY_BYTES)?;
    let req: CubeInstanceRequest = if bytes.iter().all(u8::is_ascii_whitespace) {
        CubeInstanceRequest::default()
    } else {
        parse_json(&bytes, &format!("POST /api/v2/cubes/{id}/instances"))?
    };
    // The instance reads a pinned snapshot: publishes of the dataset go on meanwhile.
    let state = s.clone();
    let page = blocking(move || {
        let inst = state.cube_instances.create(&ds, &req)?;
        grid::render(&inst, params.offset, params.rows(), params.formatted)
    })
    .await?;
    Ok((StatusCode::CREATED, json_page(page)))
}

/// `GET /api/v2/cubes/{id}/instances/{instanceId}`: a page of an instance.
#[utoipa::path(
    get,
    path = "/api/v2/cubes/{id}/instances/{iid}",
    tag = "cubes",
    params(("id" = String, Path, description = "dataset id"), ("iid" = String, Path, description = "cube instance id")),
    responses((status = 200, description = "success", body = serde_json::Value), crate::openapi::MstrErrors)
)]
pub(crate) async fn instance_page(
    State(s): State<Shared>,
    InDataset { ds, .. }: InDataset,
    Path((_, instance_id)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Result<Response> {
    let params = page_params(q.as_deref())?;
    let inst = s.cube_instances.get(&ds.def.id, &instance_id)?;
    let page =
        blocking(move || grid::render(&inst, params.offset, params.rows(), params.formatted))
            .await?;
    Ok(json_page(page))
}

/// A rendered page (the JSON of a [`CubeInstance`](pushdata_core::wire::CubeInstance)) as
/// the response body, typed as `axum::Json` types its answers (its buffer goes back to the
/// page buffers when the body is dropped).
fn json_page(page: PageBytes) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(JSON))],
        Bytes::from_owner(page),
    )
        .into_response()
}

/// The media type `axum::Json` answers with.
const JSON: &str = "application/json";

/// The media type of an Arrow IPC stream.
const ARROW_STREAM: &str = "application/vnd.apache.arrow.stream";

/// The header with the rows a table has (table rows extension).
const TOTAL_ROWS_HEADER: HeaderName = HeaderName::from_static("x-pushdata-total-rows");

/// The header with the table's published version (table rows extension).
const TABLE_VERSION_HEADER: HeaderName = HeaderName::from_static("x-pushdata-table-version");

/// The query of a table rows page: `offset`, `limit`, `version`.
fn rows_params(q: Option<&str>) -> Result<PageRequest> {
    let mut p = PageRequest {
        offset: 0,
        limit: MAX_TABLE_PAGE_ROWS,
        version: None,
    };
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q.unwrap_or(""))
        .map_err(|e| ApiError::bad_request(format!("invalid query string: {e}")))?;
    for (k, v) in pairs {
        let number = |name: &str| -> Result<u64> {
            v.trim().parse().map_err(|_| {
                ApiError::bad_request(format!(
                    "query parameter {name}={v:?} is not a non-negative integer"
                ))
            })
        };
        match k.as_str() {
            "offset" => p.offset = number("offset")?,
            "limit" => {
                p.limit = number("limit")?;
                if p.limit == 0 {
                    return Err(ApiError::bad_request(
                        "query parameter limit must be positive",
                    ));
                }
            }
            "version" => p.version = Some(v),
            _ => {}
        }
    }
    Ok(p)
}

/// `GET /api/datasets/{id}/tables/{table}/rows` (pushdata extension): a page of one
/// table's stored rows as an Arrow IPC stream.
#[utoipa::path(
    get,
    path = "/api/datasets/{id}/tables/{table}/rows",
    tag = "datasets",
    params(("id" = String, Path, description = "dataset id"), ("table" = String, Path, description = "table name")),
    responses((status = 200, description = "success", body = serde_json::Value), crate::openapi::MstrErrors)
)]
pub(crate) async fn table_rows(
    InDataset { ds, .. }: InDataset,
    Path((_, table)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Result<Response> {
    let page = rows_params(q.as_deref())?;
    let rows = blocking(move || Ok(rows::read(&ds, &table, &page)?)).await?;
    let version = HeaderValue::from_str(&rows.version)
        .map_err(|e| ApiError::internal("writing the table version header", e))?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(ARROW_STREAM)),
            (TOTAL_ROWS_HEADER, HeaderValue::from(rows.total)),
            (TABLE_VERSION_HEADER, version),
        ],
        rows.ipc,
    )
        .into_response())
}
