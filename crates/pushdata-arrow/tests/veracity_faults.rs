//! A Veracity push's progress events, its stop signal, what a failure or a stop leaves on
//! the service, and an upload that resumes after a lost append answer: over real HTTP
//! against the reference server's emulation (through a fault-injecting proxy for the lost
//! answers, which the server cannot produce).

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use arrow_array::{Date32Array, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use arrow_select::concat::concat_batches;
use common::fault_proxy::{Fault, FaultProxy, Rule};
use common::veracity::{Env, batch, client_at, columns, create, rows, schema, start, wait};
use pushdata_arrow::veracity::{
    Operation, TransferError, VeracityError, VeracityEvent, VeracityPull, VeracityPush,
};
use pushdata_core::veracity::Client;
use pushdata_core::veracity::wire::JobState;
use tokio::sync::{mpsc, oneshot};

/// 2000 rows in batches of 300.
fn many_rows(speed: f64) -> Vec<RecordBatch> {
    let ids: Vec<i64> = (0..2000).collect();
    ids.chunks(300).map(|c| batch(c, speed)).collect()
}

/// A stop signal fired by the first event `when` picks, and the progress callback that
/// fires it. The signal never fires otherwise (a dropped sender is not a stop).
fn stop_when(
    when: impl Fn(&VeracityEvent) -> bool + Send + Sync + 'static,
) -> (
    impl Fn(VeracityEvent) + Send + Sync + 'static,
    impl std::future::Future<Output = ()> + Send + 'static,
) {
    let (tx, rx) = oneshot::channel::<()>();
    let tx = Mutex::new(Some(tx));
    let callback = move |e: VeracityEvent| {
        if when(&e)
            && let Some(tx) = tx.lock().unwrap().take()
        {
            let _ = tx.send(());
        }
    };
    let signal = async move {
        if rx.await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    (callback, signal)
}

/// The job's status a while after the push ended: still `Pending` if it was left unstarted.
async fn status_later(client: &Client, job_id: &str) -> JobState {
    tokio::time::sleep(Duration::from_millis(300)).await;
    client.job_status(job_id).await.unwrap().status
}

#[tokio::test]
async fn progress_events_follow_the_push() {
    let env = start().await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let report = VeracityPush::create(env.client.clone(), "Wind")
        .with_batches(schema(), many_rows(0.5))
        .with_key("Id")
        .with_part_bytes(4096)
        .with_job_wait(wait())
        .with_progress_channel(tx)
        .await
        .unwrap();
    let mut events = Vec::new();
    while let Ok(e) = rx.try_recv() {
        events.push(e);
    }
    let job = report.job_id.clone();
    assert!(
        matches!(&events[0], VeracityEvent::SchemaCreated { schema_id, .. }
            if Some(schema_id) == report.schema_id.as_ref()),
        "{events:?}"
    );
    assert_eq!(
        events[1],
        VeracityEvent::JobRegistered {
            job_id: job.clone()
        }
    );
    let parts: Vec<(u64, u64, u64, u64)> = events
        .iter()
        .filter_map(|e| match e {
            VeracityEvent::PartAppended {
                part,
                bytes,
                total_bytes,
                rows,
                ..
            } => Some((*part, *bytes, *total_bytes, *rows)),
            _ => None,
        })
        .collect();
    assert_eq!(parts.len() as u64, report.parts);
    assert!(report.parts > 3, "{} parts", report.parts);
    let (mut total, mut last_rows) = (0, 0);
    for (i, (part, bytes, total_bytes, rows)) in parts.iter().enumerate() {
        total += bytes;
        assert_eq!((*part, *total_bytes), (i as u64 + 1, total));
        assert!(*rows > last_rows, "rows grow: {parts:?}");
        last_rows = *rows;
    }
    assert_eq!((total, last_rows), (report.bytes, 2000));
    let rest = &events[2 + parts.len()..];
    assert_eq!(
        rest[0],
        VeracityEvent::Flushed {
            job_id: job.clone(),
            bytes: report.bytes,
            rows: 2000
        }
    );
    assert_eq!(
        rest[1],
        VeracityEvent::JobStarted {
            job_id: job.clone()
        }
    );
    let polls = &rest[2..rest.len() - 1];
    assert!(!polls.is_empty());
    assert!(
        polls
            .iter()
            .all(|e| matches!(e, VeracityEvent::JobPolled { job_id, .. } if *job_id == job)),
        "{polls:?}"
    );
    assert!(matches!(
        polls.last(),
        Some(VeracityEvent::JobPolled {
            status: JobState::Completed,
            ..
        })
    ));
    assert_eq!(
        rest.last(),
        Some(&VeracityEvent::Completed {
            job_id: job,
            dataset_id: report.dataset_id.clone()
        })
    );
}

/// An Upsert of ids 1000..3000 into a dataset of 0..3, stopped when `when` picks an event.
async fn stopped_upsert(
    env: &Env,
    id: &str,
    when: impl Fn(&VeracityEvent) -> bool + Send + Sync + 'static,
) -> TransferError {
    let (callback, signal) = stop_when(when);
    let ids: Vec<i64> = (1000..3000).collect();
    let batches: Vec<RecordBatch> = ids.chunks(300).map(|c| batch(c, 0.5)).collect();
    VeracityPush::into_dataset(env.client.clone(), id, Operation::Upsert)
        .with_batches(schema(), batches)
        .with_dataset_columns(columns(true))
        .with_part_bytes(4096)
        .with_job_wait(wait())
        .with_progress(callback)
        .with_stop_signal(signal)
        .await
        .unwrap_err()
}

#[tokio::test]
async fn a_stop_before_the_start_applies_nothing_and_names_the_job() {
    let env = start().await;
    let id = create(&env, vec![batch(&[0, 1, 2], 0.0)], true).await;
    let before = rows(&env, &id, true).await;
    // During the upload (second part), and with the whole file flushed.
    let during = stopped_upsert(&env, &id, |e| {
        matches!(e, VeracityEvent::PartAppended { part: 2, .. })
    })
    .await;
    let flushed = stopped_upsert(&env, &id, |e| matches!(e, VeracityEvent::Flushed { .. })).await;
    for err in [during, flushed] {
        let TransferError::Stopped {
            job_id: Some(job_id),
            schema_id: None,
            ..
        } = &err
        else {
            panic!("{err:?}");
        };
        assert!(err.is_stopped() && !err.may_still_apply());
        assert_eq!(err.job_id(), Some(job_id.as_str()));
        assert_eq!(status_later(&env.client, job_id).await, JobState::Pending);
    }
    assert_eq!(rows(&env, &id, true).await, before);
}

#[tokio::test]
async fn a_stop_after_the_start_stops_waiting_and_the_job_may_still_complete() {
    let env = start().await;
    let id = create(&env, vec![batch(&[0, 1, 2], 0.0)], true).await;
    let err = stopped_upsert(&env, &id, |e| matches!(e, VeracityEvent::JobStarted { .. })).await;
    let TransferError::StoppedAfterStart { job_id, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(err.is_stopped() && err.may_still_apply());
    // It did complete: 3 rows and 2000 new ones.
    let status = env.client.wait_for_job(job_id, &wait()).await.unwrap();
    assert_eq!(status.status, JobState::Completed);
    assert_eq!(rows(&env, &id, true).await.len(), 2003);
}

#[tokio::test]
async fn a_failure_after_the_register_leaves_the_job_unstarted_and_names_it_and_the_schema() {
    let env = start().await;
    let dated = Arc::new(Schema::new(vec![
        Field::new("Id", DataType::Int64, false),
        Field::new("Day", DataType::Date32, true),
    ]));
    let good = |from: i64| {
        RecordBatch::try_new(
            dated.clone(),
            vec![
                Arc::new(Int64Array::from_iter_values(from..from + 1000)),
                Arc::new(Date32Array::from(vec![19_000; 1000])),
            ],
        )
        .unwrap()
    };
    // Year 10000 and later cannot be written: after three good batches (several parts).
    let bad = RecordBatch::try_new(
        dated.clone(),
        vec![
            Arc::new(Int64Array::from(vec![3000, 3001])),
            Arc::new(Date32Array::from(vec![19_000, 3_000_000])),
        ],
    )
    .unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let err = VeracityPush::create(env.client.clone(), "Days")
        .with_batches(dated.clone(), vec![good(0), good(1000), good(2000), bad])
        .with_key("Id")
        .with_part_bytes(2048)
        .with_job_wait(wait())
        .with_progress_channel(tx)
        .await
        .unwrap_err();
    let TransferError::NothingApplied {
        job_id: Some(job_id),
        schema_id: Some(schema_id),
        source,
        ..
    } = &err
    else {
        panic!("{err:?}");
    };
    let TransferError::Check {
        source: VeracityError::Value { column, row, .. },
        ..
    } = source.as_ref()
    else {
        panic!("{err:?}");
    };
    assert_eq!((column.as_str(), *row), ("Day", 3001));
    assert!(!err.may_still_apply());
    let mut appended = 0;
    while let Ok(e) = rx.try_recv() {
        appended += u64::from(matches!(e, VeracityEvent::PartAppended { .. }));
        assert!(
            !matches!(
                e,
                VeracityEvent::Flushed { .. } | VeracityEvent::JobStarted { .. }
            ),
            "{e:?}"
        );
    }
    assert!(appended > 0, "parts were appended before the failure");
    assert_eq!(status_later(&env.client, job_id).await, JobState::Pending);
    // The schema is still there (the API cannot delete it), usable for a later create.
    let schema = env.client.schema(schema_id).await.unwrap();
    let version = schema.current_version().unwrap().id.clone();
    let report = VeracityPush::create(env.client.clone(), "Days")
        .with_batches(dated.clone(), vec![good(0)])
        .with_schema_version(version)
        .with_job_wait(wait())
        .await
        .unwrap();
    assert_eq!(report.rows, 1000);
}

#[tokio::test]
async fn a_resumed_upload_after_failed_appends_reads_back_exactly() {
    let env = start().await;
    let proxy = FaultProxy::start(&env.root).await;
    // The server carries out the 2nd and 5th appends, but their answers are lost: a dropped
    // connection, then a 503.
    for (nth, fault) in [(2, Fault::DropConnection), (5, Fault::Status(503))] {
        proxy.inject(Rule {
            action: "append",
            nth,
            fault,
        });
    }
    let input = many_rows(0.25);
    let report = VeracityPush::create(client_at(&proxy.url()), "Wind")
        .with_batches(schema(), input.clone())
        .with_key("Id")
        .with_part_bytes(4096)
        .with_job_wait(wait())
        .await
        .unwrap();
    assert!(report.parts >= 6, "{} parts", report.parts);

    // Every append went to the lake through the proxy; each faulted one was carried out by
    // the server and sent again at the same position (after the other part in flight,
    // perhaps), and each part was answered once without a fault.
    let seen = proxy.seen();
    let appends: Vec<_> = seen
        .iter()
        .filter(|s| s.action.as_deref() == Some("append"))
        .collect();
    assert_eq!(appends.len() as u64, report.parts + 2);
    for (i, a) in appends.iter().enumerate() {
        assert_eq!(a.status, 202, "{a:?}");
        if a.fault.is_some() {
            assert!(
                appends[i + 1..]
                    .iter()
                    .any(|b| b.position == a.position && b.fault.is_none()),
                "{appends:?}"
            );
        }
    }
    let mut answered: Vec<_> = appends
        .iter()
        .filter(|a| a.fault.is_none())
        .map(|a| a.position)
        .collect();
    answered.sort_unstable();
    answered.dedup();
    assert_eq!(answered.len() as u64, report.parts, "{appends:?}");
    assert_eq!(appends.iter().filter(|a| a.fault.is_some()).count(), 2);
    let flush = seen
        .iter()
        .find(|s| s.action.as_deref() == Some("flush"))
        .unwrap();
    assert_eq!((flush.position, flush.status), (Some(report.bytes), 200));

    // No row twice, none missing.
    let (got_schema, got) = VeracityPull::new(env.client.clone(), &report.dataset_id)
        .with_columns(columns(true))
        .with_page_size(700)
        .collect()
        .await
        .unwrap();
    let got = concat_batches(&got_schema, &got).unwrap();
    let want = concat_batches(&schema(), &input).unwrap();
    assert_eq!(got.num_rows(), 2000);
    for i in 0..3 {
        assert_eq!(
            got.column(i).to_data(),
            want.column(i).to_data(),
            "column {i}"
        );
    }
}
