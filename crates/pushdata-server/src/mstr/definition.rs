//! A dataset's stored definition: tables with typed columns, attributes and metrics, and
//! which columns form each table's row key. Built from either workflow's request.

use std::collections::HashSet;

use pushdata_core::wire::{
    ColumnExpression, ColumnHeader, DatasetCreator, DatasetModel, ModelAttribute, ModelForm,
    ModelMetric, UpdatePolicy, position_by_name,
};
use serde::{Deserialize, Serialize};

use crate::ids;
use crate::mstr::decode::{find_column, list_columns};
use crate::mstr::error::{ApiError, Result};
use crate::store::{Definition, MergePolicy, TableDef};

/// A dataset's definition, stored as `definition.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "DefinitionFile", into = "DefinitionFile")]
pub(crate) struct DatasetDef {
    pub(crate) id: String,
    pub(crate) name: String,
    /// The project the dataset belongs to.
    pub(crate) project_id: String,
    pub(crate) description: Option<String>,
    /// The folder it is saved in (`None`: its owner's My Reports; see `folders`).
    pub(crate) folder_id: Option<String>,
    pub(crate) tables: Vec<TableDef>,
    /// Attributes with their ids (multi-request form of the expressions).
    pub(crate) attributes: Vec<WithId<ModelAttribute>>,
    /// Metrics with their ids.
    pub(crate) metrics: Vec<WithId<ModelMetric>>,
    /// The user who created it (empty in files written before owners were kept).
    pub(crate) owner: String,
}

/// An object of the dataset (attribute or metric) and the id the server gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WithId<T> {
    pub(crate) id: String,
    pub(crate) item: T,
}

impl<T> std::ops::Deref for WithId<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.item
    }
}

/// `definition.json` as it is written: the ids beside the objects, in lists of the same
/// order (the layout of files written by earlier versions, kept readable).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DefinitionFile {
    id: String,
    name: String,
    project_id: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    folder_id: Option<String>,
    tables: Vec<TableDef>,
    attributes: Vec<ModelAttribute>,
    metrics: Vec<ModelMetric>,
    attribute_ids: Vec<String>,
    metric_ids: Vec<String>,
    #[serde(default)]
    owner: String,
}

/// Pair objects with their ids; an object without one (a damaged file) gets a new id.
fn with_ids<T>(items: Vec<T>, ids: Vec<String>) -> Vec<WithId<T>> {
    let mut ids = ids.into_iter();
    items
        .into_iter()
        .map(|item| WithId {
            id: ids.next().unwrap_or_else(ids::new_object_id),
            item,
        })
        .collect()
}

impl From<DefinitionFile> for DatasetDef {
    fn from(f: DefinitionFile) -> Self {
        DatasetDef {
            id: f.id,
            name: f.name,
            project_id: f.project_id,
            description: f.description,
            folder_id: f.folder_id,
            tables: f.tables,
            attributes: with_ids(f.attributes, f.attribute_ids),
            metrics: with_ids(f.metrics, f.metric_ids),
            owner: f.owner,
        }
    }
}

impl From<DatasetDef> for DefinitionFile {
    fn from(d: DatasetDef) -> Self {
        let (attribute_ids, attributes) = d.attributes.into_iter().map(|a| (a.id, a.item)).unzip();
        let (metric_ids, metrics) = d.metrics.into_iter().map(|m| (m.id, m.item)).unzip();
        DefinitionFile {
            id: d.id,
            name: d.name,
            project_id: d.project_id,
            description: d.description,
            folder_id: d.folder_id,
            tables: d.tables,
            attributes,
            metrics,
            attribute_ids,
            metric_ids,
            owner: d.owner,
        }
    }
}

impl Definition for DatasetDef {
    fn id(&self) -> &str {
        &self.id
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn tables(&self) -> &[TableDef] {
        &self.tables
    }
}

/// How an update policy of the Push Data API merges into the store: the row key is the
/// columns that feed attributes; `add` on a table without one appends.
pub(crate) fn merge_policy(policy: UpdatePolicy) -> MergePolicy {
    match policy {
        UpdatePolicy::Replace => MergePolicy::Replace,
        UpdatePolicy::Add => MergePolicy::InsertNew,
        UpdatePolicy::Update => MergePolicy::Update,
        UpdatePolicy::Upsert => MergePolicy::Upsert,
    }
}

/// Whether `policy` can be applied to `table` (`update` and `upsert` need a row key).
pub(crate) fn check_policy(policy: UpdatePolicy, table: &TableDef) -> Result<()> {
    if table.key_columns.is_empty() && merge_policy(policy).needs_key() {
        return Err(ApiError::bad_request(format!(
            "update policy {policy} needs a row key, but table {:?} has no columns that feed attributes; use add or replace, or map a column to an attribute",
            table.name
        )));
    }
    Ok(())
}

/// Whether uploads to `table` under `policy` that give values only for `missing`'s
/// complement carry every key column: a keyed policy whose rows lack a key column would
/// match them all on null and collapse them.
pub(crate) fn check_key_columns(
    policy: UpdatePolicy,
    table: &TableDef,
    missing: &[usize],
) -> Result<()> {
    if policy == UpdatePolicy::Replace {
        return Ok(());
    }
    let absent: Vec<String> = table
        .key_columns
        .iter()
        .filter(|c| missing.contains(c))
        .map(|&c| format!("{:?}", table.columns[c].name))
        .collect();
    if absent.is_empty() {
        return Ok(());
    }
    Err(ApiError::bad_request(format!(
        "update policy {policy} matches rows of table {:?} on its key columns, but columnHeaders omit {}; send every key column (or use replace)",
        table.name,
        absent.join(", ")
    )))
}

impl DatasetDef {
    /// A table by id (any case) or by name (exact, then any case).
    pub(crate) fn table(&self, id_or_name: &str) -> Option<&TableDef> {
        self.tables
            .iter()
            .find(|t| t.id.eq_ignore_ascii_case(id_or_name))
            .or_else(|| {
                position_by_name(&self.tables, id_or_name, |t| &t.name).map(|i| &self.tables[i])
            })
    }

    /// Whether `user` may see the dataset: its owner (any case). Datasets stored without an
    /// owner are everyone's.
    pub(crate) fn is_visible_to(&self, user: &str) -> bool {
        self.owner.is_empty() || self.owner.eq_ignore_ascii_case(user)
    }

    /// The index of the attribute with id `id` (any case).
    pub(crate) fn attribute_index(&self, id: &str) -> Option<usize> {
        self.attributes
            .iter()
            .position(|a| a.id.eq_ignore_ascii_case(id))
    }

    /// `"a", "b"` for error messages.
    pub(crate) fn table_names(&self) -> String {
        self.tables
            .iter()
            .map(|t| format!("{:?}", t.name))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Build from the multi-request model.
    pub(crate) fn from_model(model: DatasetModel, project_id: &str, owner: &str) -> Result<Self> {
        let tables = model
            .tables
            .into_iter()
            .map(|t| (t.name, t.column_headers))
            .collect();
        Draft {
            name: model.name,
            description: model.description,
            folder_id: model.folder_id,
            tables,
            attributes: model.attributes,
            metrics: model.metrics,
        }
        .build(project_id, owner)
    }

    /// Build from the single-request body (its data is decoded separately). Formulas
    /// `TABLE.column` are resolved against the body's table names.
    pub(crate) fn from_creator(c: &DatasetCreator, project_id: &str, owner: &str) -> Result<Self> {
        let names: Vec<&str> = c.tables.iter().map(|t| t.name.as_str()).collect();
        let resolve = |f: &pushdata_core::wire::DIExpression, what: &str| {
            f.resolve(names.iter().copied())
                .map(|(t, col)| ColumnExpression::new(t, col))
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "{what}: formula {:?} does not name a table of the dataset ({}); expected TABLE.column",
                        f.formula,
                        names.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ")
                    ))
                })
        };
        let mut attributes = Vec::with_capacity(c.attributes.len());
        for a in &c.attributes {
            let mut forms = Vec::with_capacity(a.attribute_forms.len());
            for f in &a.attribute_forms {
                let exprs = f
                    .expressions
                    .iter()
                    .map(|e| resolve(e, &format!("attribute {:?}", a.name)))
                    .collect::<Result<Vec<_>>>()?;
                forms.push(ModelForm {
                    category: f.category.clone(),
                    expressions: exprs,
                    data_type: f.data_type,
                });
            }
            attributes.push(ModelAttribute {
                name: a.name.clone(),
                description: a.description.clone(),
                attribute_forms: forms,
            });
        }
        let mut metrics = Vec::with_capacity(c.metrics.len());
        for m in &c.metrics {
            let exprs = m
                .expressions
                .iter()
                .map(|e| resolve(e, &format!("metric {:?}", m.name)))
                .collect::<Result<Vec<_>>>()?;
            metrics.push(ModelMetric {
                name: m.name.clone(),
                description: m.description.clone(),
                data_type: m.data_type,
                expressions: exprs,
            });
        }
        let tables = c
            .tables
            .iter()
            .map(|t| (t.name.clone(), t.column_headers.clone()))
            .collect();
        Draft {
            name: c.name.clone(),
            description: None,
            folder_id: c.folder_id.clone(),
            tables,
            attributes,
            metrics,
        }
        .build(project_id, owner)
    }
}

/// Apply the API's name rule (one definition, in `pushdata_core::wire::names`).
fn check_name(what: &str, name: &str) -> Result<()> {
    pushdata_core::wire::validate_name(what, name).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// A dataset as either workflow's request describes it, before it is checked.
struct Draft {
    name: String,
    description: Option<String>,
    folder_id: Option<String>,
    tables: Vec<(String, Vec<ColumnHeader>)>,
    attributes: Vec<ModelAttribute>,
    metrics: Vec<ModelMetric>,
}

impl Draft {
    /// Check names and references, mark the key columns, and give everything an id.
    fn build(self, project_id: &str, owner: &str) -> Result<DatasetDef> {
        check_name("dataset", &self.name)?;
        if self.tables.is_empty() {
            return Err(ApiError::bad_request(format!(
                "dataset {:?} has no tables; give at least one table with columnHeaders",
                self.name
            )));
        }
        let mut seen = HashSet::new();
        let mut defs = Vec::with_capacity(self.tables.len());
        for (name, columns) in self.tables {
            defs.push(table_def(name, columns, &mut seen)?);
        }
        let attributes = merge_same_named(self.attributes);
        mark_keys(&mut defs, &attributes, &self.metrics)?;
        let folder_id = super::folders::folder_of(self.folder_id.as_deref(), owner)?;
        Ok(DatasetDef {
            id: ids::new_object_id(),
            name: self.name,
            project_id: project_id.to_string(),
            description: self.description,
            folder_id,
            tables: defs,
            attributes: with_ids(attributes, Vec::new()),
            metrics: with_ids(self.metrics, Vec::new()),
            owner: owner.to_string(),
        })
    }
}

/// Attributes of the same name (any case) made one: the attribute of a column name that
/// several tables have, as MicroStrategy links them (and as clients such as mstrio-py model
/// a multi-table dataset: one attribute per table and column, with the column's name).
/// Forms of the same category are merged (their expressions added); the first
/// description wins.
fn merge_same_named(attributes: Vec<ModelAttribute>) -> Vec<ModelAttribute> {
    let mut merged: Vec<ModelAttribute> = Vec::with_capacity(attributes.len());
    for a in attributes {
        let Some(into) = merged
            .iter_mut()
            .find(|m| m.name.eq_ignore_ascii_case(&a.name))
        else {
            merged.push(a);
            continue;
        };
        if into.description.is_none() {
            into.description = a.description;
        }
        for form in a.attribute_forms {
            match into
                .attribute_forms
                .iter_mut()
                .find(|f| f.category.eq_ignore_ascii_case(&form.category))
            {
                Some(f) => {
                    for e in form.expressions {
                        if !f.expressions.contains(&e) {
                            f.expressions.push(e);
                        }
                    }
                    if f.data_type.is_none() {
                        f.data_type = form.data_type;
                    }
                }
                None => into.attribute_forms.push(form),
            }
        }
    }
    merged
}

/// A checked table: a valid name not used before (any case), at least one column, column
/// names valid and distinct (any case).
fn table_def(
    name: String,
    columns: Vec<ColumnHeader>,
    seen: &mut HashSet<String>,
) -> Result<TableDef> {
    check_name("table", &name)?;
    if !seen.insert(name.to_lowercase()) {
        return Err(ApiError::bad_request(format!(
            "table {name:?} is defined twice"
        )));
    }
    if columns.is_empty() {
        return Err(ApiError::bad_request(format!(
            "table {name:?} has no columnHeaders"
        )));
    }
    let mut cols = HashSet::new();
    for c in &columns {
        check_name(&format!("column of table {name:?}"), &c.name)?;
        if !cols.insert(c.name.to_lowercase()) {
            return Err(ApiError::bad_request(format!(
                "table {name:?} has column {:?} twice",
                c.name
            )));
        }
    }
    Ok(TableDef {
        id: ids::new_object_id(),
        name,
        columns,
        key_columns: Vec::new(),
    })
}

/// Check that every attribute and metric expression names a column of a table, and make
/// the tables' row keys: in each table, the columns of the attributes' ID forms (an
/// attribute without an ID form in a table is keyed there by its other forms). A DESC
/// form is a description of the key, not part of it: renaming it updates the row.
fn mark_keys(
    defs: &mut [TableDef],
    attributes: &[ModelAttribute],
    metrics: &[ModelMetric],
) -> Result<()> {
    for a in attributes {
        check_name("attribute", &a.name)?;
        let what = format!("attribute {:?}", a.name);
        // Per table: (ID form columns, other form columns).
        let mut per_table: Vec<(Vec<usize>, Vec<usize>)> = vec![Default::default(); defs.len()];
        for f in &a.attribute_forms {
            let is_id = f.category.eq_ignore_ascii_case("ID");
            for e in &f.expressions {
                let (t, c) = resolve_column(defs, e, &what)?;
                let (ids, others) = &mut per_table[t];
                if is_id { ids.push(c) } else { others.push(c) }
            }
        }
        for (t, (ids, others)) in per_table.into_iter().enumerate() {
            for c in if ids.is_empty() { others } else { ids } {
                if !defs[t].key_columns.contains(&c) {
                    defs[t].key_columns.push(c);
                }
            }
        }
    }
    for m in metrics {
        check_name("metric", &m.name)?;
        for e in &m.expressions {
            resolve_column(defs, e, &format!("metric {:?}", m.name))?;
        }
    }
    for t in defs {
        t.key_columns.sort_unstable();
    }
    Ok(())
}

/// The (table, column) an expression names; `what` names the expression's owner.
fn resolve_column(defs: &[TableDef], e: &ColumnExpression, what: &str) -> Result<(usize, usize)> {
    let t = defs
        .iter()
        .position(|t| t.name == e.table_name)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "{what} refers to unknown table {:?}; the dataset's tables are {}",
                e.table_name,
                defs.iter()
                    .map(|t| format!("{:?}", t.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
    let table = &defs[t];
    let c = find_column(&table.columns, &e.column_name).ok_or_else(|| {
        ApiError::bad_request(format!(
            "{what} refers to unknown column {:?} of table {:?}; its columns are {}",
            e.column_name,
            table.name,
            list_columns(&table.columns)
        ))
    })?;
    Ok((t, c))
}
