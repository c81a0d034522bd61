//! Offering validation and clash detection.

use std::collections::BTreeMap;

use lms_schedule::ids::{CourseId, OfferingId, RoomId, SessionId};
use lms_schedule::offering::{check_no_clash, find_clashes, learner_clash, Commitment, Offering, Room, Session};

use crate::{at, p};

pub fn session(id: u64, start: &str, end: &str, room: Option<u64>, trainers: &[&str]) -> Session {
    Session {
        id: SessionId(id),
        starts_at: at(start),
        ends_at: at(end),
        room: room.map(RoomId),
        trainers: trainers.iter().map(|t| p(t)).collect(),
    }
}

pub fn rooms() -> BTreeMap<RoomId, Room> {
    [(1, 12), (2, 30)]
        .into_iter()
        .map(|(id, capacity)| (RoomId(id), Room { id: RoomId(id), name: format!("Room {id}"), capacity }))
        .collect()
}

fn offering(sessions: Vec<Session>) -> Offering {
    Offering {
        id: OfferingId(1),
        course_id: CourseId(1),
        min_participants: 3,
        max_participants: 12,
        booking_opens_at: Some(at("2026-04-01T00:00:00Z")),
        booking_closes_at: at("2026-05-01T00:00:00Z"),
        cancellation_deadline: at("2026-05-03T00:00:00Z"),
        requires_approval: false,
        sessions,
    }
}

fn s1() -> Session {
    session(1, "2026-05-04T09:00:00+02:00", "2026-05-04T12:00:00+02:00", Some(1), &["T1"])
}

/// `edit` changes a valid offering; expected is "ok" or the error text.
fn check(edit: impl FnOnce(&mut Offering), expected: &str) {
    let mut o = offering(vec![s1(), session(2, "2026-05-05T09:00:00+02:00", "2026-05-05T12:00:00+02:00", Some(2), &["T1"])]);
    edit(&mut o);
    let got = o.validate(&rooms()).map(|_| "ok".to_owned()).unwrap_or_else(|e| e.to_string());
    assert_eq!(got, expected);
}

#[test]
fn offerings_are_validated() {
    check(|_| {}, "ok");
    check(|o| o.max_participants = 0, "invalid max_participants: 0 is not in 1..=10000");
    check(|o| o.min_participants = 13, "invalid min_participants: 13 exceeds max_participants 12");
    check(|o| o.max_participants = 13, "room 1 holds 12 people but the offering allows 13");
    check(|o| o.sessions[1].room = Some(RoomId(9)), "unknown room 9");
    check(
        |o| o.sessions[0].ends_at = o.sessions[0].starts_at,
        "session 1 ends (2026-05-04 07:00:00 UTC) before or when it starts (2026-05-04 07:00:00 UTC)",
    );
    check(|o| o.sessions[0].ends_at = at("2026-05-06T09:00:00Z"), "invalid ends_at: session 1 is longer than 24 hours");
    check(|o| o.sessions[1].id = SessionId(1), "invalid sessions: duplicate session 1");
    check(
        |o| o.sessions[1] = session(2, "2026-05-04T11:00:00+02:00", "2026-05-04T13:00:00+02:00", None, &[]),
        "session 2 clashes with session 1: two sessions of the same offering overlap",
    );
    check(
        |o| o.booking_closes_at = at("2026-05-04T08:00:00Z"),
        "invalid booking_closes_at: 2026-05-04 08:00:00 UTC is after the first session starts (2026-05-04 07:00:00 UTC)",
    );
    check(
        |o| o.cancellation_deadline = at("2026-05-04T07:00:01Z"),
        "invalid cancellation_deadline: 2026-05-04 07:00:01 UTC is after the first session starts (2026-05-04 07:00:00 UTC)",
    );
    check(
        |o| o.booking_opens_at = Some(at("2026-05-01T00:00:00Z")),
        "invalid booking_opens_at: 2026-05-01 00:00:00 UTC is not before booking_closes_at 2026-05-01 00:00:00 UTC",
    );
    check(|o| o.sessions.clear(), "ok");
    check(
        |o| o.sessions = (0..501).map(|i| session(i, "2026-05-04T09:00:00+02:00", "2026-05-04T09:01:00+02:00", None, &[])).collect(),
        "invalid sessions: 501 sessions; at most 500 per offering",
    );
}

#[test]
fn room_and_trainer_clashes() {
    let existing = vec![
        session(10, "2026-05-04T10:00:00+02:00", "2026-05-04T11:00:00+02:00", Some(1), &["T9"]),
        session(11, "2026-05-04T11:30:00+02:00", "2026-05-04T14:00:00+02:00", Some(2), &["T1", "T2"]),
        session(12, "2026-05-04T12:00:00+02:00", "2026-05-04T13:00:00+02:00", Some(1), &["T1"]), // adjacent: no clash
        session(13, "2026-05-04T08:00:00+02:00", "2026-05-04T09:00:00+02:00", Some(1), &["T1"]), // adjacent before
        session(1, "2026-05-04T09:00:00+02:00", "2026-05-04T12:00:00+02:00", Some(1), &["T1"]),  // itself (an update)
        session(14, "2026-05-05T09:00:00+02:00", "2026-05-05T12:00:00+02:00", Some(1), &["T1"]), // other day
    ];
    let mut candidate = s1();
    candidate.trainers.insert(p("T2"));
    let got: Vec<String> = find_clashes(&candidate, &existing)
        .into_iter()
        .map(|c| format!("{} vs {}: {}", c.session, c.other_session, c.resource))
        .collect();
    assert_eq!(got, vec![
        "1 vs 10: room 1 is double-booked",
        "1 vs 11: trainer T1 is double-booked",
        "1 vs 11: trainer T2 is double-booked",
    ]);
    assert_eq!(
        check_no_clash(&candidate, &existing).unwrap_err().to_string(),
        "session 1 clashes with session 10: room 1 is double-booked"
    );
    let online = session(2, "2026-05-04T10:00:00+02:00", "2026-05-04T11:00:00+02:00", None, &["T5"]);
    let online_existing = vec![session(20, "2026-05-04T10:00:00+02:00", "2026-05-04T11:00:00+02:00", None, &["T6"])];
    assert!(check_no_clash(&online, &online_existing).is_ok(), "no room, different trainers");
}

#[test]
fn learner_clash_ignores_commitments_of_the_same_offering() {
    let o = offering(vec![s1()]);
    let commitment = |offering: u64, session: u64, start: &str, end: &str| Commitment {
        offering: OfferingId(offering),
        session: SessionId(session),
        starts_at: at(start),
        ends_at: at(end),
    };
    let cases = [
        (commitment(2, 20, "2026-05-04T11:59:00+02:00", "2026-05-04T13:00:00+02:00"), Some("1 vs 20: learner L1 is booked elsewhere at that time")),
        (commitment(2, 20, "2026-05-04T12:00:00+02:00", "2026-05-04T13:00:00+02:00"), None),
        (commitment(1, 1, "2026-05-04T09:00:00+02:00", "2026-05-04T12:00:00+02:00"), None),
    ];
    for (c, expected) in cases {
        let got = learner_clash(&p("L1"), &o, std::slice::from_ref(&c)).map(|c| format!("{} vs {}: {}", c.session, c.other_session, c.resource));
        assert_eq!(got.as_deref(), expected, "{c:?}");
    }
}
