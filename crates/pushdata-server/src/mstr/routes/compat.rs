//! Compatibility endpoints that mstrio-py calls around its SuperCube workflow: folder
//! listings, object info and delete, cube definitions.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use pushdata_core::wire::{
    CubeDefinition, CubeDefinitionBody, CubeObject, CubeObjects, IdName, ObjectInfo,
};

use super::Shared;
use super::extract::{InDataset, InProject};
use crate::mstr::Dataset;
use crate::mstr::error::{ApiError, Result};

/// Object type of datasets (report definitions / cubes).
const TYPE_CUBE: i32 = 3;
/// Subtype of super cubes.
const SUBTYPE_SUPER_CUBE: i32 = 779;

fn my_reports(user: &str) -> IdName {
    IdName {
        id: crate::ids::stable_id(&format!("my-reports/{user}")),
        name: "My Reports".to_string(),
    }
}

fn object_info(ds: &Dataset) -> ObjectInfo {
    let folder = match &ds.def.folder_id {
        Some(f) => IdName {
            id: f.clone(),
            name: "Folder".to_string(),
        },
        None => my_reports(&ds.def.owner),
    };
    ObjectInfo {
        id: ds.def.id.clone(),
        name: ds.def.name.clone(),
        object_type: TYPE_CUBE,
        subtype: Some(SUBTYPE_SUPER_CUBE),
        description: ds.def.description.clone(),
        owner: Some(IdName {
            id: crate::ids::stable_id(&ds.def.owner),
            name: ds.def.owner.clone(),
        }),
        ancestors: Some(vec![folder]),
        project_id: Some(ds.def.project_id.clone()),
    }
}

/// `GET /api/folders/preDefined/{kind}`: the datasets in the project (offset/limit),
/// with `X-MSTR-Total-Count`.
pub(crate) async fn predefined_folder(
    State(s): State<Shared>,
    Path(_kind): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    InProject { user, project }: InProject,
) -> Result<Response> {
    let project = project.id;
    let all: Vec<ObjectInfo> = s
        .catalog
        .list()
        .iter()
        .filter(|d| d.def.project_id.eq_ignore_ascii_case(&project))
        .filter(|d| d.def.is_visible_to(&user.user))
        .map(|d| object_info(d))
        .collect();
    let total = all.len();
    let offset: usize = q.get("offset").and_then(|v| v.parse().ok()).unwrap_or(0);
    let limit: i64 = q.get("limit").and_then(|v| v.parse().ok()).unwrap_or(-1);
    let page: Vec<ObjectInfo> = all
        .into_iter()
        .skip(offset)
        .take(if limit < 0 {
            usize::MAX
        } else {
            usize::try_from(limit).unwrap_or(usize::MAX)
        })
        .collect();
    let mut resp = Json(page).into_response();
    resp.headers_mut().insert(
        "X-MSTR-Total-Count",
        HeaderValue::from_str(&total.to_string()).map_err(|e| ApiError::internal("header", e))?,
    );
    Ok(resp)
}

fn check_type(q: &HashMap<String, String>) -> Result<()> {
    match q.get("type").map(|t| t.parse::<i32>()) {
        None | Some(Ok(TYPE_CUBE)) => Ok(()),
        Some(_) => Err(ApiError::bad_request(
            "this server stores only datasets: use type=3",
        )),
    }
}

/// `GET /api/objects/{id}?type=3`.
pub(crate) async fn get_object(
    InDataset { ds, .. }: InDataset,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<ObjectInfo>> {
    check_type(&q)?;

    Ok(Json(object_info(&ds)))
}

/// `DELETE /api/objects/{id}?type=3`: delete a dataset and its data; 204.
pub(crate) async fn delete_object(
    State(s): State<Shared>,
    InDataset { ds, .. }: InDataset,
    Query(q): Query<HashMap<String, String>>,
) -> Result<StatusCode> {
    check_type(&q)?;

    s.delete_dataset(&ds).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v2/cubes/{id}`: the cube definition (attributes and metrics with ids).
pub(crate) async fn cube_definition(
    InDataset { ds, .. }: InDataset,
) -> Result<Json<CubeDefinition>> {
    let m = ds.manifest();
    let (attributes, metrics) = cube_objects(&ds);
    let info = object_info(&ds);
    Ok(Json(CubeDefinition {
        id: ds.def.id.clone(),
        name: ds.def.name.clone(),
        definition: CubeDefinitionBody {
            available_objects: CubeObjects {
                attributes,
                metrics,
            },
        },
        size: m.tables.values().map(|t| t.rows).sum(),
        status: if m.version > 0 { 1 } else { 0 },
        owner: info.owner,
        ancestors: info.ancestors,
    }))
}

/// The attributes and metrics of a dataset with their ids.
pub(crate) fn cube_objects(ds: &Dataset) -> (Vec<CubeObject>, Vec<CubeObject>) {
    let attributes = ds
        .def
        .attributes
        .iter()
        .map(|a| CubeObject {
            id: a.id.clone(),
            name: a.name.clone(),
            object_type: "Attribute".to_string(),
        })
        .collect();
    let metrics = ds
        .def
        .metrics
        .iter()
        .map(|a| CubeObject {
            id: a.id.clone(),
            name: a.name.clone(),
            object_type: "Metric".to_string(),
        })
        .collect();
    (attributes, metrics)
}
