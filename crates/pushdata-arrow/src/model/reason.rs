//! Why a column got its role: the rule of the [inference](super#roles) that decided it.

use std::fmt;

/// The rule that decided a column's [`Role`](super::Role). The rules are tried in the order
/// of the variants; the first that applies decides.
///
/// ```
/// use pushdata_arrow::model::RoleReason;
/// let r = RoleReason::IdDescPair {
///     attribute: "Category".into(),
///     id_column: "Category_ID".into(),
///     desc_column: "Category_DESC".into(),
/// };
/// assert_eq!(r.rule(), "id-desc-pair");
/// assert_eq!(r.to_string(), "ID/DESC pair Category_ID + Category_DESC");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RoleReason {
    /// Chosen as an attribute ([`ModelOptions::with_attribute`](super::ModelOptions::with_attribute)).
    UserAttribute,
    /// Chosen as a metric ([`ModelOptions::with_metric`](super::ModelOptions::with_metric)).
    UserMetric,
    /// Chosen as a form of an attribute ([`ModelOptions::with_form`](super::ModelOptions::with_form)).
    UserForm,
    /// One of a pair of columns that are the ID and the description of one thing
    /// (`X_ID` / `X_DESC`, `XCode` / `XName`, ...): attribute `X` with an `ID` and a `DESC`
    /// form.
    IdDescPair {
        /// The attribute, `X`.
        attribute: String,
        /// The column of the `ID` form.
        id_column: String,
        /// The column of the `DESC` form.
        desc_column: String,
    },
    /// In several tables of the push: the key that relates them, an attribute whatever its
    /// type.
    SharedAcrossTables {
        /// The tables that have the column, in the order given.
        tables: Vec<String>,
    },
    /// An integer column whose name ends in a key word (`ID`, `customer_id`, `OrderKey`).
    KeyName {
        /// The key word, lower case (`id`, `key`, `code`, ...).
        word: String,
    },
    /// An integer column whose name ends in a calendar part (`Year`, `order_month`).
    CalendarPart {
        /// The calendar word, lower case (`year`, `month`, ...).
        part: String,
    },
    /// A numeric column no other rule applies to: a metric.
    Numeric,
    /// A column that is not numeric: an attribute with one `ID` form.
    NonNumeric,
}

impl RoleReason {
    /// A stable name of the rule, for machine-readable output: `user-attribute`,
    /// `user-metric`, `user-form`, `id-desc-pair`, `shared-across-tables`, `key-name`,
    /// `calendar-part`, `numeric`, `non-numeric`.
    pub fn rule(&self) -> &'static str {
        match self {
            RoleReason::UserAttribute => "user-attribute",
            RoleReason::UserMetric => "user-metric",
            RoleReason::UserForm => "user-form",
            RoleReason::IdDescPair { .. } => "id-desc-pair",
            RoleReason::SharedAcrossTables { .. } => "shared-across-tables",
            RoleReason::KeyName { .. } => "key-name",
            RoleReason::CalendarPart { .. } => "calendar-part",
            RoleReason::Numeric => "numeric",
            RoleReason::NonNumeric => "non-numeric",
        }
    }

    /// Whether the role was chosen explicitly rather than inferred.
    pub fn is_user_choice(&self) -> bool {
        matches!(
            self,
            RoleReason::UserAttribute | RoleReason::UserMetric | RoleReason::UserForm
        )
    }
}

impl fmt::Display for RoleReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RoleReason::UserAttribute => f.write_str("chosen as an attribute"),
            RoleReason::UserMetric => f.write_str("chosen as a metric"),
            RoleReason::UserForm => f.write_str("chosen as a form"),
            RoleReason::IdDescPair {
                id_column,
                desc_column,
                ..
            } => write!(f, "ID/DESC pair {id_column} + {desc_column}"),
            RoleReason::SharedAcrossTables { tables } => {
                write!(f, "in several tables: {}", tables.join(", "))
            }
            RoleReason::KeyName { word } => write!(f, "integer named as a key ({word})"),
            RoleReason::CalendarPart { part } => write!(f, "integer calendar part ({part})"),
            RoleReason::Numeric => f.write_str("numeric"),
            RoleReason::NonNumeric => f.write_str("not numeric"),
        }
    }
}
