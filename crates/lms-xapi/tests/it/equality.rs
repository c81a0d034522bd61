//! Statement equivalence (`tests/data/equality.json`): each case edits `statements/base.json`
//! into `a` and `b` and says whether the two are the same statement (204) or not (409).

use lms_xapi::{XapiVersion, statements_equivalent, validate_statement};
use serde_json::Value;

use crate::support::{data_dir, read_json, remove_path, set_path};

fn edited(base: &Value, edits: Option<&Value>, removals: Option<&Value>) -> Value {
    let mut statement = base.clone();
    if let Some(paths) = removals.and_then(Value::as_array) {
        for path in paths {
            remove_path(&mut statement, path.as_str().unwrap());
        }
    }
    if let Some(edits) = edits.and_then(Value::as_object) {
        for (path, value) in edits {
            set_path(&mut statement, path, value.clone());
        }
    }
    statement
}

#[test]
fn statement_equivalence_rules() {
    let base = read_json(&data_dir().join("statements/base.json"));
    let cases = read_json(&data_dir().join("equality.json"));
    let mut wrong = Vec::new();
    for case in cases.as_array().unwrap() {
        let rule = case["rule"].as_str().unwrap();
        let a = edited(&base, case.get("a_set"), None);
        let b = edited(&base, case.get("b_set"), case.get("b_remove"));
        for (name, statement) in [("a", &a), ("b", &b)] {
            validate_statement(statement, XapiVersion::V2_0_0).unwrap_or_else(|e| panic!("{rule}: {name} is not valid: {e}"));
        }
        let expected = case["equivalent"].as_bool().unwrap();
        for (left, right) in [(&a, &b), (&b, &a)] {
            if statements_equivalent(left, right) != expected {
                wrong.push(format!("{rule}: expected equivalent = {expected}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(cases.as_array().unwrap().len() >= 40);
}

#[test]
fn a_prepared_statement_equals_what_was_sent() {
    // the stored form (id, stored, authority, version, timestamp, arrays) is still the same statement
    let base = read_json(&data_dir().join("statements/valid_full.json"));
    let prepared = lms_xapi::prepare_statement(
        base.clone(),
        XapiVersion::V2_0_0,
        &serde_json::json!({"mbox": "mailto:lrs@example.com"}),
        chrono::DateTime::UNIX_EPOCH,
        uuid::Uuid::nil,
    )
    .unwrap();
    assert!(statements_equivalent(&base, &prepared.json));
    let mut without_timestamp = base.clone();
    without_timestamp.as_object_mut().unwrap().remove("timestamp");
    let prepared = lms_xapi::prepare_statement(
        without_timestamp.clone(),
        XapiVersion::V2_0_0,
        &serde_json::json!({"mbox": "mailto:lrs@example.com"}),
        chrono::DateTime::UNIX_EPOCH,
        uuid::Uuid::nil,
    )
    .unwrap();
    // the LRS filled in timestamp = stored: re-sending the statement without timestamp is no conflict
    assert_eq!(prepared.json["timestamp"], "1970-01-01T00:00:00.000Z");
    assert!(statements_equivalent(&without_timestamp, &prepared.json));
}
