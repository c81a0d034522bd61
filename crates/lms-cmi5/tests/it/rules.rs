//! Statement rules: a session state (verbs already sent), one statement (altered), and the
//! expected verdict: accepted or rejected with a requirement id. The cases follow what the
//! run-time packages of ADL's cmi5 LMS test suite send.

use lms_cmi5::LaunchMode;
use serde_json::{json, Value};

use crate::*;

const MASTERY: &str = "moveOn=\"CompletedAndPassed\" masteryScore=\"0.9\"";
const EXT_MASTERY: &str = "https://w3id.org/xapi/cmi5/context/extensions/masteryscore";
const EXT_SESSION: &str = "https://w3id.org/xapi/cmi5/context/extensions/sessionid";

struct Case {
    name: &'static str,
    /// Launch mode of the session.
    mode: LaunchMode,
    /// Statements accepted first (verbs), after which the case's statement is sent.
    before: &'static [&'static str],
    verb: &'static str,
    alter: fn(&mut Value),
    /// `None` = accepted; `Some(id)` = rejected citing `id`.
    expect: Option<&'static str>,
}

const fn case(
    name: &'static str,
    before: &'static [&'static str],
    verb: &'static str,
    alter: fn(&mut Value),
    expect: Option<&'static str>,
) -> Case {
    Case { name, mode: LaunchMode::Normal, before, verb, alter, expect }
}

fn keep(_: &mut Value) {}

fn with_score(st: &mut Value, scaled: f64) {
    st["result"]["score"] = json!({"scaled": scaled, "raw": scaled * 100.0, "min": 0, "max": 100});
    st["context"]["extensions"][EXT_MASTERY] = json!(0.9);
}

const INIT: &[&str] = &["initialized"];

fn cases() -> Vec<Case> {
    vec![
        case("initialized first", &[], "initialized", keep, None),
        case("statement before initialized", &[], "experienced", keep, Some("9.3.0.0-4 (d2)")),
        case("completed before initialized", &[], "completed", keep, Some("9.3.0.0-4 (d2)")),
        case("allowed statement after initialized", INIT, "experienced", keep, None),
        case("no id", INIT, "experienced", |s| drop(s.as_object_mut().unwrap().remove("id")), Some("9.1.0.0-1 (d)")),
        case("no timestamp", INIT, "experienced", |s| drop(s.as_object_mut().unwrap().remove("timestamp")), Some("9.7.0.0-1 (d)")),
        case(
            "timestamp not in UTC",
            INIT,
            "experienced",
            |s| s["timestamp"] = json!("2026-11-22T20:00:00.000-06:00"),
            Some("9.7.0.0-2 (d)"),
        ),
        case("timestamp with +00:00", INIT, "experienced", |s| s["timestamp"] = json!("2026-11-22T20:00:00+00:00"), None),
        case(
            "voiding statement",
            INIT,
            "experienced",
            |s| {
                s["verb"]["id"] = json!("http://adlnet.gov/expapi/verbs/voided");
                s["object"] = json!({"objectType": "StatementRef", "id": "00000000-0000-0000-0000-000000000abc"});
            },
            Some("6.3.0.0-1"),
        ),
        case("actor is a Group", INIT, "passed", |s| s["actor"]["objectType"] = json!("Group"), Some("9.2.0.0-2")),
        case(
            "actor identified by mbox",
            INIT,
            "passed",
            |s| {
                let actor = s["actor"].as_object_mut().unwrap();
                actor.remove("account");
                actor.insert("mbox".into(), json!("mailto:catapult@example.com"));
            },
            Some("9.2.0.0-3"),
        ),
        case("another learner", INIT, "experienced", |s| s["actor"]["account"]["name"] = json!("bob"), Some("8.1.3.0-3 (d)")),
        case("initialized twice", INIT, "initialized", keep, Some("9.3.2.0-3 (d)")),
        case("object is not the activityId", INIT, "passed", |s| s["object"]["id"] = json!("http://example.com/not/the/lms/id"), Some("8.1.5.0-6 (d)")),
        case("object is the publisher id", INIT, "completed", |s| s["object"]["id"] = json!("https://example.org/au/a"), Some("8.1.5.0-6 (d)")),
        case("no context", INIT, "passed", |s| drop(s.as_object_mut().unwrap().remove("context")), Some("9.6.0.0-1 (d)")),
        case(
            "no registration",
            INIT,
            "passed",
            |s| drop(s["context"].as_object_mut().unwrap().remove("registration")),
            Some("9.6.1.0-1 (d)"),
        ),
        case(
            "another registration",
            INIT,
            "passed",
            |s| s["context"]["registration"] = json!("ccaf384c-f8d4-4e7a-8304-49af58f0b176"),
            Some("9.6.1.0-1 (d)"),
        ),
        case(
            "allowed statement with another registration",
            INIT,
            "experienced",
            |s| s["context"]["registration"] = json!("ccaf384c-f8d4-4e7a-8304-49af58f0b176"),
            Some("8.1.4.0-3 (d)"),
        ),
        case(
            "publisher id missing from grouping",
            INIT,
            "completed",
            |s| s["context"]["contextActivities"]["grouping"] = json!([]),
            Some("9.6.2.0-1 (d)"),
        ),
        case(
            "allowed statement without the context template's grouping",
            INIT,
            "experienced",
            |s| drop(s["context"]["contextActivities"].as_object_mut().unwrap().remove("grouping")),
            Some("10.2.1.0-6 (d)"),
        ),
        case("passed with result.completion", INIT, "passed", |s| s["result"]["completion"] = json!(true), Some("9.5.3.0-2 (d)")),
        case("completed with result.success", INIT, "completed", |s| s["result"]["success"] = json!(true), Some("9.5.2.0-3 (d)")),
        case(
            "completed without result.completion",
            INIT,
            "completed",
            |s| drop(s["result"].as_object_mut().unwrap().remove("completion")),
            Some("9.5.3.0-1 (d1)"),
        ),
        case("completed with result.completion false", INIT, "completed", |s| s["result"]["completion"] = json!(false), Some("9.5.3.0-1 (d1)")),
        case(
            "completed with a score",
            INIT,
            "completed",
            |s| s["result"]["score"] = json!({"raw": 50, "scaled": 0.5, "min": 0, "max": 100}),
            Some("9.5.1.0-2 (d)"),
        ),
        case("terminated without result", INIT, "terminated", |s| drop(s.as_object_mut().unwrap().remove("result")), Some("9.5.4.1-1 (d)")),
        case(
            "completed without duration",
            INIT,
            "completed",
            |s| drop(s["result"].as_object_mut().unwrap().remove("duration")),
            Some("9.5.4.1-2 (d)"),
        ),
        case("passed without duration", INIT, "passed", |s| drop(s["result"].as_object_mut().unwrap().remove("duration")), Some("9.5.4.1-3 (d)")),
        case("failed without duration", INIT, "failed", |s| drop(s["result"].as_object_mut().unwrap().remove("duration")), Some("9.5.4.1-4 (d)")),
        case("completed", INIT, "completed", keep, None),
        case("completed twice in a session", &["initialized", "completed"], "completed", keep, Some("9.3.0.0-2 (d)")),
        case(
            "passed without result.success",
            INIT,
            "passed",
            |s| drop(s["result"].as_object_mut().unwrap().remove("success")),
            Some("9.5.2.0-1 (d1)"),
        ),
        case("passed with result.success false", INIT, "passed", |s| s["result"]["success"] = json!(false), Some("9.5.2.0-1 (d1)")),
        case("failed with result.success true", INIT, "failed", |s| s["result"]["success"] = json!(true), Some("9.5.2.0-2 (d)")),
        case("passed below masteryScore", INIT, "passed", |s| with_score(s, 0.89), Some("9.3.4.0-2 (d2)")),
        case("passed at masteryScore", INIT, "passed", |s| with_score(s, 0.9), None),
        case("failed at masteryScore", INIT, "failed", |s| with_score(s, 0.9), Some("9.3.5.0-2 (d)")),
        case("failed above masteryScore", INIT, "failed", |s| with_score(s, 0.91), Some("9.3.5.0-2 (d)")),
        case("failed below masteryScore", INIT, "failed", |s| with_score(s, 0.5), None),
        case(
            "raw score without min",
            INIT,
            "passed",
            |s| {
                with_score(s, 0.95);
                s["result"]["score"].as_object_mut().unwrap().remove("min");
            },
            Some("9.5.1.0-3 (d1)"),
        ),
        case(
            "raw score without max",
            INIT,
            "passed",
            |s| {
                with_score(s, 0.95);
                s["result"]["score"].as_object_mut().unwrap().remove("max");
            },
            Some("9.5.1.0-3 (d2)"),
        ),
        case("completed without moveOn category", INIT, "completed", |s| drop(s["context"]["contextActivities"]["category"].as_array_mut().unwrap().pop()), Some("9.6.2.2-1 (d1)")),
        case("passed without moveOn category", INIT, "passed", |s| drop(s["context"]["contextActivities"]["category"].as_array_mut().unwrap().pop()), Some("9.6.2.2-1 (d2)")),
        case("failed without moveOn category", INIT, "failed", |s| drop(s["context"]["contextActivities"]["category"].as_array_mut().unwrap().pop()), Some("9.6.2.2-1 (d3)")),
        case(
            "allowed statement with the moveOn category",
            INIT,
            "experienced",
            |s| s["context"]["contextActivities"]["category"] = json!([{"id": "https://w3id.org/xapi/cmi5/context/categories/moveon"}]),
            Some("9.6.2.2-2 (d)"),
        ),
        case(
            "terminated with the moveOn category",
            INIT,
            "terminated",
            |s| {
                s["context"]["contextActivities"]["category"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"id": "https://w3id.org/xapi/cmi5/context/categories/moveon"}))
            },
            Some("9.6.2.2-2 (d)"),
        ),
        case(
            "scored passed without masteryScore extension",
            INIT,
            "passed",
            |s| {
                with_score(s, 0.95);
                s["context"]["extensions"].as_object_mut().unwrap().remove(EXT_MASTERY);
            },
            Some("9.6.3.2-2 (d)"),
        ),
        case(
            "scored passed with another masteryScore",
            INIT,
            "passed",
            |s| {
                with_score(s, 0.95);
                s["context"]["extensions"][EXT_MASTERY] = json!(0.8);
            },
            Some("9.6.3.2-2 (d)"),
        ),
        case(
            "no session id",
            INIT,
            "experienced",
            |s| drop(s["context"]["extensions"].as_object_mut().unwrap().remove(EXT_SESSION)),
            Some("9.6.3.1-4 (d)"),
        ),
        case(
            "another session id",
            INIT,
            "experienced",
            |s| s["context"]["extensions"][EXT_SESSION] = json!("11111111-2222-3333-4444-555555555555"),
            Some("9.6.3.1-4 (d)"),
        ),
        case("passed", INIT, "passed", keep, None),
        case("passed twice in a session", &["initialized", "passed"], "passed", keep, Some("9.3.0.0-2 (d)")),
        case("failed after passed", &["initialized", "passed"], "failed", keep, Some("9.3.0.0-8 (d)")),
        case("failed twice in a session", &["initialized", "failed"], "failed", keep, Some("9.3.0.0-2 (d)")),
        case("passed after failed in a session", &["initialized", "failed"], "passed", keep, Some("9.3.0.0-3 (d)")),
        case("anything after terminated", &["initialized", "terminated"], "experienced", keep, Some("9.3.0.0-5 (d2)")),
        case("terminated", INIT, "terminated", keep, None),
        case(
            "satisfied sent by the AU",
            INIT,
            "experienced",
            |s| {
                s["verb"]["id"] = json!("https://w3id.org/xapi/adl/verbs/satisfied");
                s["context"]["contextActivities"]["category"] = json!([{"id": "https://w3id.org/xapi/cmi5/context/categories/cmi5"}]);
            },
            Some("9.3.9.0-1"),
        ),
        case(
            "non-cmi5 verb with the cmi5 category",
            INIT,
            "experienced",
            |s| s["context"]["contextActivities"]["category"] = json!([{"id": "https://w3id.org/xapi/cmi5/context/categories/cmi5"}]),
            Some("9.3.0.0-1"),
        ),
        Case { mode: LaunchMode::Browse, ..case("completed in Browse", INIT, "completed", keep, Some("10.2.2.0-2 (d)")) },
        Case { mode: LaunchMode::Browse, ..case("failed in Browse", INIT, "failed", keep, Some("10.2.2.0-2 (d)")) },
        Case { mode: LaunchMode::Review, ..case("passed in Review", INIT, "passed", keep, Some("10.2.2.0-3 (d)")) },
        Case { mode: LaunchMode::Review, ..case("terminated in Review", INIT, "terminated", keep, None) },
        Case { mode: LaunchMode::Browse, ..case("allowed statement in Browse", INIT, "experienced", keep, None) },
    ]
}

#[test]
fn statements_get_the_verdict_and_requirement_the_spec_gives() {
    let xml = course_xml(true, &[("a", MASTERY, "")]);
    let cases = cases();
    let mut failures = Vec::new();
    for case in &cases {
        let mut fx = Fixture::launched(&xml, case.mode);
        for verb in case.before {
            let statement = fx.statement(verb);
            if let Err(requirement) = fx.send(&statement) {
                failures.push(format!("{}: setup `{verb}` rejected ({requirement})", case.name));
            }
        }
        let mut statement = fx.statement(case.verb);
        (case.alter)(&mut statement);
        let actual = fx.send(&statement).err();
        if actual != case.expect {
            failures.push(format!("{}: expected {:?}, got {actual:?}", case.name, case.expect));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn initialized_waits_for_the_learner_preferences() {
    let xml = course_xml(false, &[("a", MASTERY, "")]);
    let mut fx = Fixture::launched(&xml, LaunchMode::Normal);
    fx.registration.sessions.get_mut(&SESSION).unwrap().learner_preferences_read = false;
    let initialized = fx.statement("initialized");
    assert_eq!(fx.send(&initialized).err(), Some("11.0.0.0-3 (d2)"));
    fx.registration.learner_preferences_read(SESSION);
    assert_eq!(fx.send(&initialized).err(), None);
}

#[test]
fn a_full_session_writes_satisfied_for_block_then_course_right_after_moveon_is_met() {
    let xml = course_xml(true, &[("a", MASTERY, "")]);
    let mut fx = Fixture::launched(&xml, LaunchMode::Normal);
    for verb in ["initialized", "completed"] {
        let statement = fx.statement(verb);
        assert_eq!(fx.send(&statement), Ok(vec![]), "{verb}");
    }
    let passed = fx.statement("passed");
    let satisfied = fx.send(&passed).unwrap();
    assert_eq!(verbs(&satisfied), ["satisfied:block", "satisfied:course"]);
    let terminated = fx.statement("terminated");
    fx.send(&terminated).unwrap();
    assert_eq!(
        verbs(&fx.written),
        ["launched", "initialized", "completed", "passed", "satisfied:block", "satisfied:course", "terminated"]
    );
    let (block, course) = (&satisfied[0], &satisfied[1]);
    assert_eq!(block["object"]["id"], json!(fx.course.blocks[0].activity_id));
    assert_ne!(block["object"]["id"], json!("https://example.org/block"));
    assert_eq!(block["context"]["contextActivities"]["grouping"][0]["id"], json!("https://example.org/block"));
    assert_eq!(course["object"]["id"], json!(LMS_BASE));
    assert_eq!(course["context"]["contextActivities"]["grouping"][0]["id"], json!("https://example.org/course"));
    for s in &satisfied {
        assert_eq!(s["context"]["extensions"][EXT_SESSION], json!(SESSION.to_string()), "9.3.9.0-9");
        assert_eq!(s["context"]["contextActivities"]["category"][0]["id"], json!("https://w3id.org/xapi/cmi5/context/categories/cmi5"));
        assert_eq!(s["actor"], actor());
    }
    assert_valid_xapi(&satisfied);
    let status = fx.registration.status(&fx.course);
    assert!(status.satisfied && status.blocks[0].satisfied && status.aus[0].satisfied);
    assert!(!fx.registration.session_is_open(SESSION), "8.1.2.0-2: the token ends with the session");
    // The same status comes back from the stored statements alone.
    let replayed = lms_cmi5::Registration::replay(&fx.course, REGISTRATION, actor(), &fx.written).unwrap();
    assert_eq!(replayed.status(&fx.course), status);
}

#[test]
fn moveon_decides_when_an_au_is_satisfied() {
    // (moveOn, verbs sent after initialized, satisfied?)
    let cases: &[(&str, &[&str], bool)] = &[
        ("Completed", &["completed"], true),
        ("Completed", &["passed"], false),
        ("Passed", &["passed"], true),
        ("Passed", &["completed", "failed"], false),
        ("CompletedOrPassed", &["passed"], true),
        ("CompletedOrPassed", &["completed"], true),
        ("CompletedOrPassed", &["failed"], false),
        ("CompletedAndPassed", &["completed"], false),
        ("CompletedAndPassed", &["passed", "completed"], true),
    ];
    for (move_on, sent, satisfied) in cases {
        let attributes = format!("moveOn=\"{move_on}\"");
        let xml = course_xml(true, &[("a", &attributes, "")]);
        let mut fx = Fixture::launched(&xml, LaunchMode::Normal);
        let mut added = Vec::new();
        for verb in std::iter::once(&"initialized").chain(sent.iter()) {
            let statement = fx.statement(verb);
            added.extend(fx.send(&statement).unwrap());
        }
        let status = fx.registration.status(&fx.course);
        assert_eq!(status.aus[0].satisfied, *satisfied, "{move_on} {sent:?}");
        assert_eq!(status.satisfied, *satisfied, "{move_on} {sent:?}");
        assert_eq!(added.len(), if *satisfied { 2 } else { 0 }, "{move_on} {sent:?}");
    }
}

#[test]
fn not_applicable_aus_are_satisfied_when_the_registration_is_created() {
    let xml = course_xml(true, &[("a", "moveOn=\"NotApplicable\"", "")]);
    let first = course(&xml);
    let mut ids = Ids::default();
    let (registration, written) = Registration::create(&first, REGISTRATION, actor(), at(0), &mut || ids.next_id()).unwrap();
    assert_eq!(verbs(&written), ["satisfied:block", "satisfied:course"]);
    assert_valid_xapi(&written);
    assert!(registration.status(&first).satisfied);
    // A course with one AU to do: nothing yet.
    let xml = course_xml(true, &[("a", "moveOn=\"NotApplicable\"", ""), ("b", "moveOn=\"Completed\"", "")]);
    let course = course(&xml);
    let (_, written) = Registration::create(&course, REGISTRATION, actor(), at(0), &mut || ids.next_id()).unwrap();
    assert!(written.is_empty());
}

#[test]
fn the_registration_remembers_completed_and_passed_across_sessions() {
    let xml = course_xml(false, &[("a", "moveOn=\"CompletedOrPassed\" masteryScore=\"0.5\"", "")]);
    let mut fx = Fixture::launched(&xml, LaunchMode::Normal);
    for verb in ["initialized", "completed", "passed", "terminated"] {
        let statement = fx.statement(verb);
        fx.send(&statement).unwrap();
    }
    let second = uuid::Uuid::from_u128(43);
    let ids = &mut fx.ids;
    let launch = fx.registration.launch(&fx.course, &request(0, second, LaunchMode::Normal), at(10), &mut || ids.next_id()).unwrap();
    assert_eq!(verbs(&launch.statements), ["launched"], "the first session was terminated: nothing to abandon");
    fx.registration.learner_preferences_read(second);
    let template = launch.launch_data["contextTemplate"].clone();
    let in_second = |fx: &Fixture, verb: &str| {
        let mut s = fx.statement(verb);
        s["context"]["extensions"] = template["extensions"].clone();
        s
    };
    let send = |fx: &mut Fixture, s: &Value| {
        let ids = &mut fx.ids;
        fx.registration.check_statement(&fx.course, second, s, at(11), &mut || ids.next_id()).map_err(|r| r.requirement)
    };
    let initialized = in_second(&fx, "initialized");
    assert_eq!(send(&mut fx, &initialized), Ok(vec![]));
    let completed = in_second(&fx, "completed");
    assert_eq!(send(&mut fx, &completed).err(), Some("9.3.0.0-6 (d2)"));
    let passed = in_second(&fx, "passed");
    assert_eq!(send(&mut fx, &passed).err(), Some("9.3.0.0-7 (d2)"));
    let failed = in_second(&fx, "failed");
    assert_eq!(send(&mut fx, &failed).err(), Some("9.3.0.0-8 (d)"));
}

#[test]
fn abandon_closes_the_session_and_a_new_launch_abandons_an_open_one() {
    let xml = course_xml(false, &[("a", "moveOn=\"Completed\"", "")]);
    let mut fx = Fixture::launched(&xml, LaunchMode::Normal);
    let initialized = fx.statement("initialized");
    fx.send(&initialized).unwrap();
    let ids = &mut fx.ids;
    let abandoned = fx.registration.abandon(&fx.course, SESSION, at(65), &mut || ids.next_id()).unwrap();
    assert_eq!(verbs(std::slice::from_ref(&abandoned)), ["abandoned"]);
    // launched at 1 s, last AU statement at 5 s (Fixture::send's clock)
    assert_eq!(abandoned["result"]["duration"], json!("PT4S"), "9.5.4.2-2");
    assert_eq!(abandoned["object"]["id"], json!(fx.course.aus[0].activity_id));
    assert_eq!(abandoned["context"]["extensions"][EXT_SESSION], json!(SESSION.to_string()));
    assert_eq!(abandoned["context"]["registration"], json!(REGISTRATION.to_string()));
    assert_valid_xapi(std::slice::from_ref(&abandoned));
    let experienced = fx.statement("experienced");
    assert_eq!(fx.send(&experienced).err(), Some("9.3.6.0-2 (d2)"));
    let ids = &mut fx.ids;
    assert!(fx.registration.abandon(&fx.course, SESSION, at(70), &mut || ids.next_id()).is_err(), "9.3.0.0-10: one abandoned per session");

    // A session left open is abandoned by the next launch of the same AU.
    let mut fx = Fixture::launched(&xml, LaunchMode::Normal);
    let ids = &mut fx.ids;
    let launch = fx
        .registration
        .launch(&fx.course, &request(0, uuid::Uuid::from_u128(43), LaunchMode::Normal), at(100), &mut || ids.next_id())
        .unwrap();
    assert_eq!(verbs(&launch.statements), ["abandoned", "launched"]);
    assert_eq!(launch.statements[0]["result"]["duration"], json!("PT0S"));
}

#[test]
fn waive_writes_waived_then_satisfied_under_a_new_session_id() {
    let xml = course_xml(false, &[("a", "moveOn=\"CompletedOrPassed\"", "")]);
    let mut fx = Fixture::launched(&xml, LaunchMode::Normal);
    for verb in ["initialized", "terminated"] {
        let statement = fx.statement(verb);
        fx.send(&statement).unwrap();
    }
    let ids = &mut fx.ids;
    let written = fx.registration.waive(&fx.course, 0, lms_cmi5::WaiveReason::Administrative, at(20), &mut || ids.next_id()).unwrap();
    assert_eq!(verbs(&written), ["waived", "satisfied:course"]);
    let waived = &written[0];
    assert_eq!(waived["result"]["success"], json!(true), "9.5.2.0-1 (d2)");
    assert_eq!(waived["result"]["completion"], json!(true), "9.5.3.0-1 (d2)");
    assert_eq!(waived["result"]["extensions"]["https://w3id.org/xapi/cmi5/result/extensions/reason"], json!("Administrative"));
    let categories = &waived["context"]["contextActivities"]["category"];
    assert_eq!(categories[1]["id"], json!("https://w3id.org/xapi/cmi5/context/categories/moveon"), "9.6.2.2-1 (d4)");
    let waived_session = &waived["context"]["extensions"][EXT_SESSION];
    assert_ne!(waived_session, &json!(SESSION.to_string()), "9.3.7.0-3: a new session id");
    assert_eq!(&written[1]["context"]["extensions"][EXT_SESSION], waived_session);
    assert_valid_xapi(&written);
    assert!(fx.registration.status(&fx.course).aus[0].waived);
    let ids = &mut fx.ids;
    assert!(
        fx.registration.waive(&fx.course, 0, lms_cmi5::WaiveReason::TestedOut, at(21), &mut || ids.next_id()).is_err(),
        "9.3.7.0-4: one waived per AU and registration"
    );
}

#[test]
fn the_launched_statement_carries_the_launch_context() {
    let xml = course_xml(true, &[("a", MASTERY, "<launchParameters>sample string</launchParameters>")]);
    let fx = Fixture::launched(&xml, LaunchMode::Normal);
    let launched = &fx.written[0];
    assert_eq!(verbs(std::slice::from_ref(launched)), ["launched"]);
    let ext = &launched["context"]["extensions"];
    assert_eq!(ext[EXT_SESSION], json!(SESSION.to_string()), "9.6.3.1-3");
    assert_eq!(ext[EXT_MASTERY], json!(0.9), "9.6.3.2-1");
    assert_eq!(ext["https://w3id.org/xapi/cmi5/context/extensions/launchmode"], json!("Normal"), "9.6.3.3-1");
    assert_eq!(
        ext["https://w3id.org/xapi/cmi5/context/extensions/launchurl"],
        json!("https://content.example.org/a/index.html?paramA=1&paramB=2"),
        "9.6.3.4-1"
    );
    assert_eq!(ext["https://w3id.org/xapi/cmi5/context/extensions/moveon"], json!("CompletedAndPassed"), "9.6.3.6-1");
    assert_eq!(ext["https://w3id.org/xapi/cmi5/context/extensions/launchparameters"], json!("sample string"), "9.6.3.7-1");
    assert_eq!(launched["context"]["contextActivities"]["category"][0]["id"], json!("https://w3id.org/xapi/cmi5/context/categories/cmi5"), "9.6.2.1-1");
    assert_eq!(launched["context"]["contextActivities"]["grouping"][0]["id"], json!("https://example.org/au/a"), "9.6.2.3-2");
    assert_ne!(launched["object"]["id"], json!("https://example.org/au/a"), "8.1.5.0-3");
    assert_valid_xapi(std::slice::from_ref(launched));
}

#[test]
fn odd_json_is_rejected_without_panic() {
    let xml = course_xml(false, &[("a", MASTERY, "")]);
    let mut fx = Fixture::launched(&xml, LaunchMode::Normal);
    let initialized = fx.statement("initialized");
    fx.send(&initialized).unwrap();
    let base = fx.statement("passed");
    let paths: &[&str] = &["/verb", "/verb/id", "/object", "/context", "/context/contextActivities", "/context/contextActivities/category", "/context/extensions", "/result", "/result/score", "/result/score/scaled", "/actor", "/actor/account", "/timestamp", "/id"];
    let odd_values = [json!(null), json!(7), json!("x"), json!([]), json!({}), json!([{"id": 1}])];
    for path in paths {
        for value in &odd_values {
            let mut statement = base.clone();
            if let Some(slot) = statement.pointer_mut(path) {
                *slot = value.clone();
            }
            let mut copy = Fixture { course: fx.course.clone(), registration: fx.registration.clone(), ids: Ids::default(), written: Vec::new(), launch_data: fx.launch_data.clone() };
            let _ = copy.send(&statement);
        }
    }
}

#[test]
fn a_course_of_one_thousand_not_applicable_aus_is_satisfied_at_registration() {
    let aus: Vec<(String, &str, &str)> = (0..1000).map(|i| (format!("au{i}"), "moveOn=\"NotApplicable\"", "")).collect();
    let aus: Vec<(&str, &str, &str)> = aus.iter().map(|(a, b, c)| (a.as_str(), *b, *c)).collect();
    let course = course(&course_xml(true, &aus));
    assert_eq!(course.aus.len(), 1000);
    let mut ids = Ids::default();
    let (registration, written) = Registration::create(&course, REGISTRATION, actor(), at(0), &mut || ids.next_id()).unwrap();
    assert_eq!(verbs(&written), ["satisfied:block", "satisfied:course"]);
    assert!(registration.status(&course).aus.iter().all(|a| a.satisfied));
}
