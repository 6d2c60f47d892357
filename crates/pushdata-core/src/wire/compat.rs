//! Bodies of the endpoints that clients such as mstrio-py probe around the Push Data API:
//! session information, server status, projects and the cluster nodes they are on, object
//! and folder listings, cube and dataset definitions.

use serde::{Deserialize, Serialize};

/// Object type (`EnumDSSXMLObjectTypes`) of datasets: report definitions, cubes.
pub const OBJECT_TYPE_DATASET: i32 = 3;
/// Object type of folders.
pub const OBJECT_TYPE_FOLDER: i32 = 8;
/// Object type of projects.
pub const OBJECT_TYPE_PROJECT: i32 = 32;
/// Subtype of intelligent cubes.
pub const SUBTYPE_CUBE: i32 = 776;
/// Subtype of super cubes: the datasets of the Push Data API.
pub const SUBTYPE_SUPER_CUBE: i32 = 779;
/// Subtype of folders.
pub const SUBTYPE_FOLDER: i32 = 2048;
/// Subtype of projects.
pub const SUBTYPE_PROJECT: i32 = 8192;
/// The predefined folder (`EnumDSSXMLFolderNames`) of the user's "My Reports", where a
/// dataset created without a `folderId` is saved: `GET /api/folders/preDefined/20`.
pub const MY_REPORTS_FOLDER: u32 = 20;
/// Response header of listings that holds the number of items in all pages.
pub const TOTAL_COUNT_HEADER: &str = "X-MSTR-Total-Count";

/// Response of `GET /api/sessions` (and `GET /api/sessions/userInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
    /// The user's id, under the name MicroStrategy's answers use (mstrio-py reads
    /// `id`, `fullName` and `initials` of `GET /api/sessions/userInfo`).
    #[serde(default)]
    pub id: String,
    /// The user's full name.
    #[serde(default)]
    pub full_name: String,
    /// The user's initials.
    #[serde(default)]
    pub initials: String,
    /// The user's id.
    #[serde(default)]
    pub user_id: String,
    /// The user's login name.
    #[serde(default)]
    pub username: String,
    /// The user's full name.
    #[serde(default)]
    pub user_full_name: String,
    /// Idle timeout of the session in seconds.
    pub timeout: u64,
    /// Working set size.
    #[serde(default)]
    pub working_set: u32,
    /// Maximum number of concurrent searches.
    #[serde(default)]
    pub max_search: u32,
    /// Locale id.
    #[serde(default)]
    pub locale: u32,
}

/// Response of `GET /api/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerStatus {
    /// Library (web) version, e.g. `11.5.0700.0000`.
    pub web_version: String,
    /// Intelligence Server version.
    pub i_server_version: String,
    /// Whether the Intelligence Server is running.
    #[serde(default)]
    pub i_server_running: bool,
}

/// An owner or other id/name reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdName {
    /// Object id.
    pub id: String,
    /// Object name.
    pub name: String,
}

/// Object metadata, as in `GET /api/objects/{id}?type=3` and in folder listings
/// (`GET /api/folders/{id}`, `GET /api/folders/preDefined/{folderType}`: a JSON array of
/// these, paged with `offset` and `limit`, the total in [`TOTAL_COUNT_HEADER`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectInfo {
    /// Object id.
    pub id: String,
    /// Object name.
    pub name: String,
    /// Object type (3 = report definition / cube).
    #[serde(rename = "type")]
    pub object_type: i32,
    /// Object subtype (776 = cube).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtype: Option<i32>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<IdName>,
    /// Folder that holds the object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ancestors: Option<Vec<IdName>>,
    /// Project id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
}

/// An attribute or metric of a cube definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CubeObject {
    /// Object id.
    pub id: String,
    /// Object name.
    pub name: String,
    /// Object type (`Attribute` / `Metric`).
    #[serde(rename = "type")]
    pub object_type: String,
}

/// `availableObjects` of a cube definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CubeObjects {
    /// Attributes.
    pub attributes: Vec<CubeObject>,
    /// Metrics.
    pub metrics: Vec<CubeObject>,
}

/// `definition` of a cube.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CubeDefinitionBody {
    /// The cube's attributes and metrics.
    pub available_objects: CubeObjects,
}

/// Response of `GET /api/v2/cubes/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CubeDefinition {
    /// Cube id.
    pub id: String,
    /// Cube name.
    pub name: String,
    /// Definition.
    pub definition: CubeDefinitionBody,
    /// Number of rows published (sum over tables).
    #[serde(default)]
    pub size: u64,
    /// Status flags (bit 0 = processing, 1 = ready, 2 = loaded...).
    #[serde(default)]
    pub status: i64,
    /// Owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<IdName>,
    /// Ancestor folders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ancestors: Option<Vec<IdName>>,
}

/// A column in `GET /api/datasets/{id}?fields=columns`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatasetColumn {
    /// Column id.
    pub id: String,
    /// Column name.
    pub column_name: String,
    /// Name of the table the column belongs to.
    pub table_name: String,
    /// Id of the table the column belongs to.
    pub table_id: String,
    /// Data type.
    pub data_type: super::DataType,
}

/// A table in `GET /api/datasets/{id}?fields=tables`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatasetTable {
    /// Table id.
    pub id: String,
    /// Table name.
    pub name: String,
    /// Number of published rows.
    #[serde(default)]
    pub row_count: u64,
}

/// `availableObjects` of a dataset definition; each list is present when requested with
/// `fields=`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DatasetObjects {
    /// Tables (`fields=tables`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tables: Option<Vec<DatasetTable>>,
    /// Columns of all tables (`fields=columns`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<DatasetColumn>>,
    /// Attributes (`fields=attributes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Vec<CubeObject>>,
    /// Metrics (`fields=metrics`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Vec<CubeObject>>,
}

/// `result.definition` of a dataset definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct DatasetDefinitionBody {
    /// The requested objects.
    pub available_objects: DatasetObjects,
}

/// `result` of a dataset definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DatasetDefinitionResult {
    /// The definition.
    pub definition: DatasetDefinitionBody,
}

/// Response of `GET /api/datasets/{id}?fields=tables&fields=columns`:
/// `{id, name, result: {definition: {availableObjects: {tables, columns, ...}}}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetDefinition {
    /// Dataset id.
    pub id: String,
    /// Dataset name.
    pub name: String,
    /// The definition.
    pub result: DatasetDefinitionResult,
}

/// A project as a cluster node lists it, in [`ClusterNode::projects`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeProject {
    /// Project id.
    pub id: String,
    /// Project name.
    pub name: String,
    /// Alias, often empty.
    #[serde(default)]
    pub alias: String,
    /// Free text description.
    #[serde(default)]
    pub description: String,
    /// The project's state on the node: `loaded`, `unloaded`, `request_idle`, ...
    pub status: String,
}

/// An Intelligence Server node of the cluster, in [`ClusterNodes`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterNode {
    /// Node name.
    pub name: String,
    /// Host name or address of the node.
    pub address: String,
    /// Port of the node.
    pub port: u16,
    /// The node's state: `running`, `stopped`, ...
    pub status: String,
    /// Load of the node (number of jobs).
    #[serde(default)]
    pub load: u64,
    /// The projects on the node and their state there.
    #[serde(default)]
    pub projects: Vec<NodeProject>,
    /// Whether this is the node new sessions go to by default.
    #[serde(default)]
    pub default: bool,
}

/// Response of `GET /api/monitors/iServer/nodes`: the cluster's nodes, each with the
/// projects on it (clients such as mstrio-py read a project's state from it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ClusterNodes {
    /// The nodes.
    pub nodes: Vec<ClusterNode>,
}
