//! The multi-request dataset definition: `POST /api/datasets/models`.

use serde::{Deserialize, Serialize};

use super::{Attribute, ColumnExpression, ColumnHeader, Form, Metric};

/// Multi-request attribute.
pub type ModelAttribute = Attribute<ColumnExpression>;
/// Multi-request attribute form.
pub type ModelForm = Form<ColumnExpression>;
/// Multi-request metric.
pub type ModelMetric = Metric<ColumnExpression>;

/// A table of the model: its name and columns, no data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TableDefinition {
    /// Table name.
    pub name: String,
    /// Optional description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Columns, in order.
    pub column_headers: Vec<ColumnHeader>,
}

/// Body of `POST /api/datasets/models`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatasetModel {
    /// Dataset name.
    pub name: String,
    /// Optional description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Optional folder id (default: the user's My Reports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folder_id: Option<String>,
    /// The tables.
    pub tables: Vec<TableDefinition>,
    /// Metrics.
    #[serde(default)]
    pub metrics: Vec<ModelMetric>,
    /// Attributes.
    #[serde(default)]
    pub attributes: Vec<ModelAttribute>,
}

/// Response of `POST /api/datasets/models`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateModelResponse {
    /// The dataset id.
    pub id: String,
    /// The dataset name.
    pub name: String,
}
