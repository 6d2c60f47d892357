//! One schema for the files of one input: identical, or widened where Arrow widens without
//! loss.
//!
//! Files must have the same columns, by name and in order. A column's types may differ
//! only where one converts to the other exactly: a narrower integer of the same
//! signedness (`Int32` -> `Int64`), an unsigned integer into a wider signed one
//! (`UInt16` -> `Int32`), `Float16`/`Float32` -> `Float64`, `Utf8` -> `LargeUtf8`,
//! `Binary` -> `LargeBinary`, and `Null` (a column without a value, as CSV/NDJSON
//! inference gives) -> anything. Nullability is the union. A dictionary and its value
//! type are different types: refused, as are all other differences.

use arrow_schema::{DataType, Field, Schema};

/// The first way two files' columns differ that cannot be widened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaDifference {
    /// The files have different column counts or names at `index`.
    Column {
        /// 0-based column index.
        index: usize,
        /// The column in the first file (`None`: it has fewer columns).
        first: Option<String>,
        /// The column in this file (`None`: it has fewer columns).
        this: Option<String>,
    },
    /// A column's types differ and neither widens to the other without loss.
    Type {
        /// The column.
        column: String,
        /// Its type so far (in the first file, or widened from it).
        first: DataType,
        /// Its type in this file.
        this: DataType,
    },
}

impl std::fmt::Display for SchemaDifference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = |n: &Option<String>| match n {
            Some(n) => format!("{n:?}"),
            None => "no column".to_string(),
        };
        match self {
            SchemaDifference::Column { index, first, this } => write!(
                f,
                "column {} is {} in the first file but {} in this one",
                index + 1,
                name(first),
                name(this)
            ),
            SchemaDifference::Type {
                column,
                first,
                this,
            } => write!(
                f,
                "column {column:?} is {first} in the first file but {this} in this one, \
                 which does not widen without loss"
            ),
        }
    }
}

/// `so_far` unified with `next`: the widened schema, or the first difference.
pub(crate) fn unify(so_far: &Schema, next: &Schema) -> Result<Schema, SchemaDifference> {
    let (a, b) = (so_far.fields(), next.fields());
    let mut fields = Vec::with_capacity(a.len());
    for index in 0..a.len().max(b.len()) {
        let (fa, fb) = match (a.get(index), b.get(index)) {
            (Some(fa), Some(fb)) if fa.name() == fb.name() => (fa, fb),
            (fa, fb) => {
                return Err(SchemaDifference::Column {
                    index,
                    first: fa.map(|f| f.name().clone()),
                    this: fb.map(|f| f.name().clone()),
                });
            }
        };
        let data_type =
            wider(fa.data_type(), fb.data_type()).ok_or_else(|| SchemaDifference::Type {
                column: fa.name().clone(),
                first: fa.data_type().clone(),
                this: fb.data_type().clone(),
            })?;
        let nullable = fa.is_nullable() || fb.is_nullable() || data_type == DataType::Null;
        fields
            .push(Field::new(fa.name(), data_type, nullable).with_metadata(fa.metadata().clone()));
    }
    Ok(Schema::new_with_metadata(fields, so_far.metadata().clone()))
}

/// The type both `a` and `b` convert to without loss, if any.
fn wider(a: &DataType, b: &DataType) -> Option<DataType> {
    if a == b {
        return Some(a.clone());
    }
    if widens_to(a, b) {
        Some(b.clone())
    } else if widens_to(b, a) {
        Some(a.clone())
    } else {
        None
    }
}

/// Whether every value of `from` converts to `to` exactly.
fn widens_to(from: &DataType, to: &DataType) -> bool {
    use DataType::*;
    let signed = |t: &DataType| match t {
        Int8 => Some(8),
        Int16 => Some(16),
        Int32 => Some(32),
        Int64 => Some(64),
        _ => None,
    };
    let unsigned = |t: &DataType| match t {
        UInt8 => Some(8),
        UInt16 => Some(16),
        UInt32 => Some(32),
        UInt64 => Some(64),
        _ => None,
    };
    match (from, to) {
        (Null, _) => true,
        (Float16, Float32 | Float64) | (Float32, Float64) => true,
        (Utf8, LargeUtf8) | (Binary, LargeBinary) => true,
        _ => match (signed(from), unsigned(from), signed(to), unsigned(to)) {
            (Some(f), _, Some(t), _) | (_, Some(f), _, Some(t)) => f < t,
            (_, Some(f), Some(t), _) => f < t,
            _ => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(fields: &[(&str, DataType, bool)]) -> Schema {
        Schema::new(
            fields
                .iter()
                .map(|(n, t, null)| Field::new(*n, t.clone(), *null))
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn integers_floats_strings_and_nulls_widen() {
        let a = schema(&[
            ("i", DataType::Int32, false),
            ("u", DataType::UInt16, false),
            ("f", DataType::Float64, false),
            ("s", DataType::Utf8, true),
            ("n", DataType::Null, true),
        ]);
        let b = schema(&[
            ("i", DataType::Int64, true),
            ("u", DataType::Int32, false),
            ("f", DataType::Float32, false),
            ("s", DataType::LargeUtf8, false),
            ("n", DataType::Date32, false),
        ]);
        let u = unify(&a, &b).unwrap_or_else(|e| panic!("{e}"));
        let types: Vec<_> = u
            .fields()
            .iter()
            .map(|f| (f.data_type().clone(), f.is_nullable()))
            .collect();
        assert_eq!(
            types,
            [
                (DataType::Int64, true),
                (DataType::Int32, false),
                (DataType::Float64, false),
                (DataType::LargeUtf8, true),
                (DataType::Date32, true),
            ]
        );
    }

    #[test]
    fn lossy_and_renamed_columns_are_refused() {
        let a = schema(&[("x", DataType::Int64, true)]);
        assert_eq!(
            unify(&a, &schema(&[("x", DataType::UInt64, true)])),
            Err(SchemaDifference::Type {
                column: "x".into(),
                first: DataType::Int64,
                this: DataType::UInt64,
            })
        );
        assert_eq!(
            unify(&a, &schema(&[("x", DataType::Utf8, true)])).map(|_| ()),
            Err(SchemaDifference::Type {
                column: "x".into(),
                first: DataType::Int64,
                this: DataType::Utf8,
            })
        );
        assert_eq!(
            unify(&a, &schema(&[("y", DataType::Int64, true)])),
            Err(SchemaDifference::Column {
                index: 0,
                first: Some("x".into()),
                this: Some("y".into()),
            })
        );
        let two = schema(&[("x", DataType::Int64, true), ("z", DataType::Int8, true)]);
        assert_eq!(
            unify(&a, &two),
            Err(SchemaDifference::Column {
                index: 1,
                first: None,
                this: Some("z".into()),
            })
        );
        let dict = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
        let s = schema(&[("x", DataType::Utf8, true)]);
        assert!(unify(&s, &schema(&[("x", dict, true)])).is_err());
    }
}
