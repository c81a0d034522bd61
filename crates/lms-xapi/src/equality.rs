//! Statement equivalence for the immutability rule and for signed statements.
//!
//! A statement id can only ever name one statement. When a client sends a statement whose id
//! is already stored, the LRS answers `204 No Content` if the two are the same statement and
//! `409 Conflict` otherwise. "The same" is decided by [`statements_equivalent`], following the
//! xAPI text (1.0.3 §2.3 "Statement Comparison Requirements", 2.0.0 §2.2.4 / §4.2.7):
//!
//! May differ (ignored):
//! * `authority`, `stored` and `version`: the LRS sets or may set them;
//! * `id` when only one side has it (a signed statement's JWS payload may lack it);
//! * `timestamp` when only one side has it (the LRS fills a missing timestamp in with `stored`,
//!   so a re-sent statement without one matches the stored copy);
//! * how a `timestamp` is written, when it names the same instant
//!   (`2020-01-01T12:00:00Z` = `2020-01-01T13:00:00+01:00` = `2020-01-01T12:00:00.000Z`);
//! * `result.duration` beyond hundredths of a second (2.0.0 §4.2.7: precision beyond 0.01 s is
//!   not compared);
//! * the order of a Group's `member` list and of the `attachments` list;
//! * a single context activity versus a one-element array (`parent: {…}` = `parent: [{…}]`),
//!   and omitted default `objectType`s (`Agent` for actors, `Activity` for objects and context
//!   activities);
//! * the case of things the specs declare case-insensitive: language tags (map keys and
//!   `context.language`), UUIDs (`registration`, StatementRef ids), hex digests
//!   (`mbox_sha1sum`, attachment `sha2`);
//! * how a number is written (`1` = `1.0`).
//!
//! Must be equal: everything else, compared as JSON. IRIs are compared as simple strings
//! (RFC 3987 §5.3.1), so `http://a/../b` and `http://b` differ; `mbox` values are compared as
//! given (the `mailto:` scheme must be lower case anyway); a Group `member` is a multiset.

use serde_json::{Map, Value};

use crate::{XapiVersion, syntax};

/// Whether two (valid) statements are the same statement under the rules above.
pub fn statements_equivalent(a: &Value, b: &Value) -> bool {
    let (Some(map_a), Some(map_b)) = (a.as_object(), b.as_object()) else { return a == b };
    let both = |key: &str| map_a.contains_key(key) && map_b.contains_key(key);
    let options = Compare { ids: both("id"), timestamps: both("timestamp") };
    normalize_statement(map_a, true, options) == normalize_statement(map_b, true, options)
}

/// Which top-level properties take part in the comparison.
#[derive(Clone, Copy)]
struct Compare {
    ids: bool,
    timestamps: bool,
}

fn normalize_statement(map: &Map<String, Value>, top_level: bool, compare: Compare) -> Value {
    let mut out = Map::new();
    for (key, value) in map {
        let normalized = match key.as_str() {
            "authority" | "stored" | "version" if top_level => continue,
            "id" if top_level && !compare.ids => continue,
            "timestamp" if top_level && !compare.timestamps => continue,
            "id" => Value::String(value.as_str().unwrap_or_default().to_ascii_lowercase()),
            "actor" => normalize_actor(value),
            "verb" => normalize_verb(value),
            "object" => normalize_object(value),
            "result" => normalize_result(value),
            "context" => normalize_context(value),
            "timestamp" => normalize_timestamp(value),
            "attachments" => normalize_attachments(value),
            _ => normalize_numbers(value),
        };
        out.insert(key.clone(), normalized);
    }
    if !top_level {
        out.insert("objectType".into(), "SubStatement".into());
    }
    Value::Object(out)
}

fn normalize_timestamp(value: &Value) -> Value {
    match value.as_str().and_then(|text| syntax::parse_timestamp(text, XapiVersion::V1_0_3)) {
        Some(instant) => Value::String(instant.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)),
        None => value.clone(),
    }
}

fn normalize_actor(value: &Value) -> Value {
    let Some(map) = value.as_object() else { return value.clone() };
    let mut out = Map::new();
    out.insert("objectType".into(), Value::from("Agent"));
    for (key, child) in map {
        let normalized = match key.as_str() {
            "mbox_sha1sum" => Value::String(child.as_str().unwrap_or_default().to_ascii_lowercase()),
            "member" => sorted(child.as_array().map(|m| m.iter().map(normalize_actor).collect()).unwrap_or_default()),
            _ => child.clone(),
        };
        out.insert(key.clone(), normalized);
    }
    Value::Object(out)
}

fn normalize_verb(value: &Value) -> Value {
    let Some(map) = value.as_object() else { return value.clone() };
    let mut out = Map::new();
    for (key, child) in map {
        let normalized = if key == "display" { normalize_language_map(child) } else { child.clone() };
        out.insert(key.clone(), normalized);
    }
    Value::Object(out)
}

fn normalize_object(value: &Value) -> Value {
    let Some(map) = value.as_object() else { return value.clone() };
    match map.get("objectType").and_then(Value::as_str) {
        Some("Agent" | "Group") => normalize_actor(value),
        Some("SubStatement") => normalize_statement(map, false, Compare { ids: true, timestamps: true }),
        Some("StatementRef") => normalize_statement_ref(map),
        _ => normalize_activity(map),
    }
}

fn normalize_statement_ref(map: &Map<String, Value>) -> Value {
    let mut out = Map::new();
    out.insert("objectType".into(), "StatementRef".into());
    if let Some(id) = map.get("id").and_then(Value::as_str) {
        out.insert("id".into(), Value::String(id.to_ascii_lowercase()));
    }
    Value::Object(out)
}

fn normalize_activity(map: &Map<String, Value>) -> Value {
    let mut out = Map::new();
    out.insert("objectType".into(), "Activity".into());
    for (key, child) in map {
        let normalized = match (key.as_str(), child.as_object()) {
            ("definition", Some(definition)) => {
                let mut normalized_definition = Map::new();
                for (k, v) in definition {
                    let n = match k.as_str() {
                        "name" | "description" => normalize_language_map(v),
                        "extensions" => normalize_numbers(v),
                        "choices" | "scale" | "source" | "target" | "steps" => Value::Array(
                            v.as_array()
                                .map(|components| {
                                    components
                                        .iter()
                                        .map(|c| match c.as_object() {
                                            Some(c) => Value::Object(
                                                c.iter()
                                                    .map(|(ck, cv)| {
                                                        let cv = if ck == "description" { normalize_language_map(cv) } else { cv.clone() };
                                                        (ck.clone(), cv)
                                                    })
                                                    .collect(),
                                            ),
                                            None => c.clone(),
                                        })
                                        .collect()
                                })
                                .unwrap_or_default(),
                        ),
                        _ => v.clone(),
                    };
                    normalized_definition.insert(k.clone(), n);
                }
                Value::Object(normalized_definition)
            }
            _ => child.clone(),
        };
        out.insert(key.clone(), normalized);
    }
    Value::Object(out)
}

fn normalize_result(value: &Value) -> Value {
    let Some(map) = value.as_object() else { return value.clone() };
    let mut out = Map::new();
    for (key, child) in map {
        let normalized = match (key.as_str(), child.as_str()) {
            ("duration", Some(duration)) => Value::String(syntax::truncate_duration(duration).into_owned()),
            _ => normalize_numbers(child),
        };
        out.insert(key.clone(), normalized);
    }
    Value::Object(out)
}

fn normalize_context(value: &Value) -> Value {
    let Some(map) = value.as_object() else { return value.clone() };
    let mut out = Map::new();
    for (key, child) in map {
        let normalized = match key.as_str() {
            "registration" | "language" => Value::String(child.as_str().unwrap_or_default().to_ascii_lowercase()),
            "statement" => child.as_object().map(normalize_statement_ref).unwrap_or_else(|| child.clone()),
            "instructor" | "team" => normalize_actor(child),
            "contextActivities" => match child.as_object() {
                Some(lists) => Value::Object(
                    lists
                        .iter()
                        .map(|(k, list)| {
                            let items = match list {
                                Value::Array(items) => items.as_slice(),
                                single => std::slice::from_ref(single),
                            };
                            let normalized_items = items
                                .iter()
                                .map(|a| a.as_object().map(normalize_activity).unwrap_or_else(|| a.clone()))
                                .collect();
                            (k.clone(), Value::Array(normalized_items))
                        })
                        .collect(),
                ),
                None => child.clone(),
            },
            "contextAgents" | "contextGroups" => Value::Array(
                child
                    .as_array()
                    .map(|entries| {
                        entries
                            .iter()
                            .map(|entry| match entry.as_object() {
                                Some(entry) => Value::Object(
                                    entry
                                        .iter()
                                        .map(|(k, v)| {
                                            let v = if k == "agent" || k == "group" { normalize_actor(v) } else { v.clone() };
                                            (k.clone(), v)
                                        })
                                        .collect(),
                                ),
                                None => entry.clone(),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
            _ => normalize_numbers(child),
        };
        out.insert(key.clone(), normalized);
    }
    Value::Object(out)
}

fn normalize_attachments(value: &Value) -> Value {
    let Some(list) = value.as_array() else { return value.clone() };
    sorted(
        list.iter()
            .map(|attachment| match attachment.as_object() {
                Some(map) => Value::Object(
                    map.iter()
                        .map(|(k, v)| {
                            let v = match k.as_str() {
                                "display" | "description" => normalize_language_map(v),
                                "sha2" => Value::String(v.as_str().unwrap_or_default().to_ascii_lowercase()),
                                _ => normalize_numbers(v),
                            };
                            (k.clone(), v)
                        })
                        .collect(),
                ),
                None => attachment.clone(),
            })
            .collect(),
    )
}

fn normalize_language_map(value: &Value) -> Value {
    match value.as_object() {
        Some(map) => Value::Object(map.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone())).collect()),
        None => value.clone(),
    }
}

/// Numbers as f64 so that `1` and `1.0` compare equal; maps compare regardless of key order.
fn normalize_numbers(value: &Value) -> Value {
    match value {
        Value::Number(number) => number
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .unwrap_or_else(|| value.clone()),
        Value::Array(items) => Value::Array(items.iter().map(normalize_numbers).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), normalize_numbers(v))).collect()),
        other => other.clone(),
    }
}

/// Sort a list by its JSON text with sorted keys, so that two orderings of the same multiset
/// compare equal.
fn sorted(mut items: Vec<Value>) -> Value {
    items.sort_by_cached_key(|item| {
        let mut text = String::new();
        write_sorted(item, &mut text);
        text
    });
    Value::Array(items)
}

fn write_sorted(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for key in keys {
                out.push_str(&Value::from(key.as_str()).to_string());
                out.push(':');
                write_sorted(&map[key], out);
                out.push(',');
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for item in items {
                write_sorted(item, out);
                out.push(',');
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}
