//! Storage tests: blended learning (issue 6), on SQLite and PostgreSQL.

use std::collections::BTreeSet;
use std::path::PathBuf;

use chrono::{DateTime, Duration, Utc};
use lms_schedule::ScheduleError;
use lms_schedule::attendance::{AttendanceStatus, CompletionOutcome, CompletionRule};
use lms_schedule::booking::Actor;
use lms_schedule::catalogue::{CourseKind, Visibility};
use lms_schedule::ical::IcsContext;
use lms_schedule::ids::{CourseId, LearningPathId, OrgUnitId, PersonId, StepId};
use lms_schedule::mandatory::{AssignmentScope, TrainingStatus};
use lms_schedule::path::{LearningPath, PathOrder, PathStep, StepTarget};
use lms_store::{
    AttendanceInput, Error, NewCourse, NewOffering, NewOrgUnit, NewRequirement, NewRoom, NewSession, PersonRow,
    SchedulePolicy, Store, YearSpec,
};

use crate::harness::on_both;

fn admin() -> Actor {
    Actor::Admin(PersonId("ADM".into()))
}

fn me(pn: &str) -> Actor {
    Actor::Person(PersonId(pn.into()))
}

async fn unit(store: &Store, id: &str, parent: Option<&str>) {
    store.create_org_unit(&NewOrgUnit { id: id.into(), name: id.into(), parent_id: parent.map(str::to_string) }).await.unwrap();
}

async fn people(store: &Store, unit: &str, numbers: &[String]) {
    let rows = numbers
        .iter()
        .enumerate()
        .map(|(i, pn)| PersonRow { line: i as u64 + 2, personnel_number: pn.clone(), name: pn.clone(), org_unit: unit.into(), roles: String::new() })
        .collect();
    let report = store.import_people(rows).await.unwrap();
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
}

async fn course(store: &Store, owner: &str) -> i64 {
    store
        .create_course(&NewCourse {
            title: "First aid".into(),
            kind: CourseKind::Classroom,
            org_unit: owner.into(),
            visibility: Visibility::CityWide,
            description: Some("Basics".into()),
        })
        .await
        .unwrap()
        .id
}

/// An offering of `course` with one 3-hour session starting at `start`.
async fn offering(store: &Store, course: i64, max: u32, start: DateTime<Utc>, approval: bool) -> (i64, i64) {
    let o = store
        .create_offering(&NewOffering {
            course_id: course,
            min_participants: 0,
            max_participants: max,
            booking_opens_at: None,
            booking_closes_at: start,
            cancellation_deadline: start,
            requires_approval: approval,
            completion: CompletionRule::default(),
        })
        .await
        .unwrap();
    let s = store
        .add_session(o.id, &NewSession { starts_at: start, ends_at: start + Duration::hours(3), room_id: None, trainer_ids: vec![] })
        .await
        .unwrap();
    (o.id, s.id)
}

fn numbers(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i:03}")).collect()
}

fn in_days(days: i64) -> DateTime<Utc> {
    // Whole seconds keep stored and computed instants equal.
    DateTime::from_timestamp(Utc::now().timestamp() + days * 86_400, 0).unwrap()
}

// 50 people book 10 seats at the same moment, three ways: through `book` (requests
// combined per offering inside this process), through `book_alone` (one transaction each:
// the database lock alone decides, as with several servers), and half and half.
on_both!(fifty_parallel_bookings_for_ten_seats, |store: Store, _dir: PathBuf| async move {
    unit(&store, "CITY", None).await;
    let learners = numbers("L", 50);
    people(&store, "CITY", &learners).await;
    let c = course(&store, "CITY").await;
    let policy = SchedulePolicy::default();
    for (round, alone_every) in [(0i64, 0usize), (1, 1), (2, 2)] {
        let (o, _) = offering(&store, c, 10, in_days(30 + round), false).await;
        let mut tasks = tokio::task::JoinSet::new();
        for (i, pn) in learners.clone().into_iter().enumerate() {
            let store = store.clone();
            let alone = alone_every > 0 && i % alone_every == 0;
            tasks.spawn(async move {
                if alone { store.book_alone(o, &pn, me(&pn), &policy).await } else { store.book(o, &pn, me(&pn), &policy).await }
            });
        }
        let mut statuses = Vec::new();
        while let Some(r) = tasks.join_next().await {
            statuses.push(r.unwrap().unwrap());
        }
        let booked = statuses.iter().filter(|b| b.status == "booked").count();
        let waitlisted = statuses.iter().filter(|b| b.status == "waitlisted").count();
        assert_eq!((booked, waitlisted), (10, 40), "round {round}");
        // What is stored agrees, and the waitlist is a permutation of 1..=40.
        let stored = store.list_bookings(o).await.unwrap();
        assert_eq!(stored.iter().filter(|b| b.status == "booked").count(), 10);
        let positions: BTreeSet<u32> = stored.iter().filter_map(|b| b.waitlist_position).collect();
        assert_eq!(positions, (1..=40).collect(), "round {round}");
        let ids: BTreeSet<i64> = stored.iter().map(|b| b.id).collect();
        assert_eq!(ids.len(), 50);
        let record = store.offering(o).await.unwrap().unwrap();
        assert_eq!((record.booked, record.waitlisted), (10, 40));
    }
    // One notification each: 10 confirmations, 40 waitlist notices per round.
    let due = store.due_notifications(Utc::now(), 1000).await.unwrap();
    assert_eq!(due.iter().filter(|m| m.kind == "booking_confirmed").count(), 30);
    assert_eq!(due.iter().filter(|m| m.kind == "waitlisted").count(), 120);
});

on_both!(cancellation_promotes_the_waitlist_in_order, |store: Store, _dir: PathBuf| async move {
    unit(&store, "CITY", None).await;
    let learners = numbers("W", 5);
    people(&store, "CITY", &learners).await;
    let c = course(&store, "CITY").await;
    let (o, _) = offering(&store, c, 2, in_days(10), false).await;
    let policy = SchedulePolicy::default();
    let mut made = Vec::new();
    for pn in &learners {
        made.push(store.book(o, pn, me(pn), &policy).await.unwrap());
    }
    let got: Vec<(&str, Option<u32>)> = made.iter().map(|b| (b.status.as_str(), b.waitlist_position)).collect();
    assert_eq!(got, [("booked", None), ("booked", None), ("waitlisted", Some(1)), ("waitlisted", Some(2)), ("waitlisted", Some(3))]);
    // Someone else may not cancel; a second booking of the same person is refused.
    let err = store.cancel_booking(made[0].id, me("W001"), &policy).await.unwrap_err();
    assert!(matches!(err, Error::Schedule(ScheduleError::NotOwnBooking { .. })), "{err:?}");
    let err = store.book(o, "W000", me("W000"), &policy).await.unwrap_err();
    assert!(matches!(err, Error::Schedule(ScheduleError::AlreadyBooked { .. })), "{err:?}");
    let cancelled = store.cancel_booking(made[0].id, me("W000"), &policy).await.unwrap();
    assert_eq!(cancelled.status, "cancelled");
    let after = |id: i64| {
        let store = store.clone();
        async move { store.booking(id).await.unwrap().unwrap() }
    };
    assert_eq!(after(made[2].id).await.status, "booked", "first on the waitlist is promoted");
    assert_eq!(after(made[3].id).await.waitlist_position, Some(1));
    assert_eq!(after(made[4].id).await.waitlist_position, Some(2));
    // An admin adds a seat: the next in line is promoted.
    let changed = store.change_max_participants(o, 3, &policy).await.unwrap();
    assert_eq!(changed.iter().map(|b| b.id).collect::<Vec<_>>(), [made[3].id]);
    let kinds: Vec<String> = store.notifications_for("W002", 10).await.unwrap().into_iter().map(|m| m.kind).collect();
    assert_eq!(kinds, ["promoted", "waitlisted"]);
});

on_both!(approval_goes_to_the_head_or_a_present_deputy, |store: Store, _dir: PathBuf| async move {
    unit(&store, "CITY", None).await;
    unit(&store, "HR", Some("CITY")).await;
    people(&store, "HR", &["BOSS".into(), "DEP".into(), "A".into(), "B".into()]).await;
    people(&store, "CITY", &["MAYOR".into()]).await;
    store.set_unit_head("HR", "BOSS", &["DEP".into()]).await.unwrap();
    store.set_unit_head("CITY", "MAYOR", &[]).await.unwrap();
    let c = course(&store, "CITY").await;
    let (o, _) = offering(&store, c, 5, in_days(20), true).await;
    let policy = SchedulePolicy::default();
    let a = store.book(o, "A", me("A"), &policy).await.unwrap();
    assert_eq!((a.status.as_str(), a.approver.as_deref()), ("pending_approval", Some("BOSS")));
    let today = lms_schedule::time::berlin_date(Utc::now());
    store.add_absence("BOSS", today, today + Duration::days(3)).await.unwrap();
    let b = store.book(o, "B", me("B"), &policy).await.unwrap();
    assert_eq!(b.approver.as_deref(), Some("DEP"), "the head is away: the deputy is asked");
    // The absent head may not decide today; the deputy may.
    let err = store.approve_booking(a.id, me("BOSS"), &policy).await.unwrap_err();
    assert!(matches!(err, Error::Schedule(ScheduleError::NotTheApprover { .. })), "{err:?}");
    assert_eq!(store.approve_booking(a.id, me("DEP"), &policy).await.unwrap().status, "booked");
    assert_eq!(store.reject_booking(b.id, admin(), &policy).await.unwrap().status, "rejected");
    // An admin booking needs no approval.
    assert_eq!(store.book(o, "MAYOR", admin(), &policy).await.unwrap().status, "booked");
    let kinds: Vec<String> = store.notifications_for("DEP", 10).await.unwrap().into_iter().map(|m| m.kind).collect();
    assert_eq!(kinds, ["approval_requested"]);
});

on_both!(sessions_refuse_room_and_trainer_clashes, |store: Store, _dir: PathBuf| async move {
    unit(&store, "CITY", None).await;
    people(&store, "CITY", &["T1".into(), "T2".into()]).await;
    let room = store.create_room(&NewRoom { name: "Room 1".into(), capacity: 12, location: Some("Town hall".into()) }).await.unwrap();
    let small = store.create_room(&NewRoom { name: "Closet".into(), capacity: 2, location: None }).await.unwrap();
    let c = course(&store, "CITY").await;
    let start = in_days(40);
    let mk = |max: u32| NewOffering {
        course_id: c,
        min_participants: 0,
        max_participants: max,
        booking_opens_at: None,
        booking_closes_at: start - Duration::days(1),
        cancellation_deadline: start - Duration::days(1),
        requires_approval: false,
        completion: CompletionRule::default(),
    };
    let first = store.create_offering(&mk(10)).await.unwrap().id;
    let second = store.create_offering(&mk(10)).await.unwrap().id;
    let session = |s: i64, e: i64, room: Option<i64>, trainer: &str| NewSession {
        starts_at: start + Duration::hours(s),
        ends_at: start + Duration::hours(e),
        room_id: room,
        trainer_ids: if trainer.is_empty() { vec![] } else { vec![trainer.to_string()] },
    };
    store.add_session(first, &session(0, 3, Some(room.id), "T1")).await.unwrap();
    // (offering, session, expected refusal: None = accepted)
    let cases: Vec<(i64, NewSession, Option<&str>)> = vec![
        (second, session(1, 2, Some(room.id), "T2"), Some("room")),
        (second, session(2, 4, None, "T1"), Some("trainer")),
        (second, session(1, 2, Some(small.id), "T2"), Some("room_too_small")),
        (second, session(3, 5, Some(room.id), "T1"), None), // back to back is fine
        (first, session(2, 4, None, ""), Some("overlap")),
        (second, session(6, 5, None, ""), Some("ends_before_start")),
        (second, session(-48, -47, None, ""), Some("window")),
    ];
    for (offering, new, expected) in cases {
        let result = store.add_session(offering, &new).await;
        let got = match &result {
            Ok(_) => None,
            Err(Error::Schedule(ScheduleError::Clash { resource, .. })) if resource.contains("room") => Some("room"),
            Err(Error::Schedule(ScheduleError::Clash { resource, .. })) if resource.contains("trainer") => Some("trainer"),
            Err(Error::Schedule(ScheduleError::Clash { .. })) => Some("overlap"),
            Err(Error::Schedule(ScheduleError::RoomTooSmall { .. })) => Some("room_too_small"),
            Err(Error::Schedule(ScheduleError::SessionEndsBeforeStart { .. })) => Some("ends_before_start"),
            Err(Error::Schedule(ScheduleError::InvalidField { field: "booking_closes_at", .. })) => Some("window"),
            Err(e) => panic!("unexpected {e:?}"),
        };
        assert_eq!(got, expected, "{:?}", result);
    }
    assert_eq!(store.offering(second).await.unwrap().unwrap().sessions.len(), 1);
});

on_both!(attendance_completes_unlocks_the_path_and_certifies, |store: Store, _dir: PathBuf| async move {
    unit(&store, "CITY", None).await;
    people(&store, "CITY", &["ANNA".into(), "BEN".into()]).await;
    let c = course(&store, "CITY").await;
    let second_course = course(&store, "CITY").await;
    let path = LearningPath {
        id: LearningPathId(0),
        order: PathOrder::Ordered,
        steps: vec![
            PathStep { id: StepId("class".into()), target: StepTarget::Offering { course_id: CourseId(c as u64) }, prerequisites: BTreeSet::new() },
            PathStep {
                id: StepId("next".into()),
                target: StepTarget::Offering { course_id: CourseId(second_course as u64) },
                prerequisites: BTreeSet::new(),
            },
        ],
    };
    let path_id = store.create_learning_path("Safety", &path).await.unwrap();
    let enrolled = store.enroll_in_path(path_id, "ANNA").await.unwrap();
    assert_eq!(enrolled.next_steps, [StepId("class".into())]);
    let requirement = store
        .create_requirement(&NewRequirement {
            title: "First aid every 2 years".into(),
            satisfied_by: vec![c],
            assigned_to: vec![AssignmentScope::OrgUnit(OrgUnitId("CITY".into()))],
            validity_months: Some(24),
            recertification_window_days: 60,
            initial_deadline_days: 90,
        })
        .await
        .unwrap();
    let before = store.mandatory_status("ANNA", Utc::now()).await.unwrap();
    assert_eq!((before[0].requirement_id, before[0].status), (requirement, TrainingStatus::NotStarted));

    // A session starting in three seconds: book now, mark once it has started.
    let start = DateTime::from_timestamp(Utc::now().timestamp() + 3, 0).unwrap();
    let (o, s) = offering(&store, c, 5, start, false).await;
    let policy = SchedulePolicy::default();
    store.book(o, "ANNA", me("ANNA"), &policy).await.unwrap();
    store.book(o, "BEN", me("BEN"), &policy).await.unwrap();
    let early = store.record_attendance(s, &[AttendanceInput { personnel_number: "ANNA".into(), status: AttendanceStatus::Attended }], "ADM").await;
    assert!(matches!(early, Err(Error::Schedule(ScheduleError::InvalidField { field: "recorded_at", .. }))), "{early:?}");
    while Utc::now() < start {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let report = store
        .record_attendance(
            s,
            &[
                AttendanceInput { personnel_number: "ANNA".into(), status: AttendanceStatus::Attended },
                AttendanceInput { personnel_number: "BEN".into(), status: AttendanceStatus::NoShow },
            ],
            "ADM",
        )
        .await
        .unwrap();
    assert_eq!(report.completion["ANNA"], CompletionOutcome::Completed);
    assert_eq!(report.completion["BEN"], CompletionOutcome::NotCompleted);
    // Meeting the completion rule issued ANNA's certificate at once (and only hers).
    assert_eq!(report.certificates_issued.keys().collect::<Vec<_>>(), ["ANNA"]);
    let anna = store.certificate(&report.certificates_issued["ANNA"]).await.unwrap().unwrap();
    assert_eq!((anna.personnel_number.as_str(), anna.origin.offering_id, anna.certificate.duration_minutes), ("ANNA", Some(o), 180));
    assert_eq!(anna.status, lms_store::CertificateStatus::Valid);
    assert_eq!(store.active_no_shows("BEN", Duration::days(365), Utc::now()).await.unwrap(), [s]);
    // The next step unlocked at once; history and mandatory status follow.
    let paths = store.paths_of("ANNA").await.unwrap();
    assert_eq!(paths[0].next_steps, [StepId("next".into())]);
    let history = store.person_history("ANNA", Utc::now()).await.unwrap();
    assert_eq!(history.completed_offerings.iter().map(|c| c.offering_id).collect::<Vec<_>>(), [o]);
    assert_eq!((history.mandatory[0].status, history.mandatory[0].cycle), (TrainingStatus::Valid, 1));
    // A correction (no-show after all) removes the completion; a later one restores it.
    let fix = store.record_attendance(s, &[AttendanceInput { personnel_number: "BEN".into(), status: AttendanceStatus::Attended }], "ADM").await.unwrap();
    assert_eq!(fix.completion["BEN"], CompletionOutcome::Completed);
    assert!(store.active_no_shows("BEN", Duration::days(365), Utc::now()).await.unwrap().is_empty());
    let ben = fix.certificates_issued["BEN"].clone();
    // Correcting BEN back to a no-show withdraws the completion and revokes its certificate;
    // attending after all issues a new one (the revoked one stays in the history).
    let undo = store.record_attendance(s, &[AttendanceInput { personnel_number: "BEN".into(), status: AttendanceStatus::NoShow }], "ADM").await.unwrap();
    assert_eq!((undo.certificates_issued.len(), undo.certificates_revoked.get("BEN")), (0, Some(&ben)));
    let revoked = store.certificate(&ben).await.unwrap().unwrap();
    assert_eq!((revoked.status, revoked.revoked_by.as_deref()), (lms_store::CertificateStatus::Revoked, Some("ADM")));
    let redo = store.record_attendance(s, &[AttendanceInput { personnel_number: "BEN".into(), status: AttendanceStatus::Attended }], "ADM").await.unwrap();
    assert_ne!(redo.certificates_issued["BEN"], ben);
    assert_eq!(store.certificates_of("BEN").await.unwrap().len(), 2);
    let not_booked = store.record_attendance(s, &[AttendanceInput { personnel_number: "NOBODY".into(), status: AttendanceStatus::Attended }], "ADM").await;
    assert!(matches!(not_booked, Err(Error::Invalid { field: "personnel_number", .. })), "{not_booked:?}");
    // Bookings are closed once the offering started.
    people(&store, "CITY", &["LATE".into()]).await;
    let late = store.book(o, "LATE", admin(), &policy).await.unwrap_err();
    assert!(matches!(late, Error::Schedule(ScheduleError::OfferingStarted { .. })), "{late:?}");
    // E-learning completion from the SCORM/xAPI side feeds the same machinery.
    // (No course uses package "pkg-1": no certificate, no path step.)
    let recorded = store.record_elearning_completion("ANNA", "pkg-1", Utc::now()).await.unwrap();
    assert_eq!((recorded.new, recorded.paths_advanced.len(), recorded.certificate), (true, 0, None));
    assert_eq!(store.person_history("ANNA", Utc::now()).await.unwrap().e_learning.len(), 1);
});

on_both!(calendar_feed_needs_the_token_and_bumps_sequence, |store: Store, _dir: PathBuf| async move {
    unit(&store, "CITY", None).await;
    people(&store, "CITY", &["CAL".into()]).await;
    let c = course(&store, "CITY").await;
    // Across the DST change: 09:00 Berlin on both sides.
    let winter = lms_schedule::time::berlin_to_utc(chrono::NaiveDate::from_ymd_opt(2027, 3, 22).unwrap().and_hms_opt(9, 0, 0).unwrap()).unwrap();
    let (o, _) = offering(&store, c, 5, winter, false).await;
    store
        .add_session(o, &NewSession { starts_at: winter + Duration::days(7) - Duration::hours(1), ends_at: winter + Duration::days(7) + Duration::hours(2), room_id: None, trainer_ids: vec![] })
        .await
        .unwrap();
    let policy = SchedulePolicy::default();
    let booking = store.book(o, "CAL", me("CAL"), &policy).await.unwrap();
    let token = store.rotate_calendar_token("CAL").await.unwrap();
    let context = IcsContext { prodid: "-//Test//EN".into(), uid_domain: "lms.test".into(), organizer_email: "t@lms.test".into(), organizer_name: "T".into() };
    assert!(store.calendar_feed("CAL", "wrong", &context, Utc::now()).await.unwrap().is_none());
    let feed = store.calendar_feed("CAL", &token, &context, Utc::now()).await.unwrap().unwrap();
    assert_eq!(feed.matches("BEGIN:VEVENT").count(), 2);
    assert!(feed.contains("DTSTART;TZID=Europe/Berlin:20270322T090000"), "{feed}");
    assert!(feed.contains("DTSTART;TZID=Europe/Berlin:20270329T090000"), "{feed}");
    assert!(feed.contains("BEGIN:VTIMEZONE") && feed.contains("SEQUENCE:0"), "{feed}");
    // Rendering again changes nothing; cancelling bumps the sequence and marks it cancelled.
    let again = store.calendar_feed("CAL", &token, &context, Utc::now()).await.unwrap().unwrap();
    assert_eq!(again.matches("SEQUENCE:0").count(), 2);
    store.cancel_booking(booking.id, me("CAL"), &policy).await.unwrap();
    let cancelled = store.calendar_feed("CAL", &token, &context, Utc::now()).await.unwrap().unwrap();
    assert_eq!(cancelled.matches("SEQUENCE:1").count(), 2, "{cancelled}");
    assert_eq!(cancelled.matches("STATUS:CANCELLED").count(), 2);
    // A new token replaces the old one.
    let fresh = store.rotate_calendar_token("CAL").await.unwrap();
    assert!(store.calendar_feed("CAL", &token, &context, Utc::now()).await.unwrap().is_none());
    assert!(store.check_calendar_token("CAL", &fresh).await.unwrap());
});

on_both!(team_view_shows_reports_only_and_is_audited, |store: Store, _dir: PathBuf| async move {
    unit(&store, "CITY", None).await;
    unit(&store, "DEP", Some("CITY")).await;
    unit(&store, "TEAM", Some("DEP")).await;
    unit(&store, "OTHER", Some("CITY")).await;
    people(&store, "DEP", &["HEAD".into(), "D1".into()]).await;
    people(&store, "TEAM", &["LEAD".into(), "T1".into()]).await;
    people(&store, "OTHER", &["X1".into()]).await;
    store.set_unit_head("DEP", "HEAD", &[]).await.unwrap();
    store.set_unit_head("TEAM", "LEAD", &[]).await.unwrap();
    let c = course(&store, "CITY").await;
    let (o, _) = offering(&store, c, 5, in_days(9), false).await;
    let policy = SchedulePolicy::default();
    for pn in ["D1", "T1", "X1"] {
        store.book(o, pn, me(pn), &policy).await.unwrap();
    }
    // Mandatory training for TEAM only: shown for LEAD and T1, not for D1.
    let requirement = store
        .create_requirement(&NewRequirement {
            title: "Team safety".into(),
            satisfied_by: vec![c],
            assigned_to: vec![AssignmentScope::OrgUnit(OrgUnitId("TEAM".into()))],
            validity_months: None,
            recertification_window_days: 0,
            initial_deadline_days: 30,
        })
        .await
        .unwrap();
    let view = store.team_view("HEAD", "HEAD", Utc::now()).await.unwrap();
    let members: Vec<(&str, bool, usize, Vec<i64>)> = view
        .members
        .iter()
        .map(|m| (m.person.as_str(), m.direct, m.records.bookings.len(), m.records.mandatory.iter().map(|r| r.requirement.0 as i64).collect()))
        .collect();
    assert_eq!(members, [("D1", true, 1, vec![]), ("LEAD", true, 0, vec![requirement]), ("T1", false, 1, vec![requirement])]);
    let json = serde_json::to_string(&view).unwrap();
    assert!(!json.contains("score") && !json.contains("time_spent") && !json.contains("X1"), "{json}");
    let lead = store.team_view("LEAD", "ADM", Utc::now()).await.unwrap();
    assert_eq!(lead.members.iter().map(|m| m.person.as_str()).collect::<Vec<_>>(), ["T1"]);
    assert!(store.team_view("X1", "X1", Utc::now()).await.unwrap().members.is_empty());
    assert!(store.is_report_of("HEAD", "T1", Utc::now()).await.unwrap());
    assert!(!store.is_report_of("LEAD", "D1", Utc::now()).await.unwrap());
    assert!(!store.is_report_of("HEAD", "HEAD", Utc::now()).await.unwrap());
    let log = store.view_audit_log(10).await.unwrap();
    let rows: Vec<(&str, &str, &str, i64)> = log.iter().map(|e| (e.viewer.as_str(), e.view.as_str(), e.subject.as_str(), e.people_shown)).collect();
    assert_eq!(rows, [("X1", "team", "X1", 0), ("ADM", "team", "LEAD", 1), ("HEAD", "team", "HEAD", 3)]);
});

on_both!(outbox_delivery_marks_and_retries, |store: Store, _dir: PathBuf| async move {
    unit(&store, "CITY", None).await;
    people(&store, "CITY", &["N1".into()]).await;
    let c = course(&store, "CITY").await;
    let (o, _) = offering(&store, c, 5, in_days(3), false).await;
    store.book(o, "N1", me("N1"), &SchedulePolicy::default()).await.unwrap();
    let due = store.due_notifications(Utc::now(), 10).await.unwrap();
    assert_eq!(due.iter().map(|m| m.kind.as_str()).collect::<Vec<_>>(), ["booking_confirmed"]);
    store.mark_notification_failed(due[0].id, "smtp down", Utc::now() + Duration::minutes(5)).await.unwrap();
    assert!(store.due_notifications(Utc::now(), 10).await.unwrap().is_empty());
    let later = store.due_notifications(Utc::now() + Duration::minutes(6), 10).await.unwrap();
    assert_eq!((later[0].attempts, later[0].last_error.as_deref()), (1, Some("smtp down")));
    store.mark_notification_delivered(later[0].id, Utc::now()).await.unwrap();
    assert!(store.due_notifications(Utc::now() + Duration::days(1), 10).await.unwrap().is_empty());
    // A tick within the reminder lead queues one reminder per booked session, once.
    let tick = |now| {
        let store = store.clone();
        async move { store.schedule_tick(&SchedulePolicy { reminder_lead: Duration::days(4), ..SchedulePolicy::default() }, now).await.unwrap() }
    };
    assert_eq!(tick(Utc::now()).await.notifications_queued, 1);
    assert_eq!(tick(Utc::now()).await.notifications_queued, 0);
    let kinds: Vec<String> = store.notifications_for("N1", 10).await.unwrap().into_iter().map(|m| m.kind).collect();
    assert_eq!(kinds, ["session_reminder", "booking_confirmed"]);
});

on_both!(generated_year_loads, |store: Store, _dir: PathBuf| async move {
    // The city's year with the bookings grouped by offering: the same 10,000 requests through
    // the same rules, but arriving together per offering, so the store combines them into far
    // fewer transactions (about 4x faster on SQLite, where each commit waits for an fsync).
    let spec = YearSpec { group_by_offering: true, ..YearSpec::city(Utc::now()) };
    let started = std::time::Instant::now();
    let summary = store.generate_year(&spec).await.unwrap();
    eprintln!("generated year on {:?} in {:.1} s: {summary:?}", store.backend(), started.elapsed().as_secs_f64());
    assert_eq!((summary.people, summary.offerings, summary.sessions, summary.booking_attempts), (16_000, 900, 1800, 10_000));
    assert_eq!(summary.booked + summary.waitlisted + summary.refused, 10_000);
    assert!(summary.refused < 200, "{summary:?}");
    // Never oversold, and the counts in the database agree with the outcomes.
    let mut booked = 0;
    for o in store.list_offerings(None, 1000, 0).await.unwrap() {
        assert!(o.booked <= o.max_participants, "offering {} oversold", o.id);
        assert!(o.waitlisted == 0 || o.booked == o.max_participants, "offering {} has a waitlist and free seats", o.id);
        booked += o.booked as usize;
    }
    assert_eq!(booked, summary.booked);
    let view = store.team_view(&summary.department_heads[0], "audit", Utc::now()).await.unwrap();
    assert!(view.members.len() > 700, "{}", view.members.len());
});
