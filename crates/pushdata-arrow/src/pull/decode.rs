//! A cube instance page ([`GridPage`], the JSON of a
//! [`CubeInstance`](pushdata_core::wire::CubeInstance)) to an Arrow [`RecordBatch`].
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
//!
//! Metric values of integer, float and decimal columns are parsed straight from the page's
//! text into their column; a column with any other cell (a string, a number with more
//! digits than the type takes) is read as text and cast instead, which also gives the
//! error naming the column and rows.

use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::{
    ArrayRef, Decimal128Array, Float64Array, Int32Array, Int64Array, RecordBatch,
    RecordBatchOptions, UInt32Array,
};
use arrow_cast::CastOptions;
use arrow_schema::{DataType as ArrowType, Field, Schema, SchemaRef};
use pushdata_core::wire::{DataType, parse_cube_data_type};
use serde_json::value::RawValue;

use super::grid::GridPage;

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
pub(crate) fn page_schema(page: &GridPage<'_>) -> SchemaRef {
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
    page: &'a GridPage<'a>,
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
        let rows = &self.page.data.headers.rows;
        for row in 0..rows.len() {
            let hr = rows.row(row);
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
            if let Some(values) = self.parsed(mi, field.data_type()) {
                out.push(values);
                continue;
            }
            let mut column = TextColumn {
                name: m.name.clone(),
                values: StringBuilder::with_capacity(self.rows, self.rows * 8),
            };
            for row in 0..self.rows {
                let cell = raw.row(row).get(mi);
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

    /// Metric `mi`'s values parsed straight into a column of `data_type`, when the type is
    /// one with a fast path and every cell is `null` or a number it takes as it is; `None`
    /// otherwise (the caller reads the column as text, which names a bad value).
    fn parsed(&self, mi: usize, data_type: &ArrowType) -> Option<ArrayRef> {
        let raw = &self.page.data.metric_values.raw;
        let cells = (0..self.rows).map(|row| {
            let t = raw.row(row).get(mi)?.get();
            Some((t != "null").then_some(t))
        });
        fn each<'t, T>(
            cells: impl Iterator<Item = Option<Option<&'t str>>>,
            parse: impl Fn(&str) -> Option<T>,
        ) -> Option<Vec<Option<T>>> {
            cells
                .map(|c| c?.map(&parse).map_or(Some(None), |v| v.map(Some)))
                .collect()
        }
        Some(match data_type {
            ArrowType::Int32 => Arc::new(Int32Array::from(each(cells, |t| t.parse().ok())?)),
            ArrowType::Int64 => Arc::new(Int64Array::from(each(cells, |t| t.parse().ok())?)),
            ArrowType::Float64 => Arc::new(Float64Array::from(each(cells, |t| {
                t.starts_with(|c: char| c == '-' || c.is_ascii_digit())
                    .then(|| t.parse().ok())?
            })?)),
            ArrowType::Decimal128(p, s) => Arc::new(
                Decimal128Array::from(each(cells, |t| parse_decimal(t, *p, *s))?)
                    .with_precision_and_scale(*p, *s)
                    .ok()?,
            ),
            _ => return None,
        })
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

/// A JSON number `t` (`-12.5`) as a decimal of `precision` and `scale`: `None` unless it
/// has no exponent, at most `scale` digits after the point and at most `precision` digits.
fn parse_decimal(t: &str, precision: u8, scale: i8) -> Option<i128> {
    let scale = usize::try_from(scale).ok()?;
    let (negative, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let (int, frac) = match digits.split_once('.') {
        Some((_, "")) => return None,
        Some(parts) => parts,
        None => (digits, ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || frac.len() > scale || !all_digits(int) || !all_digits(frac) {
        return None;
    }
    if int.trim_start_matches('0').len() + scale > usize::from(precision) {
        return None;
    }
    let padding = std::iter::repeat_n(b'0', scale - frac.len());
    let v = int
        .bytes()
        .chain(frac.bytes())
        .chain(padding)
        .try_fold(0i128, |v, b| {
            v.checked_mul(10)?.checked_add(i128::from(b - b'0'))
        })?;
    Some(if negative { -v } else { v })
}

/// Decode one page into a batch of `schema` (from [`page_schema`]). `cube` names the
/// dataset in errors.
pub(crate) fn page_to_batch(
    page: &GridPage<'_>,
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
        let page: GridPage<'_> = serde_json::from_str(text).unwrap();
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
        let page: GridPage<'_> = serde_json::from_str(text).unwrap();
        let e = page_to_batch(&page, &page_schema(&page), "C")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("\"Units\"") && e.contains("40") && e.contains("Int32"),
            "{e}"
        );
    }

    /// The values of metrics of `types` on rows `raw` (a JSON array of rows), as
    /// [`page_to_batch`] reads them and as the text cast reads their text.
    fn both_ways(types: &[&str], raw: &str) -> (RecordBatch, Vec<ArrayRef>) {
        let metrics: Vec<String> = types
            .iter()
            .enumerate()
            .map(|(i, t)| format!(r#"{{"name":"m{i}","id":"M{i}","type":"metric",{t}}}"#))
            .collect();
        let rows: Vec<Vec<serde_json::Value>> = serde_json::from_str(raw).unwrap();
        let text = format!(
            r#"{{"id":"C","name":"n","instanceId":"I","definition":{{"grid":{{"rows":[],
              "columns":[{{"name":"Metrics","id":"0","type":"templateMetrics","elements":[{}]}}]}}}},
              "data":{{"paging":{{"total":{n},"current":{n},"offset":0,"limit":10}},
              "headers":{{"rows":[{}]}},"metricValues":{{"raw":{raw}}}}}}}"#,
            metrics.join(","),
            vec!["[]"; rows.len()].join(","),
            n = rows.len()
        );
        let page: GridPage<'_> = serde_json::from_str(&text).unwrap();
        let schema = page_schema(&page);
        let batch = page_to_batch(&page, &schema, "C").unwrap();
        let opts = CastOptions {
            safe: false,
            ..Default::default()
        };
        let cast = (0..types.len())
            .map(|mi| {
                let texts: Vec<Option<String>> = rows
                    .iter()
                    .map(|r| match &r[mi] {
                        serde_json::Value::Null => None,
                        serde_json::Value::String(t) => Some(t.clone()),
                        v => Some(v.to_string()),
                    })
                    .collect();
                let a: ArrayRef = Arc::new(arrow_array::StringArray::from(texts));
                arrow_cast::cast_with_options(&a, schema.field(mi).data_type(), &opts).unwrap()
            })
            .collect();
        (batch, cast)
    }

    #[test]
    fn metric_numbers_parse_as_their_text_casts() {
        let types = [
            r#""dataType":"INTEGER""#,
            r#""dataType":"BIGINTEGER""#,
            r#""dataType":"DOUBLE""#,
            r#""dataType":"BIGDECIMAL","precision":12,"scale":3"#,
        ];
        let raw = r#"[[1, 9007199254740993, 1.5, 12.5], [null, -2, -0.0, -0.001],
                      [2147483647, 0, 1e300, 123456789.123], [-7, null, 0.1, null]]"#;
        let (batch, cast) = both_ways(&types, raw);
        for (mi, want) in cast.iter().enumerate() {
            assert_eq!(batch.column(mi).as_ref(), want.as_ref(), "metric {mi}");
        }
        let dec = batch
            .column(3)
            .as_primitive::<arrow_array::types::Decimal128Type>();
        assert_eq!((dec.value(0), dec.value(1)), (12_500, -1));
    }

    #[test]
    fn numbers_the_fast_path_does_not_take_go_through_the_cast() {
        for (t, p, s) in [
            ("1.2345", 12, 3),
            ("1e5", 12, 3),
            ("1.", 12, 3),
            ("12345", 6, 2),
        ] {
            assert_eq!(parse_decimal(t, p, s), None, "{t}");
        }
        assert_eq!(parse_decimal("-0012.5", 5, 2), Some(-1250));
        let types = [r#""dataType":"DOUBLE""#, r#""dataType":"INTEGER""#];
        let (batch, cast) = both_ways(&types, r#"[["2.5", 4], [1, "5"]]"#);
        assert_eq!(batch.column(0).as_ref(), cast[0].as_ref());
        assert_eq!(batch.column(1).as_ref(), cast[1].as_ref());
    }
}
