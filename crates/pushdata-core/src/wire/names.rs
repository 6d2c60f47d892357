//! The rule for names of datasets, tables, columns, attributes and metrics: one definition,
//! applied by the client before it sends a model and by the reference server when it
//! receives one.
//!
//! A name is valid when it is non-empty, not only whitespace, at most [`MAX_NAME_CHARS`]
//! characters long, and contains none of [`FORBIDDEN_CHARS`] and no control character
//! (U+0000..U+001F, U+007F..U+009F). Names are compared without regard to case when
//! checking uniqueness (a table may not have columns `a` and `A`).

use std::fmt;

/// Longest accepted name, in characters.
pub const MAX_NAME_CHARS: usize = 250;

/// Characters refused in names (besides control characters).
pub const FORBIDDEN_CHARS: &[char] = &['[', ']', '"', '\\'];

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameError {
    /// What is named, e.g. `table` or `column of table "sales"`.
    pub what: String,
    /// The name (shortened to 60 characters).
    pub name: String,
    /// The rule it breaks.
    pub reason: NameProblem,
}

/// The rule a refused name breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameProblem {
    /// Empty, or only whitespace.
    Empty,
    /// Longer than [`MAX_NAME_CHARS`] characters.
    TooLong {
        /// Its length in characters.
        chars: usize,
    },
    /// It contains a control character.
    ControlCharacter(char),
    /// It contains one of [`FORBIDDEN_CHARS`].
    ForbiddenCharacter(char),
    /// Another table of the dataset has this name, ignoring case.
    DuplicateTable,
    /// Another column of the table has this name, ignoring case.
    DuplicateColumn,
}

impl fmt::Display for NameProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameProblem::Empty => f.write_str("a name must not be empty or only whitespace"),
            NameProblem::TooLong { chars } => {
                write!(
                    f,
                    "{chars} characters, at most {MAX_NAME_CHARS} are allowed"
                )
            }
            NameProblem::ControlCharacter(c) => {
                write!(f, "contains the control character U+{:04X}", u32::from(*c))
            }
            NameProblem::ForbiddenCharacter(c) => {
                write!(
                    f,
                    "contains {c:?}; the characters [ ] \" \\ are not allowed"
                )
            }
            NameProblem::DuplicateTable => f.write_str(
                "two tables of the dataset have this name (names are compared ignoring case)",
            ),
            NameProblem::DuplicateColumn => f.write_str(
                "two columns of the table have this name (names are compared ignoring case)",
            ),
        }
    }
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid {} name {:?}: {}",
            self.what, self.name, self.reason
        )
    }
}

impl std::error::Error for NameError {}

/// Check a name; `what` says what is named, for the error.
///
/// ```
/// use pushdata_core::wire::{NameProblem, validate_name};
/// assert!(validate_name("table", "SALES_TABLE").is_ok());
/// let err = validate_name("column", "a[1]").unwrap_err();
/// assert_eq!(err.reason, NameProblem::ForbiddenCharacter('['));
/// ```
pub fn validate_name(what: &str, name: &str) -> Result<(), NameError> {
    let fail = |reason: NameProblem| {
        Err(NameError {
            what: what.to_string(),
            name: shorten(name),
            reason,
        })
    };
    if name.trim().is_empty() {
        return fail(NameProblem::Empty);
    }
    let chars = name.chars().count();
    if chars > MAX_NAME_CHARS {
        return fail(NameProblem::TooLong { chars });
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return fail(NameProblem::ControlCharacter(c));
    }
    if let Some(c) = name.chars().find(|c| FORBIDDEN_CHARS.contains(c)) {
        return fail(NameProblem::ForbiddenCharacter(c));
    }
    Ok(())
}

/// The position of the item named `name`: the exact name first, then the first name equal
/// to it without regard to ASCII case. The one lookup rule for tables, columns and upload
/// session tables, on the client and on the server.
///
/// ```
/// use pushdata_core::wire::position_by_name;
/// let names = ["Year", "year", "Sales"];
/// assert_eq!(position_by_name(&names, "year", |n| n), Some(1));
/// assert_eq!(position_by_name(&names, "YEAR", |n| n), Some(0));
/// assert_eq!(position_by_name(&names, "cost", |n| n), None);
/// ```
pub fn position_by_name<T>(items: &[T], name: &str, name_of: impl Fn(&T) -> &str) -> Option<usize> {
    items.iter().position(|t| name_of(t) == name).or_else(|| {
        items
            .iter()
            .position(|t| name_of(t).eq_ignore_ascii_case(name))
    })
}

fn shorten(name: &str) -> String {
    if name.chars().count() > 60 {
        let head: String = name.chars().take(57).collect();
        format!("{head}...")
    } else {
        name.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert!(validate_name("table", "Zürich 東京").is_ok());
        assert!(validate_name("table", "  ").is_err());
        assert!(validate_name("table", &"x".repeat(MAX_NAME_CHARS)).is_ok());
        assert!(validate_name("table", &"x".repeat(MAX_NAME_CHARS + 1)).is_err());
        assert!(validate_name("table", "a\u{7}b").is_err());
        for c in FORBIDDEN_CHARS {
            assert!(validate_name("table", &format!("a{c}b")).is_err());
        }
    }
}
