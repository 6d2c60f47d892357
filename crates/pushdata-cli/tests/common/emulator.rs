//! Storage emulators of the object-store tests (moto, Azurite): found in the target
//! directory where `.ci/run` installs them, run on a free loopback port, stopped when
//! dropped.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `$env`, else `relative` below one of the test binary's folders (the binary is
/// `<target>/<profile>/deps/<name>`: `relative` is looked for below `<target>`); or why
/// there is none.
pub(crate) fn find(env: &str, relative: &str) -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os(env).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    exe.ancestors()
        .skip(1)
        .map(|d| d.join(relative))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            format!("no {relative} in the target directory (.ci/run installs it) and no {env}")
        })
}

/// A running emulator.
pub(crate) struct Emulator {
    child: Child,
    /// Its loopback port.
    pub(crate) port: u16,
}

impl Emulator {
    /// Run `bin` with the arguments `args` gives for a free loopback port, and wait until
    /// it listens there; or say why not.
    pub(crate) fn start(bin: PathBuf, args: impl Fn(u16) -> Vec<String>) -> Result<Self, String> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let child = Command::new(&bin)
            .args(args(port))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
        let emulator = Emulator { child, port };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if started.elapsed() > Duration::from_secs(60) {
                return Err(format!("{} did not listen within 60 s", bin.display()));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(emulator)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
