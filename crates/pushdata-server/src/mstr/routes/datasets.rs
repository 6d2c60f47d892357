//! The single-request workflow (`POST /api/datasets`, `PATCH .../tables/{table}`), the
//! model of the multi-request workflow (`POST /api/datasets/models`) and the dataset
//! definition (`GET /api/datasets/{id}`).

use arrow_array::RecordBatch;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use pushdata_core::wire::{
    CreateDatasetResponse, CreateModelResponse, DatasetColumn, DatasetCreator, DatasetDefinition,
    DatasetDefinitionBody, DatasetDefinitionResult, DatasetModel, DatasetObjects, DatasetTable,
    Orientation, TableCreator, TableRef, UPDATE_POLICY_HEADER, UpdatePolicy,
};

use super::extract::{InDataset, InProject};
use super::{CONTROL_BODY_BYTES, Shared, body_bytes, parse_json, read_data_body};
use crate::mstr::Dataset;
use crate::mstr::decode::{ChunkLayout, Place, decode_chunk};
use crate::mstr::definition::{DatasetDef, check_key_columns, check_policy, merge_policy};
use crate::mstr::error::{ApiError, Result};
use crate::mstr::publish::blocking;
use crate::store::{MergePolicy, TableDef, TableUpload, UploadSource};

/// Decode a single-request table body against the stored table.
fn decode_table(table: &TableDef, tc: &TableCreator, policy: UpdatePolicy) -> Result<RecordBatch> {
    let names: Vec<String> = tc.column_headers.iter().map(|c| c.name.clone()).collect();
    let names = if names.is_empty() { None } else { Some(names) };
    let layout = ChunkLayout::new(
        table.columns.clone(),
        names.as_deref(),
        Orientation::Row,
        &table.name,
    )?;
    check_key_columns(policy, table, &layout.missing())?;
    Ok(decode_chunk(
        tc.data.as_bytes(),
        &layout,
        &Place::table(&table.name),
    )?)
}

/// `POST /api/datasets`: create a dataset and publish its data in one request.
#[utoipa::path(
    post,
    path = "/api/datasets",
    tag = "datasets",
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, description = "success", body = serde_json::Value), crate::openapi::MstrErrors)
)]
pub(crate) async fn create(
    State(s): State<Shared>,
    InProject { user, project }: InProject,
    body: Body,
) -> Result<Json<CreateDatasetResponse>> {
    // The decoded data stays in memory until it is published: the slot is held till then.
    let (_slot, bytes) = read_data_body(&s, &user.user, body).await?;
    let def = blocking(move || {
        let creator: DatasetCreator = parse_json(&bytes, "POST /api/datasets")?;
        let def = DatasetDef::from_creator(&creator, &project.id, &user.user)?;
        let mut uploads = Vec::with_capacity(creator.tables.len());
        for (t, tc) in def.tables.iter().zip(&creator.tables) {
            let batch = decode_table(t, tc, UpdatePolicy::Replace)?;
            uploads.push(TableUpload {
                table_id: t.id.clone(),
                policy: MergePolicy::Replace,
                source: UploadSource::Batches(vec![batch]),
            });
        }
        Ok((def, uploads))
    })
    .await?;
    let (def, uploads) = def;
    let ds = s.catalog.create(def)?;
    if let Err(e) = s.commit(&ds, uploads, || false).await {
        let _ = s.catalog.delete(&ds.def.id);
        return Err(e);
    }
    tracing::info!(dataset = %ds.def.id, name = %ds.def.name, "dataset created (single request)");
    Ok(Json(CreateDatasetResponse {
        dataset_id: ds.def.id.clone(),
        name: ds.def.name.clone(),
        tables: ds
            .def
            .tables
            .iter()
            .map(|t| TableRef {
                id: t.id.clone(),
                name: t.name.clone(),
            })
            .collect(),
    }))
}

/// `PATCH /api/datasets/{id}/tables/{table}`: apply one table's data under the
/// `updatePolicy` header and republish. The table is named by id or by name.
#[utoipa::path(
    patch,
    path = "/api/datasets/{id}/tables/{table}",
    tag = "datasets",
    params(("id" = String, Path, description = "dataset id"), ("table" = String, Path, description = "table name")),
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, description = "success", body = serde_json::Value), crate::openapi::MstrErrors)
)]
pub(crate) async fn update_table(
    State(s): State<Shared>,
    InDataset { user, ds }: InDataset,
    Path((_, table)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<StatusCode> {
    let t = ds.def.table(&table).cloned().ok_or_else(|| {
        ApiError::not_found(format!(
            "dataset {} has no table {table:?}; its tables are {}",
            ds.def.id,
            ds.def.table_names()
        ))
    })?;
    let policy_text = headers
        .get(UPDATE_POLICY_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ApiError::bad_request(
                "missing updatePolicy header: one of add, update, upsert, replace",
            )
        })?;
    let policy: UpdatePolicy = policy_text
        .parse()
        .map_err(|e| ApiError::bad_request(format!("updatePolicy header: {e}")))?;
    check_policy(policy, &t)?;
    let (_slot, bytes) = read_data_body(&s, &user.user, body).await?;
    let t2 = t.clone();
    let batch = blocking(move || {
        let tc: TableCreator = parse_json(&bytes, "PATCH /api/datasets/{id}/tables/{table}")?;
        decode_table(&t2, &tc, policy)
    })
    .await?;
    let upload = TableUpload {
        table_id: t.id.clone(),
        policy: merge_policy(policy),
        source: UploadSource::Batches(vec![batch]),
    };
    s.commit(&ds, vec![upload], || false).await?;
    tracing::info!(dataset = %ds.def.id, table = %t.name, %policy, "table updated (single request)");
    Ok(StatusCode::OK)
}

/// `POST /api/datasets/models`: create a dataset definition (no data yet).
#[utoipa::path(
    post,
    path = "/api/datasets/models",
    tag = "datasets",
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, description = "success", body = serde_json::Value), crate::openapi::MstrErrors)
)]
pub(crate) async fn create_model(
    State(s): State<Shared>,
    InProject { user, project }: InProject,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Result<Json<CreateModelResponse>> {
    let bytes = body_bytes(body, CONTROL_BODY_BYTES)?;
    let model: DatasetModel = parse_json(&bytes, "POST /api/datasets/models")?;
    let def = DatasetDef::from_model(model, &project.id, &user.user)?;
    let ds = s.catalog.create(def)?;
    tracing::info!(dataset = %ds.def.id, name = %ds.def.name, "dataset model created");
    Ok(Json(CreateModelResponse {
        id: ds.def.id.clone(),
        name: ds.def.name.clone(),
    }))
}

/// The definition body for a dataset, with the requested lists.
fn definition_of(
    ds: &Dataset,
    tables: bool,
    columns: bool,
    attributes: bool,
    metrics: bool,
) -> DatasetDefinition {
    let m = ds.manifest();
    let (attrs, mets) = super::compat::cube_objects(ds);
    DatasetDefinition {
        id: ds.def.id.clone(),
        name: ds.def.name.clone(),
        result: DatasetDefinitionResult {
            definition: DatasetDefinitionBody {
                available_objects: DatasetObjects {
                    tables: tables.then(|| {
                        ds.def
                            .tables
                            .iter()
                            .map(|t| DatasetTable {
                                id: t.id.clone(),
                                name: t.name.clone(),
                                row_count: m.tables.get(&t.id).map(|v| v.rows).unwrap_or(0),
                            })
                            .collect()
                    }),
                    columns: columns.then(|| {
                        ds.def
                            .tables
                            .iter()
                            .flat_map(|t| {
                                t.columns.iter().map(|c| DatasetColumn {
                                    id: crate::ids::stable_id(&format!("{}/{}", t.id, c.name)),
                                    column_name: c.name.clone(),
                                    table_name: t.name.clone(),
                                    table_id: t.id.clone(),
                                    data_type: c.data_type,
                                })
                            })
                            .collect()
                    }),
                    attributes: attributes.then_some(attrs),
                    metrics: metrics.then_some(mets),
                },
            },
        },
    }
}

/// `GET /api/datasets/{id}?fields=tables&fields=columns`.
#[utoipa::path(
    get,
    path = "/api/datasets/{id}",
    tag = "datasets",
    params(("id" = String, Path, description = "dataset id")),
    responses((status = 200, description = "success", body = serde_json::Value), crate::openapi::MstrErrors)
)]
pub(crate) async fn definition(
    InDataset { ds, .. }: InDataset,
    RawQuery(q): RawQuery,
) -> Result<Json<DatasetDefinition>> {
    let fields: Vec<String> = q
        .as_deref()
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .filter(|(k, _)| *k == "fields")
        .flat_map(|(_, v)| {
            v.split([',', ' '])
                .map(|x| x.replace("%2C", ","))
                .collect::<Vec<_>>()
        })
        .collect();
    let has = |name: &str| fields.iter().any(|f| f.eq_ignore_ascii_case(name));
    // Without `fields`, attributes and metrics are returned (as the real server does).
    let none = fields.is_empty();
    Ok(Json(definition_of(
        &ds,
        has("tables"),
        has("columns"),
        none || has("attributes"),
        none || has("metrics"),
    )))
}
