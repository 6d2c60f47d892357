//! Cube instance bodies: getting a published dataset's data out through the Cube API
//! (`POST /api/v2/cubes/{id}/instances`, `GET /api/v2/cubes/{id}/instances/{instanceId}`).
//!
//! The response is the v2 grid JSON that existing clients (mstrio-py's `Parser`) read:
//! `definition.grid.rows` holds the requested attributes, each with its forms and the
//! attribute elements used on this page; `definition.grid.columns` holds one
//! `templateMetrics` header whose elements are the metrics; `data.headers.rows` gives, per
//! row, the index of each attribute's element; `data.metricValues.raw` gives, per row, the
//! metric values; `data.paging` says where the page is.
//!
//! Extensions this project relies on to type the values exactly (real servers send a
//! `dataType` too, spelled differently, e.g. `Char`, `Real`; see [`parse_cube_data_type`]):
//! every form and metric carries `dataType` (the column's Push Data API type, e.g.
//! `BIGDECIMAL`), and BIGDECIMAL ones `precision` and `scale` of the stored values.
//! Metric values (`raw`) are typed JSON tokens: numbers as numbers (decimals with their
//! exact digits), booleans as booleans, text and temporal values as strings
//! (`YYYY-MM-DD`, `hh:mm:ss[.f]`, `YYYY-MM-DDThh:mm:ss[.f]`), and `null` for null.
//! Attribute form values (`formValues`) are strings, as real servers send them (mstrio-py
//! needs one type per column): the same text, exact digits included, and `null` for null.
//! A reader types both with the form's or metric's `dataType`.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::DataType;

/// A JSON value kept as its exact text (decimals keep every digit).
pub type RawCell = Box<RawValue>;

/// A reference to an object by id, e.g. a form in `requestedObjects`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdRef {
    /// Object id.
    pub id: String,
}

/// An attribute or metric requested by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestedObject {
    /// The attribute or metric id (from `GET /api/v2/cubes/{id}`).
    pub id: String,
    /// For attributes: the forms wanted (default: all forms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forms: Option<Vec<IdRef>>,
}

impl RequestedObject {
    /// An object by id, all forms.
    pub fn new(id: impl Into<String>) -> Self {
        RequestedObject {
            id: id.into(),
            forms: None,
        }
    }
}

/// `requestedObjects` of a cube instance request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestedObjects {
    /// Attributes to group by (in this order).
    #[serde(default)]
    pub attributes: Vec<RequestedObject>,
    /// Metrics to sum (in this order).
    #[serde(default)]
    pub metrics: Vec<RequestedObject>,
}

/// A node of a view filter: either an operator with operands, or an operand (`type`
/// `attribute` with an `id`, `elements` with `elements`, or `constant` with `value`).
///
/// The reference server understands `And`, `Or`, `Not`, `In` and `NotIn` (attribute operand,
/// `elements` operand whose ids are `ATTRIBUTE_ID:value`, as mstrio-py builds them, the value
/// being the attribute's form values joined by `;`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewFilter {
    /// The operator (`And`, `Or`, `Not`, `In`, `NotIn`), for operator nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    /// The operands of an operator node.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operands: Vec<ViewFilter>,
    /// The kind of an operand node (`attribute`, `elements`, `constant`).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub node_type: Option<String>,
    /// The object id of an `attribute` operand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The elements of an `elements` operand.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub elements: Vec<IdRef>,
}

/// Body of `POST /api/v2/cubes/{id}/instances` (all of it optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CubeInstanceRequest {
    /// The attributes and metrics to read (default: all of them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_objects: Option<RequestedObjects>,
    /// A filter on attribute elements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view_filter: Option<ViewFilter>,
}

impl CubeInstanceRequest {
    /// Every attribute and metric of the cube.
    pub fn all() -> Self {
        CubeInstanceRequest::default()
    }

    /// The given attribute and metric ids.
    pub fn with_objects<A, M>(attributes: A, metrics: M) -> Self
    where
        A: IntoIterator,
        A::Item: Into<String>,
        M: IntoIterator,
        M::Item: Into<String>,
    {
        CubeInstanceRequest {
            requested_objects: Some(RequestedObjects {
                attributes: attributes.into_iter().map(RequestedObject::new).collect(),
                metrics: metrics.into_iter().map(RequestedObject::new).collect(),
            }),
            view_filter: None,
        }
    }
}

/// `metricsPosition` of a grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricsPosition {
    /// `columns` (this server) or `rows`.
    pub axis: String,
    /// Position of the metrics header on that axis.
    #[serde(default)]
    pub index: i64,
}

/// A form of an attribute in the grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GridForm {
    /// Form id.
    pub id: String,
    /// Form name (the column name when an attribute has several forms: `Attr@Form`).
    pub name: String,
    /// Data type: this server writes the Push Data API type (`BIGDECIMAL`); real servers
    /// write their own names (`Char`, `Real`, ...). See [`parse_cube_data_type`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_type: Option<String>,
    /// Form category (`ID`, `DESC`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_form_category: Option<String>,
    /// Precision of BIGDECIMAL values (extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<u8>,
    /// Scale of BIGDECIMAL values (extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<i8>,
}

/// An attribute element on a page: one value per form.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GridElement {
    /// Element id (`ATTRIBUTE_ID:values`, usable in a view filter).
    #[serde(default)]
    pub id: String,
    /// One value per form, in the order of [`GridAttribute::forms`]: a string (or `null`).
    pub form_values: Vec<RawCell>,
}

/// An attribute header on the rows axis.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GridAttribute {
    /// Attribute name.
    pub name: String,
    /// Attribute id.
    pub id: String,
    /// `attribute`.
    #[serde(rename = "type", default)]
    pub object_type: String,
    /// The forms read.
    #[serde(default)]
    pub forms: Vec<GridForm>,
    /// The elements referenced by this page's rows.
    #[serde(default)]
    pub elements: Vec<GridElement>,
}

/// A metric (element of the `templateMetrics` header).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GridMetric {
    /// Metric name.
    pub name: String,
    /// Metric id.
    pub id: String,
    /// `metric`.
    #[serde(rename = "type", default)]
    pub object_type: String,
    /// Data type (see [`GridForm::data_type`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_type: Option<String>,
    /// Precision of BIGDECIMAL values (extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<u8>,
    /// Scale of BIGDECIMAL values (extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<i8>,
}

/// A header on the columns axis: this server sends one, `templateMetrics`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GridMetricsHeader {
    /// `Metrics`.
    pub name: String,
    /// `00000000000000000000000000000000`.
    pub id: String,
    /// `templateMetrics`.
    #[serde(rename = "type", default)]
    pub object_type: String,
    /// The metrics, in the order of the values in `metricValues.raw` rows.
    #[serde(default)]
    pub elements: Vec<GridMetric>,
}

/// `definition.grid`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Grid {
    /// Whether the grid is cross-tabbed (never, here).
    #[serde(default)]
    pub cross_tab: bool,
    /// Where the metrics are (`columns`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_position: Option<MetricsPosition>,
    /// Attributes (rows axis).
    #[serde(default)]
    pub rows: Vec<GridAttribute>,
    /// The metrics header (columns axis); empty when no metric is read.
    #[serde(default)]
    pub columns: Vec<GridMetricsHeader>,
}

/// `definition` of a cube instance.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GridDefinition {
    /// The grid.
    pub grid: Grid,
}

/// `data.paging`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paging {
    /// Rows of the whole instance.
    pub total: u64,
    /// Rows on this page.
    pub current: u64,
    /// Offset of the page's first row.
    pub offset: u64,
    /// The page size asked for.
    pub limit: u64,
}

/// `data.headers`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridHeaders {
    /// Per row, the element index of each attribute (into [`GridAttribute::elements`]).
    #[serde(default)]
    pub rows: Vec<Vec<u32>>,
    /// Per metric header, the element indexes (`[[0, 1, ...]]`).
    #[serde(default)]
    pub columns: Vec<Vec<u32>>,
}

/// `data.metricValues`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MetricValues {
    /// Per row, one value per metric.
    #[serde(default)]
    pub raw: Vec<Vec<RawCell>>,
    /// Per row, the values as display text (left out when the request's `fields` excludes
    /// `data.metricValues.formatted`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formatted: Option<Vec<Vec<String>>>,
}

/// `data` of a cube instance page.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GridData {
    /// Where this page is.
    pub paging: Paging,
    /// Element indexes per row.
    #[serde(default)]
    pub headers: GridHeaders,
    /// Metric values per row.
    #[serde(default)]
    pub metric_values: MetricValues,
}

/// Response of both cube instance calls: one page of a cube instance.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CubeInstance {
    /// Cube (dataset) id.
    pub id: String,
    /// Cube name.
    pub name: String,
    /// Instance id, for the following pages.
    pub instance_id: String,
    /// Instance status (1 = ready).
    #[serde(default)]
    pub status: i64,
    /// The grid: attributes, forms, elements, metrics.
    pub definition: GridDefinition,
    /// The page's values.
    pub data: GridData,
}

impl CubeInstance {
    /// The metrics of the grid (elements of its last columns header).
    pub fn metrics(&self) -> &[GridMetric] {
        self.definition
            .grid
            .columns
            .last()
            .map(|h| h.elements.as_slice())
            .unwrap_or(&[])
    }

    /// The attributes of the grid.
    pub fn attributes(&self) -> &[GridAttribute] {
        &self.definition.grid.rows
    }
}

/// Read a cube `dataType`: the Push Data API names (`STRING`, `BIGDECIMAL`, ... any case)
/// and the names real servers use in grids (`Char`, `VarChar`, `Real`, `Float`, `Numeric`,
/// `Decimal`, `Timestamp`, `Long`, ...). `None` when unknown.
pub fn parse_cube_data_type(text: &str) -> Option<DataType> {
    if let Ok(t) = text.parse::<DataType>() {
        return Some(t);
    }
    let t = text.trim().to_ascii_lowercase();
    let t = t
        .strip_prefix("n")
        .filter(|r| r.contains("char"))
        .unwrap_or(&t);
    Some(match t {
        "char" | "varchar" | "longvarchar" | "utf8char" | "utf8varchar" | "text" | "memo" => {
            DataType::String
        }
        "short" | "int" | "int32" | "unsigned" => DataType::Integer,
        "long" | "int64" | "bigint" => DataType::BigInteger,
        "real" | "float" | "numeric_double" => DataType::Double,
        "numeric" | "decimal" | "bigdecimal" | "cellformatdata" => DataType::BigDecimal,
        "boolean" => DataType::Bool,
        "timestamp" => DataType::DateTime,
        _ => return None,
    })
}

/// The header of a table rows page giving the rows the table has (pushdata extension,
/// see [`TableRowsPage`]).
pub const TOTAL_ROWS_HEADER: &str = "X-Pushdata-Total-Rows";

/// The header of a table rows page giving the table's published version (pushdata
/// extension, see [`TableRowsPage`]).
pub const TABLE_VERSION_HEADER: &str = "X-Pushdata-Table-Version";

/// The path of the table rows extension, for messages.
pub const TABLE_ROWS_EXTENSION: &str = "GET /api/datasets/{id}/tables/{table}/rows";

/// One page of a table's stored rows, exactly (no grouping, no join): the answer of
/// `GET /api/datasets/{id}/tables/{table}/rows?offset=&limit=&version=`, a **pushdata
/// reference-server extension** that MicroStrategy servers do not have.
///
/// The body is an Arrow IPC stream (`application/vnd.apache.arrow.stream`: the table's
/// schema, then rows `offset..offset + limit` in stored order, with the stored types); the
/// headers [`TOTAL_ROWS_HEADER`] and [`TABLE_VERSION_HEADER`] give the table's rows and
/// its published version. Passing that version back with the next page makes the server
/// answer 409 once the table has been published again (pages never mix two versions).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TableRowsPage {
    /// The Arrow IPC stream.
    pub ipc: bytes::Bytes,
    /// Rows the table has (in this version).
    pub total_rows: u64,
    /// The table's published version (opaque).
    pub version: String,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn grid_page_round_trips_with_exact_decimals() {
        let text = r#"{"id":"C","name":"n","instanceId":"I","status":1,
          "definition":{"grid":{"crossTab":false,"metricsPosition":{"axis":"columns","index":0},
            "rows":[{"name":"Year","id":"A","type":"attribute",
               "forms":[{"id":"F","name":"ID","dataType":"INTEGER"}],
               "elements":[{"id":"A:2015","formValues":[2015]}]}],
            "columns":[{"name":"Metrics","id":"00000000000000000000000000000000","type":"templateMetrics",
               "elements":[{"name":"Cost","id":"M","type":"metric","dataType":"BIGDECIMAL","precision":38,"scale":3}]}]}},
          "data":{"paging":{"total":1,"current":1,"offset":0,"limit":10},
            "headers":{"rows":[[0]],"columns":[[0]]},
            "metricValues":{"raw":[[18446744073709551615.125]]}}}"#;
        let page: CubeInstance = serde_json::from_str(text).unwrap();
        assert_eq!(page.metrics()[0].scale, Some(3));
        assert_eq!(
            page.data.metric_values.raw[0][0].get(),
            "18446744073709551615.125"
        );
        let back = serde_json::to_string(&page).unwrap();
        assert!(back.contains("18446744073709551615.125"));
    }

    #[test]
    fn data_type_names_of_real_servers() {
        assert_eq!(parse_cube_data_type("Char"), Some(DataType::String));
        assert_eq!(parse_cube_data_type("nVarChar"), Some(DataType::String));
        assert_eq!(parse_cube_data_type("Real"), Some(DataType::Double));
        assert_eq!(
            parse_cube_data_type("bigdecimal"),
            Some(DataType::BigDecimal)
        );
        assert_eq!(parse_cube_data_type("Timestamp"), Some(DataType::DateTime));
        assert_eq!(parse_cube_data_type("geometry"), None);
    }

    #[test]
    fn request_body_as_mstrio_sends_it() {
        let text = r#"{"requestedObjects":{"attributes":[{"id":"A"},{"id":"B","forms":[{"id":"F"}]}],"metrics":[{"id":"M"}]},
          "viewFilter":{"operator":"In","operands":[{"type":"attribute","id":"A"},{"type":"elements","elements":[{"id":"A:x"}]}]}}"#;
        let r: CubeInstanceRequest = serde_json::from_str(text).unwrap();
        let ro = r.requested_objects.unwrap();
        assert_eq!(ro.attributes[1].forms.as_ref().unwrap()[0].id, "F");
        assert_eq!(r.view_filter.unwrap().operands[1].elements[0].id, "A:x");
        let empty: CubeInstanceRequest = serde_json::from_str("{}").unwrap();
        assert_eq!(empty, CubeInstanceRequest::all());
    }
}
