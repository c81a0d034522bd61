//! The ADL SCORM 2004 4th Edition CTS run-time areas, every scripted step.

use std::path::PathBuf;

fn courses() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/adl-scorm2004-cts/LMSRTE/Courses");
    if dir.join("TestCases").is_dir() {
        return Some(dir);
    }
    eprintln!(
        "!!! SCORM CTS corpus missing at {} — run-time conformance NOT checked",
        dir.display()
    );
    assert!(
        std::env::var_os("CI").is_none(),
        "the SCORM CTS corpus is missing and CI is set"
    );
    None
}

fn check(case: &str, expected_min_steps: usize) {
    let Some(courses) = courses() else { return };
    let run = lms_cts::runtime::run_case(&courses, case).unwrap();
    assert!(
        run.steps.len() >= expected_min_steps,
        "{case}: only {} steps driven",
        run.steps.len()
    );
    let failures: Vec<String> = run
        .steps
        .iter()
        .filter(|s| !s.passed)
        .map(|s| {
            format!(
                "{} Act{}V{} #{} {}: expected {:?}/{:?}, got {:?}/{}",
                s.package,
                s.activity,
                s.visit,
                s.index,
                s.call,
                s.expected,
                s.expected_error,
                s.got,
                s.got_error
            )
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{case}: {} of {} steps failed:\n{}",
        failures.len(),
        run.steps.len(),
        failures.join("\n")
    );
}

#[test]
fn api() {
    check("API", 29);
}

#[test]
fn data_model_behaviour() {
    check("DMB", 200);
}

#[test]
fn data_model_shared_data() {
    check("DDM", 100);
}

#[test]
fn data_model_implementation() {
    check("DMI", 8000);
}
