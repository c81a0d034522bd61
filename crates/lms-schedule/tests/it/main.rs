//! Integration tests of lms-schedule: data-driven rule tables, scripted booking scenarios
//! with snapshot dumps (refresh with `UPDATE_EXPECT=1`), property tests of the waitlist
//! invariants, DST tests and iCalendar output checked with the independent `ical` parser.

mod attendance;
mod booking;
mod catalogue;
mod ical;
mod mandatory;
mod offering;
mod org;
mod path;
mod properties;
mod robustness;
mod team;
mod time;

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use lms_schedule::ids::{OrgUnitId, PersonId, RoleId};
use lms_schedule::org::{OrgTree, OrgUnit, Person};

/// `2026-03-29 09:00` as a Berlin wall-clock time.
pub fn local(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap_or_else(|e| panic!("bad test time {text:?}: {e}"))
}

/// An RFC 3339 instant.
pub fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap_or_else(|e| panic!("bad test instant {text:?}: {e}")).with_timezone(&Utc)
}

pub fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_else(|e| panic!("bad test date {text:?}: {e}"))
}

pub fn p(id: &str) -> PersonId {
    PersonId::new(id)
}

pub fn u(id: &str) -> OrgUnitId {
    OrgUnitId::new(id)
}

/// The test city:
///
/// ```text
/// CITY (MAYOR)
/// ├── FB1 (HEAD1; deputy DEP1)
/// │   ├── FB1-T1 (LEAD11; deputies DEP11A, DEP11B): L1, L2, L3 (first-aider)
/// │   └── FB1-T2 (LEAD12): L4
/// ├── FB2 (HEAD2): L5
/// └── FB3 (no head): L6
/// ```
pub fn city() -> OrgTree {
    let unit = |id: &str, parent: Option<&str>, manager: Option<&str>, deputies: &[&str]| OrgUnit {
        id: u(id),
        parent: parent.map(u),
        manager: manager.map(p),
        deputies: deputies.iter().map(|d| p(d)).collect(),
    };
    let units = vec![
        unit("CITY", None, Some("MAYOR"), &[]),
        unit("FB1", Some("CITY"), Some("HEAD1"), &["DEP1"]),
        unit("FB1-T1", Some("FB1"), Some("LEAD11"), &["DEP11A", "DEP11B"]),
        unit("FB1-T2", Some("FB1"), Some("LEAD12"), &[]),
        unit("FB2", Some("CITY"), Some("HEAD2"), &[]),
        unit("FB3", Some("CITY"), None, &[]),
    ];
    let person = |id: &str, unit: &str, roles: &[&str]| Person {
        id: p(id),
        org_unit: u(unit),
        roles: roles.iter().map(|r| RoleId::new(*r)).collect::<BTreeSet<_>>(),
    };
    let people = vec![
        person("MAYOR", "CITY", &[]),
        person("HEAD1", "FB1", &[]),
        person("DEP1", "FB1", &[]),
        person("LEAD11", "FB1-T1", &[]),
        person("DEP11A", "FB1-T1", &[]),
        person("DEP11B", "FB1-T1", &[]),
        person("L1", "FB1-T1", &[]),
        person("L2", "FB1-T1", &[]),
        person("L3", "FB1-T1", &["first-aider"]),
        person("LEAD12", "FB1-T2", &[]),
        person("L4", "FB1-T2", &[]),
        person("HEAD2", "FB2", &[]),
        person("L5", "FB2", &[]),
        person("L6", "FB3", &["first-aider"]),
    ];
    OrgTree::new(units, people).unwrap_or_else(|e| panic!("test city is invalid: {e}"))
}
