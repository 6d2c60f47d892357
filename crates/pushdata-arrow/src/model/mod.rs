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
//! Numeric columns (INTEGER, BIGINTEGER, DOUBLE, BIGDECIMAL) become metrics, all others
//! attributes with one `ID` form; [`ModelOptions`] overrides per column. An attribute or
//! metric of the same name in several tables is one attribute (metric) with one expression
//! per table. Names follow the rules of [`validate_name`] (the one definition is
//! [`pushdata_core::wire::validate_name`]); table names within the dataset and
//! column names within a table must be unique ignoring case (as the reference server
//! compares them).

mod mapping;
mod names;

use std::collections::HashSet;

use arrow_schema::{DataType as ArrowType, SchemaRef};
use pushdata_core::wire::{
    Attribute, ColumnExpression, ColumnHeader, DIExpression, DataType, DatasetCreator,
    DatasetModel, Form, Metric, TableCreator, TableDefinition,
};

pub use mapping::{Mapping, Unmapped, ValueText, map_arrow_type};
pub use names::validate_name;

use crate::encode::temporal::parse_fixed_offset;
use crate::error::{Error, Result};

/// Options for building a model from Arrow schemas. Plain struct with `with_*` builders.
///
/// Column overrides name a column either as `column` (every table) or as `table.column`.
#[derive(Debug, Clone)]
pub struct ModelOptions {
    attributes: Vec<String>,
    metrics: Vec<String>,
    forms: Vec<FormOverride>,
    utc: bool,
    text_fallback: bool,
    description: Option<String>,
}

#[derive(Debug, Clone)]
struct FormOverride {
    attribute: String,
    column: String,
    category: String,
}

impl Default for ModelOptions {
    fn default() -> Self {
        ModelOptions {
            attributes: Vec::new(),
            metrics: Vec::new(),
            forms: Vec::new(),
            utc: true,
            text_fallback: false,
            description: None,
        }
    }
}

impl ModelOptions {
    /// Make a column an attribute (with one ID form) even if it is numeric.
    pub fn with_attribute(mut self, column: impl Into<String>) -> Self {
        self.attributes.push(column.into());
        self
    }

    /// Make a numeric column a metric even if it would otherwise be an attribute.
    pub fn with_metric(mut self, column: impl Into<String>) -> Self {
        self.metrics.push(column.into());
        self
    }

    /// Make `column` the `category` form (`ID`, `DESC`, ...) of attribute `attribute`.
    /// Several columns may be forms of one attribute.
    pub fn with_form(
        mut self,
        attribute: impl Into<String>,
        column: impl Into<String>,
        category: impl Into<String>,
    ) -> Self {
        self.forms.push(FormOverride {
            attribute: attribute.into(),
            column: column.into(),
            category: category.into(),
        });
        self
    }

    /// Zoned timestamps: `true` (default) writes them in UTC, `false` the local wall time of
    /// their zone (fixed offsets and UTC only, see the module docs).
    pub fn with_utc(mut self, utc: bool) -> Self {
        self.utc = utc;
        self
    }

    /// Write nested columns as JSON text, binary as base64, durations and intervals as text
    /// (all STRING) instead of refusing them.
    pub fn with_text_fallback(mut self, on: bool) -> Self {
        self.text_fallback = on;
        self
    }

    /// A description for the dataset (multi-request model only).
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Whether zoned timestamps are written in UTC.
    pub fn utc(&self) -> bool {
        self.utc
    }

    /// Whether the text fallback is on.
    pub fn text_fallback(&self) -> bool {
        self.text_fallback
    }
}

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
        /// Form category (`ID`, `DESC`, ...).
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

fn key_matches(key: &str, table: &str, column: &str) -> bool {
    key == column
        || (key.len() == table.len() + 1 + column.len()
            && key.starts_with(table)
            && key.as_bytes().get(table.len()) == Some(&b'.')
            && key.ends_with(column))
}

/// Build the model of dataset `name` from one schema per table.
///
/// ```
/// use std::sync::Arc;
/// use arrow_schema::{DataType, Field, Schema};
/// use pushdata_arrow::{ModelOptions, TableSchema, infer_model};
/// let schema = Arc::new(Schema::new(vec![
///     Field::new("Year", DataType::Int32, false),
///     Field::new("Category", DataType::Utf8, true),
///     Field::new("Cost", DataType::Float64, true),
/// ]));
/// let opts = ModelOptions::default().with_attribute("Year");
/// let model = infer_model("sales", &[TableSchema::new("t", schema)], &opts).unwrap();
/// assert_eq!(model.attributes.len(), 2);
/// assert_eq!(model.metrics[0].name, "Cost");
/// ```
pub fn infer_model(name: &str, tables: &[TableSchema], opts: &ModelOptions) -> Result<Model> {
    validate_name("dataset", name)?;
    if tables.is_empty() {
        return Err(Error::Model(format!("dataset {name:?} has no tables")));
    }
    let mut used_keys = vec![false; opts.attributes.len() + opts.metrics.len() + opts.forms.len()];
    let mut table_models = Vec::with_capacity(tables.len());
    let mut attributes: Vec<AttributeModel> = Vec::new();
    let mut metrics: Vec<MetricModel> = Vec::new();
    for (ti, ts) in tables.iter().enumerate() {
        check_table_name(ts, &tables[..ti])?;
        let table = table_model(ts, opts, &mut used_keys)?;
        for c in &table.columns {
            add_role(&mut attributes, &mut metrics, &ts.name, c)?;
        }
        table_models.push(table);
    }
    check_overrides_used(opts, &used_keys)?;
    check_attributes_and_metrics(&attributes, &metrics)?;
    Ok(Model {
        name: name.to_string(),
        description: opts.description.clone(),
        tables: table_models,
        attributes,
        metrics,
        utc: opts.utc,
    })
}

/// A valid table name, unique (ignoring case) among the tables `before` it.
fn check_table_name(ts: &TableSchema, before: &[TableSchema]) -> Result<()> {
    validate_name("table", &ts.name)?;
    if before
        .iter()
        .any(|o| o.name.to_lowercase() == ts.name.to_lowercase())
    {
        return Err(Error::InvalidName {
            what: "table".into(),
            name: ts.name.clone(),
            reason: "two tables of the dataset have this name (names are compared \
                     ignoring case)"
                .into(),
        });
    }
    Ok(())
}

/// The model of one table: every column's name checked, type mapped and role chosen
/// (marking in `used_keys` the overrides that name it).
fn table_model(
    ts: &TableSchema,
    opts: &ModelOptions,
    used_keys: &mut [bool],
) -> Result<TableModel> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut columns = Vec::with_capacity(ts.schema.fields().len());
    for field in ts.schema.fields() {
        let column = field.name().as_str();
        validate_name(&format!("column of table {:?}", ts.name), column)?;
        if !seen.insert(column.to_lowercase()) {
            return Err(Error::InvalidName {
                what: format!("column of table {:?}", ts.name),
                name: column.to_string(),
                reason: "two columns of the table have this name (names are compared \
                         ignoring case)"
                    .into(),
            });
        }
        let mapping = column_mapping(&ts.name, column, field.data_type(), opts)?;
        check_zone(&ts.name, column, field.data_type(), opts.utc)?;
        let role = column_role(opts, used_keys, &ts.name, column, mapping.data_type)?;
        columns.push(ColumnModel {
            name: column.to_string(),
            arrow_type: field.data_type().clone(),
            mapping,
            role,
        });
    }
    Ok(TableModel {
        name: ts.name.clone(),
        schema: ts.schema.clone(),
        columns,
    })
}

/// The API type of a column, or why it has none.
fn column_mapping(
    table: &str,
    column: &str,
    t: &ArrowType,
    opts: &ModelOptions,
) -> Result<Mapping> {
    map_arrow_type(t, opts.text_fallback).map_err(|why| Error::UnsupportedType {
        table: table.to_string(),
        column: column.to_string(),
        arrow_type: t.to_string(),
        hint: match why {
            Unmapped::NeedsTextOption => {
                "; enable ModelOptions::with_text_fallback(true) to write it as \
                     STRING (nested as JSON text, binary as base64, durations and \
                     intervals as text)"
            }
            Unmapped::Unsupported => "",
        },
    })
}

/// Every column override names a column of some table.
fn check_overrides_used(opts: &ModelOptions, used_keys: &[bool]) -> Result<()> {
    let keys = opts
        .attributes
        .iter()
        .chain(&opts.metrics)
        .chain(opts.forms.iter().map(|f| &f.column));
    for (key, used) in keys.zip(used_keys) {
        if !used {
            return Err(Error::Model(format!(
                "the override for column {key:?} names no column of any table"
            )));
        }
    }
    Ok(())
}

/// Valid attribute and metric names, no name both an attribute and a metric.
fn check_attributes_and_metrics(
    attributes: &[AttributeModel],
    metrics: &[MetricModel],
) -> Result<()> {
    for a in attributes {
        validate_name("attribute", &a.name)?;
        if metrics.iter().any(|m| m.name.eq_ignore_ascii_case(&a.name)) {
            return Err(Error::Model(format!(
                "{:?} is the name of both an attribute and a metric; rename a column or \
                 override its role",
                a.name
            )));
        }
    }
    for m in metrics {
        validate_name("metric", &m.name)?;
    }
    Ok(())
}

fn check_zone(table: &str, column: &str, t: &ArrowType, utc: bool) -> Result<()> {
    let zone = match t {
        ArrowType::Timestamp(_, Some(z)) => z,
        ArrowType::Dictionary(_, v) => return check_zone(table, column, v, utc),
        _ => return Ok(()),
    };
    if !utc && parse_fixed_offset(zone).is_none() {
        return Err(Error::UnsupportedType {
            table: table.to_string(),
            column: column.to_string(),
            arrow_type: t.to_string(),
            hint: "; local wall time (with_utc(false)) needs a fixed-offset zone such as \
                   \"+02:00\" or UTC; named zones are written in UTC only (with_utc(true))",
        });
    }
    Ok(())
}

fn column_role(
    opts: &ModelOptions,
    used: &mut [bool],
    table: &str,
    column: &str,
    data_type: DataType,
) -> Result<Role> {
    let na = opts.attributes.len();
    let nm = opts.metrics.len();
    let mut as_attr = false;
    let mut as_metric = false;
    let mut form: Option<&FormOverride> = None;
    for (i, k) in opts.attributes.iter().enumerate() {
        if key_matches(k, table, column) {
            used[i] = true;
            as_attr = true;
        }
    }
    for (i, k) in opts.metrics.iter().enumerate() {
        if key_matches(k, table, column) {
            used[na + i] = true;
            as_metric = true;
        }
    }
    for (i, f) in opts.forms.iter().enumerate() {
        if key_matches(&f.column, table, column) {
            used[na + nm + i] = true;
            if let Some(prev) = form {
                return Err(Error::Model(format!(
                    "table {table:?}, column {column:?} is given two forms: {:?} of {:?} and \
                     {:?} of {:?}",
                    prev.category, prev.attribute, f.category, f.attribute
                )));
            }
            form = Some(f);
        }
    }
    if as_metric && (as_attr || form.is_some()) {
        return Err(Error::Model(format!(
            "table {table:?}, column {column:?} is overridden to both an attribute and a metric"
        )));
    }
    if as_metric && !data_type.is_numeric() {
        return Err(Error::Model(format!(
            "table {table:?}, column {column:?} is {data_type}; only numeric columns \
             (INTEGER, BIGINTEGER, DOUBLE, BIGDECIMAL) can be metrics"
        )));
    }
    if let Some(f) = form {
        if f.category.trim().is_empty() {
            return Err(Error::Model(format!(
                "table {table:?}, column {column:?}: the form category must not be empty"
            )));
        }
        return Ok(Role::Attribute {
            attribute: f.attribute.clone(),
            category: f.category.clone(),
        });
    }
    if as_metric || (!as_attr && data_type.is_numeric()) {
        Ok(Role::Metric {
            metric: column.to_string(),
        })
    } else {
        Ok(Role::Attribute {
            attribute: column.to_string(),
            category: "ID".to_string(),
        })
    }
}

fn add_role(
    attributes: &mut Vec<AttributeModel>,
    metrics: &mut Vec<MetricModel>,
    table: &str,
    c: &ColumnModel,
) -> Result<()> {
    let place = (table.to_string(), c.name.clone());
    match &c.role {
        Role::Metric { metric } => {
            if let Some(m) = metrics.iter_mut().find(|m| &m.name == metric) {
                if m.columns.iter().any(|(t, _)| t == table) {
                    return Err(Error::Model(format!(
                        "metric {metric:?} is given two columns of table {table:?}"
                    )));
                }
                m.columns.push(place);
            } else {
                metrics.push(MetricModel {
                    name: metric.clone(),
                    data_type: c.mapping.data_type,
                    columns: vec![place],
                });
            }
        }
        Role::Attribute {
            attribute,
            category,
        } => {
            let idx = match attributes.iter().position(|a| &a.name == attribute) {
                Some(i) => i,
                None => {
                    attributes.push(AttributeModel {
                        name: attribute.clone(),
                        forms: Vec::new(),
                    });
                    attributes.len() - 1
                }
            };
            let a = &mut attributes[idx];
            if let Some(f) = a
                .forms
                .iter_mut()
                .find(|f| f.category.eq_ignore_ascii_case(category))
            {
                if f.columns.iter().any(|(t, _)| t == table) {
                    return Err(Error::Model(format!(
                        "attribute {attribute:?} form {category:?} is given two columns of \
                         table {table:?}"
                    )));
                }
                f.columns.push(place);
            } else {
                a.forms.push(FormModel {
                    category: category.clone(),
                    data_type: c.mapping.data_type,
                    columns: vec![place],
                });
            }
        }
    }
    Ok(())
}
