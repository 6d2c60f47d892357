//! Arrow type -> Push Data API type, and how the encoder writes the values.
//!
//! The table of the mapping is in the [`model`](super) module docs.

use arrow_schema::{DataType as ArrowType, TimeUnit};
use pushdata_core::wire::DataType;

/// How a column's values are written in a chunk, beyond the API type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueText {
    /// The type's own text format (numbers, strings, dates, ...).
    Native,
    /// Nested values (list, struct, map, ...) written as a JSON string holding their JSON text.
    JsonText,
    /// Binary values written as a base64 string (standard alphabet, padded).
    Base64,
    /// Duration and interval values written as text (ISO 8601 durations such as `PT1.5S`,
    /// intervals as Arrow prints them, e.g. `1 mons 2 days 0.000000003 secs`).
    DisplayText,
}

/// The API type of a column and how its values are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mapping {
    /// The column's type in `columnHeaders`.
    pub data_type: DataType,
    /// How the encoder writes the values.
    pub text: ValueText,
}

impl Mapping {
    const fn native(data_type: DataType) -> Self {
        Mapping {
            data_type,
            text: ValueText::Native,
        }
    }
}

/// Why a type has no mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unmapped {
    /// Nested, binary, duration or interval: mapped to STRING only with the text option.
    NeedsTextOption,
    /// No mapping at all.
    Unsupported,
}

/// Map an Arrow type. `as_text` turns on the text fallback for nested, binary, duration and
/// interval columns ([`ModelOptions::with_text_fallback`](super::ModelOptions::with_text_fallback)).
pub fn map_arrow_type(t: &ArrowType, as_text: bool) -> Result<Mapping, Unmapped> {
    use ArrowType as A;
    let m = match t {
        A::Int8 | A::Int16 | A::Int32 | A::UInt8 | A::UInt16 => Mapping::native(DataType::Integer),
        A::Int64 | A::UInt32 => Mapping::native(DataType::BigInteger),
        A::UInt64 => Mapping::native(DataType::BigDecimal),
        A::Float16 | A::Float32 | A::Float64 => Mapping::native(DataType::Double),
        A::Decimal32(..) | A::Decimal64(..) | A::Decimal128(..) | A::Decimal256(..) => {
            Mapping::native(DataType::BigDecimal)
        }
        A::Utf8 | A::LargeUtf8 | A::Utf8View | A::Null => Mapping::native(DataType::String),
        A::Boolean => Mapping::native(DataType::Bool),
        A::Date32 | A::Date64 => Mapping::native(DataType::Date),
        A::Time32(TimeUnit::Second | TimeUnit::Millisecond)
        | A::Time64(TimeUnit::Microsecond | TimeUnit::Nanosecond) => {
            Mapping::native(DataType::Time)
        }
        A::Timestamp(_, _) => Mapping::native(DataType::DateTime),
        A::Dictionary(_, value) => match value.as_ref() {
            A::Utf8 | A::LargeUtf8 | A::Utf8View => Mapping::native(DataType::String),
            other => return map_arrow_type(other, as_text),
        },
        A::Binary | A::LargeBinary | A::BinaryView | A::FixedSizeBinary(_) => {
            return text_or(as_text, ValueText::Base64);
        }
        A::Duration(_) | A::Interval(_) => return text_or(as_text, ValueText::DisplayText),
        A::List(_)
        | A::LargeList(_)
        | A::ListView(_)
        | A::LargeListView(_)
        | A::FixedSizeList(_, _)
        | A::Struct(_)
        | A::Map(_, _) => return text_or(as_text, ValueText::JsonText),
        _ => return Err(Unmapped::Unsupported),
    };
    Ok(m)
}

fn text_or(as_text: bool, text: ValueText) -> Result<Mapping, Unmapped> {
    if as_text {
        Ok(Mapping {
            data_type: DataType::String,
            text,
        })
    } else {
        Err(Unmapped::NeedsTextOption)
    }
}
