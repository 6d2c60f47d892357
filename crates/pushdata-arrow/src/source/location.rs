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

#[cfg(feature = "object-store")]
mod object {
    use std::io::{Read, Seek, SeekFrom};
    use std::sync::Arc;

    use bytes::{Buf, Bytes};
    use futures::StreamExt;
    use futures::stream::BoxStream;
    use object_store::path::Path as ObjectPath;
    use object_store::{ObjectStore, ObjectStoreExt};

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
        /// The object's bytes streamed by one GET.
        pub(super) fn stream(&self) -> std::io::Result<ObjectStream> {
            let result = block_on(self.store.get(&self.path))?.map_err(std::io::Error::other)?;
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
                let object = &self.object;
                self.buffer = block_on(object.store.get_range(&object.path, range))?
                    .map_err(std::io::Error::other)?;
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
