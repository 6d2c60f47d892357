//! Which tables a plan reads, and which of their columns.
//!
//! The tables of the metrics come first; then, per requested attribute not held whole by
//! those, a table holding all its forms (preferring one that shares an attribute with the
//! tables chosen), and every other table holding its ID form (the elements of an attribute
//! are the union of its tables', as MicroStrategy's multi-table datasets have them: see
//! `super::execute`); then, per attribute the view filter names that no chosen table
//! holds, a table holding it (so the filter restricts the rows).
//!
//! Read alone, a table gives the requested forms then the metrics. Read with others, a table
//! gives every form of each attribute it holds that is requested or shared with another
//! table read (the join keys), then the metrics read from it.

use super::error::{CubeError, Result};
use super::filter;
use super::plan::{AttrOut, Plan, key_name, metric_name};
use crate::mstr::DatasetDef;
use crate::mstr::decode::find_column;
use crate::store::TableDef;

/// A column to read: its name in the grouped rows and its index in the table.
#[derive(Debug)]
pub(crate) struct ReadColumn {
    /// `a<attr>.<form>` or `m<metric>`.
    pub(crate) name: String,
    /// Index in the table's columns.
    pub(crate) column: usize,
}

/// A table to read: its key columns (the first `n_keys`), then its metric columns.
#[derive(Debug)]
pub(crate) struct TableRead<'d> {
    /// The table read.
    pub(crate) table: &'d TableDef,
    /// Keys, then metrics.
    pub(crate) columns: Vec<ReadColumn>,
    /// How many of `columns` are keys.
    pub(crate) n_keys: usize,
}

/// The forms of attribute `ai` that table `t` holds: (form index, column index).
fn forms_in<'a>(
    def: &'a DatasetDef,
    t: &'a TableDef,
    ai: usize,
) -> impl Iterator<Item = (usize, usize)> + 'a {
    def.attributes[ai]
        .attribute_forms
        .iter()
        .enumerate()
        .filter_map(move |(fi, f)| {
            f.expressions
                .iter()
                .find(|e| e.table_name == t.name)
                .and_then(|e| find_column(&t.columns, &e.column_name))
                .map(|c| (fi, c))
        })
}

/// Whether table `t` holds some form of attribute `ai`.
fn holds(def: &DatasetDef, t: &TableDef, ai: usize) -> bool {
    forms_in(def, t, ai).next().is_some()
}

/// Whether table `t` holds every form of `a` that is read.
fn holds_all(def: &DatasetDef, t: &TableDef, a: &AttrOut) -> bool {
    a.forms
        .iter()
        .all(|f| forms_in(def, t, a.index).any(|(fi, _)| fi == f.index))
}

/// Of `candidates`, the first that shares an attribute with a table of `chosen` (any when
/// none is chosen yet), else the first.
fn pick<'d>(
    def: &DatasetDef,
    candidates: &[&'d TableDef],
    chosen: &[&'d TableDef],
) -> Option<&'d TableDef> {
    let shares = |t: &TableDef| {
        chosen
            .iter()
            .any(|o| (0..def.attributes.len()).any(|ai| holds(def, t, ai) && holds(def, o, ai)))
    };
    candidates
        .iter()
        .find(|t| chosen.is_empty() || shares(t))
        .or(candidates.first())
        .copied()
}

/// The tables `plan` reads, in the order they are joined.
pub(crate) fn involved<'d>(plan: &Plan, def: &'d DatasetDef) -> Result<Vec<&'d TableDef>> {
    let mut chosen: Vec<&TableDef> = Vec::new();
    for mo in &plan.metrics {
        if let Some(t) = def.tables.iter().find(|t| t.name == mo.table)
            && !chosen.iter().any(|x| x.id == t.id)
        {
            chosen.push(t);
        }
    }
    for a in &plan.attributes {
        if !chosen.iter().any(|t| holds_all(def, t, a)) {
            let candidates: Vec<&TableDef> =
                def.tables.iter().filter(|t| holds_all(def, t, a)).collect();
            let t =
                pick(def, &candidates, &chosen).ok_or_else(|| CubeError::NoTableHoldsForms {
                    attribute: a.name.clone(),
                })?;
            chosen.push(t);
        }
        let id_form = id_form(def, a.index);
        for t in &def.tables {
            if !chosen.iter().any(|x| x.id == t.id)
                && forms_in(def, t, a.index).any(|(fi, _)| fi == id_form)
            {
                chosen.push(t);
            }
        }
    }
    if let Some(f) = &plan.filter {
        add_filter_tables(def, f, &mut chosen);
    }
    Ok(chosen)
}

/// The index of the ID form of attribute `ai` (its first form of category `ID`, else its
/// first form).
fn id_form(def: &DatasetDef, ai: usize) -> usize {
    def.attributes[ai]
        .attribute_forms
        .iter()
        .position(|f| f.category.is_empty() || f.category.eq_ignore_ascii_case("ID"))
        .unwrap_or(0)
}

/// Per attribute shown (requested) or filtered, the indices in `involved` of the tables
/// holding it: a joined row is kept only when, for each of these groups, some table of
/// the group has a row in it (see `super::execute`). Groups every table is in are left
/// out (every row passes them).
pub(crate) fn presence_groups(
    plan: &Plan,
    def: &DatasetDef,
    involved: &[&TableDef],
) -> Vec<Vec<usize>> {
    let mut attrs: Vec<usize> = plan.attributes.iter().map(|a| a.index).collect();
    if let Some(f) = &plan.filter {
        attrs.extend(
            filter::named_attributes(f)
                .iter()
                .filter_map(|id| def.attribute_index(id)),
        );
    }
    attrs.sort_unstable();
    attrs.dedup();
    attrs
        .into_iter()
        .map(|ai| {
            (0..involved.len())
                .filter(|ti| holds(def, involved[*ti], ai))
                .collect::<Vec<_>>()
        })
        .filter(|g| g.len() < involved.len())
        .collect()
}

/// Add a table for each attribute the filter names that no table of `chosen` holds.
fn add_filter_tables<'d>(
    def: &'d DatasetDef,
    f: &pushdata_core::wire::ViewFilter,
    chosen: &mut Vec<&'d TableDef>,
) {
    for id in filter::named_attributes(f) {
        let Some(ai) = def.attribute_index(&id) else {
            continue;
        };
        if chosen.iter().any(|t| holds(def, t, ai)) {
            continue;
        }
        let holders: Vec<&TableDef> = def.tables.iter().filter(|t| holds(def, t, ai)).collect();
        if let Some(t) = pick(def, &holders, chosen) {
            chosen.push(t);
        }
    }
}

/// The columns of `t` when it is the only table read: the requested forms (request
/// order), then the metrics.
pub(crate) fn alone<'d>(plan: &Plan, def: &DatasetDef, t: &'d TableDef) -> Result<TableRead<'d>> {
    let mut columns = Vec::new();
    for a in &plan.attributes {
        for f in &a.forms {
            let column = forms_in(def, t, a.index)
                .find(|(fi, _)| *fi == f.index)
                .map(|(_, c)| c)
                .ok_or_else(|| CubeError::FormNotInTable {
                    attribute: a.name.clone(),
                })?;
            columns.push(ReadColumn {
                name: key_name(a.index, f.index),
                column,
            });
        }
    }
    let n_keys = columns.len();
    for mo in &plan.metrics {
        let column =
            find_column(&t.columns, &mo.column).ok_or_else(|| CubeError::MetricNotInTable {
                metric: mo.name.clone(),
            })?;
        columns.push(ReadColumn {
            name: metric_name(mo.index),
            column,
        });
    }
    Ok(TableRead {
        table: t,
        columns,
        n_keys,
    })
}

/// The columns of `involved[ti]` when it is joined with the other tables: the forms of
/// the attributes it holds that are requested or shared, then its metrics.
pub(crate) fn joined<'d>(
    plan: &Plan,
    def: &DatasetDef,
    involved: &[&'d TableDef],
    ti: usize,
) -> TableRead<'d> {
    let t = involved[ti];
    let mut columns = Vec::new();
    for ai in 0..def.attributes.len() {
        let requested = plan.attributes.iter().any(|a| a.index == ai);
        let shared = || {
            involved
                .iter()
                .enumerate()
                .any(|(oi, o)| oi != ti && holds(def, o, ai))
        };
        if holds(def, t, ai) && (requested || shared()) {
            columns.extend(forms_in(def, t, ai).map(|(fi, column)| ReadColumn {
                name: key_name(ai, fi),
                column,
            }));
        }
    }
    let n_keys = columns.len();
    for mo in plan.metrics.iter().filter(|mo| mo.table == t.name) {
        if let Some(column) = find_column(&t.columns, &mo.column) {
            columns.push(ReadColumn {
                name: metric_name(mo.index),
                column,
            });
        }
    }
    TableRead {
        table: t,
        columns,
        n_keys,
    }
}
