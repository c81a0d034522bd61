//! The tracking model: everything the sequencer remembers about a learner's progress,
//! serializable so a store can persist it (suspend all, resume across sessions).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::rng::SplitMix64;
use crate::tree::ActivityIndex;

/// Objective progress information of one local objective.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveState {
    pub progress_status: bool,
    pub satisfied_status: bool,
    pub measure_status: bool,
    pub normalized_measure: f64,
    pub raw_score: Option<f64>,
    pub min_score: Option<f64>,
    pub max_score: Option<f64>,
    /// 4th edition objective completion (`Some(true)` completed, `Some(false)` incomplete).
    pub completion_status: Option<bool>,
    pub progress_measure: Option<f64>,
    /// Set by a parent's new attempt under `useCurrentAttemptObjectiveInfo`: the data is from
    /// an older attempt and is ignored while a retry is evaluated.
    pub dirty: bool,
}

/// Activity state, activity progress and attempt progress information of one activity.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ActivityState {
    pub active: bool,
    pub suspended: bool,
    /// Children after selection and randomization, in delivery order.
    pub available_children: Vec<ActivityIndex>,
    pub selection_done: bool,
    pub randomization_done: bool,
    pub activity_progress_status: bool,
    pub attempt_count: u32,
    /// Seconds of all attempts' session time.
    pub activity_experienced_duration: f64,
    pub attempt_progress_status: bool,
    pub attempt_completion_status: bool,
    pub attempt_completion_amount_status: bool,
    pub attempt_completion_amount: f64,
    /// Seconds of session time in the current attempt.
    pub attempt_experienced_duration: f64,
    /// Seconds since the Unix epoch when the current attempt began.
    pub attempt_started_at: Option<f64>,
    /// The content reported a completion status (even `unknown`) in this attempt.
    pub completion_reported: bool,
    /// The content reported a success status (even `unknown`) in this attempt.
    pub success_reported: bool,
    pub progress_dirty: bool,
    pub objectives: Vec<ObjectiveState>,
}

/// One shared (global) objective.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GlobalObjective {
    pub satisfied: Option<bool>,
    pub normalized_measure: Option<f64>,
    pub raw_score: Option<f64>,
    pub min_score: Option<f64>,
    pub max_score: Option<f64>,
    pub completed: Option<bool>,
    pub progress_measure: Option<f64>,
}

/// The global objective store, keyed by target objective id. Pass the same store to
/// every package of a learner when `objectives_global_to_system` is true.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GlobalObjectives {
    pub objectives: BTreeMap<String, GlobalObjective>,
}

/// The whole sequencing state of a registration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SequencingState {
    /// Activity identifiers in arena order, to check a restored state fits the tree.
    pub activity_ids: Vec<String>,
    pub activities: Vec<ActivityState>,
    pub current: Option<ActivityIndex>,
    pub suspended: Option<ActivityIndex>,
    pub globals: GlobalObjectives,
    pub rng: SplitMix64,
}
