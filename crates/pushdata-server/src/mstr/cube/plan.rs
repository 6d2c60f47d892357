//! What a cube instance reads: the requested attributes (with their forms) and metrics,
//! resolved against the dataset definition to tables and columns, and the reading itself
//! (project the stored Parquet, filter, group, join tables on shared attributes).
//!
//! Semantics (as a cube does): rows are grouped by the requested attributes' forms and
//! metrics are summed. A metric is read from the first table its expressions name. When
//! the attributes and metrics come from several tables, each table is first grouped by
//! its requested attributes plus the attributes it shares with the other tables read,
//! then the tables are joined (inner) on the shared attributes' forms, then the joined
//! rows are grouped by the requested attributes. A table that shares no attribute with
//! the others is crossed with them (its metrics repeat on every row, as a cube shows
//! metrics unrelated to the attributes; at most [`MAX_CROSS_ROWS`] rows).
//!
//! Memory: one table is streamed batch by batch from its Parquet file and grouped with
//! the bound of [`super::aggregate`]. A join of several tables holds their
//! grouped rows in memory.

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, BooleanArray, RecordBatch, UInt32Array};
use arrow_row::{RowConverter, SortField};
use arrow_schema::{DataType as ArrowType, Field, Schema, SchemaRef};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use pushdata_core::wire::{ColumnExpression, CubeInstanceRequest, DataType, ViewFilter};

use super::aggregate;
use super::cells;
use crate::mstr::Dataset;
use crate::mstr::decode::find_column;
use crate::mstr::error::{ApiError, Result};
use crate::store::{Snapshot, TableDef};

fn st(ctx: &'static str) -> impl Fn(arrow_schema::ArrowError) -> ApiError {
    move |e| ApiError::internal(ctx, e)
}

/// A form read.
#[derive(Debug, Clone)]
pub struct FormOut {
    /// Index of the form in its attribute's definition.
    pub index: usize,
    /// Form id (stable, derived from the attribute id).
    pub id: String,
    /// Form name: its category (`ID`, `DESC`, ...).
    pub name: String,
    /// The column's type.
    pub data_type: DataType,
    /// Precision and scale of stored decimals.
    pub decimal: Option<(u8, i8)>,
}

/// An attribute read.
#[derive(Debug, Clone)]
pub struct AttrOut {
    /// Index in the dataset definition.
    pub index: usize,
    /// Attribute id.
    pub id: String,
    /// Attribute name.
    pub name: String,
    /// The forms read, in definition order.
    pub forms: Vec<FormOut>,
}

/// A metric read.
#[derive(Debug, Clone)]
pub struct MetricOut {
    /// Index in the dataset definition.
    pub index: usize,
    /// Metric id.
    pub id: String,
    /// Metric name.
    pub name: String,
    /// The column's type.
    pub data_type: DataType,
    /// Precision and scale of stored decimals.
    pub decimal: Option<(u8, i8)>,
    /// The table it is read from.
    table: String,
    column: String,
}

/// The resolved request.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Attributes, in request order.
    pub attributes: Vec<AttrOut>,
    /// Metrics, in request order.
    pub metrics: Vec<MetricOut>,
    filter: Option<ViewFilter>,
}

/// An attribute asked for: its index and the form ids or categories (all when `None`).
type WantedAttribute = (usize, Option<Vec<String>>);

/// Batches read from a table.
type Batches = Box<dyn Iterator<Item = Result<RecordBatch>>>;

/// The id of form `f` of attribute `attr_id`.
pub fn form_id(attr_id: &str, f: usize) -> String {
    crate::ids::stable_id(&format!("{attr_id}/form/{f}"))
}

fn key_name(attr: usize, form: usize) -> String {
    format!("a{attr}.{form}")
}

fn metric_name(m: usize) -> String {
    format!("m{m}")
}

fn table_of<'d>(ds: &'d Dataset, e: &ColumnExpression) -> Option<(&'d TableDef, usize)> {
    let t = ds.def.tables.iter().find(|t| t.name == e.table_name)?;
    let c = find_column(&t.columns, &e.column_name)?;
    Some((t, c))
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

impl Plan {
    /// Resolve `req` against the dataset (400 naming the unknown id).
    pub fn resolve(ds: &Dataset, snap: &Snapshot, req: &CubeInstanceRequest) -> Result<Plan> {
        let def = &ds.def;
        let find_attr = |id: &str| {
            def.attribute_ids
                .iter()
                .position(|a| a.eq_ignore_ascii_case(id))
                .or_else(|| def.attributes.iter().position(|a| a.name == id))
        };
        let find_metric = |id: &str| {
            def.metric_ids
                .iter()
                .position(|a| a.eq_ignore_ascii_case(id))
                .or_else(|| def.metrics.iter().position(|a| a.name == id))
        };
        let (attrs, metrics): (Vec<WantedAttribute>, Vec<usize>) = match &req.requested_objects {
            None => (
                (0..def.attributes.len()).map(|i| (i, None)).collect(),
                (0..def.metrics.len()).collect(),
            ),
            Some(ro) => {
                let mut a = Vec::new();
                for o in &ro.attributes {
                    let i = find_attr(&o.id).ok_or_else(|| {
                            ApiError::bad_request(format!(
                                "requestedObjects.attributes: {:?} is not an attribute of cube {} (see GET /api/v2/cubes/{})",
                                o.id, def.id, def.id
                            ))
                        })?;
                    if !a.iter().any(|(x, _)| *x == i) {
                        a.push((
                            i,
                            o.forms
                                .as_ref()
                                .map(|fs| fs.iter().map(|f| f.id.clone()).collect()),
                        ));
                    }
                }
                let mut ms = Vec::new();
                for o in &ro.metrics {
                    let i = find_metric(&o.id).ok_or_else(|| {
                            ApiError::bad_request(format!(
                                "requestedObjects.metrics: {:?} is not a metric of cube {} (see GET /api/v2/cubes/{})",
                                o.id, def.id, def.id
                            ))
                        })?;
                    if !ms.contains(&i) {
                        ms.push(i);
                    }
                }
                (a, ms)
            }
        };
        let mut attributes = Vec::with_capacity(attrs.len());
        for (ai, wanted) in attrs {
            let a = &def.attributes[ai];
            let aid = &def.attribute_ids[ai];
            let mut forms = Vec::new();
            for (fi, f) in a.attribute_forms.iter().enumerate() {
                let fid = form_id(aid, fi);
                if let Some(w) = &wanted
                    && !w.is_empty()
                    && !w.iter().any(|x| {
                        x.eq_ignore_ascii_case(&fid) || x.eq_ignore_ascii_case(&f.category)
                    })
                {
                    continue;
                }
                let (t, c) = f
                    .expressions
                    .iter()
                    .find_map(|e| table_of(ds, e))
                    .ok_or_else(|| {
                        ApiError::internal(
                            format!("attribute {:?}", a.name),
                            "a form has no expression naming a column of the dataset",
                        )
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
                return Err(ApiError::bad_request(format!(
                    "requestedObjects.attributes: none of the forms asked for exist in attribute {:?}",
                    a.name
                )));
            }
            attributes.push(AttrOut {
                index: ai,
                id: aid.clone(),
                name: a.name.clone(),
                forms,
            });
        }
        let mut metrics_out = Vec::with_capacity(metrics.len());
        for mi in metrics {
            let md = &def.metrics[mi];
            let (t, c) = md
                .expressions
                .iter()
                .find_map(|e| table_of(ds, e))
                .ok_or_else(|| {
                    ApiError::internal(
                        format!("metric {:?}", md.name),
                        "no expression names a column of the dataset",
                    )
                })?;
            metrics_out.push(MetricOut {
                index: mi,
                id: def.metric_ids[mi].clone(),
                name: md.name.clone(),
                data_type: t.columns[c].data_type,
                decimal: stored_decimal(snap, t, c),
                table: t.name.clone(),
                column: t.columns[c].name.clone(),
            });
        }
        if let Some(f) = &req.view_filter {
            check_filter(ds, f)?;
        }
        Ok(Plan {
            attributes,
            metrics: metrics_out,
            filter: req.view_filter.clone(),
        })
    }

    /// The schema of the grouped rows: the forms' stored types, then the metrics' summed
    /// types (integers as Int64, decimals as Decimal256(76, scale)).
    pub fn result_schema(&self, ds: &Dataset, snap: &Snapshot) -> SchemaRef {
        let def = &ds.def;
        let mut fields = Vec::new();
        for a in &self.attributes {
            let forms = &def.attributes[a.index].attribute_forms;
            for f in &a.forms {
                let t = forms
                    .get(f.index)
                    .and_then(|fm| fm.expressions.iter().find_map(|e| table_of(ds, e)))
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
                aggregate::aggregated_type(&t),
                true,
            ));
        }
        Arc::new(Schema::new(fields))
    }

    /// Read the data and hand the grouped rows to `sink`: the attributes' forms (request
    /// order), then the metrics.
    pub fn execute(
        &self,
        ds: &Dataset,
        snap: &Snapshot,
        max_groups: usize,
        spill_dir: &Path,
        sink: &mut dyn FnMut(RecordBatch) -> Result<()>,
    ) -> Result<()> {
        let def = &ds.def;
        // Which tables hold which attribute forms.
        let has_attr = |t: &TableDef, ai: usize| -> Vec<(usize, usize)> {
            def.attributes[ai]
                .attribute_forms
                .iter()
                .enumerate()
                .filter_map(|(fi, f)| {
                    f.expressions
                        .iter()
                        .find(|e| e.table_name == t.name)
                        .and_then(|e| find_column(&t.columns, &e.column_name))
                        .map(|c| (fi, c))
                })
                .collect()
        };
        let mut involved: Vec<&TableDef> = Vec::new();
        for mo in &self.metrics {
            if let Some(t) = def.tables.iter().find(|t| t.name == mo.table)
                && !involved.iter().any(|x| x.id == t.id)
            {
                involved.push(t);
            }
        }
        for a in &self.attributes {
            let covered = involved.iter().any(|t| {
                let present = has_attr(t, a.index);
                a.forms
                    .iter()
                    .all(|f| present.iter().any(|(fi, _)| *fi == f.index))
            });
            if covered {
                continue;
            }
            let candidates: Vec<&TableDef> = def
                .tables
                .iter()
                .filter(|t| {
                    let present = has_attr(t, a.index);
                    a.forms
                        .iter()
                        .all(|f| present.iter().any(|(fi, _)| *fi == f.index))
                })
                .collect();
            let shares = |t: &TableDef| {
                involved.iter().any(|o| {
                    (0..def.attributes.len())
                        .any(|ai| !has_attr(t, ai).is_empty() && !has_attr(o, ai).is_empty())
                })
            };
            let pick = candidates
                .iter()
                .find(|t| involved.is_empty() || shares(t))
                .or(candidates.first())
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "attribute {:?}: no table holds all the forms asked for",
                        a.name
                    ))
                })?;
            involved.push(*pick);
        }
        // A filter on an attribute of a table not read yet brings that table in (joined
        // on the attributes it shares), so the filter restricts the rows.
        if let Some(f) = &self.filter {
            let mut ids = BTreeSet::new();
            filter_attributes(f, &mut ids);
            for id in ids {
                let Some(ai) = def
                    .attribute_ids
                    .iter()
                    .position(|a| a.eq_ignore_ascii_case(&id))
                else {
                    continue;
                };
                if involved.iter().any(|t| !has_attr(t, ai).is_empty()) {
                    continue;
                }
                let holders: Vec<&TableDef> = def
                    .tables
                    .iter()
                    .filter(|t| !has_attr(t, ai).is_empty())
                    .collect();
                let shares = |t: &TableDef| {
                    involved.iter().any(|o| {
                        (0..def.attributes.len())
                            .any(|x| !has_attr(t, x).is_empty() && !has_attr(o, x).is_empty())
                    })
                };
                if let Some(t) = holders
                    .iter()
                    .find(|t| involved.is_empty() || shares(t))
                    .or(holders.first())
                {
                    involved.push(*t);
                }
            }
        }
        if involved.is_empty() {
            return Ok(());
        }
        let wanted_keys: Vec<String> = self
            .attributes
            .iter()
            .flat_map(|a| a.forms.iter().map(|f| key_name(a.index, f.index)))
            .collect();
        let wanted_metrics: Vec<String> = self
            .metrics
            .iter()
            .map(|mo| metric_name(mo.index))
            .collect();
        if involved.len() == 1 {
            let t = involved[0];
            let mut cols = Vec::new();
            for a in &self.attributes {
                let present = has_attr(t, a.index);
                for f in &a.forms {
                    let c = present
                        .iter()
                        .find(|(fi, _)| *fi == f.index)
                        .map(|(_, c)| *c)
                        .ok_or_else(|| {
                            ApiError::internal(
                                format!("attribute {:?}", a.name),
                                "form not in table",
                            )
                        })?;
                    cols.push((key_name(a.index, f.index), c));
                }
            }
            for mo in &self.metrics {
                let c = find_column(&t.columns, &mo.column).ok_or_else(|| {
                    ApiError::internal(format!("metric {:?}", mo.name), "column not in table")
                })?;
                cols.push((metric_name(mo.index), c));
            }
            let rows = snap
                .manifest()
                .tables
                .get(&t.id)
                .map(|tv| tv.rows)
                .unwrap_or(0);
            let (schema, mut input) = self.read_table(ds, snap, t, &cols)?;
            return aggregate::aggregate(
                &schema,
                wanted_keys.len(),
                &mut input,
                rows,
                max_groups,
                spill_dir,
                sink,
            );
        }
        // Several tables: group each by its keys (requested + shared attributes).
        let mut reduced: Vec<RecordBatch> = Vec::new();
        for (ti, t) in involved.iter().enumerate() {
            let mut cols = Vec::new();
            for ai in 0..def.attributes.len() {
                let present = has_attr(t, ai);
                if present.is_empty() {
                    continue;
                }
                let requested = self.attributes.iter().any(|a| a.index == ai);
                let shared = involved
                    .iter()
                    .enumerate()
                    .any(|(oi, o)| oi != ti && !has_attr(o, ai).is_empty());
                if requested || shared {
                    for (fi, c) in present {
                        cols.push((key_name(ai, fi), c));
                    }
                }
            }
            let n_keys = cols.len();
            for mo in self.metrics.iter().filter(|mo| mo.table == t.name) {
                if let Some(c) = find_column(&t.columns, &mo.column) {
                    cols.push((metric_name(mo.index), c));
                }
            }
            let rows = snap
                .manifest()
                .tables
                .get(&t.id)
                .map(|tv| tv.rows)
                .unwrap_or(0);
            let (schema, mut input) = self.read_table(ds, snap, t, &cols)?;
            let mut parts = Vec::new();
            aggregate::aggregate(
                &schema,
                n_keys,
                &mut input,
                rows,
                usize::MAX,
                spill_dir,
                &mut |b| {
                    parts.push(b);
                    Ok(())
                },
            )?;
            let out_schema = aggregate::output_schema(&schema, n_keys);
            reduced.push(
                arrow_select::concat::concat_batches(&out_schema, &parts)
                    .map_err(st("joining tables"))?,
            );
        }
        let names: Vec<String> = involved.iter().map(|t| t.name.clone()).collect();
        let mut joined = reduced.remove(0);
        let mut joined_names = vec![names[0].clone()];
        let mut rest: Vec<(String, RecordBatch)> = names.into_iter().skip(1).zip(reduced).collect();
        while !rest.is_empty() {
            // Prefer a table that shares an attribute; one that shares none is crossed
            // (its metrics repeat on every row, as a cube shows unrelated metrics).
            let pos = rest
                .iter()
                .position(|(_, b)| !shared_keys(&joined, b).is_empty())
                .unwrap_or(0);
            let (n, b) = rest.remove(pos);
            joined = join(&joined, &b).map_err(|e| match e {
                ApiError::BadRequest(m) => ApiError::BadRequest(format!(
                    "joining table {n:?} to {}: {m}",
                    joined_names
                        .iter()
                        .map(|n| format!("{n:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                other => other,
            })?;
            joined_names.push(n);
        }
        let schema = joined.schema();
        let mut idx = Vec::new();
        for n in wanted_keys.iter().chain(&wanted_metrics) {
            idx.push(schema.index_of(n).map_err(st("joining tables"))?);
        }
        let projected = joined.project(&idx).map_err(st("joining tables"))?;
        let rows = projected.num_rows() as u64;
        let pschema = projected.schema();
        aggregate::aggregate(
            &pschema,
            wanted_keys.len(),
            &mut std::iter::once(Ok(projected)),
            rows,
            max_groups,
            spill_dir,
            sink,
        )
    }

    /// Stream table `t`'s rows: the columns `cols` (internal name, column index), filtered
    /// by the view filter.
    fn read_table(
        &self,
        ds: &Dataset,
        snap: &Snapshot,
        t: &TableDef,
        cols: &[(String, usize)],
    ) -> Result<(SchemaRef, Batches)> {
        // Columns the filter needs: every form of every attribute it names (in this table).
        let mut filter_cols: Vec<(String, usize, Vec<usize>)> = Vec::new();
        if let Some(f) = &self.filter {
            let mut ids = BTreeSet::new();
            filter_attributes(f, &mut ids);
            for id in ids {
                if let Some(ai) = ds
                    .def
                    .attribute_ids
                    .iter()
                    .position(|a| a.eq_ignore_ascii_case(&id))
                {
                    let mut cs = Vec::new();
                    for fm in &ds.def.attributes[ai].attribute_forms {
                        if let Some(c) = fm
                            .expressions
                            .iter()
                            .find(|e| e.table_name == t.name)
                            .and_then(|e| find_column(&t.columns, &e.column_name))
                        {
                            cs.push(c);
                        }
                    }
                    if !cs.is_empty() {
                        filter_cols.push((ds.def.attribute_ids[ai].clone(), ai, cs));
                    }
                }
            }
        }
        let fields: Vec<Field> = cols
            .iter()
            .map(|(n, c)| Field::new(n, column_arrow_type(snap, t, *c), true))
            .collect();
        let schema: SchemaRef = Arc::new(Schema::new(fields));
        let Some(path) = snap.table_file(&t.id) else {
            return Ok((schema, Box::new(std::iter::empty())));
        };
        let mut needed: Vec<usize> = cols.iter().map(|(_, c)| *c).collect();
        for (_, _, cs) in &filter_cols {
            needed.extend(cs);
        }
        needed.sort_unstable();
        needed.dedup();
        let f = File::open(&path)
            .map_err(|e| ApiError::io(format!("opening {}", path.display()), e))?;
        let b = ParquetRecordBatchReaderBuilder::try_new(f)
            .map_err(|e| ApiError::internal(format!("reading {}", path.display()), e))?;
        let mask = ProjectionMask::roots(b.parquet_schema(), needed.iter().copied());
        let reader = b
            .with_projection(mask)
            .with_batch_size(64 * 1024)
            .build()
            .map_err(|e| ApiError::internal(format!("reading {}", path.display()), e))?;
        let pos = |c: usize| needed.iter().position(|x| *x == c).unwrap_or(0);
        let out_idx: Vec<usize> = cols.iter().map(|(_, c)| pos(*c)).collect();
        let filter_idx: Vec<(String, Vec<usize>)> = filter_cols
            .iter()
            .map(|(id, _, cs)| (id.clone(), cs.iter().map(|c| pos(*c)).collect()))
            .collect();
        let filter = self.filter.clone();
        let out_schema = schema.clone();
        let tname = t.name.clone();
        let p = path.display().to_string();
        let iter = reader.map(move |r| {
            let b = r.map_err(|e| ApiError::internal(format!("reading {p}"), e))?;
            let b = match &filter {
                Some(f) => {
                    let mask = eval_filter(f, &b, &filter_idx, &tname)?;
                    arrow_select::filter::filter_record_batch(&b, &mask)
                        .map_err(st("filtering rows"))?
                }
                None => b,
            };
            let cols: Vec<ArrayRef> = out_idx
                .iter()
                .zip(out_schema.fields())
                .map(|(i, f)| {
                    let c = b.column(*i);
                    if c.data_type() == f.data_type() {
                        Ok(c.clone())
                    } else {
                        arrow_cast::cast(c, f.data_type()).map_err(st("reading a table"))
                    }
                })
                .collect::<Result<_>>()?;
            let opts = arrow_array::RecordBatchOptions::new().with_row_count(Some(b.num_rows()));
            RecordBatch::try_new_with_options(out_schema.clone(), cols, &opts)
                .map_err(st("reading a table"))
        });
        Ok((schema, Box::new(iter)))
    }
}

fn column_arrow_type(snap: &Snapshot, t: &TableDef, c: usize) -> ArrowType {
    snap.column_type(t, c)
        .unwrap_or_else(|| pushdata_core::arrow::arrow_type(t.columns[c].data_type))
}

fn shared_keys(a: &RecordBatch, b: &RecordBatch) -> Vec<String> {
    let bs = b.schema();
    a.schema()
        .fields()
        .iter()
        .filter(|f| f.name().starts_with('a') && bs.index_of(f.name()).is_ok())
        .map(|f| f.name().clone())
        .collect()
}

/// The most rows a join of tables that share no attribute may produce.
pub const MAX_CROSS_ROWS: u64 = 10_000_000;

/// Inner hash join of two grouped tables on their shared attribute forms (a cross join
/// when they share none).
fn join(left: &RecordBatch, right: &RecordBatch) -> Result<RecordBatch> {
    let keys = shared_keys(left, right);
    let ls = left.schema();
    let rs = right.schema();
    let lk: Vec<ArrayRef> = keys
        .iter()
        .map(|k| ls.index_of(k).map(|i| left.column(i).clone()))
        .collect::<std::result::Result<_, _>>()
        .map_err(st("joining tables"))?;
    let rk: Vec<ArrayRef> = keys
        .iter()
        .zip(&lk)
        .map(|(k, l)| {
            let c = right.column(rs.index_of(k).map_err(st("joining tables"))?);
            if c.data_type() == l.data_type() {
                Ok(c.clone())
            } else {
                arrow_cast::cast(c, l.data_type()).map_err(st("joining tables"))
            }
        })
        .collect::<Result<_>>()?;
    let conv = RowConverter::new(
        lk.iter()
            .map(|c| SortField::new(c.data_type().clone()))
            .collect(),
    )
    .map_err(st("joining tables"))?;
    let mut li = Vec::new();
    let mut ri = Vec::new();
    if keys.is_empty() {
        // No shared attribute: every row with every row.
        let product = (left.num_rows() as u64).saturating_mul(right.num_rows() as u64);
        if product > MAX_CROSS_ROWS {
            return Err(ApiError::bad_request(format!(
                "the tables share no attribute and crossing their {} x {} grouped rows exceeds {MAX_CROSS_ROWS} rows; ask for attributes and metrics of tables that share an attribute",
                left.num_rows(),
                right.num_rows()
            )));
        }
        for i in 0..left.num_rows() as u32 {
            for j in 0..right.num_rows() as u32 {
                li.push(i);
                ri.push(j);
            }
        }
    } else {
        let rrows = conv.convert_columns(&rk).map_err(st("joining tables"))?;
        let mut index: HashMap<&[u8], Vec<u32>> = HashMap::new();
        for (i, r) in rrows.iter().enumerate() {
            index.entry(r.data()).or_default().push(i as u32);
        }
        let lrows = conv.convert_columns(&lk).map_err(st("joining tables"))?;
        for (i, r) in lrows.iter().enumerate() {
            if let Some(m) = index.get(r.data()) {
                for j in m {
                    li.push(i as u32);
                    ri.push(*j);
                }
            }
        }
    }
    let li = UInt32Array::from(li);
    let ri = UInt32Array::from(ri);
    let mut fields: Vec<Field> = ls.fields().iter().map(|f| f.as_ref().clone()).collect();
    let mut cols: Vec<ArrayRef> = left
        .columns()
        .iter()
        .map(|c| arrow_select::take::take(c, &li, None))
        .collect::<std::result::Result<_, _>>()
        .map_err(st("joining tables"))?;
    for (i, f) in rs.fields().iter().enumerate() {
        if keys.contains(f.name()) {
            continue;
        }
        fields.push(f.as_ref().clone());
        cols.push(
            arrow_select::take::take(right.column(i), &ri, None).map_err(st("joining tables"))?,
        );
    }
    let opts = arrow_array::RecordBatchOptions::new().with_row_count(Some(li.len()));
    RecordBatch::try_new_with_options(Arc::new(Schema::new(fields)), cols, &opts)
        .map_err(st("joining tables"))
}

fn filter_attributes(f: &ViewFilter, out: &mut BTreeSet<String>) {
    if f.node_type
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case("attribute"))
        && let Some(id) = &f.id
    {
        out.insert(id.clone());
    }
    for o in &f.operands {
        filter_attributes(o, out);
    }
}

fn check_filter(ds: &Dataset, f: &ViewFilter) -> Result<()> {
    let op = f.operator.as_deref().unwrap_or("");
    match op.to_ascii_lowercase().as_str() {
        "and" | "or" | "not" => {
            if f.operands.is_empty() {
                return Err(ApiError::bad_request(format!(
                    "viewFilter: operator {op:?} has no operands"
                )));
            }
            f.operands.iter().try_for_each(|o| check_filter(ds, o))
        }
        "in" | "notin" => {
            let attr = f.operands.iter().find(|o| {
                o.node_type
                    .as_deref()
                    .is_some_and(|t| t.eq_ignore_ascii_case("attribute"))
            });
            let elems = f.operands.iter().find(|o| {
                o.node_type
                    .as_deref()
                    .is_some_and(|t| t.eq_ignore_ascii_case("elements"))
            });
            match (attr.and_then(|a| a.id.as_ref()), elems) {
                (Some(id), Some(_)) => {
                    if ds
                        .def
                        .attribute_ids
                        .iter()
                        .any(|a| a.eq_ignore_ascii_case(id))
                    {
                        Ok(())
                    } else {
                        Err(ApiError::bad_request(format!(
                            "viewFilter: {id:?} is not an attribute of cube {}",
                            ds.def.id
                        )))
                    }
                }
                _ => Err(ApiError::bad_request(format!(
                    "viewFilter: operator {op:?} needs an operand of type \"attribute\" with an id and one of type \"elements\""
                ))),
            }
        }
        _ => Err(ApiError::bad_request(format!(
            "viewFilter: unsupported operator {op:?}; this server understands And, Or, Not, In and NotIn on attribute elements"
        ))),
    }
}

/// Evaluate a filter on a batch; `attrs` gives, per attribute id, the batch columns of its
/// forms. An attribute the table does not hold leaves rows in.
fn eval_filter(
    f: &ViewFilter,
    b: &RecordBatch,
    attrs: &[(String, Vec<usize>)],
    table: &str,
) -> Result<BooleanArray> {
    let n = b.num_rows();
    let op = f.operator.as_deref().unwrap_or("").to_ascii_lowercase();
    match op.as_str() {
        "and" | "or" => {
            let mut acc: Option<BooleanArray> = None;
            for o in &f.operands {
                let m = eval_filter(o, b, attrs, table)?;
                acc = Some(match acc {
                    None => m,
                    Some(a) => {
                        let and = op == "and";
                        a.iter()
                            .zip(m.iter())
                            .map(|(x, y)| {
                                let (x, y) = (x.unwrap_or(false), y.unwrap_or(false));
                                Some(if and { x && y } else { x || y })
                            })
                            .collect()
                    }
                });
            }
            Ok(acc.unwrap_or_else(|| BooleanArray::from(vec![true; n])))
        }
        "not" => {
            let inner = match f.operands.first() {
                Some(o) => eval_filter(o, b, attrs, table)?,
                None => BooleanArray::from(vec![true; n]),
            };
            Ok(inner.iter().map(|x| Some(!x.unwrap_or(false))).collect())
        }
        _ => {
            let id = f
                .operands
                .iter()
                .find_map(|o| {
                    o.id.clone().filter(|_| {
                        o.node_type
                            .as_deref()
                            .is_some_and(|t| t.eq_ignore_ascii_case("attribute"))
                    })
                })
                .unwrap_or_default();
            let Some((_, cols)) = attrs.iter().find(|(a, _)| a.eq_ignore_ascii_case(&id)) else {
                return Ok(BooleanArray::from(vec![true; n]));
            };
            let wanted: BTreeSet<String> = f
                .operands
                .iter()
                .flat_map(|o| o.elements.iter().map(|e| e.id.to_ascii_lowercase()))
                .collect();
            let arrays: Vec<&ArrayRef> = cols.iter().map(|c| b.column(*c)).collect();
            let texts = cells::TextColumns::new(&arrays)?;
            let negate = op == "notin";
            let mut out = Vec::with_capacity(n);
            let mut s = String::new();
            for row in 0..n {
                s.clear();
                s.push_str(&id);
                s.push(':');
                texts.element_text(row, &mut s);
                let hit = wanted.contains(&s.to_ascii_lowercase());
                out.push(hit != negate);
            }
            let _ = table;
            Ok(BooleanArray::from(out))
        }
    }
}
