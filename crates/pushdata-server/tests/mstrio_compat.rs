//! mstrio-py (the official Python client) runs its SuperCube create / update (upsert) /
//! publish workflow unmodified against the reference server. Skipped (passes) when
//! `python3 -c "import mstrio"` fails.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::process::Command;

use arrow_cast::display::{ArrayFormatter, FormatOptions};
use pushdata_server::{Server, ServerConfig};

fn mstrio_available() -> Result<(), String> {
    match Command::new("python3")
        .args(["-c", "import mstrio, pandas"])
        .output()
    {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(String::from_utf8_lossy(&o.stderr).trim().to_string()),
        Err(e) => Err(format!("python3 not runnable: {e}")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mstrio_supercube_create_update_publish() {
    if let Err(why) = mstrio_available() {
        eprintln!("SKIP mstrio_compat: mstrio-py is not installed ({why}); pip install mstrio-py");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let handle = Server::start(ServerConfig::new(dir.path())).await.unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/mstrio_supercube.py"
    );
    let base = handle.base_url().to_string();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .args([script, &base, pushdata_server::DEFAULT_PROJECT_ID])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "mstrio script failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let cube_id = stdout.lines().last().unwrap().trim().to_string();
    let batches = pushdata_server::read_table(dir.path(), &cube_id, "items").unwrap();
    let opts = FormatOptions::default();
    let mut rows = Vec::new();
    for b in &batches {
        let f: Vec<ArrayFormatter> = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts).unwrap())
            .collect();
        for i in 0..b.num_rows() {
            rows.push(
                f.iter()
                    .map(|x| x.value(i).to_string())
                    .collect::<Vec<_>>()
                    .join("|"),
            );
        }
    }
    assert_eq!(rows, vec!["1|a|1.5", "2|b|2.5", "3|c|30.5", "4|d|40.5"]);
    handle.shutdown().await.unwrap();
}
