//! The exclusive lock on a data directory: one server per directory, so that no server
//! clears another's staging or collects files another has not swapped in yet.
//!
//! The lock is an OS file lock (`flock` on Unix) on `<data_dir>/.lock`, held for as long as
//! the [`DirLock`] lives; the OS releases it when the process ends, however it ends. The
//! file says who holds it (process id and start time) for the error of a second server.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::error::{Result, StoreError};

/// A held lock on a data directory; released on drop.
#[derive(Debug)]
pub(crate) struct DirLock {
    _file: File,
}

impl DirLock {
    /// Take the lock on `data_dir`, or fail with [`StoreError::Locked`] naming the holder.
    pub(crate) fn acquire(data_dir: &Path) -> Result<Self> {
        let path: PathBuf = data_dir.join(".lock");
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| StoreError::io("opening", &path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(StoreError::Locked {
                    dir: data_dir.to_path_buf(),
                    holder: if holder.is_empty() {
                        "holder unknown".to_string()
                    } else {
                        holder.to_string()
                    },
                });
            }
            Err(TryLockError::Error(e)) => return Err(StoreError::io("locking", &path, e)),
        }
        let me = format!(
            "pid {}, started {}",
            std::process::id(),
            httpdate::fmt_http_date(std::time::SystemTime::now())
        );
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(me.as_bytes()))
            .and_then(|()| file.sync_all())
            .map_err(|e| StoreError::io("writing", &path, e))?;
        Ok(DirLock { _file: file })
    }
}
