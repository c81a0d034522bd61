//! Whatever content reports (any text, any number, any order of events), every statement
//! validates under xAPI 1.0.3 and 2.0.0.

use lms_rte::{AnsweredInteraction, Completion, RteEvent, ScoreSnapshot, Success, UnixMillis};
use lms_scorm_xapi::{ScormVersion, to_statements};
use proptest::prelude::*;

use crate::support::{assert_valid, context, counter_ids};

fn any_number() -> impl Strategy<Value = f64> {
    prop_oneof![
        -200.0f64..200.0,
        -1.5f64..1.5,
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(0.0),
        Just(100.0),
    ]
}

fn any_score() -> impl Strategy<Value = ScoreSnapshot> {
    (
        proptest::option::of(any_number()),
        proptest::option::of(any_number()),
        proptest::option::of(any_number()),
        proptest::option::of(any_number()),
    )
        .prop_map(|(scaled, raw, min, max)| ScoreSnapshot { scaled, raw, min, max })
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".*",
        "\\{lang=[a-zA-Z-]{0,12}\\}.{0,20}",
        "[a-z0-9,.{}\\[\\]: ]{0,30}",
        "P[0-9YMDTHS.]{0,12}",
        Just(String::new()),
    ]
}

fn any_interaction() -> impl Strategy<Value = AnsweredInteraction> {
    let kinds = proptest::option::of(prop_oneof![
        Just("true-false"), Just("choice"), Just("fill-in"), Just("long-fill-in"), Just("likert"),
        Just("matching"), Just("performance"), Just("sequencing"), Just("numeric"), Just("other"), Just("bogus"),
    ]);
    (
        (0usize..500, any_text(), kinds, proptest::option::of(any_text()), proptest::option::of(any_text())),
        (
            proptest::collection::vec(any_text(), 0..3),
            proptest::option::of(any_text()),
            proptest::option::of(any_text()),
            proptest::option::of(any_number()),
        ),
    )
        .prop_map(|((index, id, kind, learner_response, result), (correct_responses, latency, description, weighting))| {
            AnsweredInteraction {
                index,
                id,
                interaction_type: kind.map(str::to_owned),
                learner_response,
                result,
                correct_responses,
                latency,
                description,
                timestamp: None,
                weighting,
                objective_ids: Vec::new(),
            }
        })
}

fn any_event() -> impl Strategy<Value = RteEvent> {
    let at = (0i64..4_000_000_000_000).prop_map(UnixMillis);
    let completion = prop_oneof![
        Just(Completion::Completed), Just(Completion::Incomplete), Just(Completion::NotAttempted), Just(Completion::Unknown),
    ];
    let success = prop_oneof![Just(Success::Passed), Just(Success::Failed), Just(Success::Unknown)];
    prop_oneof![
        (at.clone(), 0u32..5, any_text()).prop_map(|(at, attempt, entry)| RteEvent::Initialized { at, attempt, session: 1, entry }),
        (at.clone(), 0u32..5, proptest::option::of(any_text()))
            .prop_map(|(at, attempt, location)| RteEvent::Resumed { at, attempt, session: 2, location }),
        (at.clone(), proptest::option::of(any_number())).prop_map(|(at, progress_measure)| RteEvent::Completed { at, progress_measure }),
        (at.clone(), proptest::option::of(any_score())).prop_map(|(at, score)| RteEvent::Passed { at, score }),
        (at.clone(), proptest::option::of(any_score())).prop_map(|(at, score)| RteEvent::Failed { at, score }),
        (at.clone(), any_score()).prop_map(|(at, score)| RteEvent::Scored { at, score }),
        (at.clone(), any_interaction()).prop_map(|(at, interaction)| RteEvent::Answered { at, interaction }),
        (at.clone(), proptest::option::of(any_text()), any_text()).prop_map(|(at, session_time, total_time)| {
            RteEvent::Suspended { at, session_time, total_time, location: None }
        }),
        (at, proptest::option::of(any_text()), completion, success, proptest::option::of(any_score())).prop_map(
            |(at, session_time, completion, success, score)| RteEvent::Terminated {
                at,
                session_time,
                total_time: "PT1S".into(),
                completion,
                success,
                score,
            }
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn every_statement_validates(events in proptest::collection::vec(any_event(), 0..12), v12 in any::<bool>()) {
        let version = if v12 { ScormVersion::Scorm12 } else { ScormVersion::Scorm2004 };
        let ctx = context(version, "pkg ü/1", "item:1 a");
        let statements = to_statements(&ctx, &events, counter_ids()).unwrap();
        // one statement per event, at most: a folded suspend/terminate pair or an empty score
        // gives fewer, never more
        prop_assert!(statements.len() <= events.len());
        for (i, statement) in statements.iter().enumerate() {
            assert_valid(statement, &format!("statement {i} of {events:?}"));
        }
    }
}
