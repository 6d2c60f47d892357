//! Compatibility endpoints that mstrio-py calls around its SuperCube workflow and when it
//! selects a project: object info (datasets, folders and projects) and delete, cube
//! definitions, the cluster's nodes. Folder listings are in `folders`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use pushdata_core::wire::{
    ClusterNode, ClusterNodes, CubeDefinition, CubeDefinitionBody, CubeObject, CubeObjects, IdName,
    NodeProject, OBJECT_TYPE_DATASET, OBJECT_TYPE_FOLDER, OBJECT_TYPE_PROJECT, ObjectInfo,
    SUBTYPE_PROJECT, SUBTYPE_SUPER_CUBE,
};

use super::Shared;
use super::auth::project_by_id;
use super::extract::{Caller, InDataset, InProject};
use super::folders::{folder_info, folder_ref};
use crate::config::ProjectConfig;
use crate::mstr::Dataset;
use crate::mstr::error::{ApiError, Result};

/// The name of the one node of this server's "cluster".
const NODE_NAME: &str = "pushdata";

/// A dataset as an object: in folder listings and `GET /api/objects/{id}?type=3`.
pub(crate) fn object_info(ds: &Dataset) -> ObjectInfo {
    ObjectInfo {
        id: ds.def.id.clone(),
        name: ds.def.name.clone(),
        object_type: OBJECT_TYPE_DATASET,
        subtype: Some(SUBTYPE_SUPER_CUBE),
        description: ds.def.description.clone(),
        owner: Some(IdName {
            id: crate::ids::stable_id(&ds.def.owner),
            name: ds.def.owner.clone(),
        }),
        ancestors: Some(vec![folder_ref(ds.def.folder_id.as_deref(), &ds.def.owner)]),
        project_id: Some(ds.def.project_id.clone()),
    }
}

fn check_type(q: &HashMap<String, String>) -> Result<()> {
    match q.get("type").map(|t| t.parse::<i32>()) {
        // A delete is destructive: it names the type it means, as the real server requires.
        None => Err(ApiError::bad_request(
            "missing query parameter type: deleting a dataset needs type=3",
        )),
        Some(Ok(OBJECT_TYPE_DATASET)) => Ok(()),
        Some(_) => Err(ApiError::bad_request(
            "this server stores only datasets: use type=3",
        )),
    }
}

/// The object type of `?type=` (a dataset when absent).
fn object_type(q: &HashMap<String, String>) -> Result<i32> {
    match q.get("type") {
        None => Ok(OBJECT_TYPE_DATASET),
        Some(t) => t.trim().parse::<i32>().map_err(|_| {
            ApiError::bad_request(format!(
                "invalid object type {t:?}: use type=3 (datasets), type=8 (folders) or type=32 (projects)"
            ))
        }),
    }
}

/// A project as an object (`GET /api/objects/{id}?type=32`).
fn project_info(p: &ProjectConfig) -> ObjectInfo {
    ObjectInfo {
        id: p.id.clone(),
        name: p.name.clone(),
        object_type: OBJECT_TYPE_PROJECT,
        subtype: Some(SUBTYPE_PROJECT),
        description: Some(String::new()),
        owner: None,
        ancestors: None,
        project_id: None,
    }
}

/// `GET /api/objects/{id}?type=3`: a dataset of the caller in the `X-MSTR-ProjectID`
/// project; `?type=8`: a folder of that project (mstrio-py loads the folder it creates a
/// dataset in this way); `?type=32`: the project `{id}` (mstrio-py loads the project it
/// selects this way). Other types are not stored here (400).
#[utoipa::path(
    get,
    path = "/api/objects/{id}",
    tag = "compat",
    params(("id" = String, Path, description = "object id")),
    responses((status = 200, description = "success", body = serde_json::Value), crate::openapi::MstrErrors)
)]
pub(crate) async fn get_object(
    State(s): State<Shared>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    mut parts: Parts,
) -> Result<Json<ObjectInfo>> {
    // authenticate before looking at anything else
    Caller::from_request_parts(&mut parts, &s).await?;
    match object_type(&q)? {
        OBJECT_TYPE_DATASET => {
            let InDataset { ds, .. } = InDataset::from_request_parts(&mut parts, &s).await?;
            Ok(Json(object_info(&ds)))
        }
        OBJECT_TYPE_FOLDER => {
            let InProject { user, project } = InProject::from_request_parts(&mut parts, &s).await?;
            Ok(Json(folder_info(&s, &project, &user.user, &id)?))
        }
        OBJECT_TYPE_PROJECT => Ok(Json(project_info(project_by_id(&s, &id)?))),
        t => Err(ApiError::bad_request(format!(
            "this server stores only datasets (type=3), folders (type=8) and projects (type=32), not type={t}"
        ))),
    }
}

/// Host name and port of the `Host` header (what the caller used to reach this server).
fn host_and_port(headers: &HeaderMap) -> (String, u16) {
    headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| h.parse::<axum::http::uri::Authority>().ok())
        .map(|a| (a.host().to_string(), a.port_u16().unwrap_or(80)))
        .unwrap_or_else(|| ("localhost".to_string(), 80))
}

/// `GET /api/monitors/iServer/nodes[?projects.id=ID][&name=NODE]`: this server as the only
/// node of its cluster, running, with every project loaded on it (mstrio-py reads whether
/// a project is loaded from it). `projects.id` keeps only that project in the node's list;
/// `name` keeps only the node of that name.
#[utoipa::path(
    get,
    path = "/api/monitors/iServer/nodes",
    tag = "compat",
    responses((status = 200, description = "success", body = serde_json::Value), crate::openapi::MstrErrors)
)]
pub(crate) async fn cluster_nodes(
    State(s): State<Shared>,
    _caller: Caller,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Json<ClusterNodes> {
    let project_filter = q
        .get("projects.id")
        .map(|v| v.trim())
        .filter(|v| !v.is_empty());
    let name_filter = q.get("name").map(|v| v.trim()).filter(|v| !v.is_empty());
    let projects = s
        .projects
        .iter()
        .filter(|p| project_filter.is_none_or(|id| p.id.eq_ignore_ascii_case(id)))
        .map(|p| NodeProject {
            id: p.id.clone(),
            name: p.name.clone(),
            alias: String::new(),
            description: String::new(),
            status: "loaded".to_string(),
        })
        .collect();
    let (address, port) = host_and_port(&headers);
    let node = ClusterNode {
        name: NODE_NAME.to_string(),
        address,
        port,
        status: "running".to_string(),
        load: 0,
        projects,
        default: true,
    };
    let nodes = if name_filter.is_none_or(|n| n.eq_ignore_ascii_case(NODE_NAME)) {
        vec![node]
    } else {
        Vec::new()
    };
    Json(ClusterNodes { nodes })
}

/// `DELETE /api/objects/{id}?type=3`: delete a dataset and its data; 204.
#[utoipa::path(
    delete,
    path = "/api/objects/{id}",
    tag = "compat",
    params(("id" = String, Path, description = "object id")),
    responses((status = 204, description = "success"), crate::openapi::MstrErrors)
)]
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
#[utoipa::path(
    get,
    path = "/api/v2/cubes/{id}",
    tag = "cubes",
    params(("id" = String, Path, description = "dataset id")),
    responses((status = 200, description = "success", body = serde_json::Value), crate::openapi::MstrErrors)
)]
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

/// `GET /api/cubes/{id}`: the v1 path of the cube definition.
#[utoipa::path(
    get,
    path = "/api/cubes/{id}",
    tag = "cubes",
    params(("id" = String, Path, description = "dataset id")),
    responses((status = 200, description = "success", body = serde_json::Value), crate::openapi::MstrErrors)
)]
pub(crate) async fn cube_definition_v1(ds: InDataset) -> Result<Json<CubeDefinition>> {
    cube_definition(ds).await
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
