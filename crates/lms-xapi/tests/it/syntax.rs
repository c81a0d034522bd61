//! Lexical rules (`tests/data/syntax.json`): IRIs, mailto IRIs, UUIDs, language tags,
//! durations, timestamps per version, media types and version headers.

use lms_xapi::syntax;
use lms_xapi::XapiVersion;
use serde_json::Value;

use crate::support::{data_dir, read_json};

fn cases() -> Value {
    read_json(&data_dir().join("syntax.json"))
}

fn strings(value: &Value) -> Vec<&str> {
    value.as_array().expect("a list").iter().map(|v| v.as_str().expect("a string")).collect()
}

/// One `check` per rule: every `valid` string passes, every `invalid` one fails.
fn check(rule: &str, accepts: impl Fn(&str) -> bool) {
    let all = cases();
    let lists = &all[rule];
    let mut wrong = Vec::new();
    for text in strings(&lists["valid"]) {
        if !accepts(text) {
            wrong.push(format!("rejected valid {text:?}"));
        }
    }
    for text in strings(&lists["invalid"]) {
        if accepts(text) {
            wrong.push(format!("accepted invalid {text:?}"));
        }
    }
    assert!(wrong.is_empty(), "{rule}:\n{}", wrong.join("\n"));
}

#[test]
fn iris() {
    check("iri", syntax::is_iri);
}

#[test]
fn mailto_iris() {
    check("mailto", syntax::is_mailto_iri);
}

#[test]
fn uuids() {
    check("uuid", |text| syntax::parse_uuid(text).is_some());
}

#[test]
fn language_tags() {
    check("language_tag", syntax::is_language_tag);
}

#[test]
fn durations() {
    check("duration", syntax::is_duration);
}

#[test]
fn timestamps_2_0_are_rfc_3339() {
    check("timestamp_2_0", |text| syntax::parse_timestamp(text, XapiVersion::V2_0_0).is_some());
}

#[test]
fn timestamps_1_0_3_are_iso_8601() {
    check("timestamp_1_0_3", |text| syntax::parse_timestamp(text, XapiVersion::V1_0_3).is_some());
}

#[test]
fn media_types() {
    check("media_type", syntax::is_media_type);
}

#[test]
fn timestamps_with_offsets_name_the_same_instant() {
    for pair in cases()["same_instant"].as_array().unwrap() {
        let [a, b] = [pair[0].as_str().unwrap(), pair[1].as_str().unwrap()];
        let parsed_a = syntax::parse_timestamp(a, XapiVersion::V2_0_0).expect(a);
        let parsed_b = syntax::parse_timestamp(b, XapiVersion::V2_0_0).expect(b);
        assert_eq!(parsed_a, parsed_b, "{a} vs {b}");
    }
}

#[test]
fn nanosecond_precision_is_kept() {
    let instant = syntax::parse_timestamp("2024-12-31T23:59:59.123456789Z", XapiVersion::V2_0_0).unwrap();
    assert_eq!(instant.timestamp_subsec_nanos(), 123_456_789);
    assert_eq!(syntax::format_timestamp(instant), "2024-12-31T23:59:59.123Z");
}

#[test]
fn durations_are_truncated_to_hundredths() {
    for pair in cases()["duration_truncation"].as_array().unwrap() {
        let [input, expected] = [pair[0].as_str().unwrap(), pair[1].as_str().unwrap()];
        assert_eq!(syntax::truncate_duration(input), expected, "{input}");
    }
}

#[test]
fn version_headers() {
    let all = cases();
    let lists = &all["version_header"];
    for (key, expected) in [("1.0.3", XapiVersion::V1_0_3), ("2.0.0", XapiVersion::V2_0_0)] {
        for text in strings(&lists[key]) {
            assert_eq!(XapiVersion::from_header(text), Ok(expected), "{text:?}");
        }
    }
    for text in strings(&lists["invalid"]) {
        assert!(XapiVersion::from_header(text).is_err(), "accepted {text:?}");
    }
    assert_eq!(XapiVersion::V2_0_0.header_value(), "2.0.0");
    assert_eq!(XapiVersion::V1_0_3.to_string(), "1.0.3");
}

#[test]
fn statement_version_property_per_version() {
    assert!(XapiVersion::V1_0_3.accepts_statement_version("1.0.9"));
    assert!(!XapiVersion::V1_0_3.accepts_statement_version("2.0.0"));
    assert!(XapiVersion::V2_0_0.accepts_statement_version("2.0.0"));
    assert!(XapiVersion::V2_0_0.accepts_statement_version("1.0"));
    assert!(!XapiVersion::V2_0_0.accepts_statement_version("2.1.0"));
    assert_eq!(XapiVersion::V1_0_3.default_statement_version(), "1.0.0");
    assert_eq!(XapiVersion::V2_0_0.default_statement_version(), "2.0.0");
}
