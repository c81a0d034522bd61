//! The manager's team view: for direct and indirect reports only — bookings, attendance
//! and mandatory-training status.
//!
//! The row types below are closed: they have no field (and no free-form map) that could
//! carry a score, a time spent or any other learning-analytics value, so a view built from
//! them cannot leak one, whatever the store puts in. The caller writes an audit-log entry
//! for every view it serves (the store's job).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::attendance::AttendanceStatus;
use crate::booking::BookingStatus;
use crate::ids::{OfferingId, OrgUnitId, PersonId, RequirementId, SessionId};
use crate::mandatory::TrainingStatus;
use crate::org::OrgTree;
use crate::ScheduleError;

/// A booking as a manager may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TeamBooking {
    pub offering: OfferingId,
    pub course_title: String,
    pub status: BookingStatus,
    pub first_session_at: Option<DateTime<Utc>>,
}

/// An attendance mark as a manager may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TeamAttendance {
    pub offering: OfferingId,
    pub session: SessionId,
    pub session_starts_at: DateTime<Utc>,
    pub status: AttendanceStatus,
}

/// A mandatory-training status as a manager may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TeamMandatory {
    pub requirement: RequirementId,
    pub title: String,
    pub status: TrainingStatus,
    pub due_at: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
}

/// The training records of one person, restricted to what a manager may see.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PersonRecords {
    pub bookings: Vec<TeamBooking>,
    pub attendance: Vec<TeamAttendance>,
    pub mandatory: Vec<TeamMandatory>,
}

/// One report in the view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TeamMember {
    pub person: PersonId,
    pub org_unit: OrgUnitId,
    /// In a unit the manager heads, or heading a unit directly below one.
    pub direct: bool,
    pub records: PersonRecords,
}

/// The team view of one manager, members ordered by personnel number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TeamView {
    pub manager: PersonId,
    pub members: Vec<TeamMember>,
}

/// Builds the view: every direct and indirect report of `manager` (see
/// [`OrgTree::reports_of`]) with their records (empty if `records` has none). A known person
/// who heads no unit gets an empty view; an unknown one an error.
pub fn team_view(tree: &OrgTree, manager: &PersonId, records: &BTreeMap<PersonId, PersonRecords>) -> Result<TeamView, ScheduleError> {
    build(tree, manager, |person| records.get(person).cloned().unwrap_or_default())
}

/// Like [`team_view`] but takes the records by value and moves them into the view instead
/// of cloning them (the cheaper choice when the records were loaded just for this view).
/// Records of people who are not reports are dropped.
pub fn team_view_from(tree: &OrgTree, manager: &PersonId, mut records: BTreeMap<PersonId, PersonRecords>) -> Result<TeamView, ScheduleError> {
    build(tree, manager, |person| records.remove(person).unwrap_or_default())
}

fn build(tree: &OrgTree, manager: &PersonId, mut take: impl FnMut(&PersonId) -> PersonRecords) -> Result<TeamView, ScheduleError> {
    if tree.person(manager).is_none() {
        return Err(ScheduleError::UnknownPerson { person: manager.clone() });
    }
    let managed = tree.units_managed_by(manager);
    // Walk the units once (not a lookup per person): 16,000 people stay well within budget.
    let mut members: Vec<TeamMember> = Vec::new();
    for unit_id in tree.team_units(manager) {
        let Some(unit) = tree.unit(unit_id) else { continue };
        let whole_unit_direct = managed.contains(unit_id);
        let head_is_direct = unit.parent.as_ref().is_some_and(|p| managed.contains(p));
        for person in tree.members_of(unit_id) {
            if person == manager {
                continue;
            }
            let direct = whole_unit_direct || (head_is_direct && unit.manager.as_ref() == Some(person));
            members.push(TeamMember {
                person: person.clone(),
                org_unit: unit_id.clone(),
                direct,
                records: take(person),
            });
        }
    }
    members.sort_unstable_by(|a, b| a.person.cmp(&b.person));
    Ok(TeamView { manager: manager.clone(), members })
}
