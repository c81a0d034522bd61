//! The org tree, absences, approver resolution and the manager's set of reports.
//!
//! The tree is built once from plain rows ([`OrgTree::new`]) which validates it (unknown
//! parents, cycles, people in unknown units) and indexes children, members and managed units,
//! so subtree questions cost time proportional to the answer, not to the city.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{OrgUnitId, PersonId, RoleId};
use crate::time::berlin_date;
use crate::ScheduleError;

/// One org unit row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgUnit {
    pub id: OrgUnitId,
    /// `None` for the root (the city administration).
    pub parent: Option<OrgUnitId>,
    /// The head of the unit, who approves bookings of its members.
    pub manager: Option<PersonId>,
    /// Deputies in order of precedence; they approve when the manager is absent.
    pub deputies: Vec<PersonId>,
}

/// One person row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: PersonId,
    pub org_unit: OrgUnitId,
    pub roles: BTreeSet<RoleId>,
}

/// A validated, indexed org tree.
#[derive(Debug, Clone)]
pub struct OrgTree {
    units: BTreeMap<OrgUnitId, OrgUnit>,
    people: BTreeMap<PersonId, Person>,
    children: BTreeMap<OrgUnitId, Vec<OrgUnitId>>,
    members: BTreeMap<OrgUnitId, Vec<PersonId>>,
    managed: BTreeMap<PersonId, Vec<OrgUnitId>>,
}

impl OrgTree {
    /// Builds and validates the tree.
    pub fn new(units: Vec<OrgUnit>, people: Vec<Person>) -> Result<Self, ScheduleError> {
        let mut unit_map = BTreeMap::new();
        for unit in units {
            if unit_map.contains_key(&unit.id) {
                return Err(ScheduleError::InvalidField {
                    field: "org_unit.id",
                    reason: format!("duplicate org unit {}", unit.id),
                });
            }
            unit_map.insert(unit.id.clone(), unit);
        }
        let mut children: BTreeMap<OrgUnitId, Vec<OrgUnitId>> = BTreeMap::new();
        let mut managed: BTreeMap<PersonId, Vec<OrgUnitId>> = BTreeMap::new();
        for unit in unit_map.values() {
            if let Some(parent) = &unit.parent {
                if !unit_map.contains_key(parent) {
                    return Err(ScheduleError::UnknownOrgUnit { unit: parent.clone() });
                }
                children.entry(parent.clone()).or_default().push(unit.id.clone());
            }
            if let Some(manager) = &unit.manager {
                managed.entry(manager.clone()).or_default().push(unit.id.clone());
            }
        }
        // Cycle check: walking up from every unit must reach a root within |units| steps.
        let mut known_rooted: BTreeSet<&OrgUnitId> = BTreeSet::new();
        for start in unit_map.keys() {
            let mut path = Vec::new();
            let mut current = Some(start);
            while let Some(id) = current {
                if known_rooted.contains(id) {
                    break;
                }
                if path.contains(&id) {
                    return Err(ScheduleError::OrgTreeCycle { unit: id.clone() });
                }
                path.push(id);
                current = unit_map.get(id).and_then(|u| u.parent.as_ref());
            }
            known_rooted.extend(path);
        }
        let mut people_map = BTreeMap::new();
        let mut members: BTreeMap<OrgUnitId, Vec<PersonId>> = BTreeMap::new();
        for person in people {
            if !unit_map.contains_key(&person.org_unit) {
                return Err(ScheduleError::UnknownOrgUnit { unit: person.org_unit.clone() });
            }
            if people_map.contains_key(&person.id) {
                return Err(ScheduleError::InvalidField {
                    field: "person.id",
                    reason: format!("duplicate person {}", person.id),
                });
            }
            members.entry(person.org_unit.clone()).or_default().push(person.id.clone());
            people_map.insert(person.id.clone(), person);
        }
        Ok(Self { units: unit_map, people: people_map, children, members, managed })
    }

    /// A unit by id.
    pub fn unit(&self, id: &OrgUnitId) -> Option<&OrgUnit> {
        self.units.get(id)
    }

    /// A person by id.
    pub fn person(&self, id: &PersonId) -> Option<&Person> {
        self.people.get(id)
    }

    /// Number of people in the tree.
    pub fn people_count(&self) -> usize {
        self.people.len()
    }

    /// The unit itself, its parent, … up to the root.
    pub fn ancestors_inclusive<'a>(&'a self, unit: &'a OrgUnitId) -> impl Iterator<Item = &'a OrgUnit> + 'a {
        let mut current = self.units.get(unit);
        std::iter::from_fn(move || {
            let here = current?;
            current = here.parent.as_ref().and_then(|p| self.units.get(p));
            Some(here)
        })
    }

    /// Whether `unit` is `ancestor` or lies below it.
    pub fn is_within(&self, unit: &OrgUnitId, ancestor: &OrgUnitId) -> bool {
        self.ancestors_inclusive(unit).any(|u| &u.id == ancestor)
    }

    /// Whether the person's unit is `ancestor` or lies below it. Unknown people are not.
    pub fn person_is_within(&self, person: &PersonId, ancestor: &OrgUnitId) -> bool {
        self.people.get(person).is_some_and(|p| self.is_within(&p.org_unit, ancestor))
    }

    /// The unit and all units below it, in pre-order.
    pub fn subtree(&self, root: &OrgUnitId) -> Vec<&OrgUnitId> {
        let mut out = Vec::new();
        let Some((root, _)) = self.units.get_key_value(root) else {
            return out;
        };
        let mut stack = vec![root];
        while let Some(id) = stack.pop() {
            out.push(id);
            if let Some(kids) = self.children.get(id) {
                stack.extend(kids.iter().rev());
            }
        }
        out
    }

    /// The units a person heads.
    pub fn units_managed_by(&self, person: &PersonId) -> &[OrgUnitId] {
        self.managed.get(person).map_or(&[], Vec::as_slice)
    }

    /// Direct and indirect reports of a manager: every person in every unit the manager
    /// heads and in all units below them, except the manager. Empty for non-managers.
    pub fn reports_of(&self, manager: &PersonId) -> BTreeSet<PersonId> {
        let mut reports: Vec<&PersonId> = Vec::new();
        for unit in self.team_units(manager) {
            reports.extend(self.members_of(unit).iter().filter(|p| *p != manager));
        }
        // Sorted bulk construction is much cheaper than 16,000 single inserts.
        reports.sort_unstable();
        reports.dedup();
        reports.into_iter().cloned().collect()
    }

    /// The units whose members report to `manager`: every unit they head and everything
    /// below, each once, in pre-order of the headed units.
    pub fn team_units(&self, manager: &PersonId) -> Vec<&OrgUnitId> {
        let managed = self.units_managed_by(manager);
        let mut units: Vec<&OrgUnitId> = Vec::new();
        for unit in managed {
            // A headed unit below another headed unit is already covered.
            let covered = self.unit(unit).and_then(|u| u.parent.as_ref()).is_some_and(|parent| {
                self.ancestors_inclusive(parent).any(|a| managed.contains(&a.id))
            });
            if !covered {
                units.extend(self.subtree(unit));
            }
        }
        units
    }

    /// The people whose own unit is `unit` (not the units below).
    pub fn members_of(&self, unit: &OrgUnitId) -> &[PersonId] {
        self.members.get(unit).map_or(&[], Vec::as_slice)
    }
}

/// Absences (leave, sickness) as inclusive Berlin date ranges per person.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Absences {
    by_person: BTreeMap<PersonId, Vec<(NaiveDate, NaiveDate)>>,
}

impl Absences {
    /// No absences.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `person` is absent from `first_day` to `last_day` inclusive.
    pub fn add(&mut self, person: PersonId, first_day: NaiveDate, last_day: NaiveDate) -> Result<(), ScheduleError> {
        if last_day < first_day {
            return Err(ScheduleError::InvalidField {
                field: "absence",
                reason: format!("last day {last_day} is before first day {first_day}"),
            });
        }
        self.by_person.entry(person).or_default().push((first_day, last_day));
        Ok(())
    }

    /// Whether the person is absent on that Berlin date.
    pub fn is_absent(&self, person: &PersonId, day: NaiveDate) -> bool {
        self.by_person
            .get(person)
            .is_some_and(|ranges| ranges.iter().any(|(a, b)| *a <= day && day <= *b))
    }
}

/// When an unanswered approval request moves one level up the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalPolicy {
    /// Whole days without a decision after which the request escalates one level up
    /// (again after each further such period). `0` disables escalation.
    pub escalate_after_days: u32,
}

/// Why this person approves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ApproverRole {
    /// The head of the unit.
    Manager,
    /// A deputy standing in for the absent head.
    Deputy { for_manager: PersonId },
}

/// The person who has to decide an approval request right now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approver {
    pub person: PersonId,
    /// The unit whose head (or deputy) decides.
    pub unit: OrgUnitId,
    pub role: ApproverRole,
    /// 0 = the learner's own manager, 1 = one level up, …
    pub escalation_level: u32,
}

/// Resolves who must approve a booking of `learner` requested at `requested_at`, as of `now`.
///
/// Rules: the chain of approvers is the heads of the learner's unit and its ancestors,
/// skipping units without a head, the learner themself, and a head repeated from the level
/// below. With `escalate_after_days = N > 0` the request sits at level
/// `floor(whole days since request / N)` of that chain (capped at the top). If the head at
/// that level is absent on the Berlin date of `now`, the first present deputy of that unit
/// decides; if all of them are absent too, the next level up is asked.
pub fn resolve_approver(
    tree: &OrgTree,
    absences: &Absences,
    learner: &PersonId,
    requested_at: DateTime<Utc>,
    now: DateTime<Utc>,
    policy: ApprovalPolicy,
) -> Result<Approver, ScheduleError> {
    let person = tree.person(learner).ok_or_else(|| ScheduleError::UnknownPerson { person: learner.clone() })?;
    let mut chain: Vec<&OrgUnit> = Vec::new();
    for unit in tree.ancestors_inclusive(&person.org_unit) {
        let Some(head) = &unit.manager else { continue };
        if head == learner || chain.last().and_then(|u| u.manager.as_ref()) == Some(head) {
            continue;
        }
        chain.push(unit);
    }
    if chain.is_empty() {
        return Err(ScheduleError::NoApprover { person: learner.clone() });
    }
    let waited_days = (now - requested_at).num_days().max(0);
    let level = match policy.escalate_after_days {
        0 => 0,
        n => usize::try_from(waited_days / i64::from(n)).unwrap_or(usize::MAX),
    };
    let today = berlin_date(now);
    let start = level.min(chain.len() - 1);
    for (index, unit) in chain.iter().enumerate().skip(start) {
        let escalation_level = u32::try_from(index).unwrap_or(u32::MAX);
        let Some(head) = &unit.manager else { continue };
        if !absences.is_absent(head, today) {
            return Ok(Approver { person: head.clone(), unit: unit.id.clone(), role: ApproverRole::Manager, escalation_level });
        }
        if let Some(deputy) = unit.deputies.iter().find(|d| *d != learner && !absences.is_absent(d, today)) {
            return Ok(Approver {
                person: deputy.clone(),
                unit: unit.id.clone(),
                role: ApproverRole::Deputy { for_manager: head.clone() },
                escalation_level,
            });
        }
    }
    Err(ScheduleError::NoApprover { person: learner.clone() })
}
