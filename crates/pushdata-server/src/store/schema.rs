//! The type of every stored column: the one place that decides which Arrow type a column of
//! a given API type is stored as, and read back as.
//!
//! - Every API type has one Arrow type (`pushdata_core::arrow`), except BIGDECIMAL.
//! - A BIGDECIMAL column is **stored** with the digits its values need: the largest scale of
//!   everything merged into it, and the integer digits of the widest value; 256 bits past 38
//!   digits. So decimals of up to 18 digits are 64-bit integers in Parquet.
//! - It is **read back** as `Decimal128(38, scale)` (or the stored Decimal256): readers see
//!   one precision whatever the values needed.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Decimal128Type;
use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_cast::CastOptions;
use arrow_schema::{DataType as ArrowType, Field, Schema, SchemaRef};
use pushdata_core::arrow::{arrow_type, arrow_type_with_decimal, decimal_precision_scale};
use pushdata_core::wire::DataType;

use super::catalog::TableDef;
use super::error::{Result, StoreError};

/// The schema a table's data is stored with, given the schemas of everything being merged
/// (decimal columns take the largest scale seen, and 256 bits if any input needs it).
pub(crate) fn stored_schema_for(table: &TableDef, inputs: &[SchemaRef]) -> SchemaRef {
    let fields = table
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let t = if c.data_type == DataType::BigDecimal {
                common_decimal(
                    inputs
                        .iter()
                        .filter_map(|s| s.fields().get(i).map(|f| f.data_type())),
                )
                // No input has values (an empty upload): one digit, so that the digits
                // values need later are not inflated by a width nothing needed.
                .unwrap_or(ArrowType::Decimal128(1, 0))
            } else {
                arrow_type(c.data_type)
            };
            Field::new(&c.name, t, true)
        })
        .collect::<Vec<_>>();
    Arc::new(Schema::new(fields))
}

/// The schema a table version made of files with `schemas` is read with: the first file's
/// columns, a decimal column at the one type the values of every file fit (`None`: no
/// files).
pub(crate) fn version_schema(schemas: &[SchemaRef]) -> Option<SchemaRef> {
    let first = schemas.first()?;
    let fields = first
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let t = match f.data_type() {
                ArrowType::Decimal128(..) | ArrowType::Decimal256(..) => common_decimal(
                    schemas
                        .iter()
                        .filter_map(|s| s.fields().get(i).map(|f| f.data_type())),
                )
                .unwrap_or_else(|| f.data_type().clone()),
                t => t.clone(),
            };
            Field::new(f.name(), t, true)
        })
        .collect::<Vec<_>>();
    Some(Arc::new(Schema::new(fields)))
}

/// The one decimal type values of all `types` fit (`None` when none is a decimal): the
/// largest scale, and the integer digits the widest needs; 256 bits past 38 digits.
pub(crate) fn common_decimal<'t>(types: impl Iterator<Item = &'t ArrowType>) -> Option<ArrowType> {
    let mut scale = 0i8;
    let mut int_digits = 0i16;
    let mut wide = false;
    let mut any = false;
    for t in types {
        match t {
            ArrowType::Decimal128(p, s) => {
                any = true;
                scale = scale.max(*s);
                int_digits = int_digits.max(i16::from(*p) - i16::from(*s));
            }
            ArrowType::Decimal256(_, s) => {
                any = true;
                wide = true;
                scale = scale.max(*s);
            }
            _ => {}
        }
    }
    if !any {
        return None;
    }
    let precision = int_digits + i16::from(scale.max(0));
    Some(if wide || scale > 38 || precision > 38 {
        ArrowType::Decimal256(76, scale)
    } else {
        let p = u8::try_from(precision.max(1)).unwrap_or(38);
        ArrowType::Decimal128(p.max(scale.max(0) as u8).clamp(1, 38), scale)
    })
}

/// The Arrow type readers see for a column of API type `data_type` whose stored Arrow type
/// is `stored` (`None`: never published).
pub(crate) fn read_type(data_type: DataType, stored: Option<&ArrowType>) -> ArrowType {
    if data_type != DataType::BigDecimal {
        return arrow_type(data_type);
    }
    let (p, s) = stored
        .and_then(decimal_precision_scale)
        .map(|(p, s)| (if p <= 38 { 38 } else { p }, s))
        .unwrap_or((38, 0));
    arrow_type_with_decimal(data_type, p, s)
}

/// Cast a batch's columns to `schema` (decimal rescaling; other types already match).
pub(crate) fn conform(b: RecordBatch, schema: &SchemaRef, table: &str) -> Result<RecordBatch> {
    if b.num_columns() != schema.fields().len() {
        return Err(StoreError::Shape {
            table: table.to_string(),
            found: b.num_columns(),
            expected: schema.fields().len(),
        });
    }
    let opts = CastOptions {
        safe: false,
        ..Default::default()
    };
    let mut cols = Vec::with_capacity(b.num_columns());
    for (i, f) in schema.fields().iter().enumerate() {
        let c = b.column(i);
        if c.data_type() == f.data_type() {
            cols.push(c.clone());
        } else if let Some(relabelled) = relabel_decimal(c, f.data_type()) {
            cols.push(relabelled);
        } else {
            let cast =
                arrow_cast::cast_with_options(c, f.data_type(), &opts).map_err(|source| {
                    StoreError::DoesNotFit {
                        table: table.to_string(),
                        column: f.name().clone(),
                        data_type: f.data_type().clone(),
                        source,
                    }
                })?;
            cols.push(cast);
        }
    }
    let opts = RecordBatchOptions::new().with_row_count(Some(b.num_rows()));
    RecordBatch::try_new_with_options(schema.clone(), cols, &opts)
        .map_err(StoreError::arrow("conforming a batch"))
}

/// `column` relabelled as `target` without a copy, when both are Decimal128 of one scale
/// and `target` has at least the column's precision (every value fits as it is).
pub(crate) fn relabel_decimal(column: &ArrayRef, target: &ArrowType) -> Option<ArrayRef> {
    match (column.data_type(), target) {
        (ArrowType::Decimal128(p, s), ArrowType::Decimal128(tp, ts)) if s == ts && tp >= p => {
            column
                .as_primitive::<Decimal128Type>()
                .clone()
                .with_precision_and_scale(*tp, *ts)
                .ok()
                .map(|a| Arc::new(a) as ArrayRef)
        }
        _ => None,
    }
}

/// A schema with every Decimal128 at precision 38, the precision readers see: files keep
/// the digits the values need (decimals of up to 18 digits are 64-bit integers in Parquet).
pub(crate) fn widen_schema(schema: &Schema) -> Schema {
    Schema::new_with_metadata(
        schema
            .fields()
            .iter()
            .map(|f| match f.data_type() {
                ArrowType::Decimal128(_, s) => f
                    .as_ref()
                    .clone()
                    .with_data_type(ArrowType::Decimal128(38, *s)),
                _ => f.as_ref().clone(),
            })
            .collect::<Vec<_>>(),
        schema.metadata().clone(),
    )
}

/// `batch` with its Decimal128 columns at precision 38 (no copy: the values fit).
pub(crate) fn widen_decimals(batch: RecordBatch, place: &str) -> Result<RecordBatch> {
    let schema = Arc::new(widen_schema(batch.schema_ref()));
    if schema.as_ref() == batch.schema_ref().as_ref() {
        return Ok(batch);
    }
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(c, f)| relabel_decimal(c, f.data_type()).unwrap_or_else(|| c.clone()))
        .collect();
    RecordBatch::try_new(schema, columns).map_err(StoreError::arrow(format!("reading {place}")))
}
