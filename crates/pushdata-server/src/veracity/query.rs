//! Dataset queries: filters, sorting, projection and 1-based paging over a pinned snapshot,
//! rows as JSON objects keyed by column name and typed by the schema (numbers, booleans,
//! text; dates and times as ISO 8601 text).
//!
//! The emulation reads the whole table for a query (fine for test-sized datasets).

use std::cmp::Ordering;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_schema::DataType as ArrowType;
use pushdata_core::veracity::wire::{
    FilterType, Pagination, QueryFilter, QueryPage, QueryRequest, SortOrder,
};
use serde_json::{Map, Value};

use super::definition::VDataset;
use super::error::{Result, VeracityError};

/// One cell as JSON.
fn cell(col: &ArrayRef, i: usize) -> Value {
    if col.is_null(i) {
        return Value::Null;
    }
    match col.data_type() {
        ArrowType::Int32 => Value::from(col.as_primitive::<Int32Type>().value(i)),
        ArrowType::Int64 => Value::from(col.as_primitive::<Int64Type>().value(i)),
        ArrowType::Float64 => Value::from(col.as_primitive::<Float64Type>().value(i)),
        ArrowType::Boolean => Value::from(col.as_boolean().value(i)),
        ArrowType::Utf8 => Value::from(col.as_string::<i32>().value(i)),
        _ => {
            let opts = FormatOptions::default();
            ArrayFormatter::try_new(col.as_ref(), &opts)
                .map(|f| Value::from(f.value(i).to_string()))
                .unwrap_or(Value::Null)
        }
    }
}

/// Order two JSON cells of one column (nulls first).
fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
            x.partial_cmp(&y).unwrap_or(Ordering::Equal)
        }
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        _ => a.to_string().cmp(&b.to_string()),
    }
}

/// A filter value as a cell of the column's kind (numbers and booleans parsed).
fn filter_value(sample_type: &ArrowType, v: &str) -> Value {
    match sample_type {
        ArrowType::Int32 | ArrowType::Int64 | ArrowType::Float64 => v
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| Value::from(v), Value::Number),
        ArrowType::Boolean => v
            .trim()
            .parse::<bool>()
            .map_or_else(|_| Value::from(v), Value::from),
        _ => Value::from(v),
    }
}

/// Whether `value` passes `f` (values already parsed to the column's kind).
fn passes(f: &QueryFilter, values: &[Value], value: &Value) -> Result<bool> {
    let first = values.first().unwrap_or(&Value::Null);
    let ord = || compare(value, first);
    Ok(match f.filter_type {
        FilterType::List => values.iter().any(|v| compare(value, v).is_eq()),
        FilterType::NonFromList => !values.iter().any(|v| compare(value, v).is_eq()),
        FilterType::Equals => !value.is_null() && ord().is_eq(),
        FilterType::Greater => !value.is_null() && ord().is_gt(),
        FilterType::GreaterOrEqual => !value.is_null() && ord().is_ge(),
        FilterType::Less => !value.is_null() && ord().is_lt(),
        FilterType::LessOrEqual => !value.is_null() && ord().is_le(),
        FilterType::StringContains => match (value, first) {
            (Value::String(s), Value::String(n)) => s.to_lowercase().contains(&n.to_lowercase()),
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
    let types: Vec<ArrowType> = def
        .columns
        .iter()
        .enumerate()
        .map(|(i, _)| {
            batches
                .first()
                .map_or(ArrowType::Utf8, |b| b.column(i).data_type().clone())
        })
        .collect();
    let mut filters = Vec::new();
    for f in &req.query_filters {
        let i = column_index(def, &f.column, "queryFilters")?;
        let values: Vec<Value> = f
            .filter_values
            .iter()
            .map(|v| filter_value(&types[i], v))
            .collect();
        filters.push((i, f, values));
    }
    let mut rows: Vec<Vec<Value>> = Vec::new();
    for b in batches {
        for r in 0..b.num_rows() {
            let row: Vec<Value> = b.columns().iter().map(|c| cell(c, r)).collect();
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
fn page(def: &VDataset, rows: Vec<Vec<Value>>, req: &QueryRequest) -> Result<QueryPage> {
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
    let data = rows
        .into_iter()
        .skip(skip)
        .take(take)
        .map(|row| {
            projection
                .iter()
                .map(|&i| (def.columns[i].name.clone(), row[i].clone()))
                .collect::<Map<String, Value>>()
        })
        .collect();
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
