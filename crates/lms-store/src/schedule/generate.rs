//! A generated training year for load checks and benchmarks: an org tree with heads,
//! people (through the HR import), rooms, trainers, courses, offerings with two sessions
//! each (checked for clashes like any other), and bookings made through the real booking
//! rules. Deterministic for a given spec.

use chrono::{DateTime, Duration, Utc};
use lms_schedule::attendance::CompletionRule;
use lms_schedule::booking::Actor;
use lms_schedule::catalogue::{CourseKind, Visibility};
use lms_schedule::ids::PersonId;

use super::{NewCourse, NewOffering, NewRoom, NewSession, SchedulePolicy};
use crate::{Error, NewOrgUnit, PersonRow, Store};

/// How big a year to generate.
#[derive(Clone, Debug)]
pub struct YearSpec {
    pub departments: usize,
    pub teams_per_department: usize,
    pub people: usize,
    pub courses: usize,
    pub offerings: usize,
    pub bookings: usize,
    pub max_participants: u32,
    /// The year starts at the first Monday 09:00 Berlin after this instant.
    pub start: DateTime<Utc>,
    /// Bookings run this many at a time.
    pub parallel_bookings: usize,
    /// Book in order of offering (each offering's picks keep their order) instead of the
    /// picks' random order: requests that arrive together are then mostly for the same
    /// offering and the store combines them into one transaction (group commit), as it does
    /// for a rush on one course. Every booking still goes through the booking rules; only the
    /// number of commits (fsyncs on SQLite) drops. Off for `city` (the bench's figures).
    pub group_by_offering: bool,
}

impl YearSpec {
    /// The city's size: 900 offerings, 16,000 people, 10,000 bookings.
    pub fn city(start: DateTime<Utc>) -> Self {
        YearSpec {
            departments: 20,
            teams_per_department: 6,
            people: 16_000,
            courses: 150,
            offerings: 900,
            bookings: 10_000,
            max_participants: 12,
            start,
            parallel_bookings: 8,
            group_by_offering: false,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct YearSummary {
    pub org_units: usize,
    pub people: usize,
    pub offerings: usize,
    pub sessions: usize,
    pub booking_attempts: usize,
    pub booked: usize,
    pub waitlisted: usize,
    /// Refused by the rules (already booked, learner clash): expected with random picks.
    pub refused: usize,
    /// Personnel numbers of the department heads (for team-view checks).
    pub department_heads: Vec<String>,
}

/// Personnel number of generated person `i`.
pub fn generated_person(i: usize) -> String {
    format!("P{i:06}")
}

impl Store {
    /// Loads a generated year (see [`YearSpec`]) into an empty store.
    pub async fn generate_year(&self, spec: &YearSpec) -> Result<YearSummary, Error> {
        let mut summary = YearSummary::default();
        self.create_org_unit(&NewOrgUnit { id: "CITY".into(), name: "City administration".into(), parent_id: None }).await?;
        let mut teams = Vec::new();
        for d in 0..spec.departments {
            let dep = format!("D{d:02}");
            self.create_org_unit(&NewOrgUnit { id: dep.clone(), name: format!("Department {d}"), parent_id: Some("CITY".into()) }).await?;
            for t in 0..spec.teams_per_department {
                let team = format!("{dep}-T{t}");
                self.create_org_unit(&NewOrgUnit { id: team.clone(), name: format!("Team {t} of {dep}"), parent_id: Some(dep.clone()) })
                    .await?;
                teams.push(team);
            }
        }
        summary.org_units = 1 + spec.departments * (1 + spec.teams_per_department);
        let rows: Vec<PersonRow> = (0..spec.people)
            .map(|i| PersonRow {
                line: i as u64 + 2,
                personnel_number: generated_person(i),
                name: format!("Person {i}"),
                org_unit: teams[i % teams.len()].clone(),
                roles: if i < 200 { "learner;trainer".into() } else { String::new() },
            })
            .collect();
        let report = self.import_people(rows).await?;
        summary.people = report.created as usize;
        // Heads: the first member of each team heads it; department heads are members of the department's first team.
        for (t, team) in teams.iter().enumerate() {
            self.set_unit_head(team, &generated_person(t), &[generated_person(t + teams.len())]).await?;
        }
        for d in 0..spec.departments {
            let head = generated_person(2 * teams.len() + d);
            self.set_unit_head(&format!("D{d:02}"), &head, &[]).await?;
            summary.department_heads.push(head);
        }
        let rooms_n = 40usize;
        let mut rooms = Vec::new();
        for r in 0..rooms_n {
            rooms.push(self.create_room(&NewRoom { name: format!("Room {r}"), capacity: spec.max_participants.max(20), location: None }).await?.id);
        }
        let mut courses = Vec::new();
        for c in 0..spec.courses {
            let course = self
                .create_course(&NewCourse {
                    title: format!("Course {c}"),
                    kind: CourseKind::Classroom,
                    org_unit: format!("D{:02}", c % spec.departments),
                    visibility: Visibility::CityWide,
                    description: None,
                })
                .await?;
            courses.push(course.id);
        }
        // Offering i: two sessions a week apart, 09:00–12:00 (or 13:00–16:00) Berlin, on
        // working day i * 250 / offerings of the year, room i % 40, trainer i % 200.
        let start = lms_schedule::time::berlin_date(spec.start) + Duration::days(1);
        let mut first = start;
        while first.format("%u").to_string() != "1" {
            first += Duration::days(1);
        }
        let mut offerings = Vec::new();
        for i in 0..spec.offerings {
            let working_day = i * 250 / spec.offerings.max(1);
            let day = first + Duration::days((working_day / 5 * 7 + working_day % 5) as i64);
            let hour = if i % 2 == 0 { 9 } else { 13 };
            let local = day.and_hms_opt(hour, 0, 0).ok_or_else(|| Error::Task("bad generated time".into()))?;
            let s1 = lms_schedule::time::berlin_to_utc(local)?;
            let s2 = lms_schedule::time::berlin_to_utc(local + Duration::days(7))?;
            let offering = self
                .create_offering(&NewOffering {
                    course_id: courses[i % courses.len()],
                    min_participants: 3,
                    max_participants: spec.max_participants,
                    booking_opens_at: None,
                    booking_closes_at: s1 - Duration::days(1),
                    cancellation_deadline: s1 - Duration::days(2),
                    requires_approval: false,
                    completion: CompletionRule::default(),
                })
                .await?;
            for s in [s1, s2] {
                self.add_session(offering.id, &NewSession {
                    starts_at: s,
                    ends_at: s + Duration::hours(3),
                    room_id: Some(rooms[i % rooms_n]),
                    trainer_ids: vec![generated_person(i % 200)],
                })
                .await?;
                summary.sessions += 1;
            }
            offerings.push(offering.id);
        }
        summary.offerings = offerings.len();
        // Bookings: person and offering from a fixed linear congruential sequence.
        let policy = SchedulePolicy::default();
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize
        };
        let mut picks: Vec<(i64, String)> =
            (0..spec.bookings).map(|_| (offerings[next() % offerings.len()], generated_person(200 + next() % (spec.people - 200).max(1)))).collect();
        if spec.group_by_offering {
            // Stable: each offering's picks keep their order.
            picks.sort_by_key(|(offering, _)| *offering);
        }
        summary.booking_attempts = picks.len();
        let admin = Actor::Admin(PersonId(generated_person(0)));
        for chunk in picks.chunks(spec.parallel_bookings.max(1)) {
            let mut set = tokio::task::JoinSet::new();
            for (offering, person) in chunk.iter().cloned() {
                let store = self.clone();
                let admin = admin.clone();
                set.spawn(async move { store.book(offering, &person, admin, &policy).await });
            }
            while let Some(result) = set.join_next().await {
                match result.map_err(|e| Error::Task(e.to_string()))? {
                    Ok(b) if b.status == "booked" => summary.booked += 1,
                    Ok(b) if b.status == "waitlisted" => summary.waitlisted += 1,
                    Ok(b) => return Err(Error::Task(format!("unexpected booking status {}", b.status))),
                    Err(Error::Schedule(_)) => summary.refused += 1,
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(summary)
    }
}
