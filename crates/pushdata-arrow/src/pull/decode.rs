//! A cube instance page (the JSON of a
//! [`CubeInstance`](pushdata_core::wire::CubeInstance), read by [`super::grid`]) to an
//! Arrow [`RecordBatch`].
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
//! text into their column ([`super::grid`]); a column with any other cell (a string, a
//! number with more digits than the type takes) is read as text and cast instead, which
//! also gives the error naming the column and rows. An attribute form's Utf8 column is
//! gathered row by row from its elements' text in the body (one copy); other types are
//! converted once per element, then taken for each row.

use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions, StringArray, UInt32Array};
use arrow_buffer::{Buffer, NullBufferBuilder, OffsetBuffer};
use arrow_cast::CastOptions;
use arrow_schema::{ArrowError, DataType as ArrowType, Field, Schema, SchemaRef};
use pushdata_core::wire::{DataType, parse_cube_data_type};

use super::grid::{Attribute, GridPage, Header, Metric};

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

/// The Arrow schema of an instance's pages (from any page's grid).
pub(crate) fn page_schema(header: &Header) -> SchemaRef {
    let mut fields = Vec::new();
    for a in &header.attributes {
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
    for m in &header.metrics {
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

/// A page read and decoded.
#[derive(Debug)]
pub(crate) struct DecodedPage {
    /// The schema of the batch: the one given, or the page's own.
    pub(crate) schema: SchemaRef,
    /// The instance id.
    pub(crate) instance_id: String,
    /// Rows of the whole instance.
    pub(crate) total: u64,
    /// The page's rows.
    pub(crate) batch: RecordBatch,
}

/// Read the cube instance page of JSON `body` into a batch of `schema` (a pull's schema,
/// from its first page), or of the page's own schema when `None`. `cube` names the
/// dataset in errors, `step` the page.
pub(crate) fn read_page(
    body: &[u8],
    schema: Option<&SchemaRef>,
    cube: &str,
    step: &str,
) -> Result<DecodedPage> {
    let mut page = super::grid::read(body, schema).map_err(|source| Error::CubePage {
        step: step.to_string(),
        source,
    })?;
    let paging = page.data.paging.ok_or_else(|| Error::CubePage {
        step: step.to_string(),
        source: super::grid::PageError::Missing {
            path: "data.paging",
        },
    })?;
    let metrics = std::mem::take(&mut page.data.metrics);
    let decoder = PageDecoder {
        page: &page,
        cube,
        rows: page.data.rows,
        offset: paging.offset,
    };
    let batch = decoder.batch(metrics)?;
    Ok(DecodedPage {
        total: paging.total,
        schema: page.schema.clone(),
        instance_id: page.instance_id.clone(),
        batch,
    })
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

    fn arrow(&self, source: ArrowError) -> Error {
        Error::Arrow {
            table: self.table(),
            source,
        }
    }

    /// The page as a batch of its schema.
    fn batch(&self, metrics: Vec<Metric>) -> Result<RecordBatch> {
        let schema = &self.page.schema;
        let mut cols = Vec::with_capacity(schema.fields().len());
        self.attribute_columns(schema, &mut cols)?;
        self.metric_columns(schema, metrics, &mut cols)?;
        if cols.len() != schema.fields().len() {
            return Err(Error::SchemaMismatch {
                table: self.table(),
                message: format!(
                    "page at offset {} has {} columns, the first page {}",
                    self.offset,
                    cols.len(),
                    schema.fields().len()
                ),
            });
        }
        RecordBatch::try_new_with_options(
            schema.clone(),
            cols,
            &RecordBatchOptions::new().with_row_count(Some(self.rows)),
        )
        .map_err(|source| self.arrow(source))
    }

    /// Every attribute form's column (one column for an attribute without forms), named as
    /// in `schema`, typed.
    fn attribute_columns(&self, schema: &SchemaRef, out: &mut Vec<ArrayRef>) -> Result<()> {
        let data = &self.page.data;
        if let Some((row, ai)) = data.short_header {
            let message = format!("data.headers.rows has no element index for attribute {ai}");
            return Err(self.malformed(&self.attribute_column(schema, ai), row, message));
        }
        for (ai, a) in self.page.header.attributes.iter().enumerate() {
            let indices = data.element_rows.get(ai).map_or(&[][..], Vec::as_slice);
            let n = a.elements();
            if let Some(row) = indices.iter().position(|&ei| ei as usize >= n) {
                let message = format!(
                    "element index {} is out of range ({n} elements)",
                    indices[row]
                );
                return Err(self.malformed(
                    &self.field(schema, out.len())?.name().clone(),
                    row,
                    message,
                ));
            }
            for fi in 0..a.forms.len().max(1) {
                let field = self.field(schema, out.len())?;
                let column = if field.data_type() == &ArrowType::Utf8 {
                    self.gathered(a, fi, indices, field.name())?
                } else {
                    let values = self.typed(
                        field.name(),
                        self.element_texts(a, fi, field.name())?,
                        field.data_type(),
                    )?;
                    arrow_select::take::take(&values, &UInt32Array::from(indices.to_vec()), None)
                        .map_err(|source| self.arrow(source))?
                };
                out.push(column);
            }
        }
        Ok(())
    }

    /// The name of attribute `ai`'s first column (for errors).
    fn attribute_column(&self, schema: &SchemaRef, ai: usize) -> String {
        let column: usize = self.page.header.attributes
            [..ai.min(self.page.header.attributes.len())]
            .iter()
            .map(|a| a.forms.len().max(1))
            .sum();
        schema
            .fields()
            .get(column)
            .map(|f| f.name().clone())
            .unwrap_or_default()
    }

    /// Form `fi` of element `ei` of `a`, or the error naming `column`.
    fn cell<'p>(
        &self,
        a: &'p Attribute,
        ei: usize,
        fi: usize,
        column: &str,
    ) -> Result<&'p super::grid::Cell> {
        a.cell(ei, fi).ok_or_else(|| {
            let message = format!(
                "element {ei} of attribute {:?} has no value for form {fi}",
                a.name
            );
            self.malformed(column, 0, message)
        })
    }

    /// Form `fi`'s text for each row (`indices`: the row's element), as a Utf8 column.
    fn gathered(
        &self,
        a: &Attribute,
        fi: usize,
        indices: &[u32],
        column: &str,
    ) -> Result<ArrayRef> {
        let mut texts = 0;
        for ei in 0..a.elements() {
            texts += self
                .page
                .text(self.cell(a, ei, fi, column)?)
                .map_or(0, <[u8]>::len);
        }
        let per_row = texts / a.elements().max(1) + 1;
        let reserve = per_row.saturating_mul(indices.len()).min(i32::MAX as usize);
        let mut values: Vec<u8> = Vec::with_capacity(reserve);
        let mut offsets: Vec<i32> = Vec::with_capacity(indices.len() + 1);
        let mut nulls = NullBufferBuilder::new(indices.len());
        offsets.push(0);
        for &ei in indices {
            match self.page.text(self.cell(a, ei as usize, fi, column)?) {
                Some(t) => {
                    values.extend_from_slice(t);
                    nulls.append_non_null();
                }
                None => nulls.append_null(),
            }
            let end = i32::try_from(values.len())
                .map_err(|_| self.arrow(ArrowError::OffsetOverflowError(values.len())))?;
            offsets.push(end);
        }
        let offsets = OffsetBuffer::new(offsets.into());
        // Checks the text is UTF-8 (the reader does not).
        let array = StringArray::try_new(offsets, Buffer::from_vec(values), nulls.finish())
            .map_err(|source| Error::Value {
                table: self.table(),
                column: column.to_string(),
                row: self.offset,
                message: "the page's values are not UTF-8".to_string(),
                source: Some(source),
            })?;
        Ok(Arc::new(array))
    }

    /// Form `fi`'s text of every element of `a`, in element order.
    fn element_texts(&self, a: &Attribute, fi: usize, column: &str) -> Result<ArrayRef> {
        let mut b = StringBuilder::with_capacity(a.elements(), a.elements() * 8);
        for ei in 0..a.elements() {
            match self.page.text(self.cell(a, ei, fi, column)?) {
                Some(t) => {
                    let t = std::str::from_utf8(t).map_err(|e| {
                        self.malformed(column, 0, format!("element {ei} is not UTF-8: {e}"))
                    })?;
                    b.append_value(t);
                }
                None => b.append_null(),
            }
        }
        Ok(Arc::new(b.finish()))
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

    /// Every metric's column, typed as in `schema`.
    fn metric_columns(
        &self,
        schema: &SchemaRef,
        values: Vec<Metric>,
        out: &mut Vec<ArrayRef>,
    ) -> Result<()> {
        let data = &self.page.data;
        let metrics = &self.page.header.metrics;
        if let Some((row, mi)) = data.short_metrics {
            let name = metrics.get(mi).map(|m| m.name.as_str()).unwrap_or_default();
            let message = format!("data.metricValues.raw has no value for metric {mi}");
            return Err(self.malformed(name, row, message));
        }
        if let Some(m) = metrics.first()
            && data.metric_rows != self.rows
        {
            let message = if data.metric_rows < self.rows {
                "data.metricValues.raw has no value for metric 0".to_string()
            } else {
                format!(
                    "data.metricValues.raw has {} rows, data.headers.rows {}",
                    data.metric_rows, self.rows
                )
            };
            return Err(self.malformed(&m.name, data.metric_rows.min(self.rows), message));
        }
        let mut values = values.into_iter();
        for m in metrics {
            let field = self.field(schema, out.len())?;
            let column: ArrayRef = match values.next() {
                None => arrow_array::new_empty_array(field.data_type()),
                Some(Metric::Int32(mut b)) => Arc::new(b.finish()),
                Some(Metric::Int64(mut b)) => Arc::new(b.finish()),
                Some(Metric::Float64(mut b)) => Arc::new(b.finish()),
                Some(Metric::Decimal(mut b, p, s)) => Arc::new(
                    b.finish()
                        .with_precision_and_scale(p, s)
                        .map_err(|source| self.arrow(source))?,
                ),
                Some(Metric::Text(mut b)) => {
                    self.typed(&m.name, Arc::new(b.finish()), field.data_type())?
                }
            };
            out.push(column);
        }
        Ok(())
    }

    /// A text column converted to `data_type`.
    fn typed(&self, column: &str, text: ArrayRef, data_type: &ArrowType) -> Result<ArrayRef> {
        if data_type == &ArrowType::Utf8 {
            return Ok(text);
        }
        let opts = CastOptions {
            safe: false,
            ..Default::default()
        };
        arrow_cast::cast_with_options(&text, data_type, &opts).map_err(|source| Error::Cast {
            table: self.table(),
            column: column.to_string(),
            rows: self.offset..self.offset + self.rows as u64,
            data_type: data_type.to_string(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use arrow_array::Array;
    use arrow_array::cast::AsArray;
    use arrow_array::types::Float64Type;

    use super::super::grid::parse_decimal;
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
        let page = read_page(text.as_bytes(), None, "C", "page").unwrap();
        let schema = page.schema;
        let names: Vec<_> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, ["Region@ID", "Region@DESC", "Cost"]);
        assert_eq!(schema.field(0).data_type(), &ArrowType::Int32);
        assert_eq!(schema.field(1).data_type(), &ArrowType::Utf8);
        assert_eq!(schema.field(2).data_type(), &ArrowType::Float64);
        let b = page.batch;
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
        let e = read_page(text.as_bytes(), None, "C", "page").unwrap_err();
        assert!(
            matches!(&e, Error::Cast { column, rows, data_type, .. }
                if column == "Units" && rows.start == 40 && data_type == "Int32"),
            "{e}"
        );
    }

    /// A page of attribute `Region` (one STRING form, elements `elements`), metric `Units`
    /// (INTEGER), rows `headers` and `raw`, at offset 40.
    fn region_page(elements: &str, headers: &str, raw: &str) -> Vec<u8> {
        format!(
            r#"{{"instanceId":"I","definition":{{"grid":{{"rows":[{{"name":"Region","id":"A",
              "forms":[{{"id":"F","name":"ID","dataType":"STRING"}}],"elements":[{elements}]}}],
              "columns":[{{"name":"Metrics","id":"0","type":"templateMetrics",
              "elements":[{{"name":"Units","id":"M","type":"metric","dataType":"INTEGER"}}]}}]}}}},
              "data":{{"paging":{{"total":99,"current":2,"offset":40,"limit":2}},
              "headers":{{"rows":{headers}}},"metricValues":{{"raw":{raw}}}}}}}"#
        )
        .into_bytes()
    }

    #[test]
    fn malformed_rows_name_their_column_and_row() {
        let elements = r#"{"formValues":["N"]},{"formValues":["S\u00fcd"]}"#;
        let ok = region_page(elements, "[[1],[0]]", "[[1],[2]]");
        let page = read_page(&ok, None, "C", "page").unwrap();
        let region = page.batch.column(0).as_string::<i32>();
        assert_eq!((region.value(0), region.value(1)), ("Süd", "N"));
        let value_at = |body: Vec<u8>| match read_page(&body, None, "C", "page").unwrap_err() {
            Error::Value { column, row, .. } => (column, row),
            e => panic!("{e}"),
        };
        let cases = [
            (region_page(elements, "[[1],[]]", "[[1],[2]]"), "Region", 41),
            (
                region_page(elements, "[[1],[2]]", "[[1],[2]]"),
                "Region",
                41,
            ),
            (region_page(elements, "[[1],[0]]", "[[1],[]]"), "Units", 41),
            (region_page(elements, "[[1],[0]]", "[[1]]"), "Units", 41),
        ];
        for (body, column, row) in cases {
            assert_eq!(value_at(body), (column.to_string(), row));
        }
        let mut latin1 = region_page(
            r#"{"formValues":["N"]},{"formValues":["S?d"]}"#,
            "[[1],[0]]",
            "[[1],[2]]",
        );
        let at = latin1.windows(3).position(|w| w == b"S?d").unwrap();
        latin1[at + 1] = 0xfc;
        assert_eq!(value_at(latin1), ("Region".to_string(), 40));
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
        let page = read_page(text.as_bytes(), None, "C", "page").unwrap();
        let (schema, batch) = (page.schema, page.batch);
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
            assert_eq!(parse_decimal(t.as_bytes(), p, s), None, "{t}");
        }
        assert_eq!(parse_decimal(b"-0012.5", 5, 2), Some(-1250));
        let types = [r#""dataType":"DOUBLE""#, r#""dataType":"INTEGER""#];
        let (batch, cast) = both_ways(&types, r#"[["2.5", 4], [1, "5"]]"#);
        assert_eq!(batch.column(0).as_ref(), cast[0].as_ref());
        assert_eq!(batch.column(1).as_ref(), cast[1].as_ref());
    }
}
