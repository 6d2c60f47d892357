//! Veracity push and pull over real HTTP against the reference server's emulation.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use arrow_array::{Array, Decimal128Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use arrow_select::concat::concat_batches;
use common::veracity::{Env, batch, columns, create, rows, schema, start, wait};
use pushdata_arrow::veracity::{
    ColumnType, Operation, SchemaColumn, TransferError, VeracityError, VeracityPull, VeracityPush,
};
use pushdata_core::veracity::Error as CoreError;

async fn apply(env: &Env, id: &str, op: Operation, ids: &[i64], speed: f64) {
    let report = VeracityPush::into_dataset(env.client.clone(), id, op)
        .with_memory(schema(), vec![batch(ids, speed)])
        .with_dataset_columns(columns(op != Operation::Append))
        .with_job_wait(wait())
        .await
        .unwrap();
    assert_eq!(report.rows, ids.len() as u64);
    assert_eq!(report.dataset_id, id);
}

#[tokio::test]
async fn create_from_batches_reads_back_equal() {
    let env = start().await;
    let input = vec![batch(&[1, 2, 3], 0.5), batch(&[4, 5], 0.5)];
    let report = VeracityPush::create(env.client.clone(), "Wind")
        .with_batches(schema(), input.clone())
        .with_key("Id")
        .with_job_wait(wait())
        .await
        .unwrap();
    assert_eq!((report.rows, report.parts), (5, 1));
    assert!(report.status.is_success());
    let (got_schema, got) = VeracityPull::new(env.client.clone(), &report.dataset_id)
        .with_columns(columns(true))
        .with_page_size(2)
        .collect()
        .await
        .unwrap();
    assert_eq!(got.len(), 3, "5 rows in pages of 2");
    let got = concat_batches(&got_schema, &got).unwrap();
    let want = concat_batches(&schema(), &input).unwrap();
    assert_eq!(got.num_rows(), 5);
    for i in 0..3 {
        assert_eq!(
            got.column(i).to_data(),
            want.column(i).to_data(),
            "column {i}"
        );
    }
}

#[tokio::test]
async fn upsert_delete_overwrite_on_overlapping_keys() {
    let env = start().await;
    let id = create(&env, vec![batch(&[1, 2, 3], 0.0)], true).await;
    apply(&env, &id, Operation::Upsert, &[3, 4], 0.5).await;
    assert_eq!(
        rows(&env, &id, true).await,
        [(1, 1.0), (2, 2.0), (3, 3.5), (4, 4.5)]
    );
    apply(&env, &id, Operation::Delete, &[2, 4, 9], 0.0).await;
    assert_eq!(rows(&env, &id, true).await, [(1, 1.0), (3, 3.5)]);
    apply(&env, &id, Operation::Overwrite, &[7, 8], 0.25).await;
    assert_eq!(rows(&env, &id, true).await, [(7, 7.25), (8, 8.25)]);
}

#[tokio::test]
async fn append_to_a_keyless_dataset_keeps_duplicates() {
    let env = start().await;
    let id = create(&env, vec![batch(&[1, 2], 0.0)], false).await;
    apply(&env, &id, Operation::Append, &[2, 3], 0.5).await;
    assert_eq!(
        rows(&env, &id, false).await,
        [(1, 1.0), (2, 2.0), (2, 2.5), (3, 3.5)]
    );
}

#[tokio::test]
async fn tiny_parts_make_several_appends() {
    let env = start().await;
    let ids: Vec<i64> = (0..2000).collect();
    let input: Vec<RecordBatch> = ids.chunks(300).map(|c| batch(c, 0.5)).collect();
    let report = VeracityPush::create(env.client.clone(), "Wind")
        .with_batches(schema(), input)
        .with_key("Id")
        .with_part_bytes(1024)
        .with_job_wait(wait())
        .await
        .unwrap();
    assert!(report.parts > 5, "{} parts", report.parts);
    assert_eq!(report.rows, 2000);
    let (_, got) = VeracityPull::new(env.client.clone(), &report.dataset_id)
        .with_columns(columns(true))
        .collect()
        .await
        .unwrap();
    assert_eq!(got.iter().map(RecordBatch::num_rows).sum::<usize>(), 2000);
}

/// One append at a time or several in flight, each part lands at its own position: the
/// dataset holds every row once, and the parts are reported appended in file order.
#[tokio::test]
async fn parts_appended_several_at_once_read_back_in_order() {
    use std::sync::Mutex;

    use pushdata_arrow::veracity::VeracityEvent;

    let env = start().await;
    let ids: Vec<i64> = (0..3000).collect();
    for in_flight in [1, 3] {
        let input: Vec<RecordBatch> = ids.chunks(250).map(|c| batch(c, 0.5)).collect();
        let appended = Arc::new(Mutex::new(Vec::new()));
        let seen = appended.clone();
        let report = VeracityPush::create(env.client.clone(), "Wind")
            .with_batches(schema(), input)
            .with_key("Id")
            .with_part_bytes(2048)
            .with_appends_in_flight(in_flight)
            .with_job_wait(wait())
            .with_progress(move |e| {
                if let VeracityEvent::PartAppended {
                    part, total_bytes, ..
                } = e
                {
                    seen.lock().unwrap().push((part, total_bytes));
                }
            })
            .await
            .unwrap();
        assert!(report.parts > 10, "{} parts", report.parts);
        let appended = appended.lock().unwrap().clone();
        assert_eq!(appended.len() as u64, report.parts);
        for (i, w) in appended.windows(2).enumerate() {
            assert_eq!(w[1].0, w[0].0 + 1, "parts in order: {appended:?}");
            assert!(w[1].1 > w[0].1, "bytes grow: {i} {appended:?}");
        }
        assert_eq!(appended.last().map(|a| a.1), Some(report.bytes));
        let (_, got) = VeracityPull::new(env.client.clone(), &report.dataset_id)
            .with_columns(columns(true))
            .collect()
            .await
            .unwrap();
        let mut got_ids: Vec<i64> = got
            .iter()
            .flat_map(|b| {
                b.column(0)
                    .as_any()
                    .downcast_ref::<arrow_array::Int64Array>()
                    .unwrap()
                    .values()
                    .to_vec()
            })
            .collect();
        got_ids.sort_unstable();
        assert_eq!(got_ids, ids, "{in_flight} in flight");
    }
}

/// The input is read and encoded while the schema and the job are registered: by the time
/// the job is registered, the source has been read (the progress callback waits for the
/// source's first read, up to ten seconds; were the encoding started only with the upload,
/// it would wait in vain, since the upload comes after that event).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_input_is_encoded_while_the_job_is_registered() {
    use std::sync::Mutex;
    use std::sync::mpsc as std_mpsc;
    use std::time::Duration;

    use pushdata_arrow::veracity::VeracityEvent;

    let env = start().await;
    let (read_tx, read_rx) = std_mpsc::channel::<()>();
    let source = (0..4).map(move |i| {
        // Ignored once the receiver is gone.
        let _ = read_tx.send(());
        batch(&[i * 2, i * 2 + 1], 0.5)
    });
    let read_rx = Mutex::new(read_rx);
    let read_before_register = Arc::new(Mutex::new(None));
    let seen = read_before_register.clone();
    let report = VeracityPush::create(env.client.clone(), "Early")
        .with_batches(schema(), source)
        .with_key("Id")
        .with_job_wait(wait())
        .with_progress(move |e| {
            if let VeracityEvent::JobRegistered { .. } = e {
                let read = read_rx
                    .lock()
                    .unwrap()
                    .recv_timeout(Duration::from_secs(10))
                    .is_ok();
                *seen.lock().unwrap() = Some(read);
            }
        })
        .await
        .unwrap();
    assert_eq!(*read_before_register.lock().unwrap(), Some(true));
    assert_eq!(report.rows, 8);
    assert_eq!(rows(&env, &report.dataset_id, false).await.len(), 8);
}

#[tokio::test]
async fn failed_job_names_its_validation_and_leaves_data() {
    let env = start().await;
    let id = create(&env, vec![batch(&[1, 2], 0.0)], true).await;
    // Speed as text: the local checks (keys only, no schema given) let it through.
    let bad_schema = Arc::new(Schema::new(vec![
        Field::new("Id", DataType::Int64, false),
        Field::new("Name", DataType::Utf8, true),
        Field::new("Speed", DataType::Utf8, true),
    ]));
    let bad = RecordBatch::try_new(
        bad_schema.clone(),
        vec![
            Arc::new(Int64Array::from(vec![2, 3])),
            Arc::new(StringArray::from(vec!["x", "y"])),
            Arc::new(StringArray::from(vec!["fast", "1.5"])),
        ],
    )
    .unwrap();
    let err = VeracityPush::into_dataset(env.client.clone(), &id, Operation::Upsert)
        .with_memory(bad_schema, vec![bad])
        .with_key("Id")
        .with_job_wait(wait())
        .await
        .unwrap_err();
    let TransferError::Service {
        step: "job",
        source,
        ..
    } = &err
    else {
        panic!("{err:?}");
    };
    let CoreError::JobFailed {
        job_id,
        validation_errors,
        ..
    } = source.as_ref()
    else {
        panic!("{err:?}");
    };
    assert!(!job_id.is_empty());
    assert!(
        validation_errors.iter().any(|v| v
            .column
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case("Speed"))),
        "{validation_errors:?}"
    );
    assert_eq!(rows(&env, &id, true).await, [(1, 1.0), (2, 2.0)]);
}

#[tokio::test]
async fn upsert_on_a_keyless_schema_is_refused_before_upload() {
    let env = start().await;
    let id = create(&env, vec![batch(&[1, 2], 0.0)], false).await;
    let err = VeracityPush::into_dataset(env.client.clone(), &id, Operation::Upsert)
        .with_memory(schema(), vec![batch(&[2, 3], 0.5)])
        .with_dataset_columns(columns(false))
        .with_job_wait(wait())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            TransferError::Check {
                source: VeracityError::KeysRequired {
                    operation: Operation::Upsert
                },
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(rows(&env, &id, false).await, [(1, 1.0), (2, 2.0)]);
}

#[tokio::test]
async fn parquet_input_schema_fetched_by_id_and_parquet_output() {
    let env = start().await;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("wind.parquet");
    let file = std::fs::File::create(&input).unwrap();
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, schema(), None).unwrap();
    writer.write(&batch(&[1, 2, 3], 0.5)).unwrap();
    writer.close().unwrap();
    let report = VeracityPush::create(env.client.clone(), "Wind")
        .with_parquet(&input)
        .with_job_wait(wait())
        .await
        .unwrap();
    let schema_id = report.schema_id.clone().unwrap();
    // The fetched (keyless) schema refuses an Upsert before any upload.
    let err = VeracityPush::into_dataset(env.client.clone(), &report.dataset_id, Operation::Upsert)
        .with_parquet(&input)
        .with_key("Id")
        .with_schema_id(&schema_id)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            TransferError::Check {
                source: VeracityError::KeysRequired { .. },
                ..
            }
        ),
        "{err:?}"
    );
    let output = dir.path().join("back.parquet");
    let rows = VeracityPull::new(env.client.clone(), &report.dataset_id)
        .with_schema_id(&schema_id)
        .write_parquet(&output)
        .await
        .unwrap();
    assert_eq!(rows, 3);
    let back = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        std::fs::File::open(&output).unwrap(),
    )
    .unwrap()
    .build()
    .unwrap()
    .map(Result::unwrap)
    .collect::<Vec<_>>();
    let back = concat_batches(&back[0].schema(), &back).unwrap();
    let want = batch(&[1, 2, 3], 0.5);
    for i in 0..3 {
        assert_eq!(
            back.column(i).to_data(),
            want.column(i).to_data(),
            "column {i}"
        );
    }
}

#[tokio::test]
async fn decimals_are_pushed_and_pulled_back_exactly() {
    let env = start().await;
    let schema = Arc::new(Schema::new(vec![
        Field::new("Id", DataType::Int64, false),
        Field::new("Amount", DataType::Decimal128(38, 6), true),
    ]));
    // 123456789012345.678901, -0.000001, null, 0, and 26 digits: none survives an f64.
    let amounts = Decimal128Array::from(vec![
        Some(123_456_789_012_345_678_901),
        Some(-1),
        None,
        Some(0),
        Some(99_999_999_999_999_999_999_999_999),
    ])
    .with_precision_and_scale(38, 6)
    .unwrap();
    let input = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from(vec![1, 2, 3, 4, 5])),
            Arc::new(amounts.clone()),
        ],
    )
    .unwrap();
    let report = VeracityPush::create(env.client.clone(), "Money")
        .with_batches(schema, vec![input])
        .with_key("Id")
        .with_job_wait(wait())
        .await
        .unwrap();
    let (got_schema, got) = VeracityPull::new(env.client.clone(), &report.dataset_id)
        .with_columns(vec![
            SchemaColumn::new("Id", ColumnType::Int64).with_key(true),
            SchemaColumn::new("Amount", ColumnType::Decimal),
        ])
        .with_page_size(2)
        .collect()
        .await
        .unwrap();
    let got = concat_batches(&got_schema, &got).unwrap();
    // A pull reads Veracity decimals as Decimal128(38, 18) (see the type mapping): the
    // same values, at the larger scale, and back at the input's scale bit for bit.
    let pulled = got.column(1);
    assert_eq!(pulled.data_type(), &DataType::Decimal128(38, 18));
    let widened = arrow_cast::cast(&amounts, pulled.data_type()).unwrap();
    assert_eq!(pulled.to_data(), widened.to_data());
    let back = arrow_cast::cast(pulled, &DataType::Decimal128(38, 6)).unwrap();
    assert_eq!(back.to_data(), amounts.to_data());
}
