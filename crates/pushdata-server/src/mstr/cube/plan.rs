//! What a cube instance reads: the requested attributes (with their forms) and metrics,
//! resolved against the dataset definition to tables, columns and stored types, and the
//! schema of the grouped rows.
//!
//! An id is matched first as an id (any case), then as an exact name. A metric is read from
//! the first table its expressions name; a form from the first table its expressions name
//! for its type (the tables actually read are chosen by [`super::tables`]).

use std::sync::Arc;

use arrow_schema::{DataType as ArrowType, Field, Schema, SchemaRef};
use pushdata_core::wire::{
    ColumnExpression, CubeInstanceRequest, DataType, RequestedObject, ViewFilter,
};

use super::accumulate;
use super::error::{CubeError, Result};
use super::filter;
use crate::mstr::decode::find_column;
use crate::mstr::{Dataset, DatasetDef};
use crate::store::{Snapshot, TableDef};

/// A form read.
#[derive(Debug, Clone)]
pub(crate) struct FormOut {
    /// Index of the form in its attribute's definition.
    pub(crate) index: usize,
    /// Form id (stable, derived from the attribute id).
    pub(crate) id: String,
    /// Form name: its category (`ID`, `DESC`, ...).
    pub(crate) name: String,
    /// The column's type.
    pub(crate) data_type: DataType,
    /// Precision and scale of stored decimals.
    pub(crate) decimal: Option<(u8, i8)>,
}

/// An attribute read.
#[derive(Debug, Clone)]
pub(crate) struct AttrOut {
    /// Index in the dataset definition.
    pub(crate) index: usize,
    /// Attribute id, as the cube definition lists it (element ids start with it).
    pub(crate) id: String,
    /// Attribute name, as the grid headers show it.
    pub(crate) name: String,
    /// The forms read, in definition order.
    pub(crate) forms: Vec<FormOut>,
}

/// A metric read.
#[derive(Debug, Clone)]
pub(crate) struct MetricOut {
    /// Index in the dataset definition.
    pub(crate) index: usize,
    /// Metric id, as the cube definition lists it.
    pub(crate) id: String,
    /// Metric name, as the grid headers show it.
    pub(crate) name: String,
    /// The column's type.
    pub(crate) data_type: DataType,
    /// Precision and scale of stored decimals.
    pub(crate) decimal: Option<(u8, i8)>,
    /// The name of the table it is read from.
    pub(crate) table: String,
    /// The name of its column in that table.
    pub(crate) column: String,
}

/// The resolved request.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// Attributes, in request order.
    pub(crate) attributes: Vec<AttrOut>,
    /// Metrics, in request order.
    pub(crate) metrics: Vec<MetricOut>,
    /// The view filter (checked).
    pub(crate) filter: Option<ViewFilter>,
}

/// An attribute asked for.
#[derive(Debug)]
struct WantedAttribute {
    /// Its index in the dataset definition.
    index: usize,
    /// The form ids or categories asked for (all when `None` or empty).
    forms: Option<Vec<String>>,
}

/// The id of form `f` of attribute `attr_id`.
pub(crate) fn form_id(attr_id: &str, f: usize) -> String {
    crate::ids::stable_id(&format!("{attr_id}/form/{f}"))
}

/// The column name of form `form` of attribute `attr` in grouped rows (`a<attr>.<form>`;
/// [`super::join`] recognizes keys by the leading `a`).
pub(crate) fn key_name(attr: usize, form: usize) -> String {
    format!("a{attr}.{form}")
}

/// The column name of metric `m` in grouped rows.
pub(crate) fn metric_name(m: usize) -> String {
    format!("m{m}")
}

/// The index of the attribute with id (any case) or name `id`.
fn find_attribute(def: &DatasetDef, id: &str) -> Option<usize> {
    def.attribute_index(id)
        .or_else(|| def.attributes.iter().position(|a| a.name == id))
}

/// The index of the metric with id (any case) or name `id`.
fn find_metric(def: &DatasetDef, id: &str) -> Option<usize> {
    def.metrics
        .iter()
        .position(|m| m.id.eq_ignore_ascii_case(id))
        .or_else(|| def.metrics.iter().position(|m| m.name == id))
}

/// The first table (and column index) an expression of `exprs` names.
fn first_column<'d>(ds: &'d Dataset, exprs: &[ColumnExpression]) -> Option<(&'d TableDef, usize)> {
    exprs.iter().find_map(|e| {
        let t = ds.def.tables.iter().find(|t| t.name == e.table_name)?;
        let c = find_column(&t.columns, &e.column_name)?;
        Some((t, c))
    })
}

/// The stored decimal precision/scale of a column, as readers see it.
fn stored_decimal(snap: &Snapshot, table: &TableDef, col: usize) -> Option<(u8, i8)> {
    if table.columns.get(col)?.data_type != DataType::BigDecimal {
        return None;
    }
    Some(
        snap.column_type(table, col)
            .as_ref()
            .and_then(pushdata_core::arrow::decimal_precision_scale)
            .unwrap_or((38, 0)),
    )
}

/// The Arrow type of column `c` of `t` as stored in the snapshot (the declared type's when
/// the table has no data yet).
pub(crate) fn column_arrow_type(snap: &Snapshot, t: &TableDef, c: usize) -> ArrowType {
    snap.column_type(t, c)
        .unwrap_or_else(|| pushdata_core::arrow::arrow_type(t.columns[c].data_type))
}

impl Plan {
    /// Resolve `req` against the dataset (400 naming the unknown id).
    pub(crate) fn resolve(
        ds: &Dataset,
        snap: &Snapshot,
        req: &CubeInstanceRequest,
    ) -> Result<Plan> {
        let (wanted_attributes, wanted_metrics) = match &req.requested_objects {
            None => (
                (0..ds.def.attributes.len())
                    .map(|index| WantedAttribute { index, forms: None })
                    .collect(),
                (0..ds.def.metrics.len()).collect(),
            ),
            Some(ro) => (
                requested_attributes(&ds.def, &ro.attributes)?,
                requested_metrics(&ds.def, &ro.metrics)?,
            ),
        };
        let attributes = wanted_attributes
            .iter()
            .map(|w| resolve_attribute(ds, snap, w))
            .collect::<Result<_>>()?;
        let metrics = wanted_metrics
            .into_iter()
            .map(|m| resolve_metric(ds, snap, m))
            .collect::<Result<_>>()?;
        if let Some(f) = &req.view_filter {
            filter::check(&ds.def, f)?;
        }
        Ok(Plan {
            attributes,
            metrics,
            filter: req.view_filter.clone(),
        })
    }

    /// The schema of the grouped rows: the forms' stored types, then the metrics' summed
    /// types (integers as Int64, decimals as Decimal256(76, scale)).
    pub(crate) fn result_schema(&self, ds: &Dataset, snap: &Snapshot) -> SchemaRef {
        let def = &ds.def;
        let mut fields = Vec::new();
        for a in &self.attributes {
            let forms = &def.attributes[a.index].attribute_forms;
            for f in &a.forms {
                let t = forms
                    .get(f.index)
                    .and_then(|fm| first_column(ds, &fm.expressions))
                    .map(|(t, c)| column_arrow_type(snap, t, c))
                    .unwrap_or_else(|| pushdata_core::arrow::arrow_type(f.data_type));
                fields.push(Field::new(key_name(a.index, f.index), t, true));
            }
        }
        for mo in &self.metrics {
            let t = def
                .tables
                .iter()
                .find(|t| t.name == mo.table)
                .and_then(|t| {
                    find_column(&t.columns, &mo.column).map(|c| column_arrow_type(snap, t, c))
                })
                .unwrap_or_else(|| pushdata_core::arrow::arrow_type(mo.data_type));
            fields.push(Field::new(
                metric_name(mo.index),
                accumulate::aggregated_type(&t),
                true,
            ));
        }
        Arc::new(Schema::new(fields))
    }
}

/// The attributes `requestedObjects.attributes` names, each once (in first-mention order).
fn requested_attributes(
    def: &DatasetDef,
    objects: &[RequestedObject],
) -> Result<Vec<WantedAttribute>> {
    let mut out: Vec<WantedAttribute> = Vec::new();
    for o in objects {
        let index = find_attribute(def, &o.id).ok_or_else(|| CubeError::UnknownAttribute {
            id: o.id.clone(),
            cube: def.id.clone(),
        })?;
        if !out.iter().any(|w| w.index == index) {
            let forms = o
                .forms
                .as_ref()
                .map(|fs| fs.iter().map(|f| f.id.clone()).collect());
            out.push(WantedAttribute { index, forms });
        }
    }
    Ok(out)
}

/// The metrics `requestedObjects.metrics` names, each once (in first-mention order).
fn requested_metrics(def: &DatasetDef, objects: &[RequestedObject]) -> Result<Vec<usize>> {
    let mut out = Vec::new();
    for o in objects {
        let i = find_metric(def, &o.id).ok_or_else(|| CubeError::UnknownMetric {
            id: o.id.clone(),
            cube: def.id.clone(),
        })?;
        if !out.contains(&i) {
            out.push(i);
        }
    }
    Ok(out)
}

/// The forms of an attribute asked for, typed by the column that holds each.
fn resolve_attribute(ds: &Dataset, snap: &Snapshot, w: &WantedAttribute) -> Result<AttrOut> {
    let a = &ds.def.attributes[w.index];
    let aid = &a.id;
    let mut forms = Vec::new();
    for (fi, f) in a.attribute_forms.iter().enumerate() {
        let fid = form_id(aid, fi);
        if let Some(asked) = &w.forms
            && !asked.is_empty()
            && !asked
                .iter()
                .any(|x| x.eq_ignore_ascii_case(&fid) || x.eq_ignore_ascii_case(&f.category))
        {
            continue;
        }
        let (t, c) =
            first_column(ds, &f.expressions).ok_or_else(|| CubeError::FormWithoutColumn {
                attribute: a.name.clone(),
            })?;
        forms.push(FormOut {
            index: fi,
            id: fid,
            name: if f.category.is_empty() {
                "ID".to_string()
            } else {
                f.category.clone()
            },
            data_type: t.columns[c].data_type,
            decimal: stored_decimal(snap, t, c),
        });
    }
    if forms.is_empty() {
        return Err(CubeError::NoSuchForms {
            attribute: a.name.clone(),
        });
    }
    Ok(AttrOut {
        index: w.index,
        id: aid.clone(),
        name: a.name.clone(),
        forms,
    })
}

/// Metric `mi`, typed by the column it is read from.
fn resolve_metric(ds: &Dataset, snap: &Snapshot, mi: usize) -> Result<MetricOut> {
    let md = &ds.def.metrics[mi];
    let (t, c) =
        first_column(ds, &md.expressions).ok_or_else(|| CubeError::MetricWithoutColumn {
            metric: md.name.clone(),
        })?;
    Ok(MetricOut {
        index: mi,
        id: md.id.clone(),
        name: md.name.clone(),
        data_type: t.columns[c].data_type,
        decimal: stored_decimal(snap, t, c),
        table: t.name.clone(),
        column: t.columns[c].name.clone(),
    })
}
