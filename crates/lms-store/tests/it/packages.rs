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
