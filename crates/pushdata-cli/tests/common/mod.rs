//! What the CLI test files share: the `pushdata` binary with a clean environment, and the
//! sample data.

#![allow(dead_code, clippy::unwrap_used)]

pub(crate) mod serve;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub(crate) mod emulator;
pub(crate) mod stores;
pub(crate) mod tables;

/// The `pushdata` binary run in `cwd`, with no `PUSHDATA_*` setting and no `RUST_LOG` from
/// the test's environment, and a two-minute timeout.
pub(crate) fn pushdata(cwd: &Path) -> Command {
    let mut cmd = Command::cargo_bin("pushdata").unwrap();
    cmd.current_dir(cwd);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("PUSHDATA_") {
            cmd.env_remove(&name);
        }
    }
    cmd.env_remove("RUST_LOG")
        .timeout(std::time::Duration::from_secs(120));
    cmd
}

/// A file of the repository's `data/` folder.
pub(crate) fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data")
        .join(name)
}

/// Run `cmd` with `args` and `--json`: it must succeed without a panic and print one line
/// of JSON, which is returned parsed.
pub(crate) fn json_line(mut cmd: Command, args: &[&str]) -> serde_json::Value {
    let out = cmd.args(args).arg("--json").output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{args:?} failed: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        stdout.lines().count(),
        1,
        "one JSON line expected: {stdout}"
    );
    serde_json::from_str(&stdout).unwrap()
}
