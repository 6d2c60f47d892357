#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use arrow_array::builder::StringDictionaryBuilder;
use arrow_array::types::Int8Type;
use arrow_array::*;
use arrow_buffer::i256;
use arrow_schema::{DataType, Field, Schema};

use super::*;
use crate::veracity::csv_slice::MAX_SHARED_TEXT_ROOM;

fn batch(cols: Vec<(&str, ArrayRef)>) -> RecordBatch {
    RecordBatch::try_from_iter(cols).unwrap()
}

/// The parts of `batches` with `part_bytes`, each in one buffer (all kept until the end, so
/// that a part is checked after later ones were encoded).
fn parts(batches: &[RecordBatch], part_bytes: usize) -> (Vec<Bytes>, CsvSummary) {
    let (out, summary) = csv_parts(batches, part_bytes);
    (out.iter().map(CsvPart::to_bytes).collect(), summary)
}

/// The parts of `batches` with `part_bytes`, as emitted.
fn csv_parts(batches: &[RecordBatch], part_bytes: usize) -> (Vec<CsvPart>, CsvSummary) {
    let mut enc = CsvParts::new(batches[0].schema(), part_bytes).unwrap();
    let mut out = Vec::new();
    for b in batches {
        enc.push(b, |p| {
            out.push(p);
            Ok::<_, VeracityError>(())
        })
        .unwrap();
    }
    let summary = enc
        .finish(|p| {
            out.push(p);
            Ok::<_, VeracityError>(())
        })
        .unwrap();
    (out, summary)
}

fn csv(batches: &[RecordBatch]) -> String {
    let (p, _) = parts(batches, DEFAULT_PART_BYTES);
    String::from_utf8(p.concat()).unwrap()
}

#[test]
fn quoting() {
    let s: ArrayRef = Arc::new(StringArray::from(vec![
        "plain",
        "a,b",
        "say \"hi\"",
        "line\nbreak",
        "cr\rhere",
        " lead",
        "trail ",
        "\ttab",
        "in side",
        "\"",
    ]));
    assert_eq!(
        csv(&[batch(vec![("s", s)])]),
        "s\nplain\n\"a,b\"\n\"say \"\"hi\"\"\"\n\"line\nbreak\"\n\"cr\rhere\"\n\" lead\"\n\"trail \"\n\"\ttab\"\nin side\n\"\"\"\"\n"
    );
}

#[test]
fn header_names_are_quoted_too() {
    let a: ArrayRef = Arc::new(Int32Array::from(vec![1]));
    let b: ArrayRef = Arc::new(Int32Array::from(vec![2]));
    assert_eq!(
        csv(&[batch(vec![("a,1", a), ("b", b)])]),
        "\"a,1\",b\n1,2\n"
    );
}

#[test]
fn nulls_are_empty_fields_and_empty_strings_are_quoted() {
    let s: ArrayRef = Arc::new(StringArray::from(vec![Some(""), None, Some("x")]));
    let l: ArrayRef = Arc::new(LargeStringArray::from(vec![None, Some(""), Some("y")]));
    let v: ArrayRef = Arc::new(StringViewArray::from(vec![Some(""), None, Some("z")]));
    let i: ArrayRef = Arc::new(Int64Array::from(vec![None, Some(1), None]));
    assert_eq!(
        csv(&[batch(vec![("s", s), ("l", l), ("v", v), ("i", i)])]),
        "s,l,v,i\n\"\",,\"\",\n,\"\",,1\nx,y,z,\n"
    );
}

#[test]
fn dictionary_strings() {
    let mut b = StringDictionaryBuilder::<Int8Type>::new();
    b.append_value("a,b");
    b.append_null();
    b.append_value("");
    let d: ArrayRef = Arc::new(b.finish());
    assert_eq!(csv(&[batch(vec![("d", d)])]), "d\n\"a,b\"\n\n\"\"\n");
}

#[test]
fn dates_timestamps_decimals_booleans_numbers() {
    // 2024-05-01T12:34:56.789Z
    let ms = 1_714_566_896_789i64;
    let cols: Vec<(&str, ArrayRef)> = vec![
        ("d32", Arc::new(Date32Array::from(vec![19_844, -1]))),
        ("d64", Arc::new(Date64Array::from(vec![ms, -1]))),
        (
            "ts_ms",
            Arc::new(TimestampMillisecondArray::from(vec![ms, -1]).with_timezone("UTC")),
        ),
        (
            "ts_ns_paris",
            Arc::new(
                TimestampNanosecondArray::from(vec![ms * 1_000_000 + 999_999, 0])
                    .with_timezone("Europe/Paris"),
            ),
        ),
        (
            "ts_s",
            Arc::new(TimestampSecondArray::from(vec![ms / 1000, 0])),
        ),
        (
            "dec",
            Arc::new(
                Decimal128Array::from(vec![123_456_789_012_345_678_901_234_567i128, -5])
                    .with_precision_and_scale(38, 4)
                    .unwrap(),
            ),
        ),
        (
            "dec256",
            Arc::new(
                Decimal256Array::from(vec![i256::from_i128(-1234), i256::from_i128(0)])
                    .with_precision_and_scale(20, 2)
                    .unwrap(),
            ),
        ),
        (
            "d32dec",
            Arc::new(
                Decimal32Array::from(vec![1, -100])
                    .with_precision_and_scale(9, 2)
                    .unwrap(),
            ),
        ),
        ("b", Arc::new(BooleanArray::from(vec![true, false]))),
        ("f", Arc::new(Float64Array::from(vec![0.1, f64::NAN]))),
        (
            "f32",
            Arc::new(Float32Array::from(vec![0.1f32, f32::NEG_INFINITY])),
        ),
        ("u8", Arc::new(UInt8Array::from(vec![255u8, 0]))),
        ("i8", Arc::new(Int8Array::from(vec![-128i8, 1]))),
    ];
    assert_eq!(
        csv(&[batch(cols)]),
        "d32,d64,ts_ms,ts_ns_paris,ts_s,dec,dec256,d32dec,b,f,f32,u8,i8\n\
         2024-05-01,2024-05-01,2024-05-01T12:34:56.789Z,2024-05-01T12:34:56.789Z,2024-05-01T12:34:56.000Z,12345678901234567890123.4567,-12.34,0.01,true,0.1,0.1,255,-128\n\
         1969-12-31,1969-12-31,1969-12-31T23:59:59.999Z,1970-01-01T00:00:00.000Z,1970-01-01T00:00:00.000Z,-0.0005,0.00,-1.00,false,NaN,-Infinity,0,1\n"
    );
}

#[test]
fn out_of_range_date_names_column_and_row() {
    let ok: ArrayRef = Arc::new(Int32Array::from(vec![1, 2, 3]));
    let d: ArrayRef = Arc::new(Date32Array::from(vec![0, 0, 3_000_000]));
    let b = batch(vec![("ok", ok), ("when", d)]);
    let mut enc = CsvParts::new(b.schema(), 4096).unwrap();
    let sink = |_: CsvPart| Ok::<_, VeracityError>(());
    enc.push(&b, sink).unwrap();
    let err = enc
        .push(&b, sink)
        .and_then(|()| enc.finish(sink).map(|_| ()));
    match err {
        Err(VeracityError::Value { column, row, .. }) => {
            assert_eq!(column, "when");
            assert_eq!(row, 2);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unsupported_columns_are_refused_when_made() {
    let schema = Arc::new(Schema::new(vec![
        Field::new("ok", DataType::Int32, true),
        Field::new("blob", DataType::Binary, true),
    ]));
    match CsvParts::new(schema, 1024) {
        Err(VeracityError::UnsupportedType {
            column, arrow_type, ..
        }) => {
            assert_eq!(column, "blob");
            assert_eq!(arrow_type, "Binary");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn batches_of_another_schema_are_refused() {
    let a: ArrayRef = Arc::new(Int32Array::from(vec![1]));
    let b: ArrayRef = Arc::new(Int64Array::from(vec![1]));
    let mut enc = CsvParts::new(batch(vec![("a", a)]).schema(), 1024).unwrap();
    let r = enc.push(&batch(vec![("a", b)]), |_| Ok::<_, VeracityError>(()));
    assert!(
        matches!(r, Err(VeracityError::SchemaMismatch { .. })),
        "{r:?}"
    );
}

/// Rows of varied width (some with quoted newlines) over several batches.
fn varied(rows: usize, batches: usize) -> Vec<RecordBatch> {
    (0..batches)
        .map(|b| {
            let ids: Vec<i64> = (0..rows).map(|i| (b * rows + i) as i64).collect();
            let text: Vec<Option<String>> = ids
                .iter()
                .map(|i| match i % 7 {
                    0 => None,
                    1 => Some(String::new()),
                    2 => Some(format!("multi\nline \"{i}\"")),
                    _ => Some("x".repeat((*i as usize * 13) % 90)),
                })
                .collect();
            batch(vec![
                ("id", Arc::new(Int64Array::from(ids)) as ArrayRef),
                ("text", Arc::new(StringArray::from(text)) as ArrayRef),
            ])
        })
        .collect()
}

#[test]
fn parts_end_at_row_ends_and_only_the_first_has_the_header() {
    let batches = varied(3000, 4);
    let whole = csv(&batches);
    let lines_of = |s: &str| s.matches('\n').count();
    let part_bytes = 4096;
    let (ps, summary) = parts(&batches, part_bytes);
    assert!(ps.len() > 10, "{}", ps.len());
    assert_eq!(summary.parts, ps.len() as u64);
    assert_eq!(summary.rows, 12_000);
    assert_eq!(summary.bytes, whole.len() as u64);
    assert_eq!(String::from_utf8(ps.concat()).unwrap(), whole);
    // Where every row of the whole file ends.
    let mut row_ends = std::collections::HashSet::new();
    let mut quoted = false;
    for (i, b) in whole.bytes().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => {
                row_ends.insert(i + 1);
            }
            _ => {}
        }
    }
    let mut at = 0;
    for (i, p) in ps.iter().enumerate() {
        assert!(p.len() <= part_bytes, "part {i}: {} bytes", p.len());
        at += p.len();
        assert!(row_ends.contains(&at), "part {i} ends inside a row");
        let text = std::str::from_utf8(p).unwrap();
        assert_eq!(text.starts_with("id,text\n"), i == 0, "part {i}");
        // A full part: the next row would not have fit.
        if i + 1 < ps.len() {
            assert!(
                p.len() + 200 > part_bytes,
                "part {i} is only {} bytes",
                p.len()
            );
        }
    }
    assert!(lines_of(&whole) > 12_000);
}

#[test]
fn a_row_larger_than_a_part_is_a_part_of_its_own() {
    let big = "y".repeat(3000);
    let s: ArrayRef = Arc::new(StringArray::from(vec!["a", big.as_str(), "b", "c"]));
    let (ps, summary) = parts(&[batch(vec![("s", s)])], 1024);
    let texts: Vec<String> = ps
        .iter()
        .map(|p| String::from_utf8(p.to_vec()).unwrap())
        .collect();
    assert_eq!(
        texts,
        vec!["s\na\n".to_string(), format!("{big}\n"), "b\nc\n".into()]
    );
    assert_eq!(summary.rows, 4);
}

#[test]
fn no_rows_is_the_header_alone() {
    let a: ArrayRef = Arc::new(Int32Array::from(Vec::<i32>::new()));
    let (ps, summary) = parts(&[batch(vec![("a", a)])], 1024);
    assert_eq!(ps, vec![Bytes::from_static(b"a\n")]);
    assert_eq!((summary.rows, summary.parts), (0, 1));
}

#[test]
fn parallel_output_is_the_one_thread_output() {
    let batches = varied(5000, 6);
    let run = |threads: usize, part_bytes: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| parts(&batches, part_bytes).0)
    };
    for part_bytes in [2048, 1 << 16, DEFAULT_PART_BYTES] {
        let one = run(1, part_bytes);
        let four = run(4, part_bytes);
        assert_eq!(one, four, "part_bytes {part_bytes}");
    }
}

#[test]
fn emit_errors_stop_the_encoding() {
    #[derive(Debug)]
    enum Upload {
        Failed,
        Csv(#[allow(dead_code)] VeracityError),
    }
    impl From<VeracityError> for Upload {
        fn from(e: VeracityError) -> Self {
            Upload::Csv(e)
        }
    }
    let batches = varied(3000, 2);
    let mut enc = CsvParts::new(batches[0].schema(), 2048).unwrap();
    let r = enc.push(&batches[0], |_| Err(Upload::Failed));
    let r = r.and_then(|()| enc.finish(|_| Err(Upload::Failed)).map(|_| ()));
    assert!(matches!(r, Err(Upload::Failed)), "{r:?}");
}

#[test]
fn parts_dropped_after_their_upload_give_their_buffers_back_with_the_same_bytes_out() {
    let batches = varied(3000, 7);
    let (kept, summary) = parts(&batches, 4096);
    assert!(summary.parts > 4);
    // Each part copied and dropped as soon as it is emitted, as after its upload: its
    // slices' buffers are written again by later slices.
    let mut enc = CsvParts::new(batches[0].schema(), 4096).unwrap();
    let mut out = Vec::new();
    let mut emit = |p: CsvPart| {
        out.push(p.to_bytes().to_vec());
        Ok::<_, VeracityError>(())
    };
    for b in &batches {
        enc.push(b, &mut emit).unwrap();
    }
    let pooled = enc.pool.take(1);
    assert!(pooled.capacity() > 1, "no buffer given back");
    drop(pooled);
    let dropped = enc.finish(&mut emit).unwrap();
    assert_eq!(dropped, summary);
    let kept: Vec<Vec<u8>> = kept.iter().map(|p| p.to_vec()).collect();
    assert_eq!(out, kept, "the same parts");
}

#[test]
fn slice_buffers_go_back_to_the_pool_when_their_last_handle_is_dropped() {
    let pool = SlicePool::new(1 << 20, 0);
    let buf = vec![7u8; 1000];
    let at = buf.as_ptr();
    let bytes = pool.share(buf);
    let (a, b) = (bytes.slice(..10), bytes.slice(10..));
    drop(bytes);
    drop(a);
    let other = pool.take(10);
    assert_ne!(other.as_ptr(), at, "still held by a part");
    drop(b);
    let again = pool.take(1000);
    assert_eq!((again.as_ptr(), again.len()), (at, 1000), "the same buffer");
    // A buffer too small for the slice is not taken; a new one has room to spare.
    drop(pool.share(again));
    let larger = pool.take(1001);
    assert!(
        larger.len() > 1001 && larger.iter().all(|&b| b == 0),
        "a new, zeroed one"
    );
    drop(pool.share(larger));
    // Past the limit, buffers are freed.
    let small = SlicePool::new(1500, 0);
    let (first, second) = (vec![0; 1000], vec![0; 1000]);
    let kept = first.as_ptr();
    drop(small.share(first));
    drop(small.share(second));
    let reused = small.take(1000);
    assert_eq!(reused.as_ptr(), kept);
    let fresh = small.take(1000);
    assert_eq!(fresh.len(), 1250, "a new buffer: the second one was freed");
    // A part outliving its encoder keeps its bytes (and frees them).
    let gone = SlicePool::new(1 << 20, 0);
    let held = gone.share(vec![1; 10]);
    drop(gone);
    assert_eq!(held, vec![1u8; 10]);
}

/// The parts of `header` and `rows` as the encoder cut them when it copied every row into
/// one buffer per part (before parts were made of the slices): greedily, a row into the
/// part if it fits the part's target (ramping up), a row larger than the target alone.
/// Each part with its number of rows.
fn copied_parts(header: &[u8], rows: &[Vec<u8>], part_bytes: usize) -> Vec<(Vec<u8>, u64)> {
    let first = (part_bytes / 16).max(1 << 20);
    let target = |parts: usize| (first << parts.min(40)).min(part_bytes);
    let (mut out, mut part, mut in_part) = (Vec::new(), header.to_vec(), 0);
    for row in rows {
        if in_part > 0 && part.len() + row.len() > target(out.len()) {
            out.push((std::mem::take(&mut part), std::mem::take(&mut in_part)));
        }
        part.extend_from_slice(row);
        in_part += 1;
        if part.len() >= target(out.len()) {
            out.push((std::mem::take(&mut part), std::mem::take(&mut in_part)));
        }
    }
    if in_part > 0 || out.is_empty() {
        out.push((part, in_part));
    }
    out
}

/// The lines of `batches` (an `id` and a `text` column), written plainly.
fn plain_rows(batches: &[RecordBatch]) -> Vec<Vec<u8>> {
    let mut rows = Vec::new();
    for b in batches {
        let ids = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        let texts = b.column(1).as_any().downcast_ref::<StringArray>().unwrap();
        for i in 0..b.num_rows() {
            let text = texts.is_valid(i).then(|| text_field(texts.value(i)));
            rows.push(format!("{},{}\n", ids.value(i), text.unwrap_or_default()).into_bytes());
        }
    }
    rows
}

#[test]
fn parts_of_slices_are_the_copied_parts_byte_for_byte() {
    // About 5 MiB of rows, with one row of 5 MiB / 2 (larger than the 2 MiB parts) inside.
    let mut batches = varied(20_000, 5);
    let big = "z".repeat(5 << 19);
    batches.insert(
        3,
        batch(vec![
            ("id", Arc::new(Int64Array::from(vec![-1, -2])) as ArrayRef),
            (
                "text",
                Arc::new(StringArray::from(vec![big.as_str(), "after"])) as ArrayRef,
            ),
        ]),
    );
    let rows = plain_rows(&batches);
    let (mut whole_slices, mut slice_parts) = (false, false);
    for part_bytes in [2048, 1 << 16, 2 << 20, 4 << 20] {
        let want = copied_parts(b"id,text\n", &rows, part_bytes);
        let (got, summary) = csv_parts(&batches, part_bytes);
        assert_eq!(got.len(), want.len(), "parts of {part_bytes}");
        for (i, (g, (w, w_rows))) in got.iter().zip(&want).enumerate() {
            assert!(g.to_bytes() == w.as_slice(), "part {i} of {part_bytes}");
            assert_eq!((g.rows(), g.len()), (*w_rows, w.len()), "part {i}");
            whole_slices |= g.chunks().len() > 2;
            slice_parts |= i > 0 && g.chunks().len() == 1;
        }
        assert_eq!(summary.rows, rows.len() as u64);
    }
    assert!(whole_slices, "no part made of several slices");
    assert!(slice_parts, "no part inside one slice");
}

#[test]
fn the_first_parts_ramp_up_to_the_part_size() {
    let batches = varied(20_000, 16);
    let whole = csv(&batches);
    let (mib, part_bytes) = (1usize << 20, 4usize << 20);
    assert!(whole.len() > 8 * mib, "{} bytes of CSV", whole.len());
    let (ps, summary) = parts(&batches, part_bytes);
    assert_eq!(String::from_utf8(ps.concat()).unwrap(), whole);
    assert_eq!(summary.rows, 320_000);
    // 1 MiB (a sixteenth of 4 MiB is under the 1 MiB floor), 2 MiB, then 4 MiB parts, each
    // cut a row short of its size at most; the last part holds what is left.
    let targets = [mib, 2 * mib, part_bytes, part_bytes];
    assert!(ps.len() > targets.len(), "{} parts", ps.len());
    for (i, (p, target)) in ps.iter().zip(targets).enumerate() {
        assert!(
            p.len() <= target && p.len() + 200 > target,
            "part {i}: {} bytes, cut at {target}",
            p.len()
        );
    }
    assert!(ps.iter().all(|p| p.len() <= part_bytes));
    // Parts under the floor are cut at the part size from the first on.
    let small = 256 << 10;
    let (ps, _) = parts(&batches[..2], small);
    assert!(
        ps[0].len() + 200 > small,
        "first part {} bytes",
        ps[0].len()
    );
}

/// The field of `text` by the file's rules, written plainly.
fn text_field(text: &str) -> String {
    let edge = |c: Option<char>| matches!(c, Some(' ' | '\t'));
    let special = text.contains([',', '"', '\n', '\r']);
    if !text.is_empty() && !special && !edge(text.chars().next()) && !edge(text.chars().last()) {
        return text.to_string();
    }
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// The decimal `v` with `scale`, through the general writer.
fn decimal_field(v: i128, scale: i8) -> String {
    let mut out = Vec::new();
    crate::encode::decimal::write_scaled(
        v < 0,
        v.unsigned_abs().to_string().as_bytes(),
        scale,
        &mut out,
    );
    String::from_utf8(out).unwrap()
}

#[test]
fn every_fast_path_matches_a_plain_model_of_the_file() {
    // Texts: short and long, special bytes and edges at every position of a 16-byte chunk.
    let mut texts: Vec<Option<String>> = vec![Some(String::new()), None, Some(" ".into())];
    for len in 1..=40usize {
        let base: String = (0..len).map(|i| (b'a' + (i % 26) as u8) as char).collect();
        texts.push(Some(base.clone()));
        for at in 0..len {
            for c in [',', '"', '\n', '\r', ' ', '\t', 'é'] {
                let mut t: Vec<char> = base.chars().collect();
                t[at] = c;
                texts.push(Some(t.into_iter().collect()));
            }
        }
    }
    let rows = texts.len();
    let mut ints: Vec<Option<i64>> = vec![Some(i64::MIN), Some(i64::MAX), None, Some(0), Some(-1)];
    let mut wide: Vec<Option<i128>> = vec![
        Some(i128::from(u64::MAX)),
        Some(-i128::from(u64::MAX)),
        Some(i128::from(u64::MAX) + 1),
        Some(i128::from(i64::MIN)),
        None,
        Some(0),
        Some(-5),
        Some(i128::MAX),
        Some(i128::MIN),
    ];
    let mut days: Vec<Option<i32>> = vec![
        Some(-719_528),
        Some(-25_568),
        Some(-1),
        None,
        Some(0),
        Some(2_932_896),
    ];
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    while ints.len() < rows {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let v = (x as i64) >> (x % 63);
        ints.push(Some(v));
        wide.push(Some(
            i128::from(v) * if x.is_multiple_of(3) { 1_000_003 } else { 1 },
        ));
        days.push(Some((x % 3_652_424) as i32 - 719_528));
    }
    let (ints, wide, days) = (&ints[..rows], &wide[..rows], &days[..rows]);
    let scales = [0i8, 1, 2, 5, 8, 9, 16, 17, 18, 20, -2];
    let mut cols: Vec<(String, ArrayRef)> = vec![
        ("i".into(), Arc::new(Int64Array::from(ints.to_vec()))),
        ("s".into(), Arc::new(StringArray::from(texts.clone()))),
        ("l".into(), Arc::new(LargeStringArray::from(texts.clone()))),
        ("v".into(), Arc::new(StringViewArray::from(texts.clone()))),
        ("d".into(), Arc::new(Date32Array::from(days.to_vec()))),
    ];
    for s in scales {
        let a = Decimal128Array::from(wide.to_vec())
            .with_precision_and_scale(38, s)
            .unwrap();
        cols.push((format!("dec{s}"), Arc::new(a)));
    }
    let small: Vec<Option<i64>> = ints.iter().map(|v| v.map(|v| v % 1_000_000_000)).collect();
    let d64 = Decimal64Array::from(small.clone()).with_precision_and_scale(18, 2);
    cols.push(("d64".into(), Arc::new(d64.unwrap())));
    let b = RecordBatch::try_from_iter(cols).unwrap();
    let mut want = String::from("i,s,l,v,d");
    for s in scales {
        want += &format!(",dec{s}");
    }
    want += ",d64\n";
    for r in 0..rows {
        let text = texts[r].as_deref().map(text_field).unwrap_or_default();
        let date = days[r].map(|d| {
            let d = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()
                + chrono::TimeDelta::days(d.into());
            d.format("%Y-%m-%d").to_string()
        });
        let mut fields = vec![
            ints[r].map(|v| v.to_string()).unwrap_or_default(),
            text.clone(),
            text.clone(),
            text,
            date.unwrap_or_default(),
        ];
        for s in scales {
            fields.push(wide[r].map(|v| decimal_field(v, s)).unwrap_or_default());
        }
        fields.push(
            small[r]
                .map(|v| decimal_field(v.into(), 2))
                .unwrap_or_default(),
        );
        want += &fields.join(",");
        want.push('\n');
    }
    let got = csv(&[b]);
    for (n, (g, w)) in got.lines().zip(want.lines()).enumerate() {
        assert_eq!(g, w, "line {n}");
    }
    assert_eq!(got, want);
}

#[test]
fn rows_with_long_texts_get_a_room_of_their_own() {
    // Two columns of texts up to 40 KB (quotes doubled: up to 160 KB of room per row), past
    // the room every row of a slice shares.
    let long = |n: usize, quote: usize| {
        let mut t: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
        if quote < n {
            t[quote] = b'"';
        }
        String::from_utf8(t).unwrap()
    };
    let texts: Vec<Option<String>> = (0..20)
        .map(|r| match r % 4 {
            0 => Some(long(40_000 - r, r * 100)),
            1 => None,
            2 => Some(long(r + 1, usize::MAX)),
            _ => Some(long(30_000, usize::MAX)),
        })
        .collect();
    const { assert!(2 * 40_000 * 2 > MAX_SHARED_TEXT_ROOM) };
    let a: ArrayRef = Arc::new(StringArray::from(texts.clone()));
    let v: ArrayRef = Arc::new(StringViewArray::from(texts.clone()));
    let mut want = String::from("a,v\n");
    for t in &texts {
        let field = t.as_deref().map(text_field).unwrap_or_default();
        want += &format!("{field},{field}\n");
    }
    assert_eq!(csv(&[batch(vec![("a", a), ("v", v)])]), want);
}

#[test]
fn repeated_short_views_are_written_like_the_first_time() {
    // Few distinct short values, plain and quoted, repeated in varied orders (the column
    // remembers the plain ones it wrote).
    let values = [
        "A",
        "N",
        "R",
        "",
        "a,b",
        " x",
        "x ",
        "TRUCK",
        "REG AIR",
        "MAIL",
        "\"",
        "12345678abcd",
        "12345678abc,",
        "NONE",
    ];
    let texts: Vec<Option<&str>> = (0..2000usize)
        .map(|i| (i % 17 != 0).then(|| values[(i * i + i / 3) % values.len()]))
        .collect();
    let v: ArrayRef = Arc::new(StringViewArray::from(texts.clone()));
    let mut want = String::from("v\n");
    for t in &texts {
        want += &t.map(text_field).unwrap_or_default();
        want.push('\n');
    }
    assert_eq!(csv(&[batch(vec![("v", v)])]), want);
}

#[test]
fn decimals_with_the_largest_scales_fit_their_rows() {
    let wide = [i128::MAX, i128::MIN, 1, -1, 0];
    let mut cols: Vec<(String, ArrayRef)> = Vec::new();
    let mut want_cols: Vec<Vec<String>> = Vec::new();
    for scale in [-128i8, -60, 38, 127] {
        if let Ok(a) = Decimal128Array::from(wide.to_vec()).with_precision_and_scale(38, scale) {
            cols.push((format!("d{scale}"), Arc::new(a)));
            want_cols.push(wide.iter().map(|v| decimal_field(*v, scale)).collect());
        }
        let big: Vec<i256> = wide
            .iter()
            .map(|v| i256::from_i128(*v) * i256::from_i128(i128::MAX))
            .collect();
        if let Ok(a) = Decimal256Array::from(big.clone()).with_precision_and_scale(38, scale) {
            cols.push((format!("w{scale}"), Arc::new(a)));
            let mut general = Vec::new();
            want_cols.push(
                big.iter()
                    .map(|v| {
                        general.clear();
                        crate::encode::decimal::write_i256(*v, scale, &mut general);
                        String::from_utf8(general.clone()).unwrap()
                    })
                    .collect(),
            );
        }
    }
    assert!(cols.len() >= 4, "{}", cols.len());
    // Each column alone (its row's room is its own width), then all together.
    for ((name, col), values) in cols.iter().zip(&want_cols) {
        let want = format!("{name}\n{}\n", values.join("\n"));
        assert_eq!(csv(&[batch(vec![(name, col.clone())])]), want, "{name}");
    }
    let names: Vec<String> = cols.iter().map(|(n, _)| n.clone()).collect();
    let mut want = names.join(",") + "\n";
    for r in 0..wide.len() {
        let row: Vec<&str> = want_cols.iter().map(|c| c[r].as_str()).collect();
        want += &(row.join(",") + "\n");
    }
    assert_eq!(csv(&[RecordBatch::try_from_iter(cols).unwrap()]), want);
}
