//! Property tests: over random sequences of book / approve / reject / cancel / capacity /
//! clash / time-advance operations, the waitlist and capacity invariants hold after every
//! transition:
//!
//! * never more booked than `max_participants`;
//! * nobody becomes booked once the offering has started;
//! * promotions follow the waitlist order — whoever stays waitlisted while someone behind
//!   them is promoted has a clash;
//! * no free seat stays unused while a non-clashing person waits (before the start);
//! * one active booking per person, terminal statuses stay terminal, failed operations
//!   change nothing (the caller keeps the old state).

use std::collections::{BTreeMap, BTreeSet};

use chrono::Duration;
use lms_schedule::booking::{Actor, BookRequest, BookingStatus, OfferingState, Transition};
use lms_schedule::catalogue::Visibility;
use lms_schedule::ids::{BookingId, OfferingId, PersonId, SessionId};
use lms_schedule::offering::{learner_clash, Commitment};
use lms_schedule::org::resolve_approver;
use lms_schedule::outbox::Notification;
use proptest::prelude::*;

use crate::at;
use crate::booking::Scenario;
use crate::p;

const PEOPLE: [&str; 8] = ["L1", "L2", "L3", "L4", "L5", "L6", "DEP11A", "LEAD12"];

#[derive(Debug, Clone)]
enum Step {
    Book { person: usize, admin: bool },
    Approve { booking: u64, admin: bool },
    Reject { booking: u64 },
    Cancel { booking: u64, admin: bool },
    Capacity(u32),
    Clash(usize),
    Unclash(usize),
    Advance(i64),
    Tick,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0..PEOPLE.len(), any::<bool>()).prop_map(|(person, admin)| Step::Book { person, admin }),
        2 => (1..12u64, any::<bool>()).prop_map(|(booking, admin)| Step::Approve { booking, admin }),
        1 => (1..12u64).prop_map(|booking| Step::Reject { booking }),
        3 => (1..12u64, any::<bool>()).prop_map(|(booking, admin)| Step::Cancel { booking, admin }),
        1 => (1..6u32).prop_map(Step::Capacity),
        1 => (0..PEOPLE.len()).prop_map(Step::Clash),
        1 => (0..PEOPLE.len()).prop_map(Step::Unclash),
        2 => (0..96i64).prop_map(Step::Advance),
        1 => Just(Step::Tick),
    ]
}

fn clash_commitment() -> Commitment {
    Commitment {
        offering: OfferingId(99),
        session: SessionId(991),
        starts_at: at("2026-05-05T10:00:00+02:00"),
        ends_at: at("2026-05-05T11:00:00+02:00"),
    }
}

fn run(s: &mut Scenario, step: &Step) -> Option<Result<Transition, lms_schedule::ScheduleError>> {
    let now = s.now;
    let rules = s.rules();
    let actor = |admin: bool, person: &PersonId| if admin { Actor::Admin(p("ADMIN")) } else { Actor::Person(person.clone()) };
    let owner = |id: u64| s.state.booking(BookingId(id)).map(|b| b.person.clone()).unwrap_or_else(|| p("L1"));
    Some(match step {
        Step::Book { person, admin } => {
            let person = p(PEOPLE[*person]);
            let request = BookRequest { booking_id: BookingId(s.next_id), actor: actor(*admin, &person), person };
            s.state.book(&rules, request, now)
        }
        Step::Approve { booking, admin } => {
            let learner = owner(*booking);
            let approver = resolve_approver(&s.tree, &s.absences, &learner, now, now, rules.approval).map_or(p("MAYOR"), |a| a.person);
            s.state.approve(&rules, BookingId(*booking), actor(*admin, &approver), now)
        }
        Step::Reject { booking } => s.state.reject(&rules, BookingId(*booking), Actor::Admin(p("ADMIN")), now),
        Step::Cancel { booking, admin } => s.state.cancel(&rules, BookingId(*booking), actor(*admin, &owner(*booking)), now),
        Step::Capacity(max) => s.state.change_max_participants(&rules, *max, now),
        Step::Tick => s.state.advance_time(&rules, now),
        Step::Clash(person) => {
            s.commitments.insert(p(PEOPLE[*person]), vec![clash_commitment()]);
            return None;
        }
        Step::Unclash(person) => {
            s.commitments.remove(&p(PEOPLE[*person]));
            return None;
        }
        Step::Advance(hours) => {
            s.now += Duration::hours(*hours);
            return None;
        }
    })
}

fn check_invariants(s: &Scenario, before: &OfferingState, t: &Transition) -> Result<(), TestCaseError> {
    let after = &t.state;
    let now = s.now;
    let started = after.offering.has_started(now);
    let clashes = |person: &PersonId| s.commitments.get(person).and_then(|c| learner_clash(person, &after.offering, c)).is_some();
    prop_assert!(after.booked_count() <= after.offering.max_participants, "oversold: {} > {}", after.booked_count(), after.offering.max_participants);
    let mut ids = BTreeSet::new();
    let mut active = BTreeSet::new();
    for b in &after.bookings {
        prop_assert!(ids.insert(b.id), "duplicate booking id {}", b.id);
        if b.status.is_active() {
            prop_assert!(active.insert(b.person.clone()), "{} has two active bookings", b.person);
        }
    }
    let old: BTreeMap<BookingId, BookingStatus> = before.bookings.iter().map(|b| (b.id, b.status)).collect();
    let old_waitlist: Vec<BookingId> = before.waitlist().iter().map(|b| b.id).collect();
    for b in &after.bookings {
        let was = old.get(&b.id).copied();
        if matches!(was, Some(BookingStatus::Cancelled | BookingStatus::Rejected)) {
            prop_assert_eq!(Some(b.status), was, "terminal status left for booking {}", b.id);
        }
        let newly_booked = b.status == BookingStatus::Booked && was != Some(BookingStatus::Booked);
        prop_assert!(!(newly_booked && started), "booking {} became booked after the start", b.id);
        if newly_booked && was == Some(BookingStatus::Waitlisted) {
            // Everyone ahead of the promoted person who is still waiting must have a clash.
            let position = old_waitlist.iter().position(|id| *id == b.id).unwrap_or(usize::MAX);
            for ahead in &old_waitlist[..position.min(old_waitlist.len())] {
                let still_waiting = after.booking(*ahead).is_some_and(|x| x.status == BookingStatus::Waitlisted);
                if still_waiting {
                    let person = &after.booking(*ahead).map(|x| x.person.clone()).unwrap_or_else(|| p("?"));
                    prop_assert!(clashes(person), "booking {} promoted ahead of {} without a clash", b.id, ahead);
                }
            }
        }
    }
    if !started && after.free_seats() > 0 {
        for w in after.waitlist() {
            prop_assert!(clashes(&w.person), "seat free but {} (no clash) still waits", w.id);
        }
    }
    // New waitlist entries join at the end.
    let max_old_seq = before.bookings.iter().filter_map(|b| b.waitlist_seq).max().unwrap_or(0);
    for b in &after.bookings {
        if b.status == BookingStatus::Waitlisted && old.get(&b.id) != Some(&BookingStatus::Waitlisted) {
            prop_assert!(b.waitlist_seq.unwrap_or(0) > max_old_seq, "booking {} did not join at the end", b.id);
        }
    }
    // Notifications match the changes.
    let keys: BTreeSet<&str> = t.outbox.iter().map(|e| e.dedupe_key.as_str()).collect();
    prop_assert_eq!(keys.len(), t.outbox.len(), "duplicate dedupe keys in one transition");
    for e in &t.outbox {
        if let Notification::Promoted { booking, .. } = e.notification {
            prop_assert_eq!(old.get(&booking), Some(&BookingStatus::Waitlisted));
            prop_assert_eq!(after.booking(booking).map(|b| b.status), Some(BookingStatus::Booked));
        }
    }
    for id in ids {
        let changed = before.booking(id) != after.booking(id);
        prop_assert_eq!(changed, t.changed.contains(&id), "`changed` must list exactly the modified booking {}", id);
    }
    Ok(())
}

/// Six days before the first session (window closes in 2.5 days), so random time advances
/// cross the booking deadline and the start in a good share of the runs.
fn scenario(max: u32, approval: bool) -> Scenario {
    let mut s = Scenario::new(max, approval, Visibility::CityWide);
    s.now = at("2026-04-28T10:00:00+02:00");
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn waitlist_and_capacity_invariants(
        max in 1..4u32,
        approval in any::<bool>(),
        steps in proptest::collection::vec(step(), 1..60),
    ) {
        let mut s = scenario(max, approval);
        for step in &steps {
            let before = s.state.clone();
            match run(&mut s, step) {
                None => {}
                Some(Err(_)) => prop_assert_eq!(&s.state, &before),
                Some(Ok(t)) => {
                    check_invariants(&s, &before, &t)?;
                    if matches!(step, Step::Book { .. }) {
                        s.next_id += 1;
                    }
                    s.state = t.state;
                }
            }
        }
    }
}

/// The generator does reach the interesting states (promotions, skips, the start).
#[test]
fn generator_reaches_promotions_and_the_start() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut promotions, mut skips, mut started) = (0, 0, 0);
    for _ in 0..200 {
        let steps = proptest::collection::vec(step(), 1..60).new_tree(&mut runner).unwrap().current();
        let mut s = scenario(2, false);
        for step in &steps {
            if let Some(Ok(t)) = run(&mut s, step) {
                promotions += t.outbox.iter().filter(|e| matches!(e.notification, Notification::Promoted { .. })).count();
                if matches!(step, Step::Book { .. }) {
                    s.next_id += 1;
                }
                s.state = t.state;
            }
        }
        skips += s.state.bookings.iter().filter(|b| !b.promotion_skips.is_empty()).count();
        started += usize::from(s.state.offering.has_started(s.now));
    }
    assert!(promotions > 50, "only {promotions} promotions in 200 runs");
    assert!(skips > 5, "only {skips} clash skips in 200 runs");
    assert!(started > 20 && started < 190, "{started} of 200 runs reach the start");
}
