//! Scripted booking scenarios. Each script runs against the test city and an offering with
//! 2 seats and two sessions (Mon 4 and Tue 5 May 2026, 09:00–12:00 Berlin); the dump of
//! every step (result, changed bookings, outbox) and the final bookings is compared with
//! the snapshot (refresh with `UPDATE_EXPECT=1`, then review the diff).

use std::collections::BTreeMap;
use std::fmt::Write;

use chrono::{DateTime, Duration, Utc};
use expect_test::{expect, Expect};
use lms_schedule::booking::{Actor, BookRequest, OfferingState, Rules};
use lms_schedule::catalogue::{Course, CourseKind, Visibility};
use lms_schedule::ids::{BookingId, CourseId, OfferingId, PersonId, SessionId};
use lms_schedule::offering::{Commitment, Offering};
use lms_schedule::org::{Absences, ApprovalPolicy, OrgTree};
use lms_schedule::outbox::Notification;

use crate::offering::session;
use crate::{at, city, p, u};

#[derive(Debug, Clone)]
pub enum Op {
    /// Set the clock.
    At(&'static str),
    /// Self-booking.
    Book(&'static str),
    /// Admin ADMIN books for the person.
    AdminBook(&'static str),
    /// `(actor, learner)`: someone books for someone else without admin rights.
    BookFor(&'static str, &'static str),
    Approve(u64, &'static str),
    Reject(u64, &'static str),
    /// Learner (or other person) cancels.
    Cancel(u64, &'static str),
    AdminCancel(u64),
    /// The person gets a booked session elsewhere overlapping the first session.
    CommitElsewhere(&'static str),
    Absent(&'static str),
    Tick,
    Capacity(u32),
}

pub struct Scenario {
    pub tree: OrgTree,
    pub course: Course,
    pub absences: Absences,
    pub commitments: BTreeMap<PersonId, Vec<Commitment>>,
    pub state: OfferingState,
    pub now: DateTime<Utc>,
    pub next_id: u64,
}

pub fn offering(max: u32, requires_approval: bool) -> Offering {
    Offering {
        id: OfferingId(7),
        course_id: CourseId(70),
        min_participants: 1,
        max_participants: max,
        booking_opens_at: Some(at("2026-04-01T00:00:00+02:00")),
        booking_closes_at: at("2026-05-01T00:00:00+02:00"),
        cancellation_deadline: at("2026-05-02T00:00:00+02:00"),
        requires_approval,
        sessions: vec![
            session(71, "2026-05-04T09:00:00+02:00", "2026-05-04T12:00:00+02:00", Some(1), &["T1"]),
            session(72, "2026-05-05T09:00:00+02:00", "2026-05-05T12:00:00+02:00", Some(1), &["T1"]),
        ],
    }
}

impl Scenario {
    pub fn new(max: u32, requires_approval: bool, visibility: Visibility) -> Self {
        Self {
            tree: city(),
            course: Course { id: CourseId(70), title: "First aid".into(), org_unit: u("FB2"), kind: CourseKind::Classroom, visibility },
            absences: Absences::new(),
            commitments: BTreeMap::new(),
            state: OfferingState::new(offering(max, requires_approval)),
            now: at("2026-04-10T10:00:00+02:00"),
            next_id: 1,
        }
    }

    pub fn rules(&self) -> Rules<'_> {
        Rules {
            course: &self.course,
            org: &self.tree,
            absences: &self.absences,
            approval: ApprovalPolicy { escalate_after_days: 3 },
            commitments: &self.commitments,
            reminder_lead: Duration::hours(24),
        }
    }

    /// Applies one op; `Ok(None)` for ops that are not transitions.
    pub fn apply(&mut self, op: &Op) -> Result<Option<lms_schedule::booking::Transition>, lms_schedule::ScheduleError> {
        let rules = self.rules();
        let now = self.now;
        let result = match op {
            Op::At(t) => {
                self.now = at(t);
                return Ok(None);
            }
            Op::CommitElsewhere(person) => {
                self.commitments.entry(p(person)).or_default().push(Commitment {
                    offering: OfferingId(99),
                    session: SessionId(991),
                    starts_at: at("2026-05-04T11:00:00+02:00"),
                    ends_at: at("2026-05-04T13:00:00+02:00"),
                });
                return Ok(None);
            }
            Op::Absent(person) => {
                let today = lms_schedule::time::berlin_date(now);
                self.absences.add(p(person), today, today + Duration::days(30))?;
                return Ok(None);
            }
            Op::Book(person) | Op::AdminBook(person) | Op::BookFor(_, person) => {
                let actor = match op {
                    Op::AdminBook(_) => Actor::Admin(p("ADMIN")),
                    Op::BookFor(actor, _) => Actor::Person(p(actor)),
                    _ => Actor::Person(p(person)),
                };
                let id = BookingId(self.next_id);
                let t = self.state.book(&rules, BookRequest { booking_id: id, person: p(person), actor }, now);
                if t.is_ok() {
                    self.next_id += 1;
                }
                t
            }
            Op::Approve(id, who) => self.state.approve(&rules, BookingId(*id), actor(who), now),
            Op::Reject(id, who) => self.state.reject(&rules, BookingId(*id), actor(who), now),
            Op::Cancel(id, who) => self.state.cancel(&rules, BookingId(*id), Actor::Person(p(who)), now),
            Op::AdminCancel(id) => self.state.cancel(&rules, BookingId(*id), Actor::Admin(p("ADMIN")), now),
            Op::Tick => self.state.advance_time(&rules, now),
            Op::Capacity(max) => self.state.change_max_participants(&rules, *max, now),
        }?;
        self.state = result.state.clone();
        Ok(Some(result))
    }
}

fn actor(who: &str) -> Actor {
    if who == "ADMIN" { Actor::Admin(p(who)) } else { Actor::Person(p(who)) }
}

fn describe(n: &Notification) -> String {
    match n {
        Notification::Waitlisted { booking, position, .. } => format!("waitlisted #{booking} pos {position}"),
        Notification::BookingConfirmed { booking, .. } => format!("confirmed #{booking}"),
        Notification::Promoted { booking, .. } => format!("promoted #{booking}"),
        Notification::Cancelled { booking, reason, .. } => format!("cancelled #{booking} {reason:?}"),
        Notification::ApprovalRequested { booking, learner, escalation_level, deputy_for, .. } => {
            format!("approval-requested #{booking} for {learner} level {escalation_level} deputy_for {deputy_for:?}")
        }
        Notification::SessionReminder { booking, session, .. } => format!("reminder #{booking} session {session}"),
        Notification::RecertificationDue { requirement, cycle, .. } => format!("recert {requirement} cycle {cycle}"),
    }
}

/// Runs the script and compares the dump.
fn check(max: u32, requires_approval: bool, visibility: Visibility, script: &[Op], expected: Expect) {
    let mut s = Scenario::new(max, requires_approval, visibility);
    let mut out = String::new();
    for op in script {
        match s.apply(op) {
            Ok(None) => {}
            Ok(Some(t)) => {
                assert_eq!(t.is_noop(), t.changed.is_empty() && t.outbox.is_empty());
                let changed: Vec<String> = t.changed.iter().map(|c| format!("#{c}")).collect();
                let _ = writeln!(out, "{op:?} -> ok, changed [{}]", changed.join(" "));
                for e in &t.outbox {
                    let _ = writeln!(out, "    to {}: {} ({})", e.recipient, describe(&e.notification), e.dedupe_key);
                }
            }
            Err(e) => {
                let _ = writeln!(out, "{op:?} -> error: {e}");
            }
        }
    }
    let _ = writeln!(out, "final ({} booked, {} free):", s.state.booked_count(), s.state.free_seats());
    for b in &s.state.bookings {
        let position = s.state.waitlist_position(b.id).map(|n| format!(" pos {n}")).unwrap_or_default();
        let skips: Vec<String> =
            b.promotion_skips.iter().map(|k| format!(" skipped: {}", k.clash.resource)).collect();
        let _ = writeln!(out, "  #{} {} {}{position}{}", b.id, b.person, b.status.name(), skips.concat());
    }
    expected.assert_eq(&out);
}

#[test]
fn waitlist_is_served_in_order_and_never_after_start() {
    use Op::*;
    check(2, false, Visibility::CityWide, &[
        Book("L1"), Book("L2"), Book("L3"), Book("L4"), Book("L5"),
        Cancel(1, "L1"),
        At("2026-05-02T00:00:01+02:00"),
        Cancel(2, "L2"),
        AdminCancel(2),
        Book("L1"),
        AdminBook("L1"),
        At("2026-05-04T09:00:00+02:00"),
        AdminCancel(3),
        AdminBook("L6"),
    ], expect![[r#"
        Book("L1") -> ok, changed [#1]
            to L1: confirmed #1 (booking-confirmed:1)
        Book("L2") -> ok, changed [#2]
            to L2: confirmed #2 (booking-confirmed:2)
        Book("L3") -> ok, changed [#3]
            to L3: waitlisted #3 pos 1 (waitlisted:3)
        Book("L4") -> ok, changed [#4]
            to L4: waitlisted #4 pos 2 (waitlisted:4)
        Book("L5") -> ok, changed [#5]
            to L5: waitlisted #5 pos 3 (waitlisted:5)
        Cancel(1, "L1") -> ok, changed [#1 #3]
            to L1: cancelled #1 ByLearner (cancelled:1)
            to L3: promoted #3 (promoted:3)
        Cancel(2, "L2") -> error: the cancellation deadline 2026-05-01 22:00:00 UTC has passed (now 2026-05-01 22:00:01 UTC); ask an admin
        AdminCancel(2) -> ok, changed [#2 #4]
            to L2: cancelled #2 ByAdmin (cancelled:2)
            to L4: promoted #4 (promoted:4)
        Book("L1") -> error: booking window is closed (it runs from 2026-03-31 22:00:00 UTC until 2026-04-30 22:00:00 UTC; now is 2026-05-01 22:00:01 UTC)
        AdminBook("L1") -> ok, changed [#6]
            to L1: waitlisted #6 pos 2 (waitlisted:6)
        AdminCancel(3) -> ok, changed [#3]
            to L3: cancelled #3 ByAdmin (cancelled:3)
        AdminBook("L6") -> error: the offering started at 2026-05-04 07:00:00 UTC; no booking changes except by an admin cancellation
        final (1 booked, 1 free):
          #1 L1 cancelled
          #2 L2 cancelled
          #3 L3 cancelled
          #4 L4 booked
          #5 L5 waitlisted pos 1
          #6 L1 waitlisted pos 2
    "#]]);
}

#[test]
fn a_clashing_waitlisted_person_is_skipped_and_keeps_their_place() {
    use Op::*;
    check(1, false, Visibility::CityWide, &[
        Book("L1"), Book("L2"), Book("L3"),
        CommitElsewhere("L2"),
        Cancel(1, "L1"),
        Tick,
        Book("L5"),
        CommitElsewhere("L4"),
        Book("L4"),
    ], expect![[r#"
        Book("L1") -> ok, changed [#1]
            to L1: confirmed #1 (booking-confirmed:1)
        Book("L2") -> ok, changed [#2]
            to L2: waitlisted #2 pos 1 (waitlisted:2)
        Book("L3") -> ok, changed [#3]
            to L3: waitlisted #3 pos 2 (waitlisted:3)
        Cancel(1, "L1") -> ok, changed [#1 #2 #3]
            to L1: cancelled #1 ByLearner (cancelled:1)
            to L3: promoted #3 (promoted:3)
        Tick -> ok, changed []
        Book("L5") -> ok, changed [#4]
            to L5: waitlisted #4 pos 2 (waitlisted:4)
        Book("L4") -> error: session 71 clashes with session 991: learner L4 is booked elsewhere at that time
        final (1 booked, 0 free):
          #1 L1 cancelled
          #2 L2 waitlisted pos 1 skipped: learner L2 is booked elsewhere at that time
          #3 L3 booked
          #4 L5 waitlisted pos 2
    "#]]);
}

#[test]
fn approval_by_manager_deputy_and_escalation() {
    use Op::*;
    check(2, true, Visibility::CityWide, &[
        Book("L1"),
        Approve(1, "L2"),
        Approve(1, "LEAD11"),
        Book("L4"),
        At("2026-04-13T10:00:00+02:00"),
        Tick,
        Tick,
        Approve(2, "LEAD12"),
        Approve(2, "HEAD1"),
        Absent("LEAD11"),
        Book("L2"),
        Reject(3, "LEAD11"),
        Reject(3, "DEP11A"),
        Book("L3"),
        AdminBook("L5"),
        Approve(4, "ADMIN"),
        Approve(4, "ADMIN"),
    ], expect![[r#"
        Book("L1") -> ok, changed [#1]
            to LEAD11: approval-requested #1 for L1 level 0 deputy_for None (approval-requested:1:LEAD11:0)
        Approve(1, "L2") -> error: L2 may not decide booking 1; the approver today is LEAD11
        Approve(1, "LEAD11") -> ok, changed [#1]
            to L1: confirmed #1 (booking-confirmed:1)
        Book("L4") -> ok, changed [#2]
            to LEAD12: approval-requested #2 for L4 level 0 deputy_for None (approval-requested:2:LEAD12:0)
        Tick -> ok, changed [#2]
            to HEAD1: approval-requested #2 for L4 level 1 deputy_for None (approval-requested:2:HEAD1:1)
        Tick -> ok, changed []
        Approve(2, "LEAD12") -> error: LEAD12 may not decide booking 2; the approver today is HEAD1
        Approve(2, "HEAD1") -> ok, changed [#2]
            to L4: confirmed #2 (booking-confirmed:2)
        Book("L2") -> ok, changed [#3]
            to DEP11A: approval-requested #3 for L2 level 0 deputy_for Some(PersonId("LEAD11")) (approval-requested:3:DEP11A:0)
        Reject(3, "LEAD11") -> error: LEAD11 may not decide booking 3; the approver today is DEP11A
        Reject(3, "DEP11A") -> ok, changed [#3]
            to L2: cancelled #3 ApprovalRejected (cancelled:3)
        Book("L3") -> ok, changed [#4]
            to DEP11A: approval-requested #4 for L3 level 0 deputy_for Some(PersonId("LEAD11")) (approval-requested:4:DEP11A:0)
        AdminBook("L5") -> ok, changed [#5]
            to L5: waitlisted #5 pos 1 (waitlisted:5)
        Approve(4, "ADMIN") -> ok, changed [#4]
            to L3: waitlisted #4 pos 2 (waitlisted:4)
        Approve(4, "ADMIN") -> error: booking 4 is waitlisted; cannot approve
        final (2 booked, 0 free):
          #1 L1 booked
          #2 L4 booked
          #3 L2 rejected
          #4 L3 waitlisted pos 2
          #5 L5 waitlisted pos 1
    "#]]);
}

#[test]
fn booking_window_visibility_and_misuse_are_refused() {
    use Op::*;
    check(2, false, Visibility::OrgUnits([u("FB1-T1")].into()), &[
        At("2026-03-31T23:59:59+02:00"),
        Book("L1"),
        At("2026-04-10T10:00:00+02:00"),
        Book("L4"),
        Book("L5"),
        BookFor("L1", "L2"),
        Book("NOBODY"),
        Book("L1"),
        Book("L1"),
        Cancel(1, "L2"),
        Cancel(9, "L1"),
        At("2026-05-01T00:00:01+02:00"),
        Book("L2"),
        AdminBook("L2"),
        AdminBook("L4"),
        Cancel(2, "L1"),
        Cancel(2, "L1"),
        Capacity(1),
    ], expect![[r#"
        Book("L1") -> error: booking window is closed (it runs from 2026-03-31 22:00:00 UTC until 2026-04-30 22:00:00 UTC; now is 2026-03-31 21:59:59 UTC)
        Book("L4") -> error: course is not visible to L4
        Book("L5") -> ok, changed [#1]
            to L5: confirmed #1 (booking-confirmed:1)
        BookFor("L1", "L2") -> error: L1 may not act on booking 2 of L2
        Book("NOBODY") -> error: unknown person NOBODY
        Book("L1") -> ok, changed [#2]
            to L1: confirmed #2 (booking-confirmed:2)
        Book("L1") -> error: L1 already holds booking 2 for this offering
        Cancel(1, "L2") -> error: L2 may not act on booking 1 of L5
        Cancel(9, "L1") -> error: unknown booking 9
        Book("L2") -> error: booking window is closed (it runs from 2026-03-31 22:00:00 UTC until 2026-04-30 22:00:00 UTC; now is 2026-04-30 22:00:01 UTC)
        AdminBook("L2") -> ok, changed [#3]
            to L2: waitlisted #3 pos 1 (waitlisted:3)
        AdminBook("L4") -> ok, changed [#4]
            to L4: waitlisted #4 pos 2 (waitlisted:4)
        Cancel(2, "L1") -> ok, changed [#2 #3]
            to L1: cancelled #2 ByLearner (cancelled:2)
            to L2: promoted #3 (promoted:3)
        Cancel(2, "L1") -> error: booking 2 is cancelled; cannot cancel
        Capacity(1) -> error: invalid max_participants: 1 is below the 2 already booked or the minimum 1
        final (2 booked, 0 free):
          #1 L5 booked
          #2 L1 cancelled
          #3 L2 booked
          #4 L4 waitlisted pos 1
    "#]]);
}

#[test]
fn reminders_and_capacity_changes() {
    use Op::*;
    check(1, false, Visibility::CityWide, &[
        Book("L1"), Book("L2"), Book("L3"),
        Capacity(3),
        At("2026-05-03T08:59:00+02:00"),
        Tick,
        At("2026-05-03T09:00:00+02:00"),
        Tick,
        Tick,
        At("2026-05-04T10:00:00+02:00"),
        Tick,
        At("2026-05-05T12:00:00+02:00"),
        Tick,
    ], expect![[r#"
        Book("L1") -> ok, changed [#1]
            to L1: confirmed #1 (booking-confirmed:1)
        Book("L2") -> ok, changed [#2]
            to L2: waitlisted #2 pos 1 (waitlisted:2)
        Book("L3") -> ok, changed [#3]
            to L3: waitlisted #3 pos 2 (waitlisted:3)
        Capacity(3) -> ok, changed [#2 #3]
            to L2: promoted #2 (promoted:2)
            to L3: promoted #3 (promoted:3)
        Tick -> ok, changed []
        Tick -> ok, changed [#1 #2 #3]
            to L1: reminder #1 session 71 (reminder:1:71)
            to L2: reminder #2 session 71 (reminder:2:71)
            to L3: reminder #3 session 71 (reminder:3:71)
        Tick -> ok, changed []
        Tick -> ok, changed [#1 #2 #3]
            to L1: reminder #1 session 72 (reminder:1:72)
            to L2: reminder #2 session 72 (reminder:2:72)
            to L3: reminder #3 session 72 (reminder:3:72)
        Tick -> ok, changed []
        final (3 booked, 0 free):
          #1 L1 booked
          #2 L2 booked
          #3 L3 booked
    "#]]);
}

#[test]
fn wire_names_of_statuses() {
    let s = Scenario::new(1, false, Visibility::CityWide);
    let json = serde_json::to_value(&s.state).unwrap();
    assert_eq!(json["offering"]["max_participants"], 1);
    let statuses = [
        lms_schedule::booking::BookingStatus::PendingApproval,
        lms_schedule::booking::BookingStatus::Booked,
        lms_schedule::booking::BookingStatus::Waitlisted,
    ];
    let names: Vec<String> = statuses.iter().map(|s| serde_json::to_value(s).unwrap().as_str().unwrap_or("").to_owned()).collect();
    assert_eq!(names, ["pending_approval", "booked", "waitlisted"]);
    assert_eq!(statuses.map(|s| s.name()), ["pending_approval", "booked", "waitlisted"]);
}
