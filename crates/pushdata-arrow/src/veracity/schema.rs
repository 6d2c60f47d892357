//! Veracity schema columns, and their mapping to and from Arrow types (the table is in the
//! [module docs](super)).

use std::fmt;
use std::str::FromStr;

use arrow_schema::{DataType, Field, Schema, TimeUnit};
#[cfg(test)]
use std::sync::Arc;

use super::error::VeracityError;

/// A Veracity schema column type, spelled as the schema API spells it (`Int32`, `DateOnly`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ColumnType {
    /// `Int32`.
    Int32,
    /// `Int64`.
    Int64,
    /// `Decimal`.
    Decimal,
    /// `Double` (not seen in Veracity's docs, inferred from its .NET type names).
    Double,
    /// `Boolean`.
    Boolean,
    /// `String`.
    String,
    /// `DateOnly` (format `YYYY-MM-DD`).
    DateOnly,
    /// `DateTime` (millisecond precision for uploaded files).
    DateTime,
}

impl ColumnType {
    /// Every type.
    pub const ALL: [ColumnType; 8] = [
        ColumnType::Int32,
        ColumnType::Int64,
        ColumnType::Decimal,
        ColumnType::Double,
        ColumnType::Boolean,
        ColumnType::String,
        ColumnType::DateOnly,
        ColumnType::DateTime,
    ];

    /// The name the schema API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnType::Int32 => "Int32",
            ColumnType::Int64 => "Int64",
            ColumnType::Decimal => "Decimal",
            ColumnType::Double => "Double",
            ColumnType::Boolean => "Boolean",
            ColumnType::String => "String",
            ColumnType::DateOnly => "DateOnly",
            ColumnType::DateTime => "DateTime",
        }
    }

    /// The Arrow type a pull reads this column as (see the [module docs](super)).
    pub fn arrow_type(self) -> DataType {
        match self {
            ColumnType::Int32 => DataType::Int32,
            ColumnType::Int64 => DataType::Int64,
            ColumnType::Decimal => DataType::Decimal128(38, 18),
            ColumnType::Double => DataType::Float64,
            ColumnType::Boolean => DataType::Boolean,
            ColumnType::String => DataType::Utf8,
            ColumnType::DateOnly => DataType::Date32,
            ColumnType::DateTime => DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
        }
    }

    /// Whether a file column of type `self` can load into a schema column of type `to`
    /// without loss: the same type, or an integer into a wider integer or a decimal.
    pub(crate) fn loads_into(self, to: ColumnType) -> bool {
        use ColumnType as T;
        self == to
            || matches!(
                (self, to),
                (T::Int32, T::Int64) | (T::Int32, T::Decimal) | (T::Int64, T::Decimal)
            )
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ColumnType {
    type Err = VeracityError;

    /// Parse a type name, in any case (`Int32`, `dateonly`, ...).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ColumnType::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| VeracityError::UnknownColumnType {
                column: String::new(),
                type_name: s.to_string(),
            })
    }
}

/// One column of a Veracity schema: the part of the schema API's column this crate needs
/// (a plain struct; the HTTP wire type is the client's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaColumn {
    /// The column name (matched in any case against the file's header).
    pub name: String,
    /// The column type.
    pub column_type: ColumnType,
    /// Whether the column is a row key (`isKey`).
    pub is_key: bool,
    /// Whether values are required (`isRequired`).
    pub is_required: bool,
}

impl SchemaColumn {
    /// A column of `column_type`, neither key nor required.
    pub fn new(name: impl Into<String>, column_type: ColumnType) -> Self {
        SchemaColumn {
            name: name.into(),
            column_type,
            is_key: false,
            is_required: false,
        }
    }

    /// The same column, as a key (or not).
    pub fn with_key(mut self, is_key: bool) -> Self {
        self.is_key = is_key;
        self
    }

    /// The Arrow field a pull reads this column as (nullable unless required).
    pub fn arrow_field(&self) -> Field {
        Field::new(&self.name, self.column_type.arrow_type(), !self.is_required)
    }
}

/// The Veracity type of a column of Arrow type `data_type`, or why there is none.
pub(crate) fn column_type_of(
    column: &str,
    data_type: &DataType,
) -> Result<ColumnType, VeracityError> {
    use DataType as A;
    let refuse = |hint: &'static str| VeracityError::UnsupportedType {
        column: column.to_string(),
        arrow_type: data_type.to_string(),
        hint,
    };
    Ok(match data_type {
        A::Int8 | A::Int16 | A::Int32 | A::UInt8 | A::UInt16 => ColumnType::Int32,
        A::Int64 | A::UInt32 => ColumnType::Int64,
        A::UInt64 => {
            return Err(refuse(
                "; values above 2^63-1 do not fit Int64: cast it to Int64 or Decimal128(20, 0)",
            ));
        }
        A::Float16 | A::Float32 | A::Float64 => ColumnType::Double,
        A::Decimal32(..) | A::Decimal64(..) | A::Decimal128(..) => ColumnType::Decimal,
        A::Decimal256(p, _) if *p <= 38 => ColumnType::Decimal,
        A::Decimal256(..) => {
            return Err(refuse("; Veracity decimals have at most 38 digits"));
        }
        A::Boolean => ColumnType::Boolean,
        A::Utf8 | A::LargeUtf8 | A::Utf8View => ColumnType::String,
        A::Dictionary(k, v)
            if k.is_dictionary_key_type()
                && matches!(v.as_ref(), A::Utf8 | A::LargeUtf8 | A::Utf8View) =>
        {
            ColumnType::String
        }
        A::Date32 | A::Date64 => ColumnType::DateOnly,
        A::Timestamp(..) => ColumnType::DateTime,
        A::Time32(_) | A::Time64(_) => {
            return Err(refuse(
                "; Veracity has no time-of-day type: cast it to a string or combine it with a date",
            ));
        }
        A::Binary | A::LargeBinary | A::BinaryView | A::FixedSizeBinary(_) => {
            return Err(refuse(
                "; Veracity has no binary type: encode it as a string",
            ));
        }
        _ => return Err(refuse("")),
    })
}

/// The Veracity schema columns of an Arrow schema, in its order: every column mapped by the
/// table in the [module docs](super), required when the field is not nullable, none a key.
/// The first column that does not map is refused, naming it and its Arrow type; so are two
/// names that differ only in case.
pub fn schema_columns(schema: &Schema) -> Result<Vec<SchemaColumn>, VeracityError> {
    let columns = schema
        .fields()
        .iter()
        .map(|f| {
            Ok(SchemaColumn {
                name: f.name().clone(),
                column_type: column_type_of(f.name(), f.data_type())?,
                is_key: false,
                is_required: !f.is_nullable(),
            })
        })
        .collect::<Result<Vec<_>, VeracityError>>()?;
    check_unique_names("file", columns.iter().map(|c| c.name.as_str()))?;
    Ok(columns)
}

/// The Arrow schema a pull of `columns` reads (see [`SchemaColumn::arrow_field`]).
pub fn arrow_schema(columns: &[SchemaColumn]) -> Schema {
    Schema::new(
        columns
            .iter()
            .map(SchemaColumn::arrow_field)
            .collect::<Vec<_>>(),
    )
}

/// Refuse two names that are equal in any case.
pub(crate) fn check_unique_names<'a>(
    side: &'static str,
    names: impl Iterator<Item = &'a str>,
) -> Result<(), VeracityError> {
    let mut seen: std::collections::HashMap<String, &str> = std::collections::HashMap::new();
    for name in names {
        if let Some(other) = seen.insert(name.to_lowercase(), name) {
            return Err(VeracityError::DuplicateColumn {
                side,
                column: other.to_string(),
                other: name.to_string(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn field(name: &str, t: DataType) -> Field {
        Field::new(name, t, true)
    }

    #[test]
    fn arrow_to_veracity() {
        use ColumnType as V;
        use DataType as A;
        let cases = [
            (A::Int8, V::Int32),
            (A::Int16, V::Int32),
            (A::UInt8, V::Int32),
            (A::UInt16, V::Int32),
            (A::Int32, V::Int32),
            (A::UInt32, V::Int64),
            (A::Int64, V::Int64),
            (A::Float16, V::Double),
            (A::Float32, V::Double),
            (A::Float64, V::Double),
            (A::Decimal32(9, 2), V::Decimal),
            (A::Decimal128(38, 10), V::Decimal),
            (A::Decimal256(38, 0), V::Decimal),
            (A::Boolean, V::Boolean),
            (A::Utf8, V::String),
            (A::LargeUtf8, V::String),
            (A::Utf8View, V::String),
            (
                A::Dictionary(Box::new(A::Int16), Box::new(A::Utf8)),
                V::String,
            ),
            (A::Date32, V::DateOnly),
            (A::Date64, V::DateOnly),
            (A::Timestamp(TimeUnit::Nanosecond, None), V::DateTime),
            (
                A::Timestamp(TimeUnit::Millisecond, Some("+02:00".into())),
                V::DateTime,
            ),
        ];
        for (a, v) in cases {
            assert_eq!(column_type_of("c", &a).unwrap(), v, "{a}");
        }
        let schema = Schema::new(vec![
            Field::new("id", A::Int64, false),
            field("note", A::Utf8),
        ]);
        assert_eq!(
            schema_columns(&schema).unwrap(),
            vec![
                SchemaColumn {
                    name: "id".into(),
                    column_type: V::Int64,
                    is_key: false,
                    is_required: true
                },
                SchemaColumn::new("note", V::String),
            ]
        );
    }

    #[test]
    fn refusals_name_the_column_and_its_type() {
        use DataType as A;
        for t in [
            A::UInt64,
            A::Decimal256(40, 2),
            A::Time64(TimeUnit::Microsecond),
            A::Duration(TimeUnit::Second),
            A::Binary,
            A::Null,
            A::List(Arc::new(field("item", A::Int32))),
            A::Dictionary(Box::new(A::Int8), Box::new(A::Int32)),
        ] {
            let schema = Schema::new(vec![field("ok", A::Int32), field("bad col", t.clone())]);
            match schema_columns(&schema) {
                Err(e @ VeracityError::UnsupportedType { .. }) => {
                    let VeracityError::UnsupportedType {
                        column, arrow_type, ..
                    } = &e
                    else {
                        unreachable!()
                    };
                    assert_eq!(column, "bad col");
                    assert_eq!(arrow_type, &t.to_string());
                    assert!(e.to_string().contains("\"bad col\""), "{e}");
                }
                other => panic!("{t}: {other:?}"),
            }
        }
        let dup = Schema::new(vec![field("Name", A::Utf8), field("NAME", A::Utf8)]);
        assert!(matches!(
            schema_columns(&dup),
            Err(VeracityError::DuplicateColumn { .. })
        ));
    }

    #[test]
    fn veracity_to_arrow_and_names() {
        use ColumnType as V;
        for t in ColumnType::ALL {
            assert_eq!(t.as_str().parse::<ColumnType>().unwrap(), t);
            assert_eq!(t.as_str().to_lowercase().parse::<ColumnType>().unwrap(), t);
            // Round trip through Arrow.
            assert_eq!(column_type_of("c", &t.arrow_type()).unwrap(), t);
        }
        assert!(matches!(
            "Guid".parse::<ColumnType>(),
            Err(VeracityError::UnknownColumnType { .. })
        ));
        assert_eq!(V::Decimal.arrow_type(), DataType::Decimal128(38, 18));
        assert_eq!(
            V::DateTime.arrow_type(),
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
        );
        let mut required = SchemaColumn::new("TS", V::DateTime);
        required.is_required = true;
        let s = arrow_schema(&[required, SchemaColumn::new("day", V::DateOnly)]);
        assert!(!s.field(0).is_nullable());
        assert_eq!(s.field(1).data_type(), &DataType::Date32);
    }
}
