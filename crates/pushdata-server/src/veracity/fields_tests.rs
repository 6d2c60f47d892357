//! The fast path compared with arrow-csv: the same batches, or the piece given back.

#![allow(clippy::unwrap_used)]

use arrow_schema::{Field, Schema};
use proptest::prelude::*;

use super::*;

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("a", DataType::Int64, true),
        Field::new("b", DataType::Utf8, true),
        Field::new("c", DataType::Float64, true),
        Field::new("d", DataType::Date32, true),
        Field::new("e", DataType::Int32, true),
    ]))
}

/// What arrow-csv reads from `text` with `schema`.
fn arrow_csv(text: &str, schema: &SchemaRef) -> Result<Vec<RecordBatch>, ()> {
    arrow_csv::ReaderBuilder::new(schema.clone())
        .with_header(false)
        .with_batch_size(BATCH_ROWS)
        .build_buffered(text.as_bytes())
        .map_err(|_| ())?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| ())
}

#[test]
fn fields_are_read_as_arrow_csv_reads_them() {
    let s = schema();
    for text in [
        "1,x,1.5,2024-02-29,7\n2,,,,\n",
        "3,\"a,\nb\",-2e3,1999-12-31,-1\n4,\"say \"\"hi\"\"\",0,2024-1-5,0",
        "5,\"\",1,+2024-01-01,1\n6,\"\"\"\",2,2024-01-01T10:00:00,2\n",
        "7,é ü,3, 2024-01-01 ,3\n",
        "",
    ] {
        let want = arrow_csv(text, &s).unwrap();
        let got = read(text.as_bytes(), &s).unwrap_or_else(|| panic!("{text:?}"));
        assert_eq!(got, want, "{text:?}");
    }
    // More rows than a batch: the same batches.
    let many: String = (0..BATCH_ROWS + 10)
        .map(|i| format!("{i},n{i},{i}.25,2024-03-{:02},{}\n", i % 28 + 1, i % 5))
        .collect();
    let got = read(many.as_bytes(), &s).unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got, arrow_csv(&many, &s).unwrap());
}

#[test]
fn decimals_are_read_as_the_text_column_is_read() {
    use pushdata_core::veracity::wire::{ColumnType, SchemaColumn};

    use crate::veracity::decimals::{Digits, read_decimals};

    let s: SchemaRef = Arc::new(Schema::new(vec![
        Field::new("a", DataType::Int64, true),
        decimal_text("b"),
    ]));
    let text = "1,12.5\n2,\n3,-0.125\n4,\"1e3\"\n5,123456789012345678901234567890\n";
    let text_batch = &arrow_csv(text, &s).unwrap()[0];
    let col = SchemaColumn::new("b", ColumnType::Decimal);
    let want = read_decimals(text_batch.column(1), &col, 1, &mut Digits::default()).unwrap();
    let got = read(text.as_bytes(), &s).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].column(1), &want);
    assert_eq!(got[0].column(0), text_batch.column(0));
    assert!(read(b"1,1.2.3\n", &s).is_none(), "not a decimal");
}

#[test]
fn what_the_fast_path_does_not_follow_is_given_back() {
    let s = schema();
    for text in [
        "1,x,1.5,2024-01-01,7\r\n",
        "1,x,1.5,2024-01-01,7\n\n2,y,1,2024-01-01,1\n",
        "1,a\"b,1.5,2024-01-01,7\n",
        "1,\"a\"b,1.5,2024-01-01,7\n",
        "1,\"open,1.5,2024-01-01,7\n",
        "1,x,1.5,2024-01-01\n",
        "1,x,1.5,2024-01-01,7,8\n",
        "1,x,no,2024-01-01,7\n",
        "1,x,1,2024-02-30,7\n",
        "99999999999,x,1,2024-01-01,99999999999\n",
    ] {
        assert!(read(text.as_bytes(), &s).is_none(), "{text:?}");
    }
    assert!(
        read(b"1,\xff,1,2024-01-01,1\n", &s).is_none(),
        "invalid UTF-8"
    );
}

/// `text` read by the fast path: arrow-csv's batches when arrow-csv reads it, given back
/// when arrow-csv fails (and, when `fast`, not given back where arrow-csv reads it).
fn same_as_arrow_csv(text: &str, schema: &SchemaRef, fast: bool) {
    let got = read(text.as_bytes(), schema);
    match arrow_csv(text, schema) {
        Ok(want) => match got {
            Some(got) => assert_eq!(got, want, "{text:?}"),
            None => assert!(!fast, "given back: {text:?}"),
        },
        Err(()) => assert!(got.is_none(), "arrow-csv fails: {text:?}"),
    }
}

#[test]
fn integers_at_their_bounds_are_read_as_arrow_csv_reads_them() {
    let s: SchemaRef = Arc::new(Schema::new(vec![
        Field::new("a", DataType::Int64, true),
        Field::new("b", DataType::Int32, true),
    ]));
    let i64s = [
        i64::MIN.to_string(),
        i64::MAX.to_string(),
        (i128::from(i64::MAX) + 1).to_string(),
        (i128::from(i64::MIN) - 1).to_string(),
        "999999999999999999".to_string(),
        "-999999999999999999".to_string(),
        "1000000000000000000".to_string(),
        "000000000000000000000000042".to_string(),
    ];
    let i32s = [
        i32::MIN.to_string(),
        i32::MAX.to_string(),
        (i64::from(i32::MAX) + 1).to_string(),
        (i64::from(i32::MIN) - 1).to_string(),
        "999999999".to_string(),
        "-999999999".to_string(),
        "1000000000".to_string(),
    ];
    let odd = [
        "+5", "007", "-0", "+0", " 5", "5 ", "-", "+", "1e3", "1.0", "0x10", "٣",
    ];
    for a in i64s.iter().map(String::as_str).chain(odd) {
        for b in i32s.iter().map(String::as_str).chain(odd) {
            same_as_arrow_csv(&format!("{a},{b}\n1,2\n"), &s, false);
        }
    }
    // What the own parser reads, read without arrow-csv.
    for text in [
        "-999999999999999999,-999999999\n",
        "0,0\n-0,-0\n",
        "00012,0009\n",
    ] {
        same_as_arrow_csv(text, &s, true);
    }
}

#[test]
fn decimal_edge_cases_are_read_as_the_text_column_is_read() {
    use pushdata_core::veracity::wire::{ColumnType, SchemaColumn};

    use crate::veracity::decimals::{Digits, read_decimals};

    let s: SchemaRef = Arc::new(Schema::new(vec![decimal_text("d")]));
    let col = SchemaColumn::new("d", ColumnType::Decimal);
    for v in [
        "-0.5",
        "0.000",
        "-0",
        "123456789012345678",
        "1234567890123456789",
        "12345678901234567.8",
        "1.2345678901234567",
        "99999999999999999999999999999999999999",
        "1e-3",
        "2.5E2",
        "+1.5",
        " 1.5",
        "1.",
        ".5",
        "-",
        "\"1,5\"",
        "\"7.25\"",
    ] {
        let text = format!("{v}\n1.5\n");
        // Both through `read_decimals` (the fast path's array is checked there for the
        // digits the stored column allows).
        let decimals = |b: Vec<RecordBatch>| {
            read_decimals(b[0].column(0), &col, 1, &mut Digits::default()).ok()
        };
        let want = arrow_csv(&text, &s).ok().map(decimals);
        match (read(text.as_bytes(), &s).map(decimals), want) {
            // Given back: the sequential reader reads it.
            (None, _) => {}
            (Some(got), Some(want)) => assert_eq!(got, want, "{v}"),
            (Some(_), None) => panic!("arrow-csv fails: {v}"),
        }
    }
}

#[test]
fn plain_decimals_and_wide_ones_are_read_by_the_fast_path() {
    let s: SchemaRef = Arc::new(Schema::new(vec![decimal_text("d")]));
    for v in [
        "-0.5",
        "0.000",
        "-0",
        "123456789012345678",
        "12345678901234567.8",
        "1234567890123456789",
        "\"7.25\"",
        "1e-3",
    ] {
        assert!(read(format!("{v}\n1.5\n").as_bytes(), &s).is_some(), "{v}");
    }
}

#[test]
fn fields_and_quotes_across_block_edges_are_read_as_arrow_csv_reads_them() {
    // Rows padded so that every field, quote and line end falls at each offset around
    // the 64-byte blocks, pieces of every length (some without the last line end).
    let s = schema();
    for pad in 0..140 {
        let p = "p".repeat(pad);
        let text = format!(
            "1,{p},1.5,2024-02-29,7\n2,\"{p}\",2,2024-03-01,8\n\
             3,\"{p}\"\"q\"\"\",3,2024-03-02,9\n4,\"a,{p}\nb\",4,2024-03-03,10\n\
             5,,,,\n6,{p}x,6,2024-03-04,11"
        );
        same_as_arrow_csv(&text, &s, true);
        same_as_arrow_csv(&format!("{text}\n"), &s, true);
    }
}

/// A field of column `c` of [`schema`]: mostly values, sometimes odd ones, quoted or not.
fn field(c: usize) -> BoxedStrategy<String> {
    let plain = match c {
        0 => prop_oneof![
            any::<i64>().prop_map(|v| v.to_string()),
            Just(i64::MAX.to_string()),
            Just("9223372036854775808".to_string()),
            "[-+ ]?[0-9]{1,20}",
        ]
        .boxed(),
        1 => "[a-c ,\"\né]{0,6}".boxed(),
        2 => prop_oneof![
            any::<f64>().prop_map(|v| v.to_string()),
            "[-+]?[0-9]{1,4}(\\.[0-9]{0,3})?",
        ]
        .boxed(),
        3 => "(19|20)[0-9]{2}-[01][0-9]-[0-3][0-9]".boxed(),
        _ => prop_oneof![
            any::<i32>().prop_map(|v| v.to_string()),
            "[-+ ]?[0-9]{1,11}",
        ]
        .boxed(),
    };
    (plain, 0..8u8)
        .prop_map(|(v, how)| match how {
            0 => String::new(),
            1 => format!("\"{}\"", v.replace('"', "\"\"")),
            _ => v,
        })
        .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Random rows (random text fields, quoting and odd values included): the fast path
    /// reads them as arrow-csv does, or gives them back.
    #[test]
    fn random_rows_are_read_as_arrow_csv_reads_them(
        rows in proptest::collection::vec((field(0), field(1), field(2), field(3), field(4)), 0..40),
        last_line_end in any::<bool>(),
    ) {
        let mut text: String = rows
            .iter()
            .map(|(a, b, c, d, e)| format!("{a},{b},{c},{d},{e}\n"))
            .collect();
        if !last_line_end {
            text.pop();
        }
        same_as_arrow_csv(&text, &schema(), false);
    }
}
