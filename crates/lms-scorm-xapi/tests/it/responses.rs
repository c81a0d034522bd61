//! SCORM response formats → xAPI, one row per case in `tests/data/responses.json`:
//! `[version, interaction type or null, "response" | "pattern", SCORM text, expected xAPI text]`.

use lms_rte::interaction::InteractionType;
use lms_scorm_xapi::ScormVersion;
use lms_scorm_xapi::responses::{xapi_pattern, xapi_response};
use serde_json::Value;

use crate::support::{data_dir, read_json};

fn check(row: &Value) -> Result<(), String> {
    let fields: Vec<&Value> = row.as_array().ok_or("row is not an array")?.iter().collect();
    let [version, kind, what, scorm, expected] = fields[..] else { return Err("row needs 5 fields".into()) };
    let version = match version.as_str() {
        Some("1.2") => ScormVersion::Scorm12,
        Some("2004") => ScormVersion::Scorm2004,
        _ => return Err("version must be \"1.2\" or \"2004\"".into()),
    };
    let kind = match kind.as_str() {
        None => None,
        Some(text) => Some(InteractionType::parse_2004(text).ok_or(format!("unknown type {text}"))?),
    };
    let scorm = scorm.as_str().ok_or("SCORM text")?;
    let expected = expected.as_str().ok_or("expected text")?;
    let actual = match what.as_str() {
        Some("response") => xapi_response(version, kind, scorm),
        Some("pattern") => xapi_pattern(version, kind.ok_or("a pattern needs a type")?, scorm),
        _ => return Err("kind must be response or pattern".into()),
    };
    if actual == expected { Ok(()) } else { Err(format!("got {actual:?}, expected {expected:?}")) }
}

#[test]
fn response_formats_convert_as_the_table_says() {
    let table = read_json(&data_dir().join("responses.json"));
    let rows = table.as_array().expect("an array of rows");
    assert!(rows.len() >= 30, "the table lost rows");
    let failures: Vec<String> = rows
        .iter()
        .filter_map(|row| check(row).err().map(|error| format!("{row}: {error}")))
        .collect();
    assert!(failures.is_empty(), "{} of {} rows fail:\n{}", failures.len(), rows.len(), failures.join("\n"));
}
