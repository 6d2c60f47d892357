//! One server per data directory, through the real binary: a `pushdata push` whose
//! embedded server would share `pushdata serve`'s data directory stops with a clear error
//! instead of clearing the running server's staging.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

#[test]
fn a_second_server_on_a_data_directory_exits_non_zero_naming_it_and_its_holder() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("shared");
    let mut serve = Command::new(env!("CARGO_BIN_EXE_pushdata"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(&data_dir)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut url = String::new();
    BufReader::new(serve.stdout.take().unwrap())
        .read_line(&mut url)
        .unwrap();
    assert!(
        url.starts_with("http://127.0.0.1:"),
        "serve printed {url:?}"
    );

    let sales = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/sales.parquet");
    for args in [
        vec!["push".to_string(), sales.display().to_string()],
        vec!["serve".to_string(), "--addr".into(), "127.0.0.1:0".into()],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_pushdata"))
            .args(&args)
            .arg("--data-dir")
            .arg(&data_dir)
            .env_remove("PUSHDATA_URL")
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(&data_dir.display().to_string()), "{stderr}");
        assert!(stderr.contains(&format!("pid {}", serve.id())), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    // The running server was not disturbed: it still answers.
    let status = Command::new(env!("CARGO_BIN_EXE_pushdata"))
        .args(["push"])
        .arg(&sales)
        .args(["--url", url.trim()])
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let _ = serve.kill();
    let _ = serve.wait();
}
