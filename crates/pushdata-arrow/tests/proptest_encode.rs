#![allow(clippy::unwrap_used)]
//! Property test: random batches of every mapped type (nulls included), both orientations:
//! encode -> base64 decode -> JSON parse -> every value equals the Arrow value.

use std::sync::Arc;

use arrow_array::*;
use arrow_buffer::i256;
use arrow_schema::{Field, Schema};
use base64::Engine;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use proptest::prelude::*;
use pushdata_arrow::encoding::encode_base64;
use pushdata_arrow::{ModelOptions, TableSchema, infer_model};
use pushdata_core::wire::Orientation;

#[derive(Debug, Clone)]
enum Col {
    I8(Vec<Option<i8>>),
    I16(Vec<Option<i16>>),
    I32(Vec<Option<i32>>),
    I64(Vec<Option<i64>>),
    U8(Vec<Option<u8>>),
    U16(Vec<Option<u16>>),
    U32(Vec<Option<u32>>),
    U64(Vec<Option<u64>>),
    F32(Vec<Option<f32>>),
    F64(Vec<Option<f64>>),
    Dec128(Vec<Option<i128>>, i8),
    Dec256(Vec<Option<(i128, i128)>>, i8),
    Utf8(Vec<Option<String>>),
    LargeUtf8(Vec<Option<String>>),
    View(Vec<Option<String>>),
    Bool(Vec<Option<bool>>),
    Date(Vec<Option<i32>>),
    TimeUs(Vec<Option<i64>>),
    TimeMs(Vec<Option<i32>>),
    TsNs(Vec<Option<i64>>),
    TsUsZoned(Vec<Option<i64>>),
    Dict(Vec<Option<String>>),
    Date64(Vec<Option<i64>>),
    Null(usize),
}

const MIN_DAY: i32 = -719_528; // 0000-01-01
const MAX_DAY: i32 = 2_932_896; // 9999-12-31
const US_PER_DAY: i64 = 86_400_000_000;

fn v<T: std::fmt::Debug + Clone>(
    s: impl Strategy<Value = T>,
    n: usize,
) -> impl Strategy<Value = Vec<Option<T>>> {
    prop::collection::vec(prop::option::of(s), n)
}

fn col(n: usize) -> BoxedStrategy<Col> {
    let ts_range = (i64::from(MIN_DAY) * US_PER_DAY)..(i64::from(MAX_DAY) * US_PER_DAY);
    prop_oneof![
        v(any::<i8>(), n).prop_map(Col::I8),
        v(any::<i16>(), n).prop_map(Col::I16),
        v(any::<i32>(), n).prop_map(Col::I32),
        v(any::<i64>(), n).prop_map(Col::I64),
        v(any::<u8>(), n).prop_map(Col::U8),
        v(any::<u16>(), n).prop_map(Col::U16),
        v(any::<u32>(), n).prop_map(Col::U32),
        v(any::<u64>(), n).prop_map(Col::U64),
        v(any::<f32>(), n).prop_map(Col::F32),
        v(any::<f64>(), n).prop_map(Col::F64),
        (v(any::<i128>(), n), -5i8..=38).prop_map(|(x, s)| Col::Dec128(x, s)),
        (v((any::<i128>(), any::<i128>()), n), 0i8..=76).prop_map(|(x, s)| Col::Dec256(x, s)),
        v(any::<String>(), n).prop_map(Col::Utf8),
        v("[a-z\"\\\\\u{0}-\u{1f}é😀]{0,12}", n).prop_map(Col::LargeUtf8),
        v(any::<String>(), n).prop_map(Col::View),
        v(any::<bool>(), n).prop_map(Col::Bool),
        v(MIN_DAY..=MAX_DAY, n).prop_map(Col::Date),
        v(0..US_PER_DAY, n).prop_map(Col::TimeUs),
        v(0..86_400_000i32, n).prop_map(Col::TimeMs),
        v(any::<i64>(), n).prop_map(Col::TsNs),
        // Instants from 0000-01-01 UTC to 20 h before the end of 9999 (the API's years);
        // an earlier version subtracted the 20 h from the start too and could produce a
        // valid refusal (year -1) that failed this test.
        v(ts_range.start..(ts_range.end - 20 * 3600 * 1_000_000), n).prop_map(Col::TsUsZoned),
        v("[a-c\"\n]{0,3}", n).prop_map(Col::Dict),
        v(i64::from(MIN_DAY)..=i64::from(MAX_DAY), n)
            .prop_map(|d| Col::Date64(d.into_iter().map(|o| o.map(|x| x * 86_400_000)).collect())),
        Just(Col::Null(n)),
    ]
    .boxed()
}

fn array(c: &Col) -> ArrayRef {
    match c {
        Col::I8(x) => Arc::new(Int8Array::from(x.clone())),
        Col::I16(x) => Arc::new(Int16Array::from(x.clone())),
        Col::I32(x) => Arc::new(Int32Array::from(x.clone())),
        Col::I64(x) => Arc::new(Int64Array::from(x.clone())),
        Col::U8(x) => Arc::new(UInt8Array::from(x.clone())),
        Col::U16(x) => Arc::new(UInt16Array::from(x.clone())),
        Col::U32(x) => Arc::new(UInt32Array::from(x.clone())),
        Col::U64(x) => Arc::new(UInt64Array::from(x.clone())),
        Col::F32(x) => Arc::new(Float32Array::from(x.clone())),
        Col::F64(x) => Arc::new(Float64Array::from(x.clone())),
        Col::Dec128(x, s) => Arc::new(
            Decimal128Array::from(x.clone())
                .with_precision_and_scale(38, *s)
                .unwrap(),
        ),
        Col::Dec256(x, s) => Arc::new(
            Decimal256Array::from(
                x.iter()
                    .map(|o| o.map(|(lo, hi)| i256::from_parts(lo as u128, hi)))
                    .collect::<Vec<_>>(),
            )
            .with_precision_and_scale(76, *s)
            .unwrap(),
        ),
        Col::Utf8(x) => Arc::new(StringArray::from(x.clone())),
        Col::LargeUtf8(x) => Arc::new(LargeStringArray::from(x.clone())),
        Col::View(x) => Arc::new(StringViewArray::from(
            x.iter().map(|o| o.as_deref()).collect::<Vec<_>>(),
        )),
        Col::Bool(x) => Arc::new(BooleanArray::from(x.clone())),
        Col::Date(x) => Arc::new(Date32Array::from(x.clone())),
        Col::TimeUs(x) => Arc::new(Time64MicrosecondArray::from(x.clone())),
        Col::TimeMs(x) => Arc::new(Time32MillisecondArray::from(x.clone())),
        Col::TsNs(x) => Arc::new(TimestampNanosecondArray::from(x.clone())),
        Col::TsUsZoned(x) => {
            Arc::new(TimestampMicrosecondArray::from(x.clone()).with_timezone("+05:30"))
        }
        Col::Dict(x) => Arc::new(
            x.iter()
                .map(|o| o.as_deref())
                .collect::<DictionaryArray<arrow_array::types::Int16Type>>(),
        ),
        Col::Date64(x) => Arc::new(Date64Array::from(x.clone())),
        Col::Null(n) => Arc::new(NullArray::new(*n)),
    }
}

/// Split the chunk JSON (two levels of arrays) into raw value tokens.
fn tokens(json: &[u8]) -> Vec<Vec<String>> {
    let s = std::str::from_utf8(json).unwrap();
    let b = s.as_bytes();
    assert_eq!(b[0], b'[');
    let mut out = Vec::new();
    let mut i = 1;
    while b[i] != b']' {
        assert_eq!(b[i], b'[', "at {i}");
        i += 1;
        let mut inner = Vec::new();
        while b[i] != b']' {
            let start = i;
            if b[i] == b'"' {
                i += 1;
                while b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            } else {
                while b[i] != b',' && b[i] != b']' {
                    i += 1;
                }
            }
            inner.push(s[start..i].to_string());
            if b[i] == b',' {
                i += 1;
            }
        }
        i += 1;
        out.push(inner);
        if b[i] == b',' {
            i += 1;
        }
    }
    assert_eq!(i, b.len() - 1);
    out
}

fn string(tok: &str) -> String {
    serde_json::from_str(tok).unwrap()
}

fn decimal(tok: &str, scale: i8) -> i256 {
    if scale > 0 {
        let (int, frac) = tok.split_once('.').unwrap();
        assert_eq!(frac.len(), scale as usize, "{tok}");
        i256::from_string(&format!("{int}{frac}")).unwrap()
    } else {
        assert!(!tok.contains('.'), "{tok}");
        i256::from_string(tok).unwrap()
    }
}

fn datetime(tok: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(&string(tok), "%Y-%m-%dT%H:%M:%S%.f").unwrap()
}

fn check_value(c: &Col, r: usize, tok: &str) {
    macro_rules! opt {
        ($x:expr, $f:expr) => {
            match &$x[r] {
                None => assert_eq!(tok, "null"),
                Some(val) => $f(val),
            }
        };
    }
    match c {
        Col::I8(x) => opt!(x, |v: &i8| assert_eq!(tok.parse::<i8>().unwrap(), *v)),
        Col::I16(x) => opt!(x, |v: &i16| assert_eq!(tok.parse::<i16>().unwrap(), *v)),
        Col::I32(x) => opt!(x, |v: &i32| assert_eq!(tok.parse::<i32>().unwrap(), *v)),
        Col::I64(x) => opt!(x, |v: &i64| assert_eq!(tok.parse::<i64>().unwrap(), *v)),
        Col::U8(x) => opt!(x, |v: &u8| assert_eq!(tok.parse::<u8>().unwrap(), *v)),
        Col::U16(x) => opt!(x, |v: &u16| assert_eq!(tok.parse::<u16>().unwrap(), *v)),
        Col::U32(x) => opt!(x, |v: &u32| assert_eq!(tok.parse::<u32>().unwrap(), *v)),
        Col::U64(x) => opt!(x, |v: &u64| assert_eq!(tok.parse::<u64>().unwrap(), *v)),
        Col::F32(x) => opt!(x, |v: &f32| if v.is_finite() {
            assert_eq!(tok.parse::<f32>().unwrap(), *v)
        } else {
            assert_eq!(tok, "null")
        }),
        Col::F64(x) => opt!(x, |v: &f64| if v.is_finite() {
            assert_eq!(tok.parse::<f64>().unwrap(), *v)
        } else {
            assert_eq!(tok, "null")
        }),
        Col::Dec128(x, s) => opt!(x, |v: &i128| {
            let want = i256::from_i128(*v);
            if *s < 0 {
                let mut w = want;
                for _ in 0..(-*s) {
                    w = w.wrapping_mul(i256::from_i128(10));
                }
                assert_eq!(decimal(tok, 0), w, "{tok}");
            } else {
                assert_eq!(decimal(tok, *s), want, "{tok}");
            }
        }),
        Col::Dec256(x, s) => opt!(x, |v: &(i128, i128)| {
            assert_eq!(
                decimal(tok, *s),
                i256::from_parts(v.0 as u128, v.1),
                "{tok}"
            )
        }),
        Col::Utf8(x) | Col::LargeUtf8(x) | Col::View(x) | Col::Dict(x) => {
            opt!(x, |v: &String| assert_eq!(&string(tok), v))
        }
        Col::Bool(x) => opt!(x, |v: &bool| assert_eq!(
            tok,
            if *v { "true" } else { "false" }
        )),
        Col::Date(x) => opt!(x, |v: &i32| {
            let d = NaiveDate::parse_from_str(&string(tok), "%Y-%m-%d").unwrap();
            let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
            assert_eq!((d - epoch).num_days(), i64::from(*v));
            assert_eq!(string(tok).len(), 10);
        }),
        Col::Date64(x) => opt!(x, |v: &i64| {
            let d = NaiveDate::parse_from_str(&string(tok), "%Y-%m-%d").unwrap();
            let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
            assert_eq!((d - epoch).num_days() * 86_400_000, *v);
        }),
        Col::TimeUs(x) => opt!(x, |v: &i64| {
            let t = NaiveTime::parse_from_str(&string(tok), "%H:%M:%S%.f").unwrap();
            let us = i64::from(t.num_seconds_from_midnight()) * 1_000_000
                + i64::from(t.nanosecond() / 1000);
            assert_eq!(us, *v);
            assert!(
                !string(tok).ends_with('0') || !string(tok).contains('.'),
                "{tok}"
            );
        }),
        Col::TimeMs(x) => opt!(x, |v: &i32| {
            let t = NaiveTime::parse_from_str(&string(tok), "%H:%M:%S%.f").unwrap();
            let ms = i64::from(t.num_seconds_from_midnight()) * 1000
                + i64::from(t.nanosecond() / 1_000_000);
            assert_eq!(ms, i64::from(*v));
        }),
        Col::TsNs(x) => opt!(x, |v: &i64| {
            assert_eq!(datetime(tok).and_utc().timestamp_nanos_opt().unwrap(), *v)
        }),
        Col::TsUsZoned(x) => opt!(x, |v: &i64| {
            // Written in UTC: the stored instant.
            assert_eq!(datetime(tok).and_utc().timestamp_micros(), *v)
        }),
        Col::Null(_) => assert_eq!(tok, "null"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn encode_decode_parse_compare(
        (rows, cols) in (0usize..24).prop_flat_map(|n| (Just(n), prop::collection::vec(col(n), 1..6))),
        split in 0usize..24,
    ) {
        let arrays: Vec<ArrayRef> = cols.iter().map(array).collect();
        let schema = Arc::new(Schema::new(
            arrays.iter().enumerate()
                .map(|(i, a)| Field::new(format!("c{i}"), a.data_type().clone(), true))
                .collect::<Vec<_>>(),
        ));
        let batch = RecordBatch::try_new(schema.clone(), arrays).unwrap();
        let model = infer_model("d", &[TableSchema::new("t", schema)], &ModelOptions::default()).unwrap();
        let t = &model.tables[0];
        let cut = split.min(rows);
        let parts = [batch.slice(0, cut), batch.slice(cut, rows - cut)];
        for o in [Orientation::Row, Orientation::Column] {
            let b64 = encode_base64(t, &parts, o).unwrap();
            let json = base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
            let parsed: serde_json::Value = serde_json::from_slice(&json).unwrap();
            prop_assert!(parsed.is_array());
            let toks = tokens(&json);
            match o {
                Orientation::Row => {
                    prop_assert_eq!(toks.len(), rows);
                    for (r, row) in toks.iter().enumerate() {
                        prop_assert_eq!(row.len(), cols.len());
                        for (c, tok) in row.iter().enumerate() {
                            check_value(&cols[c], r, tok);
                        }
                    }
                }
                Orientation::Column => {
                    prop_assert_eq!(toks.len(), cols.len());
                    for (c, column) in toks.iter().enumerate() {
                        prop_assert_eq!(column.len(), rows);
                        for (r, tok) in column.iter().enumerate() {
                            check_value(&cols[c], r, tok);
                        }
                    }
                }
            }
        }
    }
}
