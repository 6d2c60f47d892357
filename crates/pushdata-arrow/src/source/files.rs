//! What files an input location stands for: a file, every data file below a directory, or
//! the matches of a glob; in a stable (sorted) order, without the files pipelines write
//! beside their data (`_SUCCESS`, `*.crc`, hidden `.`/`_` files and folders).

use std::path::{Component, Path, PathBuf};

use super::input::InputError;
use super::location::FileLocation;

/// The files of one input location, and the folder their partition paths start from.
#[derive(Debug, Clone)]
pub(crate) struct Listing {
    /// The directory, the glob's literal leading folders, or a file's folder.
    pub(crate) root: PathBuf,
    /// The data files, sorted.
    pub(crate) files: Vec<FileLocation>,
}

/// Whether `location` is a glob pattern (holds `*`, `?` or `[`) rather than a path.
pub(crate) fn is_glob(location: &str) -> bool {
    location.contains(['*', '?', '['])
}

/// The files `location` stands for. An existing path is taken as it is (even if its name
/// holds glob characters); otherwise a pattern is expanded.
pub(crate) fn list(location: &str) -> Result<Listing, InputError> {
    let path = Path::new(location);
    let listing = match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => Listing {
            root: path.to_path_buf(),
            files: locations(walk(path)?),
        },
        Ok(_) => Listing {
            root: path.parent().map(Path::to_path_buf).unwrap_or_default(),
            files: locations(vec![path.to_path_buf()]),
        },
        Err(_) if is_glob(location) => expand_glob(location)?,
        Err(source) => {
            return Err(InputError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    if listing.files.is_empty() {
        return Err(InputError::NoFiles {
            location: location.to_string(),
        });
    }
    Ok(listing)
}

/// Every data file below `dir`, sorted by path.
fn walk(dir: &Path) -> Result<Vec<PathBuf>, InputError> {
    let mut files = Vec::new();
    let walker = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !is_skipped(e.file_name()));
    for entry in walker {
        let entry = entry.map_err(|e| InputError::Io {
            path: e.path().unwrap_or(dir).to_path_buf(),
            source: e.into(),
        })?;
        if entry.file_type().is_file() {
            files.push(entry.into_path());
        }
    }
    files.sort();
    Ok(files)
}

/// The matches of glob `pattern`: files kept, folders walked, sorted by path.
fn expand_glob(pattern: &str) -> Result<Listing, InputError> {
    let paths = glob::glob(pattern).map_err(|source| InputError::Glob {
        pattern: pattern.to_string(),
        source,
    })?;
    let root = literal_prefix(pattern);
    let mut files = Vec::new();
    for path in paths {
        let path = path.map_err(|e| InputError::Io {
            path: e.path().to_path_buf(),
            source: e.into(),
        })?;
        let relative = path.strip_prefix(&root).unwrap_or(&path);
        if relative.components().any(|c| is_skipped(c.as_os_str())) {
            continue;
        }
        if path.is_dir() {
            files.extend(walk(&path)?);
        } else {
            files.push(path);
        }
    }
    files.sort();
    files.dedup();
    Ok(Listing {
        root,
        files: locations(files),
    })
}

/// Local files as file locations.
fn locations(files: Vec<PathBuf>) -> Vec<FileLocation> {
    files.into_iter().map(FileLocation::local).collect()
}

/// The folders of `pattern` before its first component with a glob character.
pub(crate) fn literal_prefix(pattern: &str) -> PathBuf {
    let mut root = PathBuf::new();
    for c in Path::new(pattern).components() {
        let literal = match c {
            Component::Normal(s) => !s.to_str().is_some_and(is_glob),
            _ => true,
        };
        if !literal {
            break;
        }
        root.push(c);
    }
    // A pattern without any glob character is a path: its folder is the root.
    if root == Path::new(pattern) {
        root.pop();
    }
    // Literal partition folders (`out/year=2024/*/*.parquet`) are still partitions.
    while root
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.contains('='))
    {
        root.pop();
    }
    root
}

/// Whether a file or folder name is one pipelines write beside the data: hidden (`.x`),
/// private (`_SUCCESS`, `_temporary`, `_delta_log`, ...), or a checksum (`*.crc`).
pub(crate) fn is_skipped(name: &std::ffi::OsStr) -> bool {
    let name = name.to_string_lossy();
    name.starts_with('.') || name.starts_with('_') || name.ends_with(".crc")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"x").unwrap();
    }

    #[test]
    fn a_directory_lists_its_data_files_sorted() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for name in [
            "year=2024/month=10/part-1.parquet",
            "year=2024/month=05/part-0.parquet",
            "year=2023/month=12/part-0.parquet",
            "_SUCCESS",
            "year=2024/month=05/.part-0.parquet.crc",
            "year=2024/month=05/part-0.parquet.crc",
            "_temporary/0/part-9.parquet",
            ".hidden/part-8.parquet",
        ] {
            touch(&d.join(name));
        }
        let listing = list(d.to_str().unwrap()).unwrap();
        let rel: Vec<_> = listing
            .files
            .iter()
            .map(|f| {
                f.path()
                    .strip_prefix(d)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(
            rel,
            [
                "year=2023/month=12/part-0.parquet",
                "year=2024/month=05/part-0.parquet",
                "year=2024/month=10/part-1.parquet",
            ]
        );
        assert_eq!(listing.root, d);
    }

    #[test]
    fn a_glob_matches_files_below_its_literal_folders() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for name in ["out/b.csv", "out/a.csv", "out/c.json", "out/_x.csv"] {
            touch(&d.join(name));
        }
        let pattern = format!("{}/out/*.csv", d.display());
        let listing = list(&pattern).unwrap();
        let paths: Vec<_> = listing
            .files
            .iter()
            .map(|f| f.path().to_path_buf())
            .collect();
        assert_eq!(paths, [d.join("out/a.csv"), d.join("out/b.csv")]);
        assert_eq!(listing.root, d.join("out"));
        match list(&format!("{}/out/*.nothing", d.display())) {
            Err(InputError::NoFiles { location }) => assert!(location.ends_with("*.nothing")),
            other => panic!("expected NoFiles, got {other:?}"),
        }
    }

    #[test]
    fn literal_prefix_stops_at_the_first_pattern() {
        assert_eq!(literal_prefix("out/*.parquet"), Path::new("out"));
        assert_eq!(literal_prefix("a/b/year=*/*.csv"), Path::new("a/b"));
        assert_eq!(literal_prefix("*.csv"), Path::new(""));
        assert_eq!(literal_prefix("out/year=2024/*/*.pq"), Path::new("out"));
    }
}
