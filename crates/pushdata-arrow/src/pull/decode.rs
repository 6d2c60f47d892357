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
use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions, UInt32Array};
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
    } else if let Some(inner) = t
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .filter(|r| !r.contains(['\\', '"']))
    {
        // No escape: the text between the quotes is the value.
        b.append_value(inner);
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
    /// in `schema`, typed: each element's value is decoded once, then taken for each row.
    fn attribute_columns(&self, schema: &SchemaRef, out: &mut Vec<ArrayRef>) -> Result<()> {
        for (ai, a) in self.page.attributes().iter().enumerate() {
            let indices = self.element_indices(schema, out.len(), ai, a.elements.len())?;
            for fi in 0..a.forms.len().max(1) {
                let field = self.field(schema, out.len())?;
                let mut column = TextColumn {
                    name: field.name().clone(),
                    values: StringBuilder::with_capacity(a.elements.len(), a.elements.len() * 8),
                };
                for (ei, el) in a.elements.iter().enumerate() {
                    let cell = el.form_values.get(fi).ok_or_else(|| {
                        let message = format!(
                            "element {ei} of attribute {:?} has no value for form {fi}",
                            a.name
                        );
                        self.malformed(&column.name, 0, message)
                    })?;
                    self.push_cell(&mut column, 0, cell)?;
                }
                let values = self.typed(column, field.data_type())?;
                let taken =
                    arrow_select::take::take(&values, &indices, None).map_err(|source| {
                        Error::Arrow {
                            table: self.table(),
                            source,
                        }
                    })?;
                out.push(taken);
            }
        }
        Ok(())
    }

    /// Field `i` of `schema` (a page with more columns than the first page is an error).
    fn field<'s>(&self, schema: &'s SchemaRef, i: usize) -> Result<&'s Field> {
        schema
            .fields()
            .get(i)
            .map(|f| f.as_ref())
            .ok_or_else(|| Error::SchemaMismatch {
                table: self.table(),
                message: format!(
                    "page at offset {} has more columns than the first page's {}",
                    self.offset,
                    schema.fields().len()
                ),
            })
    }

    /// The element index of attribute `ai` (of `n_elements` elements) on every row; the
    /// attribute's first column is column `column` of `schema` (for errors).
    fn element_indices(
        &self,
        schema: &SchemaRef,
        column: usize,
        ai: usize,
        n_elements: usize,
    ) -> Result<UInt32Array> {
        let name = || {
            schema
                .fields()
                .get(column)
                .map(|f| f.name().clone())
                .unwrap_or_default()
        };
        let mut indices = Vec::with_capacity(self.rows);
        for (row, hr) in self.page.data.headers.rows.iter().enumerate() {
            let ei = hr.get(ai).copied().ok_or_else(|| {
                let message = format!("data.headers.rows has no element index for attribute {ai}");
                self.malformed(&name(), row, message)
            })?;
            if ei as usize >= n_elements {
                let message = format!("element index {ei} is out of range ({n_elements} elements)");
                return Err(self.malformed(&name(), row, message));
            }
            indices.push(ei);
        }
        Ok(UInt32Array::from(indices))
    }

    /// Every metric's column, typed as in `schema`.
    fn metric_columns(&self, schema: &SchemaRef, out: &mut Vec<ArrayRef>) -> Result<()> {
        let raw = &self.page.data.metric_values.raw;
        for (mi, m) in self.page.metrics().iter().enumerate() {
            let field = self.field(schema, out.len())?;
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
            out.push(self.typed(column, field.data_type())?);
        }
        Ok(())
    }

    /// A text column converted to `data_type`.
    fn typed(&self, text: TextColumn, data_type: &ArrowType) -> Result<ArrayRef> {
        let TextColumn { name, mut values } = text;
        let a: ArrayRef = Arc::new(values.finish());
        if data_type == &ArrowType::Utf8 {
            return Ok(a);
        }
        let opts = CastOptions {
            safe: false,
            ..Default::default()
        };
        arrow_cast::cast_with_options(&a, data_type, &opts).map_err(|source| Error::Cast {
            table: self.table(),
            column: name,
            rows: self.offset..self.offset + self.rows as u64,
            data_type: data_type.to_string(),
            source,
        })
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
    let mut cols = Vec::with_capacity(schema.fields().len());
    decoder.attribute_columns(schema, &mut cols)?;
    decoder.metric_columns(schema, &mut cols)?;
    if cols.len() != schema.fields().len() {
        return Err(Error::SchemaMismatch {
            table: decoder.table(),
            message: format!(
                "page at offset {} has {} columns, the first page {}",
                decoder.offset,
                cols.len(),
                schema.fields().len()
            ),
        });
    }
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
