#![allow(clippy::unwrap_used)]
//! End to end against the reference server (127.0.0.1:0): push with the pipeline, read the
//! published table back from the server's data directory, compare values.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use arrow_array::types::Int32Type;
use arrow_array::*;
use arrow_buffer::i256;
use arrow_schema::{DataType as A, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use pushdata_arrow::{
    Error, InputOptions, InputSource, ModelOptions, ProgressEvent, Push, Workflow,
};
use pushdata_core::wire::DataType as D;
use pushdata_core::wire::{Orientation, UpdatePolicy};

mod common;
use common::Env;

fn rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(|b| b.num_rows()).sum()
}

/// The values of column `c` as text, after casting the source to the server's type
/// (floats narrower than f64 compared at their own width).
fn column_text(batches: &[RecordBatch], c: usize, as_type: &A) -> Vec<Option<String>> {
    let opts = arrow_cast::display::FormatOptions::default();
    let mut out = Vec::new();
    for b in batches {
        let col = arrow_cast::cast(b.column(c), as_type).unwrap();
        let f = arrow_cast::display::ArrayFormatter::try_new(col.as_ref(), &opts).unwrap();
        for i in 0..col.len() {
            out.push(col.is_valid(i).then(|| f.value(i).to_string()));
        }
    }
    out
}

fn assert_same(src: &[RecordBatch], got: &[RecordBatch]) {
    assert_eq!(rows(src), rows(got));
    if got.is_empty() {
        return;
    }
    let ss = src[0].schema();
    let gs = got[0].schema();
    assert_eq!(ss.fields().len(), gs.fields().len());
    for (c, (sf, gf)) in ss.fields().iter().zip(gs.fields()).enumerate() {
        assert_eq!(sf.name(), gf.name());
        let cmp_type = match sf.data_type() {
            A::Float16 | A::Float32 => A::Float32,
            A::Timestamp(u, Some(_)) => A::Timestamp(*u, None),
            _ => gf.data_type().clone(),
        };
        let cmp_type = match (&cmp_type, gf.data_type()) {
            (A::Timestamp(_, None), A::Timestamp(gu, None)) => A::Timestamp(*gu, None),
            _ => cmp_type,
        };
        let a = column_text(src, c, &cmp_type);
        let b = column_text(got, c, &cmp_type);
        assert_eq!(
            a,
            b,
            "column {:?} ({} -> {})",
            sf.name(),
            sf.data_type(),
            gf.data_type()
        );
    }
}

fn all_types_batch() -> RecordBatch {
    let n = 5;
    let dict: DictionaryArray<Int32Type> = vec![Some("a"), None, Some("b"), Some("a"), Some("ü")]
        .into_iter()
        .collect();
    let big =
        i256::from_string("-123456789012345678901234567890123456789012345678901234567890").unwrap();
    let cols: Vec<(&str, ArrayRef)> = vec![
        (
            "i8",
            Arc::new(Int8Array::from(vec![
                Some(-128),
                Some(0),
                None,
                Some(127),
                Some(1),
            ])),
        ),
        (
            "i16",
            Arc::new(Int16Array::from(vec![i16::MIN, -1, 0, 1, i16::MAX])),
        ),
        (
            "i32",
            Arc::new(Int32Array::from(vec![
                Some(i32::MIN),
                None,
                Some(0),
                Some(7),
                Some(i32::MAX),
            ])),
        ),
        (
            "i64",
            Arc::new(Int64Array::from(vec![i64::MIN, -1, 0, 1, i64::MAX])),
        ),
        ("u8", Arc::new(UInt8Array::from(vec![0u8, 1, 2, 254, 255]))),
        (
            "u16",
            Arc::new(UInt16Array::from(vec![0u16, 1, 2, 3, u16::MAX])),
        ),
        (
            "u32",
            Arc::new(UInt32Array::from(vec![0u32, 1, 2, 3, u32::MAX])),
        ),
        (
            "u64",
            Arc::new(UInt64Array::from(vec![
                Some(0u64),
                Some(1),
                None,
                Some(3),
                Some(u64::MAX),
            ])),
        ),
        (
            "f32",
            Arc::new(Float32Array::from(vec![
                Some(1.1f32),
                Some(-0.25),
                None,
                Some(3.0e-7),
                Some(1.0e30),
            ])),
        ),
        (
            "f64",
            Arc::new(Float64Array::from(vec![
                Some(0.1),
                Some(-1e300),
                Some(5e-324),
                None,
                Some(2.5),
            ])),
        ),
        (
            "dec",
            Arc::new(
                Decimal128Array::from(vec![Some(-12340), Some(0), Some(5), None, Some(99_999_999)])
                    .with_precision_and_scale(10, 3)
                    .unwrap(),
            ),
        ),
        (
            "dec256",
            Arc::new(
                Decimal256Array::from(vec![
                    big,
                    i256::ONE,
                    i256::ZERO,
                    i256::MINUS_ONE,
                    big.wrapping_neg(),
                ])
                .with_precision_and_scale(76, 10)
                .unwrap(),
            ),
        ),
        (
            "s",
            Arc::new(StringArray::from(vec![
                Some("plain"),
                Some("quote\" back\\ nl\n tab\t ctl\u{1}"),
                None,
                Some("héllo ✓ 😀"),
                Some(""),
            ])),
        ),
        (
            "large_s",
            Arc::new(LargeStringArray::from(vec!["a", "b", "c", "d", "e"])),
        ),
        (
            "view_s",
            Arc::new(StringViewArray::from(vec![
                "v1",
                "a longer view string value",
                "",
                "x",
                "y",
            ])),
        ),
        ("dict", Arc::new(dict)),
        (
            "b",
            Arc::new(BooleanArray::from(vec![
                Some(true),
                Some(false),
                None,
                Some(true),
                Some(false),
            ])),
        ),
        (
            "d32",
            Arc::new(Date32Array::from(vec![
                Some(0),
                Some(-1),
                Some(-719_528),
                None,
                Some(2_932_896),
            ])),
        ),
        (
            "d64",
            Arc::new(Date64Array::from(vec![
                0,
                86_400_000,
                -86_400_000,
                0,
                1_577_836_800_000,
            ])),
        ),
        (
            "t32",
            Arc::new(Time32SecondArray::from(vec![0, 1, 3600, 86_399, 43_200])),
        ),
        (
            "t32ms",
            Arc::new(Time32MillisecondArray::from(vec![
                0, 1, 1500, 86_399_999, 5,
            ])),
        ),
        (
            "t64",
            Arc::new(Time64MicrosecondArray::from(vec![
                Some(0),
                Some(45_296_000_123),
                None,
                Some(1),
                Some(86_399_999_999),
            ])),
        ),
        (
            "t64ns",
            Arc::new(Time64NanosecondArray::from(vec![
                0,
                1_000,
                2_000_000,
                3_000_000_000,
                86_399_999_999_000,
            ])),
        ),
        (
            "ts",
            Arc::new(TimestampMicrosecondArray::from(vec![
                Some(0),
                Some(-1),
                None,
                Some(1_577_836_800_123_456),
                Some(253_402_300_799_000_000),
            ])),
        ),
        (
            "ts_s",
            Arc::new(TimestampSecondArray::from(vec![
                0,
                1,
                -1,
                1_000_000_000,
                2_000_000_000,
            ])),
        ),
        (
            "ts_zoned",
            Arc::new(
                TimestampMillisecondArray::from(vec![0, 1, 1_500, -86_400_000, 1_600_000_000_000])
                    .with_timezone("+02:00"),
            ),
        ),
        ("nulls", Arc::new(NullArray::new(n))),
    ];
    let schema = Arc::new(Schema::new(
        cols.iter()
            .map(|(name, a)| Field::new(*name, a.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    RecordBatch::try_new(schema, cols.into_iter().map(|(_, a)| a).collect()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_type_survives_both_orientations() {
    let env = Env::start().await;
    let batch = all_types_batch();
    for o in [Orientation::Row, Orientation::Column] {
        let report = Push::create(env.client.clone(), format!("all types {o}"))
            .with_memory_table(
                "all",
                batch.schema(),
                vec![batch.clone(), batch.slice(1, 3)],
            )
            .with_orientation(o)
            .with_chunk_bytes(2048)
            .execute()
            .await
            .unwrap();
        assert_eq!(report.tables[0].rows, 8);
        assert!(report.chunks >= 2, "{report:?}");
        let got = env.read(&report.dataset_id, "all");
        let gs = got[0].schema();
        let ty = |name: &str| gs.field_with_name(name).unwrap().data_type().clone();
        assert_eq!(ty("i8"), A::Int32);
        assert_eq!(ty("i64"), A::Int64);
        assert_eq!(ty("u64"), A::Decimal128(38, 0));
        assert!(
            matches!(ty("dec256"), A::Decimal256(76, 10)),
            "{}",
            ty("dec256")
        );
        assert_eq!(ty("f32"), A::Float64);
        assert_eq!(ty("d64"), A::Date32);
        assert_eq!(ty("t32"), A::Time64(TimeUnit::Microsecond));
        assert_eq!(ty("ts_zoned"), A::Timestamp(TimeUnit::Microsecond, None));
        assert_eq!(ty("dict"), A::Utf8);
        let model = pushdata_arrow::infer_model(
            "x",
            &[pushdata_arrow::TableSchema::new("all", batch.schema())],
            &ModelOptions::default(),
        )
        .unwrap();
        assert_eq!(model.tables[0].columns[7].mapping.data_type, D::BigDecimal);
        assert_same(&[batch.clone(), batch.slice(1, 3)], &got);
    }
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_table_push_with_shared_attribute_and_progress() {
    let env = Env::start().await;
    let s1: SchemaRef = Arc::new(Schema::new(vec![
        Field::new("Region", A::Utf8, false),
        Field::new("Sales", A::Float64, true),
    ]));
    let s2: SchemaRef = Arc::new(Schema::new(vec![
        Field::new("Region", A::Utf8, false),
        Field::new("Year", A::Int32, false),
        Field::new("Target", A::Int64, true),
    ]));
    let b1 = RecordBatch::try_new(
        s1.clone(),
        vec![
            Arc::new(StringArray::from(vec!["north", "south"])),
            Arc::new(Float64Array::from(vec![1.5, 2.5])),
        ],
    )
    .unwrap();
    let b2 = RecordBatch::try_new(
        s2.clone(),
        vec![
            Arc::new(StringArray::from(vec!["north", "south", "east"])),
            Arc::new(Int32Array::from(vec![2020, 2021, 2022])),
            Arc::new(Int64Array::from(vec![Some(10), None, Some(30)])),
        ],
    )
    .unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    let ev = events.clone();
    let stream = futures::stream::iter(vec![b2.clone()]);
    let report = Push::create(env.client.clone(), "two tables")
        .with_batches_table("t1", s1, vec![b1.clone()])
        .with_stream_table("t2", s2, stream)
        .with_model_options(ModelOptions::default().with_attribute("Year"))
        .with_table_policy("t2", UpdatePolicy::Add)
        .with_progress(move |e| ev.lock().unwrap().push(e))
        .execute()
        .await
        .unwrap();
    assert_eq!(report.tables.len(), 2);
    assert_eq!(report.tables[1].rows, 3);
    assert_same(&[b1], &env.read(&report.dataset_id, "t1"));
    assert_same(&[b2], &env.read(&report.dataset_id, "t2"));
    let events = events.lock().unwrap().clone();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ProgressEvent::DatasetCreated { .. }))
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ProgressEvent::Published { .. }))
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, ProgressEvent::ChunkUploaded { .. }))
            .count(),
        2
    );
    env.stop().await;
}

fn write_parquet(
    path: &std::path::Path,
    batches: &[RecordBatch],
    schema: SchemaRef,
    group_rows: usize,
) {
    let file = std::fs::File::create(path).unwrap();
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(group_rows))
        .build();
    let mut w = ArrowWriter::try_new(file, schema, Some(props)).unwrap();
    for b in batches {
        w.write(b).unwrap();
    }
    w.close().unwrap();
}

fn numbered(start: i64, n: i64) -> RecordBatch {
    RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("id", A::Int64, false),
            Field::new("label", A::Utf8, true),
            Field::new("amount", A::Decimal128(18, 2), true),
        ])),
        vec![
            Arc::new(Int64Array::from_iter_values(start..start + n)),
            Arc::new(StringArray::from_iter_values(
                (start..start + n).map(|i| format!("label {i}")),
            )),
            Arc::new(
                Decimal128Array::from_iter_values((start..start + n).map(|i| i128::from(i) * 101))
                    .with_precision_and_scale(18, 2)
                    .unwrap(),
            ),
        ],
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parquet_with_many_row_groups_and_an_empty_file() {
    let env = Env::start().await;
    let many = env.dir.path().join("many.parquet");
    let batches: Vec<RecordBatch> = (0..10).map(|i| numbered(i * 1000, 1000)).collect();
    write_parquet(&many, &batches, batches[0].schema(), 700);
    let empty = env.dir.path().join("empty.parquet");
    write_parquet(&empty, &[], batches[0].schema(), 700);
    for o in [Orientation::Row, Orientation::Column] {
        let report = Push::create(env.client.clone(), format!("parquet {o}"))
            .with_parquet_table("many", &many)
            .with_parquet_table("empty", &empty)
            .with_orientation(o)
            .with_chunk_bytes(64 * 1024)
            .with_batch_rows(333)
            .with_concurrency(3)
            .execute()
            .await
            .unwrap();
        assert_eq!(report.tables[0].rows, 10_000);
        assert!(report.tables[0].chunks > 5, "{report:?}");
        assert_eq!(report.tables[1].rows, 0);
        assert_same(&batches, &env.read(&report.dataset_id, "many"));
        assert_eq!(rows(&env.read(&report.dataset_id, "empty")), 0);
    }
    // Files named after their stem.
    let report = Push::create(env.client.clone(), "by stem")
        .with_chunk_bytes(32 * 1024)
        .with_concurrency(2)
        .with_parquet_files([&many])
        .execute()
        .await
        .unwrap();
    assert_eq!(report.tables[0].name, "many");
    assert!(report.chunks > 5, "{report:?}");
    assert_same(&batches, &env.read(&report.dataset_id, "many"));
    env.stop().await;
}

/// A tiny memory budget with tiny chunks: the producer waits for uploads (and sends the
/// chunk being built early when the budget is smaller than a chunk), never deadlocks, and
/// every row arrives once, in both orientations; one row larger than the budget goes
/// through alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tiny_memory_budget_with_tiny_chunks_round_trips() {
    let env = Env::start().await;
    let batches: Vec<RecordBatch> = (0..3).map(|i| numbered(i * 700, 700)).collect();
    for o in [Orientation::Row, Orientation::Column] {
        // Budget above a chunk (2 KiB), and below it (1 KiB: chunks cut at the budget).
        for (chunk, budget) in [(2048usize, 5000usize), (2048, 1024)] {
            let report = Push::create(env.client.clone(), format!("tiny budget {o} {budget}"))
                .with_memory_table("t", batches[0].schema(), batches.clone())
                .with_orientation(o)
                .with_chunk_bytes(chunk)
                .with_max_buffered_bytes(budget)
                .with_concurrency(3)
                .execute()
                .await
                .unwrap();
            assert_eq!(report.tables[0].rows, 2100);
            assert!(report.chunks > 20, "{report:?}");
            if budget < chunk {
                // Chunks are cut at about the budget: each body stays under it (+ envelope).
                assert!(report.bytes / report.chunks < 1024 + 64, "{report:?}");
            }
            assert_same(&batches, &env.read(&report.dataset_id, "t"));
        }
    }
    // One row (about 12 KB of base64) larger than both the chunk target and the budget.
    let big = "x".repeat(9000);
    let batch = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("id", A::Int64, false),
            Field::new("label", A::Utf8, true),
        ])),
        vec![
            Arc::new(Int64Array::from(vec![1, 2, 3])),
            Arc::new(StringArray::from(vec!["small", big.as_str(), "small"])),
        ],
    )
    .unwrap();
    let report = Push::create(env.client.clone(), "one big row")
        .with_memory_table("t", batch.schema(), vec![batch.clone()])
        .with_chunk_bytes(1024)
        .with_max_buffered_bytes(2048)
        .execute()
        .await
        .unwrap();
    assert_eq!(report.chunks, 3, "{report:?}");
    assert_same(&[batch], &env.read(&report.dataset_id, "t"));
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_existing_dataset_and_single_request() {
    let env = Env::start().await;
    let b = numbered(0, 50);
    // Single request: create.
    let report = Push::create(env.client.clone(), "single")
        .with_memory_table("t", b.schema(), vec![b.clone()])
        .with_model_options(ModelOptions::default().with_attribute("id"))
        .with_workflow(Workflow::SingleRequest)
        .execute()
        .await
        .unwrap();
    assert_same(std::slice::from_ref(&b), &env.read(&report.dataset_id, "t"));
    // Single request: update with add.
    let more = numbered(50, 10);
    Push::into_dataset(env.client.clone(), &report.dataset_id)
        .with_memory_table("t", more.schema(), vec![more.clone()])
        .with_model_options(ModelOptions::default().with_attribute("id"))
        .with_workflow(Workflow::SingleRequest)
        .with_policy(UpdatePolicy::Add)
        .execute()
        .await
        .unwrap();
    assert_same(
        &[b.clone(), more.clone()],
        &env.read(&report.dataset_id, "t"),
    );
    // Multi request into the same (existing) dataset, replace.
    let again = numbered(100, 5);
    Push::into_dataset(env.client.clone(), &report.dataset_id)
        .with_memory_table("t", again.schema(), vec![again.clone()])
        .with_model_options(ModelOptions::default().with_attribute("id"))
        .execute()
        .await
        .unwrap();
    assert_same(&[again], &env.read(&report.dataset_id, "t"));
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_value_cancels_the_session_and_publishes_nothing() {
    let env = Env::start().await;
    let good = numbered(0, 10);
    let report = Push::create(env.client.clone(), "cancel")
        .with_memory_table("t", good.schema(), vec![good.clone()])
        .execute()
        .await
        .unwrap();
    let schema = Arc::new(Schema::new(vec![Field::new("d", A::Date32, true)]));
    let bad = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(Date32Array::from(vec![0, 1, 5_000_000]))],
    )
    .unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    let ev = events.clone();
    let err = Push::create(env.client.clone(), "bad")
        .with_memory_table("t", schema, vec![bad])
        .with_progress(move |e| ev.lock().unwrap().push(e))
        .execute()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Value { row: 2, .. }), "{err}");
    assert!(
        events
            .lock()
            .unwrap()
            .iter()
            .any(|e| matches!(e, ProgressEvent::Cancelled { .. }))
    );
    // The first dataset is untouched.
    assert_same(&[good], &env.read(&report.dataset_id, "t"));
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_chunk_names_table_chunk_and_rows() {
    let env = Env::start().await;
    let b = numbered(0, 10);
    // A dataset id that does not exist: its definition cannot be read (404), nothing is
    // sent.
    let err = Push::into_dataset(env.client.clone(), "0123456789ABCDEF0123456789ABCDEF")
        .with_memory_table("t", b.schema(), vec![b])
        .execute()
        .await
        .unwrap_err();
    match &err {
        Error::Api { source, .. } => assert_eq!(source.status(), Some(404), "{err}"),
        e => panic!("{e}"),
    }
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_errors() {
    let env = Env::start().await;
    let b = numbered(0, 1);
    let err = Push::create(env.client.clone(), "x")
        .execute()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)));
    // A push with neither a dataset name nor a dataset id cannot be written any more:
    // `Push::create` and `Push::into_dataset` are the only ways to make one.
    let err = Push::create(env.client.clone(), "x")
        .with_memory_table("t", b.schema(), vec![b.clone()])
        .with_memory_table("u", b.schema(), vec![b.clone()])
        .with_workflow(Workflow::SingleRequest)
        .execute()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)));
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunk_the_server_refuses_cancels_and_names_table_chunk_rows() {
    let env = Env::start_with(|c| c.with_max_body_bytes(8 * 1024)).await;
    let b = numbered(0, 2000);
    let events = Arc::new(Mutex::new(Vec::new()));
    let ev = events.clone();
    let err = Push::create(env.client.clone(), "too big")
        .with_memory_table("t", b.schema(), vec![b])
        .with_chunk_bytes(64 * 1024)
        .with_progress(move |e| ev.lock().unwrap().push(e))
        .execute()
        .await
        .unwrap_err();
    match &err {
        Error::Chunk {
            table, chunk, rows, ..
        } => {
            assert_eq!(table, "t");
            assert!(*chunk >= 1);
            assert!(rows.end > rows.start);
        }
        e => panic!("{e}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains("table \"t\", chunk ") && msg.contains("(rows "),
        "{msg}"
    );
    let events = events.lock().unwrap().clone();
    let dataset_id = events
        .iter()
        .find_map(|e| match e {
            ProgressEvent::DatasetCreated { dataset_id } => Some(dataset_id.clone()),
            _ => None,
        })
        .unwrap();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ProgressEvent::Cancelled { .. }))
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, ProgressEvent::Publishing { .. }))
    );
    // Nothing was published, so the dataset the push created is deleted (issue 12, #16;
    // it used to stay behind, empty).
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ProgressEvent::DatasetDeleted { .. }))
    );
    assert!(pushdata_server::read_table(&env.dir.path().join("data"), &dataset_id, "t").is_err());

    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_fallback_columns_arrive_as_strings() {
    use arrow_array::builder::{Int32Builder, ListBuilder};
    let env = Env::start().await;
    let mut lb = ListBuilder::new(Int32Builder::new());
    lb.values().append_value(1);
    lb.values().append_value(2);
    lb.append(true);
    lb.append(false);
    let schema_fields = vec![
        Field::new("list", A::new_list(A::Int32, true), true),
        Field::new("bin", A::Binary, true),
        Field::new("dur", A::Duration(TimeUnit::Second), true),
    ];
    let b = RecordBatch::try_new(
        Arc::new(Schema::new(schema_fields)),
        vec![
            Arc::new(lb.finish()),
            Arc::new(BinaryArray::from(vec![Some(&b"hi!"[..]), None])),
            Arc::new(DurationSecondArray::from(vec![Some(90), Some(0)])),
        ],
    )
    .unwrap();
    for o in [Orientation::Row, Orientation::Column] {
        let report = Push::create(env.client.clone(), format!("text {o}"))
            .with_memory_table("t", b.schema(), vec![b.clone()])
            .with_model_options(ModelOptions::default().with_text_fallback(true))
            .with_orientation(o)
            .execute()
            .await
            .unwrap();
        let got = env.read(&report.dataset_id, "t");
        assert_eq!(
            column_text(&got, 0, &A::Utf8),
            vec![Some("[1,2]".to_string()), None]
        );
        assert_eq!(
            column_text(&got, 1, &A::Utf8),
            vec![Some("aGkh".to_string()), None]
        );
        assert_eq!(
            column_text(&got, 2, &A::Utf8),
            vec![Some("PT90S".to_string()), Some("P0D".to_string())]
        );
    }
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_error_names_the_table_and_publishes_nothing() {
    let env = Env::start().await;
    let b = numbered(0, 10);
    let items: Vec<Result<RecordBatch, arrow_schema::ArrowError>> = vec![
        Ok(b.clone()),
        Err(arrow_schema::ArrowError::ComputeError(
            "the source broke".into(),
        )),
    ];
    let err = Push::create(env.client.clone(), "broken source")
        .with_batches_table("t", b.schema(), items)
        .execute()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Arrow { table, .. } if table == "t"),
        "{err}"
    );
    assert!(err.to_string().contains("the source broke"), "{err}");
    let stream = futures::stream::iter(vec![
        Ok(b.clone()),
        Err(arrow_schema::ArrowError::ComputeError(
            "the stream broke".into(),
        )),
    ]);
    let err = Push::create(env.client.clone(), "broken stream")
        .with_stream_table("s", b.schema(), stream)
        .execute()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("the stream broke"), "{err}");
    env.stop().await;
}

/// An object of any format read by a `file://` URL and rewritten after it was listed (its
/// schema read) and before the push reads it: every read asks for the ETag listed, so the
/// push fails with `FileChanged` naming the table and URL, and publishes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_rewritten_after_it_was_listed_is_file_changed() {
    let env = Env::start().await;
    let b = numbered(0, 50);
    let mut ipc = Vec::new();
    let mut w = arrow_ipc::writer::FileWriter::try_new(&mut ipc, &b.schema()).unwrap();
    w.write(&b).unwrap();
    w.finish().unwrap();
    drop(w);
    let mut parquet = Vec::new();
    let mut w = ArrowWriter::try_new(&mut parquet, b.schema(), None).unwrap();
    w.write(&b).unwrap();
    w.close().unwrap();
    let files: [(&str, Vec<u8>); 4] = [
        ("rows.csv", b"id,name\n1,a\n2,b\n".to_vec()),
        ("rows.jsonl", b"{\"id\":1}\n{\"id\":2}\n".to_vec()),
        ("rows.feather", ipc),
        ("rows.parquet", parquet),
    ];
    for (name, bytes) in files {
        let path = env.dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        let url = format!("file://{}", path.display());
        let input = InputSource::open("t", &url, InputOptions::default()).unwrap();
        // Another version of the file: longer, and a new inode.
        let fresh = path.with_extension("new");
        std::fs::write(&fresh, [bytes.as_slice(), b"\n"].concat()).unwrap();
        std::fs::rename(&fresh, &path).unwrap();
        let pushed = Push::create(env.client.clone(), name)
            .with_input_table("t", input)
            .execute()
            .await;
        match pushed {
            Err(Error::FileChanged { table, path: p }) => {
                assert_eq!((table.as_str(), p), ("t", PathBuf::from(&url)));
            }
            other => panic!("{name}: expected FileChanged, got {other:?}"),
        }
        let found = env
            .client
            .find_in_folder(&pushdata_core::Folder::MyReports, name, 3)
            .await
            .unwrap();
        assert!(found.is_empty(), "{name}: nothing published: {found:?}");
    }
    env.stop().await;
}

/// A Parquet file that changes while it is being pushed, cut short in place or replaced
/// by a rename: the push fails naming the table and the file (the change is seen when a row
/// group is opened, or as a read cut short), nothing is published, and the dataset it
/// created is gone. The same for the file read as a `file://` URL through `object_store`'s
/// local store, where every read asks for the ETag listed: a replaced file is
/// `FileChanged`, whatever read sees it first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parquet_file_that_changes_while_it_is_pushed() {
    let env = Env::start().await;
    let batches: Vec<RecordBatch> = (0..20).map(|i| numbered(i * 500, 500)).collect();
    let schema = batches[0].schema();
    for (replace, url) in [(false, false), (true, false), (false, true), (true, true)] {
        let path = env
            .dir
            .path()
            .join(format!("changing-{replace}-{url}.parquet"));
        write_parquet(&path, &batches, schema.clone(), 500);
        let changed = Arc::new(Mutex::new(false));
        let (at, flag) = (path.clone(), changed.clone());
        let other = numbered(1_000_000, 10);
        let name = format!("changing {replace} {url}");
        let push = Push::create(env.client.clone(), name.clone());
        let (push, named) = if url {
            let location = format!("file://{}", path.display());
            let input = InputSource::open("t", &location, InputOptions::default()).unwrap();
            (push.with_input_table("t", input), PathBuf::from(location))
        } else {
            (push.with_parquet_table("t", &path), path.clone())
        };
        let pushed = push
            .with_chunk_bytes(16 * 1024)
            .with_concurrency(1)
            .with_batch_rows(100)
            .with_progress(move |e| {
                let mut done = flag.lock().unwrap();
                if !matches!(e, ProgressEvent::ChunkUploaded { .. }) || *done {
                    return;
                }
                *done = true;
                if replace {
                    let fresh = at.with_extension("new");
                    write_parquet(&fresh, std::slice::from_ref(&other), other.schema(), 10);
                    std::fs::rename(&fresh, &at).unwrap();
                } else {
                    let len = std::fs::metadata(&at).unwrap().len();
                    let file = std::fs::OpenOptions::new().write(true).open(&at).unwrap();
                    file.set_len(len / 3).unwrap();
                }
            })
            .execute()
            .await;
        assert!(
            *changed.lock().unwrap(),
            "the file was changed during the push"
        );
        let found = env
            .client
            .find_in_folder(&pushdata_core::Folder::MyReports, &name, 3)
            .await
            .unwrap();
        match pushed {
            Err(Error::FileChanged { table, path: p }) => {
                assert_eq!((table.as_str(), p.as_path()), ("t", named.as_path()));
            }
            Err(Error::Parquet { table, path: p, .. }) if !(url && replace) => {
                assert_eq!((table.as_str(), p.as_path()), ("t", named.as_path()));
            }
            other => panic!("expected an error naming the changed file, got {other:?}"),
        }
        assert!(
            found.is_empty(),
            "the dataset it created was deleted: {found:?}"
        );
    }
    env.stop().await;
}
