//! The view filter: checking it against the dataset, the attributes it names, and its
//! value on a batch of rows.
//!
//! Understood: `And`, `Or`, `Not`, and `In`/`NotIn` with an `attribute` operand and an
//! `elements` operand whose ids are `ATTRIBUTE_ID:v1;v2` (the attribute's form values
//! joined by `;`, compared without regard to case).

use std::collections::BTreeSet;

use arrow_array::{ArrayRef, BooleanArray, RecordBatch};
use pushdata_core::wire::ViewFilter;

use super::cells::TextColumns;
use super::error::{CubeError, Result};
use crate::mstr::DatasetDef;

/// The batch columns holding the forms of one attribute a filter names.
#[derive(Debug)]
pub(crate) struct FilterColumns {
    /// The attribute's id, as the filter's element ids start with it.
    pub(crate) attribute_id: String,
    /// The columns of its forms (table column indices, or batch positions once read).
    pub(crate) columns: Vec<usize>,
}

/// Whether `f` is an operand node of type `kind`.
fn is_operand(f: &ViewFilter, kind: &str) -> bool {
    f.node_type
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case(kind))
}

/// The ids of the attributes the filter names, anywhere in it.
pub(crate) fn named_attributes(f: &ViewFilter) -> BTreeSet<String> {
    /// Collect into `out`.
    fn walk(f: &ViewFilter, out: &mut BTreeSet<String>) {
        if is_operand(f, "attribute")
            && let Some(id) = &f.id
        {
            out.insert(id.clone());
        }
        for o in &f.operands {
            walk(o, out);
        }
    }
    let mut out = BTreeSet::new();
    walk(f, &mut out);
    out
}

/// Check that the filter uses only understood operators on attributes of the dataset (400).
pub(crate) fn check(def: &DatasetDef, f: &ViewFilter) -> Result<()> {
    let op = f.operator.as_deref().unwrap_or("");
    match op.to_ascii_lowercase().as_str() {
        "and" | "or" | "not" => {
            if f.operands.is_empty() {
                return Err(CubeError::FilterWithoutOperands {
                    operator: op.to_string(),
                });
            }
            f.operands.iter().try_for_each(|o| check(def, o))
        }
        "in" | "notin" => check_membership(def, f, op),
        _ => Err(CubeError::FilterOperator {
            operator: op.to_string(),
        }),
    }
}

/// Check an `In`/`NotIn` node: an attribute of the dataset and an elements operand.
fn check_membership(def: &DatasetDef, f: &ViewFilter, op: &str) -> Result<()> {
    let attr = f.operands.iter().find(|o| is_operand(o, "attribute"));
    let elems = f.operands.iter().find(|o| is_operand(o, "elements"));
    match (attr.and_then(|a| a.id.as_ref()), elems) {
        (Some(id), Some(_)) => {
            if def.attribute_index(id).is_some() {
                Ok(())
            } else {
                Err(CubeError::FilterUnknownAttribute {
                    id: id.clone(),
                    cube: def.id.clone(),
                })
            }
        }
        _ => Err(CubeError::FilterOperands {
            operator: op.to_string(),
        }),
    }
}

/// Evaluate a filter on a batch; `attrs` gives, per attribute id, the batch columns of its
/// forms. An attribute the table does not hold leaves rows in.
pub(crate) fn evaluate(
    f: &ViewFilter,
    b: &RecordBatch,
    attrs: &[FilterColumns],
) -> Result<BooleanArray> {
    let n = b.num_rows();
    let op = f.operator.as_deref().unwrap_or("").to_ascii_lowercase();
    match op.as_str() {
        "and" | "or" => {
            let mut acc: Option<BooleanArray> = None;
            for o in &f.operands {
                let m = evaluate(o, b, attrs)?;
                acc = Some(match acc {
                    None => m,
                    Some(a) => combine(&a, &m, op == "and"),
                });
            }
            Ok(acc.unwrap_or_else(|| BooleanArray::from(vec![true; n])))
        }
        "not" => {
            let inner = match f.operands.first() {
                Some(o) => evaluate(o, b, attrs)?,
                None => BooleanArray::from(vec![true; n]),
            };
            Ok(inner.iter().map(|x| Some(!x.unwrap_or(false))).collect())
        }
        _ => membership(f, b, attrs, op == "notin"),
    }
}

/// `a AND b` (or `a OR b`), null counting as false.
fn combine(a: &BooleanArray, b: &BooleanArray, and: bool) -> BooleanArray {
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| {
            let (x, y) = (x.unwrap_or(false), y.unwrap_or(false));
            Some(if and { x && y } else { x || y })
        })
        .collect()
}

/// An `In` (or, `negate`d, `NotIn`) node: whether each row's element is among those listed.
fn membership(
    f: &ViewFilter,
    b: &RecordBatch,
    attrs: &[FilterColumns],
    negate: bool,
) -> Result<BooleanArray> {
    let n = b.num_rows();
    let id = f
        .operands
        .iter()
        .find_map(|o| o.id.clone().filter(|_| is_operand(o, "attribute")))
        .unwrap_or_default();
    let Some(held) = attrs
        .iter()
        .find(|a| a.attribute_id.eq_ignore_ascii_case(&id))
    else {
        return Ok(BooleanArray::from(vec![true; n]));
    };
    let wanted: BTreeSet<String> = f
        .operands
        .iter()
        .flat_map(|o| o.elements.iter().map(|e| e.id.to_ascii_lowercase()))
        .collect();
    let arrays: Vec<&ArrayRef> = held.columns.iter().map(|c| b.column(*c)).collect();
    let texts = TextColumns::new(&arrays)?;
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
    Ok(BooleanArray::from(out))
}
