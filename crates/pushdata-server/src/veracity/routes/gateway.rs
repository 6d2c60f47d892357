//! The gateway's schema, ingest, job and query endpoints (HTTP only).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use pushdata_core::veracity::wire::{
    AddSchemaRequest, AddSchemaVersionRequest, CreateDatasetRequest, IngestResponse, JobStatus,
    QueryPage, QueryRequest, Schema, SchemaVersion, UpdateDatasetRequest,
};
use serde_json::{Map, json};

use super::{Caller, GatewayBody, Shared, parse_json};
use crate::veracity::definition::check_columns;
use crate::veracity::error::{Result, VeracityError};
use crate::veracity::time::uuid;

/// `POST /workspaces/{ws}/schemas/add`: a schema with version 1 active.
#[utoipa::path(
    post,
    path = "/workspaces/{ws}/schemas/add",
    tag = "veracity gateway",
    params(("ws" = String, Path, description = "workspace id (a UUID)")),
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 201, description = "success", body = serde_json::Value), crate::openapi::VeracityErrors)
)]
pub(crate) async fn add_schema(
    State(s): State<Shared>,
    c: Caller,
    GatewayBody(body): GatewayBody,
) -> Result<(StatusCode, Json<Schema>)> {
    let req: AddSchemaRequest = parse_json(&body, "schemas/add")?;
    check_columns(&req.columns)?;
    if req.name.trim().is_empty() {
        return Err(VeracityError::bad_request("name is required"));
    }
    let id = uuid();
    let version = SchemaVersion {
        id: uuid(),
        schema_version_name: Some(format!("{} V1", req.name)),
        description: req.description.clone(),
        schema_id: Some(id.clone()),
        columns: req.columns,
        is_active: Some(true),
        is_locked: Some(false),
        extra: Map::new(),
    };
    let schema = Schema {
        id,
        name: Some(req.name),
        short_name: req.short_name,
        description: req.description,
        schema_versions: vec![version],
        extra: Map::new(),
    };
    let schema = blocking_schemas(s, move |s| s.schemas.add(&c.workspace, schema)).await?;
    Ok((StatusCode::CREATED, Json(schema)))
}

/// `POST /workspaces/{ws}/schemas/schemaversions/add`: a new active version.
#[utoipa::path(
    post,
    path = "/workspaces/{ws}/schemas/schemaversions/add",
    tag = "veracity gateway",
    params(("ws" = String, Path, description = "workspace id (a UUID)")),
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 201, description = "success", body = serde_json::Value), crate::openapi::VeracityErrors)
)]
pub(crate) async fn add_schema_version(
    State(s): State<Shared>,
    c: Caller,
    GatewayBody(body): GatewayBody,
) -> Result<(StatusCode, Json<serde_json::Value>)> {
    let req: AddSchemaVersionRequest = parse_json(&body, "schemaversions/add")?;
    check_columns(&req.columns)?;
    let version = SchemaVersion {
        id: uuid(),
        schema_version_name: req.schema_version_name,
        description: req.description,
        schema_id: Some(req.schema_id.clone()),
        columns: req.columns,
        is_active: Some(true),
        is_locked: Some(false),
        extra: Map::new(),
    };
    let v = blocking_schemas(s, move |s| {
        s.schemas.add_version(&c.workspace, &req.schema_id, version)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": v.id }))))
}

/// Run a schema change (it writes a file) on a blocking thread.
async fn blocking_schemas<T: Send + 'static>(
    s: Shared,
    f: impl FnOnce(&Shared) -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(move || f(&s))
        .await
        .map_err(|e| VeracityError::internal("background task", e))?
}

/// `GET /workspaces/{ws}/schemas/{schemaId}`.
#[utoipa::path(
    get,
    path = "/workspaces/{ws}/schemas/{schema}",
    tag = "veracity gateway",
    params(("ws" = String, Path, description = "workspace id (a UUID)"), ("schema" = String, Path, description = "schema id")),
    responses((status = 200, description = "success", body = serde_json::Value), crate::openapi::VeracityErrors)
)]
pub(crate) async fn get_schema(
    State(s): State<Shared>,
    c: Caller,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<Schema>> {
    s.schemas
        .get(&c.workspace, &id.to_ascii_lowercase())
        .map(Json)
        .ok_or_else(|| VeracityError::not_found(format!("schema {id} not found")))
}

/// `POST /workspaces/{ws}/ingest/dataset`: register a Create job.
#[utoipa::path(
    post,
    path = "/workspaces/{ws}/ingest/dataset",
    tag = "veracity gateway",
    params(("ws" = String, Path, description = "workspace id (a UUID)")),
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, description = "success", body = serde_json::Value), crate::openapi::VeracityErrors)
)]
pub(crate) async fn register_create(
    State(s): State<Shared>,
    c: Caller,
    GatewayBody(body): GatewayBody,
) -> Result<Json<IngestResponse>> {
    let req: CreateDatasetRequest = parse_json(&body, "ingest/dataset")?;
    Ok(Json(s.register_create(&c.workspace, req).await?))
}

/// `PUT /workspaces/{ws}/ingest/dataset/{datasetId}`: register an update job.
#[utoipa::path(
    put,
    path = "/workspaces/{ws}/ingest/dataset/{id}",
    tag = "veracity gateway",
    params(("ws" = String, Path, description = "workspace id (a UUID)"), ("id" = String, Path, description = "dataset id")),
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, description = "success", body = serde_json::Value), crate::openapi::VeracityErrors)
)]
pub(crate) async fn register_update(
    State(s): State<Shared>,
    c: Caller,
    Path((_, id)): Path<(String, String)>,
    GatewayBody(body): GatewayBody,
) -> Result<Json<IngestResponse>> {
    let req: UpdateDatasetRequest = parse_json(&body, "ingest/dataset/{id}")?;
    Ok(Json(s.register_update(&c.workspace, &id, req).await?))
}

/// `POST /workspaces/{ws}/ingest/job/{jobId}/start` (idempotent): the job's status, once it
/// ended or after a short wait (see `VService::start_answer`).
#[utoipa::path(
    post,
    path = "/workspaces/{ws}/ingest/job/{job}/start",
    tag = "veracity gateway",
    params(("ws" = String, Path, description = "workspace id (a UUID)"), ("job" = String, Path, description = "job id")),
    responses((status = 200, description = "success", body = serde_json::Value), crate::openapi::VeracityErrors)
)]
pub(crate) async fn start_job(
    State(s): State<Shared>,
    c: Caller,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<JobStatus>> {
    let job = s.job(&c.workspace, &id)?;
    Ok(Json(s.start_answer(&job).await))
}

/// `GET /workspaces/{ws}/ingest/job/{jobId}/status`.
#[utoipa::path(
    get,
    path = "/workspaces/{ws}/ingest/job/{job}/status",
    tag = "veracity gateway",
    params(("ws" = String, Path, description = "workspace id (a UUID)"), ("job" = String, Path, description = "job id")),
    responses((status = 200, description = "success", body = serde_json::Value), crate::openapi::VeracityErrors)
)]
pub(crate) async fn job_status(
    State(s): State<Shared>,
    c: Caller,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<JobStatus>> {
    Ok(Json(s.job(&c.workspace, &id)?.status()))
}

/// `POST /workspaces/{ws}/datasets/{datasetId}/query`.
#[utoipa::path(
    post,
    path = "/workspaces/{ws}/datasets/{id}/query",
    tag = "veracity gateway",
    params(("ws" = String, Path, description = "workspace id (a UUID)"), ("id" = String, Path, description = "dataset id")),
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, description = "success", body = serde_json::Value), crate::openapi::VeracityErrors)
)]
pub(crate) async fn query(
    State(s): State<Shared>,
    c: Caller,
    Path((_, id)): Path<(String, String)>,
    GatewayBody(body): GatewayBody,
) -> Result<Json<QueryPage>> {
    let req: QueryRequest = parse_json(&body, "datasets/{id}/query")?;
    let ds = s.dataset(&c.workspace, &id)?;
    let page = tokio::task::spawn_blocking(move || {
        let snapshot = ds.snapshot();
        let batches = snapshot.read_table(crate::veracity::definition::TABLE_ID)?;
        crate::veracity::query::run(&ds.def, &batches, &req)
    })
    .await
    .map_err(|e| VeracityError::internal("background task", e))??;
    Ok(Json(page))
}
