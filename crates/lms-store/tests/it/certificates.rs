//! Storage tests: certificates (issue 7). Every PDF produced here goes through `check_pdf`:
//! PDF/A-2u and 2b validation (page_validation, 0 failed rules), and, when Poppler is
//! installed (a failure under CI when it is not), `pdffonts` (embedded + subset),
//! `pdftotext` (the expected text, umlauts included) and `pdftoppm` (first page not blank).

use std::collections::BTreeSet;
use std::io::Read;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::Command;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use lms_schedule::attendance::{AttendanceStatus, CompletionRule};
use lms_schedule::booking::Actor;
use lms_schedule::catalogue::{CourseKind, Visibility};
use lms_schedule::ids::PersonId;
use lms_store::{
    AttendanceInput, CertificateStatus, Error, ExportFilter, IssueRequest, ManualCertificate, METADATA_CSV_COLUMNS, NewCourse, NewOffering,
    NewOrgUnit, NewPerson, NewSession, SchedulePolicy, Store,
};
use page_validation::{ValidationOptions, ValidationProfile, validate_pdf_bytes};

use crate::harness::on_both;

const HOLDER: &str = "Jürgen Groß-Weiß";

fn poppler() -> bool {
    let ok = ["pdffonts", "pdftotext", "pdftoppm"].iter().all(|t| Command::new(t).arg("-v").output().is_ok());
    if !ok {
        assert!(std::env::var_os("CI").is_none(), "poppler-utils are missing and CI is set");
        eprintln!("!!! SKIPPING pdffonts/pdftotext/pdftoppm checks: poppler-utils are not installed");
    }
    ok
}

fn tool(name: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new(name).args(args).output().unwrap();
    assert!(out.status.success(), "{name} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// PDF/A-2u (and 2b) with 0 failed rules; fonts embedded and subset; `expected` in the text;
/// the first page not blank.
pub fn check_pdf(label: &str, pdf: &[u8], expected: &[&str]) {
    let report = validate_pdf_bytes(pdf, &ValidationOptions::default().profile(ValidationProfile::PdfA2u)).unwrap();
    if !report.is_compliant {
        // Kept for a look with other tools.
        let keep = std::env::temp_dir().join(format!("lms-store-failed-{}-{}.pdf", std::process::id(), label.replace(['/', ' '], "_")));
        let _ = std::fs::write(&keep, pdf);
        eprintln!("the failing PDF is at {}", keep.display());
    }
    assert!(report.is_compliant && report.rules.failed == 0, "{label}: not PDF/A-2u:\n{report}");
    let b = validate_pdf_bytes(pdf, &ValidationOptions::default().profile(ValidationProfile::PdfA2b)).unwrap();
    // The only 2b rule that may fail is the declared conformance level ("U", not "B").
    assert!(b.failures.iter().all(|f| f.rule_id == "ISO 19005-2:2011:6.6.4:3"), "{label}: PDF/A-2b failures:\n{b}");
    if !poppler() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.pdf");
    std::fs::write(&path, pdf).unwrap();
    let file = path.to_str().unwrap();
    let fonts = String::from_utf8(tool("pdffonts", &[file])).unwrap();
    let lines: Vec<&str> = fonts.lines().skip(2).filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty(), "{label}: no fonts");
    for line in lines {
        let cols: Vec<&str> = line.split_whitespace().collect();
        let n = cols.len();
        assert_eq!((cols[n - 5], cols[n - 4]), ("yes", "yes"), "{label}: font not embedded+subset: {line}");
    }
    let text = String::from_utf8(tool("pdftotext", &["-enc", "UTF-8", file, "-"])).unwrap();
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for snippet in expected {
        assert!(text.contains(snippet), "{label}: {snippet:?} missing in {text:?}");
    }
    let prefix = dir.path().join("page");
    tool("pdftoppm", &["-png", "-r", "20", "-f", "1", "-l", "1", "-gray", file, prefix.to_str().unwrap()]);
    let png = std::fs::read_dir(dir.path()).unwrap().filter_map(|e| e.ok()).map(|e| e.path()).find(|p| p.extension().is_some_and(|x| x == "png")).unwrap();
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let dark = buf[..info.buffer_size()].iter().filter(|&&v| v < 128).count();
    assert!(dark > 50, "{label}: the first page looks blank ({dark} dark pixels)");
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

async fn person(store: &Store, pn: &str, name: &str, unit: &str) {
    store
        .create_person(&NewPerson { personnel_number: pn.into(), name: name.into(), org_unit: Some(unit.into()), roles: BTreeSet::new(), password: None })
        .await
        .unwrap();
}

/// Org units `stadt` ⊃ `amt10`, a trainer, `holders` people, a classroom course of amt10 with
/// one offering whose one session (7.5 hours, trainer T1) starts two seconds from now; the
/// test waits for the start (attendance before it is refused) and marks everyone attended,
/// which issues every holder's certificate (checked). The verification base URL is
/// `https://lms.example.org`. Returns the offering id and the session's Berlin day.
async fn completed_offering(store: &Store, holders: &[(&str, &str)]) -> (i64, NaiveDate) {
    store.create_org_unit(&NewOrgUnit { id: "stadt".into(), name: "Stadt Musterstadt".into(), parent_id: None }).await.unwrap();
    store
        .create_org_unit(&NewOrgUnit { id: "amt10".into(), name: "Amt für Personalentwicklung".into(), parent_id: Some("stadt".into()) })
        .await
        .unwrap();
    person(store, "T1", "Dr. Änne Müller", "amt10").await;
    for (pn, name) in holders {
        person(store, pn, name, "amt10").await;
    }
    let course = store
        .create_course(&NewCourse {
            title: "Datenschutz im Verwaltungsalltag".into(),
            kind: CourseKind::Classroom,
            org_unit: "amt10".into(),
            visibility: Visibility::CityWide,
            description: None,
        })
        .await
        .unwrap();
    store.set_certificate_base_url("https://lms.example.org/").await.unwrap();
    let start = DateTime::from_timestamp(Utc::now().timestamp() + 2, 0).unwrap();
    let offering = store
        .create_offering(&NewOffering {
            course_id: course.id,
            min_participants: 1,
            max_participants: 50,
            booking_opens_at: None,
            booking_closes_at: start,
            cancellation_deadline: start,
            requires_approval: false,
            completion: CompletionRule::default(),
        })
        .await
        .unwrap();
    let session = store
        .add_session(offering.id, &NewSession { starts_at: start, ends_at: start + chrono::Duration::minutes(450), room_id: None, trainer_ids: vec!["T1".into()] })
        .await
        .unwrap();
    let policy = SchedulePolicy::default();
    for (pn, _) in holders {
        store.book(offering.id, pn, Actor::Admin(PersonId("T1".into())), &policy).await.unwrap();
    }
    while Utc::now() <= start {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let marks: Vec<AttendanceInput> = holders.iter().map(|(pn, _)| AttendanceInput { personnel_number: pn.to_string(), status: AttendanceStatus::Attended }).collect();
    // Meeting the completion rule issues each holder's certificate at once.
    let report = store.record_attendance(session.id, &marks, "T1").await.unwrap();
    let issued: Vec<&str> = report.certificates_issued.keys().map(String::as_str).collect();
    let mut expected: Vec<&str> = holders.iter().map(|(pn, _)| *pn).collect();
    expected.sort_unstable();
    assert_eq!(issued, expected, "{report:?}");
    (offering.id, lms_schedule::time::berlin_date(start))
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 12, 9, 0, 0).unwrap()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn tamper(pdf: &[u8]) -> Vec<u8> {
    let mut edited = pdf.to_vec();
    // Change one byte inside the file (as an edit of the text or the date would).
    let middle = edited.len() / 2;
    edited[middle] ^= 0x01;
    edited
}

on_both!(offering_completion_lifecycle, |store: Store, _dir: PathBuf| async move {
    let (offering, session_day) = completed_offering(&store, &[("P1", HOLDER)]).await;
    // The certificate issued when attendance met the completion rule; the hook finds it.
    let automatic = store.certificates_of("P1").await.unwrap();
    assert_eq!(automatic.len(), 1);
    let issued = store.issue_certificate_for_offering(offering, "P1", now()).await.unwrap();
    assert_eq!(issued.code, automatic[0].code);
    let c = &issued.certificate;
    assert_eq!(c.holder_name, HOLDER);
    assert_eq!(c.course_title, "Datenschutz im Verwaltungsalltag");
    assert_eq!(c.dates, vec![session_day]);
    assert_eq!(c.duration_minutes, 450);
    assert_eq!(c.trainer.as_deref(), Some("Dr. Änne Müller"));
    assert_eq!(c.department, "Amt für Personalentwicklung");
    assert_eq!(c.verification_url, format!("https://lms.example.org/verify/{}", issued.code));
    assert_eq!(issued.status, CertificateStatus::Valid);
    assert_eq!(issued.origin.offering_id, Some(offering));

    // Idempotent: the hook called again returns the same certificate.
    let again = store.issue_certificate_for_offering(offering, "P1", now()).await.unwrap();
    assert_eq!(again.code, issued.code);
    assert_eq!(store.issue_pending_certificates(now()).await.unwrap(), Vec::<String>::new());

    let pdf = store.certificate_pdf(&issued.code).await.unwrap();
    check_pdf("offering certificate", &pdf, &[HOLDER, "Datenschutz im Verwaltungsalltag", &issued.code, "Dr. Änne Müller"]);
    // The personnel number is not in the PDF metadata (the built-in template does not ask).
    let text = String::from_utf8_lossy(&pdf);
    let xmp = text.find("<x:xmpmeta").map(|start| &text[start..]).expect("an uncompressed XMP packet");
    let xmp = &xmp[..xmp.find("</x:xmpmeta>").unwrap()];
    assert!(xmp.contains(&issued.code) && !xmp.contains(">P1<"), "{xmp}");
    // Same input, same bytes; the stored blob is content-addressed.
    assert_eq!(store.rerender_certificate(&issued.code).await.unwrap(), pdf);
    assert!(store.blobs().contains(&issued.pdf_sha256));

    // Verification by hash: the file as issued matches, an edited one does not; the code in
    // another spelling finds the same certificate.
    let (_, check) = store.check_certificate_pdf(&issued.code.to_lowercase(), &pdf).await.unwrap().unwrap();
    assert!(check.matches);
    let (_, check) = store.check_certificate_pdf(&issued.code, &tamper(&pdf)).await.unwrap().unwrap();
    assert!(!check.matches);
    assert!(matches!(store.certificate("1234").await, Err(Error::Invalid { field: "code", .. })));

    // Revoke with a reason; a second revocation is refused.
    let revoked = store.revoke_certificate(&issued.code, "Teilnahme irrtümlich erfasst", Some("admin"), now()).await.unwrap();
    assert_eq!(revoked.status, CertificateStatus::Revoked);
    assert_eq!(revoked.revocation_reason.as_deref(), Some("Teilnahme irrtümlich erfasst"));
    assert!(matches!(store.revoke_certificate(&issued.code, "again", None, now()).await, Err(Error::Invalid { .. })));
    assert!(matches!(store.revoke_certificate(&issued.code, "  ", None, now()).await, Err(Error::Invalid { field: "reason", .. })));

    // Re-issue: a new code, the old one kept as superseded and linked.
    let new = store.reissue_certificate(&issued.code, Some("admin"), now()).await.unwrap();
    assert_ne!(new.code, issued.code);
    assert_eq!(new.replaces.as_deref(), Some(issued.code.as_str()));
    assert_eq!(new.status, CertificateStatus::Valid);
    let old = store.certificate(&issued.code).await.unwrap().unwrap();
    assert_eq!(old.status, CertificateStatus::Superseded);
    assert_eq!(old.superseded_by.as_deref(), Some(new.code.as_str()));
    assert_eq!(old.revocation_reason.as_deref(), Some("Teilnahme irrtümlich erfasst"));
    assert!(matches!(store.reissue_certificate(&issued.code, None, now()).await, Err(Error::Invalid { .. })));
    let history = store.certificates_of("P1").await.unwrap();
    assert_eq!(history.len(), 2);
    // The hook now returns the re-issued one.
    assert_eq!(store.issue_certificate_for_offering(offering, "P1", now()).await.unwrap().code, new.code);
    let new_pdf = store.certificate_pdf(&new.code).await.unwrap();
    check_pdf("re-issued certificate", &new_pdf, &[HOLDER, &new.code]);
    // Someone without a completion gets no certificate.
    person(&store, "P9", "Nicht Teilgenommen", "amt10").await;
    assert!(matches!(store.issue_certificate_for_offering(offering, "P9", now()).await, Err(Error::Invalid { .. })));
});

on_both!(manual_issue_and_templates, |store: Store, _dir: PathBuf| async move {
    store.create_org_unit(&NewOrgUnit { id: "stadt".into(), name: "Stadt Musterstadt".into(), parent_id: None }).await.unwrap();
    store.create_org_unit(&NewOrgUnit { id: "amt32".into(), name: "Ordnungsamt".into(), parent_id: Some("stadt".into()) }).await.unwrap();
    person(&store, "P2", "Zoë Öztürk", "amt32").await;
    // An English landscape template for the whole city: amt32 inherits it.
    let english = lms_certificate::Template::builtin(lms_certificate::Language::English, lms_certificate::Orientation::Landscape);
    let sha = store.set_certificate_template(Some("stadt"), &english, Some("admin")).await.unwrap();
    assert_eq!(store.certificate_template_for(Some("amt32")).await.unwrap().0, sha);
    let manual = ManualCertificate {
        personnel_number: "P2".into(),
        course_title: "Erste Hilfe – Auffrischung".into(),
        dates: vec![day(2026, 2, 3)],
        duration_minutes: 450,
        trainer: None,
        org_unit_id: "amt32".into(),
        course_id: None,
    };
    let issued = store.issue_certificate(&IssueRequest::Manual(manual.clone()), Some("admin"), now()).await.unwrap().unwrap();
    assert_eq!(issued.origin.template_sha256, sha);
    assert_eq!(issued.certificate.department, "Ordnungsamt");
    let pdf = store.certificate_pdf(&issued.code).await.unwrap();
    check_pdf("manual, English landscape", &pdf, &["Zoë Öztürk", "Certificate", "7.5"]);
    // A manual certificate is never deduplicated.
    let second = store.issue_certificate(&IssueRequest::Manual(manual.clone()), None, now()).await.unwrap().unwrap();
    assert_ne!(second.code, issued.code);
    // Removing the unit template falls back to the built-in one (German); old certificates keep theirs.
    assert!(store.remove_certificate_template(Some("stadt")).await.unwrap());
    let (builtin_sha, builtin) = store.certificate_template_for(Some("amt32")).await.unwrap();
    assert_ne!(builtin_sha, sha);
    assert_eq!(builtin.language, lms_certificate::Language::German);
    assert_eq!(store.rerender_certificate(&issued.code).await.unwrap(), pdf);

    // Bad input is reported as data.
    let cases: Vec<(ManualCertificate, &str)> = vec![
        (ManualCertificate { personnel_number: "NOPE".into(), ..manual.clone() }, "not found"),
        (ManualCertificate { duration_minutes: 0, ..manual.clone() }, "duration_minutes"),
        (ManualCertificate { dates: vec![], ..manual.clone() }, "dates"),
        (ManualCertificate { course_title: " ".into(), ..manual.clone() }, "course_title"),
        (ManualCertificate { org_unit_id: "amt99".into(), ..manual.clone() }, "not found"),
        (ManualCertificate { course_title: "a\u{7}b".into(), ..manual.clone() }, "control character"),
    ];
    for (input, expected) in cases {
        let error = store.issue_certificate(&IssueRequest::Manual(input), None, now()).await.unwrap_err().to_string();
        assert!(error.contains(expected), "{error:?} should mention {expected:?}");
    }
    assert!(store.set_certificate_base_url("ftp://x").await.is_err());
    let broken = lms_certificate::Template { blocks: vec![], title: "{nonsense}".into(), ..english };
    assert!(matches!(store.set_certificate_template(None, &broken, None).await, Err(Error::Invalid { field: "template", .. })));
});

on_both!(elearning_hook, |store: Store, _dir: PathBuf| async move {
    let Some(corpus) = crate::harness::corpus() else { return };
    let package = store
        .import_package_zip(&corpus.join("packages/zips/scorm12.zip"), &lms_store::ImportOptions::default(), None)
        .await
        .unwrap()
        .record
        .id;
    store.create_org_unit(&NewOrgUnit { id: "amt10".into(), name: "Amt für Personalentwicklung".into(), parent_id: None }).await.unwrap();
    person(&store, "P3", HOLDER, "amt10").await;
    let completed = at("2026-04-01T22:30:00Z"); // 00:30 on 2 April in Berlin (CEST, +2)
    // No course uses the package: nothing to certify.
    assert_eq!(store.issue_certificate_for_elearning("P3", &package, completed, now()).await.unwrap(), None);
    let course = store
        .create_course(&NewCourse {
            title: "Informationssicherheit (E-Learning)".into(),
            kind: CourseKind::ELearning { package_id: package.as_str().into() },
            org_unit: "amt10".into(),
            visibility: Visibility::CityWide,
            description: None,
        })
        .await
        .unwrap();
    // A course without a certified duration: still nothing.
    assert_eq!(store.issue_certificate_for_elearning("P3", &package, completed, now()).await.unwrap(), None);
    store.set_certificate_duration(course.id, 90).await.unwrap();
    let issued = store.issue_certificate_for_elearning("P3", &package, completed, now()).await.unwrap().unwrap();
    assert_eq!(issued.certificate.dates, vec![day(2026, 4, 2)]);
    assert_eq!(issued.certificate.duration_minutes, 90);
    assert_eq!(issued.origin.package_id.as_deref(), Some(package.as_str()));
    let again = store.issue_certificate_for_elearning("P3", &package, completed, now()).await.unwrap().unwrap();
    assert_eq!(again.code, issued.code);
    check_pdf("e-learning certificate", &store.certificate_pdf(&issued.code).await.unwrap(), &[HOLDER, "1,5"]);

    // The completion as the SCORM/xAPI side reports it: the path step completes (the next
    // one unlocks) and the certificate is issued, in the one call.
    use lms_schedule::ids::{CourseId, LearningPathId, StepId};
    use lms_schedule::path::{LearningPath, PathOrder, PathStep, StepTarget};
    let path = LearningPath {
        id: LearningPathId(0),
        order: PathOrder::Ordered,
        steps: vec![
            PathStep { id: StepId("online".into()), target: StepTarget::ELearning { package_id: package.as_str().into() }, prerequisites: BTreeSet::new() },
            PathStep { id: StepId("class".into()), target: StepTarget::Offering { course_id: CourseId(999) }, prerequisites: BTreeSet::new() },
        ],
    };
    let path_id = store.create_learning_path("Sicher im Netz", &path).await.unwrap();
    assert_eq!(store.enroll_in_path(path_id, "P3").await.unwrap().next_steps, [StepId("online".into())]);
    let later = at("2026-05-04T08:00:00Z");
    let recorded = store.record_elearning_completion("P3", &package, later).await.unwrap();
    assert!(recorded.new);
    assert_eq!(recorded.paths_advanced, [path_id]);
    let code = recorded.certificate.expect("a certificate for the configured course");
    let automatic = store.certificate(&code).await.unwrap().unwrap();
    assert_eq!((automatic.status, automatic.certificate.dates.clone()), (CertificateStatus::Valid, vec![day(2026, 5, 4)]));
    assert_eq!(store.paths_of("P3").await.unwrap()[0].next_steps, [StepId("class".into())]);
    check_pdf("e-learning certificate (recorded completion)", &store.certificate_pdf(&code).await.unwrap(), &[HOLDER, &code]);
    // The same completion reported again changes nothing: no second certificate.
    let repeated = store.record_elearning_completion("P3", &package, later).await.unwrap();
    assert_eq!((repeated.new, repeated.paths_advanced.len(), repeated.certificate), (false, 0, None));
    assert_eq!(store.certificates_of("P3").await.unwrap().len(), 2);
    assert_eq!(store.issue_pending_certificates(now()).await.unwrap(), Vec::<String>::new());
    // An unknown person is refused with a clear error.
    assert!(matches!(store.record_elearning_completion("NOBODY", &package, later).await, Err(Error::NotFound { .. })));
});

fn read_zip(bytes: Vec<u8>) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).unwrap();
            let mut data = Vec::new();
            file.read_to_end(&mut data).unwrap();
            (file.name().unwrap().to_string(), data)
        })
        .collect()
}

on_both!(batch_and_export, |store: Store, _dir: PathBuf| async move {
    let holders = [("P1", HOLDER), ("P2", "Zoë Öztürk"), ("P3", "Ľudmila Šťastná"), ("P4", "Øystein Ærø")];
    let (offering, session_day) = completed_offering(&store, &holders).await;
    let workers = NonZeroUsize::new(2).unwrap();
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = seen.clone();
    let progress: lms_store::CertificateProgress = std::sync::Arc::new(move |done, total| {
        assert!(done <= total);
        counter.store(done, std::sync::atomic::Ordering::SeqCst);
    });
    let mut out = Vec::new();
    let report = store
        .render_offering_certificates(offering, Some("admin"), now(), workers, SharedVec(std::sync::Arc::new(std::sync::Mutex::new(Vec::new()))), None)
        .await
        .unwrap();
    // Attendance already issued all four (see `completed_offering`): the batch reuses them.
    assert_eq!((report.issued, report.existing, report.failed.len()), (0, 4, 0));
    // Second run: the same four again; written to a plain Vec.
    let sink = SharedVec(std::sync::Arc::new(std::sync::Mutex::new(Vec::new())));
    let report = store.render_offering_certificates(offering, None, now(), workers, sink.clone(), Some(progress)).await.unwrap();
    assert_eq!((report.issued, report.existing), (0, 4));
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 4);
    out.extend_from_slice(&sink.0.lock().unwrap());
    let entries = read_zip(out);
    let pdfs: Vec<&(String, Vec<u8>)> = entries.iter().filter(|(n, _)| n.ends_with(".pdf")).collect();
    assert_eq!(pdfs.len(), 4);
    for ((name, pdf), (pn, holder)) in pdfs.iter().zip(holders.iter()) {
        assert!(name.starts_with(&format!("certificates/{pn}/{session_day}_")), "{name}");
        check_pdf(name, pdf, &[holder]);
    }
    let issued = store.certificates_of_offering(offering).await.unwrap();
    assert_eq!(issued.len(), 4);
    for c in &issued {
        assert_eq!(store.certificate_pdf(&c.code).await.unwrap(), store.rerender_certificate(&c.code).await.unwrap());
    }
    let json: serde_json::Value = serde_json::from_slice(&entries.iter().find(|(n, _)| n == "metadata.json").unwrap().1).unwrap();
    assert_eq!(json["format"], "lms-certificates/1");
    assert_eq!(json["certificates"].as_array().unwrap().len(), 4);
    // metadata.json is written one record at a time, yet it is exactly serde_json's pretty
    // printing of its content, keys in the documented order.
    let raw = &entries.iter().find(|(n, _)| n == "metadata.json").unwrap().1;
    assert_eq!(&serde_json::to_vec_pretty(&json).unwrap(), raw);
    assert_eq!(json.as_object().unwrap().keys().collect::<Vec<_>>(), ["format", "generated_at", "certificates"]);
    assert_eq!(json["certificates"][0].as_object().unwrap().keys().next().unwrap(), "file");

    // Export for one person, with the training history.
    let manual = ManualCertificate {
        personnel_number: "P1".into(),
        course_title: "Brandschutzhelfer".into(),
        dates: vec![day(2025, 11, 20)],
        duration_minutes: 240,
        trainer: None,
        org_unit_id: "amt10".into(),
        course_id: None,
    };
    let older = store.issue_certificate(&IssueRequest::Manual(manual), None, now()).await.unwrap().unwrap();
    let sink = SharedVec(std::sync::Arc::new(std::sync::Mutex::new(Vec::new())));
    let filter = ExportFilter { personnel_number: Some("P1".into()), include_history: true, ..Default::default() };
    let report = store.export_certificates(&filter, now(), sink.clone(), None).await.unwrap();
    assert_eq!((report.certificates, report.people, report.histories), (2, 1, 1));
    let entries = read_zip(sink.0.lock().unwrap().clone());
    let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.len(), 5, "{names:?}");
    assert!(names.contains(&"history/P1.pdf") && names.contains(&"metadata.json") && names.contains(&"metadata.csv"));
    let history = &entries.iter().find(|(n, _)| n == "history/P1.pdf").unwrap().1;
    check_pdf("training history", history, &[HOLDER, "Brandschutzhelfer", "Datenschutz im Verwaltungsalltag"]);
    let csv = String::from_utf8(entries.iter().find(|(n, _)| n == "metadata.csv").unwrap().1.clone()).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next().unwrap(), METADATA_CSV_COLUMNS.join(","));
    let first = lines.next().unwrap();
    assert!(first.starts_with(&format!("certificates/P1/2025-11-20_{}.pdf,P1,{HOLDER},Brandschutzhelfer,", older.code)), "{first}");
    assert!(first.contains(",240,4,") && first.contains(",Amt für Personalentwicklung,amt10,"), "{first}");
    // The PDFs in the export are the issued bytes.
    for (name, bytes) in entries.iter().filter(|(n, _)| n.starts_with("certificates/")) {
        let code = name.rsplit('_').next().unwrap().trim_end_matches(".pdf");
        assert_eq!(bytes, &store.certificate_pdf(code).await.unwrap(), "{name}");
    }

    // Export per period: only certificates whose last day falls into it; revoked ones left out.
    store.revoke_certificate(&issued[1].code, "Test", None, now()).await.unwrap();
    let sink = SharedVec(std::sync::Arc::new(std::sync::Mutex::new(Vec::new())));
    let filter = ExportFilter { from: Some(session_day), to: Some(session_day), ..Default::default() };
    let report = store.export_certificates(&filter, now(), sink.clone(), None).await.unwrap();
    assert_eq!((report.certificates, report.people, report.histories), (3, 3, 0));
    let bad = ExportFilter { from: Some(day(2026, 2, 1)), to: Some(day(2026, 1, 1)), ..Default::default() };
    assert!(store.export_certificates(&bad, now(), Vec::new(), None).await.is_err());
    let history_pdf = store.training_history_pdf("P1", now()).await.unwrap();
    check_pdf("training history (direct)", &history_pdf, &[HOLDER]);

    // An export with nothing in it still has both metadata files, with no records.
    let sink = SharedVec(std::sync::Arc::new(std::sync::Mutex::new(Vec::new())));
    let none = ExportFilter { from: Some(day(2020, 1, 1)), to: Some(day(2020, 1, 2)), ..Default::default() };
    assert_eq!(store.export_certificates(&none, now(), sink.clone(), None).await.unwrap().certificates, 0);
    let entries = read_zip(sink.0.lock().unwrap().clone());
    let raw = &entries.iter().find(|(n, _)| n == "metadata.json").unwrap().1;
    let json: serde_json::Value = serde_json::from_slice(raw).unwrap();
    assert_eq!(json["certificates"], serde_json::json!([]));
    assert_eq!(&serde_json::to_vec_pretty(&json).unwrap(), raw);
    let csv = &entries.iter().find(|(n, _)| n == "metadata.csv").unwrap().1;
    assert_eq!(String::from_utf8(csv.clone()).unwrap(), format!("{}\n", METADATA_CSV_COLUMNS.join(",")));
    // The metadata was spooled to scratch files; none is left behind.
    let scratch = std::fs::read_dir(store.blobs().root().join("tmp")).unwrap().count();
    assert_eq!(scratch, 0, "files left in the blob store's tmp/");
});

/// A `Write` the test can read after the store is done with it.
#[derive(Clone)]
struct SharedVec(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for SharedVec {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
