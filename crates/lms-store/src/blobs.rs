//! Content-addressed files: `blobs/ab/cdef…` named by the SHA-256 of their bytes, written
//! once through a temporary file and an atomic rename, never modified afterwards. An
//! identical file uploaded again stores nothing new.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

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

    /// Streams bytes written by `fill` into the store. `fill` gets a writer; whatever it
    /// writes is hashed on the way to a temporary file, which becomes the blob. If `fill`
    /// fails, nothing is kept.
    pub fn put_from<E>(
        &self,
        fill: impl FnOnce(&mut dyn Write) -> Result<(), E>,
    ) -> Result<Result<PutBlob, E>, Error> {
        let tmp_dir = self.root.join("tmp");
        let tmp = tempfile_in(&tmp_dir)?;
        let (file, tmp_path) = tmp;
        let mut writer = HashingWriter { inner: BufWriter::with_capacity(256 * 1024, file), hasher: Sha256::new(), size: 0 };
        if let Err(e) = fill(&mut writer) {
            drop(writer);
            let _ = std::fs::remove_file(&tmp_path);
            return Ok(Err(e));
        }
        let HashingWriter { inner, hasher, size } = writer;
        let file = inner.into_inner().map_err(|e| Error::Io { path: tmp_path.clone(), source: e.into_error() })?;
        drop(file);
        let sha256 = hex::encode(hasher.finalize());
        let target = self.path_of(&sha256);
        if target.is_file() {
            let _ = std::fs::remove_file(&tmp_path);
            return Ok(Ok(PutBlob { sha256, size, created: false }));
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(Error::io(parent))?;
        }
        std::fs::rename(&tmp_path, &target).map_err(Error::io(&target))?;
        Ok(Ok(PutBlob { sha256, size, created: true }))
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
}

pub(crate) fn valid_sha256(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn tempfile_in(dir: &Path) -> Result<(File, PathBuf), Error> {
    new_file_in(dir, "upload", false)
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

struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    size: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
