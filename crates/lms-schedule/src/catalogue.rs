//! Catalogue: courses, their kinds and who may see them.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::ids::{CourseId, LearningPathId, OrgUnitId, PackageId, PersonId};
use crate::org::OrgTree;
use crate::ScheduleError;

/// What kind of learning a course is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CourseKind {
    /// Self-paced, delivered by an uploaded SCORM/xAPI package.
    ELearning { package_id: PackageId },
    /// In a room, with sessions.
    Classroom,
    /// Sessions held online.
    LiveOnline { meeting_url: String },
    /// A learning path mixing e-learning and classroom steps.
    Blended { learning_path_id: LearningPathId },
}

impl CourseKind {
    /// The wire name (`e_learning`, `classroom`, `live_online`, `blended`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::ELearning { .. } => "e_learning",
            Self::Classroom => "classroom",
            Self::LiveOnline { .. } => "live_online",
            Self::Blended { .. } => "blended",
        }
    }

    /// Whether offerings of this kind have sessions (and can be booked).
    pub fn has_sessions(&self) -> bool {
        matches!(self, Self::Classroom | Self::LiveOnline { .. })
    }
}

/// Who may see (and book) a course.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "scope", content = "org_units", rename_all = "snake_case")]
pub enum Visibility {
    /// Every member of staff.
    CityWide,
    /// Members of these units *and all units below them*.
    OrgUnits(BTreeSet<OrgUnitId>),
}

/// A catalogue course.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Course {
    pub id: CourseId,
    pub title: String,
    /// The department that owns (and administers) the course.
    pub org_unit: OrgUnitId,
    pub kind: CourseKind,
    pub visibility: Visibility,
}

/// Longest accepted title, in characters.
pub const MAX_TITLE_CHARS: usize = 300;

impl Course {
    /// Checks the course against the org tree: non-empty bounded title, known owner and
    /// visibility units, a non-empty visibility list, an `https://` (or `http://`) meeting URL.
    pub fn validate(&self, tree: &OrgTree) -> Result<(), ScheduleError> {
        let title = self.title.trim();
        if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS || title.chars().any(char::is_control) {
            return Err(ScheduleError::InvalidField {
                field: "title",
                reason: format!("must be 1..={MAX_TITLE_CHARS} characters without control characters"),
            });
        }
        if tree.unit(&self.org_unit).is_none() {
            return Err(ScheduleError::UnknownOrgUnit { unit: self.org_unit.clone() });
        }
        if let Visibility::OrgUnits(units) = &self.visibility {
            if units.is_empty() {
                return Err(ScheduleError::InvalidField {
                    field: "visibility",
                    reason: "list at least one org unit, or make the course city-wide".into(),
                });
            }
            if let Some(unknown) = units.iter().find(|u| tree.unit(u).is_none()) {
                return Err(ScheduleError::UnknownOrgUnit { unit: unknown.clone() });
            }
        }
        match &self.kind {
            CourseKind::LiveOnline { meeting_url } => {
                let ok = (meeting_url.starts_with("https://") || meeting_url.starts_with("http://"))
                    && meeting_url.len() <= 2000
                    && !meeting_url.chars().any(|c| c.is_whitespace() || c.is_control());
                if !ok {
                    return Err(ScheduleError::InvalidField {
                        field: "meeting_url",
                        reason: "must be an http(s) URL without spaces, at most 2000 bytes".into(),
                    });
                }
            }
            CourseKind::ELearning { package_id } if package_id.as_str().trim().is_empty() => {
                return Err(ScheduleError::InvalidField { field: "package_id", reason: "empty".into() });
            }
            _ => {}
        }
        Ok(())
    }

    /// Whether `person` may see the course. City-wide courses are visible to everyone in
    /// the tree; restricted ones to members of the listed units and their subtrees, and
    /// always to members of the owning unit's subtree. Unknown people see nothing.
    pub fn is_visible_to(&self, tree: &OrgTree, person: &PersonId) -> bool {
        let Some(p) = tree.person(person) else { return false };
        match &self.visibility {
            Visibility::CityWide => true,
            Visibility::OrgUnits(units) => {
                tree.ancestors_inclusive(&p.org_unit).any(|u| u.id == self.org_unit || units.contains(&u.id))
            }
        }
    }
}
