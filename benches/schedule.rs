//! lms-schedule benchmarks: booking decisions on a full offering with a waitlist, and the
//! manager's team view over a generated org tree of 16,000 people.
//!
//! Run: `cargo bench -p lms-benches --bench schedule`.

use std::collections::{BTreeMap, BTreeSet};
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use lms_schedule::booking::{Actor, BookRequest, OfferingState, Rules};
use lms_schedule::catalogue::{Course, CourseKind, Visibility};
use lms_schedule::chrono::{DateTime, Duration, Utc};
use lms_schedule::ids::{BookingId, CourseId, OfferingId, OrgUnitId, PersonId, RequirementId, RoomId, SessionId};
use lms_schedule::mandatory::TrainingStatus;
use lms_schedule::offering::{Offering, Session};
use lms_schedule::org::{Absences, ApprovalPolicy, OrgTree, OrgUnit, Person};
use lms_schedule::team::{team_view, team_view_from, PersonRecords, TeamAttendance, TeamBooking, TeamMandatory};
use lms_schedule::time::parse_rfc3339;
use lms_schedule::attendance::AttendanceStatus;
use lms_schedule::booking::BookingStatus;

fn instant(text: &str) -> DateTime<Utc> {
    parse_rfc3339(text).expect("valid benchmark instant")
}

/// A city of 16,000 people: root → 20 departments → 8 divisions each → 10 teams each,
/// 10 people per team (the team lead among them); heads of departments and divisions
/// sit in their own unit. Returns the rows.
fn generated_rows() -> (Vec<OrgUnit>, Vec<Person>) {
    let mut units = vec![OrgUnit { id: OrgUnitId::new("city"), parent: None, manager: Some(PersonId::new("mayor")), deputies: vec![] }];
    let mut people = vec![Person { id: PersonId::new("mayor"), org_unit: OrgUnitId::new("city"), roles: BTreeSet::new() }];
    let mut serial = 0u32;
    let mut next_person = |unit: &OrgUnitId, people: &mut Vec<Person>| {
        serial += 1;
        let id = PersonId::new(format!("P{serial:06}"));
        people.push(Person { id: id.clone(), org_unit: unit.clone(), roles: BTreeSet::new() });
        id
    };
    for d in 0..20 {
        let dept = OrgUnitId::new(format!("D{d}"));
        let head = next_person(&dept, &mut people);
        units.push(OrgUnit { id: dept.clone(), parent: Some(OrgUnitId::new("city")), manager: Some(head), deputies: vec![] });
        for v in 0..8 {
            let division = OrgUnitId::new(format!("D{d}-V{v}"));
            let head = next_person(&division, &mut people);
            units.push(OrgUnit { id: division.clone(), parent: Some(dept.clone()), manager: Some(head), deputies: vec![] });
            for t in 0..10 {
                let team = OrgUnitId::new(format!("D{d}-V{v}-T{t}"));
                let lead = next_person(&team, &mut people);
                let deputy = next_person(&team, &mut people);
                for _ in 0..8 {
                    next_person(&team, &mut people);
                }
                units.push(OrgUnit { id: team, parent: Some(division.clone()), manager: Some(lead), deputies: vec![deputy] });
            }
        }
    }
    // Top up to exactly 16,000 people in the first teams.
    let mut t = 0;
    while people.len() < 16_000 {
        let team = OrgUnitId::new(format!("D0-V0-T{}", t % 10));
        next_person(&team, &mut people);
        t += 1;
    }
    people.truncate(16_000);
    (units, people)
}

/// The generated tree and the id of the first department head.
fn generated_city() -> (OrgTree, PersonId) {
    let (units, people) = generated_rows();
    let head = units[1].manager.clone().expect("department head");
    (OrgTree::new(units, people).expect("generated tree is valid"), head)
}

/// Three bookings, three attendance marks and two mandatory statuses per person.
fn generated_records(tree_people: impl Iterator<Item = PersonId>) -> BTreeMap<PersonId, PersonRecords> {
    let start = instant("2026-05-04T07:00:00Z");
    tree_people
        .map(|person| {
            let records = PersonRecords {
                bookings: (0..3)
                    .map(|i| TeamBooking {
                        offering: OfferingId(i),
                        course_title: format!("Course {i}"),
                        status: BookingStatus::Booked,
                        first_session_at: Some(start),
                    })
                    .collect(),
                attendance: (0..3)
                    .map(|i| TeamAttendance { offering: OfferingId(i), session: SessionId(i), session_starts_at: start, status: AttendanceStatus::Attended })
                    .collect(),
                mandatory: (0..2)
                    .map(|i| TeamMandatory {
                        requirement: RequirementId(i),
                        title: format!("Requirement {i}"),
                        status: TrainingStatus::Valid,
                        due_at: Some(start),
                        valid_until: Some(start),
                    })
                    .collect(),
            };
            (person, records)
        })
        .collect()
}

fn all_people() -> impl Iterator<Item = PersonId> {
    std::iter::once(PersonId::new("mayor")).chain((1..16_000).map(|n| PersonId::new(format!("P{n:06}"))))
}

/// A 20-seat offering, all seats booked and `waiting` people on the waitlist.
fn full_offering(rules: &Rules<'_>, waiting: u64, now: DateTime<Utc>) -> OfferingState {
    let offering = Offering {
        id: OfferingId(1),
        course_id: CourseId(1),
        min_participants: 5,
        max_participants: 20,
        booking_opens_at: None,
        booking_closes_at: instant("2026-05-01T00:00:00Z"),
        cancellation_deadline: instant("2026-05-02T00:00:00Z"),
        requires_approval: false,
        sessions: (0..4)
            .map(|i| Session {
                id: SessionId(i + 1),
                starts_at: instant("2026-05-04T07:00:00Z") + Duration::days(i as i64),
                ends_at: instant("2026-05-04T10:00:00Z") + Duration::days(i as i64),
                room: Some(RoomId(1)),
                trainers: [PersonId::new("P000001")].into(),
            })
            .collect(),
    };
    let mut state = OfferingState::new(offering);
    for n in 0..(20 + waiting) {
        let person = PersonId::new(format!("P{:06}", 100 + n));
        let request = BookRequest { booking_id: BookingId(n + 1), actor: Actor::Person(person.clone()), person };
        state = state.book(rules, request, now).expect("setup booking").state;
    }
    state
}

fn booking(c: &mut Criterion) {
    let (tree, _) = generated_city();
    let course = Course { id: CourseId(1), title: "First aid".into(), org_unit: OrgUnitId::new("D0"), kind: CourseKind::Classroom, visibility: Visibility::CityWide };
    let absences = Absences::new();
    let commitments = BTreeMap::new();
    let rules = Rules { course: &course, org: &tree, absences: &absences, approval: ApprovalPolicy { escalate_after_days: 3 }, commitments: &commitments, reminder_lead: Duration::hours(24) };
    let now = instant("2026-04-20T08:00:00Z");
    let state = full_offering(&rules, 40, now);
    assert_eq!((state.booked_count(), state.waitlist().len()), (20, 40));

    let mut group = c.benchmark_group("schedule/booking");
    group.throughput(Throughput::Elements(1));
    // One decision: a new self-booking on the full offering ends on the waitlist (position 41).
    group.bench_function("book_on_full_offering_with_waitlist_of_40", |b| {
        let request = BookRequest { booking_id: BookingId(10_000), actor: Actor::Person(PersonId::new("P009999")), person: PersonId::new("P009999") };
        b.iter(|| black_box(state.book(&rules, request.clone(), now).expect("waitlisted")))
    });
    // One decision: a booked learner cancels; the head of the waitlist is promoted.
    group.bench_function("cancel_and_promote_head_of_waitlist", |b| {
        b.iter(|| black_box(state.cancel(&rules, BookingId(5), Actor::Person(PersonId::new("P000104")), now).expect("cancelled")))
    });
    // A stream of 100 decisions on one offering (as a store serialising them would apply):
    // 50 new bookings and 50 cancellations of booked seats, each applied to the previous state.
    group.throughput(Throughput::Elements(100));
    group.bench_function("stream_of_100_decisions_on_last_seats", |b| {
        b.iter_batched(
            || state.clone(),
            |mut s| {
                for i in 0..50u64 {
                    let person = PersonId::new(format!("P{:06}", 5_000 + i));
                    let request = BookRequest { booking_id: BookingId(20_000 + i), actor: Actor::Person(person.clone()), person };
                    s = s.book(&rules, request, now).expect("book").state;
                    let booked = s.bookings.iter().find(|b| b.status == BookingStatus::Booked).map(|b| (b.id, b.person.clone()));
                    if let Some((id, person)) = booked {
                        s = s.cancel(&rules, id, Actor::Person(person), now).expect("cancel").state;
                    }
                }
                assert!(s.booked_count() <= 20);
                s
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn team(c: &mut Criterion) {
    let (tree, department_head) = generated_city();
    assert_eq!(tree.people_count(), 16_000);
    let records = generated_records(all_people());
    let mut group = c.benchmark_group("schedule/team_view");
    group.sample_size(30);
    group.bench_function("build_org_tree_16000", |b| {
        b.iter_batched(
            generated_rows,
            |(units, people)| black_box(OrgTree::new(units, people).expect("valid")),
            BatchSize::LargeInput,
        )
    });
    let reports = tree.reports_of(&department_head).len();
    group.bench_function(format!("department_head_{reports}_reports"), |b| {
        b.iter(|| black_box(team_view(&tree, &department_head, &records).expect("view")))
    });
    let mayor = PersonId::new("mayor");
    group.bench_function("mayor_15999_reports", |b| b.iter(|| black_box(team_view(&tree, &mayor, &records).expect("view"))));
    group.bench_function("mayor_15999_reports_records_moved", |b| {
        b.iter_batched(|| records.clone(), |r| black_box(team_view_from(&tree, &mayor, r).expect("view")), BatchSize::LargeInput)
    });
    group.bench_function("reports_of_mayor_only", |b| b.iter(|| black_box(tree.reports_of(&mayor))));
    group.finish();
}

criterion_group!(benches, booking, team);
criterion_main!(benches);
