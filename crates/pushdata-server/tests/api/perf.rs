//! Throughput measurement over real HTTP (ignored by default; run with
//! `cargo test -p pushdata-server --test api perf -- --ignored --nocapture`).
//! `PUSHDATA_PERF_CHUNKS` and `PUSHDATA_PERF_ROWS` (rows per chunk) scale it.

use std::fmt::Write as _;
use std::time::Instant;

use futures::StreamExt;
use reqwest::Method;
use serde_json::json;

use crate::common::*;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<f64>().ok())
            })
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn chunk_json(start: usize, rows: usize) -> String {
    let mut s = String::with_capacity(rows * 64);
    s.push('[');
    for i in start..start + rows {
        if i > start {
            s.push(',');
        }
        let _ = write!(
            s,
            r#"[{i},"name-{i}",{}.25,"{}.{:02}","2020-01-{:02}"]"#,
            i % 1000,
            i,
            i % 100,
            1 + i % 28
        );
    }
    s.push(']');
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn perf_push_throughput() {
    let chunks = env("PUSHDATA_PERF_CHUNKS", 6);
    let rows = env("PUSHDATA_PERF_ROWS", 100_000);
    let dir = tempfile::tempdir().unwrap();
    let h = start(dir.path()).await;
    let api = Api::login(&h).await;
    let ds = api
        .create_model(&json!({
            "name": "perf",
            "tables": [{"name": "t", "columnHeaders": [
                {"name": "id", "dataType": "BIGINTEGER"},
                {"name": "name", "dataType": "STRING"},
                {"name": "value", "dataType": "DOUBLE"},
                {"name": "amount", "dataType": "BIGDECIMAL"},
                {"name": "day", "dataType": "DATE"}]}],
            "attributes": [{"name": "id", "attributeForms": [{"category": "ID",
                "expressions": [{"tableName": "t", "columnName": "id"}]}]}],
            "metrics": [{"name": "value", "expressions": [{"tableName": "t", "columnName": "value"}]}]
        }))
        .await;
    for (round, policy, offset) in [(1, "replace", 0), (2, "upsert", chunks * rows / 2)] {
        let bodies: Vec<String> = (0..chunks)
            .map(|c| {
                json!({"tableName": "t", "index": c + 1, "data": b64(&chunk_json(offset + c * rows, rows))})
                    .to_string()
            })
            .collect();
        let bytes: usize = bodies.iter().map(String::len).sum();
        let sid = api
            .open_session(&ds, &json!([{"name": "t", "updatePolicy": policy}]))
            .await;
        let t0 = Instant::now();
        let path = format!("/api/datasets/{ds}/uploadSessions/{sid}");
        let results: Vec<u16> = futures::stream::iter(bodies.into_iter().map(|b| {
            let api = api.clone();
            let path = path.clone();
            async move { api.send(Method::PUT, &path, Some(&b), &[]).await.status }
        }))
        .buffer_unordered(3)
        .collect()
        .await;
        assert!(results.iter().all(|&s| s == 200));
        let upload = t0.elapsed();
        let t1 = Instant::now();
        assert!(api.publish_and_wait(&ds, &sid).await.status.is_ready());
        let publish = t1.elapsed();
        let mb = bytes as f64 / 1e6;
        eprintln!(
            "round {round} ({policy}): {chunks} chunks x {rows} rows, {mb:.1} MB of bodies; upload {:.2}s ({:.1} MB/s, {:.0} rows/s); publish {:.2}s; peak RSS of the test process {:.0} MiB",
            upload.as_secs_f64(),
            mb / upload.as_secs_f64(),
            (chunks * rows) as f64 / upload.as_secs_f64(),
            publish.as_secs_f64(),
            peak_rss_mib()
        );
    }
    let total = pushdata_server::read_table(dir.path(), &ds, "t")
        .unwrap()
        .iter()
        .map(|b| b.num_rows())
        .sum::<usize>();
    assert_eq!(total, chunks * rows + chunks * rows / 2);
    h.shutdown().await.unwrap();
}
