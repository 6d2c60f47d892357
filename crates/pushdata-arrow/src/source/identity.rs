//! What tells a local file apart from the same path changed or replaced since it was
//! opened: its device and inode (Unix), length and modification time. A push checks it
//! when it opens each row group and after the last one, so a file rewritten while it is
//! pushed fails the push instead of mixing two versions of it.

use std::fs::{File, Metadata};
use std::time::SystemTime;

/// A file as it was when opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileIdentity {
    len: u64,
    modified: Option<SystemTime>,
    #[cfg(unix)]
    dev_ino: (u64, u64),
}

impl FileIdentity {
    /// The identity of `file`, open.
    pub(crate) fn of(file: &File) -> std::io::Result<Self> {
        Ok(Self::from_metadata(&file.metadata()?))
    }

    /// The identity of what `path` names now.
    pub(crate) fn at(path: &std::path::Path) -> std::io::Result<Self> {
        Ok(Self::from_metadata(&std::fs::metadata(path)?))
    }

    fn from_metadata(m: &Metadata) -> Self {
        FileIdentity {
            len: m.len(),
            modified: m.modified().ok(),
            #[cfg(unix)]
            dev_ino: {
                use std::os::unix::fs::MetadataExt;
                (m.dev(), m.ino())
            },
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::FileIdentity;

    #[test]
    fn a_rewritten_or_replaced_file_is_another_identity() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"one").unwrap();
        let first = FileIdentity::of(&std::fs::File::open(&path).unwrap()).unwrap();
        assert_eq!(FileIdentity::at(&path).unwrap(), first);
        std::fs::write(&path, b"two!").unwrap();
        assert_ne!(
            FileIdentity::at(&path).unwrap(),
            first,
            "rewritten in place"
        );
        let second = FileIdentity::at(&path).unwrap();
        let other = dir.path().join("g");
        std::fs::write(&other, b"two!").unwrap();
        std::fs::rename(&other, &path).unwrap();
        assert_ne!(
            FileIdentity::at(&path).unwrap(),
            second,
            "replaced by a rename"
        );
    }
}
