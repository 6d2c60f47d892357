//! Folder listings, as mstrio-py reads them for its same-name check before it creates a
//! dataset: `GET /api/folders/preDefined/{folderType}` (My Reports is type 20) and
//! `GET /api/folders/{id}`, paged with `offset` and `limit`, the total in
//! `X-MSTR-Total-Count`; and a folder as an object (`GET /api/objects/{id}?type=8`).

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use pushdata_core::wire::{
    IdName, MY_REPORTS_FOLDER, OBJECT_TYPE_FOLDER, ObjectInfo, SUBTYPE_FOLDER, TOTAL_COUNT_HEADER,
};

use super::Shared;
use super::compat::object_info;
use super::extract::InProject;
use crate::config::ProjectConfig;
use crate::mstr::error::{ApiError, Result};
use crate::mstr::folders::{MY_REPORTS_NAME, my_reports_id};

/// A folder as its datasets' `ancestors` and `GET /api/objects/{id}?type=8` name it:
/// `None` is `owner`'s My Reports; another folder, made on demand, is named by its id.
pub(crate) fn folder_ref(folder: Option<&str>, owner: &str) -> IdName {
    match folder {
        None => IdName {
            id: my_reports_id(owner),
            name: MY_REPORTS_NAME.to_string(),
        },
        Some(id) => IdName {
            id: id.to_string(),
            name: id.to_string(),
        },
    }
}

/// `GET /api/folders/preDefined/{folderType}`: My Reports (type 20) holds the caller's
/// datasets created without a folder; the other predefined folders hold nothing here (the
/// server stores only datasets, and they are saved in My Reports or in folders by id).
#[utoipa::path(
    get,
    path = "/api/folders/preDefined/{kind}",
    tag = "folders",
    params(("kind" = String, Path, description = "predefined folder kind")),
    responses((status = 200, description = "success", body = serde_json::Value), crate::openapi::MstrErrors)
)]
pub(crate) async fn predefined_folder(
    State(s): State<Shared>,
    Path(kind): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    InProject { user, project }: InProject,
) -> Result<Response> {
    let kind: u32 = kind.trim().parse().map_err(|_| {
        ApiError::bad_request(format!(
            "invalid predefined folder type {kind:?}: a number (My Reports is {MY_REPORTS_FOLDER})"
        ))
    })?;
    let objects = if kind == MY_REPORTS_FOLDER {
        listing(&s, &project, &user.user, None)
    } else {
        Vec::new()
    };
    page(objects, &q)
}

/// `GET /api/folders/{id}`: the caller's datasets in folder `id` (their My Reports id
/// lists My Reports).
#[utoipa::path(
    get,
    path = "/api/folders/{id}",
    tag = "folders",
    params(("id" = String, Path, description = "folder id")),
    responses((status = 200, description = "success", body = serde_json::Value), crate::openapi::MstrErrors)
)]
pub(crate) async fn folder_contents(
    State(s): State<Shared>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    InProject { user, project }: InProject,
) -> Result<Response> {
    let folder = s.folder(&project, &user.user, &id)?;
    page(listing(&s, &project, &user.user, folder.as_deref()), &q)
}

/// `GET /api/objects/{id}?type=8`: folder `id` of the caller's project.
pub(crate) fn folder_info(
    s: &Shared,
    project: &ProjectConfig,
    user: &str,
    id: &str,
) -> Result<ObjectInfo> {
    let folder = s.folder(project, user, id)?;
    let IdName { id, name } = folder_ref(folder.as_deref(), user);
    Ok(ObjectInfo {
        id,
        name,
        object_type: OBJECT_TYPE_FOLDER,
        subtype: Some(SUBTYPE_FOLDER),
        description: Some(String::new()),
        owner: Some(IdName {
            id: crate::ids::stable_id(user),
            name: user.to_string(),
        }),
        ancestors: Some(Vec::new()),
        project_id: Some(project.id.clone()),
    })
}

/// The objects of a folder listing.
fn listing(
    s: &Shared,
    project: &ProjectConfig,
    user: &str,
    folder: Option<&str>,
) -> Vec<ObjectInfo> {
    s.folder_datasets(project, user, folder)
        .iter()
        .map(|d| object_info(d))
        .collect()
}

/// The page `offset`/`limit` (absent or negative limit: all) of `all`, with the total in
/// `X-MSTR-Total-Count`.
fn page(all: Vec<ObjectInfo>, q: &HashMap<String, String>) -> Result<Response> {
    let number = |key: &str| -> Result<Option<i64>> {
        q.get(key)
            .map(|v| {
                v.trim().parse::<i64>().map_err(|_| {
                    ApiError::bad_request(format!("{key}={v:?} is not a whole number"))
                })
            })
            .transpose()
    };
    let offset = usize::try_from(number("offset")?.unwrap_or(0).max(0)).unwrap_or(usize::MAX);
    let limit = match number("limit")? {
        Some(l) if l >= 0 => usize::try_from(l).unwrap_or(usize::MAX),
        _ => usize::MAX,
    };
    let total = all.len();
    let items: Vec<ObjectInfo> = all.into_iter().skip(offset).take(limit).collect();
    let mut resp = Json(items).into_response();
    resp.headers_mut().insert(
        TOTAL_COUNT_HEADER,
        HeaderValue::from_str(&total.to_string()).map_err(|e| ApiError::internal("header", e))?,
    );
    Ok(resp)
}
