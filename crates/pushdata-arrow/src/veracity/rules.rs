//! Checks made before any upload, as pure functions: the operation against the schema's
//! keys, and the file's columns against the schema's.

use std::fmt;

use super::error::VeracityError;
use super::schema::{SchemaColumn, check_unique_names};

/// What an ingest job does with the uploaded file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// Create a new dataset from the file.
    Create,
    /// Update rows whose keys match, insert the others (needs key columns).
    Upsert,
    /// Delete rows whose keys match rows of the file (needs key columns).
    Delete,
    /// Replace the dataset's rows.
    Overwrite,
    /// Add the file's rows (only on a schema without key columns).
    Append,
}

impl Operation {
    /// The name the ingest API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "Create",
            Operation::Upsert => "Upsert",
            Operation::Delete => "Delete",
            Operation::Overwrite => "Overwrite",
            Operation::Append => "Append",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Check that `operation` is allowed on a schema of `columns`: Upsert and Delete need at
/// least one key column, Append needs a schema without keys; Create and Overwrite are always
/// allowed.
pub fn check_operation(
    operation: Operation,
    columns: &[SchemaColumn],
) -> Result<(), VeracityError> {
    let key = columns.iter().find(|c| c.is_key);
    match (operation, key) {
        (Operation::Upsert | Operation::Delete, None) => {
            Err(VeracityError::KeysRequired { operation })
        }
        (Operation::Append, Some(k)) => Err(VeracityError::KeysForbidden {
            operation,
            column: k.name.clone(),
        }),
        _ => Ok(()),
    }
}

/// Check that a file of `file` columns (see [`schema_columns`](super::schema_columns)) loads
/// into a schema of `schema` columns: the same columns, in any order, names matched in any
/// case (two names equal in any case are refused on either side), and each file column's
/// type the schema's or one that widens into it without loss (Int32 into Int64, integers
/// into Decimal). The first difference is reported, naming the column: a file column the
/// schema lacks first, then a schema column the file lacks (in schema order).
///
/// Every operation, Delete included, is checked this way: Veracity's docs say only that
/// "columns must match the schema".
pub fn check_file_columns(
    file: &[SchemaColumn],
    schema: &[SchemaColumn],
) -> Result<(), VeracityError> {
    check_unique_names("schema", schema.iter().map(|c| c.name.as_str()))?;
    check_unique_names("file", file.iter().map(|c| c.name.as_str()))?;
    let find = |cols: &'_ [SchemaColumn], name: &str| {
        cols.iter()
            .position(|c| c.name.to_lowercase() == name.to_lowercase())
    };
    for f in file {
        let Some(i) = find(schema, &f.name) else {
            return Err(VeracityError::UnexpectedColumn {
                column: f.name.clone(),
            });
        };
        let s = &schema[i];
        if !f.column_type.loads_into(s.column_type) {
            return Err(VeracityError::TypeMismatch {
                column: f.name.clone(),
                file_type: f.column_type,
                schema_type: s.column_type,
            });
        }
    }
    if let Some(s) = schema.iter().find(|s| find(file, &s.name).is_none()) {
        return Err(VeracityError::MissingColumn {
            column: s.name.clone(),
        });
    }
    Ok(())
}

/// Both checks, as made before an upload: [`check_operation`] then [`check_file_columns`].
pub fn check_upload(
    operation: Operation,
    file: &[SchemaColumn],
    schema: &[SchemaColumn],
) -> Result<(), VeracityError> {
    check_operation(operation, schema)?;
    check_file_columns(file, schema)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::veracity::ColumnType as T;

    fn keyed() -> Vec<SchemaColumn> {
        vec![
            SchemaColumn::new("Id", T::Int64).with_key(true),
            SchemaColumn::new("Amount", T::Decimal),
            SchemaColumn::new("Day", T::DateOnly),
        ]
    }

    fn unkeyed() -> Vec<SchemaColumn> {
        keyed().into_iter().map(|c| c.with_key(false)).collect()
    }

    #[test]
    fn operations_and_keys() {
        for op in [Operation::Upsert, Operation::Delete] {
            assert!(check_operation(op, &keyed()).is_ok());
            assert!(matches!(
                check_operation(op, &unkeyed()),
                Err(VeracityError::KeysRequired { operation }) if operation == op
            ));
        }
        assert!(check_operation(Operation::Append, &unkeyed()).is_ok());
        match check_operation(Operation::Append, &keyed()) {
            Err(e @ VeracityError::KeysForbidden { .. }) => {
                assert!(e.to_string().contains("\"Id\""), "{e}");
            }
            other => panic!("{other:?}"),
        }
        for op in [Operation::Create, Operation::Overwrite] {
            assert!(check_operation(op, &keyed()).is_ok());
            assert!(check_operation(op, &unkeyed()).is_ok());
        }
    }

    #[test]
    fn file_columns_match_in_any_case_and_order() {
        let file = vec![
            SchemaColumn::new("day", T::DateOnly),
            SchemaColumn::new("ID", T::Int32),
            SchemaColumn::new("amount", T::Int64),
        ];
        assert!(check_file_columns(&file, &keyed()).is_ok());
        assert!(check_upload(Operation::Upsert, &file, &keyed()).is_ok());
        assert!(matches!(
            check_upload(Operation::Append, &file, &keyed()),
            Err(VeracityError::KeysForbidden { .. })
        ));
    }

    #[test]
    fn file_column_errors_name_the_column() {
        let mut extra = keyed();
        extra.push(SchemaColumn::new("Note", T::String));
        assert!(matches!(
            check_file_columns(&extra, &keyed()),
            Err(VeracityError::UnexpectedColumn { column }) if column == "Note"
        ));
        assert!(matches!(
            check_file_columns(&keyed()[..2], &keyed()),
            Err(VeracityError::MissingColumn { column }) if column == "Day"
        ));
        let mut wrong = keyed();
        wrong[2].column_type = T::DateTime;
        assert!(matches!(
            check_file_columns(&wrong, &keyed()),
            Err(VeracityError::TypeMismatch { column, file_type: T::DateTime, schema_type: T::DateOnly })
                if column == "Day"
        ));
        // Narrowing is refused.
        let mut narrow = keyed();
        narrow[0].column_type = T::Int64;
        let mut schema = keyed();
        schema[0].column_type = T::Int32;
        assert!(matches!(
            check_file_columns(&narrow, &schema),
            Err(VeracityError::TypeMismatch { .. })
        ));
        let mut dup = keyed();
        dup.push(SchemaColumn::new("DAY", T::DateOnly));
        assert!(matches!(
            check_file_columns(&dup, &keyed()),
            Err(VeracityError::DuplicateColumn { side: "file", .. })
        ));
    }
}
