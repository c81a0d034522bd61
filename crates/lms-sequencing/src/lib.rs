//! SCORM 2004 4th Edition sequencing and navigation, pure and deterministic.
//!
//! Build a [`Sequencer`] from a parsed organization, then drive it with navigation requests:
//!
//! ```text
//! let mut seq = Sequencer::new(&org, &package.sequencing_collection, seed)?;
//! let outcome = seq.navigate(&NavigationRequest::Start, now)?;   // Delivered { activity, .. }
//! seq.report(&RuntimeReport { completion_status: Some(CompletionStatus::Completed), ..Default::default() });
//! let next = seq.navigate(&"continue".parse()?, now)?;
//! let valid = seq.navigation_validity(now);                      // adl.nav.request_valid.*, TOC
//! let saved = seq.state().clone();                                // serde: persist, then `Sequencer::restore`
//! ```
//!
//! The activity tree and its definitions live in an index-based arena ([`tree`]); the
//! tracking model ([`state::SequencingState`]) is plain serializable data, including the
//! global objective store: pass the learner's shared store with
//! [`Sequencer::set_global_objectives`] when the organization says `objectivesGlobalToSystem`
//! (a fresh one otherwise) and save [`Sequencer::global_objectives`] back after each request.
//! Time is passed in (`now`), randomness comes from the registration's `u64` seed.
//! Requests refused by navigation request processing return [`SequencingError::Refused`]
//! with the SN book's exception code (`NB.2.1-2`, `SB.2.9-3`, …) and change nothing.
//!
//! Where the SN book leaves room, the engine follows the ADL reference implementation the
//! conformance suite was validated against: an objective with a read map shows the global
//! objective's value even while it is unknown; rollup rules and retry ignore children's
//! data from an earlier attempt of their parent (`useCurrentAttempt*Info`); `all`/`none`
//! rollup child sets hold when no child contributes; constrained choice is looked up from
//! the current activity's parent.
//!
//! The run-time side: call [`Sequencer::objectives_for`] to fill `cmi.objectives` at launch,
//! [`Sequencer::report`] when the SCO's session ends (not for `abandon`/`abandonAll`, whose
//! data is discarded), then [`Sequencer::navigate`] with the request the SCO or the learner
//! made.

mod duration;
mod engine;
pub mod error;
mod rng;
pub mod runtime;
pub mod state;
pub mod tree;

use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use lms_package::Organization;
use lms_package::sequencing::SequencingCollection;
use serde::{Deserialize, Serialize};

pub use duration::parse_iso_duration;
pub use engine::ChoiceResult;
pub use error::SequencingError;
pub use state::{ActivityState, GlobalObjective, GlobalObjectives, ObjectiveState, SequencingState};
pub use tree::{ActivityIndex, ActivityTree};

use engine::{Engine, SeqOutcome};
use rng::SplitMix64;

/// A navigation request (SCORM 2004 `adl.nav.request` vocabulary).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NavigationRequest {
    Start,
    ResumeAll,
    Continue,
    Previous,
    Choice(String),
    Jump(String),
    Exit,
    ExitAll,
    Abandon,
    AbandonAll,
    SuspendAll,
}

impl FromStr for NavigationRequest {
    type Err = SequencingError;

    /// Parses `continue`, `{target=ID}choice`, `{target=ID}jump`, `exitAll`, …
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || SequencingError::BadNavigationRequest(text.to_string());
        if let Some(rest) = text.strip_prefix("{target=") {
            let (target, verb) = rest.split_once('}').ok_or_else(bad)?;
            if target.is_empty() {
                return Err(bad());
            }
            return match verb {
                "choice" => Ok(Self::Choice(target.to_string())),
                "jump" => Ok(Self::Jump(target.to_string())),
                _ => Err(bad()),
            };
        }
        Ok(match text {
            "start" => Self::Start,
            "resumeAll" => Self::ResumeAll,
            "continue" => Self::Continue,
            "previous" => Self::Previous,
            "exit" => Self::Exit,
            "exitAll" => Self::ExitAll,
            "abandon" => Self::Abandon,
            "abandonAll" => Self::AbandonAll,
            "suspendAll" => Self::SuspendAll,
            _ => return Err(bad()),
        })
    }
}

/// What a navigation request led to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum NavigationOutcome {
    /// Launch this leaf activity.
    Delivered(Delivery),
    /// The sequencing session is over (the course ended or the learner left it).
    SequencingEnded,
    /// Valid, but nothing is to be launched now (e.g. `exit` from an activity; the learner
    /// picks the next one from the table of contents).
    NothingDelivered,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Delivery {
    pub activity: String,
    pub index: ActivityIndex,
    /// The attempt resumes a suspended one (`cmi.entry = resume`).
    pub resumed: bool,
    /// Attempt number of the activity (1 for the first).
    pub attempt: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CompletionStatus {
    Completed,
    Incomplete,
    NotAttempted,
    Unknown,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SuccessStatus {
    Passed,
    Failed,
    Unknown,
}

/// `cmi.exit` as the run-time saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExitMode {
    Normal,
    Suspend,
    Logout,
    TimeOut,
}

/// One `cmi.objectives.n` entry, matched by id to the activity's objectives.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveReport {
    pub id: String,
    pub success_status: Option<SuccessStatus>,
    pub completion_status: Option<CompletionStatus>,
    pub score_scaled: Option<f64>,
    pub score_raw: Option<f64>,
    pub score_min: Option<f64>,
    pub score_max: Option<f64>,
    pub progress_measure: Option<f64>,
}

/// What the run-time hands the sequencer about the current activity's SCO: a snapshot of
/// its data model (`None` = element never set), plus this session's time.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RuntimeReport {
    pub completion_status: Option<CompletionStatus>,
    pub success_status: Option<SuccessStatus>,
    pub score_scaled: Option<f64>,
    pub score_raw: Option<f64>,
    pub score_min: Option<f64>,
    pub score_max: Option<f64>,
    pub progress_measure: Option<f64>,
    pub objectives: Vec<ObjectiveReport>,
    /// Seconds of `cmi.session_time`; added to the attempt's experienced duration.
    pub session_time_seconds: Option<f64>,
    pub exit: Option<ExitMode>,
}

/// The tracking view of one objective as a SCO should see it at launch (global reads applied).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ObjectiveSnapshot {
    pub id: String,
    pub primary: bool,
    pub success_status: Option<bool>,
    pub score_scaled: Option<f64>,
    pub score_raw: Option<f64>,
    pub score_min: Option<f64>,
    pub score_max: Option<f64>,
    pub completion_status: Option<bool>,
    pub progress_measure: Option<f64>,
}

/// What `adl.nav.request_valid.*` and the player's controls need.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct NavigationValidity<'a> {
    pub start: bool,
    pub resume_all: bool,
    pub continue_: bool,
    pub previous: bool,
    pub exit: bool,
    pub exit_all: bool,
    pub suspend_all: bool,
    pub abandon: bool,
    pub abandon_all: bool,
    /// One entry per activity, in tree (preorder) order.
    pub activities: Vec<ActivityValidity<'a>>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ActivityValidity<'a> {
    /// The activity's identifier (borrowed from the sequencer's tree: no copy per call).
    pub activity: &'a str,
    pub title: &'a str,
    pub depth: usize,
    /// `adl.nav.request_valid.choice.{target=…}`
    pub choice: bool,
    /// `adl.nav.request_valid.jump.{target=…}`
    pub jump: bool,
    /// Left out of the table of contents (hidden from choice, not selected, or invisible).
    pub hidden: bool,
    /// Shown but not selectable (choice not valid, or disabled by rules or limits).
    pub disabled: bool,
}

/// An activity's rolled-up status (`None`: unknown).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ActivityStatus {
    pub completed: Option<bool>,
    pub satisfied: Option<bool>,
    /// Normalized measure of the primary objective (-1..1).
    pub measure: Option<f64>,
    pub attempts: u32,
}

/// The sequencer of one registration.
#[derive(Clone, Debug)]
pub struct Sequencer {
    tree: ActivityTree,
    state: SequencingState,
}

fn seconds(now: SystemTime) -> f64 {
    now.duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

impl Sequencer {
    /// A fresh sequencer: selection and randomization are drawn from `seed`.
    pub fn new(org: &Organization, collection: &SequencingCollection, seed: u64) -> Result<Self, SequencingError> {
        let tree = ActivityTree::build(org, collection)?;
        let activities =
            tree.activities.iter().map(|def| ActivityState::fresh(def.objectives.len(), &def.children)).collect();
        let mut state = SequencingState {
            activity_ids: tree.activities.iter().map(|d| d.id.clone()).collect(),
            activities,
            current: None,
            suspended: None,
            globals: GlobalObjectives::default(),
            rng: SplitMix64::new(seed),
        };
        let mut engine = Engine { t: &tree, s: &mut state, now: 0.0, retry: false, in_rollup: Default::default(), for_runtime: false };
        for a in 0..tree.len() {
            engine.select_and_randomize(a, false);
        }
        Ok(Sequencer { tree, state })
    }

    /// A sequencer continuing from a saved state (e.g. after suspend all).
    pub fn restore(
        org: &Organization,
        collection: &SequencingCollection,
        state: SequencingState,
    ) -> Result<Self, SequencingError> {
        let tree = ActivityTree::build(org, collection)?;
        let ids: Vec<&str> = tree.activities.iter().map(|d| d.id.as_str()).collect();
        if state.activity_ids.iter().map(String::as_str).ne(ids.iter().copied())
            || state.activities.len() != tree.len()
        {
            return Err(SequencingError::StateMismatch("activity identifiers differ".into()));
        }
        for (index, (st, def)) in state.activities.iter().zip(&tree.activities).enumerate() {
            if st.objectives.len() != def.objectives.len()
                || st.available_children.iter().any(|c| !def.children.contains(c))
            {
                return Err(SequencingError::StateMismatch(format!("activity {} differs", tree.activities[index].id)));
            }
        }
        if state.current.is_some_and(|c| c >= tree.len()) || state.suspended.is_some_and(|c| c >= tree.len()) {
            return Err(SequencingError::StateMismatch("current or suspended activity out of range".into()));
        }
        Ok(Sequencer { tree, state })
    }

    /// Replaces the global objective store (e.g. shared across packages of a learner).
    pub fn set_global_objectives(&mut self, globals: GlobalObjectives) {
        self.state.globals = globals;
    }

    pub fn global_objectives(&self) -> &GlobalObjectives {
        &self.state.globals
    }

    pub fn state(&self) -> &SequencingState {
        &self.state
    }

    pub fn into_state(self) -> SequencingState {
        self.state
    }

    pub fn tree(&self) -> &ActivityTree {
        &self.tree
    }

    /// The activity whose content is (or was last) delivered.
    pub fn current_activity(&self) -> Option<&str> {
        self.state.current.map(|a| self.tree.def(a).id.as_str())
    }

    /// The activity a `resumeAll` would deliver.
    pub fn suspended_activity(&self) -> Option<&str> {
        self.state.suspended.map(|a| self.tree.def(a).id.as_str())
    }

    /// Is the current activity active (delivered and not yet terminated)?
    pub fn current_is_active(&self) -> bool {
        self.state.current.is_some_and(|a| self.state.activities[a].active)
    }

    fn engine(&mut self, now: SystemTime) -> Engine<'_> {
        Engine { t: &self.tree, s: &mut self.state, now: seconds(now), retry: false, in_rollup: Default::default(), for_runtime: false }
    }

    /// Overall Sequencing Process (OP.1) for one navigation request. A refused request
    /// leaves the state as it was.
    ///
    /// As the SN book's Overall Sequencing Process says, a request refused by the navigation
    /// request process changes nothing; one refused later (by the sequencing or delivery
    /// request process) keeps what termination already did (the current attempt has ended).
    /// [`Sequencer::navigation_validity`] tells beforehand which requests will succeed.
    pub fn navigate(&mut self, request: &NavigationRequest, now: SystemTime) -> Result<NavigationOutcome, SequencingError> {
        self.navigate_inner(request, now)
    }

    fn navigate_inner(&mut self, request: &NavigationRequest, now: SystemTime) -> Result<NavigationOutcome, SequencingError> {
        let mut engine = self.engine(now);
        let (termination, mut sequencing) = engine.navigation_request(request)?;
        if let Some(termination) = termination
            && let Some(replacement) = engine.terminate(termination)?
        {
            sequencing = Some(replacement);
        }
        let Some(sequencing) = sequencing else { return Ok(NavigationOutcome::NothingDelivered) };
        let target = match engine.sequencing_request(sequencing)? {
            SeqOutcome::EndSession => {
                engine.s.current = None;
                // The course attempt is over (not suspended): global objectives scoped to it
                // are gone, as a retry of the whole course would clear them.
                let root = engine.t.root();
                if !engine.s.activities[root].suspended && !engine.t.objectives_global_to_system {
                    engine.clear_tree_globals();
                }
                return Ok(NavigationOutcome::SequencingEnded);
            }
            SeqOutcome::Nothing => return Ok(NavigationOutcome::NothingDelivered),
            SeqOutcome::Deliver(a) => a,
        };
        engine.delivery_check(target)?;
        let resumed = engine.deliver(target)?;
        Ok(NavigationOutcome::Delivered(Delivery {
            activity: self.tree.def(target).id.clone(),
            index: target,
            resumed,
            attempt: self.state.activities[target].attempt_count,
        }))
    }

    /// Records the current activity's run-time data in the tracking model (call it before
    /// the navigation request that ends the SCO's session). Ignored for untracked activities.
    pub fn report(&mut self, report: &RuntimeReport) {
        let Some(a) = self.state.current else { return };
        let def = self.tree.def(a);
        if !def.delivery.tracked {
            // Suspension is activity state, kept even when no tracking data is.
            if let Some(exit) = report.exit {
                self.state.activities[a].suspended = exit == ExitMode::Suspend;
            }
            return;
        }
        let st = &mut self.state.activities[a];
        if let Some(seconds) = report.session_time_seconds.filter(|s| s.is_finite() && *s >= 0.0) {
            st.attempt_experienced_duration += seconds;
            st.activity_experienced_duration += seconds;
        }
        if let Some(exit) = report.exit {
            st.suspended = exit == ExitMode::Suspend;
        }
        // Completion.
        st.attempt_completion_amount_status = false;
        if let Some(pm) = report.progress_measure.filter(|p| p.is_finite()) {
            st.attempt_completion_amount_status = true;
            st.attempt_completion_amount = pm;
        }
        match report.completion_status {
            Some(CompletionStatus::Completed) => set_completion(st, Some(true)),
            Some(CompletionStatus::Incomplete) | Some(CompletionStatus::NotAttempted) => set_completion(st, Some(false)),
            Some(CompletionStatus::Unknown) => set_completion(st, None),
            None => st.attempt_progress_status = false,
        }
        st.completion_reported = report.completion_status.is_some();
        let threshold = def.completion_threshold;
        if threshold.completed_by_measure {
            // Completion comes from the progress measure alone (RTE 4th ed. 4.2.4.1).
            st.completion_reported = true;
            if st.attempt_completion_amount_status {
                st.attempt_progress_status = true;
                st.attempt_completion_status = st.attempt_completion_amount >= threshold.min_progress_measure;
            } else {
                st.attempt_progress_status = false;
            }
        }
        st.success_reported = report.success_status.is_some();
        // Primary objective.
        if let Some(k) = def.primary {
            let objective = &mut st.objectives[k];
            apply_success(objective, report.success_status);
            apply_measure(objective, report.score_scaled);
            objective.raw_score = report.score_raw;
            objective.min_score = report.score_min;
            objective.max_score = report.score_max;
            objective.dirty = false;
        }
        for reported in &report.objectives {
            if reported.id.is_empty() {
                continue;
            }
            let Some(k) = def.objectives.iter().position(|o| o.id == reported.id).or_else(|| {
                let wanted = engine::normalize_objective_id(&reported.id);
                def.objectives.iter().position(|o| engine::normalize_objective_id(&o.id) == wanted)
            }) else {
                continue;
            };
            if def.primary == Some(k) {
                // cmi.success_status / cmi.score win for the primary objective; fill gaps only.
                let objective = &mut st.objectives[k];
                if report.success_status.is_none() {
                    apply_success(objective, reported.success_status);
                }
                if report.score_scaled.is_none() {
                    apply_measure(objective, reported.score_scaled);
                }
                if report.score_raw.is_none() {
                    objective.raw_score = reported.score_raw;
                }
                if report.score_min.is_none() {
                    objective.min_score = reported.score_min;
                }
                if report.score_max.is_none() {
                    objective.max_score = reported.score_max;
                }
                if report.success_status.is_none() && reported.success_status.is_some() {
                    st.success_reported = true;
                }
                if report.completion_status.is_none()
                    && let Some(status) = reported.completion_status
                {
                    set_completion(st, completion_value(status));
                    st.completion_reported = true;
                }
                if report.progress_measure.is_none()
                    && let Some(pm) = reported.progress_measure.filter(|p| p.is_finite())
                {
                    st.attempt_completion_amount_status = true;
                    st.attempt_completion_amount = pm;
                }
                continue;
            }
            let objective = &mut st.objectives[k];
            apply_success(objective, reported.success_status);
            apply_measure(objective, reported.score_scaled);
            objective.raw_score = reported.score_raw;
            objective.min_score = reported.score_min;
            objective.max_score = reported.score_max;
            objective.completion_status = match reported.completion_status {
                Some(CompletionStatus::Completed) => Some(true),
                Some(CompletionStatus::Incomplete) | Some(CompletionStatus::NotAttempted) => Some(false),
                _ => None,
            };
            objective.progress_measure = reported.progress_measure;
            objective.dirty = false;
        }
        st.progress_dirty = false;
        // An objective the content explicitly set back to `unknown` clears what it writes.
        let mut cleared: Vec<&str> = Vec::new();
        let explicit_unknown = |status: Option<SuccessStatus>| status == Some(SuccessStatus::Unknown);
        for (k, objective) in def.objectives.iter().enumerate() {
            if objective.satisfied_by_measure {
                continue;
            }
            let unknown = if def.primary == Some(k) {
                explicit_unknown(report.success_status)
                    || (report.success_status.is_none()
                        && report.objectives.iter().any(|r| r.id == objective.id && explicit_unknown(r.success_status)))
            } else {
                !objective.id.is_empty()
                    && report.objectives.iter().any(|r| {
                        (r.id == objective.id
                            || engine::normalize_objective_id(&r.id) == engine::normalize_objective_id(&objective.id))
                            && explicit_unknown(r.success_status)
                    })
            };
            if unknown {
                cleared.extend(objective.maps.iter().filter(|m| m.write_satisfied_status).map(|m| m.target_objective_id.as_str()));
            }
        }
        for target in cleared {
            if let Some(global) = self.state.globals.objectives.get_mut(target) {
                global.satisfied = None;
            }
        }
        // The same for a completion status set back to `unknown`.
        let mut cleared: Vec<&str> = Vec::new();
        let completion_unknown = |status: Option<CompletionStatus>| status == Some(CompletionStatus::Unknown);
        for (k, objective) in def.objectives.iter().enumerate() {
            let same = |r: &ObjectiveReport| {
                r.id == objective.id
                    || engine::normalize_objective_id(&r.id) == engine::normalize_objective_id(&objective.id)
            };
            let unknown = if def.primary == Some(k) {
                completion_unknown(report.completion_status)
                    || (report.completion_status.is_none()
                        && !objective.id.is_empty()
                        && report.objectives.iter().any(|r| same(r) && completion_unknown(r.completion_status)))
            } else {
                !objective.id.is_empty()
                    && report.objectives.iter().any(|r| same(r) && completion_unknown(r.completion_status))
            };
            if unknown {
                cleared.extend(
                    objective.adl_maps.iter().filter(|m| m.write_completion_status).map(|m| m.target_objective_id.as_str()),
                );
            }
        }
        for target in cleared {
            if let Some(global) = self.state.globals.objectives.get_mut(target) {
                global.completed = None;
            }
        }
        let mut engine = Engine { t: &self.tree, s: &mut self.state, now: 0.0, retry: false, in_rollup: Default::default(), for_runtime: false };
        engine.write_maps(a);
    }

    /// The objectives of an activity as its SCO should see them at launch.
    pub fn objectives_for(&self, activity: &str) -> Vec<ObjectiveSnapshot> {
        let Some(a) = self.tree.index_of(activity) else { return Vec::new() };
        let engine = Engine { t: &self.tree, s: &self.state, now: 0.0, retry: false, in_rollup: Default::default(), for_runtime: true };
        let def = self.tree.def(a);
        def.objectives
            .iter()
            .enumerate()
            .map(|(k, o)| {
                let local = &engine.s.activities[a].objectives[k];
                let read = |f: &dyn Fn(&GlobalObjective) -> Option<f64>, enabled: &dyn Fn(&lms_package::sequencing::AdlMapInfo) -> bool| {
                    o.adl_maps
                        .iter()
                        .filter(|m| enabled(m))
                        .find_map(|m| engine.s.globals.objectives.get(&m.target_objective_id).and_then(f))
                };
                ObjectiveSnapshot {
                    id: o.id.clone(),
                    primary: o.primary,
                    success_status: engine.obj_satisfied(a, k),
                    score_scaled: engine.obj_measure(a, k),
                    score_raw: read(&|g| g.raw_score, &|m| m.read_raw_score).or(local.raw_score),
                    score_min: read(&|g| g.min_score, &|m| m.read_min_score).or(local.min_score),
                    score_max: read(&|g| g.max_score, &|m| m.read_max_score).or(local.max_score),
                    completion_status: engine.completion(a, Some(k)),
                    progress_measure: if o.primary {
                        engine.progress_measure(a)
                    } else {
                        read(&|g| g.progress_measure, &|m| m.read_progress_measure).or(local.progress_measure)
                    },
                }
            })
            .collect()
    }

    /// The tracking status of an activity (the root: the course) as the sequencer rolled it up.
    pub fn activity_status(&self, activity: &str) -> Option<ActivityStatus> {
        let a = self.tree.index_of(activity)?;
        let engine = Engine { t: &self.tree, s: &self.state, now: 0.0, retry: false, in_rollup: Default::default(), for_runtime: false };
        let primary = self.tree.def(a).primary;
        Some(ActivityStatus {
            completed: engine.completion(a, None),
            satisfied: primary.and_then(|k| engine.obj_satisfied(a, k)),
            measure: primary.and_then(|k| engine.obj_measure(a, k)),
            attempts: self.state.activities[a].attempt_count,
        })
    }

    /// `cmi.scaled_passing_score` for an activity: its primary objective's minimum measure
    /// when satisfaction is decided by measure.
    pub fn scaled_passing_score(&self, activity: &str) -> Option<f64> {
        let def = self.tree.def(self.tree.index_of(activity)?);
        let objective = &def.objectives[def.primary?];
        objective.satisfied_by_measure.then_some(objective.min_normalized_measure)
    }

    /// Which requests are valid now, and how each activity shows in the table of contents.
    pub fn navigation_validity(&self, now: SystemTime) -> NavigationValidity<'_> {
        let engine = Engine { t: &self.tree, s: &self.state, now: seconds(now), retry: false, in_rollup: Default::default(), for_runtime: false };
        let current = engine.s.current;
        let active = current.is_some_and(|c| engine.s.activities[c].active);
        let mut validity = NavigationValidity {
            start: current.is_none() && engine.s.suspended.is_none(),
            resume_all: current.is_none() && engine.s.suspended.is_some(),
            exit: active,
            exit_all: current.is_some(),
            suspend_all: current.is_some(),
            abandon: active,
            abandon_all: current.is_some(),
            ..NavigationValidity::default()
        };
        if let Some(cur) = current
            && let Some(parent) = self.tree.def(cur).parent
        {
            let control = &self.tree.def(parent).control;
            validity.continue_ = control.flow;
            validity.previous = control.flow && !control.forward_only && self.previous_delivers(cur, now);
        }
        let exit_allowed_below = |cur: ActivityIndex, ca: ActivityIndex| -> bool {
            let mut walk = cur;
            while walk != ca {
                if engine.s.activities[walk].active && !self.tree.def(walk).control.choice_exit {
                    return false;
                }
                match self.tree.def(walk).parent {
                    Some(p) => walk = p,
                    None => break,
                }
            }
            true
        };
        // Whether leaving the current activity's ancestors below the common ancestor is
        // allowed depends only on that ancestor: computed once per ancestor.
        let mut exit_ok_below: Vec<Option<bool>> = vec![None; self.tree.len()];
        let mut choice_exit_ok = |target: ActivityIndex| -> bool {
            let Some(cur) = current else { return true };
            let ca = self.tree.common_ancestor(cur, target);
            if let Some(known) = exit_ok_below[ca] {
                return known;
            }
            let ok = exit_allowed_below(cur, ca);
            exit_ok_below[ca] = Some(ok);
            ok
        };
        // One pass from the root down (parents precede children in the arena): availability,
        // hidden-from-choice and disabled/limit state inherited from the ancestors.
        let n = self.tree.len();
        let mut available = vec![true; n];
        let mut hidden_by_rule = vec![false; n];
        let mut blocked = vec![false; n];
        for a in 0..n {
            let (inherited_available, inherited_hidden, inherited_blocked) = match self.tree.def(a).parent {
                Some(p) => (
                    available[p] && self.state.activities[p].available_children.contains(&a),
                    hidden_by_rule[p],
                    blocked[p],
                ),
                None => (true, false, false),
            };
            available[a] = inherited_available;
            hidden_by_rule[a] = inherited_hidden || engine.pre_rule(a, lms_package::sequencing::RuleAction::HiddenFromChoice);
            blocked[a] = inherited_blocked || engine.check_activity(a);
        }
        let deliverable = |leaf: ActivityIndex| self.tree.def(leaf).is_leaf() && !blocked[leaf];
        validity.activities.reserve_exact(n);
        let mut path_memo = engine::PathMemo::default();
        // For a leaf target whose parent is off the current activity's path, the choice
        // checks depend only on that parent (common ancestor, direction, the path down): one
        // evaluation per parent. Constrained choice depends on the target itself, so with a
        // constrained cluster above the current activity every target is checked on its own.
        let mut on_current_path = vec![false; n];
        let mut uniform_leaves = true;
        if let Some(cur) = current {
            for at in self.tree.path_to_root(cur) {
                on_current_path[at] = true;
                if at != cur && self.tree.def(at).constrain_choice {
                    uniform_leaves = false;
                }
            }
        }
        let mut leaf_checks: Vec<Option<bool>> = vec![None; n];
        for (a, def) in self.tree.activities.iter().enumerate() {
            let hidden = !available[a] || !def.visible || hidden_by_rule[a];
            let shared_parent =
                def.parent.filter(|&p| uniform_leaves && def.is_leaf() && Some(a) != current && !on_current_path[p]);
            let choice = available[a]
                && !hidden_by_rule[a]
                && def.parent.is_none_or(|p| self.tree.def(p).control.choice)
                && choice_exit_ok(a)
                && match shared_parent.and_then(|p| leaf_checks[p]) {
                    Some(path_ok) => path_ok && deliverable(a),
                    None => {
                        let checked = engine.choice_check_memo(a, &mut path_memo);
                        if let Some(p) = shared_parent {
                            leaf_checks[p] = Some(checked.is_ok());
                        }
                        match checked {
                            Ok(ChoiceResult::Deliver(leaf)) => Some(leaf) == current && active || deliverable(leaf),
                            _ => false,
                        }
                    }
                };
            let jump = available[a] && current.is_some() && deliverable(a);
            validity.activities.push(ActivityValidity {
                activity: &def.id,
                title: &def.title,
                depth: def.depth,
                choice,
                jump,
                hidden,
                disabled: !choice,
            });
        }
        validity
    }

    /// Would a `previous` request deliver something? Evaluated without terminating the
    /// current attempt (as the ADL reference implementation does), and without changing state.
    fn previous_delivers(&self, cur: ActivityIndex, now: SystemTime) -> bool {
        let engine = Engine { t: &self.tree, s: &self.state, now: seconds(now), retry: false, in_rollup: Default::default(), for_runtime: false };
        match engine.flow_from(cur, engine::Direction::Backward) {
            Some(a) => engine.delivery_check(a).is_ok(),
            None => false,
        }
    }
}


fn completion_value(status: CompletionStatus) -> Option<bool> {
    match status {
        CompletionStatus::Completed => Some(true),
        CompletionStatus::Incomplete | CompletionStatus::NotAttempted => Some(false),
        CompletionStatus::Unknown => None,
    }
}

fn set_completion(st: &mut ActivityState, completed: Option<bool>) {
    match completed {
        Some(value) => {
            st.attempt_progress_status = true;
            st.attempt_completion_status = value;
        }
        None => st.attempt_progress_status = false,
    }
}

fn apply_success(objective: &mut ObjectiveState, status: Option<SuccessStatus>) {
    match status {
        Some(SuccessStatus::Passed) => {
            objective.progress_status = true;
            objective.satisfied_status = true;
        }
        Some(SuccessStatus::Failed) => {
            objective.progress_status = true;
            objective.satisfied_status = false;
        }
        _ => objective.progress_status = false,
    }
}

fn apply_measure(objective: &mut ObjectiveState, scaled: Option<f64>) {
    match scaled.filter(|s| s.is_finite() && (-1.0..=1.0).contains(s)) {
        Some(value) => {
            objective.measure_status = true;
            objective.normalized_measure = value;
        }
        None => objective.measure_status = false,
    }
}
