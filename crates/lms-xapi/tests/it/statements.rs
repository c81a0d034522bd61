//! Statement validation cases: `tests/data/statements/{valid,invalid}/*.json`.
//!
//! Each file is an array of cases. A case names the `requirement` it checks and either gives a
//! full `statement` or edits `base.json` with `remove` (dotted paths) and `set` (dotted path →
//! value). `versions` restricts it to `["1.0.3"]` or `["2.0.0"]` (default: both).
//! `also_substatement: true` runs the same edits a second time inside a SubStatement (the
//! expected path then starts with `object.`). Invalid cases give the expected error `path`; all
//! error messages are kept in `invalid.expected`.

use lms_xapi::{XapiError, XapiVersion, validate_statement};
use serde_json::{Value, json};

use crate::support::{check_gold, data_dir, json_files, read_json, remove_path, set_path, versions_of};

struct Built {
    statement: Value,
    label: String,
    expected_path: Option<String>,
}

fn build_all(case: &Value, base: &Value, file: &str) -> Vec<Built> {
    let requirement = case["requirement"].as_str().unwrap_or_else(|| panic!("{file}: case without requirement: {case}"));
    let mut variants = vec![false];
    if case.get("also_substatement").and_then(Value::as_bool) == Some(true) {
        variants.push(true);
    }
    variants
        .into_iter()
        .map(|in_substatement| {
            let mut statement = case.get("statement").cloned().unwrap_or_else(|| base.clone());
            if in_substatement {
                let substatement = json!({
                    "objectType": "SubStatement",
                    "actor": base["actor"],
                    "verb": base["verb"],
                    "object": base["object"],
                });
                statement["object"] = substatement;
            }
            let target = if in_substatement { &mut statement["object"] } else { &mut statement };
            if let Some(paths) = case.get("remove").and_then(Value::as_array) {
                for path in paths {
                    remove_path(target, path.as_str().unwrap());
                }
            }
            if let Some(edits) = case.get("set").and_then(Value::as_object) {
                for (path, value) in edits {
                    set_path(target, path, value.clone());
                }
            }
            let expected_path = case.get("path").and_then(Value::as_str).map(|path| {
                if in_substatement {
                    if path.is_empty() { "object".to_owned() } else { format!("object.{path}") }
                } else {
                    path.to_owned()
                }
            });
            let label = format!("{file}: {requirement}{}", if in_substatement { " (in a SubStatement)" } else { "" });
            Built { statement, label, expected_path }
        })
        .collect()
}

fn version_label(version: XapiVersion) -> &'static str {
    version.header_value()
}

#[test]
fn valid_statements_are_accepted() {
    let base = read_json(&data_dir().join("statements/base.json"));
    let mut count = 0;
    let mut failures = Vec::new();
    for file in json_files("statements/valid") {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        for case in read_json(&file).as_array().expect("a file holds an array of cases") {
            for built in build_all(case, &base, &name) {
                for version in versions_of(case) {
                    count += 1;
                    if let Err(error) = validate_statement(&built.statement, version) {
                        failures.push(format!("{} [{}]: rejected: {error}", built.label, version_label(version)));
                        continue;
                    }
                    if let Err(problem) = stored_copy_holds(&built.statement, version) {
                        failures.push(format!("{} [{}]: {problem}", built.label, version_label(version)));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {count} valid cases failed:\n{}", failures.len(), failures.join("\n"));
    assert!(count >= 100, "only {count} valid cases");
}

/// An accepted statement is prepared, its stored copy is the same statement, and the `ids` and
/// `canonical` forms of it are valid statements too.
fn stored_copy_holds(statement: &Value, version: XapiVersion) -> Result<(), String> {
    let authority = json!({"account": {"homePage": "https://lms.example.org", "name": "client"}});
    let prepared = lms_xapi::prepare_statement(statement.clone(), version, &authority, chrono::DateTime::UNIX_EPOCH, uuid::Uuid::nil)
        .map_err(|e| format!("not prepared: {e}"))?;
    if !lms_xapi::statements_equivalent(statement, &prepared.json) {
        return Err("the stored copy is not equivalent to what was sent".into());
    }
    validate_statement(&prepared.json, version).map_err(|e| format!("the stored copy is invalid: {e}"))?;
    validate_statement(&lms_xapi::format_ids(&prepared.json), version).map_err(|e| format!("format=ids: {e}"))?;
    let canonical = lms_xapi::format_canonical(&prepared.json, &["fr".to_owned(), "en".to_owned()], &|_| None);
    validate_statement(&canonical, version).map_err(|e| format!("format=canonical: {e}"))?;
    Ok(())
}

#[test]
fn invalid_statements_are_rejected_with_the_right_path() {
    let base = read_json(&data_dir().join("statements/base.json"));
    let mut count = 0;
    let mut failures = Vec::new();
    let mut dump = String::new();
    for file in json_files("statements/invalid") {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        for case in read_json(&file).as_array().expect("a file holds an array of cases") {
            for built in build_all(case, &base, &name) {
                let expected_path = built.expected_path.clone().unwrap_or_else(|| panic!("{}: no expected path", built.label));
                for version in versions_of(case) {
                    count += 1;
                    let label = format!("{} [{}]", built.label, version_label(version));
                    match validate_statement(&built.statement, version) {
                        Ok(()) => failures.push(format!("{label}: accepted")),
                        Err(XapiError::Invalid { path, reason }) => {
                            if path != expected_path {
                                failures.push(format!("{label}: error at {path:?} ({reason}), expected at {expected_path:?}"));
                            }
                            dump.push_str(&format!("{label}\n    {path}: {reason}\n"));
                        }
                        Err(other) => failures.push(format!("{label}: unexpected error kind {other:?}")),
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {count} invalid cases failed:\n{}", failures.len(), failures.join("\n"));
    assert!(count >= 200, "only {count} invalid cases");
    check_gold("statements/invalid.expected", &dump);
}

/// Hostile input never panics: every prefix of a statement's JSON text, and every value
/// replaced by each JSON type, gets an answer.
#[test]
fn mangled_statements_never_panic() {
    let base = read_json(&data_dir().join("statements/valid_full.json"));
    let replacements = [json!(null), json!(true), json!(-1.5), json!("x"), json!([]), json!({}), json!([{}]), json!({"id": null})];
    let mut paths = Vec::new();
    collect_paths(&base, String::new(), &mut paths);
    let mut rejected = 0;
    for path in &paths {
        for replacement in &replacements {
            let mut statement = base.clone();
            set_path(&mut statement, path, replacement.clone());
            for version in [XapiVersion::V1_0_3, XapiVersion::V2_0_0] {
                if validate_statement(&statement, version).is_err() {
                    rejected += 1;
                    continue;
                }
                // whatever is accepted survives preparation and the output formats, and the
                // stored copy is still the same statement
                let prepared = lms_xapi::prepare_statement(
                    statement.clone(),
                    version,
                    &json!({"mbox": "mailto:lrs@example.com"}),
                    chrono::DateTime::UNIX_EPOCH,
                    uuid::Uuid::nil,
                )
                .unwrap_or_else(|e| panic!("{path} = {replacement}: validated but not prepared: {e}"));
                assert!(
                    lms_xapi::statements_equivalent(&statement, &prepared.json),
                    "{path} = {replacement}: the stored copy differs from what was sent"
                );
                lms_xapi::validate_statement(&lms_xapi::format_ids(&prepared.json), version)
                    .unwrap_or_else(|e| panic!("{path} = {replacement}: format=ids output is invalid: {e}"));
                let canonical = lms_xapi::format_canonical(&prepared.json, &["de".to_owned()], &|_| None);
                lms_xapi::validate_statement(&canonical, version)
                    .unwrap_or_else(|e| panic!("{path} = {replacement}: format=canonical output is invalid: {e}"));
            }
        }
    }
    assert!(paths.len() > 50, "too few paths: {}", paths.len());
    assert!(rejected > paths.len(), "mangling should be rejected most of the time: {rejected}");
}

fn collect_paths(value: &Value, prefix: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if key.contains('.') || key.contains('[') {
                    continue;
                }
                let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                out.push(path.clone());
                collect_paths(child, path, out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let path = format!("{prefix}[{i}]");
                out.push(path.clone());
                collect_paths(child, path, out);
            }
        }
        _ => {}
    }
}

#[test]
fn the_full_sample_is_valid_in_both_versions() {
    let statement = read_json(&data_dir().join("statements/valid_full.json"));
    for version in [XapiVersion::V1_0_3, XapiVersion::V2_0_0] {
        validate_statement(&statement, version).unwrap_or_else(|e| panic!("{version}: {e}"));
    }
}

#[test]
fn batch_errors_name_the_statement_index() {
    let base = read_json(&data_dir().join("statements/base.json"));
    let mut bad = base.clone();
    bad["verb"]["id"] = json!("not an iri");
    let error = lms_xapi::validate_statements(&[base.clone(), base, bad], XapiVersion::V2_0_0).unwrap_err();
    assert_eq!(error.path(), Some("[2].verb.id"));
}
