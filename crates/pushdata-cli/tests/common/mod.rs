//! What the CLI test files share: the `pushdata` binary with a clean environment, and the
//! sample data.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

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
