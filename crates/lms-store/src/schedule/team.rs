//! The manager's team view and the audit log of every view of someone else's records.
//!
//! The view is built by the pure `lms_schedule::team::team_view` from rows loaded for the
//! manager's subtree only (recursive queries down from the units they head and up to the
//! root for assignment scopes), so it costs time in proportion to the team, not the city.
//! Its row types have no field for scores or time spent.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use lms_schedule::attendance::{AttendanceMark, effective_marks};
use lms_schedule::booking::BookingStatus;
use lms_schedule::ids::{OfferingId, OrgUnitId, PersonId, RequirementId, RoleId, SessionId};
use lms_schedule::org::{OrgTree, OrgUnit as PureUnit, Person as PurePerson};
use lms_schedule::team::{PersonRecords, TeamAttendance, TeamBooking, TeamMandatory, TeamView, team_view};
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

impl Store {
    /// The team view of `manager` (direct and indirect reports: bookings, attendance,
    /// mandatory-training status; never scores or time spent), written to the audit log
    /// with `viewer` as the one who looked.
    pub async fn team_view(&self, manager: &str, viewer: &str, now: DateTime<Utc>) -> Result<TeamView, Error> {
        type UnitRow = (String, Option<String>, Option<String>);
        let (down_units, up_units, people, roles, deputy_rows): (Vec<UnitRow>, Vec<UnitRow>, Vec<(String, String)>, Vec<(String, String)>, Vec<(String, String)>) =
            with_db!(&self.db, |pool| {
                (
                    sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "{DOWN} SELECT u.id, u.parent_id, h.manager FROM org_units u JOIN down ON down.id = u.id LEFT JOIN org_unit_heads h ON h.org_unit_id = u.id"
                    )))
                    .bind(manager)
                    .fetch_all(pool)
                    .await?,
                    sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "{UP} SELECT u.id, u.parent_id, h.manager FROM org_units u JOIN up ON up.id = u.id LEFT JOIN org_unit_heads h ON h.org_unit_id = u.id"
                    )))
                    .bind(manager)
                    .fetch_all(pool)
                    .await?,
                    sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "{DOWN} SELECT p.personnel_number, p.org_unit_id FROM people p JOIN down ON down.id = p.org_unit_id"
                    )))
                    .bind(manager)
                    .fetch_all(pool)
                    .await?,
                    sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "{DOWN} SELECT r.personnel_number, r.role FROM person_roles r JOIN people p ON p.personnel_number = r.personnel_number \
                         JOIN down ON down.id = p.org_unit_id"
                    )))
                    .bind(manager)
                    .fetch_all(pool)
                    .await?,
                    sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "{DOWN} SELECT d.org_unit_id, d.personnel_number FROM org_unit_deputies d JOIN down ON down.id = d.org_unit_id ORDER BY d.position"
                    )))
                    .bind(manager)
                    .fetch_all(pool)
                    .await?,
                )
            });
        let manager_row = self.person(manager).await?.ok_or_else(|| Error::NotFound { what: format!("person {manager:?}") })?;
        let mut deputies: BTreeMap<String, Vec<PersonId>> = BTreeMap::new();
        for (unit, person) in deputy_rows {
            deputies.entry(unit).or_default().push(PersonId(person));
        }
        let mut units: BTreeMap<String, PureUnit> = BTreeMap::new();
        for (id, parent, head) in up_units.into_iter().chain(down_units) {
            units.entry(id.clone()).or_insert_with(|| PureUnit {
                deputies: deputies.remove(&id).unwrap_or_default(),
                id: OrgUnitId(id),
                parent: parent.map(OrgUnitId),
                manager: head.map(PersonId),
            });
        }
        let mut role_map: BTreeMap<String, BTreeSet<RoleId>> = BTreeMap::new();
        for (person, role) in roles {
            role_map.entry(person).or_default().insert(RoleId(role));
        }
        let mut persons: Vec<PurePerson> = people
            .iter()
            .map(|(id, unit)| PurePerson { id: PersonId(id.clone()), org_unit: OrgUnitId(unit.clone()), roles: role_map.remove(id).unwrap_or_default() })
            .collect();
        if !people.iter().any(|(id, _)| id == manager) {
            // The manager's own unit may lie outside the subtree; place them where the rules find them.
            let unit = manager_row
                .org_unit
                .clone()
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
        let reports: Vec<String> = tree.reports_of(&PersonId(manager.into())).into_iter().map(|p| p.0).collect();

        let mut records: BTreeMap<PersonId, PersonRecords> = BTreeMap::new();
        if !reports.is_empty() {
            let (bookings, marks): (Vec<(String, i64, String, String, Option<String>)>, Vec<(String, i64, i64, String, String, String, String)>) =
                with_db!(&self.db, |pool| {
                    (
                        sqlx::query_as(sqlx::AssertSqlSafe(format!(
                            "{DOWN} SELECT b.personnel_number, b.offering_id, c.title, b.status, o.starts_at FROM bookings b \
                             JOIN people p ON p.personnel_number = b.personnel_number JOIN down ON down.id = p.org_unit_id \
                             JOIN offerings o ON o.id = b.offering_id JOIN courses c ON c.id = o.course_id ORDER BY b.id"
                        )))
                        .bind(manager)
                        .fetch_all(pool)
                        .await?,
                        sqlx::query_as(sqlx::AssertSqlSafe(format!(
                            "{DOWN} SELECT m.personnel_number, s.offering_id, m.session_id, s.starts_at, m.status, m.recorded_at, m.recorded_by \
                             FROM attendance_marks m JOIN people p ON p.personnel_number = m.personnel_number JOIN down ON down.id = p.org_unit_id \
                             JOIN offering_sessions s ON s.id = m.session_id ORDER BY m.id"
                        )))
                        .bind(manager)
                        .fetch_all(pool)
                        .await?,
                    )
                });
            let report_set: BTreeSet<&String> = reports.iter().collect();
            for (person, offering, title, status, first) in bookings {
                if !report_set.contains(&person) {
                    continue;
                }
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
                if !report_set.contains(&person) {
                    continue;
                }
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
            let requirements = self.requirements().await?;
            if !requirements.is_empty() {
                let completions = self.completions_by_course(&reports).await?;
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
        }
        let view = team_view(&tree, &PersonId(manager.into()), &records)?;
        self.audit_view(viewer, "team", manager, view.members.len() as i64, now).await?;
        Ok(view)
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
