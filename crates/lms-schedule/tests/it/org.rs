//! Org tree validation, reports and approver resolution.

use chrono::Duration;
use lms_schedule::org::{resolve_approver, Absences, ApprovalPolicy, ApproverRole, OrgTree, OrgUnit, Person};

use crate::{at, city, day, p, u};

/// `absent` lists people absent on 2026-05-04 (a Monday); `waited_days` since the request.
/// Expected: "PERSON as manager|deputy-for-X at level N" or the error text.
fn check(learner: &str, absent: &[&str], waited_days: i64, escalate_after_days: u32, expected: &str) {
    let tree = city();
    let mut absences = Absences::new();
    for person in absent {
        absences.add(p(person), day("2026-05-01"), day("2026-05-10")).unwrap();
    }
    let now = at("2026-05-04T10:00:00+02:00");
    let requested = now - Duration::days(waited_days);
    let got = match resolve_approver(&tree, &absences, &p(learner), requested, now, ApprovalPolicy { escalate_after_days }) {
        Ok(a) => {
            let role = match a.role {
                ApproverRole::Manager => "manager".to_owned(),
                ApproverRole::Deputy { for_manager } => format!("deputy-for-{for_manager}"),
            };
            format!("{} as {role} of {} at level {}", a.person, a.unit, a.escalation_level)
        }
        Err(e) => e.to_string(),
    };
    assert_eq!(got, expected, "learner {learner}, absent {absent:?}, waited {waited_days}d");
}

#[test]
fn approver_is_the_manager_then_deputy_then_escalation() {
    check("L1", &[], 0, 3, "LEAD11 as manager of FB1-T1 at level 0");
    check("L1", &["LEAD11"], 0, 3, "DEP11A as deputy-for-LEAD11 of FB1-T1 at level 0");
    check("L1", &["LEAD11", "DEP11A"], 0, 3, "DEP11B as deputy-for-LEAD11 of FB1-T1 at level 0");
    check("L1", &["LEAD11", "DEP11A", "DEP11B"], 0, 3, "HEAD1 as manager of FB1 at level 1");
    // Escalation after 3 whole days, again after 6.
    check("L1", &[], 2, 3, "LEAD11 as manager of FB1-T1 at level 0");
    check("L1", &[], 3, 3, "HEAD1 as manager of FB1 at level 1");
    check("L1", &["HEAD1"], 3, 3, "DEP1 as deputy-for-HEAD1 of FB1 at level 1");
    check("L1", &[], 6, 3, "MAYOR as manager of CITY at level 2");
    check("L1", &[], 60, 3, "MAYOR as manager of CITY at level 2");
    check("L1", &[], 60, 0, "LEAD11 as manager of FB1-T1 at level 0");
    // A manager's own approver is one level up; a unit without a head is skipped.
    check("LEAD11", &[], 0, 3, "HEAD1 as manager of FB1 at level 0");
    check("L6", &[], 0, 3, "MAYOR as manager of CITY at level 0");
    // A deputy never approves their own request.
    check("DEP11A", &["LEAD11"], 0, 3, "DEP11B as deputy-for-LEAD11 of FB1-T1 at level 0");
    check("MAYOR", &[], 0, 3, "no approver found for MAYOR (no present manager or deputy up to the root)");
    check("L6", &["MAYOR"], 0, 3, "no approver found for L6 (no present manager or deputy up to the root)");
    check("NOBODY", &[], 0, 3, "unknown person NOBODY");
}

#[test]
fn absence_is_by_berlin_date() {
    let tree = city();
    let mut absences = Absences::new();
    absences.add(p("LEAD11"), day("2026-05-05"), day("2026-05-05")).unwrap();
    let policy = ApprovalPolicy { escalate_after_days: 0 };
    // 23:30 UTC on the 4th is 01:30 on the 5th in Berlin: LEAD11 is absent.
    let late = at("2026-05-04T23:30:00Z");
    let a = resolve_approver(&tree, &absences, &p("L1"), late, late, policy).unwrap();
    assert_eq!(a.person, p("DEP11A"));
    let earlier = at("2026-05-04T21:30:00Z");
    let a = resolve_approver(&tree, &absences, &p("L1"), earlier, earlier, policy).unwrap();
    assert_eq!(a.person, p("LEAD11"));
    assert!(absences.add(p("X"), day("2026-05-05"), day("2026-05-04")).is_err());
}

#[test]
fn reports_are_direct_and_indirect_only() {
    let tree = city();
    let names = |m: &str| tree.reports_of(&p(m)).into_iter().map(|x| x.0).collect::<Vec<_>>().join(" ");
    assert_eq!(names("LEAD11"), "DEP11A DEP11B L1 L2 L3");
    assert_eq!(names("HEAD1"), "DEP1 DEP11A DEP11B L1 L2 L3 L4 LEAD11 LEAD12");
    assert_eq!(names("HEAD2"), "L5");
    assert_eq!(names("L1"), "");
    assert_eq!(names("DEP11A"), "", "a deputy has no team of their own");
    assert_eq!(tree.reports_of(&p("MAYOR")).len(), 13);
}

#[test]
fn malformed_trees_are_refused() {
    let unit = |id: &str, parent: Option<&str>| OrgUnit { id: u(id), parent: parent.map(u), manager: None, deputies: vec![] };
    let person = |id: &str, unit: &str| Person { id: p(id), org_unit: u(unit), roles: Default::default() };
    let cases: Vec<(Vec<OrgUnit>, Vec<Person>, &str)> = vec![
        (vec![unit("A", Some("B")), unit("B", Some("A"))], vec![], "org tree has a cycle through unit A"),
        (vec![unit("A", Some("A"))], vec![], "org tree has a cycle through unit A"),
        (vec![unit("A", None), unit("B", Some("C")), unit("C", Some("D")), unit("D", Some("B"))], vec![], "org tree has a cycle through unit B"),
        (vec![unit("A", Some("Z"))], vec![], "unknown org unit Z"),
        (vec![unit("A", None), unit("A", None)], vec![], "invalid org_unit.id: duplicate org unit A"),
        (vec![unit("A", None)], vec![person("x", "B")], "unknown org unit B"),
        (vec![unit("A", None)], vec![person("x", "A"), person("x", "A")], "invalid person.id: duplicate person x"),
    ];
    for (units, people, expected) in cases {
        let got = OrgTree::new(units, people).map(|_| "ok".to_owned()).unwrap_or_else(|e| e.to_string());
        assert_eq!(got, expected);
    }
}
