//! Launch: the course model, the launch URL, `LMS.LaunchData`, the fetch URL and the
//! learner preferences document.

use lms_cmi5::{check_learner_preferences, Cmi5Error, Course, FetchToken, LaunchMode};
use serde_json::json;

use crate::*;

#[test]
fn the_course_gets_lms_ids_that_differ_from_the_publisher_ids() {
    let course = course(&course_xml(true, &[("a", "", ""), ("b", "moveOn=\"Passed\" masteryScore=\"0.8\"", "")]));
    assert_eq!(course.activity_id, LMS_BASE);
    assert_eq!(course.blocks[0].activity_id, format!("{LMS_BASE}/block/0"));
    assert_eq!(course.blocks[0].aus, [0, 1]);
    assert_eq!(course.aus[1].activity_id, format!("{LMS_BASE}/au/1"));
    assert_eq!(course.aus[1].publisher_id, "https://example.org/au/b");
    assert_eq!(course.aus[1].blocks, [0]);
    assert_eq!(course.aus[1].mastery_score, Some(0.8));
    assert_eq!(course.content_url(0, "http://x/c/").unwrap(), "https://content.example.org/a/index.html?paramA=1&paramB=2");
    assert!(matches!(course.au(2), Err(Cmi5Error::UnknownAu { index: 2, count: 2 })));
    // Relative AU urls are joined to the content base.
    let xml = course_xml(false, &[("a", "", "")]).replace("https://content.example.org/a/index.html", "au/index.html");
    let parsed = lms_package::parse(
        &lms_package::MemorySource::new([("cmi5.xml", xml.into_bytes()), ("au/index.html", b"x".to_vec())]),
        &lms_package::ParseOptions::default(),
    );
    let course = Course::from_package(parsed.package.as_ref().unwrap(), LMS_BASE).unwrap();
    assert_eq!(course.content_url(0, "http://127.0.0.1/content/9/").unwrap(), "http://127.0.0.1/content/9/au/index.html?paramA=1&paramB=2");
    // An LMS base equal to a publisher id is refused.
    let colliding = Course::from_package(parsed.package.as_ref().unwrap(), "https://example.org/course");
    assert!(matches!(colliding, Err(Cmi5Error::GeneratedIdCollides { .. })));
}

#[test]
fn the_launch_url_carries_the_five_parameters_encoded_after_the_aus_own_query() {
    let fx = Fixture::launched(&course_xml(false, &[("a", "", "")]), LaunchMode::Normal);
    let mut ids = Ids::default();
    let mut registration = fx.registration.clone();
    let launch = registration.launch(&fx.course, &request(0, uuid::Uuid::from_u128(99), LaunchMode::Normal), at(3), &mut || ids.next_id()).unwrap();
    let url = launch.url;
    let (base, query) = url.split_once('?').unwrap();
    assert_eq!(base, "https://content.example.org/a/index.html");
    let pairs: Vec<(&str, String)> = query
        .split('&')
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap();
            (k, percent_decode(v))
        })
        .collect();
    let names: Vec<&str> = pairs.iter().map(|(k, _)| *k).collect();
    assert_eq!(names, ["paramA", "paramB", "endpoint", "fetch", "actor", "registration", "activityId"]);
    assert_eq!(pairs[2].1, "http://127.0.0.1:8080/xapi");
    assert_eq!(pairs[3].1, "http://127.0.0.1:8080/cmi5/fetch/tok123");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&pairs[4].1).unwrap(), actor());
    assert_eq!(pairs[5].1, REGISTRATION.to_string());
    assert_eq!(pairs[6].1, fx.course.aus[0].activity_id);
    assert!(!query.contains(' ') && !query.contains('{') && !query.contains('"'), "8.1.0.0-8: values are URL-encoded");
    assert_eq!(lms_cmi5::launch_url("https://x.org/a.html#top", "e", "f", &json!({}), REGISTRATION, "i").split('#').nth(1), Some("top"));
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn launch_data_holds_what_section_10_lists() {
    let xml = course_xml(
        false,
        &[("a", "moveOn=\"CompletedAndPassed\" masteryScore=\"0.9\"", "<launchParameters> sample string </launchParameters><entitlementKey>sample value</entitlementKey>")],
    );
    let fx = Fixture::launched(&xml, LaunchMode::Review);
    assert_eq!(
        fx.launch_data,
        json!({
            "contextTemplate": {
                "contextActivities": {"grouping": [{"id": "https://example.org/au/a", "objectType": "Activity"}]},
                "extensions": {"https://w3id.org/xapi/cmi5/context/extensions/sessionid": SESSION.to_string()}
            },
            "launchMode": "Review",
            "launchParameters": "sample string",
            "masteryScore": 0.9,
            "moveOn": "CompletedAndPassed",
            "returnURL": "http://127.0.0.1:8080/done",
            "entitlementKey": {"courseStructure": "sample value"}
        })
    );
    // Optional members are left out when the course structure has none.
    let fx = Fixture::launched(&course_xml(false, &[("a", "", "")]), LaunchMode::Normal);
    let keys: Vec<&String> = fx.launch_data.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["contextTemplate", "launchMode", "moveOn", "returnURL"]);
}

#[test]
fn the_fetch_url_gives_the_token_once() {
    let mut fetch = FetchToken::new("dG9rZW4=");
    assert!(!fetch.is_fetched());
    assert_eq!(fetch.fetch(true), json!({"auth-token": "dG9rZW4="}));
    assert!(fetch.is_fetched());
    let second = fetch.fetch(true);
    assert_eq!(second["error-code"], json!("1"), "8.2.3.0-1");
    assert!(second.get("auth-token").is_none());
    assert_eq!(FetchToken::new("t").fetch(false)["error-code"], json!("1"), "a closed session's fetch URL has expired");
    assert_eq!(lms_cmi5::fetch_error_unknown_token()["error-code"], json!("2"));
}

#[test]
fn learner_preferences_writes_are_checked() {
    let good = br#"{"languagePreference": "en-US,fr-FR,fr-BE", "audioPreference": "on"}"#;
    let cases: &[(Option<&str>, &[u8], Option<&str>)] = &[
        (Some("application/json"), good, None),
        (Some("application/json; charset=utf-8"), good, None),
        (None, good, Some("11.0.0.0-5 (d)")),
        (Some("text/plain"), b"just some text", Some("11.0.0.0-5 (d)")),
        (Some("application/json"), b"[1]", Some("11.0.0.0-5 (d)")),
        (Some("application/json"), br#"{"audioPreference": "on"}"#, Some("11.0.0.0-5 (d)")),
        (Some("application/json"), br#"{"languagePreference": "en"}"#, Some("11.0.0.0-5 (d)")),
        (Some("application/json"), br#"{"languagePreference": "not comma separated", "audioPreference": "on"}"#, Some("11.1.0.0-1 (d)")),
        (Some("application/json"), br#"{"languagePreference": "", "audioPreference": "on"}"#, Some("11.1.0.0-1 (d)")),
        (Some("application/json"), br#"{"languagePreference": "en", "audioPreference": "loud"}"#, Some("11.0.0.0-5 (d)")),
    ];
    for (content_type, body, expected) in cases {
        let actual = check_learner_preferences(*content_type, body).err().map(|r| {
            assert_eq!(r.status, 403);
            r.requirement
        });
        assert_eq!(actual, *expected, "{content_type:?} {}", String::from_utf8_lossy(body));
    }
    assert_eq!(check_learner_preferences(Some("application/json"), lms_cmi5::learner_preferences("en-US", false).to_string().as_bytes()), Ok(()));
}

#[test]
fn agents_match_by_account_only() {
    let other_objecttype = json!({"account": {"homePage": "https://lms.example", "name": "ann"}});
    assert!(lms_cmi5::same_agent(&actor(), &other_objecttype));
    assert!(!lms_cmi5::same_agent(&actor(), &json!({"mbox": "mailto:catapult@example.com"})));
    assert!(!lms_cmi5::same_agent(&actor(), &json!({"objectType": "Group", "account": {"homePage": "https://lms.example", "name": "ann"}})));
}

#[test]
fn durations_are_iso_8601() {
    let cases = [(0, "PT0S"), (4_000, "PT4S"), (61_500, "PT1M1.50S"), (3_723_450, "PT1H2M3.45S")];
    for (millis, expected) in cases {
        let text = lms_cmi5::format_duration(chrono::TimeDelta::milliseconds(millis));
        assert_eq!(text, expected);
        assert!(lms_xapi::syntax::is_duration(&text));
    }
}

#[test]
fn every_launch_of_an_au_in_a_registration_uses_the_same_activity_id() {
    let fx = Fixture::launched(&course_xml(false, &[("a", "", ""), ("b", "", "")]), LaunchMode::Normal);
    let mut ids = Ids::default();
    let mut registration = fx.registration.clone();
    let activity_id = |url: &str| url.rsplit("activityId=").next().unwrap().to_string();
    let first = registration.launch(&fx.course, &request(0, uuid::Uuid::from_u128(90), LaunchMode::Normal), at(3), &mut || ids.next_id()).unwrap();
    let again = registration.launch(&fx.course, &request(0, uuid::Uuid::from_u128(91), LaunchMode::Browse), at(4), &mut || ids.next_id()).unwrap();
    let other = registration.launch(&fx.course, &request(1, uuid::Uuid::from_u128(92), LaunchMode::Normal), at(5), &mut || ids.next_id()).unwrap();
    assert_eq!(activity_id(&first.url), activity_id(&again.url), "8.1.5.0-4");
    assert_ne!(activity_id(&first.url), activity_id(&other.url), "8.1.5.0-1");
    // The second launch of AU 0 abandons the first (left open), AU 1's launch abandons nothing.
    assert_eq!(verbs(&again.statements), ["abandoned", "launched"]);
    assert_eq!(verbs(&other.statements), ["launched"]);
    assert_eq!(registration.session(uuid::Uuid::from_u128(91)).unwrap().launch_mode, LaunchMode::Browse);
    assert!(!registration.session_is_open(uuid::Uuid::from_u128(90)));
}
