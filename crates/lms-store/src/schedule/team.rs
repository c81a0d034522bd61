//! The manager's team view and the audit log of every view of someone else's records.
//!
//! The view is built by the pure `lms_schedule::team::team_view_from` from rows loaded for the
//! manager's subtree only: a recursive query finds the units they head and everything below
//! (and one finds the units up to the root, for assignment scopes); every other query takes
//! that list of units as constants and reaches people, bookings, marks and completions
//! through their per-unit and per-person indexes. So a view costs time in proportion to
//! the team, not the city (checked with EXPLAIN QUERY PLAN on SQLite and EXPLAIN ANALYZE on
//! PostgreSQL, with and without planner statistics). Its row types have no field for scores
//! or time spent.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use lms_schedule::attendance::{AttendanceMark, effective_marks};
use lms_schedule::booking::BookingStatus;
use lms_schedule::ids::{OfferingId, OrgUnitId, PersonId, RequirementId, RoleId, SessionId};
use lms_schedule::org::{OrgTree, OrgUnit as PureUnit, Person as PurePerson};
use lms_schedule::team::{PersonRecords, TeamAttendance, TeamBooking, TeamMandatory, TeamView, team_view_from};
use lms_schedule::time::berlin_date;

use super::records::{mandatory_for, parse_status};
use super::{id_u64, load_org_up, ts_parse, ts_parse_opt, ts_text};
use crate::db::with_db;
use crate::{Error, Store};

/// One audit-log row.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub viewer: String,
    /// `team` (a manager's team view) or `history` (one report's training history).
    pub view: String,
    /// The manager whose team was shown, or the person whose history was shown.
    pub subject: String,
    pub people_shown: i64,
    pub viewed_at: DateTime<Utc>,
}

const DOWN: &str = "WITH RECURSIVE down(id) AS (SELECT org_unit_id FROM org_unit_heads WHERE manager = $1 \
     UNION SELECT u.id FROM org_units u JOIN down ON u.parent_id = down.id) ";
const UP: &str = "WITH RECURSIVE up(id) AS (SELECT org_unit_id FROM org_unit_heads WHERE manager = $1 \
     UNION SELECT u.parent_id FROM org_units u JOIN up ON u.id = up.id WHERE u.parent_id IS NOT NULL) ";

fn status_of(text: &str) -> Result<BookingStatus, Error> {
    Ok(match text {
        "pending_approval" => BookingStatus::PendingApproval,
        "booked" => BookingStatus::Booked,
        "waitlisted" => BookingStatus::Waitlisted,
        "cancelled" => BookingStatus::Cancelled,
        "rejected" => BookingStatus::Rejected,
        other => return Err(Error::Task(format!("stored booking status {other:?} is unknown"))),
    })
}

type BookingRow = (String, i64, String, String, Option<String>);
type MarkRow = (String, i64, i64, String, String, String, String);
type CompletionRow = (String, i64, String);
/// (personnel number, org unit) and (personnel number, role).
type PairRows = Vec<(String, String)>;

impl Store {
    /// The team view of `manager` (direct and indirect reports: bookings, attendance,
    /// mandatory-training status; never scores or time spent), written to the audit log
    /// with `viewer` as the one who looked.
    ///
    /// Cost follows the team, not the city: the units below the manager are found first
    /// (a recursive query over the small unit table), and every other query is driven by
    /// that explicit list of units through `people(org_unit_id)` and the per-person indexes
    /// (`bookings_person`, `attendance_marks_person`, …), so both planners see constants and
    /// never scan city-wide tables. The record queries and the audit-log insert run at once.
    pub async fn team_view(&self, manager: &str, viewer: &str, now: DateTime<Utc>) -> Result<TeamView, Error> {
        type UnitRow = (String, Option<String>, Option<String>);
        let (down_units, up_units, manager_unit): (Vec<UnitRow>, Vec<UnitRow>, Option<(Option<String>,)>) = with_db!(&self.db, |pool| {
            tokio::try_join!(
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "{DOWN} SELECT u.id, u.parent_id, h.manager FROM org_units u JOIN down ON down.id = u.id LEFT JOIN org_unit_heads h ON h.org_unit_id = u.id"
                )))
                .bind(manager)
                .fetch_all(pool),
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "{UP} SELECT u.id, u.parent_id, h.manager FROM org_units u JOIN up ON up.id = u.id LEFT JOIN org_unit_heads h ON h.org_unit_id = u.id"
                )))
                .bind(manager)
                .fetch_all(pool),
                sqlx::query_as("SELECT org_unit_id FROM people WHERE personnel_number = $1").bind(manager).fetch_optional(pool),
            )?
        });
        let manager_unit = manager_unit.ok_or_else(|| Error::NotFound { what: format!("person {manager:?}") })?.0;
        let requirements = self.requirements().await?;
        // The units whose members report to the manager (bound as constants below).
        let team_units: Vec<String> = down_units.iter().map(|(id, _, _)| id.clone()).collect();
        let list = super::placeholders(1, team_units.len());
        let (people, roles): (PairRows, PairRows) = if team_units.is_empty() {
            (Vec::new(), Vec::new())
        } else {
            with_db!(&self.db, |pool| {
                let mut people = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT personnel_number, org_unit_id FROM people WHERE org_unit_id IN ({list})"
                )));
                let mut roles = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT r.personnel_number, r.role FROM people p JOIN person_roles r ON r.personnel_number = p.personnel_number \
                     WHERE p.org_unit_id IN ({list})"
                )));
                for unit in &team_units {
                    people = people.bind(unit.as_str());
                    roles = roles.bind(unit.as_str());
                }
                // Roles matter only for requirements assigned by role.
                let need_roles = !requirements.is_empty();
                tokio::try_join!(people.fetch_all(pool), async move {
                    if need_roles { roles.fetch_all(pool).await } else { Ok(Vec::new()) }
                })?
            })
        };
        let mut units: BTreeMap<String, PureUnit> = BTreeMap::new();
        for (id, parent, head) in up_units.into_iter().chain(down_units) {
            // Deputies play no part in who reports to whom: not loaded here.
            units.entry(id.clone()).or_insert_with(|| PureUnit { deputies: Vec::new(), id: OrgUnitId(id), parent: parent.map(OrgUnitId), manager: head.map(PersonId) });
        }
        let mut role_map: BTreeMap<String, BTreeSet<RoleId>> = BTreeMap::new();
        for (person, role) in roles {
            role_map.entry(person).or_default().insert(RoleId(role));
        }
        let manager_listed = people.iter().any(|(id, _)| id == manager);
        let mut persons: Vec<PurePerson> = people
            .into_iter()
            .map(|(id, unit)| PurePerson { roles: role_map.remove(&id).unwrap_or_default(), id: PersonId(id), org_unit: OrgUnitId(unit) })
            .collect();
        if !manager_listed {
            // The manager's own unit may lie outside the subtree; place them where the rules find them.
            let unit = manager_unit
                .filter(|u| units.contains_key(u))
                .or_else(|| units.values().find(|u| u.manager.as_ref().is_some_and(|m| m.0 == manager)).map(|u| u.id.0.clone()));
            let unit = match unit {
                Some(u) => u,
                None => {
                    units.insert(super::NO_UNIT.into(), PureUnit { id: OrgUnitId(super::NO_UNIT.into()), parent: None, manager: None, deputies: Vec::new() });
                    super::NO_UNIT.into()
                }
            };
            persons.push(PurePerson { id: PersonId(manager.into()), org_unit: OrgUnitId(unit), roles: BTreeSet::new() });
        }
        let tree = OrgTree::new(units.into_values().collect(), persons)?;
        let manager_id = PersonId(manager.into());
        let reports: Vec<String> = tree.reports_of(&manager_id).into_iter().map(|p| p.0).collect();

        let mut records: BTreeMap<PersonId, PersonRecords> = BTreeMap::new();
        let shown = reports.len() as i64;
        let audit = self.audit_view(viewer, "team", manager, shown, now);
        if reports.is_empty() {
            audit.await?;
            return Ok(team_view_from(&tree, &manager_id, records)?);
        }
        let need_completions = !requirements.is_empty();
        let (bookings, marks, completion_rows): (Vec<BookingRow>, Vec<MarkRow>, Vec<CompletionRow>) = with_db!(&self.db, |pool| {
            let mut bookings = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT b.personnel_number, b.offering_id, c.title, b.status, o.starts_at FROM people p \
                 JOIN bookings b ON b.personnel_number = p.personnel_number JOIN offerings o ON o.id = b.offering_id \
                 JOIN courses c ON c.id = o.course_id WHERE p.org_unit_id IN ({list}) ORDER BY b.id"
            )));
            let mut marks = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT m.personnel_number, s.offering_id, m.session_id, s.starts_at, m.status, m.recorded_at, m.recorded_by FROM people p \
                 JOIN attendance_marks m ON m.personnel_number = p.personnel_number JOIN offering_sessions s ON s.id = m.session_id \
                 WHERE p.org_unit_id IN ({list}) ORDER BY m.id"
            )));
            let mut completions = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT oc.personnel_number, oc.course_id, oc.completed_at FROM people p \
                 JOIN offering_completions oc ON oc.personnel_number = p.personnel_number WHERE p.org_unit_id IN ({list}) \
                 UNION ALL SELECT e.personnel_number, c.id, e.completed_at FROM people p \
                 JOIN elearning_completions e ON e.personnel_number = p.personnel_number JOIN courses c ON c.package_id = e.package_id \
                 WHERE p.org_unit_id IN ({list})"
            )));
            for unit in &team_units {
                bookings = bookings.bind(unit.as_str());
                marks = marks.bind(unit.as_str());
                completions = completions.bind(unit.as_str());
            }
            let (bookings, marks, completions, ()) = tokio::try_join!(
                async { Ok::<_, Error>(bookings.fetch_all(pool).await?) },
                async { Ok::<_, Error>(marks.fetch_all(pool).await?) },
                async move { Ok::<_, Error>(if need_completions { completions.fetch_all(pool).await? } else { Vec::new() }) },
                audit,
            )?;
            (bookings, marks, completions)
        });
        for (person, offering, title, status, first) in bookings {
            records.entry(PersonId(person)).or_default().bookings.push(TeamBooking {
                offering: OfferingId(id_u64(offering)),
                course_title: title,
                status: status_of(&status)?,
                first_session_at: ts_parse_opt(first)?,
            });
        }
        let mut log = Vec::with_capacity(marks.len());
        let mut session_info: BTreeMap<SessionId, (OfferingId, DateTime<Utc>)> = BTreeMap::new();
        for (person, offering, session, starts, status, at, by) in marks {
            session_info.insert(SessionId(id_u64(session)), (OfferingId(id_u64(offering)), ts_parse(&starts)?));
            log.push(AttendanceMark {
                session: SessionId(id_u64(session)),
                person: PersonId(person),
                status: parse_status(&status)?,
                recorded_at: ts_parse(&at)?,
                recorded_by: PersonId(by),
            });
        }
        for ((session, person), mark) in effective_marks(&log) {
            let Some((offering, starts)) = session_info.get(&session) else { continue };
            records.entry(person).or_default().attendance.push(TeamAttendance {
                offering: *offering,
                session,
                session_starts_at: *starts,
                status: mark.status,
            });
        }
        if need_completions {
            let mut completions: BTreeMap<String, BTreeMap<i64, Vec<DateTime<Utc>>>> = BTreeMap::new();
            for (person, course, at) in completion_rows {
                completions.entry(person).or_default().entry(course).or_default().push(ts_parse(&at)?);
            }
            let empty = BTreeMap::new();
            for person in &reports {
                let id = PersonId(person.clone());
                for s in mandatory_for(&tree, &requirements, &id, completions.get(person).unwrap_or(&empty), now) {
                    records.entry(id.clone()).or_default().mandatory.push(TeamMandatory {
                        requirement: RequirementId(id_u64(s.requirement_id)),
                        title: s.title,
                        status: s.status,
                        due_at: s.due_at,
                        valid_until: s.valid_until,
                    });
                }
            }
        }
        // Moves the records into the view (records of anyone not a report are dropped).
        Ok(team_view_from(&tree, &manager_id, records)?)
    }

    /// Whether `person` is a direct or indirect report of `manager` (lies in or below a
    /// unit `manager` heads, and is not `manager`).
    pub async fn is_report_of(&self, manager: &str, person: &str, now: DateTime<Utc>) -> Result<bool, Error> {
        if manager == person {
            return Ok(false);
        }
        let people = vec![person.to_string()];
        let (tree, _) = with_db!(&self.db, |pool| load_org_up!(pool, &people, berlin_date(now)).await)?;
        let Some(p) = tree.person(&PersonId(person.into())) else { return Ok(false) };
        Ok(tree.ancestors_inclusive(&p.org_unit).any(|u| u.manager.as_ref().is_some_and(|m| m.0 == manager)))
    }

    /// Writes one audit-log row.
    pub async fn audit_view(&self, viewer: &str, view: &str, subject: &str, people_shown: i64, now: DateTime<Utc>) -> Result<(), Error> {
        with_db!(&self.db, |pool| {
            sqlx::query("INSERT INTO team_view_audit (viewer, view, subject, people_shown, viewed_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(viewer)
                .bind(view)
                .bind(subject)
                .bind(people_shown)
                .bind(ts_text(now))
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// The audit log, newest first.
    pub async fn view_audit_log(&self, limit: i64) -> Result<Vec<AuditEntry>, Error> {
        let rows: Vec<(i64, String, String, String, i64, String)> = with_db!(&self.db, |pool| {
            sqlx::query_as("SELECT id, viewer, view, subject, people_shown, viewed_at FROM team_view_audit ORDER BY id DESC LIMIT $1")
                .bind(limit)
                .fetch_all(pool)
                .await?
        });
        rows.into_iter()
            .map(|(id, viewer, view, subject, people_shown, at)| Ok(AuditEntry { id, viewer, view, subject, people_shown, viewed_at: ts_parse(&at)? }))
            .collect()
    }
}
