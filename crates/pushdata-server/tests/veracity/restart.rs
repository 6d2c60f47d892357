//! Jobs outlive the server: a server is started on a data directory, does the work, is shut
//! down (or its state is left as a crash leaves it), and a new server on the same directory
//! answers for the jobs, goes on with their uploads, and finishes the ones that were
//! running without applying any operation twice.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use pushdata_core::veracity::wire::{IngestResponse, JobState};
use pushdata_server::{HookError, PublishHook};
use serde_json::{Value, json};

use crate::common::{FileUrl, To, V, keyed_columns, start, start_hooked};

const BASE: &str =
    "Id,Name,Value,TS,Ok\n1,a,1.5,2024-05-01T10:00:00,true\n2,b,2.5,2024-05-02T10:00:00,false\n";

fn keyless() -> Value {
    json!([{"name": "N", "type": "Int64"}, {"name": "S", "type": "String"}])
}

/// Register a job without starting it; its id and SAS URI.
async fn register(v: &V, to: To<'_>, op: &str) -> IngestResponse {
    let r = v.register(to, op, false).await;
    assert_eq!(r.status, 200, "{}", r.body);
    serde_json::from_str(&r.body).unwrap()
}

/// The `N` column of a keyless dataset, sorted.
async fn ns(v: &V, id: &str) -> Vec<i64> {
    v.rows(id, "N")
        .await
        .iter()
        .map(|r| {
            serde_json::from_str::<Value>(r).unwrap()["N"]
                .as_i64()
                .unwrap()
        })
        .collect()
}

fn record_path(dir: &Path, job: &str) -> std::path::PathBuf {
    dir.join("veracity/jobs").join(format!("{job}.json"))
}

/// Change a job's record as a crash could have left it.
fn edit_record(dir: &Path, job: &str, f: impl FnOnce(&mut Value)) {
    let path = record_path(dir, job);
    let mut record: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    f(&mut record["progress"]);
    std::fs::write(&path, serde_json::to_vec(&record).unwrap()).unwrap();
}

fn uploads(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir.join("veracity/uploads"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[tokio::test]
async fn finished_jobs_answer_after_a_restart_and_their_uploads_are_gone() {
    let dir = tempfile::tempdir().unwrap();
    let v = start(dir.path()).await;
    let version = v.schema(keyed_columns()).await;
    let created = register(&v, To::New(&version), "Create").await;
    v.upload(created.sas_token.expose(), &[BASE.as_bytes()])
        .await;
    v.start_job(&created.job_id).await;
    let done = v.wait(&created.job_id).await;
    let id = done.dataset_id.clone().unwrap();
    let failed = v
        .ingest(
            To::Existing(&id),
            "Upsert",
            "Id,Name,Value,TS,Ok\n3,c,x,2024-05-03T10:00:00,true\n",
        )
        .await;
    assert_eq!(failed.status, JobState::Failed);
    let rows = v.rows(&id, "Id").await;
    v.stop().await;

    let v = start(dir.path()).await;
    assert_eq!(v.status(&created.job_id).await, done);
    assert_eq!(v.status(&failed.job_id).await, failed);
    assert_eq!(
        v.start_job(&created.job_id).await,
        done,
        "a second start answers the status"
    );
    assert_eq!(v.rows(&id, "Id").await, rows);
    assert!(uploads(dir.path()).is_empty(), "{:?}", uploads(dir.path()));
    assert!(record_path(dir.path(), &failed.job_id).is_file());
}

#[tokio::test]
async fn uploads_go_on_and_start_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let v = start(dir.path()).await;
    let id = v.dataset(keyless(), "N,S\n1,x\n").await;
    // One job uploaded whole, one half-way (two appends of three).
    let whole = register(&v, To::Existing(&id), "Append").await;
    v.upload(whole.sas_token.expose(), &[b"N,S\n2,y\n"]).await;
    let half = register(&v, To::Existing(&id), "Append").await;
    let file = FileUrl::new(half.sas_token.expose(), "ImportData.csv");
    assert_eq!(file.create(&v).await.status, 201);
    assert_eq!(file.append(&v, 0, b"N,S\n3,".to_vec()).await.status, 202);
    assert_eq!(file.append(&v, 6, b"z\n4,".to_vec()).await.status, 202);
    v.stop().await;

    let v = start(dir.path()).await;
    assert_eq!(v.status(&half.job_id).await.status, JobState::Pending);
    // The SAS issued before the restart still signs the folder (the key is the data
    // directory's); the upload goes on where it stopped.
    let file = file.on(&v.root);
    // The staged ranges came through the restart: a flush past them is refused (nothing
    // is staged at 10 yet), and an append sent again at 6, as after a lost answer,
    // replaces its range.
    file.flush(&v, 12)
        .await
        .assert_lake(400, "InvalidFlushPosition");
    assert_eq!(file.append(&v, 6, b"z\n4,".to_vec()).await.status, 202);
    assert_eq!(file.append(&v, 10, b"w\n".to_vec()).await.status, 202);
    assert_eq!(file.flush(&v, 12).await.status, 200);
    for job in [&whole.job_id, &half.job_id] {
        v.start_job(job).await;
        let s = v.wait(job).await;
        assert_eq!(s.status, JobState::Completed, "{s:?}");
    }
    assert_eq!(ns(&v, &id).await, [1, 2, 3, 4]);
}

/// Holds a publish before its swap once armed, until released.
#[derive(Debug, Default)]
struct Gate {
    armed: AtomicBool,
    entered: AtomicBool,
    released: AtomicBool,
}

#[derive(Debug)]
struct Hold(Arc<Gate>);

impl PublishHook for Hold {
    fn before_swap(&self, _dataset_id: &str, _version: u64) -> Result<(), HookError> {
        if self.0.armed.load(Ordering::SeqCst) {
            self.0.entered.store(true, Ordering::SeqCst);
            while !self.0.released.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        Ok(())
    }
}

async fn until(what: &str, f: impl Fn() -> bool) {
    for _ in 0..1000 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn a_job_stopped_by_a_shutdown_runs_again_once_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    let gate = Arc::new(Gate::default());
    let v = start_hooked(dir.path(), Arc::new(Hold(gate.clone()))).await;
    let id = v.dataset(keyless(), "N,S\n1,x\n").await;
    gate.armed.store(true, Ordering::SeqCst);
    let job = register(&v, To::Existing(&id), "Append").await;
    v.upload(job.sas_token.expose(), &[b"N,S\n2,y\n3,z\n"])
        .await;
    v.start_job(&job.job_id).await;
    until("the commit to reach its swap", || {
        gate.entered.load(Ordering::SeqCst)
    })
    .await;
    let addr = v.root.trim_start_matches("http://").to_string();
    let stopping = tokio::spawn(v.stop());
    // The shutdown asks runs to stop before it stops listening.
    for _ in 0..1000 {
        if tokio::net::TcpStream::connect(&addr).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    gate.released.store(true, Ordering::SeqCst);
    stopping.await.unwrap();
    let record: Value =
        serde_json::from_slice(&std::fs::read(record_path(dir.path(), &job.job_id)).unwrap())
            .unwrap();
    assert_eq!(record["progress"]["state"], "Running", "{record}");
    assert!(
        record["progress"]["commitVersion"].is_null(),
        "the mark of a stopped commit is cleared: {record}"
    );

    let v = start(dir.path()).await;
    let s = v.wait(&job.job_id).await;
    assert_eq!(s.status, JobState::Completed, "{s:?}");
    assert_eq!(s.dataset_id.as_deref(), Some(id.as_str()));
    assert_eq!(ns(&v, &id).await, [1, 2, 3], "appended once");
}

#[tokio::test]
async fn jobs_a_crash_left_running_are_completed_rerun_or_failed_never_applied_twice() {
    let dir = tempfile::tempdir().unwrap();
    let v = start(dir.path()).await;
    let id = v.dataset(keyless(), "N,S\n1,x\n").await;
    // Committed, then the crash came before the record said so.
    let landed = v.ingest(To::Existing(&id), "Append", "N,S\n2,y\n").await;
    assert_eq!(landed.status, JobState::Completed);
    // Started, and the crash came before its commit.
    let cut = register(&v, To::Existing(&id), "Append").await;
    v.upload(cut.sas_token.expose(), &[b"N,S\n3,z\n"]).await;
    // The same, for the third time.
    let doomed = register(&v, To::Existing(&id), "Append").await;
    v.upload(doomed.sas_token.expose(), &[b"N,S\n4,w\n"]).await;
    v.stop().await;
    edit_record(dir.path(), &landed.job_id, |p| {
        p["state"] = json!("Running");
        p["dataset"] = Value::Null;
        p["finishedAt"] = Value::Null;
    });
    edit_record(dir.path(), &cut.job_id, |p| {
        p["state"] = json!("Running");
        p["attempts"] = json!(1);
    });
    edit_record(dir.path(), &doomed.job_id, |p| {
        p["state"] = json!("Running");
        p["attempts"] = json!(3);
    });

    let v = start(dir.path()).await;
    assert_eq!(
        v.wait(&landed.job_id).await,
        landed,
        "completed, not re-run"
    );
    let rerun = v.wait(&cut.job_id).await;
    assert_eq!(rerun.status, JobState::Completed, "{rerun:?}");
    let failed = v.wait(&doomed.job_id).await;
    assert_eq!(failed.status, JobState::Failed, "{failed:?}");
    assert!(!failed.notebook_error_message.is_empty(), "{failed:?}");
    assert!(failed.validation_error.is_empty(), "{failed:?}");
    assert_eq!(ns(&v, &id).await, [1, 2, 3]);
    // An ended job's upload goes just after its status says so.
    until("the ended jobs' uploads to go", || {
        uploads(dir.path()).is_empty()
    })
    .await;
}
