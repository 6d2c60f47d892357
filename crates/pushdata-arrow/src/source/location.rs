//! Where one data file's bytes are: a local file, or an object in a store; opened as the
//! readers of the formats need them (a sequential stream, or seekable).

use std::fs::File;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

/// A reader that can also seek (Arrow IPC files are read from their footer).
pub(crate) trait ReadSeek: Read + Seek + Send {}

impl<T: Read + Seek + Send> ReadSeek for T {}

/// One data file: its path (a local path, or an object's URL) and, for an object, its
/// store.
#[derive(Debug, Clone)]
pub(crate) struct FileLocation {
    /// The local path, or the object's URL, as errors name the file.
    pub(crate) path: PathBuf,
    /// The object, when the file is one.
    #[cfg(feature = "object-store")]
    pub(crate) object: Option<ObjectFile>,
}

impl FileLocation {
    /// A local file.
    pub(crate) fn local(path: PathBuf) -> Self {
        FileLocation {
            path,
            #[cfg(feature = "object-store")]
            object: None,
        }
    }

    /// The file's bytes from the start, as they are read (an object is streamed, never
    /// fetched whole first).
    pub(crate) fn reader(&self) -> std::io::Result<Box<dyn Read + Send>> {
        #[cfg(feature = "object-store")]
        if let Some(object) = &self.object {
            return Ok(Box::new(object.stream()?));
        }
        Ok(Box::new(File::open(&self.path)?))
    }

    /// The file's bytes, seekable (an object is read in ranges).
    pub(crate) fn seekable(&self) -> std::io::Result<Box<dyn ReadSeek>> {
        #[cfg(feature = "object-store")]
        if let Some(object) = &self.object {
            return Ok(Box::new(object.ranged()));
        }
        Ok(Box::new(File::open(&self.path)?))
    }

    /// The first `n` bytes of the file (fewer when it is shorter).
    pub(crate) fn head(&self, n: u64) -> std::io::Result<Vec<u8>> {
        let mut head = Vec::new();
        self.reader()?.take(n).read_to_end(&mut head)?;
        Ok(head)
    }

    /// The file's path, or the object's URL.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(feature = "object-store")]
pub(crate) use self::object::ObjectFile;

/// Whether `error`, or an error it wraps, is a store refusing to read an object because it
/// is no longer the version listed (its ETag changed: `If-Match` failed).
pub(crate) fn is_changed_object(error: &(dyn std::error::Error + 'static)) -> bool {
    #[cfg(feature = "object-store")]
    {
        let mut next = Some(error);
        while let Some(e) = next {
            if let Some(object_store::Error::Precondition { .. }) = e.downcast_ref() {
                return true;
            }
            // An I/O error's `source` skips the error it wraps: look at that one too.
            let wrapped = e
                .downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref());
            if wrapped.is_some_and(|w| is_changed_object(w)) {
                return true;
            }
            next = e.source();
        }
    }
    #[cfg(not(feature = "object-store"))]
    let _ = error;
    false
}

#[cfg(feature = "object-store")]
mod object {
    use std::io::{Read, Seek, SeekFrom};
    use std::sync::Arc;

    use std::ops::Range;

    use bytes::{Buf, Bytes};
    use futures::StreamExt;
    use futures::stream::BoxStream;
    use object_store::path::Path as ObjectPath;
    use object_store::{GetOptions, ObjectStore};

    use super::super::store::block_on;
    use super::FileLocation;

    /// Bytes one ranged read of a seekable object fetches.
    const RANGE_BYTES: u64 = 8 << 20;

    /// An object of a store.
    #[derive(Clone)]
    pub(crate) struct ObjectFile {
        /// Its URL, as errors name it.
        pub(crate) url: String,
        /// The store.
        pub(crate) store: Arc<dyn ObjectStore>,
        /// Its key in the store.
        pub(crate) path: ObjectPath,
        /// Its size in bytes.
        pub(crate) size: u64,
        /// Its ETag when listed (a strong one): every read asks for that version
        /// (`If-Match`), so an object rewritten since fails the read with the store's
        /// `Precondition` error instead of mixing two versions.
        pub(crate) e_tag: Option<String>,
    }

    // The store's own Debug may show its credentials: only the URL and size are shown.
    impl std::fmt::Debug for ObjectFile {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("ObjectFile")
                .field("url", &self.url)
                .field("size", &self.size)
                .finish()
        }
    }

    impl FileLocation {
        /// An object of a store, named by its URL.
        pub(crate) fn object(object: ObjectFile) -> Self {
            FileLocation {
                path: object.url.clone().into(),
                object: Some(object),
            }
        }
    }

    impl ObjectFile {
        /// A GET of the object as it was listed (`If-Match` its ETag), of `range` or whole.
        fn get_options(&self, range: Option<Range<u64>>) -> GetOptions {
            GetOptions::new()
                .with_if_match(self.e_tag.clone())
                .with_range(range)
        }

        /// The bytes of `range`, of the object as it was listed.
        pub(crate) async fn read_range(&self, range: Range<u64>) -> object_store::Result<Bytes> {
            let options = self.get_options(Some(range));
            self.store
                .get_opts(&self.path, options)
                .await?
                .bytes()
                .await
        }

        /// The object's bytes streamed by one GET.
        pub(super) fn stream(&self) -> std::io::Result<ObjectStream> {
            let get = self.store.get_opts(&self.path, self.get_options(None));
            let result = block_on(get)?.map_err(std::io::Error::other)?;
            Ok(ObjectStream {
                stream: result.into_stream(),
                chunk: Bytes::new(),
            })
        }

        /// The object's bytes read in ranges of `RANGE_BYTES`, seekable.
        pub(super) fn ranged(&self) -> RangedObject {
            RangedObject {
                object: self.clone(),
                position: 0,
                buffer: Bytes::new(),
                buffer_start: 0,
            }
        }
    }

    /// A GET's body as a blocking reader: a chunk at a time, as the body arrives.
    pub(crate) struct ObjectStream {
        stream: BoxStream<'static, object_store::Result<Bytes>>,
        chunk: Bytes,
    }

    impl Read for ObjectStream {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            while self.chunk.is_empty() {
                match block_on(self.stream.next())? {
                    None => return Ok(0),
                    Some(chunk) => self.chunk = chunk.map_err(std::io::Error::other)?,
                }
            }
            let n = buf.len().min(self.chunk.len());
            self.chunk.copy_to_slice(&mut buf[..n]);
            Ok(n)
        }
    }

    /// An object as a seekable reader: ranged GETs of `RANGE_BYTES`, one range buffered.
    pub(crate) struct RangedObject {
        object: ObjectFile,
        position: u64,
        buffer: Bytes,
        buffer_start: u64,
    }

    impl Read for RangedObject {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.position >= self.object.size || buf.is_empty() {
                return Ok(0);
            }
            let end = self.buffer_start + self.buffer.len() as u64;
            if self.position < self.buffer_start || self.position >= end {
                let range = self.position..self.object.size.min(self.position + RANGE_BYTES);
                self.buffer =
                    block_on(self.object.read_range(range))?.map_err(std::io::Error::other)?;
                self.buffer_start = self.position;
                if self.buffer.is_empty() {
                    return Ok(0);
                }
            }
            let offset = usize::try_from(self.position - self.buffer_start)
                .map_err(std::io::Error::other)?;
            let available = &self.buffer[offset..];
            let n = buf.len().min(available.len());
            buf[..n].copy_from_slice(&available[..n]);
            self.position += n as u64;
            Ok(n)
        }
    }

    impl Seek for RangedObject {
        fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
            let (base, delta) = match to {
                SeekFrom::Start(n) => (0, i128::from(n)),
                SeekFrom::End(d) => (self.object.size, i128::from(d)),
                SeekFrom::Current(d) => (self.position, i128::from(d)),
            };
            let target = i128::from(base) + delta;
            self.position = u64::try_from(target).map_err(|_| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("seek to {target} before the start of {}", self.object.url),
                )
            })?;
            Ok(self.position)
        }
    }
}
