//! COLUMN chunk JSON against a table of every column type.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pushdata_core::wire::Orientation;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, json)) = data.split_first() else {
        return;
    };
    pushdata_fuzz::check_chunk_json(json, Orientation::Column, pick);
});
