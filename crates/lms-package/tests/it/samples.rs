//! `content-samples/`: the team's own small packages, each compared with the dump stored
//! beside it (`expected.txt`). Run with `UPDATE_EXPECT=1` to rewrite the dumps.
//!
//! A sample is a folder holding either `package/` (the unpacked package) or `package.xml`
//! (a bare structure file), plus `expected.txt`.

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use lms_package::{parse_dir, parse_zip_bytes, ArchiveLimits, ParseOptions, Parsed};

fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content-samples")
}

fn dump(parsed: &Parsed) -> String {
    let verdict = if parsed.is_importable() { "importable" } else { "NOT importable" };
    format!("{verdict}\n{}", parsed.render())
}

/// Compares `actual` with the file at `expected_path`, or rewrites it with `UPDATE_EXPECT=1`.
fn check(expected_path: &Path, actual: &str) -> Result<(), String> {
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(expected_path, actual).map_err(|e| e.to_string())?;
        return Ok(());
    }
    let expected = std::fs::read_to_string(expected_path)
        .map_err(|e| format!("{}: {e} (run with UPDATE_EXPECT=1 to create it)", expected_path.display()))?;
    if expected == actual {
        return Ok(());
    }
    let first_difference = expected
        .lines()
        .zip(actual.lines())
        .position(|(e, a)| e != a)
        .unwrap_or(expected.lines().count().min(actual.lines().count()));
    Err(format!(
        "{} differs from the parse (first at line {}; rerun with UPDATE_EXPECT=1 if the change is intended)\n--- actual ---\n{actual}",
        expected_path.display(),
        first_difference + 1
    ))
}

/// Zips a folder (in memory) so the same package can be parsed through `ZipSource`.
fn zip_folder(root: &Path) -> Vec<u8> {
    fn add(writer: &mut zip::ZipWriter<Cursor<Vec<u8>>>, root: &Path, dir: &Path) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                add(writer, root, &path);
            } else {
                let name = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
                writer.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
                writer.write_all(&std::fs::read(&path).unwrap()).unwrap();
            }
        }
    }
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    add(&mut writer, root, root);
    writer.finish().unwrap().into_inner()
}

#[test]
fn content_samples_match_their_expected_dumps() {
    let mut samples: Vec<PathBuf> =
        std::fs::read_dir(samples_dir()).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    samples.sort();
    let mut failures = Vec::new();
    for sample in &samples {
        let folder = sample.join("package");
        let input = if folder.is_dir() { folder.clone() } else { sample.join("package.xml") };
        let parsed = parse_dir(&input, &ParseOptions::default()).unwrap();
        if let Err(e) = check(&sample.join("expected.txt"), &dump(&parsed)) {
            failures.push(e);
        }
        // The same package zipped gives the same result.
        if folder.is_dir() {
            let zipped = parse_zip_bytes(&zip_folder(&folder), &ArchiveLimits::default(), &ParseOptions::default()).unwrap();
            if zipped != parsed {
                failures.push(format!("{}: parsing the zipped package differs from the folder", sample.display()));
            }
        }
    }
    assert!(samples.len() >= 15, "only {} samples", samples.len());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_sample_is_described_in_the_readme() {
    let readme = std::fs::read_to_string(samples_dir().join("README.md")).unwrap();
    for entry in std::fs::read_dir(samples_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            assert!(readme.contains(&format!("`{name}`")), "README.md does not describe `{name}`");
        }
    }
}
