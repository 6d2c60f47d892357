//! The value text parsers (integers, doubles, booleans, decimals, dates, times,
//! date-times, SAS times): no panic; the fast paths agree with the general parsers; and
//! every value parsed, written as the cube API writes it, parses back to itself.
#![no_main]
use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Date32Array, Decimal256Array, Float64Array, Int64Array,
    Time64MicrosecondArray, TimestampMicrosecondArray,
};
use arrow_buffer::i256;
use libfuzzer_sys::fuzz_target;
use pushdata_server::fuzzing::{self, parse};

/// The one value of `array` as the cube API writes it (a JSON token), as text to parse
/// again (a JSON string's content, or the token).
fn cube_text(array: ArrayRef) -> String {
    let batch = arrow_array::RecordBatch::try_from_iter([("v", array)]).expect("batch");
    let rows = fuzzing::cube_rows_json(&batch).expect("cube text");
    // `[[token]]`; the token as written (a JSON number is not parsed into a float).
    let token = rows
        .strip_prefix("[[")
        .and_then(|r| r.strip_suffix("]]"))
        .expect("one row of one value");
    if token.starts_with('"') {
        serde_json::from_str(token).expect("a JSON string")
    } else {
        token.to_string()
    }
}

fn decimal_text(m: i256, scale: u8) -> String {
    let a = Decimal256Array::from(vec![m])
        .with_precision_and_scale(76, scale as i8)
        .expect("decimal type");
    cube_text(Arc::new(a))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(b) = <[u8; 8]>::try_from(data) {
        // Any second of years 0000-9999 as a SAS time, and back.
        let secs = i64::from_le_bytes(b).rem_euclid(253_402_300_800) - 62_167_219_200;
        let text = parse::format_sas_time(secs);
        assert_eq!(parse::sas_time(&text), Some(secs), "{text}");
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some((v, s)) = parse::plain(data) {
        assert_eq!(
            parse::decimal(text),
            Ok((i256::from_i128(i128::from(v)), s))
        );
        if s == 0 {
            assert_eq!(parse::integer(text), Ok(v));
        }
    }
    if let Ok(v) = parse::integer(text) {
        let back = cube_text(Arc::new(Int64Array::from(vec![v])));
        assert_eq!(parse::integer(&back), Ok(v), "{back}");
    }
    if let Ok(v) = parse::double(text)
        && v.is_finite()
    {
        let back = cube_text(Arc::new(Float64Array::from(vec![v])));
        assert_eq!(
            parse::double(&back).map(f64::to_bits),
            Ok(v.to_bits()),
            "{back}"
        );
    }
    if let Ok(v) = parse::boolean(text) {
        let back = cube_text(Arc::new(BooleanArray::from(vec![v])));
        assert_eq!(parse::boolean(&back), Ok(v), "{back}");
    }
    if let Ok((m, s)) = parse::decimal(text) {
        let back = decimal_text(m, s);
        assert_eq!(parse::decimal(&back), Ok((m, s)), "{back}");
    }
    if let Some(d) = parse::plain_date(data) {
        assert_eq!(parse::date(text), Ok(d));
    }
    if let Ok(d) = parse::date(text) {
        let back = cube_text(Arc::new(Date32Array::from(vec![d])));
        assert_eq!(parse::date(&back), Ok(d), "{back}");
    }
    if let Ok(t) = parse::time(text) {
        let back = cube_text(Arc::new(Time64MicrosecondArray::from(vec![t])));
        assert_eq!(parse::time(&back), Ok(t), "{back}");
    }
    if let Ok(t) = parse::datetime(text) {
        let back = cube_text(Arc::new(TimestampMicrosecondArray::from(vec![t])));
        assert_eq!(parse::datetime(&back), Ok(t), "{back}");
    }
    if let Some(s) = parse::sas_time(text) {
        let back = parse::format_sas_time(s);
        assert_eq!(parse::sas_time(&back), Some(s), "{back}");
    }
});
