use std::io::Write;
use std::path::{Path, PathBuf};

use lms_store::{Error, ImportOptions, Store};

use crate::harness::{corpus, on_both};

const MANIFEST_12: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="com.example.fire-safety" version="1"
  xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="org">
    <organization identifier="org">
      <title>Brandschutzunterweisung</title>
      <item identifier="i1" identifierref="r1"><title>Einführung</title></item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="r1" type="webcontent" adlcp:scormtype="sco" href="index.html">
      <file href="index.html"/>
    </resource>
  </resources>
</manifest>"#;

fn zip_file(dir: &Path, name: &str, entries: &[(&str, &[u8])]) -> PathBuf {
    let path = dir.join(name);
    let mut writer = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (entry, bytes) in entries {
        writer.start_file(*entry, options).unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap();
    path
}

/// Every blob file under `blobs/` (except the temporary folder).
fn blob_files(dir: &Path) -> usize {
    fn walk(path: &Path, n: &mut usize) {
        for entry in std::fs::read_dir(path).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                if entry.file_name() != "tmp" {
                    walk(&entry.path(), n);
                }
            } else {
                *n += 1;
            }
        }
    }
    let mut n = 0;
    walk(&dir.join("blobs"), &mut n);
    n
}

fn tmp_is_empty(dir: &Path) -> bool {
    std::fs::read_dir(dir.join("blobs/tmp")).unwrap().next().is_none()
}

on_both!(import_dedup_and_versions, |store: Store, dir: PathBuf| async move {
    let work = tempfile::tempdir().unwrap();
    let v1 = zip_file(work.path(), "v1.zip", &[("imsmanifest.xml", MANIFEST_12.as_bytes()), ("index.html", b"<h1>v1</h1>")]);
    let first = store.import_package_zip(&v1, &ImportOptions::default(), None).await.unwrap();
    assert!(!first.duplicate);
    assert_eq!(first.record.version, 1);
    assert_eq!(first.record.standard, "scorm12");
    assert_eq!(first.record.title, "Brandschutzunterweisung");
    assert_eq!(first.record.launch_path.as_deref(), Some("index.html"));
    assert_eq!(first.record.n_files, 2);
    assert_eq!(blob_files(&dir), 2);

    // The identical upload (even re-zipped under another name) stores nothing new.
    let again = zip_file(work.path(), "again.zip", &[("index.html", b"<h1>v1</h1>"), ("imsmanifest.xml", MANIFEST_12.as_bytes())]);
    let second = store.import_package_zip(&again, &ImportOptions::default(), None).await.unwrap();
    assert!(second.duplicate);
    assert_eq!(second.record.id, first.record.id);
    assert_eq!(blob_files(&dir), 2);
    assert_eq!(store.count_blobs().await.unwrap(), 2);

    // A changed file makes version 2; version 1 keeps its own files.
    let v2 = zip_file(work.path(), "v2.zip", &[("imsmanifest.xml", MANIFEST_12.as_bytes()), ("index.html", b"<h1>v2</h1>")]);
    let third = store.import_package_zip(&v2, &ImportOptions::default(), None).await.unwrap();
    assert!(!third.duplicate);
    assert_eq!(third.record.version, 2);
    assert_eq!(third.record.course_key, first.record.course_key);
    assert_ne!(third.record.id, first.record.id);
    assert_eq!(blob_files(&dir), 3, "only the changed file is new");
    let (old_file, old_path) = store.package_file(&first.record.id, "index.html").await.unwrap().unwrap();
    assert_eq!(std::fs::read(old_path).unwrap(), b"<h1>v1</h1>");
    let (new_file, _) = store.package_file(&third.record.id, "index.html").await.unwrap().unwrap();
    assert_ne!(old_file.sha256, new_file.sha256);
    assert_eq!(store.list_packages(10, 0).await.unwrap().len(), 2);
    assert!(store.package("no-such-id").await.unwrap().is_none());
    assert!(tmp_is_empty(&dir));
});

on_both!(refused_uploads_store_nothing, |store: Store, dir: PathBuf| async move {
    let work = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, Vec<(&str, &[u8])>)> = vec![
        ("traversal", vec![("imsmanifest.xml", MANIFEST_12.as_bytes()), ("index.html", b"x"), ("../evil.html", b"x")]),
        ("absolute", vec![("imsmanifest.xml", MANIFEST_12.as_bytes()), ("index.html", b"x"), ("/etc/evil", b"x")]),
        ("backslash", vec![("imsmanifest.xml", MANIFEST_12.as_bytes()), ("index.html", b"x"), ("..\\evil", b"x")]),
        ("drive", vec![("imsmanifest.xml", MANIFEST_12.as_bytes()), ("index.html", b"x"), ("C:\\evil", b"x")]),
    ];
    for (name, entries) in cases {
        let path = zip_file(work.path(), &format!("{name}.zip"), &entries);
        let result = store.import_package_zip(&path, &ImportOptions::default(), None).await;
        assert!(matches!(result, Err(Error::Archive(_))), "{name}: {result:?}");
    }
    // A bomb: one entry compressing far beyond 100:1.
    let zeros = vec![0u8; 8 * 1024 * 1024];
    let bomb = zip_file(work.path(), "bomb.zip", &[("imsmanifest.xml", MANIFEST_12.as_bytes()), ("index.html", &zeros)]);
    let result = store.import_package_zip(&bomb, &ImportOptions::default(), None).await;
    assert!(matches!(result, Err(Error::Archive(_))), "bomb: {result:?}");
    // A symbolic link entry.
    let link = work.path().join("symlink.zip");
    {
        let mut writer = zip::ZipWriter::new(std::fs::File::create(&link).unwrap());
        let options = zip::write::SimpleFileOptions::default();
        writer.start_file("imsmanifest.xml", options).unwrap();
        writer.write_all(MANIFEST_12.as_bytes()).unwrap();
        writer.start_file("index.html", options).unwrap();
        writer.write_all(b"x").unwrap();
        writer.add_symlink("passwd", "/etc/passwd", options).unwrap();
        writer.finish().unwrap();
    }
    let result = store.import_package_zip(&link, &ImportOptions::default(), None).await;
    assert!(matches!(result, Err(Error::Archive(_))), "symlink: {result:?}");
    // Not a zip at all.
    let junk = work.path().join("junk.zip");
    std::fs::write(&junk, b"this is not a zip file").unwrap();
    assert!(matches!(store.import_package_zip(&junk, &ImportOptions::default(), None).await, Err(Error::Archive(_))));
    // Parses, but points at a file that is not there: not importable.
    let missing = zip_file(work.path(), "missing.zip", &[("imsmanifest.xml", MANIFEST_12.as_bytes())]);
    let result = store.import_package_zip(&missing, &ImportOptions::default(), None).await;
    match result {
        Err(Error::NotImportable { diagnostics, .. }) => assert!(!diagnostics.is_empty()),
        other => panic!("expected NotImportable, got {other:?}"),
    }
    assert_eq!(blob_files(&dir), 0, "nothing may be written for refused uploads");
    assert!(tmp_is_empty(&dir));
    assert_eq!(store.count_blobs().await.unwrap(), 0);
    assert!(store.list_packages(10, 0).await.unwrap().is_empty());
});

on_both!(concurrent_identical_uploads_store_one_version, |store: Store, _dir: PathBuf| async move {
    let work = tempfile::tempdir().unwrap();
    let path = zip_file(work.path(), "p.zip", &[("imsmanifest.xml", MANIFEST_12.as_bytes()), ("index.html", b"same")]);
    let mut handles = Vec::new();
    for _ in 0..4 {
        let store = store.clone();
        let path = path.clone();
        handles.push(tokio::spawn(async move { store.import_package_zip(&path, &ImportOptions::default(), None).await }));
    }
    let mut ids = std::collections::BTreeSet::new();
    let mut created = 0;
    for h in handles {
        let outcome = h.await.unwrap().unwrap();
        ids.insert(outcome.record.id.clone());
        if !outcome.duplicate {
            created += 1;
        }
    }
    assert_eq!(ids.len(), 1, "every upload must answer with the same version");
    assert_eq!(created, 1);
    assert_eq!(store.list_packages(10, 0).await.unwrap().len(), 1);
});

on_both!(corpus_zips_import, |store: Store, _dir: PathBuf| async move {
    let Some(corpus) = corpus() else { return };
    for name in ["scorm12.zip", "scorm2004.zip", "cmi5.zip", "aicc.zip"] {
        let path = corpus.join("packages/zips").join(name);
        let outcome = store
            .import_package_zip(&path, &ImportOptions::default(), None)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(outcome.record.n_files > 0, "{name}");
    }
});

/// Bytes that do not compress (so a zip of them is as large as they are).
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// Makes the entry `name` declare `size` uncompressed bytes (local and central header).
fn declare_size(mut bytes: Vec<u8>, name: &str, size: u32) -> Vec<u8> {
    let mut patched = 0;
    for i in 0..bytes.len().saturating_sub(4) {
        let (size_at, name_len_at, name_at) = match &bytes[i..i + 4] {
            b"PK\x03\x04" => (i + 22, i + 26, i + 30),
            b"PK\x01\x02" => (i + 24, i + 28, i + 46),
            _ => continue,
        };
        let Some(len) = bytes.get(name_len_at..name_len_at + 2) else { continue };
        let name_len = usize::from(u16::from_le_bytes([len[0], len[1]]));
        if bytes.get(name_at..name_at + name_len) == Some(name.as_bytes()) {
            bytes[size_at..size_at + 4].copy_from_slice(&size.to_le_bytes());
            patched += 1;
        }
    }
    assert_eq!(patched, 2, "local and central header of {name}");
    bytes
}

on_both!(large_packages_stream_through_the_second_thread, |store: Store, dir: PathBuf| async move {
    let work = tempfile::tempdir().unwrap();
    // Over the one-thread limit, with an entry larger than one part (1 MiB), one that is
    // exactly one part, and a file stored twice under two names.
    let big = noise(3 * 1024 * 1024 + 12_345, 7);
    let exact = noise(1024 * 1024, 8);
    let page = noise(40_000, 9);
    let path = zip_file(
        work.path(),
        "large.zip",
        &[("imsmanifest.xml", MANIFEST_12.as_bytes()), ("index.html", &page), ("media/big.bin", &big), ("media/exact.bin", &exact), ("copy.html", &page)],
    );
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let progress = {
        let seen = seen.clone();
        Box::new(move |done: u64, total: u64| seen.lock().unwrap().push((done, total)))
    };
    let outcome = store.import_package_zip(&path, &ImportOptions::default(), Some(progress)).await.unwrap();
    assert_eq!(outcome.record.n_files, 5);
    let total = (MANIFEST_12.len() + page.len() * 2 + big.len() + exact.len()) as u64;
    assert_eq!(outcome.record.total_size as u64, total);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 5);
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "{seen:?}");
    assert_eq!(seen.last(), Some(&(total, total)));
    for (name, bytes) in [("media/big.bin", &big), ("media/exact.bin", &exact), ("index.html", &page), ("copy.html", &page)] {
        let (file, disk) = store.package_file(&outcome.record.id, name).await.unwrap().unwrap();
        assert_eq!(file.size as usize, bytes.len(), "{name}");
        assert!(std::fs::read(disk).unwrap() == *bytes, "{name}: stored bytes differ");
    }
    assert_eq!(blob_files(&dir), 4, "the copy shares its blob");
    assert_eq!(store.count_blobs().await.unwrap(), 4);
    assert!(tmp_is_empty(&dir));
});

on_both!(an_entry_that_lies_mid_import_leaves_nothing_new, |store: Store, dir: PathBuf| async move {
    let work = tempfile::tempdir().unwrap();
    let shared = b"<h1>shared page</h1>".to_vec();
    let first = zip_file(work.path(), "first.zip", &[("imsmanifest.xml", MANIFEST_12.as_bytes()), ("index.html", &shared)]);
    let kept = store.import_package_zip(&first, &ImportOptions::default(), None).await.unwrap();
    assert_eq!(blob_files(&dir), 2);

    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    // Small (one thread, whole entries) and large (second thread, the lie found in the
    // middle of a file passed on in parts).
    for (name, clip, len, declared) in [("small", 1_000, 5_000usize, 10u32), ("large", 300_000, 2 * 1024 * 1024 + 5, 1024 * 1024 + 300_000)] {
        let path = work.path().join(format!("{name}-liar.zip"));
        {
            let mut writer = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
            for (entry, bytes) in [
                ("imsmanifest.xml", MANIFEST_12.as_bytes().to_vec()),
                ("index.html", shared.clone()),
                ("other.html", noise(30_000, 3)),
                ("media/clip.bin", noise(clip, 4)),
                ("z-liar.bin", noise(len, 5)),
            ] {
                writer.start_file(entry, stored).unwrap();
                writer.write_all(&bytes).unwrap();
            }
            writer.finish().unwrap();
        }
        std::fs::write(&path, declare_size(std::fs::read(&path).unwrap(), "z-liar.bin", declared)).unwrap();
        let result = store.import_package_zip(&path, &ImportOptions::default(), None).await;
        assert!(
            matches!(result, Err(Error::Archive(lms_package::Error::EntryLargerThanDeclared { .. } | lms_package::Error::CorruptEntry { .. }))),
            "{name}: {result:?}"
        );
        assert_eq!(blob_files(&dir), 2, "{name}: the blobs it wrote are removed, the shared ones kept");
        assert!(tmp_is_empty(&dir), "{name}");
        assert_eq!(store.count_blobs().await.unwrap(), 2, "{name}");
        assert_eq!(store.list_packages(10, 0).await.unwrap().len(), 1, "{name}");
    }
    let (_, disk) = store.package_file(&kept.record.id, "index.html").await.unwrap().unwrap();
    assert_eq!(std::fs::read(disk).unwrap(), shared);
});

on_both!(a_damaged_blob_is_not_trusted_as_stored, |store: Store, dir: PathBuf| async move {
    // A blob file cut short (as a power loss could leave one written before blobs were
    // synced) must not count as a stored copy: the next upload of those bytes repairs it.
    let work = tempfile::tempdir().unwrap();
    let page = noise(20_000, 11);
    let first = zip_file(work.path(), "first.zip", &[("imsmanifest.xml", MANIFEST_12.as_bytes()), ("index.html", &page)]);
    let kept = store.import_package_zip(&first, &ImportOptions::default(), None).await.unwrap();
    let (_, disk) = store.package_file(&kept.record.id, "index.html").await.unwrap().unwrap();
    std::fs::write(&disk, &page[..100]).unwrap();
    // A leftover temporary file with the same bytes is no stored copy either.
    std::fs::write(dir.join("blobs/tmp/upload-leftover"), &page).unwrap();

    let second =
        zip_file(work.path(), "second.zip", &[("imsmanifest.xml", MANIFEST_12.as_bytes()), ("index.html", &page), ("more.html", b"more")]);
    let outcome = store.import_package_zip(&second, &ImportOptions::default(), None).await.unwrap();
    assert!(!outcome.duplicate);
    assert!(std::fs::read(&disk).unwrap() == page, "the damaged blob is written again");
    assert_eq!(blob_files(&dir), 3);
    assert_eq!(store.count_blobs().await.unwrap(), 3);
});
