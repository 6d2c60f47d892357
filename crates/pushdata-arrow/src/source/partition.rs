//! Hive-style partition folders (`year=2024/month=05/`) as columns, typed as a pyarrow
//! dataset types them.
//!
//! pyarrow's `HivePartitioning` discovery (without `infer_dictionary`) types a key
//! `int32` when every value of it parses as a 32-bit integer, else `string`. Values are
//! URI-decoded (pyarrow's default `segment_encoding="uri"`), and
//! `__HIVE_DEFAULT_PARTITION__` is a null.

use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, Int32Array, StringArray, new_null_array};
use arrow_schema::{DataType, Field};

/// The folder name Hive (and Spark) write for a null partition value.
const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// The `key=value` folders of `relative` (a file's path below the input's root), in
/// order, values URI-decoded; `None` for a null value.
pub(crate) fn parse(relative: &Path) -> Vec<(String, Option<String>)> {
    let Some(dirs) = relative.parent() else {
        return Vec::new();
    };
    dirs.components()
        .filter_map(|c| {
            let s = c.as_os_str().to_str()?;
            let (key, value) = s.split_once('=')?;
            if key.is_empty() {
                return None;
            }
            let value = percent_encoding::percent_decode_str(value)
                .decode_utf8_lossy()
                .into_owned();
            Some((key.to_string(), (value != NULL_PARTITION).then_some(value)))
        })
        .collect()
}

/// A partition key's type over all its values: `Int32` when every non-null one parses as
/// an `i32`, else `Utf8`.
pub(crate) fn infer_type<'a>(values: impl IntoIterator<Item = Option<&'a str>>) -> DataType {
    let all_int = values
        .into_iter()
        .flatten()
        .all(|v| v.trim().parse::<i32>().is_ok());
    if all_int {
        DataType::Int32
    } else {
        DataType::Utf8
    }
}

/// The partition column `field` for `rows` rows, all `value`.
pub(crate) fn column(field: &Field, value: Option<&str>, rows: usize) -> ArrayRef {
    match (value, field.data_type()) {
        (None, t) => new_null_array(t, rows),
        (Some(v), DataType::Int32) => match v.trim().parse::<i32>() {
            Ok(n) => Arc::new(Int32Array::from_value(n, rows)),
            // Typed Int32 only when every value parses: unreachable, but stay total.
            Err(_) => new_null_array(&DataType::Int32, rows),
        },
        (Some(v), _) => Arc::new(StringArray::from_iter_values(std::iter::repeat_n(v, rows))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Array;

    #[test]
    fn folders_become_key_values() {
        let p = parse(Path::new(
            "year=2024/month=05/region=north%20east/part-0.parquet",
        ));
        assert_eq!(
            p,
            [
                ("year".to_string(), Some("2024".to_string())),
                ("month".to_string(), Some("05".to_string())),
                ("region".to_string(), Some("north east".to_string())),
            ]
        );
        assert!(parse(Path::new("part-0.parquet")).is_empty());
        assert!(parse(Path::new("plain/=x/part-0.parquet")).is_empty());
        assert_eq!(
            parse(Path::new("k=__HIVE_DEFAULT_PARTITION__/a.csv")),
            [("k".to_string(), None)]
        );
    }

    #[test]
    fn integers_are_int32_else_string() {
        assert_eq!(
            infer_type([Some("2024"), Some("05"), None]),
            DataType::Int32
        );
        assert_eq!(infer_type([Some("1"), Some("x")]), DataType::Utf8);
        // Beyond i32: pyarrow falls back to string too.
        assert_eq!(infer_type([Some("3000000000")]), DataType::Utf8);
    }

    #[test]
    fn columns_repeat_the_value() {
        let f = Field::new("month", DataType::Int32, true);
        let a = column(&f, Some("05"), 3);
        let a = a.as_any().downcast_ref::<Int32Array>();
        assert_eq!(a.map(|a| a.values().to_vec()), Some(vec![5, 5, 5]));
        let f = Field::new("k", DataType::Utf8, true);
        assert_eq!(column(&f, None, 2).null_count(), 2);
    }
}
