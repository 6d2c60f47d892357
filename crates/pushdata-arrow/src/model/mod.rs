//! Arrow schemas -> column headers, attributes and metrics of a dataset.
//!
//! # Type mapping
//!
//! | Arrow type | API type | value text in a chunk |
//! |---|---|---|
//! | Int8, Int16, Int32, UInt8, UInt16 | INTEGER | JSON integer |
//! | Int64, UInt32 | BIGINTEGER | JSON integer |
//! | UInt64 | BIGDECIMAL | JSON integer (exact, up to 18446744073709551615) |
//! | Float16, Float32, Float64 | DOUBLE | shortest round-trip number of the Arrow value's own width (`ryu`); NaN, ±inf -> `null` |
//! | Decimal32/64/128/256(p, s) | BIGDECIMAL | JSON number with the exact digits and `s` fraction digits (`-12.340`); never through f64 |
//! | Utf8, LargeUtf8, Utf8View, Dictionary(_, Utf8 \| LargeUtf8 \| Utf8View) | STRING | JSON string (RFC 8259 escaping) |
//! | Dictionary(_, T) for any other T | as T | as T |
//! | Null | STRING | `null` |
//! | Boolean | BOOL | `true` / `false` |
//! | Date32, Date64 | DATE | `"YYYY-MM-DD"` (years 0000..=9999, otherwise an error naming column and row) |
//! | Time32(s, ms), Time64(us, ns) | TIME | `"hh:mm:ss"` or `"hh:mm:ss.f"` (trailing zeros trimmed, up to 9 digits) |
//! | Timestamp(unit, None) | DATETIME | `"YYYY-MM-DDThh:mm:ss[.f]"`, the wall time as stored |
//! | Timestamp(unit, Some(zone)) | DATETIME | converted to UTC (default); with [`ModelOptions::with_utc`]`(false)` the local wall time of the zone |
//! | List, LargeList, ListView, LargeListView, FixedSizeList, Struct, Map | error, or STRING with [`ModelOptions::with_text_fallback`] | JSON string holding the value's JSON text (`"[1,2]"`, `"{\"a\":1}"`, as `arrow-json` writes it) |
//! | Binary, LargeBinary, BinaryView, FixedSizeBinary | error, or STRING with the text fallback | base64 string (standard alphabet, padded) |
//! | Duration, Interval | error, or STRING with the text fallback | text: ISO 8601 durations (`PT1.5S`), intervals as Arrow prints them |
//! | anything else (Union, RunEndEncoded, Decimal with no scale info, ...) | error | |
//!
//! With the local-time option, a zone must be a fixed offset (`+02:00`, `-0530`, `+02`) or
//! UTC (`UTC`, `Z`, `Etc/UTC`, `GMT`); named IANA zones (`Europe/Paris`) are refused with a
//! clear error, because their offsets need a time-zone database. Converting them to UTC (the
//! default) needs no database, since Arrow stores zoned timestamps as UTC instants.
//!
//! # Roles
//!
//! Each column becomes a form of an attribute or a metric. The first rule that applies
//! decides, and the column's [`ColumnModel::reason`] says which ([`RoleReason`]):
//!
//! | rule ([`RoleReason`]) | example columns | result | to decide otherwise |
//! |---|---|---|---|
//! | explicit choice (`UserAttribute`, `UserMetric`, `UserForm`) | any | as chosen | [`ModelOptions::with_attribute`], [`with_metric`](ModelOptions::with_metric), [`with_form`](ModelOptions::with_form) |
//! | ID/DESC pair (`IdDescPair`) | `Category_ID` (integer or string) + `Category_DESC` (string); `CountryCode` + `CountryName`; `Product ID` + `Product Desc` | one attribute `Category` with an `ID` and a `DESC` form | a choice on either column cancels the pair |
//! | in several tables (`SharedAcrossTables`) | `customer_id` in `orders` and `customers` | one attribute over both tables, whatever the type | `with_metric("customer_id")` |
//! | integer key name (`KeyName`) | `ID`, `customer_id`, `OrderKey`, `product_code`, `invoice_no` | attribute | `with_metric` |
//! | integer calendar part (`CalendarPart`) | `Year`, `fiscal_quarter`, `OrderMonth`, `Week`, `Day` | attribute | `with_metric` |
//! | numeric (`Numeric`) | `Cost` (DOUBLE), `units` (INTEGER), `price` (BIGDECIMAL) | metric | `with_attribute` |
//! | not numeric (`NonNumeric`) | `Region` (STRING), `paid` (BOOL), `order_date` (DATE) | attribute with one `ID` form | `with_form` to make it a form of another attribute |
//!
//! - Names are matched as whole words, ignoring case: a name is split at any character
//!   that is not a letter or a digit and between a lower-case letter or digit and an
//!   upper-case letter (`customer_id`, `customerId`, `Customer ID` and `CUSTOMER_ID` are the
//!   words `customer` + `id`). `Valid`, `Paid`, `Width` and `Holiday` hold no `id` or `day`.
//! - The key or calendar word must be the last word: `id_score` is not a key name (and a
//!   DOUBLE `id_score` is a metric in any case). Key words: `id`, `key`, `code`, `number`,
//!   `num`, `no`, `nr`, `pk`, `fk`, `sk`. Calendar words: `year`, `yr`, `fy`, `semester`,
//!   `quarter`, `qtr`, `month`, `week`, `weekday`, `day`, `date`, `hour` (plurals such as
//!   `days` are durations, not parts). Description words: `desc`, `description`, `descr`,
//!   `name`, `label`, `title`, `text`.
//! - "Integer" is an Arrow integer type, a dictionary of one, or a decimal of scale 0. A
//!   DOUBLE named `X_ID` stays a metric.
//! - A pair needs both columns in one table and a non-empty `X` (`ID` + `Name` is no pair),
//!   and is not made when a column of the push is named `X` or a form choice names an
//!   attribute `X`. When several columns of a table could be the ID of one `X` (`X_ID`,
//!   `X_CODE`), the one whose word comes first in the key words is; likewise for the
//!   description. The first table with a pair for `X` names its columns; in every table,
//!   the columns of those names are its forms (a lone `X_DESC` with no pair anywhere is an
//!   attribute of its own).
//! - Columns in several tables are compared ignoring case, and the attribute is named as
//!   the first table spells it.
//!
//! An attribute or metric of the same name (ignoring case) in several tables is one
//! attribute (metric) with one expression per table. Names follow the rules of
//! [`validate_name`] (the one definition is [`pushdata_core::wire::validate_name`]); table
//! names within the dataset and column names within a table must be unique ignoring case
//! (as the reference server compares them).

mod build;
mod error;
mod infer;
mod mapping;
mod names;
mod options;
mod reason;

use arrow_schema::{DataType as ArrowType, SchemaRef};
use pushdata_core::wire::{
    Attribute, ColumnExpression, ColumnHeader, DIExpression, DataType, DatasetCreator,
    DatasetModel, Form, Metric, TableCreator, TableDefinition,
};

pub use build::infer_model;
pub use error::{Choice, ModelError};
pub use mapping::{Mapping, Unmapped, ValueText, map_arrow_type};
pub use names::validate_name;
pub use options::ModelOptions;
pub use reason::RoleReason;

use crate::error::{Error, Result};

/// A table to model: its name and Arrow schema.
#[derive(Debug, Clone)]
pub struct TableSchema {
    /// Table name.
    pub name: String,
    /// The table's Arrow schema.
    pub schema: SchemaRef,
}

impl TableSchema {
    /// A table named `name` with `schema` (a `Schema` or a `SchemaRef`).
    pub fn new(name: impl Into<String>, schema: impl Into<SchemaRef>) -> Self {
        TableSchema {
            name: name.into(),
            schema: schema.into(),
        }
    }
}

/// What a column is in the dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// A form of an attribute.
    Attribute {
        /// Attribute name.
        attribute: String,
        /// Form category, `ID` or `DESC` (upper case).
        category: String,
    },
    /// A metric.
    Metric {
        /// Metric name.
        metric: String,
    },
}

/// One column of a modelled table.
#[derive(Debug, Clone)]
pub struct ColumnModel {
    /// Column name.
    pub name: String,
    /// The Arrow type.
    pub arrow_type: ArrowType,
    /// API type and value text.
    pub mapping: Mapping,
    /// Attribute form or metric.
    pub role: Role,
    /// The rule that decided the role.
    pub reason: RoleReason,
}

/// One modelled table.
#[derive(Debug, Clone)]
pub struct TableModel {
    /// Table name.
    pub name: String,
    /// The Arrow schema its batches must have.
    pub schema: SchemaRef,
    /// Its columns, in schema order.
    pub columns: Vec<ColumnModel>,
}

impl TableModel {
    /// The table's column headers, in schema order.
    pub fn column_headers(&self) -> Vec<ColumnHeader> {
        self.columns
            .iter()
            .map(|c| ColumnHeader::new(c.name.clone(), c.mapping.data_type))
            .collect()
    }
}

/// An attribute form: category, data type and the `(table, column)` per table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormModel {
    /// `ID`, `DESC`, ...
    pub category: String,
    /// The type of the first column that holds it.
    pub data_type: DataType,
    /// `(table, column)` per table.
    pub columns: Vec<(String, String)>,
}

/// An attribute with its forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeModel {
    /// Attribute name.
    pub name: String,
    /// Its forms, in order of first appearance.
    pub forms: Vec<FormModel>,
}

/// A metric with its column per table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricModel {
    /// Metric name.
    pub name: String,
    /// The type of the first column that holds it.
    pub data_type: DataType,
    /// `(table, column)` per table.
    pub columns: Vec<(String, String)>,
}

/// A dataset model inferred from Arrow schemas: tables, attributes and metrics.
#[derive(Debug, Clone)]
pub struct Model {
    /// Dataset name.
    pub name: String,
    /// Description (multi-request model only).
    pub description: Option<String>,
    /// Tables in the order given.
    pub tables: Vec<TableModel>,
    /// Attributes in order of first appearance.
    pub attributes: Vec<AttributeModel>,
    /// Metrics in order of first appearance.
    pub metrics: Vec<MetricModel>,
    /// Whether zoned timestamps are written in UTC.
    pub utc: bool,
}

impl Model {
    /// The table called `name`.
    pub fn table(&self, name: &str) -> Option<&TableModel> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// The column headers of table `name`.
    pub fn column_headers(&self, table: &str) -> Option<Vec<ColumnHeader>> {
        self.table(table).map(TableModel::column_headers)
    }

    /// The body of `POST /api/datasets/models` (multi-request workflow).
    pub fn to_dataset_model(&self) -> DatasetModel {
        DatasetModel {
            name: self.name.clone(),
            description: self.description.clone(),
            folder_id: None,
            tables: self
                .tables
                .iter()
                .map(|t| TableDefinition {
                    name: t.name.clone(),
                    description: None,
                    column_headers: t.column_headers(),
                })
                .collect(),
            metrics: self
                .metrics
                .iter()
                .map(|m| metric_wire(m, |t, c| ColumnExpression::new(t, c)))
                .collect(),
            attributes: self
                .attributes
                .iter()
                .map(|a| attribute_wire(a, |t, c| ColumnExpression::new(t, c)))
                .collect(),
        }
    }

    /// The body of `POST /api/datasets` (single-request workflow): `data` holds the base64
    /// data of each table, in table order.
    pub fn to_dataset_creator(&self, data: Vec<String>) -> Result<DatasetCreator> {
        if data.len() != self.tables.len() {
            return Err(Error::Config(format!(
                "dataset {:?} has {} tables but data for {} was given",
                self.name,
                self.tables.len(),
                data.len()
            )));
        }
        Ok(DatasetCreator {
            name: self.name.clone(),
            folder_id: None,
            tables: self
                .tables
                .iter()
                .zip(data)
                .map(|(t, data)| TableCreator {
                    name: t.name.clone(),
                    column_headers: t.column_headers(),
                    data,
                })
                .collect(),
            attributes: self
                .attributes
                .iter()
                .map(|a| attribute_wire(a, DIExpression::new))
                .collect(),
            metrics: self
                .metrics
                .iter()
                .map(|m| metric_wire(m, DIExpression::new))
                .collect(),
        })
    }

    /// The body of `PATCH /api/datasets/{id}/tables/{table}` for table `table`.
    pub fn to_table_creator(&self, table: &str, data: String) -> Result<TableCreator> {
        let t = self
            .table(table)
            .ok_or_else(|| Error::Config(format!("the model has no table {table:?}")))?;
        Ok(TableCreator {
            name: t.name.clone(),
            column_headers: t.column_headers(),
            data,
        })
    }
}

fn metric_wire<E>(m: &MetricModel, expr: impl Fn(&str, &str) -> E) -> Metric<E> {
    Metric {
        name: m.name.clone(),
        description: None,
        data_type: Some(m.data_type),
        expressions: m.columns.iter().map(|(t, c)| expr(t, c)).collect(),
    }
}

fn attribute_wire<E>(a: &AttributeModel, expr: impl Fn(&str, &str) -> E) -> Attribute<E> {
    Attribute {
        name: a.name.clone(),
        description: None,
        attribute_forms: a
            .forms
            .iter()
            .map(|f| Form {
                category: f.category.clone(),
                expressions: f.columns.iter().map(|(t, c)| expr(t, c)).collect(),
                data_type: Some(f.data_type),
            })
            .collect(),
    }
}
