//! Every package of the shared corpus: valid ones parse without errors, broken ones are
//! reported with file and line, and the fatal ones are not importable.

use std::path::{Path, PathBuf};

use lms_package::{parse, parse_dir, ArchiveLimits, Parsed, ParseOptions, SafeArchive, Severity, ZipSource};

use crate::corpus_dir;

/// Structure files; a folder holding nothing else is parsed with `manifest_only`.
fn is_structure_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ["imsmanifest.xml", "cmi5.xml", "tincan.xml"].contains(&lower.as_str())
        || [".crs", ".au", ".des", ".cst", ".ort", ".pre"].iter().any(|ext| lower.ends_with(ext))
}

fn holds_only_structure_files(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .unwrap()
        .all(|e| e.as_ref().is_ok_and(|e| e.path().is_file() && is_structure_file(&e.file_name().to_string_lossy())))
}

fn is_broken(dir: &Path) -> bool {
    let name = dir.file_name().unwrap().to_string_lossy();
    ["Malformed", "Missing", "Invalid", "ItemWithNonExistent"].iter().any(|p| name.starts_with(p))
        || dir.parent().is_some_and(|p| p.ends_with("adl-cts-invalid"))
}

fn package_dirs(corpus: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for family in ["scorm12", "scorm2004", "cmi5", "xapi", "aicc", "conformance/scorm2004/adl-cts", "conformance/scorm2004/adl-cts-invalid"] {
        let folder = corpus.join("packages").join(family);
        for entry in std::fs::read_dir(&folder).unwrap_or_else(|e| panic!("{}: {e}", folder.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            }
        }
    }
    dirs.sort();
    dirs
}

fn errors(parsed: &Parsed) -> Vec<String> {
    parsed.diagnostics.iter().filter(|d| d.severity == Severity::Error).map(|d| d.to_string()).collect()
}

/// The diagnostic each deliberately broken package must get, and whether it is fatal.
const BROKEN: &[(&str, &str, bool)] = &[
    ("MalformedXml_SCORM12", "malformed-xml", true),
    ("MissingLaunchUrl_SCORM12", "missing-launch-url", true),
    ("MissingRequiredFields_SCORM12", "missing-title", false),
    ("InvalidFileReferences_SCORM12", "missing-launch-file", true),
    ("ItemWithNonExistentResourceId_SCORM12", "missing-resource", true),
    ("InvalidMissingOrgIdentifier_SCORM20043rdEdition", "missing-identifier", true),
    ("CM-01-broken-default-org", "unknown-default-organization", true),
];

#[test]
fn corpus_packages_parse_as_expected() {
    let Some(corpus) = corpus_dir() else { return };
    let mut failures = Vec::new();
    let (mut valid, mut broken) = (0, 0);
    for dir in package_dirs(&corpus) {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        if is_broken(&dir) {
            broken += 1;
            let parsed = parse_dir(&dir, &ParseOptions::default()).unwrap();
            let Some(&(_, code, fatal)) = BROKEN.iter().find(|(n, _, _)| *n == name) else {
                failures.push(format!("{name}: a broken package the test does not know; add it to BROKEN"));
                continue;
            };
            if !parsed.diagnostics.iter().any(|d| d.code == code && !d.location.file.is_empty() && d.location.line >= 1) {
                failures.push(format!("{name}: expected a `{code}` diagnostic with file and line, got:\n{}", parsed.render()));
            }
            if fatal && parsed.is_importable() {
                failures.push(format!("{name}: must not be importable"));
            }
        } else {
            valid += 1;
            let options = ParseOptions { manifest_only: holds_only_structure_files(&dir) };
            let parsed = parse_dir(&dir, &options).unwrap();
            let errors = errors(&parsed);
            if !errors.is_empty() || parsed.package.is_none() {
                failures.push(format!("{name} (manifest_only={}): {errors:#?}", options.manifest_only));
            }
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    assert!(valid >= 200 && broken == BROKEN.len(), "found {valid} valid and {broken} broken packages");
}

#[test]
fn corpus_zips_parse_without_errors() {
    let Some(corpus) = corpus_dir() else { return };
    let mut zips: Vec<PathBuf> = std::fs::read_dir(corpus.join("packages/zips"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "zip"))
        .collect();
    zips.sort();
    assert_eq!(zips.len(), 4, "{zips:?}");
    for zip in zips {
        let file = std::fs::File::open(&zip).unwrap();
        let archive = SafeArchive::open(file, &ArchiveLimits::default()).unwrap();
        let source = ZipSource::new(archive);
        let parsed = parse(&source, &ParseOptions::default());
        assert!(parsed.is_importable(), "{}:\n{}", zip.display(), parsed.render());
        // The archive comes back for streaming every entry; sizes match what was declared.
        let mut archive = source.into_archive();
        for index in 0..archive.entries().len() {
            let expected = archive.entries()[index].size;
            let written = archive.read_entry(index, &mut std::io::sink()).unwrap();
            assert_eq!(written, if archive.entries()[index].is_dir { 0 } else { expected });
        }
    }
}

#[test]
fn all_189_cts_manifests_parse_without_errors() {
    let Some(corpus) = corpus_dir() else { return };
    let courses = corpus.join("adl-scorm2004-cts/LMSRTE/Courses");
    let mut count = 0;
    let mut failures = Vec::new();
    for entry in std::fs::read_dir(&courses).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.file_name().unwrap().to_string_lossy().starts_with("LMSTestPackage_") {
            continue;
        }
        count += 1;
        let parsed = parse_dir(dir.join("imsmanifest.xml"), &ParseOptions { manifest_only: true }).unwrap();
        let errors = errors(&parsed);
        if !errors.is_empty() || parsed.package.is_none() {
            failures.push(format!("{}: {errors:#?}", dir.display()));
        }
    }
    assert_eq!(count, 189);
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}
