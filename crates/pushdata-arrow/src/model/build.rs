//! [`infer_model`]: every table's columns checked and typed, their roles decided by the
//! [inference](super::infer), and the attributes and metrics assembled.

use std::collections::HashSet;

use arrow_schema::{DataType as ArrowType, Field};
use pushdata_core::wire::NameProblem;

use super::error::ModelError;
use super::infer::{self, TableFacts};
use super::options::ModelOptions;
use super::{
    AttributeModel, ColumnModel, FormModel, Mapping, MetricModel, Model, Role, TableModel,
    TableSchema, Unmapped, map_arrow_type, validate_name,
};
use crate::encode::temporal::parse_fixed_offset;
use crate::error::{Error, Result};

/// Build the model of dataset `name` from one schema per table: every column's type mapped
/// and its role decided by the [rules](super#roles), [`ModelOptions`]' explicit choices
/// first.
///
/// ```
/// use std::sync::Arc;
/// use arrow_schema::{DataType, Field, Schema};
/// use pushdata_arrow::{ModelOptions, RoleReason, TableSchema, infer_model};
/// let schema = Arc::new(Schema::new(vec![
///     Field::new("Year", DataType::Int32, false),
///     Field::new("Category_ID", DataType::Int32, false),
///     Field::new("Category_DESC", DataType::Utf8, true),
///     Field::new("Cost", DataType::Float64, true),
/// ]));
/// let model = infer_model("sales", &[TableSchema::new("t", schema)], &ModelOptions::default())
///     .unwrap();
/// assert_eq!(model.attributes[0].name, "Year");
/// assert_eq!(model.attributes[1].name, "Category"); // forms ID and DESC
/// assert_eq!(model.attributes[1].forms.len(), 2);
/// assert_eq!(model.metrics[0].name, "Cost");
/// let year = &model.tables[0].columns[0];
/// assert_eq!(year.reason, RoleReason::CalendarPart { part: "year".into() });
/// ```
pub fn infer_model(name: &str, tables: &[TableSchema], opts: &ModelOptions) -> Result<Model> {
    validate_name("dataset", name)?;
    if tables.is_empty() {
        return Err(ModelError::NoTables {
            dataset: name.to_string(),
        }
        .into());
    }
    let mut mappings = Vec::with_capacity(tables.len());
    for (ti, ts) in tables.iter().enumerate() {
        check_table_name(ts, &tables[..ti])?;
        mappings.push(column_mappings(ts, opts)?);
    }
    let facts = tables
        .iter()
        .zip(&mappings)
        .map(|(ts, maps)| {
            let mut t = TableFacts::new(&ts.name);
            for (field, m) in ts.schema.fields().iter().zip(maps) {
                t.push(field.name(), field.data_type(), *m);
            }
            t
        })
        .collect();
    let decisions = infer::decide(facts, opts)?;
    let mut table_models = Vec::with_capacity(tables.len());
    let mut attributes: Vec<AttributeModel> = Vec::new();
    let mut metrics: Vec<MetricModel> = Vec::new();
    for ((ts, maps), decided) in tables.iter().zip(mappings).zip(decisions) {
        let columns: Vec<ColumnModel> = ts
            .schema
            .fields()
            .iter()
            .zip(maps)
            .zip(decided)
            .map(|((field, mapping), d)| ColumnModel {
                name: field.name().clone(),
                arrow_type: field.data_type().clone(),
                mapping,
                role: d.role,
                reason: d.reason,
            })
            .collect();
        for c in &columns {
            add_role(&mut attributes, &mut metrics, &ts.name, c)?;
        }
        table_models.push(TableModel {
            name: ts.name.clone(),
            schema: ts.schema.clone(),
            columns,
        });
    }
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
            reason: NameProblem::DuplicateTable,
        });
    }
    Ok(())
}

/// Every column of a table: its name checked (valid, unique ignoring case) and its type
/// mapped.
fn column_mappings(ts: &TableSchema, opts: &ModelOptions) -> Result<Vec<Mapping>> {
    let mut seen: HashSet<String> = HashSet::new();
    let what = format!("column of table {:?}", ts.name);
    ts.schema
        .fields()
        .iter()
        .map(|field: &std::sync::Arc<Field>| {
            let column = field.name().as_str();
            validate_name(&what, column)?;
            if !seen.insert(column.to_lowercase()) {
                return Err(Error::InvalidName {
                    what: what.clone(),
                    name: column.to_string(),
                    reason: NameProblem::DuplicateColumn,
                });
            }
            let mapping = column_mapping(&ts.name, column, field.data_type(), opts)?;
            check_zone(&ts.name, column, field.data_type(), opts.utc)?;
            Ok(mapping)
        })
        .collect()
}

/// The API type of a column, or why it has none.
fn column_mapping(
    table: &str,
    column: &str,
    t: &ArrowType,
    opts: &ModelOptions,
) -> Result<Mapping> {
    map_arrow_type(t, opts.text_fallback()).map_err(|why| Error::UnsupportedType {
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

/// Valid attribute and metric names, no name both an attribute and a metric.
fn check_attributes_and_metrics(
    attributes: &[AttributeModel],
    metrics: &[MetricModel],
) -> Result<()> {
    for a in attributes {
        validate_name("attribute", &a.name)?;
        if metrics.iter().any(|m| m.name.eq_ignore_ascii_case(&a.name)) {
            return Err(ModelError::AttributeNamedLikeMetric {
                name: a.name.clone(),
            }
            .into());
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

/// Add column `c` of `table` to its attribute form or metric (names compared ignoring
/// case, as the server compares them).
fn add_role(
    attributes: &mut Vec<AttributeModel>,
    metrics: &mut Vec<MetricModel>,
    table: &str,
    c: &ColumnModel,
) -> Result<()> {
    let place = (table.to_string(), c.name.clone());
    let in_table = |columns: &[(String, String)]| {
        columns
            .iter()
            .find(|(t, _)| t == table)
            .map(|(_, col)| col.clone())
    };
    match &c.role {
        Role::Metric { metric } => {
            let Some(m) = metrics
                .iter_mut()
                .find(|m| m.name.eq_ignore_ascii_case(metric))
            else {
                metrics.push(MetricModel {
                    name: metric.clone(),
                    data_type: c.mapping.data_type,
                    columns: vec![place],
                });
                return Ok(());
            };
            if let Some(first) = in_table(&m.columns) {
                return Err(ModelError::MetricTwoColumns {
                    metric: m.name.clone(),
                    table: table.to_string(),
                    first,
                    second: c.name.clone(),
                }
                .into());
            }
            m.columns.push(place);
        }
        Role::Attribute {
            attribute,
            category,
        } => {
            let idx = match attributes
                .iter()
                .position(|a| a.name.eq_ignore_ascii_case(attribute))
            {
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
            let Some(f) = a
                .forms
                .iter_mut()
                .find(|f| f.category.eq_ignore_ascii_case(category))
            else {
                a.forms.push(FormModel {
                    category: category.clone(),
                    data_type: c.mapping.data_type,
                    columns: vec![place],
                });
                return Ok(());
            };
            if let Some(first) = in_table(&f.columns) {
                return Err(ModelError::FormTwoColumns {
                    attribute: a.name.clone(),
                    category: category.clone(),
                    table: table.to_string(),
                    first,
                    second: c.name.clone(),
                }
                .into());
            }
            f.columns.push(place);
        }
    }
    Ok(())
}
