//! The Push Data API wire format: one definition of every request and response body,
//! shared by the client and the reference server.
//!
//! Parsing is lenient where the docs and real servers vary (the case of data types,
//! policies and orientations; `index` and publish `status` as number or string);
//! writing is canonical.

mod auth;
mod compat;
mod cube;
mod dataset;
mod error;
mod escape;
mod model;
mod names;
mod types;
mod upload;

pub use auth::{AUTH_TOKEN_HEADER, ApiTokenResponse, LoginRequest, PROJECT_ID_HEADER, Project};
pub use compat::{
    ClusterNode, ClusterNodes, CubeDefinition, CubeDefinitionBody, CubeObject, CubeObjects,
    DatasetColumn, DatasetDefinition, DatasetDefinitionBody, DatasetDefinitionResult,
    DatasetObjects, DatasetTable, IdName, MY_REPORTS_FOLDER, NodeProject, OBJECT_TYPE_DATASET,
    OBJECT_TYPE_FOLDER, OBJECT_TYPE_PROJECT, ObjectInfo, SUBTYPE_CUBE, SUBTYPE_FOLDER,
    SUBTYPE_PROJECT, SUBTYPE_SUPER_CUBE, ServerStatus, SessionInfo, TOTAL_COUNT_HEADER,
};
pub use cube::{
    CubeInstance, CubeInstanceRequest, Grid, GridAttribute, GridData, GridDefinition, GridElement,
    GridForm, GridHeaders, GridMetric, GridMetricsHeader, IdRef, MetricValues, MetricsPosition,
    Paging, RawCell, RequestedObject, RequestedObjects, TABLE_ROWS_EXTENSION, TABLE_VERSION_HEADER,
    TOTAL_ROWS_HEADER, TableRowsPage, ViewFilter, parse_cube_data_type,
};
pub use dataset::{
    Attribute, ColumnExpression, ColumnHeader, CreateDatasetResponse, DIAttribute, DIExpression,
    DIForm, DIMetric, DatasetCreator, Form, Metric, TableCreator, TableRef, UPDATE_POLICY_HEADER,
};
pub use error::ErrorBody;
pub use escape::{word_escape_mask, word_needs_escape};
pub use model::{
    CreateModelResponse, DatasetModel, ModelAttribute, ModelForm, ModelMetric, TableDefinition,
};
pub use names::{
    FORBIDDEN_CHARS, MAX_NAME_CHARS, NameError, NameProblem, position_by_name, validate_name,
};
pub use types::{DataType, FormCategory, LoginMode, Orientation, UnknownVariant, UpdatePolicy};
pub use upload::{
    ChunkBody, ChunkBodyWriter, ChunkIndex, ChunkRequest, PublishState, PublishStatus,
    PublishedTable, UploadSessionRequest, UploadSessionResponse, UploadSessionTable,
};

#[cfg(test)]
mod tests;
