//! The multi-request workflow: upload sessions, chunks, publish, publish status, cancel.

use std::collections::HashSet;

use futures::StreamExt;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use arrow_array::RecordBatch;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use pushdata_core::wire::{PublishStatus, UploadSessionRequest, UploadSessionResponse};

use super::{Shared, blocking, body_bytes, parse_json};
use crate::decode::{ChunkBodyReader, ChunkLayout, Place, ReceivedChunk, decode_json_parts};
use crate::error::{Result, ServerError};
use crate::ids;
use crate::policy::check_policy;
use crate::sessions::{Phase, SessionTable, StagedChunk, StagedData, StagingMemory, UploadSession};
use crate::storage::{TableUpload, UploadSource, files};

/// `POST /api/datasets/{id}/uploadSessions`.
pub async fn create_session(
    State(s): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Result<Json<UploadSessionResponse>> {
    let (_u, ds) = s.dataset(&headers, &id)?;
    s.sweep_sessions();
    let bytes = body_bytes(body, s.max_body_bytes)?;
    let req: UploadSessionRequest = parse_json(&bytes, "POST /api/datasets/{id}/uploadSessions")?;
    if req.tables.is_empty() {
        return Err(ServerError::bad_request(
            "the upload session names no tables; give tables[{name, updatePolicy}]",
        ));
    }
    let mut tables = Vec::with_capacity(req.tables.len());
    let mut seen = HashSet::new();
    for t in &req.tables {
        let td = ds.def.table(&t.name).ok_or_else(|| {
            ServerError::bad_request(format!(
                "dataset {} has no table {:?}; its tables are {}",
                ds.def.id,
                t.name,
                ds.def.table_names()
            ))
        })?;
        if !seen.insert(td.id.clone()) {
            return Err(ServerError::bad_request(format!(
                "table {:?} appears twice in the upload session",
                td.name
            )));
        }
        check_policy(t.update_policy, &td.key_columns, &td.name)?;
        let layout = ChunkLayout::new(
            td.columns.clone(),
            t.column_headers.as_deref(),
            t.orientation.unwrap_or_default(),
            &td.name,
        )?;
        tables.push(SessionTable {
            table_id: td.id.clone(),
            table_name: td.name.clone(),
            policy: t.update_policy,
            layout,
        });
    }
    let sid = ids::new_object_id();
    let dir = s.catalog.staging_dir().join(&sid);
    std::fs::create_dir_all(&dir)
        .map_err(|e| ServerError::io(format!("creating {}", dir.display()), e))?;
    let session = UploadSession::new(sid.clone(), ds.def.id.clone(), tables, dir);
    s.sessions.write().insert(sid.clone(), session);
    tracing::info!(dataset = %ds.def.id, session = %sid, "upload session created");
    Ok(Json(UploadSessionResponse {
        upload_session_id: sid,
    }))
}

fn not_open(sess: &UploadSession, phase: &Phase) -> ServerError {
    let what = match phase {
        Phase::Open => "open",
        Phase::Publishing => "being published",
        Phase::Published => "already published",
        Phase::Failed(_) => "finished (its publish failed)",
    };
    ServerError::Conflict(format!(
        "upload session {} is {what}; it accepts no more chunks or publishes (create a new upload session)",
        sess.id
    ))
}

/// Decode a received chunk and stage it (blocking).
fn stage_chunk(sess: &UploadSession, staging: &StagingMemory, req: ReceivedChunk) -> Result<()> {
    let ti = sess.table(&req.table_name).ok_or_else(|| {
        ServerError::bad_request(format!(
            "chunk {} names table {:?}, which is not in upload session {}; its tables are {}",
            req.index,
            req.table_name,
            sess.id,
            sess.tables
                .iter()
                .map(|t| format!("{:?}", t.table_name))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    let st = &sess.tables[ti];
    let place = Place::chunk(&st.table_name, req.index);
    let started = std::time::Instant::now();
    let parts = decode_json_parts(&req.json, &st.layout, &place)?;
    let decode_ms = started.elapsed().as_millis();
    let rows = parts.iter().map(RecordBatch::num_rows).sum();
    let data = match staging.try_keep(parts) {
        Ok(kept) => StagedData::Memory(Arc::new(kept)),
        Err(parts) => {
            let path = sess.dir.join(format!(
                "t{ti}-c{}-{}.arrow",
                req.index.0,
                &ids::new_token()[..12]
            ));
            files::write_ipc(&path, &parts)?;
            StagedData::File(path)
        }
    };
    let in_memory = matches!(data, StagedData::Memory(_));
    let mut state = sess.state.lock();
    if state.phase != Phase::Open || sess.is_cancelled() {
        data.discard();
        return Err(not_open(sess, &state.phase));
    }
    if let Some(old) = state.chunks[ti].insert(req.index.0, StagedChunk { data, rows }) {
        old.data.discard();
    }
    tracing::debug!(session = %sess.id, table = %st.table_name, index = req.index.0, rows, decode_ms, in_memory, "chunk staged");
    Ok(())
}

/// `PUT /api/datasets/{id}/uploadSessions/{sid}`: one chunk. Re-sending an index replaces it.
pub async fn put_chunk(
    State(s): State<Shared>,
    Path((id, sid)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<StatusCode> {
    let (_u, ds) = s.dataset(&headers, &id)?;
    let sess = s.session(&ds, &sid)?;
    {
        let st = sess.state.lock();
        if st.phase != Phase::Open {
            return Err(not_open(&sess, &st.phase));
        }
    }
    let limit = s.max_body_bytes;
    let too_large = || {
        ServerError::PayloadTooLarge(format!(
            "request body is larger than the server's limit of {limit} bytes; send smaller chunks"
        ))
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    // Read the body only once a decode slot is free: memory stays bounded by a few chunks.
    let _permit = s
        .chunk_slots
        .acquire()
        .await
        .map_err(|e| ServerError::storage("chunk slots", e))?;
    // The body is read frame by frame; the base64 data is decoded as it arrives.
    let mut reader = ChunkBodyReader::new(declared.and_then(|n| usize::try_from(n).ok()));
    let mut frames = body.into_data_stream();
    let mut received = 0usize;
    while let Some(frame) = frames.next().await {
        let frame = frame.map_err(|e| {
            let mut src: Option<&(dyn std::error::Error + 'static)> = Some(&e);
            while let Some(err) = src {
                if err.to_string().contains("length limit exceeded") {
                    return too_large();
                }
                src = err.source();
            }
            ServerError::bad_request(format!("could not read the chunk body: {e}"))
        })?;
        received += frame.len();
        if received > limit {
            return Err(too_large());
        }
        reader.feed(&frame)?;
    }
    let state = s.clone();
    // Finishing may parse and decode a raw body whole: on the blocking pool too.
    blocking(move || stage_chunk(&sess, &state.staging_memory, reader.finish()?)).await?;
    Ok(StatusCode::OK)
}

/// `POST .../publish`: starts publishing in the background and returns at once.
pub async fn publish(
    State(s): State<Shared>,
    Path((id, sid)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode> {
    let (_u, ds) = s.dataset(&headers, &id)?;
    let sess = s.session(&ds, &sid)?;
    let uploads = {
        let mut st = sess.state.lock();
        if st.phase != Phase::Open {
            return Err(not_open(&sess, &st.phase));
        }
        st.phase = Phase::Publishing;
        sess.tables
            .iter()
            .zip(&st.chunks)
            .map(|(t, chunks)| TableUpload {
                table_id: t.table_id.clone(),
                policy: t.policy,
                source: UploadSource::Staged(chunks.values().map(|c| c.data.clone()).collect()),
            })
            .collect::<Vec<_>>()
    };
    let fail = s.fail_publish_after_staging;
    let delay = s.publish_delay;
    let sess2 = sess.clone();
    tokio::spawn(async move {
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let guard = ds.publish_lock.lock().await;
        let ds2 = ds.clone();
        let sess3 = sess2.clone();
        let r = blocking(move || ds2.publish(uploads, fail, &|| sess3.is_cancelled())).await;
        drop(guard);
        let mut st = sess2.state.lock();
        match r {
            Ok(m) => {
                tracing::info!(dataset = %ds.def.id, session = %sess2.id, version = m.version, "published");
                st.phase = Phase::Published;
            }
            Err(e) => {
                tracing::warn!(dataset = %ds.def.id, session = %sess2.id, "publish failed: {e}");
                st.phase = Phase::Failed(format!("publish failed: {e}"));
            }
        }
        st.chunks.iter_mut().for_each(|c| c.clear());
        sess2.remove_files();
    });
    Ok(StatusCode::OK)
}

/// `GET .../publishStatus`: 6 "sql execution" while running, 1 "result ready" when done,
/// 3 with the reason when failed.
pub async fn publish_status(
    State(s): State<Shared>,
    Path((id, sid)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<PublishStatus>> {
    let (_u, ds) = s.dataset(&headers, &id)?;
    let sess = s.session(&ds, &sid)?;
    let (status, message) = sess.status();
    Ok(Json(PublishStatus {
        upload_session_id: sess.id.clone(),
        status,
        message,
    }))
}

/// `DELETE /api/datasets/{id}/uploadSessions/{sid}`: end the session; a running publish
/// is cancelled if it has not swapped yet.
pub async fn delete_session(
    State(s): State<Shared>,
    Path((id, sid)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode> {
    let (_u, ds) = s.dataset(&headers, &id)?;
    let sess: Arc<UploadSession> = s.session(&ds, &sid)?;
    sess.cancelled.store(true, Ordering::SeqCst);
    s.sessions.write().remove(&sess.id);
    let publishing = sess.state.lock().phase == Phase::Publishing;
    if !publishing {
        sess.remove_files();
    }
    tracing::info!(session = %sess.id, "upload session deleted");
    Ok(StatusCode::OK)
}
