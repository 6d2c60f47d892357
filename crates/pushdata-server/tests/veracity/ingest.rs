//! Ingest jobs: each operation on overlapping keys, operation rules, failed jobs leaving
//! the dataset unchanged, idempotent start, automatic start, multi-append uploads.

use pushdata_core::veracity::wire::{IngestResponse, JobState};
use reqwest::Method;
use serde_json::json;

use crate::common::{To, keyed_columns, start, start_with};

const BASE: &str = "Id,Name,Value,TS,Ok\n1,a,1.5,2024-05-01T10:00:00,true\n2,b,2.5,2024-05-02T10:00:00,false\n3,c,3.5,2024-05-03T10:00:00,true\n";

fn ids(rows: &[String]) -> Vec<i64> {
    rows.iter()
        .map(|r| {
            serde_json::from_str::<serde_json::Value>(r).unwrap()["Id"]
                .as_i64()
                .unwrap()
        })
        .collect()
}

#[tokio::test]
async fn create_then_upsert_delete_overwrite_on_overlapping_keys() {
    let dir = tempfile::tempdir().unwrap();
    let v = start(dir.path()).await;
    let id = v.dataset(keyed_columns(), BASE).await;
    let rows = v.rows(&id, "Id").await;
    let first: serde_json::Value = serde_json::from_str(&rows[0]).unwrap();
    let want = json!({"Id": 1, "Name": "a", "Value": 1.5, "TS": "2024-05-01T10:00:00", "Ok": true});
    assert_eq!(first, want, "typed by the schema");
    let up = v
        .ingest(To::Existing(&id), "Upsert", "Id,Name,Value,TS,Ok\n2,B,20,2024-06-02T00:00:00,true\n4,d,4,2024-06-04T00:00:00,false\n")
        .await;
    assert_eq!(up.status, JobState::Completed, "{up:?}");
    assert_eq!(up.dataset_id.as_deref(), Some(id.as_str()));
    let rows = v.rows(&id, "Id").await;
    assert_eq!(ids(&rows), [1, 2, 3, 4]);
    assert!(
        rows[1].contains(r#""Name":"B""#) && rows[1].contains(r#""Value":20.0"#),
        "{rows:?}"
    );
    let del = v
        .ingest(
            To::Existing(&id),
            "Delete",
            "Id,Name\n1,ignored\n3,\n9,absent\n",
        )
        .await;
    assert_eq!(del.status, JobState::Completed, "{del:?}");
    assert_eq!(ids(&v.rows(&id, "Id").await), [2, 4]);
    let keys_only = v.ingest(To::Existing(&id), "Delete", "Id\n4\n").await;
    assert_eq!(keys_only.status, JobState::Completed, "{keys_only:?}");
    assert_eq!(ids(&v.rows(&id, "Id").await), [2]);
    let over = v
        .ingest(
            To::Existing(&id),
            "Overwrite",
            "Id,Name,Value,TS,Ok\n7,x,,2024-01-01T00:00:00,\n2,y,1,2024-01-01T00:00:00,true\n",
        )
        .await;
    assert_eq!(over.status, JobState::Completed, "{over:?}");
    let rows = v.rows(&id, "Id").await;
    assert_eq!(ids(&rows), [2, 7]);
    assert!(rows[1].contains(r#""Value":null"#), "{rows:?}");
}

#[tokio::test]
async fn operation_rules_follow_the_schema_keys() {
    let dir = tempfile::tempdir().unwrap();
    let v = start(dir.path()).await;
    let keyed = v.dataset(keyed_columns(), BASE).await;
    let r = v.register(To::Existing(&keyed), "Append", false).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["type"], "BusinessError");
    let plain = v
        .dataset(
            json!([{"name": "N", "type": "Int64"}, {"name": "S", "type": "String"}]),
            "N,S\n1,x\n",
        )
        .await;
    for op in ["Upsert", "Delete"] {
        let r = v.register(To::Existing(&plain), op, false).await;
        assert_eq!(r.status, 400, "{op}: {}", r.body);
    }
    let two = v
        .gw(Method::PUT, &format!("/ingest/dataset/{plain}"), Some(json!({"files": [
            {"fileName": "a.csv", "operation": "Append"}, {"fileName": "b.csv", "operation": "Append"}]})))
        .await;
    assert_eq!(two.status, 400, "one file per job");
    let missing = v
        .register(
            To::Existing("00000000-0000-4000-a000-000000000000"),
            "Overwrite",
            false,
        )
        .await;
    assert_eq!(missing.status, 404);
    let unknown_version = v
        .register(
            To::New("00000000-0000-4000-a000-000000000000"),
            "Create",
            false,
        )
        .await;
    assert_eq!(unknown_version.status, 404);
}

#[tokio::test]
async fn multi_append_upload_appends_rows_and_starts_automatically() {
    let dir = tempfile::tempdir().unwrap();
    let v = start(dir.path()).await;
    let id = v
        .dataset(
            json!([{"name": "N", "type": "Int64"}, {"name": "S", "type": "String"}]),
            "N,S\n1,x\n",
        )
        .await;
    let r = v.register(To::Existing(&id), "Append", true).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let reg: IngestResponse = serde_json::from_str(&r.body).unwrap();
    v.upload(reg.sas_token.expose(), &[b"N,S\n2,", b"y\n3,z", b"\n4,w\n"])
        .await;
    let s = v.wait(&reg.job_id).await;
    assert_eq!(s.status, JobState::Completed, "{s:?}");
    let again = v.start_job(&reg.job_id).await;
    assert_eq!(
        again.status,
        JobState::Completed,
        "a second start reports the status"
    );
    let rows = v.rows(&id, "N").await;
    assert_eq!(
        rows,
        [
            r#"{"N":1,"S":"x"}"#,
            r#"{"N":2,"S":"y"}"#,
            r#"{"N":3,"S":"z"}"#,
            r#"{"N":4,"S":"w"}"#
        ]
    );
}

#[tokio::test]
async fn failed_jobs_leave_the_dataset_unchanged_and_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let v = start(dir.path()).await;
    let id = v.dataset(keyed_columns(), BASE).await;
    let before = v.rows(&id, "Id").await;
    let cases = [
        (
            "Upsert",
            "Id,Name,Value,TS,Ok\n5,e,5,2024-01-01T00:00:00,true\n6,f,notanumber,2024-01-01T00:00:00,true\n",
            Some(2),
            Some("Value"),
        ),
        (
            "Upsert",
            "Id,Name,Value,TS,Ok\n5,e,5,2024-01-01T00:00:00,true\n,f,1,2024-01-01T00:00:00,true\n",
            Some(2),
            Some("Id"),
        ),
        (
            "Overwrite",
            "Id,Name,Value,TS\n5,e,5,2024-01-01T00:00:00\n",
            Some(0),
            Some("Ok"),
        ),
        (
            "Overwrite",
            "Id,Name,Value,TS,Ok,Extra\n5,e,5,2024-01-01T00:00:00,true,1\n",
            Some(0),
            Some("Extra"),
        ),
        (
            "Upsert",
            "Id,Name,Value,TS,Ok\n99999999999,e,5,2024-01-01T00:00:00,true\n",
            Some(1),
            Some("Id"),
        ),
        ("Delete", "Name\nx\n", Some(0), Some("Id")),
        (
            "Overwrite",
            "Id,Name,Value,TS,Ok\n5,e,5,2024-01-01T00:00:00,true,extra\n",
            None,
            None,
        ),
    ];
    for (op, csv, row, column) in cases {
        let s = v.ingest(To::Existing(&id), op, csv).await;
        assert_eq!(s.status, JobState::Failed, "{op} {csv:?}: {s:?}");
        let issue = &s.validation_error[0];
        assert_eq!(
            (issue.row, issue.column.as_deref()),
            (row, column),
            "{csv:?}: {issue:?}"
        );
        assert!(!issue.message.is_empty());
        assert_eq!(
            v.rows(&id, "Id").await,
            before,
            "{csv:?} changed the dataset"
        );
    }
}

#[tokio::test]
async fn a_job_without_its_file_fails_and_a_failed_create_makes_no_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let v = start(dir.path()).await;
    let id = v.dataset(keyed_columns(), BASE).await;
    let r = v.register(To::Existing(&id), "Upsert", false).await;
    let reg: IngestResponse = serde_json::from_str(&r.body).unwrap();
    let first = v.start_job(&reg.job_id).await;
    assert_ne!(first.status, JobState::Pending);
    let s = v.wait(&reg.job_id).await;
    assert_eq!(s.status, JobState::Failed);
    assert!(
        s.validation_error[0].message.contains("ImportData.csv"),
        "{s:?}"
    );
    let version = v.schema(keyed_columns()).await;
    let bad = v
        .ingest(
            To::New(&version),
            "Create",
            "Id,Name,Value,TS,Ok\nx,a,1,2024-01-01T00:00:00,true\n",
        )
        .await;
    assert_eq!(bad.status, JobState::Failed);
    assert!(bad.dataset_id.is_none());
    let entries = std::fs::read_dir(dir.path().join("veracity/datasets"))
        .unwrap()
        .count();
    assert_eq!(entries, 1, "only the first dataset exists");
}

/// With no staging memory, a job's parsed rows are staged as files (memory does not grow
/// with the file; the job could not hold them otherwise) and no staged file of any kind is
/// left once the job is done.
#[tokio::test]
async fn parsed_rows_are_staged_as_files_without_staging_memory() {
    let dir = tempfile::tempdir().unwrap();
    let v = start_with(dir.path(), |c| c.with_staging_memory_bytes(0)).await;
    let id = v.dataset(keyed_columns(), BASE).await;
    let up = v
        .ingest(
            To::Existing(&id),
            "Upsert",
            "Id,Name,Value,TS,Ok\n2,B,20,2024-06-02T00:00:00,true\n4,d,4,2024-06-04T00:00:00,false\n",
        )
        .await;
    assert_eq!(up.status, JobState::Completed, "{up:?}");
    assert_eq!(ids(&v.rows(&id, "Id").await), [1, 2, 3, 4]);
    let staged: Vec<String> = std::fs::read_dir(dir.path().join("staging").join("veracity"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(staged.is_empty(), "staged files left behind: {staged:?}");
}
