//! HTTP routes of the Veracity emulation: the token endpoint and the Data Lake path calls
//! at the server root (the file system is the first path segment), the gateway under
//! [`GATEWAY_BASE`]. Handlers translate HTTP only; the service does the work.

mod gateway;
mod lake;
mod token;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::routing::any;
use serde::de::DeserializeOwned;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{Result, VeracityError};
use super::service::VService;

/// The shared state handle.
pub(crate) type Shared = Arc<VService>;

/// Where the gateway's v2 API is served.
pub(crate) const GATEWAY_BASE: &str = "/veracity/dw/gateway/api/v2";

/// Largest gateway request body (schemas, register and query requests).
const CONTROL_BODY_BYTES: usize = 1 << 20;

/// A caller API Management let through (subscription key and bearer token checked), and
/// the workspace of the path.
#[derive(Debug)]
pub(crate) struct Caller {
    /// The workspace id (a UUID, lower case).
    pub(crate) workspace: String,
}

impl FromRequestParts<Shared> for Caller {
    type Rejection = VeracityError;

    async fn from_request_parts(parts: &mut Parts, s: &Shared) -> Result<Self> {
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        s.auth.check_gateway(
            header(pushdata_core::veracity::wire::SUBSCRIPTION_KEY_HEADER),
            header("authorization"),
        )?;
        let Path(params) = Path::<Vec<(String, String)>>::from_request_parts(parts, s)
            .await
            .map_err(|e| VeracityError::bad_request(format!("invalid path: {e}")))?;
        let ws = params
            .iter()
            .find(|(k, _)| k == "ws")
            .map(|(_, v)| v.to_ascii_lowercase())
            .unwrap_or_default();
        if !super::time::is_uuid(&ws) {
            return Err(VeracityError::not_found(format!(
                "workspace {ws:?} not found (workspace ids are UUIDs)"
            )));
        }
        Ok(Caller { workspace: ws })
    }
}

/// A gateway request body, read whole under the gateway's limit; one that cannot be read
/// (over the limit, cut short, stalled) is a gateway 400 saying why, not axum's plain text.
#[derive(Debug)]
pub(crate) struct GatewayBody(pub(crate) Bytes);

impl<S: Send + Sync> FromRequest<S> for GatewayBody {
    type Rejection = VeracityError;

    async fn from_request(req: Request, state: &S) -> Result<Self> {
        Bytes::from_request(req, state)
            .await
            .map(GatewayBody)
            .map_err(|r| {
                VeracityError::bad_request(format!(
                    "could not read the request body (at most {CONTROL_BODY_BYTES} bytes): {}",
                    r.body_text()
                ))
            })
    }
}

/// Parse a JSON body, naming the endpoint in the error.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice(bytes)
        .map_err(|e| VeracityError::bad_request(format!("invalid JSON body for {what}: {e}")))
}

/// Unknown gateway paths: 404 (after API Management's checks, as the real gateway).
async fn gateway_fallback(
    axum::extract::State(s): axum::extract::State<Shared>,
    headers: axum::http::HeaderMap,
) -> VeracityError {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match s.auth.check_gateway(
        header(pushdata_core::veracity::wire::SUBSCRIPTION_KEY_HEADER),
        header("authorization"),
    ) {
        Err(e) => e,
        Ok(()) => VeracityError::not_found("no such gateway endpoint"),
    }
}

/// The emulation's routes, to be merged at the server root, and their OpenAPI document.
pub(crate) fn router(state: Shared) -> (Router, OpenApi) {
    let (gateway, gateway_doc) = OpenApiRouter::new()
        .routes(routes!(gateway::add_schema))
        .routes(routes!(gateway::add_schema_version))
        .routes(routes!(gateway::get_schema))
        .routes(routes!(gateway::register_create))
        .routes(routes!(gateway::register_update))
        .routes(routes!(gateway::start_job))
        .routes(routes!(gateway::job_status))
        .routes(routes!(gateway::query))
        .split_for_parts();
    let gateway = gateway
        .route("/{*rest}", any(gateway_fallback))
        .method_not_allowed_fallback(gateway_fallback)
        .layer(axum::extract::DefaultBodyLimit::max(CONTROL_BODY_BYTES));
    // The token form is small; Data Lake appends stream up to the server's body limit.
    let (schemas, paths, token) = routes!(token::token);
    let token = token.layer(axum::extract::DefaultBodyLimit::max(CONTROL_BODY_BYTES));
    let (root, root_doc) = OpenApiRouter::new()
        .routes((schemas, paths, token))
        .routes(routes!(lake::put_path, lake::patch_path))
        .split_for_parts();
    let root = root.method_not_allowed_fallback(lake::other_method);
    let router = Router::new()
        .nest(GATEWAY_BASE, gateway)
        .merge(root)
        .with_state(state);
    let mut doc = OpenApi::default().nest(GATEWAY_BASE, gateway_doc);
    doc.merge(root_doc);
    (router, doc)
}
