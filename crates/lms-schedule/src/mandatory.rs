//! Mandatory training and recertification.
//!
//! A [`Requirement`] is assigned to org units (with their subtrees) and/or roles and is
//! satisfied by completing any of its courses. Every completion starts a new *cycle*;
//! the status is a pure function of the assignment date, the completions and `now`:
//!
//! | status        | meaning                                                                |
//! |---------------|------------------------------------------------------------------------|
//! | `not_started` | never completed, first deadline (`assigned_at + initial_deadline_days`) not reached |
//! | `overdue`     | never completed, first deadline passed                                  |
//! | `valid`       | current cycle valid and the recertification window not yet open        |
//! | `due`         | still valid, but inside the recertification window before `valid_until`|
//! | `expired`     | the last cycle's validity has ended                                     |
//!
//! Validity of a new cycle: completing *inside* the window extends from the old
//! `valid_until` (nobody loses time for renewing early); completing before the window
//! opens or after expiry counts from the completion. Earlier cycles stay in the history.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Months, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{CourseId, OrgUnitId, PersonId, RequirementId, RoleId};
use crate::org::OrgTree;
use crate::outbox::{Notification, OutboxEntry};

/// To whom a requirement applies.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum AssignmentScope {
    /// Everyone in this unit and the units below it.
    OrgUnit(OrgUnitId),
    /// Everyone holding this role.
    Role(RoleId),
}

/// A mandatory-training requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirement {
    pub id: RequirementId,
    pub title: String,
    /// Completing any of these courses satisfies the requirement.
    pub satisfied_by: BTreeSet<CourseId>,
    pub assigned_to: Vec<AssignmentScope>,
    /// How long a completion is valid; `None` = once is enough.
    pub validity_months: Option<u32>,
    /// How many days before `valid_until` the status turns `due`.
    pub recertification_window_days: u32,
    /// Days after assignment by which the first completion is expected.
    pub initial_deadline_days: u32,
}

impl Requirement {
    /// Whether the requirement applies to the person (unknown people: no).
    pub fn applies_to(&self, tree: &OrgTree, person: &PersonId) -> bool {
        let Some(p) = tree.person(person) else { return false };
        self.assigned_to.iter().any(|scope| match scope {
            AssignmentScope::OrgUnit(unit) => tree.is_within(&p.org_unit, unit),
            AssignmentScope::Role(role) => p.roles.contains(role),
        })
    }

    fn valid_until(&self, from: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // Months past the representable range saturate to "valid forever".
        self.validity_months.map(|m| from.checked_add_months(Months::new(m)).unwrap_or(DateTime::<Utc>::MAX_UTC))
    }
}

/// The status values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrainingStatus {
    NotStarted,
    Due,
    Overdue,
    Valid,
    Expired,
}

impl TrainingStatus {
    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            Self::NotStarted => "not_started",
            Self::Due => "due",
            Self::Overdue => "overdue",
            Self::Valid => "valid",
            Self::Expired => "expired",
        }
    }
}

/// One certification cycle (one counted completion).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cycle {
    /// 1, 2, … in completion order.
    pub number: u32,
    pub completed_at: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
}

/// A person's status for one requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequirementStatus {
    pub requirement: RequirementId,
    pub status: TrainingStatus,
    /// The deadline that matters now: first deadline, or the current cycle's `valid_until`.
    pub due_at: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    /// Number of the current cycle (0 = never completed).
    pub cycle: u32,
    /// All cycles, oldest first.
    pub history: Vec<Cycle>,
}

fn saturating_sub(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    t.checked_sub_signed(d).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Computes the status at `now` (see the module docs). Completions after `now` are ignored.
pub fn requirement_status(
    requirement: &Requirement,
    assigned_at: DateTime<Utc>,
    completions: &[DateTime<Utc>],
    now: DateTime<Utc>,
) -> RequirementStatus {
    let mut sorted: Vec<DateTime<Utc>> = completions.iter().copied().filter(|c| *c <= now).collect();
    sorted.sort();
    let window = Duration::days(i64::from(requirement.recertification_window_days));
    let mut history: Vec<Cycle> = Vec::new();
    for completed_at in sorted {
        let valid_until = match history.last().and_then(|c| c.valid_until) {
            Some(previous) if completed_at < previous && completed_at >= saturating_sub(previous, window) => requirement.valid_until(previous),
            _ => requirement.valid_until(completed_at),
        };
        let number = u32::try_from(history.len() + 1).unwrap_or(u32::MAX);
        history.push(Cycle { number, completed_at, valid_until });
    }
    let (status, due_at, valid_until) = match history.last() {
        None => {
            let deadline = assigned_at
                .checked_add_signed(Duration::days(i64::from(requirement.initial_deadline_days)))
                .unwrap_or(DateTime::<Utc>::MAX_UTC);
            let status = if now < deadline { TrainingStatus::NotStarted } else { TrainingStatus::Overdue };
            (status, Some(deadline), None)
        }
        Some(Cycle { valid_until: None, .. }) => (TrainingStatus::Valid, None, None),
        Some(Cycle { valid_until: Some(until), .. }) => {
            let status = if now >= *until {
                TrainingStatus::Expired
            } else if now >= saturating_sub(*until, window) {
                TrainingStatus::Due
            } else {
                TrainingStatus::Valid
            };
            (status, Some(*until), Some(*until))
        }
    };
    let cycle = history.last().map_or(0, |c| c.number);
    RequirementStatus { requirement: requirement.id, status, due_at, valid_until, cycle, history }
}

/// The "recertification due" notification for a status that is `due` or `expired`; one per
/// cycle thanks to its dedupe key.
pub fn recertification_notice(person: &PersonId, status: &RequirementStatus, now: DateTime<Utc>) -> Option<OutboxEntry> {
    if !matches!(status.status, TrainingStatus::Due | TrainingStatus::Expired) {
        return None;
    }
    let valid_until = status.valid_until?;
    Some(OutboxEntry {
        recipient: person.clone(),
        created_at: now,
        dedupe_key: format!("recertification-due:{}:{person}:{}", status.requirement, status.cycle),
        notification: Notification::RecertificationDue { requirement: status.requirement, cycle: status.cycle, valid_until },
    })
}
