//! The single-request workflow (`POST /api/datasets`, `PATCH .../tables/{table}`), the
//! model of the multi-request workflow (`POST /api/datasets/models`) and the dataset
//! definition (`GET /api/datasets/{id}`).

use std::sync::Arc;

use arrow_array::RecordBatch;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use pushdata_core::wire::{
    CreateDatasetResponse, CreateModelResponse, DatasetColumn, DatasetCreator, DatasetDefinition,
    DatasetDefinitionBody, DatasetDefinitionResult, DatasetModel, DatasetObjects, DatasetTable,
    Orientation, TableCreator, TableRef, UPDATE_POLICY_HEADER, UpdatePolicy,
};

use super::{Shared, blocking, body_bytes, parse_json};
use crate::decode::{ChunkLayout, Place, decode_chunk};
use crate::error::{Result, ServerError};
use crate::policy::check_policy;
use crate::storage::{Dataset, DatasetDef, Manifest, TableDef, TableUpload, UploadSource};

/// Decode a single-request table body against the stored table.
fn decode_table(table: &TableDef, tc: &TableCreator) -> Result<RecordBatch> {
    let names: Vec<String> = tc.column_headers.iter().map(|c| c.name.clone()).collect();
    let names = if names.is_empty() { None } else { Some(names) };
    let layout = ChunkLayout::new(
        table.columns.clone(),
        names.as_deref(),
        Orientation::Row,
        &table.name,
    )?;
    Ok(decode_chunk(
        tc.data.as_bytes(),
        &layout,
        &Place::table(&table.name),
    )?)
}

/// Publish now (single-request workflow), holding the dataset's publish lock.
pub async fn publish_now(
    s: &Shared,
    ds: &Arc<Dataset>,
    uploads: Vec<TableUpload>,
) -> Result<Manifest> {
    let _guard = ds.publish_lock.lock().await;
    let ds2 = ds.clone();
    let fail = s.fail_publish_after_staging;
    blocking(move || ds2.publish(uploads, fail, &|| false)).await
}

/// `POST /api/datasets`: create a dataset and publish its data in one request.
pub async fn create(
    State(s): State<Shared>,
    headers: HeaderMap,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Result<Json<CreateDatasetResponse>> {
    let user = s.user(&headers)?;
    let project = s.project(&headers)?.clone();
    let bytes = body_bytes(body, s.max_body_bytes)?;
    let def = blocking(move || {
        let creator: DatasetCreator = parse_json(&bytes, "POST /api/datasets")?;
        let def = DatasetDef::from_creator(&creator, &project.id, &user.user)?;
        let mut uploads = Vec::with_capacity(creator.tables.len());
        for (t, tc) in def.tables.iter().zip(&creator.tables) {
            let batch = decode_table(t, tc)?;
            uploads.push(TableUpload {
                table_id: t.id.clone(),
                policy: UpdatePolicy::Replace,
                source: UploadSource::Batches(vec![batch]),
            });
        }
        Ok((def, uploads))
    })
    .await?;
    let (def, uploads) = def;
    let ds = s.catalog.create(def)?;
    if let Err(e) = publish_now(&s, &ds, uploads).await {
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
pub async fn update_table(
    State(s): State<Shared>,
    Path((id, table)): Path<(String, String)>,
    headers: HeaderMap,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Result<StatusCode> {
    let (_user, ds) = s.dataset(&headers, &id)?;
    let t = ds.def.table(&table).cloned().ok_or_else(|| {
        ServerError::not_found(format!(
            "dataset {} has no table {table:?}; its tables are {}",
            ds.def.id,
            ds.def.table_names()
        ))
    })?;
    let policy_text = headers
        .get(UPDATE_POLICY_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ServerError::bad_request(
                "missing updatePolicy header: one of add, update, upsert, replace",
            )
        })?;
    let policy: UpdatePolicy = policy_text
        .parse()
        .map_err(|e| ServerError::bad_request(format!("updatePolicy header: {e}")))?;
    check_policy(policy, &t.key_columns, &t.name)?;
    let bytes = body_bytes(body, s.max_body_bytes)?;
    let t2 = t.clone();
    let batch = blocking(move || {
        let tc: TableCreator = parse_json(&bytes, "PATCH /api/datasets/{id}/tables/{table}")?;
        decode_table(&t2, &tc)
    })
    .await?;
    publish_now(
        &s,
        &ds,
        vec![TableUpload {
            table_id: t.id.clone(),
            policy,
            source: UploadSource::Batches(vec![batch]),
        }],
    )
    .await?;
    tracing::info!(dataset = %ds.def.id, table = %t.name, %policy, "table updated (single request)");
    Ok(StatusCode::OK)
}

/// `POST /api/datasets/models`: create a dataset definition (no data yet).
pub async fn create_model(
    State(s): State<Shared>,
    headers: HeaderMap,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Result<Json<CreateModelResponse>> {
    let user = s.user(&headers)?;
    let project = s.project(&headers)?.clone();
    let bytes = body_bytes(body, s.max_body_bytes)?;
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
pub fn definition_of(
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
pub async fn definition(
    State(s): State<Shared>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Json<DatasetDefinition>> {
    let (_u, ds) = s.dataset(&headers, &id)?;
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
