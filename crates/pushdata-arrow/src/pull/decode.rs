//! A cube instance page ([`CubeInstance`]) to an Arrow [`RecordBatch`].
//!
//! Columns: each attribute form (named after the attribute when it has one form, else
//! `Attribute@Form`, as mstrio-py names them), then each metric. Types come from the
//! grid's `dataType` (Push Data API names or real servers' names, see
//! [`parse_cube_data_type`]) and, for BIGDECIMAL, `precision`/`scale`, mapped by
//! [`pushdata_core::arrow::arrow_type_with_decimal`]:
//! DATE Date32, DATETIME Timestamp(µs), TIME Time64(µs), BIGDECIMAL Decimal128(p, s),
//! INTEGER Int32, BIGINTEGER Int64, DOUBLE Float64, BOOL Boolean, STRING Utf8.
//! An attribute form with no known type, or a BIGDECIMAL without a scale, is read as Utf8
//! (the exact text); a metric with no known type as Float64 (real servers' metric values
//! are numbers).

use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_cast::CastOptions;
use arrow_schema::{DataType as ArrowType, Field, Schema, SchemaRef};
use pushdata_core::wire::{CubeInstance, DataType, RawCell, parse_cube_data_type};
use serde_json::value::RawValue;

use crate::error::{Error, Result};

fn column_type(
    data_type: Option<&str>,
    precision: Option<u8>,
    scale: Option<i8>,
    unknown: ArrowType,
) -> ArrowType {
    match data_type.and_then(parse_cube_data_type) {
        None => unknown,
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
pub(crate) fn page_schema(page: &CubeInstance) -> SchemaRef {
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
                column_type(
                    f.data_type.as_deref(),
                    f.precision,
                    f.scale,
                    ArrowType::Utf8,
                ),
                true,
            ));
        }
    }
    for m in page.metrics() {
        fields.push(Field::new(
            &m.name,
            column_type(
                m.data_type.as_deref(),
                m.precision,
                m.scale,
                ArrowType::Float64,
            ),
            true,
        ));
    }
    Arc::new(Schema::new(fields))
}

/// Append a JSON token's value as text: strings unquoted, `null` as null, numbers and
/// booleans as written.
fn push_token(b: &mut StringBuilder, cell: &RawValue) -> serde_json::Result<()> {
    let t = cell.get().trim();
    if t == "null" {
        b.append_null();
    } else if t.starts_with('"') {
        let s: String = serde_json::from_str(t)?;
        b.append_value(s);
    } else {
        b.append_value(t);
    }
    Ok(())
}

/// One column of a page, as the text of its cells.
struct TextColumn {
    name: String,
    values: StringBuilder,
}

/// One page being decoded; `cube` names the dataset in errors.
struct PageDecoder<'a> {
    page: &'a CubeInstance,
    cube: &'a str,
    /// Rows of the page.
    rows: usize,
    /// Row of the instance the page starts at.
    offset: u64,
}

impl PageDecoder<'_> {
    fn table(&self) -> String {
        format!("cube {}", self.cube)
    }

    /// A malformed page, at `row` of the page.
    fn malformed(&self, column: &str, row: usize, message: String) -> Error {
        Error::Value {
            table: self.table(),
            column: column.to_string(),
            row: self.offset + row as u64,
            message,
            source: None,
        }
    }

    /// Append the text of `cell` (at `row` of the page) to `column`.
    fn push_cell(&self, column: &mut TextColumn, row: usize, cell: &RawValue) -> Result<()> {
        push_token(&mut column.values, cell).map_err(|source| Error::Cell {
            table: self.table(),
            column: column.name.clone(),
            row: self.offset + row as u64,
            source,
        })
    }

    /// Every attribute form's column (one column for an attribute without forms), named as
    /// in `schema`.
    fn attribute_columns(&self, schema: &SchemaRef, out: &mut Vec<TextColumn>) -> Result<()> {
        for (ai, a) in self.page.attributes().iter().enumerate() {
            for fi in 0..a.forms.len().max(1) {
                let name = schema
                    .fields()
                    .get(out.len())
                    .map(|f| f.name().clone())
                    .unwrap_or_default();
                let mut column = TextColumn {
                    name,
                    values: StringBuilder::with_capacity(self.rows, self.rows * 8),
                };
                for (row, hr) in self.page.data.headers.rows.iter().enumerate() {
                    let ei = hr.get(ai).copied().ok_or_else(|| {
                        let message =
                            format!("data.headers.rows has no element index for attribute {ai}");
                        self.malformed(&column.name, row, message)
                    })?;
                    let el = a.elements.get(ei as usize).ok_or_else(|| {
                        let message = format!(
                            "element index {ei} is out of range ({} elements)",
                            a.elements.len()
                        );
                        self.malformed(&column.name, row, message)
                    })?;
                    let cell = el.form_values.get(fi).ok_or_else(|| {
                        let message = format!("element {ei} has no value for form {fi}");
                        self.malformed(&column.name, row, message)
                    })?;
                    self.push_cell(&mut column, row, cell)?;
                }
                out.push(column);
            }
        }
        Ok(())
    }

    /// Every metric's column.
    fn metric_columns(&self, out: &mut Vec<TextColumn>) -> Result<()> {
        let raw = &self.page.data.metric_values.raw;
        for (mi, m) in self.page.metrics().iter().enumerate() {
            let mut column = TextColumn {
                name: m.name.clone(),
                values: StringBuilder::with_capacity(self.rows, self.rows * 8),
            };
            for row in 0..self.rows {
                let cell: Option<&RawCell> = raw.get(row).and_then(|r| r.get(mi));
                let cell = cell.ok_or_else(|| {
                    let message = format!("data.metricValues.raw has no value for metric {mi}");
                    self.malformed(&m.name, row, message)
                })?;
                self.push_cell(&mut column, row, cell)?;
            }
            out.push(column);
        }
        Ok(())
    }

    /// The text columns converted to `schema`'s types.
    fn typed_columns(&self, texts: Vec<TextColumn>, schema: &SchemaRef) -> Result<Vec<ArrayRef>> {
        if texts.len() != schema.fields().len() {
            return Err(Error::SchemaMismatch {
                table: self.table(),
                message: format!(
                    "page at offset {} has {} columns, the first page {}",
                    self.offset,
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
        for (mut text, f) in texts.into_iter().zip(schema.fields()) {
            let a: ArrayRef = Arc::new(text.values.finish());
            if f.data_type() == &ArrowType::Utf8 {
                cols.push(a);
                continue;
            }
            let c = arrow_cast::cast_with_options(&a, f.data_type(), &opts).map_err(|source| {
                Error::Cast {
                    table: self.table(),
                    column: text.name.clone(),
                    rows: self.offset..self.offset + self.rows as u64,
                    data_type: f.data_type().to_string(),
                    source,
                }
            })?;
            cols.push(c);
        }
        Ok(cols)
    }
}

/// Decode one page into a batch of `schema` (from [`page_schema`]). `cube` names the
/// dataset in errors.
pub(crate) fn page_to_batch(
    page: &CubeInstance,
    schema: &SchemaRef,
    cube: &str,
) -> Result<RecordBatch> {
    let decoder = PageDecoder {
        page,
        cube,
        rows: page.data.headers.rows.len(),
        offset: page.data.paging.offset,
    };
    let mut texts = Vec::with_capacity(schema.fields().len());
    decoder.attribute_columns(schema, &mut texts)?;
    decoder.metric_columns(&mut texts)?;
    let cols = decoder.typed_columns(texts, schema)?;
    RecordBatch::try_new_with_options(
        schema.clone(),
        cols,
        &RecordBatchOptions::new().with_row_count(Some(decoder.rows)),
    )
    .map_err(|source| Error::Arrow {
        table: decoder.table(),
        source,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use arrow_array::Array;
    use arrow_array::cast::AsArray;
    use arrow_array::types::Float64Type;

    use super::*;

    /// A page as a real server sends it: form types in its own names, metrics without a
    /// type, form values as text, a multi-form attribute.
    #[test]
    fn a_real_server_page() {
        let text = r#"{"id":"C","name":"n","instanceId":"I",
          "definition":{"grid":{"crossTab":false,"metricsPosition":{"axis":"columns","index":0},
            "rows":[{"name":"Region","id":"A","type":"attribute",
               "forms":[{"id":"F1","name":"ID","dataType":"Integer"},{"id":"F2","name":"DESC","dataType":"Char"}],
               "elements":[{"id":"h1;A","formValues":["1","North"]},{"id":"h2;A","formValues":["2","South"]}]}],
            "columns":[{"name":"Metrics","id":"00000000000000000000000000000000","type":"templateMetrics",
               "elements":[{"name":"Cost","id":"M","type":"metric"}]}]}},
          "data":{"paging":{"total":3,"current":3,"offset":0,"limit":10},
            "headers":{"rows":[[1],[0],[1]],"columns":[[0]]},
            "metricValues":{"raw":[[1.5],[null],[-2]]}}}"#;
        let page: CubeInstance = serde_json::from_str(text).unwrap();
        let schema = page_schema(&page);
        let names: Vec<_> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, ["Region@ID", "Region@DESC", "Cost"]);
        assert_eq!(schema.field(0).data_type(), &ArrowType::Int32);
        assert_eq!(schema.field(1).data_type(), &ArrowType::Utf8);
        assert_eq!(schema.field(2).data_type(), &ArrowType::Float64);
        let b = page_to_batch(&page, &schema, "C").unwrap();
        assert_eq!(b.column(1).as_string::<i32>().value(0), "South");
        let cost = b.column(2).as_primitive::<Float64Type>();
        assert_eq!(
            (cost.value(0), cost.is_null(1), cost.value(2)),
            (1.5, true, -2.0)
        );
    }

    #[test]
    fn a_bad_value_names_column_and_rows() {
        let text = r#"{"id":"C","name":"n","instanceId":"I",
          "definition":{"grid":{"rows":[],"columns":[{"name":"Metrics","id":"0","type":"templateMetrics",
               "elements":[{"name":"Units","id":"M","type":"metric","dataType":"INTEGER"}]}]}},
          "data":{"paging":{"total":1,"current":1,"offset":40,"limit":10},
            "headers":{"rows":[[]]},"metricValues":{"raw":[["many"]]}}}"#;
        let page: CubeInstance = serde_json::from_str(text).unwrap();
        let e = page_to_batch(&page, &page_schema(&page), "C")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("\"Units\"") && e.contains("40") && e.contains("Int32"),
            "{e}"
        );
    }
}
