//! The dataset definition: column headers, attributes, metrics, and the single-request
//! `POST /api/datasets` / `PATCH /api/datasets/{datasetId}/tables/{tableId}` bodies.
//!
//! Attributes and metrics are generic over the expression style, because the two workflows
//! link them to columns differently:
//! - single request ([`DatasetCreator`]): [`DIExpression`], `{"formula": "TABLE.column"}`;
//! - multi request ([`DatasetModel`](super::DatasetModel)): [`ColumnExpression`],
//!   `{"tableName": "TABLE", "columnName": "column"}`.

use serde::{Deserialize, Serialize};

use super::DataType;

/// Header of `PATCH /api/datasets/{datasetId}/tables/{tableId}` that names the update policy.
pub const UPDATE_POLICY_HEADER: &str = "updatePolicy";

/// A column of a table: its name and data type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ColumnHeader {
    /// Column name.
    pub name: String,
    /// Column data type.
    pub data_type: DataType,
    /// Optional date format for DATETIME values (default `YYYY-MM-DD[(T)hh:mm:[ss]]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_format: Option<String>,
}

impl ColumnHeader {
    /// A column header without a date format.
    pub fn new(name: impl Into<String>, data_type: DataType) -> Self {
        ColumnHeader {
            name: name.into(),
            data_type,
            date_format: None,
        }
    }
}

/// Single-request expression: `{"formula": "TABLE.column"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DIExpression {
    /// `table_name.column_name`.
    pub formula: String,
}

impl DIExpression {
    /// The formula linking `table.column`.
    pub fn new(table: &str, column: &str) -> Self {
        DIExpression {
            formula: format!("{table}.{column}"),
        }
    }

    /// Split the formula into table and column, given the names of the tables that exist.
    ///
    /// Table names may themselves contain dots, so the longest known table name that is a
    /// prefix followed by `.` wins. Returns `None` when no table matches.
    ///
    /// ```
    /// use pushdata_core::wire::DIExpression;
    /// let e = DIExpression::new("SALES_TABLE", "Cost");
    /// assert_eq!(e.resolve(["SALES_TABLE"]), Some(("SALES_TABLE", "Cost")));
    /// ```
    pub fn resolve<'a, 'b>(
        &'a self,
        tables: impl IntoIterator<Item = &'b str>,
    ) -> Option<(&'a str, &'a str)> {
        let f = self.formula.as_str();
        let mut best: Option<usize> = None;
        for t in tables {
            if f.len() > t.len() + 1
                && f.starts_with(t)
                && f.as_bytes()[t.len()] == b'.'
                && best.is_none_or(|b| t.len() > b)
            {
                best = Some(t.len());
            }
        }
        best.map(|n| (&f[..n], &f[n + 1..]))
    }
}

/// Multi-request expression: `{"tableName": "...", "columnName": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ColumnExpression {
    /// Table name.
    pub table_name: String,
    /// Column name within the table.
    pub column_name: String,
}

impl ColumnExpression {
    /// An expression for `table.column`.
    pub fn new(table: impl Into<String>, column: impl Into<String>) -> Self {
        ColumnExpression {
            table_name: table.into(),
            column_name: column.into(),
        }
    }
}

/// An attribute form (`ID`, `DESC`, ...) linked to one column per table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Form<E> {
    /// Form category, such as `ID` or `DESC`.
    pub category: String,
    /// One expression per table that holds this form.
    pub expressions: Vec<E>,
    /// Optional data type of the form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_type: Option<DataType>,
}

/// An attribute: a named set of forms. Its ID form columns are the key of a row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attribute<E> {
    /// Attribute name.
    pub name: String,
    /// Optional description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The attribute's forms.
    pub attribute_forms: Vec<Form<E>>,
}

/// A metric linked to one column per table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metric<E> {
    /// Metric name.
    pub name: String,
    /// Optional description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Optional data type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_type: Option<DataType>,
    /// One expression per table that holds this metric.
    pub expressions: Vec<E>,
}

/// Single-request attribute (`DIAttribute`).
pub type DIAttribute = Attribute<DIExpression>;
/// Single-request attribute form (`DIForm`).
pub type DIForm = Form<DIExpression>;
/// Single-request metric (`DIMetric`).
pub type DIMetric = Metric<DIExpression>;

/// A table with its data: the `TableCreator` of `POST /api/datasets`, and the whole body of
/// `PATCH /api/datasets/{datasetId}/tables/{tableId}`.
///
/// `data` is base64 of a JSON array of row objects (`[{"col": value, ...}, ...]`) or of
/// row arrays (`[[value, ...], ...]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TableCreator {
    /// Table name.
    pub name: String,
    /// The table's columns, in order.
    pub column_headers: Vec<ColumnHeader>,
    /// Base64 of the JSON rows.
    pub data: String,
}

/// Body of `POST /api/datasets`: create and publish a one-table dataset in one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatasetCreator {
    /// Dataset name.
    pub name: String,
    /// Optional folder to save the dataset in (default: the user's My Reports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folder_id: Option<String>,
    /// The tables with their data (the API accepts one).
    pub tables: Vec<TableCreator>,
    /// Attributes.
    #[serde(default)]
    pub attributes: Vec<DIAttribute>,
    /// Metrics.
    #[serde(default)]
    pub metrics: Vec<DIMetric>,
}

/// A table's id and name, as returned after creating a dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableRef {
    /// Table id (32 hex characters).
    pub id: String,
    /// Table name.
    pub name: String,
}

/// Response of `POST /api/datasets`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateDatasetResponse {
    /// The new dataset's id.
    pub dataset_id: String,
    /// The dataset's name.
    pub name: String,
    /// Its tables.
    #[serde(default)]
    pub tables: Vec<TableRef>,
}
