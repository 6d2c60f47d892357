//! `Decimal` columns of an ingest: CSV text read exactly into the decimal array the store
//! keeps (the store's rule: the largest scale of the values, the digits they need), and
//! Veracity's limit of 38 digits checked across the file and the rows it is merged with.
//!
//! A column's digits are those before the point of its widest value plus its largest
//! scale. They only grow: the stored rows' digits (the precision of the stored file, which
//! covers every value merged since the last Overwrite) and each batch's. The first value
//! that takes them past 38 fails the job, naming its row and column.

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType as ArrowType;
use pushdata_core::arrow::DECIMAL128_MAX_PRECISION;
use pushdata_core::veracity::wire::SchemaColumn;

use super::definition::VDataset;
use super::jobs::Failure;
use crate::store::{DecimalColumn, Snapshot, TableDef, parse_decimal};

/// The digits a decimal column needs: before the point, and after it (the scale).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Digits {
    int: u16,
    scale: u16,
}

impl Digits {
    /// What the values of a column of stored type `t` need (nothing for other types).
    pub(crate) fn of_type(t: &ArrowType) -> Self {
        match t {
            ArrowType::Decimal128(p, s) | ArrowType::Decimal256(p, s) => {
                let scale = u16::try_from(*s).unwrap_or(0);
                Digits {
                    int: u16::from(*p).saturating_sub(scale),
                    scale,
                }
            }
            _ => Digits::default(),
        }
    }

    /// What a value of `mantissa` at `scale` needs.
    fn of_value(mantissa: arrow_buffer::i256, scale: u8) -> Self {
        let text = mantissa.wrapping_abs().to_string();
        let digits = u16::try_from(text.len()).unwrap_or(u16::MAX);
        Digits {
            int: digits.saturating_sub(u16::from(scale)),
            scale: u16::from(scale),
        }
    }

    /// What values needing `self` and `other` need together.
    pub(crate) fn with(self, other: Digits) -> Self {
        Digits {
            int: self.int.max(other.int),
            scale: self.scale.max(other.scale),
        }
    }

    fn total(self) -> u16 {
        self.int + self.scale
    }

    /// Whether a Decimal128 holds it (38 digits in all).
    pub(crate) fn fits(self) -> bool {
        self.total() <= u16::from(DECIMAL128_MAX_PRECISION)
    }
}

/// Per column of `def`, the digits the stored rows of a table need (`stored`: the
/// snapshot and the table; `None` when no stored rows are merged with the upload).
pub(crate) fn stored_digits(stored: Option<(&Snapshot, &TableDef)>, def: &VDataset) -> Vec<Digits> {
    (0..def.columns.len())
        .map(|i| {
            stored
                .and_then(|(snapshot, table)| snapshot.stored_type(table, i))
                .map(|t| Digits::of_type(&t))
                .unwrap_or_default()
        })
        .collect()
}

/// Read the text column `text` (rows from `first_row`) of Decimal column `col` exactly.
/// `need` holds what the column needs before this batch and is updated. Errors: a value
/// that is not a decimal, or the first one that takes the column past 38 digits.
pub(crate) fn read_decimals(
    text: &ArrayRef,
    col: &SchemaColumn,
    first_row: u64,
    need: &mut Digits,
) -> Result<ArrayRef, Failure> {
    if text.data_type() != &ArrowType::Utf8 {
        // Read into decimals already, by the parallel reader's fast path (`fields`): when
        // they do not fit, the parallel reader hands the file to the sequential one, which
        // names the value.
        return if fitted(text, need) {
            Ok(text.clone())
        } else {
            Err(too_wide_batch(col, first_row))
        };
    }
    let strings = text.as_string::<i32>();
    let mut column = DecimalColumn::with_capacity(strings.len());
    for (i, value) in strings.iter().enumerate() {
        match value {
            None => column.push_null(),
            Some(v) => column.push_text(v).map_err(|e| {
                Failure::issue(
                    Some(first_row + i as u64),
                    Some(&col.name),
                    format!("value {v:?} is not a valid Decimal: {e}"),
                )
            })?,
        }
    }
    let array = column
        .finish()
        .map_err(|(i, e)| Failure::issue(Some(first_row + i as u64), Some(&col.name), e))?;
    if fitted(&array, need) {
        Ok(array)
    } else {
        Err(too_wide(strings, col, first_row, *need))
    }
}

/// Whether the decimals of `array` fit a Decimal128 with the values that need `need`
/// (which is then updated).
fn fitted(array: &ArrayRef, need: &mut Digits) -> bool {
    let batch_need = match array.data_type() {
        ArrowType::Decimal128(..) => Some(Digits::of_type(array.data_type())),
        _ => None,
    };
    match batch_need.map(|b| need.with(b)).filter(|n| n.fits()) {
        Some(n) => {
            *need = n;
            true
        }
        None => false,
    }
}

/// The failure of a batch of `col` (from `first_row`) whose values need more than 38
/// digits, when the value cannot be named.
fn too_wide_batch(col: &SchemaColumn, first_row: u64) -> Failure {
    Failure::issue(
        Some(first_row),
        Some(&col.name),
        format!("the values need more than {DECIMAL128_MAX_PRECISION} digits"),
    )
}

/// The failure naming the first value of `strings` that takes `need` past 38 digits.
fn too_wide(
    strings: &arrow_array::StringArray,
    col: &SchemaColumn,
    first_row: u64,
    mut need: Digits,
) -> Failure {
    for (i, value) in strings.iter().enumerate() {
        let Some(v) = value else { continue };
        let Ok((mantissa, scale)) = parse_decimal(v) else {
            continue;
        };
        let next = need.with(Digits::of_value(mantissa, scale));
        if !next.fits() {
            return Failure::issue(
                Some(first_row + i as u64),
                Some(&col.name),
                format!(
                    "value {v:?} does not fit the Decimal column: with it the column needs {} digits before the point and {} after, more than {DECIMAL128_MAX_PRECISION} in all",
                    next.int, next.scale
                ),
            );
        }
        need = next;
    }
    too_wide_batch(col, first_row)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;

    use arrow_array::{Decimal128Array, StringArray};
    use pushdata_core::veracity::wire::ColumnType;

    use super::*;

    fn read(values: &[Option<&str>], need: &mut Digits) -> Result<ArrayRef, Failure> {
        let text: ArrayRef = Arc::new(StringArray::from(values.to_vec()));
        let col = SchemaColumn::new("Amount", ColumnType::Decimal);
        read_decimals(&text, &col, 1, need)
    }

    fn issue(f: Failure) -> (Option<u64>, Option<String>) {
        match f {
            Failure::Invalid(v) => (v[0].row, v[0].column.clone()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn values_are_exact_and_the_column_grows_to_38_digits() {
        let mut need = Digits::default();
        let a = read(
            &[Some("123456789012345.678901"), None, Some("-0.000001")],
            &mut need,
        )
        .unwrap();
        let a = a.as_any().downcast_ref::<Decimal128Array>().unwrap();
        assert_eq!(a.value_as_string(0), "123456789012345.678901");
        assert_eq!(a.value_as_string(2), "-0.000001");
        assert_eq!(need, Digits { int: 15, scale: 6 });
        // 17 more digits after the point: 15 + 23 = 38 still fits.
        read(&[Some("0.00000000000000000000001")], &mut need).unwrap();
        assert_eq!(need.total(), 38);
        // One more before the point does not: row 2 of this batch.
        let err = read(&[Some("1"), Some("1234567890123456")], &mut need).unwrap_err();
        assert_eq!(issue(err), (Some(2), Some("Amount".into())));
        assert_eq!(need.total(), 38, "unchanged by a failed batch");
    }

    #[test]
    fn bad_text_and_more_than_38_digits_name_the_row() {
        let mut need = Digits::default();
        let err = read(&[Some("1.5"), Some("1.5.5")], &mut need).unwrap_err();
        assert_eq!(issue(err), (Some(2), Some("Amount".into())));
        let err = read(
            &[Some("1"), Some("123456789012345678901234567890123456789")],
            &mut Digits::default(),
        )
        .unwrap_err();
        assert_eq!(issue(err), (Some(2), Some("Amount".into())));
        // The stored rows have 30 digits before the point: 9 after is one too many.
        let mut stored = Digits::of_type(&ArrowType::Decimal128(30, 0));
        let err = read(&[Some("0.5"), Some("0.123456789")], &mut stored).unwrap_err();
        assert_eq!(issue(err), (Some(2), Some("Amount".into())));
    }
}
