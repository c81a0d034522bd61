//! The manager's team view.

use std::collections::BTreeMap;

use lms_schedule::attendance::AttendanceStatus;
use lms_schedule::booking::BookingStatus;
use lms_schedule::ids::{OfferingId, PersonId, RequirementId, SessionId};
use lms_schedule::mandatory::TrainingStatus;
use lms_schedule::team::{team_view, PersonRecords, TeamAttendance, TeamBooking, TeamMandatory};

use crate::{at, city, p};

fn records() -> BTreeMap<PersonId, PersonRecords> {
    let mut map = BTreeMap::new();
    for person in ["L1", "L4", "L5", "LEAD12"] {
        map.insert(p(person), PersonRecords {
            bookings: vec![TeamBooking {
                offering: OfferingId(7),
                course_title: format!("First aid for {person}"),
                status: BookingStatus::Booked,
                first_session_at: Some(at("2026-05-04T07:00:00Z")),
            }],
            attendance: vec![TeamAttendance {
                offering: OfferingId(7),
                session: SessionId(71),
                session_starts_at: at("2026-05-04T07:00:00Z"),
                status: AttendanceStatus::Partly,
            }],
            mandatory: vec![TeamMandatory {
                requirement: RequirementId(5),
                title: "First aid".into(),
                status: TrainingStatus::Due,
                due_at: Some(at("2027-01-01T00:00:00Z")),
                valid_until: Some(at("2027-01-01T00:00:00Z")),
            }],
        });
    }
    map
}

/// Expected: one "person direct? records?" item per member.
fn check(manager: &str, expected: &[&str]) {
    let tree = city();
    let view = team_view(&tree, &p(manager), &records()).unwrap();
    let got: Vec<String> = view
        .members
        .iter()
        .map(|m| {
            format!(
                "{}{}{}",
                m.person,
                if m.direct { " direct" } else { "" },
                if m.records.bookings.is_empty() { "" } else { " +records" }
            )
        })
        .collect();
    assert_eq!(got, expected, "team of {manager}");
}

#[test]
fn team_view_holds_direct_and_indirect_reports_only() {
    check("LEAD12", &["L4 direct +records"]);
    check("HEAD1", &[
        "DEP1 direct",
        "DEP11A",
        "DEP11B",
        "L1 +records",
        "L2",
        "L3",
        "L4 +records",
        "LEAD11 direct",
        "LEAD12 direct +records",
    ]);
    check("L1", &[]);
    for manager in ["HEAD1", "LEAD11", "MAYOR", "L1"] {
        let by_ref = team_view(&city(), &p(manager), &records()).unwrap();
        let by_value = lms_schedule::team::team_view_from(&city(), &p(manager), records()).unwrap();
        assert_eq!(by_ref, by_value, "{manager}");
    }
    assert_eq!(team_view(&city(), &p("NOBODY"), &records()).unwrap_err().to_string(), "unknown person NOBODY");
}

/// The serialised view has exactly the allowed fields — nothing that could be a score or
/// a time spent (the types have no such field and no free-form map).
#[test]
fn team_view_never_carries_scores_or_time_spent() {
    let view = team_view(&city(), &p("HEAD1"), &records()).unwrap();
    let json = serde_json::to_value(&view).unwrap();
    let mut keys = std::collections::BTreeSet::new();
    fn walk(v: &serde_json::Value, keys: &mut std::collections::BTreeSet<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    keys.insert(k.clone());
                    walk(v, keys);
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, keys)),
            _ => {}
        }
    }
    walk(&json, &mut keys);
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    assert_eq!(keys, [
        "attendance", "bookings", "course_title", "direct", "due_at", "first_session_at", "manager", "mandatory", "members",
        "offering", "org_unit", "person", "records", "requirement", "session", "session_starts_at", "status", "title",
        "valid_until",
    ]);
}

/// A manager heading several units (one nested in another, one elsewhere) sees each
/// report once, and the direct flag follows the headed units.
#[test]
fn manager_of_several_units_sees_each_report_once() {
    use lms_schedule::org::{OrgTree, OrgUnit, Person};
    let unit = |id: &str, parent: Option<&str>, manager: Option<&str>| OrgUnit {
        id: crate::u(id),
        parent: parent.map(crate::u),
        manager: manager.map(p),
        deputies: vec![],
    };
    let person = |id: &str, unit: &str| Person { id: p(id), org_unit: crate::u(unit), roles: Default::default() };
    let tree = OrgTree::new(
        vec![
            unit("ROOT", None, Some("BOSS")),
            unit("A", Some("ROOT"), Some("X")),
            unit("A1", Some("A"), Some("X")),
            unit("A1a", Some("A1"), Some("Y")),
            unit("B", Some("ROOT"), Some("X")),
        ],
        vec![person("BOSS", "ROOT"), person("X", "A"), person("a", "A"), person("a1", "A1"), person("Y", "A1a"), person("y", "A1a"), person("b", "B")],
    )
    .unwrap();
    let view = team_view(&tree, &p("X"), &BTreeMap::new()).unwrap();
    let got: Vec<String> = view.members.iter().map(|m| format!("{}{}", m.person, if m.direct { "*" } else { "" })).collect();
    assert_eq!(got, ["Y*", "a*", "a1*", "b*", "y"]);
    assert_eq!(tree.reports_of(&p("X")).len(), 5);
}
