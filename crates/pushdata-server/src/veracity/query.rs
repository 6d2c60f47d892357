//! Dataset queries: filters, sorting, projection and 1-based paging over a pinned snapshot,
//! rows as JSON objects keyed by column name and typed by the schema (numbers, booleans,
//! text; dates and times as ISO 8601 text).
//!
//! Integers and decimals are exact throughout: filter values are read as decimals, compared
//! with the cells without rounding, and each row's JSON text is written here, decimals with
//! their digits as stored (`123456789012345.678901`), never through a 64-bit float.
//!
//! The emulation reads the whole table for a query (fine for test-sized datasets).

use std::cmp::Ordering;
use std::fmt::Write as _;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Decimal128Type, Decimal256Type, DecimalType, Float64Type, Int32Type, Int64Type,
};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_buffer::i256;
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_schema::DataType as ArrowType;
use pushdata_core::veracity::wire::{
    ColumnType, FilterType, Pagination, QueryFilter, QueryPage, QueryRequest, SchemaColumn,
    SortOrder,
};
use serde_json::value::RawValue;

use super::definition::VDataset;
use super::error::{Result, VeracityError};
use crate::store::parse_decimal;

/// One cell, typed by its column.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Null,
    /// An integer or a decimal, exactly: mantissa and scale.
    Exact(i256, u8),
    Float(f64),
    Bool(bool),
    Text(String),
}

/// Cell `i` of `col`.
fn cell(col: &ArrayRef, i: usize) -> Cell {
    if col.is_null(i) {
        return Cell::Null;
    }
    let scale = |s: &i8| u8::try_from(*s).unwrap_or(0);
    match col.data_type() {
        ArrowType::Int32 => Cell::Exact(
            i256::from_i128(i128::from(col.as_primitive::<Int32Type>().value(i))),
            0,
        ),
        ArrowType::Int64 => Cell::Exact(
            i256::from_i128(i128::from(col.as_primitive::<Int64Type>().value(i))),
            0,
        ),
        ArrowType::Decimal128(_, s) => Cell::Exact(
            i256::from_i128(col.as_primitive::<Decimal128Type>().value(i)),
            scale(s),
        ),
        ArrowType::Decimal256(_, s) => {
            Cell::Exact(col.as_primitive::<Decimal256Type>().value(i), scale(s))
        }
        ArrowType::Float64 => Cell::Float(col.as_primitive::<Float64Type>().value(i)),
        ArrowType::Boolean => Cell::Bool(col.as_boolean().value(i)),
        ArrowType::Utf8 => Cell::Text(col.as_string::<i32>().value(i).to_string()),
        _ => {
            let opts = FormatOptions::default();
            ArrayFormatter::try_new(col.as_ref(), &opts)
                .map(|f| Cell::Text(f.value(i).to_string()))
                .unwrap_or(Cell::Null)
        }
    }
}

/// Order two exact numbers (`a` and `b` at their scales) without rounding.
fn compare_exact(a: (i256, u8), b: (i256, u8)) -> Ordering {
    let ten = i256::from_i128(10);
    let (mut x, mut y) = (a.0, b.0);
    for _ in a.1..b.1 {
        match x.checked_mul(ten) {
            Some(v) => x = v,
            // |x| scaled up is beyond any i256, so beyond |y|: x's sign decides.
            None => return x.cmp(&i256::ZERO),
        }
    }
    for _ in b.1..a.1 {
        match y.checked_mul(ten) {
            Some(v) => y = v,
            None => return i256::ZERO.cmp(&y),
        }
    }
    x.cmp(&y)
}

/// Order two cells of one column (nulls first).
fn compare(a: &Cell, b: &Cell) -> Ordering {
    match (a, b) {
        (Cell::Null, Cell::Null) => Ordering::Equal,
        (Cell::Null, _) => Ordering::Less,
        (_, Cell::Null) => Ordering::Greater,
        (Cell::Exact(x, s), Cell::Exact(y, t)) => compare_exact((*x, *s), (*y, *t)),
        (Cell::Float(x), Cell::Float(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        (Cell::Bool(x), Cell::Bool(y)) => x.cmp(y),
        (Cell::Text(x), Cell::Text(y)) => x.cmp(y),
        _ => Ordering::Equal,
    }
}

/// A filter value as a cell of `column`: integers and decimals exact, doubles and booleans
/// parsed, the rest text. A value that is not of the column's kind is a 400.
fn filter_value(column: &SchemaColumn, v: &str) -> Result<Cell> {
    let refuse = |what: &str| {
        VeracityError::bad_request(format!(
            "queryFilters: {v:?} is not {what} (column {:?})",
            column.name
        ))
    };
    Ok(match column.data_type {
        ColumnType::Int32 | ColumnType::Int64 | ColumnType::Decimal => {
            let (m, s) = parse_decimal(v).map_err(|_| refuse("a number"))?;
            Cell::Exact(m, s)
        }
        ColumnType::Double => Cell::Float(v.trim().parse().map_err(|_| refuse("a number"))?),
        ColumnType::Boolean => Cell::Bool(v.trim().parse().map_err(|_| refuse("true or false"))?),
        _ => Cell::Text(v.to_string()),
    })
}

/// Whether `value` passes `f` (`values`: the filter's values as cells of the column;
/// `StringContains` takes them as text).
fn passes(f: &QueryFilter, values: &[Cell], value: &Cell) -> Result<bool> {
    let first = values.first().unwrap_or(&Cell::Null);
    let ord = || compare(value, first);
    let present = *value != Cell::Null;
    Ok(match f.filter_type {
        FilterType::List => values.iter().any(|v| compare(value, v).is_eq()),
        FilterType::NonFromList => !values.iter().any(|v| compare(value, v).is_eq()),
        FilterType::Equals => present && ord().is_eq(),
        FilterType::Greater => present && ord().is_gt(),
        FilterType::GreaterOrEqual => present && ord().is_ge(),
        FilterType::Less => present && ord().is_lt(),
        FilterType::LessOrEqual => present && ord().is_le(),
        FilterType::StringContains => match (value, first) {
            (Cell::Text(s), Cell::Text(n)) => s.to_lowercase().contains(&n.to_lowercase()),
            _ => false,
        },
        _ => {
            return Err(VeracityError::bad_request(format!(
                "unknown filterType {:?}",
                f.filter_type.as_str()
            )));
        }
    })
}

/// Append `c` as JSON text to `out`.
fn write_cell(out: &mut String, c: &Cell) {
    match c {
        Cell::Null => out.push_str("null"),
        Cell::Exact(v, 0) => {
            let _ = write!(out, "{v}");
        }
        Cell::Exact(v, s) => {
            let scale = i8::try_from(*s).unwrap_or(i8::MAX);
            out.push_str(&Decimal256Type::format_decimal(*v, 76, scale));
        }
        // A non-finite double is `null` in JSON (as serde_json writes it).
        Cell::Float(f) => out.push_str(&serde_json::to_string(f).unwrap_or_else(|_| "null".into())),
        Cell::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Cell::Text(t) => out.push_str(&serde_json::to_string(t).unwrap_or_else(|_| "null".into())),
    }
}

/// The index of column `name` (any case), or 400.
fn column_index(def: &VDataset, name: &str, what: &str) -> Result<usize> {
    def.columns
        .iter()
        .position(|c| c.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            VeracityError::bad_request(format!("{what}: the dataset has no column {name:?}"))
        })
}

/// Answer `req` from the table's `batches`.
pub(crate) fn run(
    def: &VDataset,
    batches: &[RecordBatch],
    req: &QueryRequest,
) -> Result<QueryPage> {
    let mut filters = Vec::new();
    for f in &req.query_filters {
        let i = column_index(def, &f.column, "queryFilters")?;
        let values: Vec<Cell> = if f.filter_type == FilterType::StringContains {
            let text = |v: &String| Cell::Text(v.clone());
            f.filter_values.iter().map(text).collect()
        } else {
            let column = &def.columns[i];
            f.filter_values
                .iter()
                .map(|v| filter_value(column, v))
                .collect::<Result<_>>()?
        };
        filters.push((i, f, values));
    }
    let mut rows: Vec<Vec<Cell>> = Vec::new();
    for b in batches {
        for r in 0..b.num_rows() {
            let row: Vec<Cell> = b.columns().iter().map(|c| cell(c, r)).collect();
            let mut keep = true;
            for (i, f, values) in &filters {
                keep = keep && passes(f, values, &row[*i])?;
            }
            if keep {
                rows.push(row);
            }
        }
    }
    if let Some(s) = &req.sorting {
        let i = column_index(def, &s.column, "sorting")?;
        rows.sort_by(|a, b| compare(&a[i], &b[i]));
        if s.order == SortOrder::Descending {
            rows.reverse();
        }
    }
    page(def, rows, req)
}

/// Cut page `req.page_index` (1-based) and project it.
fn page(def: &VDataset, rows: Vec<Vec<Cell>>, req: &QueryRequest) -> Result<QueryPage> {
    let projection: Vec<usize> = if req.column_filter.is_empty() {
        (0..def.columns.len()).collect()
    } else {
        req.column_filter
            .iter()
            .map(|c| column_index(def, c, "columnFilter"))
            .collect::<Result<_>>()?
    };
    let size = if req.page_size == 0 {
        100
    } else {
        req.page_size
    };
    let index = req.page_index.max(1);
    let total = rows.len() as u64;
    let skip = usize::try_from((index - 1).saturating_mul(size)).unwrap_or(usize::MAX);
    let take = usize::try_from(size).unwrap_or(usize::MAX);
    let names: Vec<String> = projection
        .iter()
        .map(|&i| serde_json::to_string(&def.columns[i].name).unwrap_or_default())
        .collect();
    let data = rows
        .into_iter()
        .skip(skip)
        .take(take)
        .map(|row| row_json(&row, &projection, &names))
        .collect::<Result<_>>()?;
    Ok(QueryPage {
        data,
        pagination: Pagination {
            page_index: index,
            page_size: size,
            total_pages: total.div_ceil(size),
            total_count: total,
        },
    })
}

/// A row as a JSON object of the projected columns (`names`: their names as JSON strings).
fn row_json(row: &[Cell], projection: &[usize], names: &[String]) -> Result<Box<RawValue>> {
    let mut out = String::from("{");
    for (k, (&i, name)) in projection.iter().zip(names).enumerate() {
        if k > 0 {
            out.push(',');
        }
        out.push_str(name);
        out.push(':');
        write_cell(&mut out, &row[i]);
    }
    out.push('}');
    RawValue::from_string(out).map_err(|e| VeracityError::internal("writing a query row", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(v: i128, s: u8) -> (i256, u8) {
        (i256::from_i128(v), s)
    }

    #[test]
    fn exact_numbers_compare_without_rounding() {
        // 123456789012345.678901 against 123456789012345.678902 (too close for f64).
        let a = exact(123_456_789_012_345_678_901, 6);
        let b = exact(123_456_789_012_345_678_902, 6);
        assert_eq!(compare_exact(a, b), Ordering::Less);
        assert_eq!(compare_exact(exact(15, 1), exact(150, 2)), Ordering::Equal);
        assert_eq!(compare_exact(exact(-1, 6), exact(0, 0)), Ordering::Less);
        // Scaling i256::MAX overflows: the sign decides.
        assert_eq!(
            compare_exact((i256::MAX, 0), exact(1, 70)),
            Ordering::Greater
        );
        assert_eq!(
            compare_exact(exact(1, 70), (i256::MIN, 0)),
            Ordering::Greater
        );
    }

    #[test]
    fn cells_are_written_as_exact_json() {
        let mut out = String::new();
        for c in [
            Cell::Exact(i256::from_i128(123_456_789_012_345_678_901), 6),
            Cell::Exact(i256::from_i128(-1), 6),
            Cell::Exact(i256::from_i128(-42), 0),
            Cell::Float(20.0),
            Cell::Float(f64::NAN),
            Cell::Text("a\"b".into()),
            Cell::Null,
        ] {
            write_cell(&mut out, &c);
            out.push(' ');
        }
        assert_eq!(
            out,
            "123456789012345.678901 -0.000001 -42 20.0 null \"a\\\"b\" null "
        );
    }
}
