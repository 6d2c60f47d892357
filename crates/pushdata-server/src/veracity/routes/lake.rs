//! The Azure Data Lake Storage path calls of the upload leg, at `/{filesystem}/{*path}`:
//! `PUT ?resource=file` (201), `PATCH ?action=append&position=N` (202) and
//! `PATCH ?action=flush&position=N` (200). Every call's SAS is checked first.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use pushdata_core::veracity::wire::{
    MS_CLIENT_REQUEST_ID_HEADER, MS_REQUEST_ID_HEADER, MS_VERSION_HEADER,
};

use super::Shared;
use crate::veracity::error::{LakeCode, Result, VeracityError};
use crate::veracity::jobs::Job;
use crate::veracity::sas::{Permission, SasParams};

/// The decoded query string (a malformed one is an empty map: the SAS check then fails).
fn query_map(uri: &Uri) -> HashMap<String, String> {
    uri.query()
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default()
}

/// Check the SAS and find the job whose folder `path` is in, and that the file is its one.
fn authorize(
    s: &Shared,
    fs: &str,
    path: &str,
    q: &HashMap<String, String>,
    needed: Permission,
) -> Result<std::sync::Arc<Job>> {
    s.sas.check(&SasParams::from_query(q), fs, path, needed)?;
    let not_found = || {
        VeracityError::lake(
            LakeCode::PathNotFound,
            format!("no ingest file {fs}/{path}"),
        )
    };
    let (folder, file) = path.split_once('/').ok_or_else(not_found)?;
    let job = s.jobs.read().get(folder).cloned().ok_or_else(not_found)?;
    if file != job.spec.file_name {
        return Err(not_found());
    }
    Ok(job)
}

/// The `position` parameter, or 400.
fn position(q: &HashMap<String, String>) -> Result<u64> {
    q.get("position")
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| {
            VeracityError::lake(
                LakeCode::InvalidQueryParameterValue,
                "position missing or not a number",
            )
        })
}

/// A success answer with Azure's common headers (request id, version and client id echo).
fn answer(status: StatusCode, req: &HeaderMap, extra: &[(&'static str, String)]) -> Response {
    let mut resp = status.into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&crate::veracity::time::uuid()) {
        h.insert(MS_REQUEST_ID_HEADER, v);
    }
    for name in [MS_VERSION_HEADER, MS_CLIENT_REQUEST_ID_HEADER] {
        if let Some(v) = req.get(name) {
            h.insert(name, v.clone());
        }
    }
    h.insert(
        "x-ms-request-server-encrypted",
        HeaderValue::from_static("true"),
    );
    for (k, v) in extra {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.insert(*k, v);
        }
    }
    resp
}

/// A quoted ETag that changes with every write.
fn etag() -> String {
    format!("\"0x{}\"", &crate::ids::new_object_id()[..15])
}

/// `PUT /{fs}/{*path}?resource=file`: create (or overwrite) the job's file.
#[utoipa::path(
    put,
    path = "/{fs}/{*path}",
    tag = "veracity data lake",
    params(("fs" = String, Path, description = "file system (container)"), ("path" = String, Path, description = "file path in the SAS folder")),
    responses((status = 201, description = "success"), crate::openapi::VeracityErrors)
)]
pub(crate) async fn put_path(
    State(s): State<Shared>,
    Path((fs, path)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response> {
    let q = query_map(&uri);
    let job = authorize(&s, &fs, &path, &q, Permission::Create)?;
    if q.get("resource").map(String::as_str) != Some("file") {
        return Err(VeracityError::lake(
            LakeCode::InvalidQueryParameterValue,
            "resource must be file",
        ));
    }
    job.create_file().await?;
    Ok(answer(
        StatusCode::CREATED,
        &headers,
        &[("etag", etag()), ("content-length", "0".into())],
    ))
}

/// `PATCH /{fs}/{*path}?action=append|flush&position=N`.
#[utoipa::path(
    patch,
    path = "/{fs}/{*path}",
    tag = "veracity data lake",
    params(("fs" = String, Path, description = "file system (container)"), ("path" = String, Path, description = "file path in the SAS folder")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, description = "flushed"), (status = 202, description = "appended"), crate::openapi::VeracityErrors)
)]
pub(crate) async fn patch_path(
    State(s): State<Shared>,
    Path((fs, path)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let q = query_map(&uri);
    match q.get("action").map(String::as_str) {
        Some("append") => {
            let job = authorize(&s, &fs, &path, &q, Permission::Add)?;
            let pos = position(&q)?;
            let length = content_length(&headers).ok_or_else(|| {
                VeracityError::lake(
                    LakeCode::MissingContentLengthHeader,
                    "an append needs Content-Length",
                )
            })?;
            if length > s.max_body_bytes as u64 {
                return Err(VeracityError::lake(
                    LakeCode::RequestBodyTooLarge,
                    format!("append of {length} bytes, over {}", s.max_body_bytes),
                ));
            }
            s.quota.check(length)?;
            let (service, parsed) = (s.clone(), job.clone());
            job.append(pos, length, body, async move |upload| {
                service.parse_ahead(&parsed, pos, &upload).await;
            })
            .await?;
            Ok(answer(StatusCode::ACCEPTED, &headers, &[]))
        }
        Some("flush") => {
            let job = authorize(&s, &fs, &path, &q, Permission::Write)?;
            let pos = position(&q)?;
            if content_length(&headers).unwrap_or(0) != 0 {
                return Err(VeracityError::lake(
                    LakeCode::ContentLengthMustBeZero,
                    "flush with a body",
                ));
            }
            let size = job.flush(pos).await?;
            if job.spec.start_automatically {
                s.start(&job).await;
            }
            Ok(answer(
                StatusCode::OK,
                &headers,
                &[("etag", etag()), ("x-ms-content-length", size.to_string())],
            ))
        }
        _ => Err(VeracityError::lake(
            LakeCode::InvalidQueryParameterValue,
            "action must be append or flush",
        )),
    }
}

/// The request's `Content-Length`, when it has a valid one.
fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

/// Any other method on `/{fs}/{*path}`: 404 (the emulation only uploads).
pub(crate) async fn other_method(method: axum::http::Method, uri: Uri) -> VeracityError {
    VeracityError::lake(
        LakeCode::ResourceNotFound,
        format!("no endpoint {method} {}", uri.path()),
    )
}
