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
use super::{CONTROL_BODY_BYTES, Shared, body_bytes, parse_json};
use crate::mstr::decode::ChunkBodyReader;
use crate::mstr::error::{ApiError, Result};
use crate::mstr::publish::blocking;

/// `POST /api/datasets/{id}/uploadSessions`.
pub(crate) async fn create_session(
    State(s): State<Shared>,
    InDataset { ds, .. }: InDataset,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Result<Json<UploadSessionResponse>> {
    let bytes = body_bytes(body, CONTROL_BODY_BYTES)?;
    let req: UploadSessionRequest = parse_json(&bytes, "POST /api/datasets/{id}/uploadSessions")?;
    let sid = s.create_session(&ds, &req)?;
    Ok(Json(UploadSessionResponse {
        upload_session_id: sid,
    }))
}

fn too_large(limit: usize) -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "request body is larger than the server's limit of {limit} bytes; send smaller chunks"
    ))
}

/// Whether a body read failed because the body limit was hit (axum's `LengthLimitError`
/// somewhere in the error's source chain).
fn is_length_limit(e: &axum::Error) -> bool {
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = src {
        if err.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        src = err.source();
    }
    false
}

/// Whether a body read failed because the body sent nothing for the idle timeout.
fn is_timeout(e: &axum::Error) -> bool {
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = src {
        if err.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        src = err.source();
    }
    false
}

/// `PUT /api/datasets/{id}/uploadSessions/{sid}`: one chunk. Re-sending an index replaces it.
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
    let _slot = s.chunk_slots.acquire(&user.user).await?;
    // The body is read frame by frame; the base64 data is decoded as it arrives.
    let mut reader = ChunkBodyReader::new(declared.and_then(|n| usize::try_from(n).ok()));
    let mut frames = body.into_data_stream();
    let mut received = 0usize;
    while let Some(frame) = frames.next().await {
        let frame = frame.map_err(|e| {
            if is_length_limit(&e) {
                too_large(limit)
            } else if is_timeout(&e) {
                ApiError::RequestTimeout(format!(
                    "the chunk body stalled: nothing arrived for {} s",
                    s.body_idle_timeout.as_secs()
                ))
            } else {
                ApiError::bad_request(format!("could not read the chunk body: {e}"))
            }
        })?;
        received += frame.len();
        if received > limit {
            return Err(too_large(limit));
        }
        reader.feed(&frame)?;
    }
    let service = s.clone();
    // Finishing may parse an unusual body whole: CPU work, off the async threads.
    blocking(move || service.stage_chunk(&sess, reader.finish()?)).await?;
    Ok(StatusCode::OK)
}

/// `POST .../publish`: starts publishing in the background and returns at once.
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
pub(crate) async fn publish_status(
    State(s): State<Shared>,
    InDataset { ds, .. }: InDataset,
    Path((_, sid)): Path<(String, String)>,
) -> Result<Json<PublishStatus>> {
    Ok(Json(s.session(&ds, &sid)?.status()))
}

/// `DELETE /api/datasets/{id}/uploadSessions/{sid}`: end the session; a running publish
/// is cancelled if it has not swapped yet.
pub(crate) async fn delete_session(
    State(s): State<Shared>,
    InDataset { ds, .. }: InDataset,
    Path((_, sid)): Path<(String, String)>,
) -> Result<StatusCode> {
    let sess: Arc<_> = s.session(&ds, &sid)?;
    s.delete_session(&sess);
    Ok(StatusCode::OK)
}
