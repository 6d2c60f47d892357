//! The error type of the Veracity side: every variant names the column (and the row, for
//! values) it is about, and keeps Arrow's error as its source.

/// What can go wrong between an Arrow schema or batch and a Veracity dataset's CSV file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VeracityError {
    /// A column's Arrow type has no Veracity column type.
    #[error("column {column:?}: Arrow type {arrow_type} has no Veracity column type{hint}")]
    UnsupportedType {
        /// The column.
        column: String,
        /// The Arrow type, as Arrow prints it.
        arrow_type: String,
        /// How to get past it, if there is a way (starts with "; ").
        hint: &'static str,
    },

    /// A Veracity column type name that is not one of [`ColumnType`](super::ColumnType)'s.
    #[error("column {column:?}: unknown Veracity column type {type_name:?}")]
    UnknownColumnType {
        /// The column (empty when the name was parsed on its own).
        column: String,
        /// The type name as given.
        type_name: String,
    },

    /// Two columns whose names differ only in case (Veracity matches names in any case).
    #[error("{side}: columns {column:?} and {other:?} have the same name in a different case")]
    DuplicateColumn {
        /// `schema` or `file`.
        side: &'static str,
        /// The first column.
        column: String,
        /// The second column.
        other: String,
    },

    /// The operation needs key columns and the schema has none.
    #[error("operation {operation} needs key columns (isKey) and the schema has none")]
    KeysRequired {
        /// The operation.
        operation: super::Operation,
    },

    /// The operation is only allowed on a schema without key columns.
    #[error(
        "operation {operation} is only allowed on a schema without key columns; key column {column:?}"
    )]
    KeysForbidden {
        /// The operation.
        operation: super::Operation,
        /// The first key column.
        column: String,
    },

    /// A schema column the file does not have.
    #[error("column {column:?} of the schema is missing from the file")]
    MissingColumn {
        /// The schema column.
        column: String,
    },

    /// A file column the schema does not have.
    #[error("column {column:?} of the file is not in the schema")]
    UnexpectedColumn {
        /// The file column.
        column: String,
    },

    /// A file column whose type the schema column cannot take.
    #[error("column {column:?}: the file has {file_type}, the schema has {schema_type}")]
    TypeMismatch {
        /// The column (as the file names it).
        column: String,
        /// The file column's Veracity type.
        file_type: super::ColumnType,
        /// The schema column's type.
        schema_type: super::ColumnType,
    },

    /// A batch does not have the schema the CSV file was started with.
    #[error("batch does not match the file's schema: {message}")]
    SchemaMismatch {
        /// What differs.
        message: String,
    },

    /// A value cannot be written in the CSV file.
    #[error("column {column:?}, row {row}: {message}{}", colon_then(source))]
    Value {
        /// The column.
        column: String,
        /// Row number within the file (0-based, header not counted).
        row: u64,
        /// What is wrong with the value.
        message: String,
        /// Arrow's error, when an Arrow computation failed on the column.
        #[source]
        source: Option<arrow_schema::ArrowError>,
    },
}

/// `: {error}`, or nothing.
fn colon_then(source: &Option<arrow_schema::ArrowError>) -> String {
    source
        .as_ref()
        .map(|e| format!(": {e}"))
        .unwrap_or_default()
}
