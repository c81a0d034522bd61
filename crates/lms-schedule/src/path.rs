//! Learning paths: ordered or unordered steps (e-learning modules and classroom courses)
//! with prerequisites. Progress is event-driven: each completion event is applied with
//! [`PathProgress::apply`], which returns the steps it unlocked *now* — no batch job.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{CourseId, LearningPathId, PackageId, StepId};
use crate::ScheduleError;

/// What a step asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StepTarget {
    /// Complete this e-learning package (completion from the SCORM/xAPI records).
    ELearning { package_id: PackageId },
    /// Complete any offering of this classroom / live-online course.
    Offering { course_id: CourseId },
}

/// One step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathStep {
    pub id: StepId,
    pub target: StepTarget,
    /// Steps that must be complete first (in an ordered path, all earlier steps are implied).
    pub prerequisites: BTreeSet<StepId>,
}

/// Whether steps must be taken in list order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PathOrder {
    Ordered,
    Unordered,
}

/// A learning path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearningPath {
    pub id: LearningPathId,
    pub order: PathOrder,
    pub steps: Vec<PathStep>,
}

/// Most steps a path may have.
pub const MAX_STEPS: usize = 500;

impl LearningPath {
    /// Checks: at least one step, unique ids, known prerequisites, no self-reference, no cycle.
    pub fn validate(&self) -> Result<(), ScheduleError> {
        if self.steps.is_empty() || self.steps.len() > MAX_STEPS {
            return Err(ScheduleError::InvalidField { field: "steps", reason: format!("need 1..={MAX_STEPS} steps") });
        }
        let mut ids = BTreeSet::new();
        for step in &self.steps {
            if !ids.insert(&step.id) {
                return Err(ScheduleError::InvalidPath { step: step.id.clone(), reason: "duplicate step id".into() });
            }
        }
        for step in &self.steps {
            if let Some(unknown) = step.prerequisites.iter().find(|p| !ids.contains(p)) {
                return Err(ScheduleError::InvalidPath { step: step.id.clone(), reason: format!("unknown prerequisite {unknown}") });
            }
            if step.prerequisites.contains(&step.id) {
                return Err(ScheduleError::InvalidPath { step: step.id.clone(), reason: "requires itself".into() });
            }
        }
        // Kahn's algorithm over the explicit prerequisites (plus list order if ordered).
        let prereqs = self.all_prerequisites();
        let mut done: BTreeSet<&StepId> = BTreeSet::new();
        loop {
            let ready: Vec<&StepId> = self
                .steps
                .iter()
                .map(|s| &s.id)
                .filter(|id| !done.contains(id) && prereqs[id].iter().all(|p| done.contains(p)))
                .collect();
            if ready.is_empty() {
                break;
            }
            done.extend(ready);
        }
        if let Some(stuck) = self.steps.iter().find(|s| !done.contains(&s.id)) {
            return Err(ScheduleError::InvalidPath { step: stuck.id.clone(), reason: "prerequisites form a cycle".into() });
        }
        Ok(())
    }

    fn all_prerequisites(&self) -> BTreeMap<&StepId, BTreeSet<&StepId>> {
        let mut map = BTreeMap::new();
        for (i, step) in self.steps.iter().enumerate() {
            let mut set: BTreeSet<&StepId> = step.prerequisites.iter().collect();
            if self.order == PathOrder::Ordered {
                set.extend(self.steps[..i].iter().map(|s| &s.id));
            }
            map.insert(&step.id, set);
        }
        map
    }

    /// Steps not yet completed whose prerequisites are all completed, in list order.
    pub fn unlocked_steps(&self, completed: &BTreeSet<StepId>) -> Vec<StepId> {
        let prereqs = self.all_prerequisites();
        self.steps
            .iter()
            .filter(|s| !completed.contains(&s.id) && prereqs[&s.id].iter().all(|p| completed.contains(*p)))
            .map(|s| s.id.clone())
            .collect()
    }

    /// The steps an event completes.
    fn steps_matching(&self, event: &CompletionEvent) -> impl Iterator<Item = &StepId> {
        self.steps
            .iter()
            .filter(move |s| match (&s.target, &event.kind) {
                (StepTarget::ELearning { package_id }, CompletionKind::ELearning { package_id: p }) => package_id == p,
                (StepTarget::Offering { course_id }, CompletionKind::Offering { course_id: c }) => course_id == c,
                _ => false,
            })
            .map(|s| &s.id)
    }
}

/// What was completed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CompletionKind {
    ELearning { package_id: PackageId },
    /// An offering of this course was completed (by the attendance rule).
    Offering { course_id: CourseId },
}

/// A completion event for one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletionEvent {
    pub kind: CompletionKind,
    pub completed_at: DateTime<Utc>,
}

/// One person's progress on one path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathProgress {
    /// Completed steps with the instant of completion.
    pub completed: BTreeMap<StepId, DateTime<Utc>>,
}

/// The effect of one completion event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathUpdate {
    pub progress: PathProgress,
    /// Steps the event completed (empty if it did not concern this path).
    pub newly_completed: Vec<StepId>,
    /// Steps that were locked before the event and are unlocked now.
    pub newly_unlocked: Vec<StepId>,
    /// All currently unlocked steps (the learner's "next steps").
    pub next_steps: Vec<StepId>,
    pub path_completed: bool,
}

impl PathProgress {
    fn completed_set(&self) -> BTreeSet<StepId> {
        self.completed.keys().cloned().collect()
    }

    /// The currently unlocked steps.
    pub fn next_steps(&self, path: &LearningPath) -> Vec<StepId> {
        path.unlocked_steps(&self.completed_set())
    }

    /// Applies a completion event. A matching step counts as completed even if it was not
    /// unlocked yet (the learner did the work); it simply does not unlock anything that
    /// still misses other prerequisites. Repeated events keep the first completion time.
    pub fn apply(&self, path: &LearningPath, event: &CompletionEvent) -> PathUpdate {
        let before = path.unlocked_steps(&self.completed_set());
        let mut progress = self.clone();
        let mut newly_completed = Vec::new();
        for step in path.steps_matching(event) {
            if !progress.completed.contains_key(step) {
                progress.completed.insert(step.clone(), event.completed_at);
                newly_completed.push(step.clone());
            }
        }
        let next_steps = path.unlocked_steps(&progress.completed_set());
        let newly_unlocked = next_steps.iter().filter(|s| !before.contains(s)).cloned().collect();
        let path_completed = path.steps.iter().all(|s| progress.completed.contains_key(&s.id));
        PathUpdate { progress, newly_completed, newly_unlocked, next_steps, path_completed }
    }
}
