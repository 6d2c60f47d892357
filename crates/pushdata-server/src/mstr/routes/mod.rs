//! HTTP routes, one module per API area, and the state they share.

mod auth;
mod compat;
mod cubes;
mod datasets;
mod extract;
mod folders;
mod hosts;
mod upload;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::rejection::BytesRejection;
use axum::http::{Method, StatusCode, Uri};
use axum::routing::any;
use serde::de::DeserializeOwned;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Service;
use super::error::{ApiError, Result};
use crate::body_deadline::{BodyDeadlineElapsed, find_source, is_timeout};

/// The shared state handle.
pub(crate) type Shared = Arc<Service>;

/// The body, or 413 / 408 / 400 with an error body.
pub(crate) fn body_bytes(
    body: std::result::Result<Bytes, BytesRejection>,
    limit: usize,
) -> Result<Bytes> {
    body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large(limit)
        } else if let Some(e) = timeout_error(&r, None) {
            e
        } else {
            ApiError::bad_request(format!("could not read the request body: {r}"))
        }
    })
}

/// 413 naming the limit.
pub(crate) fn too_large(limit: usize) -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "request body is larger than the server's limit of {limit} bytes; send smaller chunks"
    ))
}

/// 408 when a body read failed because the body stalled past the idle timeout or took
/// longer than the body deadline.
fn timeout_error(
    e: &(dyn std::error::Error + 'static),
    idle: Option<std::time::Duration>,
) -> Option<ApiError> {
    if let Some(d) = find_source::<BodyDeadlineElapsed>(e) {
        Some(ApiError::RequestTimeout(d.to_string()))
    } else if is_timeout(e) {
        Some(ApiError::RequestTimeout(match idle {
            Some(idle) => format!(
                "the request body stalled: nothing arrived for {} s",
                idle.as_secs()
            ),
            None => "the request body stalled past the idle timeout".to_string(),
        }))
    } else {
        None
    }
}

/// The answer to a body that could not be read: 413 past the limit, 408 when it stalled
/// or was too slow, else 400.
pub(crate) fn body_error(e: &axum::Error, limit: usize, idle: std::time::Duration) -> ApiError {
    if find_source::<http_body_util::LengthLimitError>(e).is_some() {
        too_large(limit)
    } else if let Some(t) = timeout_error(e, Some(idle)) {
        t
    } else {
        ApiError::bad_request(format!("could not read the request body: {e}"))
    }
}

/// Read a data-carrying body once a decode slot of `user` is held: such bodies count on
/// the same memory bound as chunks. Returns the slot with the bytes.
pub(crate) async fn read_data_body(
    s: &Shared,
    user: &str,
    body: axum::body::Body,
) -> Result<(crate::mstr::service::ChunkSlot, Bytes)> {
    let slot = s.chunk_slots.acquire(user).await?;
    let bytes = axum::body::to_bytes(body, s.max_body_bytes)
        .await
        .map_err(|e| body_error(&e, s.max_body_bytes, s.body_idle_timeout))?;
    Ok((slot, bytes))
}

/// Parse a JSON body, naming the endpoint in the error.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body for {what}: {e}")))
}

async fn fallback(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(format!("no endpoint {method} {}", uri.path()))
}

/// A known path with a method it does not serve: 405 with an error body.
async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::MethodNotAllowed(format!("{} does not take {method}", uri.path()))
}

/// The span of a request: method and path only. The query string is left out: a Data
/// Lake call carries its SAS signature there, and secrets never reach the log.
fn request_span<B>(req: &axum::http::Request<B>) -> tracing::Span {
    tracing::debug_span!("request", method = %req.method(), path = %req.uri().path())
}

/// The body limit of requests that carry no table data (login, models, sessions, cube
/// requests): a model of thousands of columns fits.
pub(crate) const CONTROL_BODY_BYTES: usize = 1 << 20;

/// All routes under `base` (e.g. `/MicroStrategyLibrary`), with `others` (other services'
/// routes at the server root) merged in, answering only requests whose `Host` names
/// `bound` (or a loopback name, or one of `allowed_hosts`).
pub(crate) fn router(
    state: Shared,
    base: &str,
    bound: std::net::SocketAddr,
    allowed_hosts: Vec<String>,
    body_idle_timeout: std::time::Duration,
    body_deadline: std::time::Duration,
    others: (Router, OpenApi),
) -> Router {
    let hosts = Arc::new(hosts::HostPolicy::new(bound, allowed_hosts));
    let (api, api_doc) = OpenApiRouter::new()
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::create_api_token))
        .routes(routes!(auth::projects))
        .routes(routes!(auth::project))
        .routes(routes!(compat::cluster_nodes))
        .routes(routes!(auth::session_info, auth::session_extend))
        .routes(routes!(auth::user_info))
        .routes(routes!(auth::status))
        .routes(routes!(datasets::create))
        .routes(routes!(datasets::create_model))
        .routes(routes!(datasets::definition))
        .routes(routes!(datasets::update_table))
        .routes(routes!(cubes::table_rows))
        .routes(routes!(upload::create_session))
        .routes(routes!(upload::put_chunk, upload::delete_session))
        .routes(routes!(upload::publish))
        .routes(routes!(upload::publish_status))
        .routes(routes!(folders::predefined_folder))
        .routes(routes!(folders::folder_contents))
        .routes(routes!(compat::get_object, compat::delete_object))
        .routes(routes!(compat::cube_definition))
        .routes(routes!(cubes::create_instance))
        .routes(routes!(cubes::instance_page))
        .routes(routes!(compat::cube_definition_v1))
        .split_for_parts();
    let api = api
        .fallback(fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(CONTROL_BODY_BYTES))
        .with_state(state);
    let (others, others_doc) = others;
    let (app, api_doc) = if base.is_empty() {
        (api.merge(others), api_doc)
    } else {
        // Every path under the base is this API's, also unknown ones: without this route
        // they would reach the other services' root routes (`/{filesystem}/{*path}`).
        let api = api.route("/{*rest}", any(fallback));
        let app = Router::new()
            .nest(base, api)
            .merge(others)
            .fallback(fallback);
        (app, OpenApi::default().nest(base, api_doc))
    };
    let (doc_route, doc_doc) = OpenApiRouter::new()
        .routes(routes!(crate::openapi::openapi_json))
        .split_for_parts();
    let doc = crate::openapi::document([api_doc, others_doc, doc_doc]);
    let doc = Arc::new(doc.to_json().unwrap_or_default());
    let app = app.merge(doc_route.layer(axum::Extension(doc)));
    // Both services' bodies: abandoned when they stall, cut off when they trickle.
    app.layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
        body_idle_timeout,
    ))
    .layer(tower::util::MapRequestLayer::new(move |req| {
        crate::body_deadline::with_deadline(req, body_deadline)
    }))
    .layer(axum::middleware::from_fn_with_state(
        hosts,
        hosts::check_host,
    ))
    .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(request_span))
}
