//! The data directory's quota: the most bytes its files (published versions, staged
//! chunks, Veracity uploads) may take in all, as a full disk would set. Each place that
//! writes checks it: a write that would pass it is refused (or undone) with
//! [`StoreError::DataQuota`], so the previous version of every dataset stays intact.

use std::path::{Path, PathBuf};

use super::error::{Result, StoreError};

/// The quota of a data directory; no limit unless configured.
#[derive(Debug, Clone, Default)]
pub(crate) struct DataQuota {
    /// The data directory and its limit in bytes.
    limit: Option<(PathBuf, u64)>,
}

impl DataQuota {
    /// At most `limit` bytes of files under `data_dir` (`None`: no limit).
    pub(crate) fn new(data_dir: &Path, limit: Option<u64>) -> Self {
        DataQuota {
            limit: limit.map(|l| (data_dir.to_path_buf(), l)),
        }
    }

    /// Refuse when the files under the data directory and `more` bytes about to be written
    /// would take more than the quota. A write point calls it before writing `more`
    /// bytes, or after writing with `more` 0 (then it undoes its write on error).
    pub(crate) fn check(&self, more: u64) -> Result<()> {
        let Some((dir, quota)) = &self.limit else {
            return Ok(());
        };
        let used = dir_bytes(dir);
        if used.saturating_add(more) > *quota {
            return Err(StoreError::DataQuota {
                quota: *quota,
                used,
                more,
            });
        }
        Ok(())
    }
}

/// The bytes of the files under `dir` (files that vanish while counted are skipped).
fn dir_bytes(dir: &Path) -> u64 {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_quota_counts_every_file_under_the_data_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        std::fs::write(dir.path().join("a/b/f"), vec![0u8; 600]).unwrap();
        std::fs::write(dir.path().join("g"), vec![0u8; 300]).unwrap();
        let quota = DataQuota::new(dir.path(), Some(1000));
        quota.check(100).unwrap();
        let err = quota.check(101).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::DataQuota {
                    quota: 1000,
                    used: 900,
                    more: 101
                }
            ),
            "{err}"
        );
        DataQuota::default().check(u64::MAX).unwrap();
    }
}
