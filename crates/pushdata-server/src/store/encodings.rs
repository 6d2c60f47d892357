//! How the columns of a table file are encoded and compressed: by physical type, and for
//! string columns by what the first rows written hold.
//!
//! Chosen for the CPU time of staging and publishing with files about as small as snappy
//! makes them (`benches/table_write.rs` writes lineitem through the store's sink and
//! prints both; BENCHMARKS.md has the figures):
//!
//! - no statistics (a comparison per value; this server reads whole files), and no
//!   dictionary unless chosen below (hashing every value of a column of distinct values
//!   was once the largest single cost of a publish);
//! - 32- and 64-bit Parquet integers (integers, dates, times, timestamps, decimals of up
//!   to 18 digits): delta bit-packed, not compressed further (smaller than snappy makes
//!   them, for a fraction of its time);
//! - strings with few distinct values (at most one in [`DICTIONARY_RATIO`] of the first
//!   batch's values) of [`DICTIONARY_MIN_BYTES`] or more on average: a dictionary, whose
//!   indices are a few bits a value (lineitem's ship modes and instructions: 6 to 9 times
//!   smaller than plain and snappy, and cheaper to write). Should the dictionary outgrow
//!   its page later in the file, Parquet falls back to plain pages, which are
//!   snappy-compressed as other strings are;
//! - strings of [`LONG_STRING_BYTES`] or more on average, and strings of few distinct
//!   values shorter than [`DICTIONARY_MIN_BYTES`] (one-letter flags, for which hashing
//!   each value costs more than compressing it): DELTA_LENGTH_BYTE_ARRAY (the lengths delta
//!   bit-packed apart from the bytes), snappy-compressed: the text alone compresses better
//!   and faster than with a length before every value;
//! - other strings, floats and booleans: plain, snappy-compressed (lz4_flex's LZ4_RAW was
//!   slower and larger here; uncompressed strings double a lineitem file).

use std::collections::HashSet;

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, SchemaRef};
use parquet::arrow::ArrowSchemaConverter;
use parquet::basic::{Compression, Encoding, Type as PhysicalType};
use parquet::errors::ParquetError;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

/// Values of a string column's first batch looked at to choose its encoding.
const SAMPLE: usize = 4096;
/// Values needed in the sample before a dictionary is chosen.
const DICTIONARY_MIN_SAMPLE: usize = 64;
/// A string column gets a dictionary when its sample has at most one distinct value in
/// this many.
const DICTIONARY_RATIO: usize = 8;
/// Bytes a string column's sampled values average at least for a dictionary.
const DICTIONARY_MIN_BYTES: usize = 2;
/// A string column whose sampled values average at least this many bytes is written with
/// DELTA_LENGTH_BYTE_ARRAY.
const LONG_STRING_BYTES: usize = 16;

/// How a string column is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strings {
    /// Few distinct values: a dictionary.
    Dictionary,
    /// Long values, or few distinct very short ones: their lengths apart from their bytes.
    Lengths,
    /// Plain.
    Plain,
}

/// The writer properties of a table file of `schema` whose first rows are `first` (`None`
/// when it has none).
pub(super) fn table_file_properties(
    schema: &SchemaRef,
    first: Option<&RecordBatch>,
) -> Result<WriterProperties, ParquetError> {
    let parquet = ArrowSchemaConverter::new().convert(schema)?;
    let mut props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_dictionary_enabled(false)
        .set_statistics_enabled(EnabledStatistics::None);
    for (leaf, column) in parquet.columns().iter().enumerate() {
        let path = column.path().clone();
        match column.physical_type() {
            PhysicalType::INT32 | PhysicalType::INT64 => {
                props = props
                    .set_column_encoding(path.clone(), Encoding::DELTA_BINARY_PACKED)
                    .set_column_compression(path, Compression::UNCOMPRESSED);
            }
            PhysicalType::BYTE_ARRAY => {
                let root = parquet.get_column_root_idx(leaf);
                let kind = first
                    .and_then(|b| b.columns().get(root))
                    .map_or(Strings::Plain, |c| strings(c.as_ref()));
                props = with_strings(props, path, kind);
            }
            _ => {}
        }
    }
    Ok(props.build())
}

fn with_strings(
    props: parquet::file::properties::WriterPropertiesBuilder,
    path: ColumnPath,
    kind: Strings,
) -> parquet::file::properties::WriterPropertiesBuilder {
    match kind {
        Strings::Dictionary => props.set_column_dictionary_enabled(path, true),
        Strings::Lengths => props.set_column_encoding(path, Encoding::DELTA_LENGTH_BYTE_ARRAY),
        Strings::Plain => props,
    }
}

/// How a string column whose first values are those of `array` is written (plain for
/// anything but a Utf8 array).
fn strings(array: &dyn Array) -> Strings {
    if array.data_type() != &DataType::Utf8 {
        return Strings::Plain;
    }
    let array = array.as_string::<i32>();
    let mut distinct = HashSet::with_capacity_and_hasher(SAMPLE, ahash::RandomState::new());
    let mut values = 0;
    let mut bytes = 0;
    for v in array.iter().flatten().take(SAMPLE) {
        values += 1;
        bytes += v.len();
        distinct.insert(v);
    }
    let few = values >= DICTIONARY_MIN_SAMPLE && distinct.len() * DICTIONARY_RATIO <= values;
    if few && bytes >= values * DICTIONARY_MIN_BYTES {
        Strings::Dictionary
    } else if few || (values > 0 && bytes >= values * LONG_STRING_BYTES) {
        Strings::Lengths
    } else {
        Strings::Plain
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;

    use arrow_array::StringArray;
    use arrow_schema::{Field, Schema};

    use super::*;

    fn column(values: impl Iterator<Item = String>) -> StringArray {
        StringArray::from_iter_values(values)
    }

    #[test]
    fn few_distinct_values_get_a_dictionary_long_and_one_letter_ones_their_lengths_apart() {
        let modes = column((0..1000).map(|i| ["AIR", "MAIL", "SHIP"][i % 3].to_string()));
        assert_eq!(strings(&modes), Strings::Dictionary);
        let flags = column((0..1000).map(|i| ["A", "N", "R"][i % 3].to_string()));
        assert_eq!(strings(&flags), Strings::Lengths);
        let comments = column((0..1000).map(|i| format!("a comment of some length, {i}")));
        assert_eq!(strings(&comments), Strings::Lengths);
        let ids = column((0..1000).map(|i| format!("id{i}")));
        assert_eq!(strings(&ids), Strings::Plain);
        // Too few values to tell: plain.
        let few = column((0..10).map(|_| "x".to_string()));
        assert_eq!(strings(&few), Strings::Plain);
        let nulls = StringArray::from(vec![None::<&str>; 100]);
        assert_eq!(strings(&nulls), Strings::Plain);
    }

    #[test]
    fn the_properties_follow_the_first_batch() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("flag", DataType::Utf8, true),
            Field::new("text", DataType::Utf8, true),
            Field::new("n", DataType::Int64, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(column((0..100).map(|i| ["AB", "CD"][i % 2].to_string()))),
                Arc::new(column((0..100).map(|i| format!("{i} and some more text")))),
                Arc::new(arrow_array::Int64Array::from_iter_values(0..100)),
            ],
        )
        .unwrap();
        let props = table_file_properties(&schema, Some(&batch)).unwrap();
        let path = |n: &str| ColumnPath::from(n);
        assert!(props.dictionary_enabled(&path("flag")));
        assert!(!props.dictionary_enabled(&path("text")));
        assert_eq!(
            props.encoding(&path("text")),
            Some(Encoding::DELTA_LENGTH_BYTE_ARRAY)
        );
        assert_eq!(
            props.encoding(&path("n")),
            Some(Encoding::DELTA_BINARY_PACKED)
        );
        assert_eq!(props.compression(&path("n")), Compression::UNCOMPRESSED);
        assert_eq!(props.compression(&path("text")), Compression::SNAPPY);
        // Without rows: plain strings.
        let props = table_file_properties(&schema, None).unwrap();
        assert!(!props.dictionary_enabled(&path("flag")));
        assert_eq!(props.encoding(&path("text")), None);
    }
}
