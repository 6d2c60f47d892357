//! What the fuzz targets share: the fixed table model (every column type), and the checks
//! a decoded chunk must pass.

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{Array, RecordBatch};
use pushdata_core::wire::{ColumnHeader, DataType, Orientation};
use pushdata_server::fuzzing;

/// A table with a column of every data type.
pub fn all_types() -> Vec<ColumnHeader> {
    [
        ("Str", DataType::String),
        ("Int", DataType::Integer),
        ("Big", DataType::BigInteger),
        ("Flag", DataType::Bool),
        ("Dbl", DataType::Double),
        ("Dec", DataType::BigDecimal),
        ("Day", DataType::Date),
        ("Tod", DataType::Time),
        ("At", DataType::DateTime),
    ]
    .into_iter()
    .map(|(n, t)| ColumnHeader::new(n, t))
    .collect()
}

/// The `columnHeaders` a chunk gives, chosen by `pick`: all columns in table order
/// (`None`), reversed, a subset, or names in another case.
pub fn header_names(pick: u8) -> Option<Vec<String>> {
    let names: Vec<String> = all_types().into_iter().map(|c| c.name).collect();
    match pick % 4 {
        0 => None,
        1 => Some(names.into_iter().rev().collect()),
        2 => Some(names.into_iter().step_by(2).collect()),
        _ => Some(names.into_iter().map(|n| n.to_uppercase()).collect()),
    }
}

/// Whether a DOUBLE column holds NaN or an infinity (which the cube API writes as null, by
/// contract, so they do not round-trip).
fn has_non_finite(batch: &RecordBatch) -> bool {
    batch.columns().iter().any(|c| {
        c.data_type() == &arrow_schema::DataType::Float64
            && c.as_primitive::<Float64Type>()
                .iter()
                .flatten()
                .any(|v| !v.is_finite())
    })
}

/// Decode `json` in `orientation` with the header pick, and check what decodes:
/// - the batch has the table's columns;
/// - the same JSON as base64 `data` decodes to the same batch (or fails too);
/// - what the cube API gives back for the batch, pushed again as a ROW chunk, decodes to
///   the same batch.
pub fn check_chunk_json(json: &[u8], orientation: Orientation, pick: u8) {
    let columns = all_types();
    let names = header_names(pick);
    let decoded = fuzzing::chunk_json(json, &columns, names.as_deref(), orientation);
    let data = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(json)
    };
    let via_data = fuzzing::chunk_data(data.as_bytes(), &columns, names.as_deref(), orientation);
    let batches = match decoded {
        Ok(b) => b,
        Err(e) => {
            assert!(via_data.is_err(), "JSON fails ({e}) but its base64 decodes");
            return;
        }
    };
    // Parts only come from the parallel decode of a chunk over 4 MiB, larger than any
    // fuzz input.
    assert_eq!(batches.len(), 1, "parts for a small chunk");
    let one = batches[0].clone();
    assert_eq!(one.num_columns(), columns.len());
    match via_data {
        Ok(b) => assert_eq!(b, one, "base64 data decodes differently"),
        Err(e) => panic!("JSON decodes but its base64 fails: {e}"),
    }
    if has_non_finite(&one) {
        return;
    }
    let back = fuzzing::cube_rows_json(&one).expect("the cube formats a decoded batch");
    let again = fuzzing::chunk_json(back.as_bytes(), &columns, None, Orientation::Row)
        .unwrap_or_else(|e| panic!("the cube's rows {back} do not decode: {e}"));
    assert_eq!(again.len(), 1);
    assert_eq!(again[0], one, "read back as {back}");
}
