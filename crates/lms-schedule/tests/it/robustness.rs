//! Extreme and hostile values give errors or saturate; nothing panics.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use lms_schedule::attendance::{active_no_shows, AttendanceMark, AttendanceStatus, NoShowPolicy};
use lms_schedule::catalogue::Visibility;
use lms_schedule::ids::{CourseId, RequirementId, SessionId};
use lms_schedule::mandatory::{requirement_status, Requirement, TrainingStatus};
use lms_schedule::time::weekly_series;

use crate::booking::Scenario;
use crate::{at, p};

#[test]
fn extreme_durations_saturate_instead_of_panicking() {
    let requirement = Requirement {
        id: RequirementId(1),
        title: "x".into(),
        satisfied_by: [CourseId(1)].into(),
        assigned_to: vec![],
        validity_months: Some(u32::MAX),
        recertification_window_days: u32::MAX,
        initial_deadline_days: u32::MAX,
    };
    let s = requirement_status(&requirement, DateTime::<Utc>::MAX_UTC - Duration::days(1), &[], at("2026-01-01T00:00:00Z"));
    assert_eq!(s.status, TrainingStatus::NotStarted);
    let s = requirement_status(&requirement, at("2026-01-01T00:00:00Z"), &[at("2026-01-02T00:00:00Z")], at("2026-01-03T00:00:00Z"));
    assert_eq!(s.status, TrainingStatus::Due, "window longer than validity: due at once");

    let log = vec![AttendanceMark {
        session: SessionId(1),
        person: p("L1"),
        status: AttendanceStatus::NoShow,
        recorded_at: at("2026-01-01T00:00:00Z"),
        recorded_by: p("T"),
    }];
    let ends = BTreeMap::from([(SessionId(1), DateTime::<Utc>::MAX_UTC - Duration::days(1))]);
    let policy = NoShowPolicy { expires_after: Duration::days(365 * 1000) };
    assert_eq!(active_no_shows(policy, &p("L1"), &log, &ends, at("2026-01-01T00:00:00Z")), vec![SessionId(1)]);

    let far = NaiveDate::MAX.and_hms_opt(0, 0, 0).unwrap() - Duration::weeks(1);
    assert!(weekly_series(far, Duration::hours(1), 3).is_err());
}

#[test]
fn huge_reminder_lead_does_not_panic() {
    let mut s = Scenario::new(2, false, Visibility::CityWide);
    s.apply(&crate::booking::Op::Book("L1")).unwrap();
    let mut rules = s.rules();
    rules.reminder_lead = Duration::MAX;
    let t = s.state.advance_time(&rules, s.now).unwrap();
    assert_eq!(t.outbox.len(), 2, "both sessions are within an unbounded lead");
}
