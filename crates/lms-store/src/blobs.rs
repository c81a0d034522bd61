//! Content-addressed files: `blobs/ab/cdef…` named by the SHA-256 of their bytes, written
//! once through a temporary file and an atomic rename, never modified afterwards. An
//! identical file uploaded again stores nothing new.
//!
//! Bytes already in memory are hashed before anything touches the disk
//! ([`BlobStore::put_bytes`]): a blob that is already stored costs one `stat` and no file.
//! A new blob costs a temporary file, one write and a rename; its fan-out folder (`ab/`) is
//! made only when the rename finds it missing (once per folder, 256 in all).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use crate::Error;

#[derive(Clone, Debug)]
pub struct BlobStore {
    root: PathBuf,
}

/// What [`BlobStore::put_from`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PutBlob {
    pub sha256: String,
    pub size: u64,
    /// `false` when an identical blob was already stored.
    pub created: bool,
}

impl BlobStore {
    pub fn open(root: PathBuf) -> Result<BlobStore, Error> {
        std::fs::create_dir_all(root.join("tmp")).map_err(Error::io(root.join("tmp")))?;
        Ok(BlobStore { root })
    }

    /// The path of a stored blob (which may not exist).
    pub fn path_of(&self, sha256: &str) -> PathBuf {
        let (a, b) = sha256.split_at(2.min(sha256.len()));
        self.root.join(a).join(b)
    }

    pub fn contains(&self, sha256: &str) -> bool {
        valid_sha256(sha256) && self.path_of(sha256).is_file()
    }

    /// Stores bytes held in memory. They are hashed first; when that blob is already
    /// stored, nothing is written. Otherwise they go to a temporary file in one write,
    /// which is renamed to the blob's name.
    pub fn put_bytes(&self, bytes: &[u8]) -> Result<PutBlob, Error> {
        let sha256 = hex::encode(Sha256::digest(bytes));
        let size = bytes.len() as u64;
        let target = self.path_of(&sha256);
        if target.is_file() {
            return Ok(PutBlob { sha256, size, created: false });
        }
        let (mut file, tmp) = self.temp_file()?;
        file.write_all(bytes).map_err(Error::io(&tmp.path))?;
        drop(file);
        tmp.publish(&target)?;
        Ok(PutBlob { sha256, size, created: true })
    }

    /// Streams bytes written by `fill` into the store. `fill` gets a writer; whatever it
    /// writes is hashed on the way to a temporary file, which becomes the blob. If `fill`
    /// fails, nothing is kept. For content too large to hold in memory; otherwise
    /// [`Self::put_bytes`] is cheaper.
    pub fn put_from<E>(
        &self,
        fill: impl FnOnce(&mut dyn Write) -> Result<(), E>,
    ) -> Result<Result<PutBlob, E>, Error> {
        let mut stream = self.stream()?;
        if let Err(e) = fill(&mut stream) {
            return Ok(Err(e));
        }
        Ok(Ok(stream.finish()?))
    }

    /// A blob written piece by piece; [`BlobStream::finish`] stores it. Dropped unfinished,
    /// its temporary file is removed.
    pub(crate) fn stream(&self) -> Result<BlobStream<'_>, Error> {
        let (file, tmp) = self.temp_file()?;
        Ok(BlobStream { store: self, tmp, writer: BufWriter::with_capacity(256 * 1024, file), hasher: Sha256::new(), size: 0 })
    }

    /// Removes blobs created by an import that then failed. Only for blobs that no
    /// database row references (the caller knows: it just created them).
    pub fn remove_new(&self, sha256s: &[String]) {
        for sha in sha256s {
            if valid_sha256(sha) {
                let _ = std::fs::remove_file(self.path_of(sha));
            }
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A new, empty scratch file in the store's `tmp/` (read and write), with its path. The
    /// caller removes it.
    pub(crate) fn scratch_file(&self) -> Result<(File, PathBuf), Error> {
        scratch_in(&self.root.join("tmp"))
    }

    /// A new, empty file in `tmp/`; it is removed when its [`TempPath`] is dropped unpublished.
    fn temp_file(&self) -> Result<(File, TempPath), Error> {
        let dir = self.root.join("tmp");
        for _ in 0..16 {
            let path = dir.join(temp_name());
            match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => return Ok((file, TempPath { path, published: false })),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::Io { path, source: e }),
            }
        }
        Err(Error::Io { path: dir, source: io::Error::other("could not create a temporary file") })
    }
}

pub(crate) fn valid_sha256(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn scratch_in(dir: &Path) -> Result<(File, PathBuf), Error> {
    new_file_in(dir, "scratch", true)
}

fn new_file_in(dir: &Path, prefix: &str, read: bool) -> Result<(File, PathBuf), Error> {
    for _ in 0..16 {
        let name = format!("{prefix}-{}", uuid::Uuid::new_v4().simple());
        let path = dir.join(name);
        match std::fs::OpenOptions::new().read(read).write(true).create_new(true).open(&path) {
            Ok(file) => return Ok((file, path)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::Io { path, source: e }),
        }
    }
    Err(Error::Io { path: dir.to_path_buf(), source: io::Error::other("could not create a temporary file") })
}

/// `upload-<random per process>-<counter>`: unique without a system call per name
/// (`create_new` still refuses a clash, and the caller then tries the next name).
fn temp_name() -> String {
    static PROCESS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let process = *PROCESS.get_or_init(|| uuid::Uuid::new_v4().as_u64_pair().0);
    format!("upload-{process:016x}-{:x}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// A temporary file's name; the file is removed when this is dropped, unless published.
struct TempPath {
    path: PathBuf,
    published: bool,
}

impl TempPath {
    /// Renames the (closed) file to `target`, making the fan-out folder when the rename
    /// finds it missing (rather than checking for it before every rename).
    fn publish(mut self, target: &Path) -> Result<(), Error> {
        let result = match std::fs::rename(&self.path, target) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                target.parent().map(std::fs::create_dir_all).transpose().and_then(|_| std::fs::rename(&self.path, target))
            }
            other => other,
        };
        result.map_err(|source| Error::Io { path: target.to_path_buf(), source })?;
        self.published = true;
        Ok(())
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        if !self.published {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// See [`BlobStore::stream`].
pub(crate) struct BlobStream<'a> {
    store: &'a BlobStore,
    tmp: TempPath,
    writer: BufWriter<File>,
    hasher: Sha256,
    size: u64,
}

impl BlobStream<'_> {
    /// Closes the temporary file and stores it under its hash (or drops it when that blob
    /// is already stored).
    pub(crate) fn finish(self) -> Result<PutBlob, Error> {
        let BlobStream { store, tmp, writer, hasher, size } = self;
        let file = writer.into_inner().map_err(|e| Error::Io { path: tmp.path.clone(), source: e.into_error() })?;
        drop(file);
        let sha256 = hex::encode(hasher.finalize());
        let target = store.path_of(&sha256);
        if target.is_file() {
            return Ok(PutBlob { sha256, size, created: false });
        }
        tmp.publish(&target)?;
        Ok(PutBlob { sha256, size, created: true })
    }
}

impl Write for BlobStream<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.writer.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}
