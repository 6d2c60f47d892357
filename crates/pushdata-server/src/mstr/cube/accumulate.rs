//! The per-group accumulator of one metric column: integer, float and decimal sums (SQL
//! semantics: nulls are skipped, all-null is null; integers in 128 bits, decimals in 256
//! bits at the input's scale), the largest value (in Arrow row order) for other types.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Decimal128Type, Decimal256Type, Float64Type, Int32Type, Int64Type};
use arrow_array::{Array, ArrayRef, Decimal256Array, Float64Array, Int64Array};
use arrow_buffer::i256;
use arrow_row::{OwnedRow, RowConverter, SortField};
use arrow_schema::{DataType as ArrowType, Field};

use super::error::{CubeError, Result};

/// What an Arrow error of grouping is wrapped with.
const GROUPING: &str = "grouping rows";

/// How one metric column is aggregated: one value per group.
#[derive(Debug)]
pub(crate) enum Acc {
    /// Sum of integer values.
    Int(Vec<Option<i128>>),
    /// Sum of Float64 values.
    Float(Vec<Option<f64>>),
    /// Sum of decimals at one scale.
    Dec(i8, Vec<Option<i256>>),
    /// Largest value of any other type.
    Max(RowConverter, Vec<Option<OwnedRow>>),
}

/// The output type of an aggregated metric column of type `t`.
pub(crate) fn aggregated_type(t: &ArrowType) -> ArrowType {
    match t {
        ArrowType::Int8
        | ArrowType::Int16
        | ArrowType::Int32
        | ArrowType::Int64
        | ArrowType::UInt8
        | ArrowType::UInt16
        | ArrowType::UInt32 => ArrowType::Int64,
        ArrowType::Decimal128(_, s) | ArrowType::Decimal256(_, s) => ArrowType::Decimal256(76, *s),
        other => other.clone(),
    }
}

impl Acc {
    /// An accumulator for a column of type `t`, with no group yet.
    pub(crate) fn new(t: &ArrowType) -> Result<Self> {
        Ok(match t {
            ArrowType::Int8
            | ArrowType::Int16
            | ArrowType::Int32
            | ArrowType::Int64
            | ArrowType::UInt8
            | ArrowType::UInt16
            | ArrowType::UInt32 => Acc::Int(Vec::new()),
            ArrowType::Float64 => Acc::Float(Vec::new()),
            ArrowType::Decimal128(_, s) | ArrowType::Decimal256(_, s) => Acc::Dec(*s, Vec::new()),
            other => Acc::Max(
                RowConverter::new(vec![SortField::new(other.clone())])
                    .map_err(CubeError::arrow(GROUPING))?,
                Vec::new(),
            ),
        })
    }

    /// Add a group (with no value yet).
    pub(crate) fn push_group(&mut self) {
        match self {
            Acc::Int(v) => v.push(None),
            Acc::Float(v) => v.push(None),
            Acc::Dec(_, v) => v.push(None),
            Acc::Max(_, v) => v.push(None),
        }
    }

    /// Add `col[i]` into group `groups[i]`; `name` is the metric's column, for errors.
    pub(crate) fn update(&mut self, col: &ArrayRef, groups: &[usize], name: &str) -> Result<()> {
        match self {
            Acc::Int(v) => add_ints(v, col, groups, name),
            Acc::Float(v) => {
                let a = col.as_primitive::<Float64Type>();
                for (g, x) in groups.iter().zip(a.iter()) {
                    if let Some(x) = x {
                        v[*g] = Some(v[*g].unwrap_or(0.0) + x);
                    }
                }
                Ok(())
            }
            Acc::Dec(scale, v) => add_decimals(v, *scale, col, groups, name),
            Acc::Max(conv, v) => keep_largest(conv, v, col, groups),
        }
    }

    /// The aggregated column; `field` is the input column's.
    pub(crate) fn finish(self, field: &Field) -> Result<ArrayRef> {
        Ok(match self {
            Acc::Int(v) => {
                let out = v
                    .into_iter()
                    .map(|x| {
                        x.map(|sum| {
                            i64::try_from(sum).map_err(|_| CubeError::SumTooLarge {
                                metric: field.name().clone(),
                                sum,
                            })
                        })
                        .transpose()
                    })
                    .collect::<Result<Vec<_>>>()?;
                Arc::new(Int64Array::from(out))
            }
            Acc::Float(v) => Arc::new(Float64Array::from(v)),
            Acc::Dec(scale, v) => Arc::new(
                Decimal256Array::from(v)
                    .with_precision_and_scale(76, scale)
                    .map_err(CubeError::arrow(GROUPING))?,
            ),
            Acc::Max(conv, v) => largest_column(&conv, &v, field)?,
        })
    }
}

/// The overflow error of metric `name`.
fn overflow(name: &str) -> CubeError {
    CubeError::SumOverflow {
        metric: name.to_string(),
    }
}

/// Sum integer column `col` into `sums`.
fn add_ints(sums: &mut [Option<i128>], col: &ArrayRef, groups: &[usize], name: &str) -> Result<()> {
    let vals: Vec<Option<i128>> = match col.data_type() {
        ArrowType::Int32 => col
            .as_primitive::<Int32Type>()
            .iter()
            .map(|x| x.map(i128::from))
            .collect(),
        ArrowType::Int64 => col
            .as_primitive::<Int64Type>()
            .iter()
            .map(|x| x.map(i128::from))
            .collect(),
        _ => {
            let c = arrow_cast::cast(col, &ArrowType::Int64).map_err(CubeError::arrow(GROUPING))?;
            c.as_primitive::<Int64Type>()
                .iter()
                .map(|x| x.map(i128::from))
                .collect()
        }
    };
    for (g, x) in groups.iter().zip(vals) {
        if let Some(x) = x {
            let cur = sums[*g].unwrap_or(0);
            sums[*g] = Some(cur.checked_add(x).ok_or_else(|| overflow(name))?);
        }
    }
    Ok(())
}

/// Sum decimal column `col` (of scale `scale`) into `sums`.
fn add_decimals(
    sums: &mut [Option<i256>],
    scale: i8,
    col: &ArrayRef,
    groups: &[usize],
    name: &str,
) -> Result<()> {
    let vals: Vec<Option<i256>> = match col.data_type() {
        ArrowType::Decimal128(_, s) if *s == scale => col
            .as_primitive::<Decimal128Type>()
            .iter()
            .map(|x| x.map(i256::from_i128))
            .collect(),
        ArrowType::Decimal256(_, s) if *s == scale => {
            col.as_primitive::<Decimal256Type>().iter().collect()
        }
        other => {
            return Err(CubeError::DecimalScale {
                metric: name.to_string(),
                scale,
                found: other.clone(),
            });
        }
    };
    for (g, x) in groups.iter().zip(vals) {
        if let Some(x) = x {
            let cur = sums[*g].unwrap_or(i256::ZERO);
            sums[*g] = Some(cur.checked_add(x).ok_or_else(|| overflow(name))?);
        }
    }
    Ok(())
}

/// Keep in `largest` the largest non-null value of `col` per group.
fn keep_largest(
    conv: &RowConverter,
    largest: &mut [Option<OwnedRow>],
    col: &ArrayRef,
    groups: &[usize],
) -> Result<()> {
    let rows = conv
        .convert_columns(std::slice::from_ref(col))
        .map_err(CubeError::arrow(GROUPING))?;
    for (i, g) in groups.iter().enumerate() {
        if col.is_null(i) {
            continue;
        }
        let r = rows.row(i);
        let bigger = match &largest[*g] {
            None => true,
            Some(cur) => r > cur.row(),
        };
        if bigger {
            largest[*g] = Some(r.owned());
        }
    }
    Ok(())
}

/// The column of the largest values (null where a group had none).
fn largest_column(
    conv: &RowConverter,
    largest: &[Option<OwnedRow>],
    field: &Field,
) -> Result<ArrayRef> {
    // Nulls: a row converted from a one-null array stands for them.
    let null_row = conv
        .convert_columns(&[arrow_array::new_null_array(field.data_type(), 1)])
        .map_err(CubeError::arrow(GROUPING))?;
    let rows = largest.iter().map(|r| match r {
        Some(r) => r.row(),
        None => null_row.row(0),
    });
    let mut cols = conv
        .convert_rows(rows)
        .map_err(CubeError::arrow(GROUPING))?;
    cols.pop().ok_or(CubeError::NoColumnConverted)
}
