//! An ingest job's CSV parsed for a dataset of every Veracity column type (a key column
//! and a required one among them): no panic, and the file is either read or refused as
//! the caller's data, never failed as the server's fault.
#![no_main]
use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pushdata_core::veracity::wire::{ColumnType, SchemaColumn};
use pushdata_server::fuzzing::{self, CsvRefusal};

fn columns() -> Vec<SchemaColumn> {
    let mut cols: Vec<SchemaColumn> = [
        ("Id", ColumnType::Int32),
        ("Big", ColumnType::Int64),
        ("Amount", ColumnType::Decimal),
        ("Ratio", ColumnType::Double),
        ("Flag", ColumnType::Boolean),
        ("Name", ColumnType::String),
        ("Day", ColumnType::DateOnly),
        ("At", ColumnType::DateTime),
    ]
    .into_iter()
    .map(|(n, t)| SchemaColumn::new(n, t))
    .collect();
    cols[0].is_key = true;
    cols[5].is_required = true;
    cols
}

/// A directory of this process for the upload file.
fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("pushdata-fuzz-csv-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("temp dir");
        d
    })
}

fuzz_target!(|data: &[u8]| {
    match fuzzing::veracity_csv(data, &columns(), dir()) {
        Ok(_) | Err(CsvRefusal::Invalid(_)) => {}
        Err(CsvRefusal::Server(e)) => panic!("a CSV failed as the server's fault: {e}"),
    }
});
