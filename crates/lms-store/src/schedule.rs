//! Blended learning (issue 6): storage of the catalogue, rooms, offerings and sessions,
//! bookings with waitlist and approval, attendance and completions, learning paths,
//! mandatory training, the notification outbox, calendar feed tokens and the audit log of
//! managers' views.
//!
//! The rules live in the pure crate `lms-schedule`; this module loads what they need,
//! calls them with `now`, and writes the result back in the same transaction. Every
//! change to one offering's bookings runs under a lock on that offering: `BEGIN IMMEDIATE`
//! on SQLite (one writer at a time), `SELECT … FOR UPDATE` on the offering row on
//! PostgreSQL. So two people booking the last seat at the same moment get exactly one seat
//! between them, and the waitlist is served in order, on both backends.
//!
//! Ids are `i64` here and `u64` newtypes in the pure crate; instants are stored as RFC 3339
//! text in UTC with microseconds (so they sort as text), Berlin days as `YYYY-MM-DD`.

mod booking;
mod calendar;
mod catalogue;
mod generate;
mod outbox;
mod records;
mod team;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use lms_schedule::ScheduleError;
use lms_schedule::org::ApprovalPolicy;

use crate::Error;

pub use booking::{BookingRecord, TickReport};
pub use catalogue::{CourseRecord, NewCourse, NewOffering, NewRoom, NewSession, OfferingRecord, RoomRecord, SessionRecord};
pub use generate::{YearSpec, YearSummary, generated_person};
pub use outbox::OutboxMessage;
pub use records::{
    AttendanceInput, AttendanceReport, CompletedOffering, ElearningCompletion, ElearningCompletionRecorded, MandatoryStatus, NewRequirement, PathStatus,
    PersonHistory,
};
pub use team::AuditEntry;

/// Settings of the booking rules that are not data: escalation of approvals, reminder lead
/// time. The server keeps one and passes it to every call that runs the booking rules.
#[derive(Clone, Copy, Debug)]
pub struct SchedulePolicy {
    pub approval: ApprovalPolicy,
    /// How long before a session the reminder is queued.
    pub reminder_lead: chrono::Duration,
    /// How long a no-show counts against a person.
    pub no_show_expiry: chrono::Duration,
}

impl Default for SchedulePolicy {
    fn default() -> Self {
        SchedulePolicy {
            approval: ApprovalPolicy { escalate_after_days: 5 },
            reminder_lead: chrono::Duration::hours(24),
            no_show_expiry: chrono::Duration::days(365),
        }
    }
}

impl From<ScheduleError> for Error {
    fn from(e: ScheduleError) -> Self {
        Error::Schedule(e)
    }
}

/// An instant as stored: RFC 3339, UTC, microseconds.
pub(crate) fn ts_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A stored instant back.
pub(crate) fn ts_parse(text: &str) -> Result<DateTime<Utc>, Error> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| Error::Task(format!("stored timestamp {text:?} is not RFC 3339")))
}

pub(crate) fn ts_parse_opt(text: Option<String>) -> Result<Option<DateTime<Utc>>, Error> {
    text.as_deref().map(ts_parse).transpose()
}

pub(crate) fn day_parse(text: &str) -> Result<NaiveDate, Error> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| Error::Task(format!("stored day {text:?} is not YYYY-MM-DD")))
}

/// `$start, $start+1, …` (n placeholders).
pub(crate) fn placeholders(start: usize, n: usize) -> String {
    (start..start + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// Stored JSON back into a value.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, Error> {
    serde_json::from_str(text).map_err(|e| Error::Task(format!("stored {what} cannot be read: {e}")))
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> String {
    // Serialising our own plain data types cannot fail (no maps with non-string keys).
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_string())
}

pub(crate) fn u32_of(value: i64) -> u32 {
    u32::try_from(value.max(0)).unwrap_or(u32::MAX)
}

pub(crate) fn id_u64(id: i64) -> u64 {
    u64::try_from(id).unwrap_or(0)
}

pub(crate) fn id_i64(id: u64) -> i64 {
    i64::try_from(id).unwrap_or(i64::MAX)
}

/// The org unit given to people without one in the partial org trees built for the rules
/// (it has no parent and no head: such people need no approval route and see city-wide courses).
pub(crate) const NO_UNIT: &str = "(no org unit)";

/// SQL for the units on the way up from the org units of the people bound to `$1..$n`,
/// ending in `SELECT … FROM org_units u JOIN up …`.
pub(crate) fn org_up_cte(n: usize) -> String {
    format!(
        "WITH RECURSIVE up(id) AS (\
           SELECT org_unit_id FROM people WHERE personnel_number IN ({}) AND org_unit_id IS NOT NULL \
           UNION SELECT u.parent_id FROM org_units u JOIN up ON u.id = up.id WHERE u.parent_id IS NOT NULL) ",
        placeholders(1, n)
    )
}

/// Builds the org tree for `people` (their units and all units above, heads, deputies,
/// roles) and the absences that still matter at `today`, from inside a connection or
/// transaction. Evaluates to `Result<(OrgTree, Absences), Error>`.
macro_rules! load_org_up {
    ($conn:expr, $people:expr, $today:expr) => {
        async {
            use std::collections::{BTreeMap, BTreeSet};
            use lms_schedule::ids::{OrgUnitId, PersonId, RoleId};
            use lms_schedule::org::{Absences, OrgTree, OrgUnit as PureUnit, Person as PurePerson};
            let people: &[String] = $people;
            let today: chrono::NaiveDate = $today;
            let cte = $crate::schedule::org_up_cte(people.len());
            let list = $crate::schedule::placeholders(1, people.len());
            let units_sql = format!(
                "{cte} SELECT u.id, u.parent_id, h.manager FROM org_units u JOIN up ON up.id = u.id LEFT JOIN org_unit_heads h ON h.org_unit_id = u.id"
            );
            let deputies_sql = format!(
                "{cte} SELECT d.org_unit_id, d.personnel_number FROM org_unit_deputies d JOIN up ON up.id = d.org_unit_id ORDER BY d.org_unit_id, d.position"
            );
            let people_sql = format!("SELECT personnel_number, org_unit_id FROM people WHERE personnel_number IN ({list})");
            let roles_sql = format!("SELECT personnel_number, role FROM person_roles WHERE personnel_number IN ({list})");
            let mut units_rows: Vec<(String, Option<String>, Option<String>)> = Vec::new();
            let mut deputy_rows: Vec<(String, String)> = Vec::new();
            let mut person_rows: Vec<(String, Option<String>)> = Vec::new();
            let mut role_rows: Vec<(String, String)> = Vec::new();
            if !people.is_empty() {
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(units_sql));
                for p in people { q = q.bind(p.as_str()); }
                units_rows = q.fetch_all($conn).await?;
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(deputies_sql));
                for p in people { q = q.bind(p.as_str()); }
                deputy_rows = q.fetch_all($conn).await?;
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(people_sql));
                for p in people { q = q.bind(p.as_str()); }
                person_rows = q.fetch_all($conn).await?;
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(roles_sql));
                for p in people { q = q.bind(p.as_str()); }
                role_rows = q.fetch_all($conn).await?;
            }
            let absence_rows: Vec<(String, String, String)> =
                sqlx::query_as("SELECT personnel_number, first_day, last_day FROM absences WHERE last_day >= $1")
                    .bind(today.format("%Y-%m-%d").to_string())
                    .fetch_all($conn)
                    .await?;
            let mut deputies: BTreeMap<String, Vec<PersonId>> = BTreeMap::new();
            for (unit, person) in deputy_rows {
                deputies.entry(unit).or_default().push(PersonId(person));
            }
            let mut roles: BTreeMap<String, BTreeSet<RoleId>> = BTreeMap::new();
            for (person, role) in role_rows {
                roles.entry(person).or_default().insert(RoleId(role));
            }
            let mut units: Vec<PureUnit> = units_rows
                .into_iter()
                .map(|(id, parent, manager)| PureUnit {
                    deputies: deputies.remove(&id).unwrap_or_default(),
                    id: OrgUnitId(id),
                    parent: parent.map(OrgUnitId),
                    manager: manager.map(PersonId),
                })
                .collect();
            let needs_no_unit = person_rows.iter().any(|(_, u)| u.is_none());
            if needs_no_unit {
                units.push(PureUnit {
                    id: OrgUnitId($crate::schedule::NO_UNIT.into()),
                    parent: None,
                    manager: None,
                    deputies: Vec::new(),
                });
            }
            let persons: Vec<PurePerson> = person_rows
                .into_iter()
                .map(|(id, unit)| PurePerson {
                    roles: roles.remove(&id).unwrap_or_default(),
                    id: PersonId(id),
                    org_unit: OrgUnitId(unit.unwrap_or_else(|| $crate::schedule::NO_UNIT.into())),
                })
                .collect();
            let tree = OrgTree::new(units, persons)?;
            let mut absences = Absences::new();
            for (person, first, last) in absence_rows {
                absences.add(PersonId(person), $crate::schedule::day_parse(&first)?, $crate::schedule::day_parse(&last)?)?;
            }
            Ok::<(OrgTree, Absences), $crate::Error>((tree, absences))
        }
    };
}
pub(crate) use load_org_up;
