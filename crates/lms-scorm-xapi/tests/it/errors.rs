//! Bad input is data: a context or an event the statements cannot carry gives an error that
//! names the field or the event.

use lms_rte::{Completion, RteEvent, Success, UnixMillis};
use lms_scorm_xapi::{ScormContext, ScormVersion, ScormXapiError, course_iri, interaction_iri, to_statements};

use crate::support::{context, counter_ids};

fn initialized(at: i64) -> RteEvent {
    RteEvent::Initialized { at: UnixMillis(at), attempt: 1, session: 1, entry: "ab-initio".into() }
}

/// The field the context error names, or the event index of a timestamp error.
fn check(edit: impl Fn(&mut ScormContext), events: &[RteEvent], expected: &str) {
    let mut ctx = context(ScormVersion::Scorm2004, "pkg", "sco");
    edit(&mut ctx);
    let actual = match to_statements(&ctx, events, counter_ids()) {
        Ok(statements) => format!("ok: {} statements", statements.len()),
        Err(ScormXapiError::Context { field, .. }) => format!("context: {field}"),
        Err(ScormXapiError::Timestamp { index, .. }) => format!("timestamp: event {index}"),
        Err(other) => format!("other: {other}"),
    };
    assert_eq!(actual, expected);
}

#[test]
fn contexts_that_cannot_make_statements_are_rejected_by_field() {
    let events = [initialized(1_000)];
    check(|_| {}, &events, "ok: 1 statements");
    check(|c| c.learner.home_page = "lms.example.com".into(), &events, "context: learner.home_page");
    check(|c| c.learner.name.clear(), &events, "context: learner.name");
    check(|c| c.course_iri = "course 1".into(), &events, "context: course_iri");
    check(|c| c.sco_iri = String::new(), &events, "context: sco_iri");
    check(|c| c.language = "english please".into(), &events, "context: language");
    check(|c| c.attempt = 0, &events, "context: attempt");
    // an empty event list is not an error: nothing to say
    check(|_| {}, &[], "ok: 0 statements");
}

#[test]
fn event_times_outside_xapi_timestamps_are_rejected_by_index() {
    let terminated = |at| RteEvent::Terminated {
        at: UnixMillis(at),
        session_time: None,
        total_time: "PT0S".into(),
        completion: Completion::Unknown,
        success: Success::Unknown,
        score: None,
    };
    check(|_| {}, &[initialized(0), terminated(253_402_300_799_999)], "ok: 2 statements");
    check(|_| {}, &[initialized(1_000), terminated(-1)], "timestamp: event 1");
    check(|_| {}, &[initialized(253_402_300_800_000)], "timestamp: event 0");
    check(|_| {}, &[initialized(i64::MAX)], "timestamp: event 0");
}

#[test]
fn course_iris_need_an_http_base_and_a_package_id() {
    let cases: [(&str, &str, Result<&str, &str>); 7] = [
        ("https://lms.example.com", "golf-2004", Ok("https://lms.example.com/courses/golf-2004")),
        ("https://lms.example.com/lms/", "golf 2004/v2", Ok("https://lms.example.com/lms/courses/golf%202004%2Fv2")),
        ("HTTP://LMS.EXAMPLE.COM", "p", Ok("HTTP://LMS.EXAMPLE.COM/courses/p")),
        ("lms.example.com", "p", Err("lms_base_url")),
        ("https://", "p", Err("lms_base_url")),
        ("https://lms.example.com/?a=b", "p", Err("lms_base_url")),
        ("https://lms.example.com", "", Err("package_id")),
    ];
    for (base, package, expected) in cases {
        let actual = course_iri(base, package).map_err(|e| match e {
            ScormXapiError::Context { field, .. } => field,
            other => panic!("unexpected {other}"),
        });
        let actual: Result<&str, &str> = actual.as_deref().map_err(|field| *field);
        assert_eq!(actual, expected, "course_iri({base:?}, {package:?})");
    }
}

#[test]
fn interactions_without_an_id_are_named_by_index() {
    assert_eq!(interaction_iri("https://l/sco/a", "", 3), "https://l/sco/a/interaction-index/3");
    assert_eq!(interaction_iri("https://l/sco/a", "q 1", 3), "https://l/sco/a/interactions/q%201");
}
