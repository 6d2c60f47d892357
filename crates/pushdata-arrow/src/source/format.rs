//! Which format a data file is in: by its extension, else by its first bytes.

use std::fmt;
use std::path::Path;

use super::input::InputError;
use super::location::FileLocation;

/// The formats a data file can be read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FileFormat {
    /// Apache Parquet (`.parquet`, `.pq`; the `PAR1` magic).
    Parquet,
    /// Arrow IPC file format, also Feather v2 (`.arrow`, `.feather`, `.ipc`; the `ARROW1`
    /// magic).
    ArrowFile,
    /// Arrow IPC stream format (`.arrows`; starts with the continuation marker
    /// `0xFFFFFFFF`).
    ArrowStream,
    /// Comma- (or tab-, for `.tsv`) separated values (`.csv`, `.tsv`; never sniffed).
    Csv,
    /// Newline-delimited JSON objects (`.json`, `.ndjson`, `.jsonl`; starts with `{`).
    Ndjson,
}

impl FileFormat {
    /// The format an extension names (case-insensitive), if any.
    pub fn from_extension(path: &Path) -> Option<FileFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "parquet" | "pq" => FileFormat::Parquet,
            "arrow" | "feather" | "ipc" => FileFormat::ArrowFile,
            "arrows" => FileFormat::ArrowStream,
            "csv" | "tsv" => FileFormat::Csv,
            "json" | "ndjson" | "jsonl" => FileFormat::Ndjson,
            _ => return None,
        })
    }

    /// The format the first bytes of a file show, if any: the Parquet and Arrow IPC file
    /// magics, the IPC stream continuation marker, or `{` (after blanks) for NDJSON. CSV
    /// has no signature and is never sniffed.
    pub fn sniff(head: &[u8]) -> Option<FileFormat> {
        if head.starts_with(b"PAR1") {
            return Some(FileFormat::Parquet);
        }
        if head.starts_with(b"ARROW1") {
            return Some(FileFormat::ArrowFile);
        }
        if head.starts_with(&[0xFF, 0xFF, 0xFF, 0xFF]) {
            return Some(FileFormat::ArrowStream);
        }
        let first = head.iter().find(|b| !b.is_ascii_whitespace());
        (first == Some(&b'{')).then_some(FileFormat::Ndjson)
    }

    /// The format of the file at `path`: its extension's, else what its first bytes show.
    pub fn detect(path: &Path) -> Result<FileFormat, InputError> {
        FileFormat::detect_at(&FileLocation::local(path.to_path_buf()))
    }

    /// The format of the file (or object) at `location`: its extension's, else what its
    /// first bytes show.
    pub(crate) fn detect_at(location: &FileLocation) -> Result<FileFormat, InputError> {
        let path = location.path();
        if let Some(format) = FileFormat::from_extension(path) {
            return Ok(format);
        }
        let head = location.head(64).map_err(|source| InputError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        FileFormat::sniff(&head).ok_or_else(|| InputError::UnknownFormat {
            path: path.to_path_buf(),
        })
    }

    /// The format's name, as errors print it.
    pub fn name(self) -> &'static str {
        match self {
            FileFormat::Parquet => "Parquet",
            FileFormat::ArrowFile => "Arrow IPC file",
            FileFormat::ArrowStream => "Arrow IPC stream",
            FileFormat::Csv => "CSV",
            FileFormat::Ndjson => "NDJSON",
        }
    }
}

impl fmt::Display for FileFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_name_formats() {
        let f = |p: &str| FileFormat::from_extension(Path::new(p));
        assert_eq!(f("a/b.parquet"), Some(FileFormat::Parquet));
        assert_eq!(f("b.PQ"), Some(FileFormat::Parquet));
        assert_eq!(f("b.feather"), Some(FileFormat::ArrowFile));
        assert_eq!(f("b.ipc"), Some(FileFormat::ArrowFile));
        assert_eq!(f("b.arrows"), Some(FileFormat::ArrowStream));
        assert_eq!(f("b.tsv"), Some(FileFormat::Csv));
        assert_eq!(f("b.jsonl"), Some(FileFormat::Ndjson));
        assert_eq!(f("b.txt"), None);
        assert_eq!(f("part-00000"), None);
    }

    #[test]
    fn content_is_sniffed() {
        assert_eq!(
            FileFormat::sniff(b"PAR1\x15\x04"),
            Some(FileFormat::Parquet)
        );
        assert_eq!(
            FileFormat::sniff(b"ARROW1\0\0"),
            Some(FileFormat::ArrowFile)
        );
        assert_eq!(
            FileFormat::sniff(&[0xFF, 0xFF, 0xFF, 0xFF, 0x10, 0, 0, 0]),
            Some(FileFormat::ArrowStream)
        );
        assert_eq!(
            FileFormat::sniff(b"\n  {\"a\": 1}"),
            Some(FileFormat::Ndjson)
        );
        // CSV has no signature: never sniffed.
        assert_eq!(FileFormat::sniff(b"a,b\n1,2\n"), None);
        assert_eq!(FileFormat::sniff(b""), None);
    }

    #[test]
    fn detect_sniffs_a_file_without_a_known_extension() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let ndjson = dir.path().join("part-0");
        std::fs::write(&ndjson, "{\"a\": 1}\n").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(FileFormat::detect(&ndjson).ok(), Some(FileFormat::Ndjson));
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "hello\n").unwrap_or_else(|e| panic!("{e}"));
        match FileFormat::detect(&text) {
            Err(InputError::UnknownFormat { path }) => assert_eq!(path, text),
            other => panic!("expected UnknownFormat, got {other:?}"),
        }
    }
}
