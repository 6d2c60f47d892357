//! Inputs in object stores: an `s3://`, `gs://`, `az://`/`abfss://`, `http(s)://` or
//! `file://` URL opened as a store (credentials from the environment, as the cloud CLIs
//! read them, then the storage options; `file://` is `object_store`'s local store), and
//! listed as the local inputs are: one object, every data object below a prefix, or the
//! objects a glob matches.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use futures::TryStreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ClientConfigKey, ObjectStore, ObjectStoreExt, ObjectStoreScheme};
use url::Url;

use super::files::{self, Listing};
use super::input::InputError;
use super::location::{FileLocation, ObjectFile};
use super::storage_options::StorageOptions;

/// Whether `location` is a URL this module opens (rather than a local path).
pub(crate) fn is_url(location: &str) -> bool {
    const SCHEMES: [&str; 11] = [
        "s3", "s3a", "gs", "az", "azure", "abfs", "abfss", "adl", "http", "https", "file",
    ];
    location
        .split_once("://")
        .is_some_and(|(scheme, _)| SCHEMES.contains(&scheme.to_ascii_lowercase().as_str()))
}

/// The runtime the stores' requests run on: blocking readers of any thread (a push's
/// decoder threads, a caller's async thread) wait on it, never on the caller's runtime.
fn io_runtime() -> std::io::Result<&'static tokio::runtime::Runtime> {
    static IO: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    IO.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("pushdata-object-io")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| std::io::Error::other(format!("cannot start the object-store runtime: {e}")))
}

/// Run `future` to completion from blocking code, its I/O on the object-store runtime.
pub(crate) fn block_on<F: Future>(future: F) -> std::io::Result<F::Output> {
    let runtime = io_runtime()?;
    let _context = runtime.enter();
    Ok(futures::executor::block_on(future))
}

/// The handle of the object-store runtime, for readers that spawn their I/O on it.
pub(crate) fn io_handle() -> std::io::Result<tokio::runtime::Handle> {
    io_runtime().map(|r| r.handle().clone())
}

/// An opened store and what the URL addresses in it.
struct Opened {
    store: Arc<dyn ObjectStore>,
    /// The key (or key pattern) the URL names, without a leading `/`.
    key: String,
    /// The URL up to the key: `s3://bucket/`.
    base: String,
}

/// Open the store of `location` with `options` over the environment's configuration.
fn open_store(location: &str, options: &StorageOptions) -> Result<Opened, InputError> {
    let bad = |message: String| InputError::Url {
        url: location.to_string(),
        message,
    };
    // `[` and `]` of a glob are not URL characters: parse the URL with them escaped.
    let escaped = location.replace('[', "%5B").replace(']', "%5D");
    let url = Url::parse(&escaped).map_err(|e| bad(format!("not a URL: {e}")))?;
    let (scheme, path) =
        ObjectStoreScheme::parse(&url).map_err(|e| bad(format!("not an object-store URL: {e}")))?;
    let key = path.as_ref().to_string();
    let base = format!("{}/", &url[..url::Position::BeforePath]);
    let unknown = |k: &str| InputError::StorageOption {
        url: location.to_string(),
        key: k.to_string(),
    };
    macro_rules! build {
        ($builder:expr, $url:expr) => {{
            let mut builder = $builder.with_url($url);
            for (k, v) in options.iter() {
                builder = builder.with_config(k.parse().map_err(|_| unknown(k))?, v.clone());
            }
            Arc::new(builder.build().map_err(|e| InputError::Object {
                url: location.to_string(),
                operation: "configure the store",
                source: e,
            })?) as Arc<dyn ObjectStore>
        }};
    }
    let store = match scheme {
        ObjectStoreScheme::AmazonS3 => {
            build!(object_store::aws::AmazonS3Builder::from_env(), url.as_str())
        }
        ObjectStoreScheme::GoogleCloudStorage => build!(
            object_store::gcp::GoogleCloudStorageBuilder::from_env(),
            url.as_str()
        ),
        ObjectStoreScheme::MicrosoftAzure => build!(
            object_store::azure::MicrosoftAzureBuilder::from_env(),
            url.as_str()
        ),
        // An `http://` URL is plain HTTP by the user's own choice.
        ObjectStoreScheme::Http => build!(
            object_store::http::HttpBuilder::new().with_config(
                ClientConfigKey::AllowHttp,
                (url.scheme() == "http").to_string()
            ),
            &url[..url::Position::BeforePath]
        ),
        // The local store has no options: the first one given is not one of its keys.
        ObjectStoreScheme::Local => match options.iter().next() {
            Some((k, _)) => return Err(unknown(k)),
            None => Arc::new(LocalFileSystem::new()) as Arc<dyn ObjectStore>,
        },
        other => return Err(bad(format!("{other:?} URLs are not read"))),
    };
    Ok(Opened { store, key, base })
}

/// The objects `location` stands for: one object, every data object below a prefix (a
/// folder), or the objects a glob matches (objects, and everything below matching
/// folders); sorted by key, without `_SUCCESS`, `*.crc` and hidden objects, as
/// [`files::list`] lists local folders.
pub(crate) fn list(location: &str, options: &StorageOptions) -> Result<Listing, InputError> {
    let Opened { store, key, base } = open_store(location, options)?;
    let fail = |operation: &'static str| {
        move |source| InputError::Object {
            url: location.to_string(),
            operation,
            source,
        }
    };
    let io = |e: std::io::Error| InputError::Io {
        path: PathBuf::from(location),
        source: e,
    };
    let (root, pattern) = if files::is_glob(&key) {
        let pattern = glob::Pattern::new(&key).map_err(|source| InputError::Glob {
            pattern: location.to_string(),
            source,
        })?;
        (files::literal_prefix(&key), Some(pattern))
    } else {
        let single = if key.is_empty() || key.ends_with('/') {
            None
        } else {
            let path = ObjectPath::from(key.as_str());
            match block_on(store.head(&path)).map_err(io)? {
                Ok(meta) => Some(meta),
                Err(object_store::Error::NotFound { .. }) => None,
                Err(e) => return Err(fail("read the object's metadata")(e)),
            }
        };
        if let Some(meta) = single {
            let root = Path::new(&key).parent().map(Path::to_path_buf);
            let file = object_file(&store, &base, meta);
            return Ok(Listing {
                root: PathBuf::from(format!("{base}{}", path_text(&root.unwrap_or_default()))),
                files: vec![file],
            });
        }
        (PathBuf::from(key.trim_end_matches('/')), None)
    };
    let prefix = ObjectPath::from(path_text(&root));
    let objects: Vec<object_store::ObjectMeta> = block_on(
        store
            .list((!prefix.as_ref().is_empty()).then_some(&prefix))
            .try_collect(),
    )
    .map_err(io)?
    .map_err(fail("list the objects"))?;
    let options = glob::MatchOptions {
        require_literal_separator: true,
        ..glob::MatchOptions::new()
    };
    let mut kept: Vec<_> = objects
        .into_iter()
        .filter(|meta| {
            let key = Path::new(meta.location.as_ref());
            let relative = key.strip_prefix(&root).unwrap_or(key);
            let skipped = relative
                .components()
                .any(|c| files::is_skipped(c.as_os_str()));
            // A glob keeps an object it matches, or one below a folder it matches.
            let matched = pattern
                .as_ref()
                .is_none_or(|p| key.ancestors().any(|a| p.matches_path_with(a, options)));
            !skipped && matched
        })
        .collect();
    kept.sort_by(|a, b| a.location.cmp(&b.location));
    if kept.is_empty() {
        return Err(InputError::NoFiles {
            location: location.to_string(),
        });
    }
    Ok(Listing {
        root: PathBuf::from(format!("{base}{}", path_text(&root))),
        files: kept
            .into_iter()
            .map(|meta| object_file(&store, &base, meta))
            .collect(),
    })
}

/// A key as text with `/` separators.
fn path_text(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// The location of the object `meta` of `store`, named by its URL.
fn object_file(
    store: &Arc<dyn ObjectStore>,
    base: &str,
    meta: object_store::ObjectMeta,
) -> FileLocation {
    FileLocation::object(ObjectFile {
        url: format!("{base}{}", meta.location),
        store: store.clone(),
        path: meta.location,
        size: meta.size,
        // A weak ETag (`W/"..."`) never matches `If-Match`: such an object is read unpinned.
        e_tag: meta.e_tag.filter(|e| !e.starts_with("W/")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_told_from_paths() {
        assert!(is_url("s3://bucket/a/"));
        assert!(is_url("ABFSS://c@acct.dfs.core.windows.net/x"));
        assert!(is_url("https://example.com/a.parquet"));
        assert!(!is_url("out/part-0.parquet"));
        assert!(!is_url("C:\\data\\x.csv"));
        assert!(is_url("file:///tmp/x.csv"));
        assert!(!is_url("/tmp/x.csv"));
    }

    #[test]
    fn storage_options_hide_their_values() {
        let o: StorageOptions = [("AWS_SECRET_ACCESS_KEY", "hunter2")].into_iter().collect();
        let shown = format!("{o:?}");
        assert!(shown.contains("aws_secret_access_key"));
        assert!(!shown.contains("hunter2"));
    }

    #[test]
    fn an_unknown_option_is_named() {
        let o = StorageOptions::new().with("aws_no_such_thing", "1");
        match open_store("s3://bucket/key", &o) {
            Err(InputError::StorageOption { url, key }) => {
                assert_eq!(url, "s3://bucket/key");
                assert_eq!(key, "aws_no_such_thing");
            }
            Err(other) => panic!("expected StorageOption, got {other:?}"),
            Ok(_) => panic!("expected StorageOption, got a store"),
        }
    }
}
