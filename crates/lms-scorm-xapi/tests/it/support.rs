//! Shared helpers: data files, gold-file comparison, the fixed test context, validation.

use std::path::{Path, PathBuf};

use lms_scorm_xapi::{InteractionVerb, LearnerAccount, ScormContext, ScormVersion, course_iri, sco_iri};
use lms_xapi::XapiVersion;
use serde_json::Value;
use uuid::Uuid;

pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Compares `actual` with the gold file at `path`; with `UPDATE_EXPECT=1` rewrites it.
pub fn check_gold(path: &Path, actual: &str) {
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(path, actual).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    let expected = std::fs::read_to_string(path)
        .unwrap_or_else(|_| panic!("gold file {} is missing; run with UPDATE_EXPECT=1", path.display()));
    if expected != actual {
        let first_difference = expected
            .lines()
            .zip(actual.lines())
            .enumerate()
            .find(|(_, (e, a))| e != a)
            .map(|(i, (e, a))| format!("line {}:\n  expected: {e}\n  actual:   {a}", i + 1))
            .unwrap_or_else(|| "the files differ in length".into());
        panic!("{} differs from the output (UPDATE_EXPECT=1 refreshes it)\n{first_difference}", path.display());
    }
}

pub const LMS: &str = "https://lms.example.com";
pub const PERSONNEL_NUMBER: &str = "P-004711";

pub fn registration() -> Uuid {
    Uuid::from_u128(0x5c0a_1e55_0000_4000_8000_0000_0000_0042)
}

/// The context every test starts from; cases override titles, ids and the interaction verb.
pub fn context(version: ScormVersion, package_id: &str, item: &str) -> ScormContext {
    let course = course_iri(LMS, package_id).unwrap();
    ScormContext {
        learner: LearnerAccount { home_page: LMS.into(), name: PERSONNEL_NUMBER.into() },
        registration: registration(),
        sco_iri: sco_iri(&course, item),
        course_iri: course,
        course_title: None,
        sco_title: item.into(),
        attempt: 1,
        version,
        language: "en-US".into(),
        interaction_verb: InteractionVerb::Responded,
    }
}

/// Statement ids 00000000-0000-0000-0000-000000000001, …02, … in call order.
pub fn counter_ids() -> impl FnMut() -> Uuid {
    let mut n = 0u128;
    move || {
        n += 1;
        Uuid::from_u128(n)
    }
}

/// Panics unless the statement is valid under both xAPI versions.
pub fn assert_valid(statement: &Value, what: &str) {
    for version in [XapiVersion::V1_0_3, XapiVersion::V2_0_0] {
        if let Err(error) = lms_xapi::validate_statement(statement, version) {
            panic!("{what}: invalid under xAPI {}: {error}\n{statement:#}", version.header_value());
        }
    }
}
