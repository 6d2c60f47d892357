#![allow(clippy::unwrap_used)]
//! Exact chunk JSON for each type in both orientations, and chunk cutting (unit tests: they
//! drive the encoder's internals, [`Chunker`] and [`EncodedChunk`], directly).

use std::sync::Arc;

use super::{Chunker, EncodedChunk, ZoneMode, encode_base64, encode_json};
use crate::{Error, ModelOptions, TableModel, TableSchema, infer_model};
use arrow_array::builder::*;
use arrow_array::types::Int32Type;
use arrow_array::*;
use arrow_buffer::i256;
use arrow_schema::{DataType as A, Field, Schema, TimeUnit};
use base64::Engine;
use pushdata_core::wire::{ChunkRequest, Orientation};

fn table(batch: &RecordBatch, opts: &ModelOptions) -> TableModel {
    infer_model("d", &[TableSchema::new("t", batch.schema())], opts)
        .unwrap()
        .tables
        .remove(0)
}

fn json(batch: &RecordBatch, o: Orientation) -> String {
    json_with(batch, o, &ModelOptions::default().with_text_fallback(true))
}

fn json_with(batch: &RecordBatch, o: Orientation, opts: &ModelOptions) -> String {
    let t = table(batch, opts);
    let zones = if opts.utc() {
        ZoneMode::Utc
    } else {
        ZoneMode::Local
    };
    String::from_utf8(encode_json(&t, std::slice::from_ref(batch), o, zones).unwrap()).unwrap()
}

fn one(name: &str, array: ArrayRef) -> RecordBatch {
    RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new(
            name,
            array.data_type().clone(),
            true,
        )])),
        vec![array],
    )
    .unwrap()
}

/// Single column: ROW is [[v1],[v2]], COLUMN is [[v1,v2]].
fn check(array: ArrayRef, values: &[&str]) {
    let b = one("c", array);
    let row = format!(
        "[{}]",
        values
            .iter()
            .map(|v| format!("[{v}]"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let col = format!("[[{}]]", values.join(","));
    assert_eq!(json(&b, Orientation::Row), row);
    assert_eq!(json(&b, Orientation::Column), col);
}

#[test]
fn integers() {
    check(
        Arc::new(Int8Array::from(vec![Some(-128), None, Some(127)])),
        &["-128", "null", "127"],
    );
    check(
        Arc::new(Int16Array::from(vec![i16::MIN, 0])),
        &["-32768", "0"],
    );
    check(
        Arc::new(Int32Array::from(vec![i32::MIN, i32::MAX])),
        &["-2147483648", "2147483647"],
    );
    check(
        Arc::new(Int64Array::from(vec![i64::MIN, i64::MAX])),
        &["-9223372036854775808", "9223372036854775807"],
    );
    check(Arc::new(UInt8Array::from(vec![255u8])), &["255"]);
    check(Arc::new(UInt16Array::from(vec![65535u16])), &["65535"]);
    check(Arc::new(UInt32Array::from(vec![u32::MAX])), &["4294967295"]);
    check(
        Arc::new(UInt64Array::from(vec![u64::MAX, 0])),
        &["18446744073709551615", "0"],
    );
}

#[test]
fn floats_nan_inf_to_null() {
    check(
        Arc::new(Float64Array::from(vec![
            Some(1.5),
            Some(-0.1),
            Some(f64::NAN),
            Some(f64::INFINITY),
            Some(f64::NEG_INFINITY),
            None,
            Some(1e300),
            Some(3.0),
        ])),
        &[
            "1.5", "-0.1", "null", "null", "null", "null", "1e300", "3.0",
        ],
    );
    check(
        Arc::new(Float32Array::from(vec![1.1f32, f32::NAN])),
        &["1.1", "null"],
    );
    check(
        arrow_cast::cast(&Float32Array::from(vec![0.5, f32::INFINITY]), &A::Float16).unwrap(),
        &["0.5", "null"],
    );
}

#[test]
fn decimals_exact() {
    let d = Decimal128Array::from(vec![Some(-12340), Some(5), None, Some(0)])
        .with_precision_and_scale(10, 3)
        .unwrap();
    check(Arc::new(d), &["-12.340", "0.005", "null", "0.000"]);
    let d = Decimal128Array::from(vec![123i128])
        .with_precision_and_scale(10, 0)
        .unwrap();
    check(Arc::new(d), &["123"]);
    let big = i256::from_string(
        "-1234567890123456789012345678901234567890123456789012345678901234567890",
    )
    .unwrap();
    let d = Decimal256Array::from(vec![big, i256::from_i128(1)])
        .with_precision_and_scale(76, 20)
        .unwrap();
    check(
        Arc::new(d),
        &[
            "-12345678901234567890123456789012345678901234567890.12345678901234567890",
            "0.00000000000000000001",
        ],
    );
    let d = Decimal64Array::from(vec![-1i64])
        .with_precision_and_scale(18, 2)
        .unwrap();
    check(Arc::new(d), &["-0.01"]);
    let d = Decimal32Array::from(vec![42i32])
        .with_precision_and_scale(9, -2)
        .unwrap();
    check(Arc::new(d), &["4200"]);
}

#[test]
fn strings_escaped() {
    let s = vec![
        Some("plain"),
        Some("quote\" backslash\\ slash/"),
        Some("ctl\n\r\t\u{1}\u{1f}"),
        Some("héllo ✓ 😀"),
        None,
        Some(""),
    ];
    let want = [
        r#""plain""#,
        r#""quote\" backslash\\ slash/""#,
        r#""ctl\n\r\t\u0001\u001f""#,
        "\"héllo ✓ 😀\"",
        "null",
        r#""""#,
    ];
    check(Arc::new(StringArray::from(s.clone())), &want);
    check(Arc::new(LargeStringArray::from(s.clone())), &want);
    check(Arc::new(StringViewArray::from(s.clone())), &want);
    let dict: DictionaryArray<Int32Type> = s.into_iter().collect();
    check(Arc::new(dict), &want);
    check(Arc::new(NullArray::new(2)), &["null", "null"]);
}

#[test]
fn bools() {
    check(
        Arc::new(BooleanArray::from(vec![Some(true), None, Some(false)])),
        &["true", "null", "false"],
    );
}

#[test]
fn dates_including_before_1970() {
    check(
        Arc::new(Date32Array::from(vec![0, -1, 18_000, -719_528, 2_932_896])),
        &[
            "\"1970-01-01\"",
            "\"1969-12-31\"",
            "\"2019-04-14\"",
            "\"0000-01-01\"",
            "\"9999-12-31\"",
        ],
    );
    check(
        Arc::new(Date64Array::from(vec![86_400_000, -86_400_000])),
        &["\"1970-01-02\"", "\"1969-12-31\""],
    );
    let b = one("day", Arc::new(Date32Array::from(vec![0, 2_932_897])));
    let t = table(&b, &ModelOptions::default());
    let err = encode_json(&t, &[b], Orientation::Row, ZoneMode::Utc).unwrap_err();
    assert!(matches!(err, Error::Value { row: 1, .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("\"day\"") && msg.contains("row 1") && msg.contains("10000"),
        "{msg}"
    );
}

#[test]
fn times_with_fractions() {
    check(
        Arc::new(Time32SecondArray::from(vec![0, 86_399])),
        &["\"00:00:00\"", "\"23:59:59\""],
    );
    check(
        Arc::new(Time32MillisecondArray::from(vec![1_500])),
        &["\"00:00:01.5\""],
    );
    check(
        Arc::new(Time64MicrosecondArray::from(vec![45_296_000_123])),
        &["\"12:34:56.000123\""],
    );
    check(
        Arc::new(Time64NanosecondArray::from(vec![1])),
        &["\"00:00:00.000000001\""],
    );
    let b = one("t", Arc::new(Time32SecondArray::from(vec![86_400])));
    let t = table(&b, &ModelOptions::default());
    assert!(encode_json(&t, &[b], Orientation::Row, ZoneMode::Utc).is_err());
}

#[test]
fn timestamps_naive_and_zoned() {
    check(
        Arc::new(TimestampMicrosecondArray::from(vec![
            0,
            -1,
            1_577_836_800_000_000,
        ])),
        &[
            "\"1970-01-01T00:00:00\"",
            "\"1969-12-31T23:59:59.999999\"",
            "\"2020-01-01T00:00:00\"",
        ],
    );
    check(
        Arc::new(TimestampSecondArray::from(vec![1])),
        &["\"1970-01-01T00:00:01\""],
    );
    check(
        Arc::new(TimestampNanosecondArray::from(vec![1_500_000_000])),
        &["\"1970-01-01T00:00:01.5\""],
    );
    // Out of range: an error, never a panic.
    let local = ModelOptions::default().with_utc(false);
    for zone in ["+02:00", "-02:00"] {
        let extreme = TimestampSecondArray::from(vec![i64::MAX, i64::MIN]).with_timezone(zone);
        let b = one("ts", Arc::new(extreme));
        let t = table(&b, &local);
        let err = encode_json(&t, &[b], Orientation::Row, ZoneMode::Local).unwrap_err();
        assert!(matches!(err, Error::Value { row: 0, .. }), "{err}");
    }
    // Zoned: stored as UTC instants; written in UTC by default.
    let zoned = TimestampMillisecondArray::from(vec![0]).with_timezone("+02:00");
    check(Arc::new(zoned.clone()), &["\"1970-01-01T00:00:00\""]);
    let named = TimestampMillisecondArray::from(vec![0]).with_timezone("America/New_York");
    check(Arc::new(named), &["\"1970-01-01T00:00:00\""]);
    // Local wall time keeps the offset's clock.
    let b = one("ts", Arc::new(zoned));
    assert_eq!(
        json_with(&b, Orientation::Row, &local),
        "[[\"1970-01-01T02:00:00\"]]"
    );
    let neg = TimestampSecondArray::from(vec![0]).with_timezone("-05:30");
    let b = one("ts", Arc::new(neg));
    assert_eq!(
        json_with(&b, Orientation::Column, &local),
        "[[\"1969-12-31T18:30:00\"]]"
    );
}

#[test]
fn text_fallback_nested_binary_duration() {
    let mut lb = ListBuilder::new(Int32Builder::new());
    lb.values().append_value(1);
    lb.values().append_null();
    lb.append(true);
    lb.append(false);
    check(Arc::new(lb.finish()), &[r#""[1,null]""#, "null"]);
    let bin = BinaryArray::from(vec![Some(&b"hi!"[..]), Some(&[0u8, 255][..]), None]);
    check(Arc::new(bin), &["\"aGkh\"", "\"AP8=\"", "null"]);
    let s = StructArray::from(vec![(
        Arc::new(Field::new("a", A::Utf8, true)),
        Arc::new(StringArray::from(vec!["x\"y"])) as ArrayRef,
    )]);
    check(Arc::new(s), &[r#""{\"a\":\"x\\\"y\"}""#]);
    check(
        Arc::new(DurationMillisecondArray::from(vec![1_500])),
        &["\"PT1.5S\""],
    );
}

#[test]
fn several_columns_both_orientations() {
    let b = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("id", A::Int32, false),
            Field::new("name", A::Utf8, true),
            Field::new("when", A::Timestamp(TimeUnit::Second, None), true),
        ])),
        vec![
            Arc::new(Int32Array::from(vec![1, 2])),
            Arc::new(StringArray::from(vec![Some("a"), None])),
            Arc::new(TimestampSecondArray::from(vec![None, Some(60)])),
        ],
    )
    .unwrap();
    assert_eq!(
        json(&b, Orientation::Row),
        r#"[[1,"a",null],[2,null,"1970-01-01T00:01:00"]]"#
    );
    assert_eq!(
        json(&b, Orientation::Column),
        r#"[[1,2],["a",null],[null,"1970-01-01T00:01:00"]]"#
    );
    // Empty input.
    let t = table(&b, &ModelOptions::default());
    let empty = b.slice(0, 0);
    assert_eq!(
        encode_json(
            &t,
            std::slice::from_ref(&empty),
            Orientation::Row,
            ZoneMode::Utc
        )
        .unwrap(),
        b"[]"
    );
    assert_eq!(
        encode_json(&t, &[empty], Orientation::Column, ZoneMode::Utc).unwrap(),
        b"[[],[],[]]"
    );
    let b64 = encode_base64(&t, &[b.clone(), b], Orientation::Row, ZoneMode::Utc).unwrap();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 4);
}

fn numbered(rows: i32, text: &str) -> RecordBatch {
    RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("n", A::Int32, false),
            Field::new("s", A::Utf8, false),
        ])),
        vec![
            Arc::new(Int32Array::from_iter_values(0..rows)),
            Arc::new(StringArray::from_iter_values(
                (0..rows).map(|i| format!("{text}{i}")),
            )),
        ],
    )
    .unwrap()
}

fn chunk_all(batches: &[RecordBatch], o: Orientation, target: usize) -> Vec<EncodedChunk> {
    let t = table(&batches[0], &ModelOptions::default());
    let mut out = Vec::new();
    let mut c = Chunker::new(&t, o, ZoneMode::Utc, target);
    for b in batches {
        c.push(b, &mut |ch| {
            out.push(ch);
            Ok(())
        })
        .unwrap();
    }
    c.finish(&mut |ch| {
        out.push(ch);
        Ok(())
    })
    .unwrap();
    out
}

fn decode(ch: &EncodedChunk) -> serde_json::Value {
    let body = ch.body.to_bytes();
    assert_eq!(body.len(), ch.body.len());
    let req: ChunkRequest = serde_json::from_slice(&body).unwrap();
    assert_eq!(req.table_name, "t");
    assert_eq!(req.index.0, ch.index);
    let raw = base64::engine::general_purpose::STANDARD
        .decode(req.data.as_bytes())
        .unwrap();
    assert_eq!(raw.len(), ch.json_bytes);
    assert_eq!(req.data.len(), ch.json_bytes.div_ceil(3) * 4);
    serde_json::from_slice(&raw).unwrap()
}

/// A table with nulls, JSON escapes and values of many lengths (so that slices' JSON ends
/// at every length mod 3); no string ends with a space (see `fused_chunks_...`).
fn varied(rows: usize, seed: usize) -> RecordBatch {
    let words = [
        "a",
        "quote\"d",
        "back\\slash",
        "tab\there",
        "new\nline",
        "ctrl\u{1}x",
        "été",
        "日本語",
        "[bracket]",
        "xy",
    ];
    let text: Vec<Option<String>> = (0..rows)
        .map(|i| {
            let k = i * 7 + seed;
            (!k.is_multiple_of(5)).then(|| {
                (0..=(k % 4))
                    .map(|j| words[(k + j) % words.len()])
                    .collect::<Vec<_>>()
                    .join(" ")
            })
        })
        .collect();
    let ints: Vec<Option<i64>> = (0..rows)
        .map(|i| (i % 3 != 1).then_some((i as i64 - 50) * (i as i64 % 11) * 1001))
        .collect();
    let floats: Vec<Option<f64>> = (0..rows)
        .map(|i| match i % 6 {
            0 => None,
            1 => Some(f64::NAN),
            _ => Some(i as f64 / 8.0),
        })
        .collect();
    RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("n", A::Int64, true),
            Field::new("s", A::Utf8, true),
            Field::new("f", A::Float64, true),
        ])),
        vec![
            Arc::new(Int64Array::from(ints)),
            Arc::new(StringArray::from(text)),
            Arc::new(Float64Array::from(floats)),
        ],
    )
    .unwrap()
}

/// The fused encoder's chunks (whitespace-padded pieces joined by 3-byte separators)
/// decode, with base64 and serde_json, to the same JSON value as the unpadded JSON of the
/// same rows; every data segment decodes on its own (pieces start on 3-byte boundaries);
/// and the pieces' unpadded JSON lengths take every value mod 3.
#[test]
fn fused_chunks_decode_to_the_unpadded_json() {
    let batches: Vec<RecordBatch> = [1usize, 2, 3, 5, 8, 13, 40, 0, 300, 77]
        .iter()
        .enumerate()
        .map(|(i, &n)| varied(n, i))
        .collect();
    let all = arrow_select::concat::concat_batches(&batches[0].schema(), &batches).unwrap();
    let t = table(&all, &ModelOptions::default());
    let pools = [1usize, 3].map(|n| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap()
    });
    let mut residues = std::collections::HashSet::new();
    let mut one_row_chunks = 0;
    for o in [Orientation::Row, Orientation::Column] {
        for target in [64usize, 200, 1000, 5000, 1 << 20] {
            for pool in &pools {
                let chunks = pool.install(|| chunk_all(&batches, o, target));
                let mut next = 0;
                for ch in &chunks {
                    assert_eq!(ch.rows.start, next);
                    next = ch.rows.end;
                    let got = decode(ch);
                    let rows = all.slice(
                        ch.rows.start as usize,
                        (ch.rows.end - ch.rows.start) as usize,
                    );
                    let want: serde_json::Value = serde_json::from_slice(
                        &encode_json(&t, &[rows], o, ZoneMode::Utc).unwrap(),
                    )
                    .unwrap();
                    assert_eq!(got, want, "{o:?}, target {target}, chunk {}", ch.index);
                    if ch.rows.end - ch.rows.start == 1 {
                        one_row_chunks += 1;
                    }
                    // Every segment but the end group is a separator + padded JSON, on its own.
                    let data = ch.body.data();
                    for seg in &data[..data.len() - 1] {
                        let raw = base64::engine::general_purpose::STANDARD
                            .decode(seg)
                            .unwrap();
                        assert_eq!(raw.len() % 3, 0);
                        let sep = std::str::from_utf8(&raw[..3]).unwrap();
                        assert!(["[  ", ",  ", "[[ ", "],["].contains(&sep), "{sep:?}");
                        let pad = raw.iter().rev().take_while(|&&b| b == b' ').count();
                        assert!(pad <= 2, "{pad} spaces of padding");
                        residues.insert((raw.len() - 3 - pad) % 3);
                    }
                }
                assert_eq!(next, all.num_rows() as u64);
            }
        }
    }
    assert_eq!(
        residues.len(),
        3,
        "unpadded lengths mod 3 seen: {residues:?}"
    );
    assert!(one_row_chunks > 0);
}

#[test]
fn empty_and_one_row_tables_as_chunks() {
    for o in [Orientation::Row, Orientation::Column] {
        let empty = varied(0, 0);
        let chunks = chunk_all(std::slice::from_ref(&empty), o, 1 << 20);
        assert_eq!(chunks.len(), 1);
        let want = match o {
            Orientation::Row => serde_json::json!([]),
            Orientation::Column => serde_json::json!([[], [], []]),
        };
        assert_eq!(decode(&chunks[0]), want);
        for seed in 0..6 {
            let one_row = varied(1, seed);
            let t = table(&one_row, &ModelOptions::default());
            let chunks = chunk_all(std::slice::from_ref(&one_row), o, 1 << 20);
            assert_eq!(chunks.len(), 1);
            assert_eq!(chunks[0].rows, 0..1);
            let want: serde_json::Value = serde_json::from_slice(
                &encode_json(&t, std::slice::from_ref(&one_row), o, ZoneMode::Utc).unwrap(),
            )
            .unwrap();
            assert_eq!(decode(&chunks[0]), want);
        }
    }
}

#[test]
fn chunks_cut_by_size_every_row_once_in_order() {
    let batches = vec![
        numbered(5000, "row"),
        numbered(1, "x"),
        numbered(7000, "longer-text-"),
    ];
    for o in [Orientation::Row, Orientation::Column] {
        let target = 20_000;
        let chunks = chunk_all(&batches, o, target);
        assert!(chunks.len() > 10, "{} chunks", chunks.len());
        let mut expect_n: Vec<i64> = Vec::new();
        for b in &batches {
            expect_n.extend((0..b.num_rows() as i64).collect::<Vec<_>>());
        }
        let mut got_n = Vec::new();
        let mut next_row = 0;
        for (i, ch) in chunks.iter().enumerate() {
            assert_eq!(ch.index, i as u64 + 1);
            assert_eq!(ch.rows.start, next_row);
            next_row = ch.rows.end;
            let data_len = ch.json_bytes.div_ceil(3) * 4;
            assert!(
                data_len <= target,
                "chunk {} has {} bytes of data",
                ch.index,
                data_len
            );
            let v = decode(ch);
            let rows: Vec<i64> = match o {
                Orientation::Row => v
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| {
                        assert_eq!(r.as_array().unwrap().len(), 2);
                        r[0].as_i64().unwrap()
                    })
                    .collect(),
                Orientation::Column => {
                    let cols = v.as_array().unwrap();
                    assert_eq!(cols.len(), 2);
                    assert_eq!(
                        cols[0].as_array().unwrap().len(),
                        cols[1].as_array().unwrap().len()
                    );
                    cols[0]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x.as_i64().unwrap())
                        .collect()
                }
            };
            assert_eq!(rows.len() as u64, ch.rows.end - ch.rows.start);
            got_n.extend(rows);
        }
        assert_eq!(next_row, 12_001);
        assert_eq!(got_n, expect_n);
    }
}

#[test]
fn a_row_larger_than_the_target_is_its_own_chunk() {
    let big = "y".repeat(5000);
    let b = numbered(3, &big);
    let chunks = chunk_all(&[b], Orientation::Row, 1000);
    assert_eq!(chunks.len(), 3);
    for (i, ch) in chunks.iter().enumerate() {
        assert_eq!(ch.rows, i as u64..i as u64 + 1);
        assert_eq!(decode(ch).as_array().unwrap().len(), 1);
    }
}

#[test]
fn empty_table_gets_one_empty_chunk() {
    let b = numbered(0, "");
    for (o, want) in [(Orientation::Row, "[]"), (Orientation::Column, "[[],[]]")] {
        let chunks = chunk_all(std::slice::from_ref(&b), o, 1000);
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].rows, 0..0);
        assert_eq!(
            decode(&chunks[0]),
            serde_json::from_str::<serde_json::Value>(want).unwrap()
        );
    }
}

#[test]
fn value_error_names_table_column_and_absolute_row() {
    let good = one("d", Arc::new(Date32Array::from(vec![0; 3000])));
    let mut vals = vec![0; 100];
    vals[42] = 3_000_000;
    let bad = one("d", Arc::new(Date32Array::from(vals)));
    let t = table(&good, &ModelOptions::default());
    let mut c = Chunker::new(&t, Orientation::Row, ZoneMode::Utc, 1 << 20);
    c.push(&good, &mut |_| Ok(())).unwrap();
    // Batches are queued until a group of slices is full: the error may come from a later
    // `push` or from `finish`, always naming the table row.
    let err = match c.push(&bad, &mut |_| Ok(())) {
        Err(e) => e,
        Ok(()) => c.finish(&mut |_| Ok(())).unwrap_err(),
    };
    match err {
        Error::Value {
            table, column, row, ..
        } => {
            assert_eq!((table.as_str(), column.as_str(), row), ("t", "d", 3042));
        }
        e => panic!("{e}"),
    }
}

#[test]
fn schema_mismatch_is_refused() {
    let a = numbered(1, "a");
    let t = table(&a, &ModelOptions::default());
    let other = one("n", Arc::new(Int64Array::from(vec![1])));
    let mut c = Chunker::new(&t, Orientation::Row, ZoneMode::Utc, 1000);
    let err = c.push(&other, &mut |_| Ok(())).unwrap_err();
    assert!(matches!(err, Error::SchemaMismatch { .. }), "{err}");
}

#[test]
fn a_large_target_cuts_a_smaller_first_chunk() {
    use super::chunk::{FIRST_CHUNK_FROM, FIRST_CHUNK_PART};
    use bytes::Bytes;
    let batches: Vec<RecordBatch> = (0..12).map(|s| varied(20_000, s)).collect();
    let target = FIRST_CHUNK_FROM;
    let chunks = chunk_all(&batches, Orientation::Row, target);
    let data = |ch: &EncodedChunk| ch.body.data().iter().map(Bytes::len).sum::<usize>();
    assert!(chunks.len() >= 3, "{} chunks", chunks.len());
    let first = data(&chunks[0]);
    assert!(
        first <= target / FIRST_CHUNK_PART,
        "first chunk {first} bytes"
    );
    // Not cut smaller than its own target needs, and the others at the whole target.
    assert!(
        first > target / FIRST_CHUNK_PART / 2,
        "first chunk {first} bytes"
    );
    assert!(
        data(&chunks[1]) > target / 2,
        "second chunk {} bytes",
        data(&chunks[1])
    );
    assert!(chunks.iter().all(|ch| data(ch) <= target));
    let mut next = 0;
    for ch in &chunks {
        assert_eq!(ch.rows.start, next);
        next = ch.rows.end;
    }
    assert_eq!(next, 12 * 20_000);
    // Under the threshold every chunk is cut at the target, the first included.
    let small = chunk_all(&batches[..2], Orientation::Row, 1 << 20);
    assert!(data(&small[0]) > (1 << 20) / 2);
}
