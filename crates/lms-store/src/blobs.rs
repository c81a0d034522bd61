//! Content-addressed files: `blobs/ab/cdef…` named by the SHA-256 of their bytes, written
//! once through a temporary file and an atomic rename, never modified afterwards. An
//! identical file uploaded again stores nothing new.
//!
//! Bytes already in memory are hashed before anything touches the disk
//! ([`BlobStore::put_bytes`]): a blob that is already stored costs one `stat` and no file.
//! A new blob costs a temporary file, one write, an `fsync` of its data, a rename and an
//! `fsync` of the fan-out folder that received it, in that order: a file found under a blob's
//! name is complete (it got there only after its bytes were on the disk), so an identical
//! upload may trust it, and a database row naming a blob commits only after the blob is
//! durable. A file left in `tmp/` (say by a power loss) is never trusted: only names in the
//! fan-out folders count. As a guard against files damaged before this order was kept, a
//! stored blob whose size is not the expected one is written again.
//!
//! A package's new files go through [`NewBlobs`]: their data is synced by a few threads
//! while the import goes on (concurrent `fsync`s share journal commits), and
//! [`NewBlobs::publish`] renames them all and syncs each folder once. The 256 fan-out folders
//! (`00/` … `ff/`) are made when the store is first opened, not while importing (a folder
//! found missing later, say deleted by hand, is made again when a rename needs it).
//!
//! Nothing here removes a blob: a blob another upload found stored may already be named by
//! its row. A failed import removes only its temporary files; blobs renamed into place before
//! a database failure stay, unnamed (and are reused by the next identical upload).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::collections::{BTreeSet, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

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
    /// Opens the blob folder, making it with its `tmp/` and its 256 fan-out folders when
    /// they are missing (`ff/`, made last, marks a complete set: one `stat` on later opens).
    pub fn open(root: PathBuf) -> Result<BlobStore, Error> {
        std::fs::create_dir_all(root.join("tmp")).map_err(Error::io(root.join("tmp")))?;
        if !root.join("ff").is_dir() {
            for i in 0..=255u8 {
                let dir = root.join(format!("{i:02x}"));
                match std::fs::create_dir(&dir) {
                    Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(Error::Io { path: dir, source: e }),
                    _ => {}
                }
            }
            // The new folders' names are durable before any blob is renamed into them.
            File::open(&root).and_then(|dir| dir.sync_all()).map_err(Error::io(&root))?;
        }
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

    /// Stores bytes held in memory, durably (see the module docs). They are hashed first;
    /// when that blob is already stored, nothing is written. Otherwise they go to a temporary
    /// file in one write, which is synced and renamed to the blob's name.
    pub fn put_bytes(&self, bytes: &[u8]) -> Result<PutBlob, Error> {
        let sha256 = hex::encode(Sha256::digest(bytes));
        let size = bytes.len() as u64;
        let target = self.path_of(&sha256);
        if is_stored(&target, size) {
            return Ok(PutBlob { sha256, size, created: false });
        }
        let (mut file, tmp) = self.temp_file()?;
        file.write_all(bytes).map_err(Error::io(&tmp.path))?;
        self.publish_one(file, tmp, &target)?;
        Ok(PutBlob { sha256, size, created: true })
    }

    /// Syncs a written temporary file, renames it to `target` and syncs the folder.
    fn publish_one(&self, file: File, tmp: TempPath, target: &Path) -> Result<(), Error> {
        file.sync_data().map_err(Error::io(&tmp.path))?;
        drop(file);
        let made_folder = tmp.publish(target)?;
        if made_folder {
            sync_folder(&self.root)?;
        }
        target.parent().map(sync_folder).transpose()?;
        Ok(())
    }

    /// A set of new blobs written together, made durable and named by
    /// [`NewBlobs::publish`].
    pub(crate) fn new_blobs(&self) -> NewBlobs {
        NewBlobs { store: self.clone(), pending: Vec::new(), names: HashSet::new(), syncer: Syncer::default() }
    }

    /// Streams bytes written by `fill` into the store, durably (see the module docs). `fill`
    /// gets a writer; whatever it writes is hashed on the way to a temporary file, which
    /// becomes the blob. If `fill` fails, nothing is kept. For content too large to hold in
    /// memory; otherwise [`Self::put_bytes`] is cheaper.
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
    pub(crate) fn stream(&self) -> Result<BlobStream, Error> {
        let (file, tmp) = self.temp_file()?;
        Ok(BlobStream { store: self.clone(), tmp, writer: BufWriter::with_capacity(256 * 1024, file), hasher: Sha256::new(), size: 0 })
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

/// New blobs of one import (see the module docs). Dropped unpublished, their temporary
/// files are removed.
pub(crate) struct NewBlobs {
    store: BlobStore,
    /// Temporary files and the names they get.
    pending: Vec<(TempPath, PathBuf)>,
    /// The SHA-256 of every pending blob (a file twice in one package is written once).
    names: HashSet<String>,
    syncer: Syncer,
}

impl NewBlobs {
    /// Like [`BlobStore::put_bytes`], but the file is only synced (on another thread) and
    /// kept in `tmp/` until [`Self::publish`].
    pub(crate) fn put_bytes(&mut self, bytes: &[u8]) -> Result<PutBlob, Error> {
        self.put_hashed(bytes, hex::encode(Sha256::digest(bytes)))
    }

    /// [`Self::put_bytes`] for bytes whose SHA-256 (lowercase hex) the caller computed.
    pub(crate) fn put_hashed(&mut self, bytes: &[u8], sha256: String) -> Result<PutBlob, Error> {
        let size = bytes.len() as u64;
        if self.names.contains(&sha256) || is_stored(&self.store.path_of(&sha256), size) {
            return Ok(PutBlob { sha256, size, created: false });
        }
        let (mut file, tmp) = self.store.temp_file()?;
        file.write_all(bytes).map_err(Error::io(&tmp.path))?;
        Ok(self.add(file, tmp, sha256, size))
    }

    /// A blob written piece by piece; [`BlobStream::finish_into`] adds it to this set.
    pub(crate) fn stream(&self) -> Result<BlobStream, Error> {
        self.store.stream()
    }

    pub(crate) fn root(&self) -> &Path {
        self.store.root()
    }

    fn add(&mut self, file: File, tmp: TempPath, sha256: String, size: u64) -> PutBlob {
        self.syncer.sync(file, tmp.path.clone());
        self.pending.push((tmp, self.store.path_of(&sha256)));
        self.names.insert(sha256.clone());
        PutBlob { sha256, size, created: true }
    }

    /// Waits until every file's data is on the disk, renames each to its blob name and syncs
    /// every folder that received one (once each). Afterwards the blobs are durable, and a
    /// row naming them may commit.
    pub(crate) fn publish(mut self) -> Result<(), Error> {
        self.syncer.finish()?;
        let mut folders: BTreeSet<PathBuf> = BTreeSet::new();
        let mut made_folder = false;
        for (tmp, target) in std::mem::take(&mut self.pending) {
            made_folder |= tmp.publish(&target)?;
            if let Some(folder) = target.parent() {
                folders.insert(folder.to_path_buf());
            }
        }
        if made_folder {
            sync_folder(&self.store.root)?;
        }
        // One after the other: on a journaling file system the first `fsync` commits every
        // rename of this import, and the others then find nothing left to write.
        for folder in &folders {
            sync_folder(folder)?;
        }
        Ok(())
    }
}

/// Syncs files on up to [`SYNC_THREADS`] threads, started as files come.
#[derive(Default)]
struct Syncer {
    queue: Option<std::sync::mpsc::SyncSender<ToSync>>,
    receiver: Option<SharedReceiver>,
    threads: Vec<std::thread::JoinHandle<()>>,
    /// The first failure, and whether to stop (set when dropped unfinished).
    state: Arc<SyncState>,
}

/// A written file, and its path for an error message.
type ToSync = (File, PathBuf);
/// The syncing threads take turns receiving.
type SharedReceiver = Arc<Mutex<std::sync::mpsc::Receiver<ToSync>>>;

#[derive(Default)]
struct SyncState {
    failed: Mutex<Option<Error>>,
    stop: AtomicBool,
}

/// Concurrent `fsync`s on one file system share journal commits (ext4 commits whatever
/// arrived while the previous commit ran); 8 is what the 2026-11-23 measurement used.
const SYNC_THREADS: usize = 8;
/// Files waiting for a syncing thread (each holds an open descriptor).
const SYNC_QUEUE: usize = 256;

impl Syncer {
    /// Hands a written file to the syncing threads (or syncs it here if none could start).
    fn sync(&mut self, file: File, path: PathBuf) {
        if self.queue.is_none() {
            let (queue, receiver) = std::sync::mpsc::sync_channel(SYNC_QUEUE);
            self.queue = Some(queue);
            self.receiver = Some(Arc::new(Mutex::new(receiver)));
        }
        if self.threads.len() < SYNC_THREADS
            && let Some(receiver) = self.receiver.clone()
        {
            let state = self.state.clone();
            let started = std::thread::Builder::new().name("lms-blob-sync".into()).spawn(move || sync_worker(&receiver, &state));
            if let Ok(thread) = started {
                self.threads.push(thread);
            }
        }
        match &self.queue {
            Some(queue) if !self.threads.is_empty() => {
                if let Err(std::sync::mpsc::SendError((file, path))) = queue.send((file, path)) {
                    sync_one(&self.state, file, path);
                }
            }
            _ => sync_one(&self.state, file, path),
        }
    }

    /// Waits for every file handed over; the first failure, if any.
    fn finish(&mut self) -> Result<(), Error> {
        self.queue = None;
        self.receiver = None;
        for thread in self.threads.drain(..) {
            if thread.join().is_err() {
                return Err(Error::Task("a blob syncing thread panicked".into()));
            }
        }
        match self.state.failed.lock() {
            Ok(mut failed) => failed.take().map_or(Ok(()), Err),
            Err(_) => Err(Error::Task("a blob syncing thread panicked".into())),
        }
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        // Unfinished: the files will be removed, syncing them is wasted.
        self.state.stop.store(true, Ordering::Relaxed);
        let _ = self.finish();
    }
}

fn sync_worker(receiver: &Mutex<std::sync::mpsc::Receiver<ToSync>>, state: &SyncState) {
    loop {
        let next = match receiver.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        let Ok((file, path)) = next else { return };
        sync_one(state, file, path);
    }
}

fn sync_one(state: &SyncState, file: File, path: PathBuf) {
    if state.stop.load(Ordering::Relaxed) {
        return;
    }
    if let Err(source) = file.sync_data()
        && let Ok(mut failed) = state.failed.lock()
    {
        failed.get_or_insert(Error::Io { path, source });
    }
}

/// Whether a blob is stored at `target` with the expected size (a file of another size
/// was damaged, and is replaced).
fn is_stored(target: &Path, size: u64) -> bool {
    std::fs::metadata(target).is_ok_and(|m| m.is_file() && m.len() == size)
}

/// Makes the names in a folder durable.
fn sync_folder(folder: &Path) -> Result<(), Error> {
    File::open(folder).and_then(|dir| dir.sync_all()).map_err(Error::io(folder))
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
    /// Renames the (synced) file to `target`, making the fan-out folder when the rename
    /// finds it missing (the store makes all of them when it is first opened). `true` when
    /// it made the folder: the blob folder then needs a sync too.
    fn publish(mut self, target: &Path) -> Result<bool, Error> {
        let mut made_folder = false;
        let result = match std::fs::rename(&self.path, target) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                made_folder = true;
                target.parent().map(std::fs::create_dir_all).transpose().and_then(|_| std::fs::rename(&self.path, target))
            }
            other => other,
        };
        result.map_err(|source| Error::Io { path: target.to_path_buf(), source })?;
        self.published = true;
        Ok(made_folder)
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
pub(crate) struct BlobStream {
    store: BlobStore,
    tmp: TempPath,
    writer: BufWriter<File>,
    hasher: Sha256,
    size: u64,
}

impl BlobStream {
    /// Closes the temporary file and stores it under its hash, durably (or drops it when
    /// that blob is already stored).
    pub(crate) fn finish(self) -> Result<PutBlob, Error> {
        let store = self.store.clone();
        let (file, tmp, sha256, size) = self.close()?;
        let target = store.path_of(&sha256);
        if is_stored(&target, size) {
            return Ok(PutBlob { sha256, size, created: false });
        }
        store.publish_one(file, tmp, &target)?;
        Ok(PutBlob { sha256, size, created: true })
    }

    /// Closes the temporary file and adds it to `new` (or drops it when that blob is
    /// already stored or already in `new`).
    pub(crate) fn finish_into(self, new: &mut NewBlobs) -> Result<PutBlob, Error> {
        let (file, tmp, sha256, size) = self.close()?;
        if new.names.contains(&sha256) || is_stored(&new.store.path_of(&sha256), size) {
            return Ok(PutBlob { sha256, size, created: false });
        }
        Ok(new.add(file, tmp, sha256, size))
    }

    fn close(self) -> Result<(File, TempPath, String, u64), Error> {
        let BlobStream { store: _, tmp, writer, hasher, size } = self;
        let file = writer.into_inner().map_err(|e| Error::Io { path: tmp.path.clone(), source: e.into_error() })?;
        Ok((file, tmp, hex::encode(hasher.finalize()), size))
    }
}

impl Write for BlobStream {
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
