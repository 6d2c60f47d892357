//! The inference: which role each column gets, and the rule that decided it. The rules are
//! tried in this order; the first that applies decides:
//!
//! 1. an explicit choice of [`ModelOptions`] ([`overrides`]);
//! 2. a column of an ID/DESC pair ([`pairs`]);
//! 3. a column several tables have ([`shared`]);
//! 4. an integer column named as a key ([`keys`]);
//! 5. an integer column named as a calendar part ([`calendar`]);
//! 6. numeric columns are metrics, all others attributes with one `ID` form.
//!
//! Names are matched word by word ([`tokens`]), ignoring case.

mod calendar;
mod keys;
mod overrides;
mod pairs;
mod shared;
mod tokens;

use arrow_schema::DataType as ArrowType;
use pushdata_core::wire::{DataType, FormCategory};

use super::options::ModelOptions;
use super::{Mapping, Role, RoleReason, ValueText};
use crate::error::Result;
use overrides::Choices;
use pairs::Pairs;
use shared::Shared;
use tokens::Words;

/// A column's role and the rule that decided it.
#[derive(Debug, Clone)]
pub(super) struct Decision {
    pub(super) role: Role,
    pub(super) reason: RoleReason,
}

impl Decision {
    /// Form `category` of attribute `attribute`.
    fn attribute(attribute: &str, category: FormCategory, reason: RoleReason) -> Self {
        Decision {
            role: Role::Attribute {
                attribute: attribute.to_string(),
                category: category.as_str().to_string(),
            },
            reason,
        }
    }

    /// The role of a column no name rule applies to: numeric columns are metrics, the
    /// others attributes.
    fn by_type(c: &ColumnFacts<'_>) -> Self {
        if c.mapping.data_type.is_numeric() {
            Decision {
                role: Role::Metric {
                    metric: c.name.to_string(),
                },
                reason: RoleReason::Numeric,
            }
        } else {
            Decision::attribute(c.name, FormCategory::Id, RoleReason::NonNumeric)
        }
    }
}

/// A table as the rules see it.
#[derive(Debug)]
pub(super) struct TableFacts<'a> {
    name: &'a str,
    columns: Vec<ColumnFacts<'a>>,
}

/// A column as the rules see it.
#[derive(Debug)]
struct ColumnFacts<'a> {
    name: &'a str,
    arrow_type: &'a ArrowType,
    mapping: Mapping,
    words: Words<'a>,
    /// The explicit choice for it, once known.
    chosen: Option<Decision>,
}

impl<'a> TableFacts<'a> {
    /// Table `name`, with no columns yet.
    pub(super) fn new(name: &'a str) -> Self {
        TableFacts {
            name,
            columns: Vec::new(),
        }
    }

    /// Add the next column.
    pub(super) fn push(&mut self, name: &'a str, arrow_type: &'a ArrowType, mapping: Mapping) {
        self.columns.push(ColumnFacts {
            name,
            arrow_type,
            mapping,
            words: Words::new(name),
            chosen: None,
        });
    }
}

impl ColumnFacts<'_> {
    /// An integer: an Arrow integer type, a dictionary of one, or a decimal of scale 0.
    fn is_integer(&self) -> bool {
        is_integer(self.arrow_type)
    }

    /// Text written as itself (STRING, not a fallback for binary or nested values).
    fn is_text(&self) -> bool {
        self.mapping.data_type == DataType::String && self.mapping.text == ValueText::Native
    }
}

fn is_integer(t: &ArrowType) -> bool {
    use ArrowType as A;
    match t {
        A::Decimal32(_, 0) | A::Decimal64(_, 0) | A::Decimal128(_, 0) | A::Decimal256(_, 0) => true,
        A::Dictionary(_, v) => is_integer(v),
        t => t.is_integer(),
    }
}

/// The role of every column of `tables` (one `Vec` per table, in column order).
pub(super) fn decide(
    mut tables: Vec<TableFacts<'_>>,
    opts: &ModelOptions,
) -> Result<Vec<Vec<Decision>>> {
    let mut choices = Choices::new(opts);
    for t in &mut tables {
        for c in &mut t.columns {
            c.chosen = choices.decide(t.name, c.name, c.mapping.data_type)?;
        }
    }
    choices.check_all_used()?;
    let pairs = Pairs::find(&tables, choices.form_attributes());
    let shared = Shared::find(&tables);
    Ok(tables
        .into_iter()
        .map(|t| {
            t.columns
                .into_iter()
                .map(|mut c| match c.chosen.take() {
                    Some(d) => d,
                    None => infer(&c, &pairs, &shared),
                })
                .collect()
        })
        .collect())
}

/// The role of a column without an explicit choice.
fn infer(c: &ColumnFacts<'_>, pairs: &Pairs, shared: &Shared) -> Decision {
    if let Some(d) = pairs.decide(c) {
        return d;
    }
    if let Some((name, tables)) = shared.get(c.name) {
        let reason = RoleReason::SharedAcrossTables {
            tables: tables.to_vec(),
        };
        return Decision::attribute(name, FormCategory::Id, reason);
    }
    if c.is_integer() {
        if let Some(word) = keys::key_word(&c.words) {
            let reason = RoleReason::KeyName { word: word.into() };
            return Decision::attribute(c.name, FormCategory::Id, reason);
        }
        if let Some(part) = calendar::calendar_part(&c.words) {
            let reason = RoleReason::CalendarPart { part: part.into() };
            return Decision::attribute(c.name, FormCategory::Id, reason);
        }
    }
    Decision::by_type(c)
}
