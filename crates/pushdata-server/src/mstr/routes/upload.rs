//! The multi-request workflow over HTTP: upload sessions, chunks, publish, publish status,
//! cancel. The work is the service's; these handlers read requests and write answers.

use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use futures::StreamExt;
use pushdata_core::wire::{PublishStatus, UploadSessionRequest, UploadSessionResponse};

use super::extract::InDataset;
use super::{CONTROL_BODY_BYTES, Shared, body_bytes, body_error, parse_json, too_large};
use crate::mstr::decode::{ChunkBodyReader, Layouts};
use crate::mstr::error::Result;
use crate::mstr::publish::blocking;
use crate::mstr::service::early_rows;

/// `POST /api/datasets/{id}/uploadSessions`.
#[utoipa::path(
    post,
    path = "/api/datasets/{id}/uploadSessions",
    tag = "upload",
    params(("id" = String, Path, description = "dataset id")),
    request_body(content = crate::openapi::SessionBody, content_type = "application/json"),
    responses((status = 200, description = "success", body = serde_json::Value), crate::openapi::MstrErrors)
)]
pub(crate) async fn create_session(
    State(s): State<Shared>,
    InDataset { user, ds }: InDataset,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Result<Json<UploadSessionResponse>> {
    let bytes = body_bytes(body, CONTROL_BODY_BYTES)?;
    let req: UploadSessionRequest = parse_json(&bytes, "POST /api/datasets/{id}/uploadSessions")?;
    let sid = s.create_session(&ds, &user.user, &req)?;
    Ok(Json(UploadSessionResponse {
        upload_session_id: sid,
    }))
}

/// `PUT /api/datasets/{id}/uploadSessions/{sid}`: one chunk. Re-sending an index replaces it.
#[utoipa::path(
    put,
    path = "/api/datasets/{id}/uploadSessions/{sid}",
    tag = "upload",
    params(("id" = String, Path, description = "dataset id"), ("sid" = String, Path, description = "upload session id")),
    request_body(content = crate::openapi::ChunkBody, content_type = "application/json"),
    responses((status = 200, description = "success"), crate::openapi::MstrErrors)
)]
pub(crate) async fn put_chunk(
    State(s): State<Shared>,
    InDataset { user, ds }: InDataset,
    Path((_, sid)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<StatusCode> {
    let sess = s.session(&ds, &sid)?;
    sess.ensure_open()?;
    let limit = s.max_body_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit));
    }
    // Read the body only once a decode slot is free: memory stays bounded by a few chunks.
    let slot = s.chunk_slots.acquire(&user.user).await?;
    // The body is read frame by frame; the base64 data is decoded as it arrives, and the
    // rows of a large ROW chunk are decoded in parts meanwhile.
    let rows_of = sess.clone();
    let mut reader = ChunkBodyReader::new(declared.and_then(|n| usize::try_from(n).ok()))
        .with_layouts(Layouts::new(move |table, index| {
            early_rows(&rows_of, table, index)
        }));
    let mut frames = body.into_data_stream();
    let mut received = 0usize;
    while let Some(frame) = frames.next().await {
        let frame = frame.map_err(|e| body_error(&e, limit, s.body_idle_timeout))?;
        received += frame.len();
        if received > limit {
            return Err(too_large(limit));
        }
        reader.feed(&frame)?;
    }
    let service = s.clone();
    // Finishing may parse an unusual body whole: CPU work, off the async threads.
    let write = blocking(move || service.stage_chunk(&sess, reader.finish()?)).await?;
    if let Some(write) = write {
        // The chunk's file is written after the answer; its decoded rows keep the slot
        // until they are written (not through the fsync), so memory stays bounded by the
        // slots.
        tokio::task::spawn_blocking(move || write.run(move || drop(slot)));
    }
    Ok(StatusCode::OK)
}

/// `POST .../publish`: starts publishing in the background and returns at once.
#[utoipa::path(
    post,
    path = "/api/datasets/{id}/uploadSessions/{sid}/publish",
    tag = "upload",
    params(("id" = String, Path, description = "dataset id"), ("sid" = String, Path, description = "upload session id")),
    responses((status = 200, description = "success"), crate::openapi::MstrErrors)
)]
pub(crate) async fn publish(
    State(s): State<Shared>,
    InDataset { ds, .. }: InDataset,
    Path((_, sid)): Path<(String, String)>,
) -> Result<StatusCode> {
    let sess = s.session(&ds, &sid)?;
    s.start_publish(ds, sess)?;
    Ok(StatusCode::OK)
}

/// `GET .../publishStatus`: 6 "sql execution" while running, 1 "result ready" when done,
/// 3 with the reason when failed.
#[utoipa::path(
    get,
    path = "/api/datasets/{id}/uploadSessions/{sid}/publishStatus",
    tag = "upload",
    params(("id" = String, Path, description = "dataset id"), ("sid" = String, Path, description = "upload session id")),
    responses((status = 200, description = "success", body = serde_json::Value), crate::openapi::MstrErrors)
)]
pub(crate) async fn publish_status(
    State(s): State<Shared>,
    InDataset { ds, .. }: InDataset,
    Path((_, sid)): Path<(String, String)>,
) -> Result<Json<PublishStatus>> {
    Ok(Json(s.session(&ds, &sid)?.status()))
}

/// `DELETE /api/datasets/{id}/uploadSessions/{sid}`: end the session; a running publish
/// is cancelled if it has not swapped yet.
#[utoipa::path(
    delete,
    path = "/api/datasets/{id}/uploadSessions/{sid}",
    tag = "upload",
    params(("id" = String, Path, description = "dataset id"), ("sid" = String, Path, description = "upload session id")),
    responses((status = 204, description = "success"), crate::openapi::MstrErrors)
)]
pub(crate) async fn delete_session(
    State(s): State<Shared>,
    InDataset { ds, .. }: InDataset,
    Path((_, sid)): Path<(String, String)>,
) -> Result<StatusCode> {
    let sess: Arc<_> = s.session(&ds, &sid)?;
    s.delete_session(&sess);
    Ok(StatusCode::OK)
}
