//! The `lms` binary end to end: exit codes, output, the data folder, a real server on a port.

mod browser;
mod certificates;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn lms() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lms"));
    command.env_remove("LMS_DATA").env_remove("LMS_DATABASE_URL").env_remove("LMS_ADMIN_TOKEN").env("LMS_LOG", "warn");
    command
}

fn run(command: &mut Command) -> Output {
    command.output().expect("the lms binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn corpus() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    if path.is_dir() {
        return Some(path);
    }
    if std::env::var_os("CI").is_some() {
        panic!("the shared corpus is missing at {} (CI must have ../shared beside the project)", path.display());
    }
    eprintln!("!!! SKIPPING corpus-based checks: {} is missing", path.display());
    None
}

/// (path under the corpus, extra flags, expected exit code). The "How it will be checked"
/// list of issue 2, package by package.
const INSPECT_CASES: &[(&str, &[&str], i32)] = &[
    ("packages/scorm12/ContentPackagingOneFilePerSCO_SCORM12", &[], 0),
    ("packages/scorm12/ContentPackagingSingleSCO_SCORM12", &[], 0),
    ("packages/scorm12/ContentPackagingWithMetadata_SCORM12", &[], 0),
    ("packages/scorm12/LaunchUrlFromNestedItem_SCORM12", &[], 0),
    ("packages/scorm12/MultipleItemsWithIdentifierRef_SCORM12", &[], 0),
    ("packages/scorm12/PrerequisitesTest_SCORM12", &[], 0),
    ("packages/scorm12/RuntimeBasicCalls_SCORM12", &[], 0),
    ("packages/scorm12/RuntimeMinimumCalls_SCORM12", &[], 0),
    ("packages/scorm12/ComplexNestedOrganization_SCORM12", &["--manifest-only"], 0),
    ("packages/scorm2004/ContentPackagingMetadata_SCORM20043rdEdition", &[], 0),
    ("packages/scorm2004/ContentPackagingOneFilePerSCO_SCORM20043rdEdition", &[], 0),
    ("packages/scorm2004/ContentPackagingSingleSCO_SCORM20042ndEdition", &[], 0),
    ("packages/scorm2004/ContentPackagingSingleSCO_SCORM20043rdEdition", &[], 0),
    ("packages/scorm2004/RunTimeAdvancedCalls_SCORM20043rdEdition", &[], 0),
    ("packages/scorm2004/RuntimeBasicCalls_SCORM20043rdEdition", &[], 0),
    ("packages/scorm2004/RuntimeMinimumCalls_SCORM20043rdEdition", &[], 0),
    ("packages/scorm2004/SequencingForcedSequential_SCORM20043rdEdition", &[], 0),
    ("packages/scorm2004/SequencingPostTestRollup4thEd_SCORM20044thEdition", &[], 0),
    ("packages/scorm2004/SequencingPostTestRollup_SCORM20043rdEdition", &[], 0),
    ("packages/scorm2004/SequencingPreOrPostTestRollup_SCORM20043rdEdition", &[], 0),
    ("packages/scorm2004/SequencingRandomTest_SCORM20043rdEdition", &[], 0),
    ("packages/scorm2004/SequencingSimpleRemediation_SCORM20043rdEdition", &[], 0),
    ("packages/scorm2004/AdlAttributes_SCORM20043rdEdition", &["--manifest-only"], 0),
    ("packages/scorm2004/ContentPackagingNoSchemaVersion_SCORM20042ndEdition", &["--manifest-only"], 0),
    ("packages/scorm2004/MinimalValid_SCORM20043rdEdition", &["--manifest-only"], 0),
    ("packages/cmi5/masteryscore_framed", &[], 0),
    ("packages/cmi5/masteryscore_responsive", &[], 0),
    ("packages/cmi5/multi_au_framed", &[], 0),
    ("packages/cmi5/pre_post_test_framed", &[], 0),
    ("packages/cmi5/single_au_basic_framed", &[], 0),
    ("packages/cmi5/single_au_basic_responsive", &[], 0),
    ("packages/xapi/basic_course", &[], 0),
    ("packages/aicc/complex", &[], 0),
    ("packages/aicc/package", &[], 0),
    ("packages/aicc/pre-ort", &["--manifest-only"], 0),
    ("packages/aicc/multiline-description", &["--manifest-only"], 0),
    ("packages/zips/scorm12.zip", &[], 0),
    ("packages/zips/scorm2004.zip", &[], 0),
    ("packages/zips/cmi5.zip", &[], 0),
    ("packages/zips/aicc.zip", &[], 0),
    // Deliberately broken: fatal ones exit 1.
    ("packages/scorm12/MalformedXml_SCORM12", &[], 1),
    ("packages/scorm12/MissingLaunchUrl_SCORM12", &[], 1),
    ("packages/scorm12/MissingRequiredFields_SCORM12", &[], 1),
    ("packages/scorm12/ItemWithNonExistentResourceId_SCORM12", &[], 1),
    ("packages/scorm12/InvalidFileReferences_SCORM12", &[], 1),
    ("packages/scorm2004/InvalidMissingOrgIdentifier_SCORM20043rdEdition", &["--manifest-only"], 1),
    ("packages/conformance/scorm2004/adl-cts-invalid/CM-01-broken-default-org", &["--manifest-only"], 1),
];

#[test]
fn inspect_corpus_exit_codes_and_diagnostics() {
    let Some(corpus) = corpus() else { return };
    let mut failures = Vec::new();
    for (path, flags, expected) in INSPECT_CASES {
        let output = run(lms().args(["package", "inspect", "--json"]).args(*flags).arg(corpus.join(path)));
        let code = output.status.code().unwrap_or(-1);
        let json: serde_json::Value = match serde_json::from_slice(&output.stdout) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("{path}: output is not JSON ({e}): {}", text(&output.stdout)));
                continue;
            }
        };
        let diagnostics = json["diagnostics"].as_array().cloned().unwrap_or_default();
        let errors: Vec<&serde_json::Value> = diagnostics.iter().filter(|d| d["severity"] == "error").collect();
        if code != *expected {
            failures.push(format!("{path}: exit {code}, expected {expected}; diagnostics: {diagnostics:?}"));
        }
        if *expected == 0 && !errors.is_empty() {
            failures.push(format!("{path}: valid package reported errors: {errors:?}"));
        }
        if *expected == 1 {
            let named = diagnostics.iter().any(|d| {
                d["location"]["file"].as_str().is_some_and(|f| !f.is_empty()) && d["location"]["line"].as_u64().unwrap_or(0) > 0
            });
            if !named {
                failures.push(format!("{path}: no diagnostic names a file and line: {diagnostics:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} inspect cases failed:\n{}", failures.len(), INSPECT_CASES.len(), failures.join("\n"));
}

#[test]
fn inspect_all_cts_manifests() {
    let Some(corpus) = corpus() else { return };
    let courses = corpus.join("adl-scorm2004-cts/LMSRTE/Courses");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&courses)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("LMSTestPackage_"))
        .collect();
    dirs.sort();
    assert_eq!(dirs.len(), 189);
    let mut failures = Vec::new();
    for dir in &dirs {
        let output = run(lms().args(["package", "inspect", "--manifest-only"]).arg(dir));
        if !output.status.success() || text(&output.stdout).contains("error[") {
            failures.push(format!("{}: {}", dir.display(), text(&output.stdout)));
        }
    }
    assert!(failures.is_empty(), "{} CTS manifests failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn inspect_text_output_and_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("imsmanifest.xml"), "<manifest identifier='x'><organizations>").unwrap();
    let output = run(lms().args(["package", "inspect"]).arg(dir.path()));
    assert_eq!(output.status.code(), Some(1));
    let out = text(&output.stdout);
    assert!(out.contains("imsmanifest.xml:"), "{out}");
    assert!(out.contains("NOT importable"), "{out}");
    // Usage errors exit 2.
    assert_eq!(run(lms().args(["package", "inspect"])).status.code(), Some(2));
    assert_eq!(run(lms().args(["package", "frobnicate"])).status.code(), Some(2));
    // A file that is not a zip is refused, not a crash.
    let junk = dir.path().join("junk.zip");
    std::fs::write(&junk, b"junk").unwrap();
    let output = run(lms().args(["package", "inspect"]).arg(&junk));
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
}

fn write_zip(path: &Path, entries: &[(&str, &[u8])]) {
    // A minimal stored zip writer, so this test needs no zip crate.
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in entries {
        let crc = crc32(data);
        let offset = out.len() as u32;
        out.extend_from_slice(&[0x50, 0x4b, 3, 4, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        central.extend_from_slice(&[0x50, 0x4b, 1, 2, 20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&(data.len() as u32).to_le_bytes());
        central.extend_from_slice(&(data.len() as u32).to_le_bytes());
        central.extend_from_slice(&(name.len() as u16).to_le_bytes());
        central.extend_from_slice(&[0; 12]);
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let central_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&[0x50, 0x4b, 5, 6, 0, 0, 0, 0]);
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&central_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    std::fs::write(path, out).unwrap();
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

const MANIFEST: &str = r#"<?xml version="1.0"?>
<manifest identifier="cli-demo" xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2" xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
<metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
<organizations default="o"><organization identifier="o"><title>CLI Demo</title><item identifier="i" identifierref="r"><title>Start</title></item></organization></organizations>
<resources><resource identifier="r" type="webcontent" adlcp:scormtype="sco" href="index.html"><file href="index.html"/></resource></resources></manifest>"#;

#[test]
fn import_zip_and_folder_and_refusals() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let good = work.path().join("good.zip");
    write_zip(&good, &[("imsmanifest.xml", MANIFEST.as_bytes()), ("index.html", b"<p>hi</p>")]);
    let output = run(lms().args(["package", "import"]).arg(&good).arg("--data").arg(&data));
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("imported package"), "{}", text(&output.stdout));
    // The same content from a folder: nothing new.
    let folder = work.path().join("folder");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("imsmanifest.xml"), MANIFEST).unwrap();
    std::fs::write(folder.join("index.html"), b"<p>hi</p>").unwrap();
    let output = run(lms().args(["package", "import"]).arg(&folder).arg("--data").arg(&data));
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("already stored"), "{}", text(&output.stdout));

    // Hostile archives: refused by inspect and import, nothing written outside or inside.
    let outside = work.path().join("evil.txt");
    for (name, entry) in [("traversal", "../evil.txt"), ("absolute", "/tmp/lms-evil.txt"), ("backslash", "..\\evil.txt")] {
        let zip = work.path().join(format!("{name}.zip"));
        write_zip(&zip, &[("imsmanifest.xml", MANIFEST.as_bytes()), ("index.html", b"x"), (entry, b"pwned")]);
        assert_eq!(run(lms().args(["package", "inspect"]).arg(&zip)).status.code(), Some(1), "inspect {name}");
        let output = run(lms().args(["package", "import"]).arg(&zip).arg("--data").arg(&data));
        assert_eq!(output.status.code(), Some(1), "import {name}: {}", text(&output.stderr));
        assert!(text(&output.stderr).contains("refused"), "{}", text(&output.stderr));
    }
    assert!(!outside.exists());
    assert!(!Path::new("/tmp/lms-evil.txt").exists());
    let blobs: usize = walk_files(&data.join("blobs"));
    assert_eq!(blobs, 2, "only the good package's two files are stored");
}

fn walk_files(dir: &Path) -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() != "tmp" {
                n += walk_files(&entry.path());
            }
        } else {
            n += 1;
        }
    }
    n
}

#[test]
fn people_import_reports_rejected_rows() {
    let work = tempfile::tempdir().unwrap();
    let csv = work.path().join("hr.csv");
    let mut body = String::from("\u{feff}Personnel_Number;Name;Org_Unit;Roles\n");
    for i in 0..300 {
        body.push_str(&format!("{:06};Beschäftigte {i};AMT-{};\n", 100_000 + i, i % 5));
    }
    body.push_str(";Ohne Nummer;AMT-1;\n");
    body.push_str("200000;Falsche Rolle;AMT-1;zauberer\n");
    std::fs::write(&csv, body).unwrap();
    let output = run(lms().args(["people", "import"]).arg(&csv).arg("--data").arg(work.path().join("data")));
    assert_eq!(output.status.code(), Some(1), "rejected rows make exit 1");
    let out = text(&output.stdout);
    assert!(out.contains("302 rows: 300 created, 0 updated, 2 rejected"), "{out}");
    let err = text(&output.stderr);
    assert!(err.contains(":302: rejected"), "{err}");
    assert!(err.contains("zauberer"), "{err}");

    let bad_header = work.path().join("bad.csv");
    std::fs::write(&bad_header, "id,fullname\n1,x\n").unwrap();
    let output = run(lms().args(["people", "import"]).arg(&bad_header).arg("--data").arg(work.path().join("data")));
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("personnel_number"), "{}", text(&output.stderr));
}

struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Starts `lms serve` on two free ports of its own (the content listener too: its default,
/// the main port + 1, may belong to another test's server). A server that exits instead of
/// listening fails the test with what it printed.
fn start_server(data: &Path) -> Server {
    let (port, content_port) = loop {
        let (a, b) = (free_port(), free_port());
        if a != b {
            break (a, b);
        }
    };
    let log = data.with_extension("stderr.log");
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    let mut child = lms()
        .args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--data"])
        .arg(data)
        .env("LMS_ADMIN_TOKEN", "cli-test-admin-token-123")
        .env("LMS_CONTENT_BIND", format!("127.0.0.1:{content_port}"))
        .env_remove("LMS_CONTENT_ORIGIN")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("lms serve exited with {status} before listening:\n{}", std::fs::read_to_string(&log).unwrap_or_default());
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "lms serve did not listen on {port} within 60 s:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Server { child, port }
}

/// One HTTP/1.1 request over a plain socket.
fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let response = text(&response);
    let status = response.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

#[test]
fn serve_accepts_a_golf_zip_and_lists_it() {
    let Some(corpus) = corpus() else { return };
    let work = tempfile::tempdir().unwrap();
    let server = start_server(&work.path().join("data"));
    let (status, body) = http(server.port, "GET", "/healthz", &[], b"");
    assert_eq!(status, 200, "{body}");
    let zip = std::fs::read(corpus.join("packages/zips/scorm2004.zip")).unwrap();
    let auth = ("Authorization", "Bearer cli-test-admin-token-123");
    let (status, body) = http(server.port, "POST", "/api/packages", &[auth, ("Content-Type", "application/zip")], &zip);
    assert_eq!(status, 201, "{body}");
    let created: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(created["standard"], "scorm2004");
    let (status, body) = http(server.port, "GET", "/api/packages", &[auth], b"");
    assert_eq!(status, 200);
    let list: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(list["packages"][0]["id"], created["id"]);
    // Hostile upload over HTTP: refused, nothing stored.
    let evil = work.path().join("evil.zip");
    write_zip(&evil, &[("imsmanifest.xml", MANIFEST.as_bytes()), ("index.html", b"x"), ("../../evil", b"x")]);
    let (status, body) =
        http(server.port, "POST", "/api/packages", &[auth, ("Content-Type", "application/zip")], &std::fs::read(&evil).unwrap());
    assert_eq!(status, 422, "{body}");
    let (_, body) = http(server.port, "GET", "/api/packages", &[auth], b"");
    let list: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(list["packages"].as_array().unwrap().len(), 1);
}
