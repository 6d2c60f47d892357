//! Why a model cannot be built as asked: each variant names the dataset, table, column,
//! attribute or metric it is about, so the caller can match on it.

use std::fmt;

use pushdata_core::wire::{DataType, UnknownVariant};

/// Which kind of explicit choice ([`ModelOptions`](super::ModelOptions)) an error is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// [`ModelOptions::with_attribute`](super::ModelOptions::with_attribute).
    Attribute,
    /// [`ModelOptions::with_metric`](super::ModelOptions::with_metric).
    Metric,
    /// [`ModelOptions::with_form`](super::ModelOptions::with_form): form `category` of
    /// `attribute`.
    Form {
        /// The attribute.
        attribute: String,
        /// The form category as given.
        category: String,
    },
}

impl fmt::Display for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Choice::Attribute => f.write_str("attribute"),
            Choice::Metric => f.write_str("metric"),
            Choice::Form {
                attribute,
                category,
            } => write!(f, "form {attribute}:{category}"),
        }
    }
}

/// What can make a model impossible to build as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The dataset has no tables.
    #[error("dataset {dataset:?} has no tables")]
    NoTables {
        /// The dataset.
        dataset: String,
    },

    /// An explicit choice names a column no table has.
    #[error("the {choice} choice for column {column:?} names no column of any table")]
    UnknownColumn {
        /// The choice.
        choice: Choice,
        /// The column as given (`column` or `table.column`).
        column: String,
    },

    /// A form choice names a category the Push Data API does not accept.
    #[error("column {column:?}: {source}")]
    UnknownFormCategory {
        /// The column as given.
        column: String,
        /// The category as given, and the accepted ones.
        #[source]
        source: UnknownVariant,
    },

    /// Two form choices name the same column.
    #[error(
        "table {table:?}, column {column:?} is given two forms: {first} and {second}; a column \
         is one form of one attribute"
    )]
    TwoForms {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The first form choice.
        first: Choice,
        /// The second form choice.
        second: Choice,
    },

    /// A column is chosen as both a metric and an attribute (or a form).
    #[error("table {table:?}, column {column:?} is chosen as both an attribute and a metric")]
    AttributeAndMetric {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },

    /// A column that is not numeric is chosen as a metric.
    #[error(
        "table {table:?}, column {column:?} is {data_type}; only numeric columns (INTEGER, \
         BIGINTEGER, DOUBLE, BIGDECIMAL) can be metrics"
    )]
    MetricNotNumeric {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// Its API type.
        data_type: DataType,
    },

    /// One form of an attribute is given two columns of one table.
    #[error(
        "attribute {attribute:?}, form {category}: table {table:?} gives it two columns, \
         {first:?} and {second:?}"
    )]
    FormTwoColumns {
        /// The attribute.
        attribute: String,
        /// The form category.
        category: String,
        /// The table.
        table: String,
        /// The column that has the form.
        first: String,
        /// The column that was given it too.
        second: String,
    },

    /// A metric is given two columns of one table.
    #[error("metric {metric:?}: table {table:?} gives it two columns, {first:?} and {second:?}")]
    MetricTwoColumns {
        /// The metric.
        metric: String,
        /// The table.
        table: String,
        /// The column that has it.
        first: String,
        /// The column that was given it too.
        second: String,
    },

    /// An attribute and a metric have the same name (compared ignoring case).
    #[error(
        "{name:?} is the name of both an attribute and a metric; rename a column or choose its \
         role"
    )]
    AttributeNamedLikeMetric {
        /// The name.
        name: String,
    },
}
