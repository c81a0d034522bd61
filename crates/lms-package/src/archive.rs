//! Reading zip archives safely.
//!
//! [`SafeArchive::open`] checks every entry's *metadata* before a single byte is unpacked
//! and refuses the whole archive when any entry is hostile: a path that is absolute, names a
//! drive or climbs out with `..` (backslashes count as separators), a symbolic link, an
//! encrypted entry, an unsupported compression method, more entries than
//! [`ArchiveLimits::max_entries`], a declared total size over
//! [`ArchiveLimits::max_total_uncompressed`], or an entry whose declared compression ratio is
//! over [`ArchiveLimits::max_ratio`] (entries of at most [`RATIO_FLOOR_BYTES`] are exempt from
//! the ratio check: small files of repeated bytes legitimately compress very well and cannot
//! hurt). File names that are not UTF-8 are read as CP437, as the zip format says; zip64
//! archives are read like any other.
//!
//! Declared sizes can lie, so [`SafeArchive::read_entry`] counts the real bytes and stops
//! with [`Error::EntryLargerThanDeclared`] as soon as an entry unpacks to more than it
//! declared — which, because the declared sizes passed the checks, also bounds the total.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom, Write};

use zip::ZipArchive;

use crate::error::Error;

/// Entries whose declared uncompressed size is at most this many bytes (1 MiB) are not held
/// to [`ArchiveLimits::max_ratio`].
pub const RATIO_FLOOR_BYTES: u64 = 1024 * 1024;

/// Limits applied when opening an archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// Most entries (files and folders) an archive may hold. Default 10 000.
    pub max_entries: usize,
    /// Most bytes all entries may unpack to together. Default 2 GiB.
    pub max_total_uncompressed: u64,
    /// Highest uncompressed:compressed ratio of one entry. Default 100.
    pub max_ratio: u64,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        ArchiveLimits { max_entries: 10_000, max_total_uncompressed: 2 * 1024 * 1024 * 1024, max_ratio: 100 }
    }
}

/// One entry of a checked archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchiveEntry {
    /// Normalized path: `/`-separated, relative, no `.` or `..` parts, no trailing `/`.
    pub path: String,
    /// Declared uncompressed size in bytes (enforced by [`SafeArchive::read_entry`]).
    pub size: u64,
    pub compressed_size: u64,
    pub is_dir: bool,
}

/// A zip archive whose entries all passed the safety checks. See the [module docs](self).
pub struct SafeArchive<R> {
    zip: ZipArchive<R>,
    entries: Vec<ArchiveEntry>,
    by_path: HashMap<String, usize>,
    buffer: Vec<u8>,
}

impl<R> std::fmt::Debug for SafeArchive<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SafeArchive").field("entries", &self.entries.len()).finish()
    }
}

/// Normalizes a zip entry name, or says why it is unsafe. Returns the path and whether the
/// entry is a folder.
pub(crate) fn normalize_entry_path(raw: &str) -> Result<(String, bool), &'static str> {
    if raw.contains('\0') {
        return Err("has a NUL character in its name");
    }
    let unified = raw.replace('\\', "/");
    if unified.starts_with('/') {
        return Err("is an absolute path");
    }
    let is_dir = unified.ends_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for (i, part) in unified.split('/').enumerate() {
        if i == 0 {
            let bytes = part.as_bytes();
            if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
                return Err("names a drive (like `C:`)");
            }
        }
        match part {
            "" | "." => {}
            ".." => return Err("climbs out of the package with `..`"),
            _ => parts.push(part),
        }
    }
    Ok((parts.join("/"), is_dir))
}

/// The entry count the end-of-central-directory record declares (zip64 aware), or `None`
/// when it cannot be found (the zip reader then reports the archive as unreadable).
fn declared_entry_count<R: Read + Seek>(reader: &mut R) -> Option<u64> {
    let len = reader.seek(SeekFrom::End(0)).ok()?;
    let tail_len = len.min(22 + 65_535);
    reader.seek(SeekFrom::Start(len - tail_len)).ok()?;
    let mut tail = vec![0; tail_len as usize];
    reader.read_exact(&mut tail).ok()?;
    let eocd = (0..tail.len().checked_sub(21)?).rev().find(|&i| tail[i..].starts_with(b"PK\x05\x06"))?;
    let u16_at = |b: &[u8], i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
    let count = u64::from(u16_at(&tail, eocd + 10));
    if count != 0xFFFF {
        return Some(count);
    }
    // zip64: the locator sits just before the record and points at the zip64 record.
    let locator = eocd.checked_sub(20)?;
    if !tail[locator..].starts_with(b"PK\x06\x07") {
        return Some(count);
    }
    let offset = u64::from_le_bytes(tail[locator + 8..locator + 16].try_into().ok()?);
    reader.seek(SeekFrom::Start(offset)).ok()?;
    let mut record = [0u8; 56];
    reader.read_exact(&mut record).ok()?;
    if !record.starts_with(b"PK\x06\x06") {
        return None;
    }
    Some(u64::from_le_bytes(record[32..40].try_into().ok()?))
}

impl<R: Read + Seek> SafeArchive<R> {
    /// Reads the archive's central directory and checks every entry against `limits`.
    /// Nothing is unpacked. The central directory itself is bounded by the reader's length.
    pub fn open(mut reader: R, limits: &ArchiveLimits) -> Result<Self, Error> {
        // Refuse an oversized central directory before the zip reader allocates for it.
        if let Some(count) = declared_entry_count(&mut reader)
            && count > limits.max_entries as u64
        {
            return Err(Error::TooManyEntries { count: count.min(usize::MAX as u64) as usize, limit: limits.max_entries });
        }
        reader.seek(SeekFrom::Start(0)).map_err(|e| Error::io("reading the archive", e))?;
        let zip = ZipArchive::new(reader).map_err(|e| Error::NotAZip { reason: e.to_string() })?;
        if zip.len() > limits.max_entries {
            return Err(Error::TooManyEntries { count: zip.len(), limit: limits.max_entries });
        }
        let mut entries = Vec::with_capacity(zip.len());
        let mut by_path = HashMap::with_capacity(zip.len());
        let mut total: u64 = 0;
        for index in 0..zip.len() {
            let data = zip.by_index_data(index).map_err(|e| Error::NotAZip { reason: e.to_string() })?;
            let name = data.name().map_err(|e| Error::NotAZip { reason: e.to_string() })?.into_owned();
            let (path, is_dir_name) =
                normalize_entry_path(&name).map_err(|reason| Error::UnsafePath { entry: name.clone(), reason })?;
            if data.is_symlink() {
                return Err(Error::Symlink { entry: name });
            }
            if data.encrypted() {
                return Err(Error::Encrypted { entry: name });
            }
            let is_dir = is_dir_name || data.is_dir();
            if path.is_empty() && !is_dir {
                return Err(Error::UnsafePath { entry: name, reason: "has no file name" });
            }
            let size = data.size();
            let compressed_size = data.compressed_size();
            if !is_dir {
                let method = data.compression();
                if !matches!(method, zip::CompressionMethod::Stored | zip::CompressionMethod::Deflated) {
                    return Err(Error::UnsupportedCompression { entry: name, method: format!("{method:?}") });
                }
                if size > RATIO_FLOOR_BYTES && size > compressed_size.saturating_mul(limits.max_ratio) {
                    return Err(Error::CompressionRatio {
                        entry: name,
                        compressed: compressed_size,
                        uncompressed: size,
                        limit: limits.max_ratio,
                    });
                }
                total = total.saturating_add(size);
                if total > limits.max_total_uncompressed {
                    return Err(Error::TooLarge { total, limit: limits.max_total_uncompressed });
                }
            }
            if !path.is_empty() && by_path.insert(path.clone(), index).is_some() {
                return Err(Error::DuplicateEntry { entry: path });
            }
            entries.push(ArchiveEntry { path, size, compressed_size, is_dir });
        }
        if zip.has_duplicate_names() {
            return Err(Error::DuplicateEntry { entry: "(a name listed twice in the central directory)".into() });
        }
        Ok(SafeArchive { zip, entries, by_path, buffer: Vec::new() })
    }

    /// Every entry, in archive order; the position is the index for [`Self::read_entry`].
    pub fn entries(&self) -> &[ArchiveEntry] {
        &self.entries
    }

    /// The index of the file (not folder) entry at a normalized path.
    pub fn index_of(&self, path: &str) -> Option<usize> {
        self.by_path.get(path).copied().filter(|&i| !self.entries[i].is_dir)
    }

    /// Streams entry `index` into `out`, returning the number of bytes written. Fails with
    /// [`Error::EntryLargerThanDeclared`] as soon as the entry unpacks to more than its
    /// declared size (nothing beyond the declared size is written), and with
    /// [`Error::CorruptEntry`] on a checksum or decompression error.
    pub fn read_entry(&mut self, index: usize, out: &mut impl Write) -> Result<u64, Error> {
        let entry = self.entries.get(index).ok_or(Error::NoSuchEntry { index })?;
        let declared = entry.size;
        let name = entry.path.clone();
        if entry.is_dir {
            return Ok(0);
        }
        if self.buffer.is_empty() {
            self.buffer = vec![0; 64 * 1024];
        }
        let mut file = self.zip.by_index(index).map_err(|e| Error::CorruptEntry { entry: name.clone(), reason: e.to_string() })?;
        let mut written: u64 = 0;
        loop {
            let n = match file.read(&mut self.buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // An over-long entry can also surface as a decoder error once the
                    // declared size is reached; report what we know.
                    return Err(Error::CorruptEntry { entry: name, reason: e.to_string() });
                }
            };
            let remaining = declared - written;
            if n as u64 > remaining {
                let keep = remaining as usize;
                out.write_all(&self.buffer[..keep]).map_err(|e| Error::io(format!("writing `{name}`"), e))?;
                return Err(Error::EntryLargerThanDeclared { entry: name, declared });
            }
            out.write_all(&self.buffer[..n]).map_err(|e| Error::io(format!("writing `{name}`"), e))?;
            written += n as u64;
        }
        Ok(written)
    }

    /// Reads a whole file entry into memory, refusing entries larger than `max_len`.
    pub fn read_to_vec(&mut self, index: usize, max_len: u64) -> Result<Vec<u8>, Error> {
        let entry = self.entries.get(index).ok_or(Error::NoSuchEntry { index })?;
        if entry.size > max_len {
            return Err(Error::FileTooLarge { path: entry.path.clone(), limit: max_len });
        }
        let mut bytes = Vec::with_capacity(entry.size as usize);
        self.read_entry(index, &mut bytes)?;
        Ok(bytes)
    }

    /// Gives back the underlying reader.
    pub fn into_inner(self) -> R {
        self.zip.into_inner()
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_entry_path;

    #[test]
    fn entry_paths_are_normalized_or_refused() {
        let cases = [
            ("a/b.html", Ok(("a/b.html".to_string(), false))),
            ("a\\b.html", Ok(("a/b.html".to_string(), false))),
            ("./a//b/", Ok(("a/b".to_string(), true))),
            ("../x", Err("climbs out of the package with `..`")),
            ("..\\x", Err("climbs out of the package with `..`")),
            ("a/../../x", Err("climbs out of the package with `..`")),
            ("/etc/x", Err("is an absolute path")),
            ("\\x", Err("is an absolute path")),
            ("C:\\x", Err("names a drive (like `C:`)")),
            ("c:x", Err("names a drive (like `C:`)")),
        ];
        for (input, expected) in cases {
            assert_eq!(normalize_entry_path(input), expected, "{input}");
        }
    }
}
