//! Preparation for storage and the output formats (`tests/data/prepare/*.json`, gold dumps in
//! `*.expected` beside them): stored JSON, index data, `format=ids`, `format=canonical`.

use chrono::DateTime;
use lms_xapi::{XapiVersion, format_canonical, format_ids, parse_accept_language, prepare_statement, prepare_statements};
use serde_json::{Value, json};

use crate::support::{check_gold, json_files, read_json};

fn authority() -> Value {
    json!({"objectType": "Agent", "name": "client-1", "account": {"homePage": "https://lms.example.org/lrs", "name": "client-1"}})
}

fn stored() -> DateTime<chrono::Utc> {
    // sub-millisecond part is cut
    DateTime::parse_from_rfc3339("2026-04-05T06:07:08.123456Z").unwrap().to_utc()
}

fn canonical_definition(id: &str) -> Option<Value> {
    (id == "http://example.com/course").then(|| {
        json!({"name": {"en-US": "Course (canonical)", "de": "Kurs (kanonisch)", "fr": "Cours"}, "type": "http://adlnet.gov/expapi/activities/course"})
    })
}

#[test]
fn prepared_statements_and_formats_match_their_gold_dumps() {
    for file in json_files("prepare") {
        let sample = read_json(&file);
        let version = XapiVersion::from_header(sample["version"].as_str().unwrap()).unwrap();
        let statement = sample["statement"].clone();
        let prepared = prepare_statement(statement, version, &authority(), stored(), || {
            uuid::Uuid::parse_str("0190a5e1-0000-7000-8000-000000000001").unwrap()
        })
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let languages = parse_accept_language(sample.get("accept_language").and_then(Value::as_str).unwrap_or(""));
        let mut dump = String::new();
        dump.push_str(&format!("== stored ({version})\n{}\n", serde_json::to_string_pretty(&prepared.json).unwrap()));
        dump.push_str(&format!("== index\n{:#?}\n", prepared.index));
        dump.push_str("== activity definitions\n");
        for (id, definition) in lms_xapi::activity_definitions(&prepared.json) {
            dump.push_str(&format!("{id} {definition}\n"));
        }
        dump.push_str(&format!("== format=ids\n{}\n", serde_json::to_string_pretty(&format_ids(&prepared.json)).unwrap()));
        dump.push_str(&format!(
            "== format=canonical, languages {languages:?}\n{}\n",
            serde_json::to_string_pretty(&format_canonical(&prepared.json, &languages, &canonical_definition)).unwrap()
        ));
        let name = file.file_name().unwrap().to_string_lossy().replace(".json", ".expected");
        check_gold(&format!("prepare/{name}"), &dump);
    }
}

#[test]
fn invalid_statements_are_not_prepared() {
    let statement = json!({"actor": {}, "verb": {"id": "http://example.com/v"}, "object": {"id": "http://example.com/a"}});
    let error = prepare_statement(statement, XapiVersion::V2_0_0, &authority(), stored(), uuid::Uuid::nil).unwrap_err();
    assert_eq!(error.path(), Some("actor"));
    let error = prepare_statement(json!({"actor": {}}), XapiVersion::V2_0_0, &authority(), stored(), uuid::Uuid::nil).unwrap_err();
    assert_eq!(error.path(), Some("verb"), "required properties are checked before their contents");
}

#[test]
fn a_batch_gets_fresh_ids_in_order_and_rejects_duplicate_ids() {
    let statement = json!({"actor": {"mbox": "mailto:a@example.com"}, "verb": {"id": "http://example.com/v"}, "object": {"id": "http://example.com/a"}});
    let mut next = 0u128;
    let prepared = prepare_statements(vec![statement.clone(), statement.clone()], XapiVersion::V2_0_0, &authority(), stored(), || {
        next += 1;
        uuid::Uuid::from_u128(next)
    })
    .unwrap();
    assert_eq!(prepared[0].index.statement_id, uuid::Uuid::from_u128(1));
    assert_eq!(prepared[1].index.statement_id, uuid::Uuid::from_u128(2));

    let mut with_id = statement.clone();
    with_id["id"] = json!("fd41c918-b88b-4b20-a0a5-a4c32391aaa0");
    let mut same_id_upper = statement;
    same_id_upper["id"] = json!("FD41C918-B88B-4B20-A0A5-A4C32391AAA0");
    let error = prepare_statements(vec![with_id, same_id_upper], XapiVersion::V2_0_0, &authority(), stored(), uuid::Uuid::nil).unwrap_err();
    assert_eq!(error.path(), Some("[1].id"));
}

#[test]
fn accept_language_is_ordered_by_quality() {
    assert_eq!(parse_accept_language("da, en-gb;q=0.8, en;q=0.7"), ["da", "en-gb", "en"]);
    assert_eq!(parse_accept_language("en;q=0.1, fr, de;q=0"), ["fr", "en"]);
    assert_eq!(parse_accept_language(""), Vec::<String>::new());
    assert_eq!(parse_accept_language("*"), ["*"]);
}

#[test]
fn numbers_come_back_exactly_as_sent() {
    // the conformance suite checks that scores keep their precision
    let text = r#"{"actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://example.com/v"},"object":{"id":"http://example.com/a"},
        "result":{"score":{"min":0.12123434,"raw":12.125,"max":45.45,"scaled":0.12123434},"extensions":{"http://example.com/x":[1e-7,123456789.123456789,0.1,2.2250738585072014e-308]}}}"#;
    let statement: Value = serde_json::from_str(text).unwrap();
    let prepared = prepare_statement(statement, XapiVersion::V2_0_0, &authority(), stored(), uuid::Uuid::nil).unwrap();
    let written = serde_json::to_string(&prepared.json["result"]).unwrap();
    assert_eq!(
        written,
        r#"{"score":{"min":0.12123434,"raw":12.125,"max":45.45,"scaled":0.12123434},"extensions":{"http://example.com/x":[1e-7,123456789.12345679,0.1,2.2250738585072014e-308]}}"#
    );
}
