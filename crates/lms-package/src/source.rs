//! Where a package's files come from: a folder, a checked zip archive, or memory.
//!
//! Parsing only ever asks a [`PackageSource`] for the list of paths and for the bytes of the
//! few structure files (the manifest); content files are never read.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

use crate::archive::SafeArchive;
use crate::error::Error;

/// A package's files.
pub trait PackageSource {
    /// Every file (not folder) of the package: `/`-separated paths relative to its root.
    fn files(&self) -> &[String];
    /// The bytes of one file, refusing files larger than `max_len` bytes.
    fn read(&self, path: &str, max_len: u64) -> Result<Vec<u8>, Error>;
}

/// A package unpacked in a folder, or a single structure file (such as a bare `cmi5.xml`),
/// which then is a package of one file. Symbolic links are not followed.
#[derive(Debug)]
pub struct DirSource {
    root: PathBuf,
    files: Vec<String>,
    /// Set when the source is a single file.
    single_file: Option<PathBuf>,
}

impl DirSource {
    /// Lists the folder (recursively, sorted) or the single file at `path`.
    pub fn new(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let metadata =
            std::fs::metadata(path).map_err(|e| Error::io(format!("reading `{}`", path.display()), e))?;
        if metadata.is_file() {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            return Ok(DirSource { root: path.to_path_buf(), files: vec![name], single_file: Some(path.to_path_buf()) });
        }
        let mut files = Vec::new();
        walk(path, "", &mut files)?;
        files.sort();
        Ok(DirSource { root: path.to_path_buf(), files, single_file: None })
    }
}

fn walk(dir: &Path, prefix: &str, files: &mut Vec<String>) -> Result<(), Error> {
    let read_dir = std::fs::read_dir(dir).map_err(|e| Error::io(format!("listing `{}`", dir.display()), e))?;
    for entry in read_dir {
        let entry = entry.map_err(|e| Error::io(format!("listing `{}`", dir.display()), e))?;
        let file_type = entry.file_type().map_err(|e| Error::io(format!("reading `{}`", entry.path().display()), e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let relative = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
        if file_type.is_dir() {
            walk(&entry.path(), &relative, files)?;
        } else if file_type.is_file() {
            files.push(relative);
        }
    }
    Ok(())
}

impl PackageSource for DirSource {
    fn files(&self) -> &[String] {
        &self.files
    }

    fn read(&self, path: &str, max_len: u64) -> Result<Vec<u8>, Error> {
        if !self.files.iter().any(|f| f == path) {
            return Err(Error::FileNotFound { path: path.to_string() });
        }
        let full = match &self.single_file {
            Some(file) => file.clone(),
            None => path.split('/').fold(self.root.clone(), |acc, part| acc.join(part)),
        };
        let file = std::fs::File::open(&full).map_err(|e| Error::io(format!("opening `{path}`"), e))?;
        let mut bytes = Vec::new();
        file.take(max_len + 1).read_to_end(&mut bytes).map_err(|e| Error::io(format!("reading `{path}`"), e))?;
        if bytes.len() as u64 > max_len {
            return Err(Error::FileTooLarge { path: path.to_string(), limit: max_len });
        }
        Ok(bytes)
    }
}

/// A package in a [`SafeArchive`]. The archive sits in a `RefCell` so that parsing (which
/// takes `&self`) can read the manifest; afterwards [`ZipSource::into_archive`] gives the
/// archive back to stream every entry (for hashing or storing) without reopening the file,
/// and [`ZipSource::into_parts`] also gives the files parsing read, so that they need not be
/// unpacked a second time.
pub struct ZipSource<R> {
    archive: RefCell<SafeArchive<R>>,
    files: Vec<String>,
    /// Every whole file read so far, by entry index (only structure files: parsing reads
    /// nothing else).
    read: RefCell<HashMap<usize, Vec<u8>>>,
}

impl<R> std::fmt::Debug for ZipSource<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZipSource").field("files", &self.files.len()).finish()
    }
}

impl<R: Read + Seek> ZipSource<R> {
    pub fn new(archive: SafeArchive<R>) -> Self {
        let files = archive.entries().iter().filter(|e| !e.is_dir).map(|e| e.path.clone()).collect();
        ZipSource { archive: RefCell::new(archive), files, read: RefCell::new(HashMap::new()) }
    }

    pub fn into_archive(self) -> SafeArchive<R> {
        self.archive.into_inner()
    }

    /// The archive, and the files read through [`PackageSource::read`] so far by entry index
    /// (whole, and checked like [`SafeArchive::read_entry`] checks them).
    pub fn into_parts(self) -> (SafeArchive<R>, HashMap<usize, Vec<u8>>) {
        (self.archive.into_inner(), self.read.into_inner())
    }

    /// Mutable access to the archive while keeping the source.
    pub fn archive_mut(&mut self) -> &mut SafeArchive<R> {
        self.archive.get_mut()
    }
}

impl<R: Read + Seek> PackageSource for ZipSource<R> {
    fn files(&self) -> &[String] {
        &self.files
    }

    fn read(&self, path: &str, max_len: u64) -> Result<Vec<u8>, Error> {
        let mut archive = self.archive.borrow_mut();
        let index = archive.index_of(path).ok_or_else(|| Error::FileNotFound { path: path.to_string() })?;
        if let Some(bytes) = self.read.borrow().get(&index) {
            if bytes.len() as u64 > max_len {
                return Err(Error::FileTooLarge { path: path.to_string(), limit: max_len });
            }
            return Ok(bytes.clone());
        }
        let bytes = archive.read_to_vec(index, max_len)?;
        self.read.borrow_mut().insert(index, bytes.clone());
        Ok(bytes)
    }
}

/// A package held in memory (tests, or content generated on the fly).
#[derive(Clone, Debug, Default)]
pub struct MemorySource {
    contents: BTreeMap<String, Vec<u8>>,
    files: Vec<String>,
}

impl MemorySource {
    pub fn new<P: Into<String>, B: Into<Vec<u8>>>(files: impl IntoIterator<Item = (P, B)>) -> Self {
        let contents: BTreeMap<String, Vec<u8>> = files.into_iter().map(|(p, b)| (p.into(), b.into())).collect();
        let files = contents.keys().cloned().collect();
        MemorySource { contents, files }
    }
}

impl PackageSource for MemorySource {
    fn files(&self) -> &[String] {
        &self.files
    }

    fn read(&self, path: &str, max_len: u64) -> Result<Vec<u8>, Error> {
        let bytes = self.contents.get(path).ok_or_else(|| Error::FileNotFound { path: path.to_string() })?;
        if bytes.len() as u64 > max_len {
            return Err(Error::FileTooLarge { path: path.to_string(), limit: max_len });
        }
        Ok(bytes.clone())
    }
}
