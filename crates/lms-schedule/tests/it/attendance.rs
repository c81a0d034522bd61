//! Completion rule, corrections and no-show expiry.

use std::collections::BTreeMap;

use chrono::Duration;
use lms_schedule::attendance::{
    active_no_shows, completion, validate_mark, AttendanceMark, AttendanceStatus, CompletionOutcome, CompletionRule, NoShowPolicy,
};
use lms_schedule::ids::{CourseId, OfferingId, SessionId};
use lms_schedule::offering::Offering;

use crate::offering::session;
use crate::{at, p};

/// Five sessions, 4–8 May 2026, 09:00–12:00 Berlin.
fn five_sessions() -> Offering {
    Offering {
        id: OfferingId(1),
        course_id: CourseId(1),
        min_participants: 1,
        max_participants: 10,
        booking_opens_at: None,
        booking_closes_at: at("2026-05-01T00:00:00Z"),
        cancellation_deadline: at("2026-05-01T00:00:00Z"),
        requires_approval: false,
        sessions: (0..5)
            .map(|d| session(1 + d, &format!("2026-05-0{}T09:00:00+02:00", 4 + d), &format!("2026-05-0{}T12:00:00+02:00", 4 + d), None, &[]))
            .collect(),
    }
}

fn mark(session: u64, status: AttendanceStatus, recorded: &str) -> AttendanceMark {
    AttendanceMark { session: SessionId(session), person: p("L1"), status, recorded_at: at(recorded), recorded_by: p("T1") }
}

/// `marks` is one letter per session: A attended, P partly, E excused, N no-show, - unmarked.
fn check(marks: &str, rule: CompletionRule, expected: &str) {
    let log: Vec<AttendanceMark> = marks
        .chars()
        .zip(1u64..)
        .filter_map(|(c, s)| {
            let status = match c {
                'A' => AttendanceStatus::Attended,
                'P' => AttendanceStatus::Partly,
                'E' => AttendanceStatus::Excused,
                'N' => AttendanceStatus::NoShow,
                _ => return None,
            };
            Some(mark(s, status, "2026-05-09T12:00:00Z"))
        })
        .collect();
    let got = match completion(rule, &five_sessions(), &p("L1"), &log) {
        CompletionOutcome::Completed => "completed".to_owned(),
        CompletionOutcome::NotCompleted => "not completed".to_owned(),
        CompletionOutcome::Pending { unmarked } => format!("pending {unmarked:?}"),
    };
    assert_eq!(got, expected, "marks {marks} rule {rule:?}");
}

#[test]
fn completion_rule_80_percent() {
    let rule = CompletionRule::default();
    check("AAAAA", rule, "completed");
    check("AAAAN", rule, "completed"); // 4/5 = 80 %
    check("AAANN", rule, "not completed");
    check("AAAAP", rule, "completed");
    check("AAAPP", rule, "completed"); // 3 + 0.5 + 0.5 = 4.0 of 5 = 80 %
    check("AAPPP", rule, "not completed"); // 3.5 of 5 = 70 %
    check("AAAEN", rule, "not completed"); // 3 of 4 counted = 75 %
    check("AAAAE", rule, "completed"); // 4 of 4
    check("AAAEE", rule, "completed"); // 3 of 3
    check("EEEEE", rule, "not completed"); // nothing attended
    check("PPPPP", rule, "not completed"); // 2.5 of 5
    check("AAA--", rule, "pending [SessionId(4), SessionId(5)]");
    check("AAAN-", rule, "pending [SessionId(5)]");
    check("AANN-", rule, "not completed"); // best case 3 of 5
    check("-----", rule, "pending [SessionId(1), SessionId(2), SessionId(3), SessionId(4), SessionId(5)]");
    let lenient = CompletionRule { min_attended_percent: 60, partly_weight_percent: 100 };
    check("AAPNN", lenient, "completed");
    check("APNNN", lenient, "not completed");
    let zero = CompletionRule { min_attended_percent: 0, partly_weight_percent: 50 };
    check("NNNNN", zero, "not completed"); // at least one attended session is always required
    check("PNNNN", zero, "completed");
}

#[test]
fn partly_counts_half_by_default() {
    // 3 + 2×0.5 = 4.0 of 5 = 80 % exactly: AAAPP completes iff partly weighs ≥ 50 %.
    let rule = CompletionRule::default();
    let log: Vec<AttendanceMark> = ["A", "A", "A", "P", "P"]
        .iter()
        .zip(1u64..)
        .map(|(m, s)| mark(s, if *m == "A" { AttendanceStatus::Attended } else { AttendanceStatus::Partly }, "2026-05-09T12:00:00Z"))
        .collect();
    assert_eq!(completion(rule, &five_sessions(), &p("L1"), &log), CompletionOutcome::Completed);
    let stricter = CompletionRule { partly_weight_percent: 40, ..rule };
    assert_eq!(completion(stricter, &five_sessions(), &p("L1"), &log), CompletionOutcome::NotCompleted);
}

#[test]
fn corrections_win_and_no_shows_expire() {
    let o = five_sessions();
    let log = vec![
        mark(1, AttendanceStatus::NoShow, "2026-05-04T12:00:00Z"),
        mark(1, AttendanceStatus::Excused, "2026-05-06T08:00:00Z"), // corrected
        mark(2, AttendanceStatus::NoShow, "2026-05-05T12:00:00Z"),
        mark(3, AttendanceStatus::Attended, "2026-05-06T12:00:00Z"),
        mark(3, AttendanceStatus::NoShow, "2026-05-06T11:00:00Z"), // older, logged later: loses
        mark(4, AttendanceStatus::NoShow, "2026-05-07T12:00:00Z"),
    ];
    let ends: BTreeMap<SessionId, _> = o.sessions.iter().map(|s| (s.id, s.ends_at)).collect();
    let policy = NoShowPolicy { expires_after: Duration::days(90) };
    // Session 2 ended 2026-05-05 10:00 UTC, session 4 on 2026-05-07 10:00 UTC.
    let cases = [
        ("2026-05-08T00:00:00Z", vec![2, 4]),
        ("2026-08-03T09:59:59Z", vec![2, 4]),
        ("2026-08-03T10:00:00Z", vec![4]),
        ("2026-08-05T10:00:00Z", vec![]),
    ];
    for (now, expected) in cases {
        let got: Vec<u64> = active_no_shows(policy, &p("L1"), &log, &ends, at(now)).into_iter().map(|s| s.0).collect();
        assert_eq!(got, expected, "at {now}");
    }
    assert!(active_no_shows(policy, &p("L2"), &log, &ends, at("2026-05-08T00:00:00Z")).is_empty());
    // The correction of session 1 to excused and of session 3 to attended count for completion.
    assert_eq!(
        completion(CompletionRule::default(), &o, &p("L1"), &log),
        CompletionOutcome::NotCompleted,
        "1 attended of 4 counted, best case with session 5: 2 of 4"
    );
}

#[test]
fn marks_are_validated() {
    let o = five_sessions();
    assert!(validate_mark(&o, &mark(1, AttendanceStatus::Attended, "2026-05-04T07:00:00Z")).is_ok());
    assert_eq!(
        validate_mark(&o, &mark(1, AttendanceStatus::Attended, "2026-05-04T06:59:59Z")).unwrap_err().to_string(),
        "invalid recorded_at: attendance for session 1 recorded before it starts (2026-05-04 07:00:00 UTC)"
    );
    assert_eq!(
        validate_mark(&o, &mark(9, AttendanceStatus::Attended, "2026-05-04T07:00:00Z")).unwrap_err().to_string(),
        "invalid session: session 9 is not part of offering 1"
    );
    assert_eq!(serde_json::to_string(&AttendanceStatus::NoShow).unwrap(), "\"no_show\"");
}
