//! Hostile and unusual zip archives, built here with the `zip` writer (and a few byte
//! patches for what the writer will not produce): each is refused with the right error
//! before anything is unpacked, or accepted when it is merely unusual.

use std::io::{Cursor, Write};

use lms_package::{parse_zip_bytes, ArchiveLimits, Error, ParseOptions, SafeArchive};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

const MANIFEST: &str = r#"<?xml version="1.0"?>
<manifest identifier="m" xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2" xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="o"><organization identifier="o"><title>T</title>
    <item identifier="i" identifierref="r"><title>I</title></item></organization></organizations>
  <resources><resource identifier="r" type="webcontent" adlcp:scormtype="sco" href="index.html"><file href="index.html"/></resource></resources>
</manifest>"#;

fn deflated() -> SimpleFileOptions {
    SimpleFileOptions::default().compression_method(CompressionMethod::Deflated)
}

/// A zip of `(name, bytes)` entries written with `options`.
fn zip_of(entries: &[(&str, &[u8])], options: SimpleFileOptions) -> Vec<u8> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in entries {
        writer.start_file(*name, options).unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn package_with(extra: &[(&str, &[u8])]) -> Vec<u8> {
    let mut entries: Vec<(&str, &[u8])> = vec![("imsmanifest.xml", MANIFEST.as_bytes()), ("index.html", b"<html></html>")];
    entries.extend_from_slice(extra);
    zip_of(&entries, deflated())
}

/// Offsets of every local (`PK\3\4`) and central (`PK\1\2`) header.
fn headers(bytes: &[u8]) -> (Vec<usize>, Vec<usize>) {
    let find = |sig: &[u8]| bytes.windows(4).enumerate().filter(|(_, w)| *w == sig).map(|(i, _)| i).collect();
    (find(b"PK\x03\x04"), find(b"PK\x01\x02"))
}

/// Sets the "encrypted" bit of every entry.
fn set_encrypted_flag(mut bytes: Vec<u8>) -> Vec<u8> {
    let (locals, centrals) = headers(&bytes);
    for l in locals {
        bytes[l + 6] |= 1;
    }
    for c in centrals {
        bytes[c + 8] |= 1;
    }
    bytes
}

/// Replaces every occurrence of `from` (same length as `to`) in the file names.
fn patch_name(mut bytes: Vec<u8>, from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let positions: Vec<usize> = bytes.windows(from.len()).enumerate().filter(|(_, w)| *w == from).map(|(i, _)| i).collect();
    assert!(!positions.is_empty());
    for p in positions {
        bytes[p..p + to.len()].copy_from_slice(to);
    }
    bytes
}

/// Makes every entry declare `size` uncompressed bytes (local and central headers).
fn declare_uncompressed_size(mut bytes: Vec<u8>, size: u32) -> Vec<u8> {
    let (locals, centrals) = headers(&bytes);
    for l in locals {
        bytes[l + 22..l + 26].copy_from_slice(&size.to_le_bytes());
    }
    for c in centrals {
        bytes[c + 24..c + 28].copy_from_slice(&size.to_le_bytes());
    }
    bytes
}

fn symlink_zip() -> Vec<u8> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    writer.start_file("imsmanifest.xml", deflated()).unwrap();
    writer.write_all(MANIFEST.as_bytes()).unwrap();
    writer.add_symlink("index.html", "/etc/passwd", deflated()).unwrap();
    writer.finish().unwrap().into_inner()
}

/// Which error each hostile archive must get (by variant name) under `limits`.
fn check_refused(name: &str, bytes: &[u8], limits: &ArchiveLimits, expected_variant: &str) {
    let error = match SafeArchive::open(Cursor::new(bytes), limits) {
        Ok(archive) => panic!("{name}: accepted, entries {:?}", archive.entries()),
        Err(error) => error,
    };
    let debug = format!("{error:?}");
    assert!(debug.starts_with(expected_variant), "{name}: expected {expected_variant}, got {debug}");
    let message = error.to_string();
    assert!(message.len() > 20, "{name}: message too thin: {message}");
    // The convenience entry point refuses the same way.
    assert!(parse_zip_bytes(bytes, limits, &ParseOptions::default()).is_err(), "{name}");
}

#[test]
fn hostile_archives_are_refused_before_unpacking() {
    let defaults = ArchiveLimits::default();
    let zeros = vec![0u8; 10 * 1024 * 1024];
    let small_limits = ArchiveLimits { max_entries: 3, max_total_uncompressed: 1_000, max_ratio: 100 };
    let cases: Vec<(&str, Vec<u8>, ArchiveLimits, &str)> = vec![
        ("traversal", package_with(&[("../x", b"x")]), defaults, "UnsafePath"),
        ("deep traversal", package_with(&[("a/../../x", b"x")]), defaults, "UnsafePath"),
        ("backslash traversal", package_with(&[("..\\x", b"x")]), defaults, "UnsafePath"),
        ("absolute", package_with(&[("/etc/x", b"x")]), defaults, "UnsafePath"),
        ("absolute backslash", package_with(&[("\\etc\\x", b"x")]), defaults, "UnsafePath"),
        ("drive letter", package_with(&[("C:\\x", b"x")]), defaults, "UnsafePath"),
        ("file without a name", package_with(&[(".", b"x")]), defaults, "UnsafePath"),
        ("symlink", symlink_zip(), defaults, "Symlink"),
        ("bomb", package_with(&[("zeros.bin", &zeros)]), defaults, "CompressionRatio"),
        ("too many entries", package_with(&[("a", b"a"), ("b", b"b")]), small_limits, "TooManyEntries"),
        (
            "too large in total",
            zip_of(&[("a", &[1u8; 600]), ("b", &[2u8; 600])], deflated()),
            small_limits,
            "TooLarge",
        ),
        ("encrypted", set_encrypted_flag(package_with(&[])), defaults, "Encrypted"),
        ("duplicate path", package_with(&[("a/b.txt", b"1"), ("a\\b.txt", b"2")]), defaults, "DuplicateEntry"),
        (
            "unsupported compression",
            zip_of(&[("a", b"aaaa")], SimpleFileOptions::default().compression_method(CompressionMethod::Stored))
                .into_iter()
                .collect::<Vec<u8>>()
                .pipe(|b| patch_method(b, 12)),
            defaults,
            "UnsupportedCompression",
        ),
        ("not a zip", b"PK but not really a zip".to_vec(), defaults, "NotAZip"),
    ];
    for (name, bytes, limits, expected) in &cases {
        check_refused(name, bytes, limits, expected);
    }
}

trait Pipe: Sized {
    fn pipe<T>(self, f: impl FnOnce(Self) -> T) -> T {
        f(self)
    }
}
impl<T> Pipe for T {}

/// Sets the compression method of every entry (12 = bzip2, not supported here).
fn patch_method(mut bytes: Vec<u8>, method: u16) -> Vec<u8> {
    let (locals, centrals) = headers(&bytes);
    for l in locals {
        bytes[l + 8..l + 10].copy_from_slice(&method.to_le_bytes());
    }
    for c in centrals {
        bytes[c + 10..c + 12].copy_from_slice(&method.to_le_bytes());
    }
    bytes
}

#[test]
fn cp437_names_zip64_and_backslash_folders_are_accepted() {
    // A CP437 name: 0x81 is `ü`; the UTF-8 flag is not set for an ASCII name, so after the
    // patch the name is not UTF-8 and must be read as CP437.
    let bytes = patch_name(package_with(&[("Xber.txt", b"hello")]), b"Xber.txt", b"\x81ber.txt");
    let mut archive = SafeArchive::open(Cursor::new(&bytes), &ArchiveLimits::default()).unwrap();
    let index = archive.index_of("über.txt").expect("CP437 name decoded");
    let mut out = Vec::new();
    assert_eq!(archive.read_entry(index, &mut out).unwrap(), 5);
    assert_eq!(out, b"hello");

    // zip64 entries.
    let zip64 = zip_of(
        &[("imsmanifest.xml", MANIFEST.as_bytes()), ("index.html", b"<html></html>")],
        deflated().large_file(true),
    );
    let parsed = parse_zip_bytes(&zip64, &ArchiveLimits::default(), &ParseOptions::default()).unwrap();
    assert!(parsed.is_importable(), "{}", parsed.render());

    // Windows-made archives with backslash separators unpack into folders.
    let windows = package_with(&[("media\\clip.txt", b"clip")]);
    let archive = SafeArchive::open(Cursor::new(&windows), &ArchiveLimits::default()).unwrap();
    assert!(archive.index_of("media/clip.txt").is_some(), "{:?}", archive.entries());
}

#[test]
fn entries_that_lie_about_their_size_are_stopped() {
    let content = vec![7u8; 5000];
    let bytes = declare_uncompressed_size(
        zip_of(&[("a.bin", &content)], SimpleFileOptions::default().compression_method(CompressionMethod::Stored)),
        10,
    );
    // The declared size passes every check…
    let mut archive = SafeArchive::open(Cursor::new(&bytes), &ArchiveLimits::default()).unwrap();
    assert_eq!(archive.entries()[0].size, 10);
    // …but reading stops at the declared size.
    let mut out = Vec::new();
    let error = archive.read_entry(0, &mut out).unwrap_err();
    assert!(
        matches!(error, Error::EntryLargerThanDeclared { declared: 10, .. } | Error::CorruptEntry { .. }),
        "{error:?}"
    );
    assert!(out.len() <= 10, "wrote {} bytes", out.len());
}

#[test]
fn a_small_file_of_zeros_is_not_a_bomb() {
    // Below RATIO_FLOOR_BYTES the ratio is not checked.
    let zeros = vec![0u8; 512 * 1024];
    let bytes = package_with(&[("blank.bin", &zeros)]);
    let mut archive = SafeArchive::open(Cursor::new(&bytes), &ArchiveLimits::default()).unwrap();
    let index = archive.index_of("blank.bin").unwrap();
    assert_eq!(archive.read_entry(index, &mut std::io::sink()).unwrap(), zeros.len() as u64);
}

#[test]
fn damaged_archives_never_panic() {
    let original = package_with(&[("media/a.txt", b"some text to compress, some text to compress")]);
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut opened = 0;
    for round in 0..400 {
        let mut bytes = original.clone();
        if round % 4 == 0 {
            bytes.truncate((next() as usize) % bytes.len());
        } else {
            for _ in 0..1 + next() % 4 {
                let at = (next() as usize) % bytes.len();
                bytes[at] = next() as u8;
            }
        }
        if let Ok(mut archive) = SafeArchive::open(Cursor::new(&bytes), &ArchiveLimits::default()) {
            opened += 1;
            for index in 0..archive.entries().len() {
                let mut out = Vec::new();
                let result = archive.read_entry(index, &mut out);
                // Whatever happens, no entry yields more than it declared.
                assert!(out.len() as u64 <= archive.entries()[index].size);
                let _ = result;
            }
        }
        let _ = parse_zip_bytes(&bytes, &ArchiveLimits::default(), &ParseOptions::default());
    }
    assert!(opened > 0, "no mutation left a readable archive; the test exercises nothing");
}

#[test]
fn the_declared_entry_count_is_checked_before_the_directory_is_read() {
    // Patch the end-of-central-directory record to declare 60 000 entries: refused from the
    // record alone, before the zip reader builds its table.
    let mut bytes = package_with(&[]);
    let eocd = bytes.windows(4).rposition(|w| w == b"PK\x05\x06").unwrap();
    bytes[eocd + 8..eocd + 10].copy_from_slice(&60_000u16.to_le_bytes());
    bytes[eocd + 10..eocd + 12].copy_from_slice(&60_000u16.to_le_bytes());
    match SafeArchive::open(Cursor::new(&bytes), &ArchiveLimits::default()) {
        Err(Error::TooManyEntries { count: 60_000, limit: 10_000 }) => {}
        other => panic!("{other:?}"),
    }
}
