//! The Data Lake upload leg: positions, SAS scope, expiry, tampering, missing paths.

use std::time::Duration;

use pushdata_core::veracity::wire::IngestResponse;

use crate::common::{FileUrl, To, V, keyed_columns, send, start, start_with};

const CSV: &str = "Id,Name,Value,TS,Ok\n1,a,1.5,2024-05-01T10:00:00,true\n";

async fn job(v: &V) -> IngestResponse {
    let id = v.dataset(keyed_columns(), CSV).await;
    let r = v.register(To::Existing(&id), "Upsert", false).await;
    assert_eq!(r.status, 200, "{}", r.body);
    serde_json::from_str(&r.body).unwrap()
}

#[tokio::test]
async fn sas_uri_is_a_folder_on_this_server_with_a_directory_sas() {
    let dir = tempfile::tempdir().unwrap();
    let v = start(dir.path()).await;
    let reg = job(&v).await;
    let uri = reg.sas_token.expose();
    assert!(
        uri.starts_with(&format!("{}/ingest/{}?", v.root, reg.job_id)),
        "{uri}"
    );
    for p in ["sv=", "se=", "sr=d", "sdd=1", "sp=racwl", "sig="] {
        assert!(uri.contains(p), "{p} in {uri}");
    }
    assert!(
        !format!("{reg:?}").contains("sig="),
        "the SAS is a secret in Debug"
    );
}

#[tokio::test]
async fn positions_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let v = start(dir.path()).await;
    let reg = job(&v).await;
    let f = FileUrl::new(reg.sas_token.expose(), "ImportData.csv");
    f.append(&v, 0, b"x".to_vec())
        .await
        .assert_lake(404, "PathNotFound");
    f.flush(&v, 0).await.assert_lake(404, "PathNotFound");
    let created = f.create(&v).await;
    assert_eq!(created.status, 201);
    assert_eq!(created.headers["x-ms-version"], "2023-05-03");
    assert!(
        created.headers["etag"]
            .to_str()
            .unwrap()
            .starts_with("\"0x")
    );
    assert_eq!(f.append(&v, 0, CSV.as_bytes().to_vec()).await.status, 202);
    // Azure stages an append at any position and checks contiguity at the flush: this one
    // overlaps the first (whose bytes it overwrote), so neither may be flushed ...
    assert_eq!(f.append(&v, 5, b"more".to_vec()).await.status, 202);
    f.flush(&v, CSV.len())
        .await
        .assert_lake(400, "InvalidFlushPosition");
    f.flush(&v, 9)
        .await
        .assert_lake(400, "InvalidFlushPosition");
    // ... until the first is sent again, which replaces what is staged over its range.
    assert_eq!(f.append(&v, 0, CSV.as_bytes().to_vec()).await.status, 202);
    f.flush(&v, CSV.len() + 1)
        .await
        .assert_lake(400, "InvalidFlushPosition");
    f.flush(&v, 3)
        .await
        .assert_lake(400, "InvalidFlushPosition");
    let with_body = send(
        v.client
            .patch(format!(
                "{}?{}&action=flush&position={}",
                f.base,
                f.sas,
                CSV.len()
            ))
            .body("x"),
    )
    .await;
    with_body.assert_lake(400, "ContentLengthMustBeZero");
    assert_eq!(f.flush(&v, CSV.len()).await.status, 200);
    let other_name = FileUrl::new(reg.sas_token.expose(), "Other.csv");
    other_name.create(&v).await.assert_lake(404, "PathNotFound");
    v.start_job(&reg.job_id).await;
    let s = v.wait(&reg.job_id).await;
    assert!(s.status.is_success(), "{s:?}");
    f.create(&v)
        .await
        .assert_lake(409, "OperationNotAllowedOnThePath");
}

#[tokio::test]
async fn appends_are_staged_by_position_in_any_order_and_a_resent_one_replaces() {
    let dir = tempfile::tempdir().unwrap();
    let v = start(dir.path()).await;
    let id = v.dataset(keyed_columns(), CSV).await;
    let r = v.register(To::Existing(&id), "Upsert", false).await;
    let reg: IngestResponse = serde_json::from_str(&r.body).unwrap();
    let f = FileUrl::new(reg.sas_token.expose(), "ImportData.csv");
    let (header, rows) = CSV.split_once('\n').unwrap();
    let header = format!("{header}\n");
    let more = "2,b,2.5,2024-05-02T10:00:00,false\n";
    assert_eq!(f.create(&v).await.status, 201);
    // The last part first, as parallel uploaders may send them.
    let last = header.len() + rows.len();
    assert_eq!(
        f.append(&v, last, more.as_bytes().to_vec()).await.status,
        202
    );
    assert_eq!(
        f.append(&v, 0, header.as_bytes().to_vec()).await.status,
        202
    );
    // A gap where the middle part goes: nothing can be flushed yet.
    let total = last + more.len();
    f.flush(&v, total)
        .await
        .assert_lake(400, "InvalidFlushPosition");
    // The middle part, then sent again at the same position (its answer was lost).
    for _ in 0..2 {
        let r = f.append(&v, header.len(), rows.as_bytes().to_vec()).await;
        assert_eq!(r.status, 202, "{}", r.body);
    }
    let r = f.flush(&v, total).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.headers["x-ms-content-length"], total.to_string().as_str());
    // Appending inside the flushed file is refused.
    f.append(&v, 3, b"x".to_vec())
        .await
        .assert_lake(400, "InvalidFlushPosition");
    v.start_job(&reg.job_id).await;
    let s = v.wait(&reg.job_id).await;
    assert!(s.status.is_success(), "{s:?}");
    let got = v.rows(&id, "Id").await;
    assert_eq!(got.len(), 2, "each row once: {got:?}");
    assert!(got[1].contains("\"Name\":\"b\""), "{got:?}");
}

/// The server parses a file as its parts arrive; a part sent again with other bytes, a
/// flush short of the parts sent, or a value that does not parse must leave the job
/// reading the file as flushed, with the same errors.
#[tokio::test]
async fn the_job_reads_the_file_as_flushed_whatever_was_parsed_while_it_was_uploaded() {
    let dir = tempfile::tempdir().unwrap();
    let v = start(dir.path()).await;
    let id = v.dataset(keyed_columns(), CSV).await;
    let header = "Id,Name,Value,TS,Ok\n";
    let first = "2,b,2.5,2024-05-02T10:00:00,false\n";
    let other = "2,B,9.5,2024-05-02T10:00:00,false\n";
    let last = "3,c,3.5,2024-05-03T10:00:00,true\n";
    // A part sent again at the same position with other bytes: the job reads the new ones.
    let r = v.register(To::Existing(&id), "Upsert", false).await;
    let reg: IngestResponse = serde_json::from_str(&r.body).unwrap();
    let f = FileUrl::new(reg.sas_token.expose(), "ImportData.csv");
    assert_eq!(f.create(&v).await.status, 201);
    let mut at = 0;
    for part in [header, first, last] {
        assert_eq!(f.append(&v, at, part.as_bytes().to_vec()).await.status, 202);
        at += part.len();
    }
    let resent = f.append(&v, header.len(), other.as_bytes().to_vec()).await;
    assert_eq!(resent.status, 202, "{}", resent.body);
    let r = f.flush(&v, header.len() + other.len()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    v.start_job(&reg.job_id).await;
    assert!(v.wait(&reg.job_id).await.status.is_success());
    let got = v.rows(&id, "Id").await;
    assert_eq!(
        got.len(),
        2,
        "the last part was dropped by the flush: {got:?}"
    );
    assert!(got[1].contains("\"Name\":\"B\""), "{got:?}");
    // A value that does not parse in the second part: the job names its row and column.
    let r = v.register(To::Existing(&id), "Upsert", false).await;
    let reg: IngestResponse = serde_json::from_str(&r.body).unwrap();
    let f = FileUrl::new(reg.sas_token.expose(), "ImportData.csv");
    assert_eq!(f.create(&v).await.status, 201);
    let bad = "4,d,not a number,2024-05-04T10:00:00,true\n";
    let mut at = 0;
    for part in [header, first, bad] {
        assert_eq!(f.append(&v, at, part.as_bytes().to_vec()).await.status, 202);
        at += part.len();
    }
    assert_eq!(f.flush(&v, at).await.status, 200);
    v.start_job(&reg.job_id).await;
    let s = v.wait(&reg.job_id).await;
    assert!(!s.status.is_success(), "{s:?}");
    let issue = &s.validation_error[0];
    assert_eq!(
        (issue.row, issue.column.as_deref()),
        (Some(2), Some("Value"))
    );
    assert_eq!(
        v.rows(&id, "Id").await.len(),
        2,
        "a failed job changes nothing"
    );
}

#[tokio::test]
async fn a_sas_works_only_on_its_own_folder_and_unaltered() {
    let dir = tempfile::tempdir().unwrap();
    let v = start(dir.path()).await;
    let a = job(&v).await;
    let b = job(&v).await;
    let (_, sas_a) = a.sas_token.expose().split_once('?').unwrap();
    let cross = FileUrl {
        base: format!("{}/ingest/{}/ImportData.csv", v.root, b.job_id),
        sas: sas_a.to_string(),
    };
    cross
        .create(&v)
        .await
        .assert_lake(403, "AuthenticationFailed");
    let f = FileUrl::new(a.sas_token.expose(), "ImportData.csv");
    let tampered = FileUrl {
        base: f.base.clone(),
        sas: f.sas.replace("sp=racwl", "sp=racwdl"),
    };
    tampered
        .create(&v)
        .await
        .assert_lake(403, "AuthenticationFailed");
    let unsigned = FileUrl {
        base: f.base.clone(),
        sas: f.sas.split("&sig=").next().unwrap().to_string(),
    };
    unsigned
        .create(&v)
        .await
        .assert_lake(403, "AuthenticationFailed");
    let none = send(v.client.put(format!("{}?resource=file", f.base))).await;
    none.assert_lake(403, "AuthenticationFailed");
    assert_eq!(f.create(&v).await.status, 201, "the right folder works");
}

#[tokio::test]
async fn an_expired_sas_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let v = start_with(dir.path(), |c| c.with_veracity_sas_lifetime(Duration::ZERO)).await;
    let reg = job(&v).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let f = FileUrl::new(reg.sas_token.expose(), "ImportData.csv");
    f.create(&v).await.assert_lake(403, "AuthenticationFailed");
}

/// The server parses each append's rows as it arrives (its parse ahead). An append whose
/// connection drops after several MiB of its body were written must leave none of its
/// rows in the job: the append sent again at the same position with other bytes is what
/// the job reads.
#[tokio::test]
async fn rows_parsed_from_an_append_that_failed_midway_are_not_kept() {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let v = start(dir.path()).await;
    let id = v.dataset(keyed_columns(), CSV).await;
    let csv_of = |name: &str| {
        let mut s = String::from("Id,Name,Value,TS,Ok\n");
        for i in 1..=200_000 {
            s.push_str(&format!("{i},{name},{i}.5,2024-05-01T10:00:00,true\n"));
        }
        s
    };
    let (bad, good) = (csv_of("bad"), csv_of("good"));
    assert!(
        bad.len() > 6 << 20,
        "more than the server writes (and parses) at once"
    );
    let r = v.register(To::Existing(&id), "Overwrite", false).await;
    let reg: IngestResponse = serde_json::from_str(&r.body).unwrap();
    let f = FileUrl::new(reg.sas_token.expose(), "ImportData.csv");
    assert_eq!(f.create(&v).await.status, 201);
    // Six MiB of the `bad` file under a Content-Length of all of it, then the connection
    // is dropped.
    let url =
        reqwest::Url::parse(&format!("{}?{}&action=append&position=0", f.base, f.sas)).unwrap();
    let addr = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "PATCH {}?{} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n\r\n",
        url.path(),
        url.query().unwrap(),
        url.host_str().unwrap(),
        bad.len()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(&bad.as_bytes()[..6 << 20]).await.unwrap();
    tcp.flush().await.unwrap();
    // Let the server write (and parse) what it was sent before the connection goes.
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(tcp);
    let r = f.append(&v, 0, good.as_bytes().to_vec()).await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(f.flush(&v, good.len()).await.status, 200);
    v.start_job(&reg.job_id).await;
    let s = v.wait(&reg.job_id).await;
    assert!(s.status.is_success(), "{s:?}");
    let page = v
        .query(&id, serde_json::json!({"pageIndex": 1, "pageSize": 1000, "sorting": {"column": "Id", "order": "Ascending"}}))
        .await;
    assert_eq!(page.pagination.total_count, 200_000);
    let rows = page.rows().unwrap();
    assert_eq!(rows.len(), 1000);
    assert!(
        rows.iter().all(|r| r["Name"] == "good"),
        "{:?}",
        rows.iter().find(|r| r["Name"] != "good")
    );
}
