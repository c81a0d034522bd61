//! `lms certificates …` end to end: the sample without a database, then issue, verify (with
//! an edited file), revoke, re-issue and export against a data folder. Every PDF is checked
//! with the PDF/A-2u validator; the sample also with `pdftotext` (umlauts) when Poppler is there.

use std::io::Read;
use std::process::{Command, Output};

use page_validation::{ValidationOptions, ValidationProfile, validate_pdf_bytes};

fn lms() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lms"));
    command.env_remove("LMS_DATA").env_remove("LMS_DATABASE_URL").env("LMS_LOG", "warn");
    command
}

fn run(args: &[&str]) -> Output {
    lms().args(args).output().expect("the lms binary runs")
}

fn run_in(dir: &std::path::Path, args: &[&str]) -> Output {
    lms().current_dir(dir).args(args).output().expect("the lms binary runs")
}

fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(out.status.success(), "lms {args:?}: {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn assert_pdfa(label: &str, pdf: &[u8]) {
    let report = validate_pdf_bytes(pdf, &ValidationOptions::default().profile(ValidationProfile::PdfA2u)).unwrap();
    assert!(report.is_compliant && report.rules.failed == 0, "{label}: not PDF/A-2u:\n{report}");
}

fn pdftotext(path: &std::path::Path) -> Option<String> {
    match Command::new("pdftotext").args(["-enc", "UTF-8"]).arg(path).arg("-").output() {
        Ok(out) if out.status.success() => Some(String::from_utf8_lossy(&out.stdout).split_whitespace().collect::<Vec<_>>().join(" ")),
        _ => {
            assert!(std::env::var_os("CI").is_none(), "pdftotext (poppler-utils) is missing and CI is set");
            eprintln!("!!! SKIPPING the pdftotext check: poppler-utils are not installed");
            None
        }
    }
}

#[test]
fn sample_without_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sample.pdf");
    let path = out.to_str().unwrap();
    assert!(run_in(dir.path(), &["certificates", "sample", "--out", "sample.pdf", "--name", "Ödön Weiß-Äßling"]).status.success());
    // No database: the folder holds the PDF and nothing else (no ./lms-data).
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    let first = std::fs::read(&out).unwrap();
    assert_pdfa("sample", &first);
    if let Some(text) = pdftotext(&out) {
        assert!(text.contains("Ödön Weiß-Äßling"), "{text}");
    }
    // Deterministic: the same command gives the same bytes.
    ok(&["certificates", "sample", "--out", path, "--name", "Ödön Weiß-Äßling"]);
    assert_eq!(std::fs::read(&out).unwrap(), first);
    ok(&["certificates", "sample", "--out", path, "--english", "--landscape"]);
    assert_pdfa("sample en landscape", &std::fs::read(&out).unwrap());
    ok(&["certificates", "sample", "--out", path, "--history"]);
    assert_pdfa("sample history", &std::fs::read(&out).unwrap());
    // A name the template cannot hold is an error, exit 1.
    let long = "X".repeat(600);
    let out2 = run(&["certificates", "sample", "--out", path, "--name", &long]);
    assert_eq!(out2.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out2.stderr).contains("holder_name"));
}

#[test]
fn issue_verify_revoke_export() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let csv = dir.path().join("people.csv");
    std::fs::write(&csv, "personnel_number,name,org_unit\nP1,Jürgen Groß-Weiß,amt10\n").unwrap();
    ok(&["people", "import", csv.to_str().unwrap(), "--data", data]);
    ok(&["certificates", "set-base-url", "https://lms.example.org", "--data", data]);
    let pdf = dir.path().join("c.pdf");
    let printed = ok(&[
        "certificates", "issue", "--person", "P1", "--course", "Brandschutzhelfer", "--date", "2026-05-04", "--minutes", "240",
        "--org-unit", "amt10", "--out", pdf.to_str().unwrap(), "--data", data,
    ]);
    let code = printed.split_whitespace().next().unwrap().to_string();
    assert!(printed.contains(&format!("https://lms.example.org/verify/{code}")), "{printed}");
    let bytes = std::fs::read(&pdf).unwrap();
    assert_pdfa("issued", &bytes);

    let checked = ok(&["certificates", "verify", &code, "--pdf", pdf.to_str().unwrap(), "--data", data]);
    assert!(checked.contains("valid") && checked.contains("matches the issued PDF"), "{checked}");
    let mut edited = bytes.clone();
    let middle = edited.len() / 2;
    edited[middle] ^= 0x20;
    let tampered = dir.path().join("edited.pdf");
    std::fs::write(&tampered, edited).unwrap();
    let out = run(&["certificates", "verify", &code, "--pdf", tampered.to_str().unwrap(), "--data", data]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("does NOT match"));

    let zip_path = dir.path().join("export.zip");
    ok(&["certificates", "export", "--person", "P1", "--out", zip_path.to_str().unwrap(), "--data", data]);
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&zip_path).unwrap()).unwrap();
    let mut names = Vec::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).unwrap();
        let mut content = Vec::new();
        file.read_to_end(&mut content).unwrap();
        if file.name().unwrap().ends_with(".pdf") {
            assert_pdfa(&file.name().unwrap(), &content);
        }
        names.push(file.name().unwrap().to_string());
    }
    assert_eq!(
        names,
        [format!("certificates/P1/2026-05-04_{code}.pdf"), "history/P1.pdf".into(), "metadata.json".into(), "metadata.csv".into()]
    );

    let out = run(&["certificates", "revoke", &code, "--reason", "", "--data", data]);
    assert_eq!(out.status.code(), Some(1));
    ok(&["certificates", "revoke", &code, "--reason", "Doppelt erfasst", "--data", data]);
    let out = run(&["certificates", "verify", &code, "--data", data]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("revoked"));
    let printed = ok(&["certificates", "reissue", &code, "--data", data]);
    assert!(printed.contains(&format!("replaces {code}")), "{printed}");
    let out = run(&["certificates", "verify", "nonsense", "--data", data]);
    assert_eq!(out.status.code(), Some(1));
    let out = run(&["certificates", "render", "--offering", "42", "--out", zip_path.to_str().unwrap(), "--data", data]);
    assert_ne!(out.status.code(), Some(0));
}
