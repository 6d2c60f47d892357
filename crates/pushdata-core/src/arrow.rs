//! The Arrow type of each Push Data API type (feature `arrow`): one definition, used by the
//! reference server's storage and by the client's pull.
//!
//! | API type | Arrow type |
//! |---|---|
//! | STRING | Utf8 |
//! | INTEGER | Int32 |
//! | BIGINTEGER | Int64 |
//! | BOOL | Boolean |
//! | DOUBLE | Float64 |
//! | BIGDECIMAL | Decimal128(precision, scale) (38 digits; Decimal256 beyond) |
//! | DATE | Date32 |
//! | TIME | Time64(Microsecond) |
//! | DATETIME | Timestamp(Microsecond, no zone) |

use arrow_schema::{DataType as ArrowType, TimeUnit};

use crate::wire::DataType;

/// The most digits a Decimal128 holds.
pub const DECIMAL128_MAX_PRECISION: u8 = 38;
/// The most digits a Decimal256 holds.
pub const DECIMAL256_MAX_PRECISION: u8 = 76;

/// The Arrow type values of `t` are stored and read as; BIGDECIMAL is Decimal128(38, 0)
/// here (use [`arrow_type_with_decimal`] when the scale is known).
pub fn arrow_type(t: DataType) -> ArrowType {
    arrow_type_with_decimal(t, DECIMAL128_MAX_PRECISION, 0)
}

/// Like [`arrow_type`], with the precision and scale of BIGDECIMAL values: Decimal128 up
/// to 38 digits, Decimal256 up to 76 (more is capped at 76).
pub fn arrow_type_with_decimal(t: DataType, precision: u8, scale: i8) -> ArrowType {
    match t {
        DataType::String => ArrowType::Utf8,
        DataType::Integer => ArrowType::Int32,
        DataType::BigInteger => ArrowType::Int64,
        DataType::Bool => ArrowType::Boolean,
        DataType::Double => ArrowType::Float64,
        DataType::BigDecimal => {
            if precision <= DECIMAL128_MAX_PRECISION {
                ArrowType::Decimal128(precision.max(1), scale)
            } else {
                ArrowType::Decimal256(precision.min(DECIMAL256_MAX_PRECISION), scale)
            }
        }
        DataType::Date => ArrowType::Date32,
        DataType::Time => ArrowType::Time64(TimeUnit::Microsecond),
        DataType::DateTime => ArrowType::Timestamp(TimeUnit::Microsecond, None),
    }
}

/// The precision and scale of a decimal Arrow type (`None` for other types).
pub fn decimal_precision_scale(t: &ArrowType) -> Option<(u8, i8)> {
    match t {
        ArrowType::Decimal32(p, s)
        | ArrowType::Decimal64(p, s)
        | ArrowType::Decimal128(p, s)
        | ArrowType::Decimal256(p, s) => Some((*p, *s)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_maps() {
        assert_eq!(arrow_type(DataType::Date), ArrowType::Date32);
        assert_eq!(
            arrow_type_with_decimal(DataType::BigDecimal, 38, 4),
            ArrowType::Decimal128(38, 4)
        );
        assert_eq!(
            arrow_type_with_decimal(DataType::BigDecimal, 50, 2),
            ArrowType::Decimal256(50, 2)
        );
        for t in DataType::ALL {
            let _ = arrow_type(*t);
        }
    }
}
