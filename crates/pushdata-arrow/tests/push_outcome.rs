#![allow(clippy::unwrap_used)]
//! What a push leaves behind and says when it fails, is stopped or is dropped, against the
//! reference server (127.0.0.1:0): the upload session is cancelled, a dataset the push
//! created is deleted when nothing was published and kept when the outcome is unknown; and
//! the rows the update policy skipped are reported.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use arrow_array::{Date32Array, Float64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use pushdata_arrow::{Error, ModelOptions, ProgressEvent, Push, Workflow};
use pushdata_core::wire::UpdatePolicy;
use pushdata_core::{BackoffConfig, Client, Credentials, PublishWait};
use pushdata_server::{HookError, PublishHook, Server, ServerConfig, ServerHandle};
use tokio::sync::mpsc;

/// Sleeps when a publish starts, so the push is seen waiting for it.
#[derive(Debug)]
struct SlowPublish(Duration);

impl PublishHook for SlowPublish {
    fn before_publish(&self, _dataset_id: &str) {
        std::thread::sleep(self.0);
    }
}

/// Fails every publish of a version from `.0` on just before its swap (publish status 3).
#[derive(Debug)]
struct FailPublish(u64);

impl PublishHook for FailPublish {
    fn before_swap(&self, _dataset_id: &str, version: u64) -> Result<(), HookError> {
        if version >= self.0 {
            return Err(HookError::new("injected failure"));
        }
        Ok(())
    }
}

struct Env {
    _dir: tempfile::TempDir,
    server: ServerHandle,
    client: Client,
}

async fn start(hook: Option<Arc<dyn PublishHook>>) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig::new(dir.path().join("data"));
    let server = match hook {
        Some(h) => Server::start_with_hook(config, h).await.unwrap(),
        None => Server::start(config).await.unwrap(),
    };
    let client = Client::builder(server.base_url()).build().unwrap();
    client
        .login(Credentials::standard("administrator", ""))
        .await
        .unwrap();
    client
        .select_project("MicroStrategy Tutorial")
        .await
        .unwrap();
    Env {
        _dir: dir,
        server,
        client,
    }
}

fn batch(keys: &[&str]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("k", DataType::Utf8, false),
        Field::new("v", DataType::Float64, false),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(keys.to_vec())),
            Arc::new(Float64Array::from_iter_values(
                (0..keys.len()).map(|i| i as f64),
            )),
        ],
    )
    .unwrap()
}

/// Whether the dataset exists on the server.
async fn exists(client: &Client, dataset_id: &str) -> bool {
    match client.cube_definition(dataset_id).await {
        Ok(_) => true,
        Err(e) if e.status() == Some(404) => false,
        Err(e) => panic!("{e}"),
    }
}

/// Whether the upload session is still known to the server.
async fn session_open(client: &Client, dataset_id: &str, session_id: &str) -> bool {
    match client.publish_status(dataset_id, session_id).await {
        Ok(_) => true,
        Err(e) if e.status() == Some(404) => false,
        Err(e) => panic!("{e}"),
    }
}

/// The ids of the dataset and session a push reported, from its progress events.
#[derive(Default, Debug, Clone)]
struct Seen {
    dataset: Option<String>,
    session: Option<String>,
    deleted: bool,
    cancelled: bool,
}

fn record(seen: &Arc<Mutex<Seen>>) -> impl Fn(ProgressEvent) + Send + Sync + 'static {
    let seen = seen.clone();
    move |e| {
        let mut s = seen.lock().unwrap();
        match e {
            ProgressEvent::DatasetCreated { dataset_id } => s.dataset = Some(dataset_id),
            ProgressEvent::SessionOpened { session_id, .. } => s.session = Some(session_id),
            ProgressEvent::DatasetDeleted { .. } => s.deleted = true,
            ProgressEvent::Cancelled { .. } => s.cancelled = true,
            _ => {}
        }
    }
}

/// A table source that yields a 1-row batch every 20 ms for up to 10 s (a slow reader).
fn slow_batches() -> (
    Arc<Schema>,
    impl Iterator<Item = RecordBatch> + Send + 'static,
) {
    let b = batch(&["a"]);
    let schema = b.schema();
    let it = (0..500).map(move |_| {
        std::thread::sleep(Duration::from_millis(20));
        b.clone()
    });
    (schema, it)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_create_push_deletes_the_dataset_it_created() {
    let env = start(None).await;
    let schema = Arc::new(Schema::new(vec![Field::new("d", DataType::Date32, true)]));
    let bad = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(Date32Array::from(vec![0, 1, 5_000_000]))],
    )
    .unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let err = Push::create(env.client.clone(), "bad")
        .with_memory_table("t", schema, vec![bad])
        .with_progress(record(&seen))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Value { row: 2, .. }), "{err}");
    assert!(!err.is_publish_outcome_unknown());
    let seen = seen.lock().unwrap().clone();
    let id = seen.dataset.clone().unwrap();
    assert!(seen.cancelled && seen.deleted, "{seen:?}");
    assert!(
        !exists(&env.client, &id).await,
        "dataset {id} was left behind"
    );
    env.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_push_into_an_existing_dataset_keeps_it() {
    let env = start(Some(Arc::new(FailPublish(2)))).await;
    // Created by a single request (published at once, no hook involved).
    let b = batch(&["a", "b"]);
    let report = Push::create(env.client.clone(), "keep")
        .with_memory_table("t", b.schema(), vec![b.clone()])
        .with_workflow(Workflow::SingleRequest)
        .await
        .unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let err = Push::into_dataset(env.client.clone(), report.dataset_id.clone())
        .with_memory_table("t", b.schema(), vec![b])
        .with_progress(record(&seen))
        .await
        .unwrap_err();
    // A publish reported failed (status 3): nothing was published.
    assert!(matches!(err, Error::Api { .. }), "{err}");
    assert!(!err.is_publish_outcome_unknown(), "{err}");
    assert!(!seen.lock().unwrap().deleted);
    assert!(exists(&env.client, &report.dataset_id).await);
    env.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_publish_deletes_the_dataset_the_push_created() {
    let env = start(Some(Arc::new(FailPublish(0)))).await;
    let b = batch(&["a", "b"]);
    let seen = Arc::new(Mutex::new(Seen::default()));
    let err = Push::create(env.client.clone(), "failed publish")
        .with_memory_table("t", b.schema(), vec![b])
        .with_progress(record(&seen))
        .await
        .unwrap_err();
    assert!(!err.is_publish_outcome_unknown(), "{err}");
    assert!(err.to_string().contains("injected failure"), "{err}");
    let id = seen.lock().unwrap().dataset.clone().unwrap();
    assert!(
        !exists(&env.client, &id).await,
        "dataset {id} was left behind"
    );
    env.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_wait_that_fails_is_outcome_unknown_and_keeps_the_dataset() {
    let env = start(Some(Arc::new(SlowPublish(Duration::from_millis(1500))))).await;
    let b = batch(&["a", "b"]);
    let seen = Arc::new(Mutex::new(Seen::default()));
    let wait = PublishWait::default()
        .with_timeout(Duration::from_millis(200))
        .with_backoff(BackoffConfig::default().with_max_backoff(Duration::from_millis(20)));
    let err = Push::create(env.client.clone(), "unknown")
        .with_memory_table("t", b.schema(), vec![b])
        .with_publish_wait(wait)
        .with_progress(record(&seen))
        .await
        .unwrap_err();
    let id = seen.lock().unwrap().dataset.clone().unwrap();
    match &err {
        Error::PublishOutcomeUnknown {
            dataset_id,
            session_id,
            source: Some(source),
        } => {
            assert_eq!(dataset_id.as_deref(), Some(id.as_str()));
            assert!(session_id.is_some());
            assert!(
                matches!(**source, pushdata_core::Error::PublishTimeout { .. }),
                "{source}"
            );
        }
        other => panic!("expected PublishOutcomeUnknown, got {other}"),
    }
    assert!(err.is_publish_outcome_unknown());
    assert!(err.to_string().contains("the outcome is unknown"), "{err}");
    assert!(!err.to_string().contains("nothing"), "{err}");
    // The data may be published: the dataset stays.
    assert!(!seen.lock().unwrap().deleted);
    assert!(exists(&env.client, &id).await);
    env.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_before_the_publish_cancels_the_session_and_deletes_the_dataset() {
    let env = start(None).await;
    let (schema, batches) = slow_batches();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let (tx, mut rx) = mpsc::unbounded_channel();
    let progress = record(&seen);
    let err = Push::create(env.client.clone(), "stopped")
        .with_batches_table("t", schema, batches)
        .with_chunk_bytes(1024)
        .with_progress(move |e| {
            if matches!(e, ProgressEvent::ChunkUploaded { .. }) {
                let _ = tx.send(());
            }
            progress(e);
        })
        .with_stop_signal(async move {
            rx.recv().await;
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Interrupted), "{err}");
    let seen = seen.lock().unwrap().clone();
    let (id, session) = (seen.dataset.unwrap(), seen.session.unwrap());
    assert!(!session_open(&env.client, &id, &session).await);
    assert!(!exists(&env.client, &id).await);
    env.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_after_the_publish_request_is_outcome_unknown() {
    let env = start(Some(Arc::new(SlowPublish(Duration::from_millis(1500))))).await;
    let b = batch(&["a", "b"]);
    let seen = Arc::new(Mutex::new(Seen::default()));
    let (tx, mut rx) = mpsc::unbounded_channel();
    let progress = record(&seen);
    let err = Push::create(env.client.clone(), "stopped late")
        .with_memory_table("t", b.schema(), vec![b])
        .with_progress(move |e| {
            if matches!(e, ProgressEvent::Publishing { .. }) {
                let _ = tx.send(());
            }
            progress(e);
        })
        .with_stop_signal(async move {
            rx.recv().await;
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::PublishOutcomeUnknown { source: None, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("the outcome is unknown"), "{err}");
    let seen = seen.lock().unwrap().clone();
    let (id, session) = (seen.dataset.unwrap(), seen.session.unwrap());
    // The session is cancelled (best effort), the dataset kept.
    assert!(!session_open(&env.client, &id, &session).await);
    assert!(!seen.deleted);
    assert!(exists(&env.client, &id).await);
    env.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_push_cancels_its_session_and_deletes_its_dataset() {
    let env = start(None).await;
    let (schema, batches) = slow_batches();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let (tx, mut rx) = mpsc::unbounded_channel();
    let progress = record(&seen);
    let push = Push::create(env.client.clone(), "dropped")
        .with_batches_table("t", schema, batches)
        .with_chunk_bytes(1024)
        .with_progress(move |e| {
            if matches!(e, ProgressEvent::ChunkUploaded { .. }) {
                let _ = tx.send(());
            }
            progress(e);
        });
    let task = tokio::spawn(push.execute());
    rx.recv().await.unwrap();
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    let (id, session) = {
        let s = seen.lock().unwrap();
        (s.dataset.clone().unwrap(), s.session.clone().unwrap())
    };
    // The cleanup runs in the background.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while exists(&env.client, &id).await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "dataset {id} left behind"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!session_open(&env.client, &id, &session).await);
    env.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_says_how_many_rows_the_policy_skipped() {
    let env = start(None).await;
    let first = batch(&["a", "b", "c"]);
    let options = ModelOptions::default().with_attribute("k");
    let report = Push::create(env.client.clone(), "skips")
        .with_memory_table("t", first.schema(), vec![first])
        .with_model_options(options.clone())
        .await
        .unwrap();
    assert_eq!(report.tables[0].rows_skipped, Some(0));
    let id = report.dataset_id;
    let more = batch(&["b", "c", "d", "e"]);
    // add keeps the stored keys b and c: their uploaded rows are skipped.
    let add = Push::into_dataset(env.client.clone(), id.clone())
        .with_memory_table("t", more.schema(), vec![more.clone()])
        .with_model_options(options.clone())
        .with_policy(UpdatePolicy::Add)
        .await
        .unwrap();
    assert_eq!(add.tables[0].rows, 4);
    assert_eq!(add.tables[0].rows_skipped, Some(2));
    // update ignores keys that are not stored: f and g.
    let newer = batch(&["a", "f", "g"]);
    let update = Push::into_dataset(env.client.clone(), id.clone())
        .with_memory_table("t", newer.schema(), vec![newer.clone()])
        .with_model_options(options.clone())
        .with_policy(UpdatePolicy::Update)
        .await
        .unwrap();
    assert_eq!(update.tables[0].rows_skipped, Some(2));
    // The single-request workflow has no publish status: not known.
    let single = Push::into_dataset(env.client.clone(), id)
        .with_memory_table("t", newer.schema(), vec![newer])
        .with_model_options(options)
        .with_policy(UpdatePolicy::Upsert)
        .with_workflow(Workflow::SingleRequest)
        .await
        .unwrap();
    assert_eq!(single.tables[0].rows_skipped, None);
    env.server.shutdown().await.unwrap();
}
