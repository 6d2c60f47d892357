//! The explicit choices of [`ModelOptions`]: `with_attribute`, `with_metric` and
//! `with_form` decide a column's role before any inference, and each must name a column.

use pushdata_core::wire::{DataType, FormCategory};

use super::Decision;
use crate::error::Result;
use crate::model::error::{Choice, ModelError};
use crate::model::options::{FormChoice, ModelOptions};
use crate::model::{Role, RoleReason};

/// The choices of one model, with which of them named a column so far.
#[derive(Debug)]
pub(super) struct Choices<'o> {
    opts: &'o ModelOptions,
    /// One flag per choice: attributes, then metrics, then forms.
    used: Vec<bool>,
}

impl<'o> Choices<'o> {
    pub(super) fn new(opts: &'o ModelOptions) -> Self {
        let n = opts.attributes.len() + opts.metrics.len() + opts.forms.len();
        Choices {
            opts,
            used: vec![false; n],
        }
    }

    /// The attribute names the form choices give.
    pub(super) fn form_attributes(&self) -> impl Iterator<Item = &'o str> + use<'o> {
        self.opts.forms.iter().map(|f| f.attribute.as_str())
    }

    /// The chosen role of `table.column` of type `data_type`, or `None` when nothing was
    /// chosen for it.
    pub(super) fn decide(
        &mut self,
        table: &str,
        column: &str,
        data_type: DataType,
    ) -> Result<Option<Decision>> {
        let opts = self.opts;
        let (na, nm) = (opts.attributes.len(), opts.metrics.len());
        let as_attr = self.mark(0, &opts.attributes, table, column);
        let as_metric = self.mark(na, &opts.metrics, table, column);
        let form = self.form_of(na + nm, table, column)?;
        if as_metric && (as_attr || form.is_some()) {
            return Err(ModelError::AttributeAndMetric {
                table: table.to_string(),
                column: column.to_string(),
            }
            .into());
        }
        if as_metric && !data_type.is_numeric() {
            return Err(ModelError::MetricNotNumeric {
                table: table.to_string(),
                column: column.to_string(),
                data_type,
            }
            .into());
        }
        let decision = if let Some(f) = form {
            let category = f.category.parse::<FormCategory>().map_err(|source| {
                ModelError::UnknownFormCategory {
                    column: f.column.clone(),
                    source,
                }
            })?;
            Some(Decision::attribute(
                &f.attribute,
                category,
                RoleReason::UserForm,
            ))
        } else if as_metric {
            Some(Decision {
                role: Role::Metric {
                    metric: column.to_string(),
                },
                reason: RoleReason::UserMetric,
            })
        } else if as_attr {
            Some(Decision::attribute(
                column,
                FormCategory::Id,
                RoleReason::UserAttribute,
            ))
        } else {
            None
        };
        Ok(decision)
    }

    /// Mark the choices among `keys` (flags from `offset`) that name `table.column`;
    /// whether any does.
    fn mark(&mut self, offset: usize, keys: &[String], table: &str, column: &str) -> bool {
        let mut any = false;
        for (i, k) in keys.iter().enumerate() {
            if key_matches(k, table, column) {
                self.used[offset + i] = true;
                any = true;
            }
        }
        any
    }

    /// The one form choice that names `table.column`, if any.
    fn form_of(
        &mut self,
        offset: usize,
        table: &str,
        column: &str,
    ) -> Result<Option<&'o FormChoice>> {
        let mut found: Option<&'o FormChoice> = None;
        for (i, f) in self.opts.forms.iter().enumerate() {
            if !key_matches(&f.column, table, column) {
                continue;
            }
            self.used[offset + i] = true;
            if let Some(first) = found {
                return Err(ModelError::TwoForms {
                    table: table.to_string(),
                    column: column.to_string(),
                    first: form_choice(first),
                    second: form_choice(f),
                }
                .into());
            }
            found = Some(f);
        }
        Ok(found)
    }

    /// Every choice named a column of some table.
    pub(super) fn check_all_used(&self) -> Result<()> {
        let o = self.opts;
        let choices = o
            .attributes
            .iter()
            .map(|c| (Choice::Attribute, c))
            .chain(o.metrics.iter().map(|c| (Choice::Metric, c)))
            .chain(o.forms.iter().map(|f| (form_choice(f), &f.column)));
        for ((choice, column), used) in choices.zip(&self.used) {
            if !used {
                return Err(ModelError::UnknownColumn {
                    choice,
                    column: column.clone(),
                }
                .into());
            }
        }
        Ok(())
    }
}

fn form_choice(f: &FormChoice) -> Choice {
    Choice::Form {
        attribute: f.attribute.clone(),
        category: f.category.clone(),
    }
}

/// Whether a choice's key (`column` or `table.column`) names `table.column`.
fn key_matches(key: &str, table: &str, column: &str) -> bool {
    key == column
        || (key.len() == table.len() + 1 + column.len()
            && key.starts_with(table)
            && key.as_bytes().get(table.len()) == Some(&b'.')
            && key.ends_with(column))
}
