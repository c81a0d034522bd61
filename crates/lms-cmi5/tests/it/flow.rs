//! One registration from start to course satisfied, compared with a gold file: every
//! statement the LMS writes (with deterministic ids and times) and the course status.
//! `UPDATE_EXPECT=1` rewrites `tests/data/flow.expected.json`.

use lms_cmi5::{LaunchMode, Registration, WaiveReason};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::*;

#[test]
fn a_registration_from_start_to_course_satisfied_matches_the_gold_file() {
    let xml = course_xml(true, &[("a", "moveOn=\"CompletedAndPassed\" masteryScore=\"0.9\"", ""), ("b", "moveOn=\"NotApplicable\"", "")])
        .replace("</courseStructure>", "")
        + "<au id=\"https://example.org/au/c\" moveOn=\"Completed\"><title><langstring lang=\"en\">C</langstring></title><description><langstring lang=\"en\">C</langstring></description><url>https://content.example.org/c/index.html</url></au></courseStructure>";
    let course = course(&xml);
    let mut ids = Ids::default();
    let mut log: Vec<Value> = Vec::new();
    let (mut registration, written) = Registration::create(&course, REGISTRATION, actor(), at(0), &mut || ids.next_id()).unwrap();
    log.push(json!({"step": "create", "written": written}));

    let launch = registration.launch(&course, &request(0, SESSION, LaunchMode::Normal), at(1), &mut || ids.next_id()).unwrap();
    log.push(json!({"step": "launch a", "url": launch.url, "launch_data": launch.launch_data, "written": launch.statements}));
    registration.learner_preferences_read(SESSION);
    let fx = Fixture { course: course.clone(), registration: registration.clone(), ids: Ids::default(), written: Vec::new(), launch_data: launch.launch_data.clone() };
    for (second, verb) in [(2, "initialized"), (3, "completed"), (4, "passed"), (5, "terminated")] {
        let mut statement = fx.statement(verb);
        if verb == "passed" {
            statement["result"]["score"] = json!({"scaled": 0.95});
            statement["context"]["extensions"]["https://w3id.org/xapi/cmi5/context/extensions/masteryscore"] = json!(0.9);
        }
        let out = registration.check_statement(&course, SESSION, &statement, at(second), &mut || ids.next_id());
        log.push(json!({"step": format!("AU a sends {verb}"), "verdict": out.as_ref().map(|_| "accepted").unwrap_or("rejected"), "written": out.unwrap_or_default()}));
    }

    let session_c = Uuid::from_u128(43);
    let launch = registration.launch(&course, &request(2, session_c, LaunchMode::Normal), at(10), &mut || ids.next_id()).unwrap();
    log.push(json!({"step": "launch c", "url": launch.url, "written": launch.statements}));
    let abandoned = registration.abandon(&course, session_c, at(20), &mut || ids.next_id()).unwrap();
    log.push(json!({"step": "abandon c", "written": [abandoned]}));
    let waived = registration.waive(&course, 2, WaiveReason::TestedOut, at(30), &mut || ids.next_id()).unwrap();
    log.push(json!({"step": "waive c", "written": waived}));
    log.push(json!({"step": "status", "status": registration.status(&course)}));

    let all: Vec<Value> = log.iter().filter_map(|s| s["written"].as_array()).flatten().cloned().collect();
    assert_valid_xapi(&all);
    assert_eq!(
        verbs(&all),
        ["launched", "satisfied:block", "launched", "abandoned", "waived", "satisfied:course"],
        "the block is satisfied right after a's passed; the course after c is waived"
    );
    let replayed = Registration::replay(&course, REGISTRATION, actor(), &all).unwrap();
    assert_eq!(replayed.status(&course).satisfied, registration.status(&course).satisfied);

    let actual = serde_json::to_string_pretty(&log).unwrap() + "\n";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/flow.expected.json");
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&path, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(expected == actual, "{} differs (rerun with UPDATE_EXPECT=1 if intended):\n{actual}", path.display());
}
