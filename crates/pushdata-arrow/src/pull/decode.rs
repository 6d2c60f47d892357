//! A cube instance page ([`CubeInstance`]) to an Arrow [`RecordBatch`].
//!
//! Columns: each attribute form (named after the attribute when it has one form, else
//! `Attribute@Form`, as mstrio-py names them), then each metric. Types come from the
//! grid's `dataType` (Push Data API names or real servers' names, see
//! [`parse_cube_data_type`]) and, for BIGDECIMAL, `precision`/`scale`, mapped by
//! [`pushdata_core::arrow::arrow_type_with_decimal`]:
//! DATE Date32, DATETIME Timestamp(µs), TIME Time64(µs), BIGDECIMAL Decimal128(p, s),
//! INTEGER Int32, BIGINTEGER Int64, DOUBLE Float64, BOOL Boolean, STRING Utf8.
//! A column with an unknown type, or a BIGDECIMAL without a scale, is read as Utf8 (the
//! exact text).

use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_cast::CastOptions;
use arrow_schema::{DataType as ArrowType, Field, Schema, SchemaRef};
use pushdata_core::wire::{CubeInstance, DataType, RawCell, parse_cube_data_type};
use serde_json::value::RawValue;

use crate::error::{Error, Result};

fn column_type(data_type: Option<&str>, precision: Option<u8>, scale: Option<i8>) -> ArrowType {
    match data_type.and_then(parse_cube_data_type) {
        None => ArrowType::Utf8,
        Some(DataType::BigDecimal) => match scale {
            Some(s) => pushdata_core::arrow::arrow_type_with_decimal(
                DataType::BigDecimal,
                precision.unwrap_or(pushdata_core::arrow::DECIMAL128_MAX_PRECISION),
                s,
            ),
            None => ArrowType::Utf8,
        },
        Some(t) => pushdata_core::arrow::arrow_type(t),
    }
}

/// The Arrow schema of an instance's pages (from any of its pages).
pub fn page_schema(page: &CubeInstance) -> SchemaRef {
    let mut fields = Vec::new();
    for a in page.attributes() {
        let many = a.forms.len() > 1;
        if a.forms.is_empty() {
            fields.push(Field::new(&a.name, ArrowType::Utf8, true));
        }
        for f in &a.forms {
            let name = if many {
                format!("{}@{}", a.name, f.name)
            } else {
                a.name.clone()
            };
            fields.push(Field::new(
                name,
                column_type(f.data_type.as_deref(), f.precision, f.scale),
                true,
            ));
        }
    }
    for m in page.metrics() {
        fields.push(Field::new(
            &m.name,
            column_type(m.data_type.as_deref(), m.precision, m.scale),
            true,
        ));
    }
    Arc::new(Schema::new(fields))
}

/// Append a JSON token's value as text: strings unquoted, `null` as null, numbers and
/// booleans as written.
fn push_token(b: &mut StringBuilder, cell: &RawValue) -> std::result::Result<(), String> {
    let t = cell.get().trim();
    if t == "null" {
        b.append_null();
    } else if t.starts_with('"') {
        let s: String = serde_json::from_str(t).map_err(|e| format!("invalid string {t}: {e}"))?;
        b.append_value(s);
    } else {
        b.append_value(t);
    }
    Ok(())
}

/// Decode one page into a batch of `schema` (from [`page_schema`]). `cube` names the
/// dataset in errors.
pub fn page_to_batch(page: &CubeInstance, schema: &SchemaRef, cube: &str) -> Result<RecordBatch> {
    let n = page.data.headers.rows.len();
    let raw = &page.data.metric_values.raw;
    let offset = page.data.paging.offset;
    let err = |column: &str, row: usize, message: String| Error::Value {
        table: format!("cube {cube}"),
        column: column.to_string(),
        row: offset + row as u64,
        message,
    };
    let mut texts: Vec<(String, StringBuilder)> = Vec::with_capacity(schema.fields().len());
    let mut col = 0usize;
    for (ai, a) in page.attributes().iter().enumerate() {
        let nforms = a.forms.len().max(1);
        for fi in 0..nforms {
            let name = schema
                .fields()
                .get(col)
                .map(|f| f.name().clone())
                .unwrap_or_default();
            let mut b = StringBuilder::with_capacity(n, n * 8);
            for (row, hr) in page.data.headers.rows.iter().enumerate() {
                let ei = hr.get(ai).copied().ok_or_else(|| {
                    err(
                        &name,
                        row,
                        format!("data.headers.rows has no element index for attribute {ai}"),
                    )
                })?;
                let el = a.elements.get(ei as usize).ok_or_else(|| {
                    err(
                        &name,
                        row,
                        format!(
                            "element index {ei} is out of range ({} elements)",
                            a.elements.len()
                        ),
                    )
                })?;
                let cell = el.form_values.get(fi).ok_or_else(|| {
                    err(
                        &name,
                        row,
                        format!("element {ei} has no value for form {fi}"),
                    )
                })?;
                push_token(&mut b, cell).map_err(|m| err(&name, row, m))?;
            }
            texts.push((name, b));
            col += 1;
        }
    }
    for (mi, m) in page.metrics().iter().enumerate() {
        let mut b = StringBuilder::with_capacity(n, n * 8);
        for row in 0..n {
            let cell: Option<&RawCell> = raw.get(row).and_then(|r| r.get(mi));
            let cell = cell.ok_or_else(|| {
                err(
                    &m.name,
                    row,
                    format!("data.metricValues.raw has no value for metric {mi}"),
                )
            })?;
            push_token(&mut b, cell).map_err(|e| err(&m.name, row, e))?;
        }
        texts.push((m.name.clone(), b));
    }
    if texts.len() != schema.fields().len() {
        return Err(Error::SchemaMismatch {
            table: format!("cube {cube}"),
            message: format!(
                "page at offset {offset} has {} columns, the first page {}",
                texts.len(),
                schema.fields().len()
            ),
        });
    }
    let opts = CastOptions {
        safe: false,
        ..Default::default()
    };
    let mut cols: Vec<ArrayRef> = Vec::with_capacity(texts.len());
    for ((name, mut b), f) in texts.into_iter().zip(schema.fields()) {
        let a: ArrayRef = Arc::new(b.finish());
        if f.data_type() == &ArrowType::Utf8 {
            cols.push(a);
            continue;
        }
        let c =
            arrow_cast::cast_with_options(&a, f.data_type(), &opts).map_err(|e| Error::Value {
                table: format!("cube {cube}"),
                column: name.clone(),
                row: offset,
                message: format!(
                    "rows {offset}..{}: values do not read as {}: {e}",
                    offset + n as u64,
                    f.data_type()
                ),
            })?;
        cols.push(c);
    }
    RecordBatch::try_new_with_options(
        schema.clone(),
        cols,
        &RecordBatchOptions::new().with_row_count(Some(n)),
    )
    .map_err(|source| Error::Arrow {
        table: format!("cube {cube}"),
        source,
    })
}
