//! Mandatory training status and recertification cycles.

use lms_schedule::ids::{CourseId, RequirementId, RoleId};
use lms_schedule::mandatory::{recertification_notice, requirement_status, AssignmentScope, Requirement, TrainingStatus};

use crate::{at, city, p, u};

/// Valid 24 months, window 60 days, first deadline 30 days after assignment.
fn first_aid() -> Requirement {
    Requirement {
        id: RequirementId(5),
        title: "First aid".into(),
        satisfied_by: [CourseId(1), CourseId(2)].into(),
        assigned_to: vec![AssignmentScope::Role(RoleId::new("first-aider")), AssignmentScope::OrgUnit(u("FB2"))],
        validity_months: Some(24),
        recertification_window_days: 60,
        initial_deadline_days: 30,
    }
}

const ASSIGNED: &str = "2026-01-01T00:00:00Z";

/// Expected: "status due_at valid_until cycle".
fn check(completions: &[&str], now: &str, expected: &str) {
    let completions: Vec<_> = completions.iter().map(|c| at(c)).collect();
    let s = requirement_status(&first_aid(), at(ASSIGNED), &completions, at(now));
    let show = |t: Option<chrono::DateTime<chrono::Utc>>| t.map_or("-".to_owned(), |t| t.format("%Y-%m-%d").to_string());
    let got = format!("{} {} {} {}", s.status.name(), show(s.due_at), show(s.valid_until), s.cycle);
    assert_eq!(got, expected, "completions {completions:?} at {now}");
}

#[test]
fn status_is_a_function_of_completions_and_now() {
    check(&[], "2026-01-20T00:00:00Z", "not_started 2026-01-31 - 0");
    check(&[], "2026-01-31T00:00:00Z", "overdue 2026-01-31 - 0");
    check(&["2026-01-15T09:00:00Z"], "2026-02-01T00:00:00Z", "valid 2028-01-15 2028-01-15 1");
    check(&["2026-01-15T09:00:00Z"], "2027-11-16T09:00:00Z", "due 2028-01-15 2028-01-15 1"); // 60 days before
    check(&["2026-01-15T09:00:00Z"], "2027-11-16T08:59:59Z", "valid 2028-01-15 2028-01-15 1");
    check(&["2026-01-15T09:00:00Z"], "2028-01-15T09:00:00Z", "expired 2028-01-15 2028-01-15 1");
    // Renewal inside the window extends from the old expiry; after expiry from the completion.
    check(&["2026-01-15T09:00:00Z", "2027-12-01T09:00:00Z"], "2027-12-02T00:00:00Z", "valid 2030-01-15 2030-01-15 2");
    check(&["2026-01-15T09:00:00Z", "2028-03-01T09:00:00Z"], "2028-03-02T00:00:00Z", "valid 2030-03-01 2030-03-01 2");
    // Repeating before the window opens starts a new cycle from that completion.
    check(&["2026-01-15T09:00:00Z", "2026-06-01T09:00:00Z"], "2026-07-01T00:00:00Z", "valid 2028-06-01 2028-06-01 2");
    // Completions in the future (relative to now) are ignored; order of input does not matter.
    check(&["2028-03-01T09:00:00Z", "2026-01-15T09:00:00Z"], "2028-02-01T00:00:00Z", "expired 2028-01-15 2028-01-15 1");
}

#[test]
fn new_cycle_starts_cleanly_and_keeps_history() {
    let completions = [at("2026-01-15T09:00:00Z"), at("2028-03-01T09:00:00Z")];
    let s = requirement_status(&first_aid(), at(ASSIGNED), &completions, at("2029-01-01T00:00:00Z"));
    assert_eq!(s.status, TrainingStatus::Valid);
    assert_eq!(s.history.len(), 2);
    assert_eq!(s.history[0].completed_at, completions[0]);
    assert_eq!(s.history[0].valid_until, Some(at("2028-01-15T09:00:00Z")));
    assert_eq!((s.history[1].number, s.history[1].valid_until), (2, Some(at("2030-03-01T09:00:00Z"))));
    // A requirement without validity is valid for ever after one completion.
    let once = Requirement { validity_months: None, ..first_aid() };
    let s = requirement_status(&once, at(ASSIGNED), &completions[..1], at("2090-01-01T00:00:00Z"));
    assert_eq!((s.status, s.valid_until), (TrainingStatus::Valid, None));
}

#[test]
fn notices_once_per_cycle() {
    let completions = [at("2026-01-15T09:00:00Z")];
    let due = requirement_status(&first_aid(), at(ASSIGNED), &completions, at("2027-12-01T00:00:00Z"));
    let notice = recertification_notice(&p("L3"), &due, at("2027-12-01T00:00:00Z")).unwrap();
    assert_eq!(notice.dedupe_key, "recertification-due:5:L3:1");
    let expired = requirement_status(&first_aid(), at(ASSIGNED), &completions, at("2028-02-01T00:00:00Z"));
    assert_eq!(recertification_notice(&p("L3"), &expired, at("2028-02-01T00:00:00Z")).unwrap().dedupe_key, notice.dedupe_key);
    let valid = requirement_status(&first_aid(), at(ASSIGNED), &completions, at("2026-12-01T00:00:00Z"));
    assert!(recertification_notice(&p("L3"), &valid, at("2026-12-01T00:00:00Z")).is_none());
}

#[test]
fn assignment_by_role_and_org_subtree() {
    let tree = city();
    let applies: Vec<&str> = ["L1", "L3", "L5", "HEAD2", "L6", "HEAD1", "NOBODY"]
        .into_iter()
        .filter(|x| first_aid().applies_to(&tree, &p(x)))
        .collect();
    assert_eq!(applies, ["L3", "L5", "HEAD2", "L6"]);
}
