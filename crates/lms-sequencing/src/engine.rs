//! The processes of the SCORM 2004 4th Edition Sequencing and Navigation book, working on an
//! [`ActivityTree`] (definitions) and a [`SequencingState`] (tracking), both index-based.

use lms_package::sequencing::{
    ChildActivitySet, ConditionCombination, RandomizationTiming, RollupAction, RollupCondition,
    RollupConditionKind, RollupConsideration, RuleAction, RuleCondition, RuleConditionKind, SequencingRule,
};

use crate::error::SequencingError;
use crate::state::{ActivityState, ObjectiveState, SequencingState};
use crate::tree::{ActivityIndex, ActivityTree};

type Result<T> = std::result::Result<T, SequencingError>;

fn refused<T>(code: &'static str) -> Result<T> {
    Err(SequencingError::refused(code))
}

/// Termination requests (TB.2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Termination {
    Exit,
    ExitAll,
    SuspendAll,
    Abandon,
    AbandonAll,
}

/// Sequencing requests (SB.2.12).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SeqRequest {
    Start,
    ResumeAll,
    Continue,
    Previous,
    Choice(ActivityIndex),
    Jump(ActivityIndex),
    Exit,
    Retry,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Forward,
    Backward,
}

/// Result of a flow traversal: an activity, or why none (end of session or an exception).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    Found(ActivityIndex, Direction),
    EndSession,
    Exception(&'static str),
}

/// What a sequencing request produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SeqOutcome {
    Deliver(ActivityIndex),
    EndSession,
    Nothing,
}

/// Objective ids compared loosely: `%20` escapes and whitespace dropped (manifests in the
/// wild, and the ADL suite, write the same id both ways). Global objective ids are stored in
/// this form.
pub(crate) fn normalize_objective_id(id: &str) -> String {
    id.replace("%20", "").chars().filter(|c| !c.is_whitespace()).collect()
}

/// Results of path checks by the target's parent (see [`Engine::choice_check_memo`]).
#[derive(Default)]
pub(crate) struct PathMemo(Vec<Option<(ActivityIndex, bool, Option<&'static str>)>>);

/// Three-valued logic of rule conditions.
type Tri = Option<bool>;

fn tri_not(value: Tri, negate: bool) -> Tri {
    if negate { value.map(|v| !v) } else { value }
}

fn combine(values: impl Iterator<Item = Tri>, combination: ConditionCombination) -> Tri {
    let mut unknown = false;
    match combination {
        ConditionCombination::All => {
            for value in values {
                match value {
                    Some(false) => return Some(false),
                    None => unknown = true,
                    Some(true) => {}
                }
            }
            if unknown { None } else { Some(true) }
        }
        ConditionCombination::Any => {
            for value in values {
                match value {
                    Some(true) => return Some(true),
                    None => unknown = true,
                    Some(false) => {}
                }
            }
            if unknown { None } else { Some(false) }
        }
    }
}

/// The engine: definitions borrowed, tracking state borrowed mutably.
pub(crate) struct Engine<'a, S = &'a mut SequencingState> {
    pub t: &'a ActivityTree,
    /// `&SequencingState` for read-only evaluation, `&mut SequencingState` to run requests.
    pub s: S,
    /// Seconds since the Unix epoch.
    pub now: f64,
    /// True while a retry request is evaluated (dirty data from older attempts is ignored).
    pub retry: bool,
    /// Set while rollup rule conditions are evaluated: like the ADL reference, rollup rules
    /// (and retry) ignore children's data from an earlier attempt of the parent.
    pub in_rollup: std::cell::Cell<bool>,
    /// Reading for a SCO's data model rather than for sequencing: an untracked activity's
    /// objectives still show what the global objectives hold.
    pub for_runtime: bool,
}

impl<'a, S: std::ops::Deref<Target = SequencingState>> Engine<'a, S> {
    // ---------------------------------------------------------------- tracking reads

    fn ignores_dirty(&self) -> bool {
        (self.retry || self.in_rollup.get()) && !self.for_runtime
    }

    fn st(&self, a: ActivityIndex) -> &ActivityState {
        &self.s.activities[a]
    }

    pub fn objective_index(&self, a: ActivityIndex, id: Option<&str>) -> Option<usize> {
        let def = self.t.def(a);
        match id {
            Some(id) if !id.is_empty() => def
                .objectives
                .iter()
                .position(|o| o.id == id)
                .or_else(|| {
                    let wanted = normalize_objective_id(id);
                    def.objectives.iter().position(|o| normalize_objective_id(&o.id) == wanted)
                })
                .or(def.primary),
            _ => def.primary,
        }
    }

    fn measure_satisfaction_allowed(&self, a: ActivityIndex) -> bool {
        !self.st(a).active || self.t.def(a).considerations.measure_satisfaction_if_active
    }

    /// Objective satisfied status, global read maps first.
    pub fn obj_satisfied(&self, a: ActivityIndex, k: usize) -> Tri {
        if !self.t.def(a).delivery.tracked && !self.for_runtime {
            return None;
        }
        let def = &self.t.def(a).objectives[k];
        if def.satisfied_by_measure {
            if !self.measure_satisfaction_allowed(a) {
                return None;
            }
            return self.obj_measure(a, k).map(|m| m >= def.min_normalized_measure);
        }
        // As in the ADL reference implementation, an objective that reads a global objective
        // shows the global's status, even while that is unknown.
        if let Some(map) = def.maps.iter().find(|m| m.read_satisfied_status) {
            return self.s.globals.objectives.get(&map.target_objective_id).and_then(|g| g.satisfied);
        }
        let local = &self.st(a).objectives[k];
        if local.progress_status && !(local.dirty && self.ignores_dirty()) { Some(local.satisfied_status) } else { None }
    }

    pub fn obj_measure(&self, a: ActivityIndex, k: usize) -> Option<f64> {
        if !self.t.def(a).delivery.tracked && !self.for_runtime {
            return None;
        }
        let def = &self.t.def(a).objectives[k];
        if let Some(map) = def.maps.iter().find(|m| m.read_normalized_measure) {
            return self.s.globals.objectives.get(&map.target_objective_id).and_then(|g| g.normalized_measure);
        }
        let local = &self.st(a).objectives[k];
        if local.measure_status && !(local.dirty && self.ignores_dirty()) { Some(local.normalized_measure) } else { None }
    }

    /// Completion of an activity (primary objective) or of a non-primary objective.
    pub fn completion(&self, a: ActivityIndex, k: Option<usize>) -> Tri {
        let def = self.t.def(a);
        if !def.delivery.tracked && !self.for_runtime {
            return None;
        }
        let k = k.or(def.primary);
        if k == def.primary && def.completion_threshold.completed_by_measure && !self.for_runtime {
            // Completion is decided by the progress measure alone.
            return self.progress_measure(a).map(|m| m >= def.completion_threshold.min_progress_measure);
        }
        if let Some(k) = k {
            for map in &def.objectives[k].adl_maps {
                if map.read_completion_status
                    && let Some(value) = self.s.globals.objectives.get(&map.target_objective_id).and_then(|g| g.completed)
                {
                    return Some(value);
                }
            }
            if Some(k) != def.primary {
                let local = &self.st(a).objectives[k];
                return if local.dirty && self.ignores_dirty() { None } else { local.completion_status };
            }
        }
        let st = self.st(a);
        if st.attempt_progress_status && !(st.progress_dirty && self.ignores_dirty()) {
            Some(st.attempt_completion_status)
        } else {
            None
        }
    }

    pub fn progress_measure(&self, a: ActivityIndex) -> Option<f64> {
        let def = self.t.def(a);
        if !def.delivery.tracked && !self.for_runtime {
            return None;
        }
        if let Some(k) = def.primary {
            for map in &def.objectives[k].adl_maps {
                if map.read_progress_measure
                    && let Some(value) =
                        self.s.globals.objectives.get(&map.target_objective_id).and_then(|g| g.progress_measure)
                {
                    return Some(value);
                }
            }
        }
        let st = self.st(a);
        if st.attempt_completion_amount_status && !(st.progress_dirty && self.ignores_dirty()) {
            Some(st.attempt_completion_amount)
        } else {
            None
        }
    }

    fn attempted(&self, a: ActivityIndex) -> bool {
        self.st(a).attempt_count > 0
    }

    fn attempt_absolute_duration(&self, a: ActivityIndex) -> f64 {
        match self.st(a).attempt_started_at {
            Some(start) => (self.now - start).max(0.0),
            None => 0.0,
        }
    }

    // ---------------------------------------------------------------- objective writes

    fn rule_condition(&self, a: ActivityIndex, cond: &RuleCondition) -> Tri {
        // Looked up only by the conditions that read an objective.
        let k = || self.objective_index(a, cond.referenced_objective.as_deref());
        let referenced_k = || {
            cond.referenced_objective.as_deref().and_then(|id| self.t.def(a).objectives.iter().position(|o| o.id == id))
        };
        let value = match cond.condition {
            RuleConditionKind::Satisfied => k().and_then(|k| self.obj_satisfied(a, k)),
            RuleConditionKind::ObjectiveStatusKnown => Some(k().and_then(|k| self.obj_satisfied(a, k)).is_some()),
            RuleConditionKind::ObjectiveMeasureKnown => Some(k().and_then(|k| self.obj_measure(a, k)).is_some()),
            RuleConditionKind::ObjectiveMeasureGreaterThan => {
                k().and_then(|k| self.obj_measure(a, k)).map(|m| m > cond.measure_threshold)
            }
            RuleConditionKind::ObjectiveMeasureLessThan => {
                k().and_then(|k| self.obj_measure(a, k)).map(|m| m < cond.measure_threshold)
            }
            RuleConditionKind::Completed => self.completion(a, referenced_k()),
            RuleConditionKind::ActivityProgressKnown => Some(self.completion(a, referenced_k()).is_some()),
            RuleConditionKind::Attempted => Some(self.attempted(a)),
            RuleConditionKind::AttemptLimitExceeded => Some(self.attempt_limit_exceeded(a)),
            RuleConditionKind::TimeLimitExceeded => Some(self.time_limit_exceeded(a)),
            RuleConditionKind::OutsideAvailableTimeRange => Some(false),
            RuleConditionKind::Always => Some(true),
        };
        tri_not(value, cond.negate)
    }

    fn attempt_limit_exceeded(&self, a: ActivityIndex) -> bool {
        match self.t.def(a).attempt_limit {
            Some(limit) if limit > 0 => self.st(a).attempt_count >= limit,
            _ => false,
        }
    }

    fn time_limit_exceeded(&self, a: ActivityIndex) -> bool {
        match self.t.def(a).attempt_absolute_duration_limit {
            Some(limit) => self.st(a).attempt_started_at.is_some() && self.attempt_absolute_duration(a) >= limit,
            None => false,
        }
    }

    fn rule_fires(&self, a: ActivityIndex, rule: &SequencingRule) -> bool {
        if rule.conditions.is_empty() {
            return false;
        }
        combine(rule.conditions.iter().map(|c| self.rule_condition(a, c)), rule.combination) == Some(true)
    }

    /// Sequencing Rules Check Process (UP.2) for the pre-condition rules with one of `actions`.
    pub fn pre_rule(&self, a: ActivityIndex, action: RuleAction) -> bool {
        if self.t.def(a).pre_actions & (1u32 << (action as u32)) == 0 {
            return false;
        }
        self.t.def(a).pre_rules.iter().any(|rule| rule.action == action && self.rule_fires(a, rule))
    }

    fn first_firing(&self, a: ActivityIndex, rules: &[SequencingRule]) -> Option<RuleAction> {
        rules.iter().find(|rule| self.rule_fires(a, rule)).map(|rule| rule.action)
    }

    // ---------------------------------------------------------------- UP.1, UP.5

    /// Limit Conditions Check Process (UP.1).
    fn limit_violated(&self, a: ActivityIndex) -> bool {
        let def = self.t.def(a);
        let st = self.st(a);
        if !def.delivery.tracked || st.active || st.suspended {
            return false;
        }
        if let Some(limit) = def.attempt_limit
            && limit > 0
            && st.activity_progress_status
            && st.attempt_count >= limit
        {
            return true;
        }
        if let Some(limit) = def.attempt_absolute_duration_limit
            && st.activity_progress_status
            && st.attempt_started_at.is_some()
            && self.attempt_absolute_duration(a) >= limit
        {
            return true;
        }
        false
    }

    /// Check Activity Process (UP.5): true when the activity is disabled or over its limits.
    pub fn check_activity(&self, a: ActivityIndex) -> bool {
        self.pre_rule(a, RuleAction::Disabled) || self.limit_violated(a)
    }

    // ---------------------------------------------------------------- tree helpers

    fn available(&self, a: ActivityIndex) -> &[ActivityIndex] {
        &self.st(a).available_children
    }

    fn is_available(&self, a: ActivityIndex) -> bool {
        match self.t.def(a).parent {
            None => true,
            Some(parent) => self.available(parent).contains(&a) && self.is_available(parent),
        }
    }

    fn position_in_parent(&self, a: ActivityIndex) -> Option<(ActivityIndex, usize)> {
        let parent = self.t.def(a).parent?;
        let position = self.available(parent).iter().position(|&c| c == a)?;
        Some((parent, position))
    }

    /// Is `a` the last activity of a forward preorder walk over the available tree?
    fn is_last_in_tree(&self, a: ActivityIndex) -> bool {
        let mut walk = a;
        if !self.t.def(walk).is_leaf() && !self.available(walk).is_empty() {
            return false;
        }
        loop {
            match self.position_in_parent(walk) {
                None => return true,
                Some((parent, position)) => {
                    if position + 1 != self.available(parent).len() {
                        return false;
                    }
                    walk = parent;
                }
            }
        }
    }

    /// Preorder rank over the available tree, for "forward of" comparisons.
    fn preorder_before(&self, a: ActivityIndex, b: ActivityIndex) -> bool {
        if a == b {
            return false;
        }
        if self.t.is_descendant(a, b) {
            return true;
        }
        if self.t.is_descendant(b, a) {
            return false;
        }
        self.preorder_before_below(a, b, self.t.common_ancestor(a, b))
    }

    /// [`Self::preorder_before`] for two activities in different subtrees of `ca`, their
    /// common ancestor.
    fn preorder_before_below(&self, a: ActivityIndex, b: ActivityIndex, ca: ActivityIndex) -> bool {
        let child_towards = |x: ActivityIndex| {
            let mut walk = x;
            while self.t.def(walk).parent != Some(ca) {
                walk = self.t.def(walk).parent.unwrap_or(ca);
                if walk == ca {
                    break;
                }
            }
            walk
        };
        let (ca_a, ca_b) = (child_towards(a), child_towards(b));
        let children = self.available(ca);
        let pa = children.iter().position(|&c| c == ca_a).unwrap_or(usize::MAX);
        let pb = children.iter().position(|&c| c == ca_b).unwrap_or(usize::MAX);
        if pa == pb { ca_a < ca_b } else { pa < pb }
    }

    // ---------------------------------------------------------------- flow (SB.2.1–SB.2.3)

    /// Flow Tree Traversal Subprocess (SB.2.1). Pure: ending the session is left to the caller.
    fn flow_tree_traversal(
        &self,
        a: ActivityIndex,
        direction: Direction,
        previous: Option<Direction>,
        consider_children: bool,
    ) -> Flow {
        let mut a = a;
        let mut direction = direction;
        let mut reversed = false;
        if previous == Some(Direction::Backward)
            && let Some((parent, position)) = self.position_in_parent(a)
            && position + 1 == self.available(parent).len()
        {
            direction = Direction::Backward;
            a = self.available(parent)[0];
            reversed = true;
        }
        match direction {
            Direction::Forward => {
                let is_root = self.t.def(a).parent.is_none();
                if self.is_last_in_tree(a) || (is_root && !consider_children) {
                    return Flow::EndSession;
                }
                if self.t.def(a).is_leaf() || !consider_children {
                    let Some((parent, position)) = self.position_in_parent(a) else {
                        return Flow::EndSession;
                    };
                    if position + 1 == self.available(parent).len() {
                        self.flow_tree_traversal(parent, Direction::Forward, None, false)
                    } else {
                        Flow::Found(self.available(parent)[position + 1], Direction::Forward)
                    }
                } else if let Some(&first) = self.available(a).first() {
                    Flow::Found(first, Direction::Forward)
                } else {
                    Flow::Exception("SB.2.1-2")
                }
            }
            Direction::Backward => {
                if self.t.def(a).parent.is_none() {
                    return Flow::Exception("SB.2.1-3");
                }
                if self.t.def(a).is_leaf() || !consider_children {
                    let _ = reversed;
                    let Some((parent, position)) = self.position_in_parent(a) else {
                        return Flow::Exception("SB.2.1-3");
                    };
                    if position == 0 {
                        self.flow_tree_traversal(parent, Direction::Backward, None, false)
                    } else {
                        Flow::Found(self.available(parent)[position - 1], Direction::Backward)
                    }
                } else {
                    let children = self.available(a);
                    if children.is_empty() {
                        Flow::Exception("SB.2.1-2")
                    } else if self.t.def(a).control.forward_only {
                        Flow::Found(children[0], Direction::Forward)
                    } else {
                        Flow::Found(children[children.len() - 1], Direction::Backward)
                    }
                }
            }
        }
    }

    /// Flow Activity Traversal Subprocess (SB.2.2).
    fn flow_activity_traversal(&self, a: ActivityIndex, direction: Direction, previous: Option<Direction>) -> Flow {
        let mut a = a;
        let mut direction = direction;
        let mut previous = previous;
        // Iterative form of the recursive pseudo-code; bounded by the number of activities.
        for _ in 0..(self.t.len() * 4 + 8) {
            if let Some(parent) = self.t.def(a).parent
                && !self.t.def(parent).control.flow
            {
                return Flow::Exception("SB.2.2-1");
            }
            if self.pre_rule(a, RuleAction::Skip) {
                match self.flow_tree_traversal(a, direction, previous, false) {
                    Flow::Found(next, traversal) => {
                        if previous == Some(Direction::Backward) && traversal == Direction::Backward {
                            a = next;
                            direction = traversal;
                            previous = None;
                        } else {
                            a = next;
                        }
                        continue;
                    }
                    other => return other,
                }
            }
            if self.check_activity(a) {
                return Flow::Exception("SB.2.2-2");
            }
            if !self.t.def(a).is_leaf() {
                match self.flow_tree_traversal(a, direction, None, true) {
                    Flow::Found(next, traversal) => {
                        if direction == Direction::Backward && traversal == Direction::Forward {
                            a = next;
                            direction = Direction::Forward;
                            previous = Some(Direction::Backward);
                        } else {
                            a = next;
                            previous = None;
                        }
                        continue;
                    }
                    other => return other,
                }
            }
            return Flow::Found(a, direction);
        }
        Flow::Exception("SB.2.2-2")
    }

    /// Where a `continue`/`previous` from `cur` would flow (the parent's flow control is
    /// checked), without running the request.
    pub fn flow_from(&self, cur: ActivityIndex, direction: Direction) -> Option<ActivityIndex> {
        let parent = self.t.def(cur).parent?;
        if !self.t.def(parent).control.flow {
            return None;
        }
        match self.flow(cur, direction, false) {
            Flow::Found(a, _) => Some(a),
            _ => None,
        }
    }

    /// Flow Subprocess (SB.2.3).
    fn flow(&self, a: ActivityIndex, direction: Direction, consider_children: bool) -> Flow {
        match self.flow_tree_traversal(a, direction, None, consider_children) {
            Flow::Found(next, _) => self.flow_activity_traversal(next, direction, None),
            other => other,
        }
    }

    // ---------------------------------------------------------------- navigation (NB.2.1)

    /// Navigation Request Process (NB.2.1): the termination and sequencing requests to run.
    pub fn navigation_request(
        &self,
        request: &crate::NavigationRequest,
    ) -> Result<(Option<Termination>, Option<SeqRequest>)> {
        use crate::NavigationRequest as N;
        let current = self.s.current;
        match request {
            N::Start => match current {
                None => Ok((None, Some(SeqRequest::Start))),
                Some(_) => refused("NB.2.1-1"),
            },
            N::ResumeAll => match current {
                None if self.s.suspended.is_some() => Ok((None, Some(SeqRequest::ResumeAll))),
                None => refused("NB.2.1-3"),
                Some(_) => refused("NB.2.1-1"),
            },
            N::Continue => {
                let Some(cur) = current else { return refused("NB.2.1-2") };
                match self.t.def(cur).parent {
                    Some(parent) if self.t.def(parent).control.flow => {
                        let term = self.st(cur).active.then_some(Termination::Exit);
                        Ok((term, Some(SeqRequest::Continue)))
                    }
                    _ => refused("NB.2.1-4"),
                }
            }
            N::Previous => {
                let Some(cur) = current else { return refused("NB.2.1-2") };
                match self.t.def(cur).parent {
                    Some(parent) => {
                        let control = &self.t.def(parent).control;
                        if control.flow && !control.forward_only {
                            let term = self.st(cur).active.then_some(Termination::Exit);
                            Ok((term, Some(SeqRequest::Previous)))
                        } else {
                            refused("NB.2.1-5")
                        }
                    }
                    None => refused("NB.2.1-6"),
                }
            }
            N::Choice(target) => {
                let Some(target) = self.t.index_of(target).filter(|&t| self.is_available(t)) else {
                    return refused("NB.2.1-11");
                };
                if let Some(parent) = self.t.def(target).parent
                    && !self.t.def(parent).control.choice
                {
                    return refused("NB.2.1-10");
                }
                let Some(cur) = current else { return Ok((None, Some(SeqRequest::Choice(target)))) };
                let ca = self.t.common_ancestor(cur, target);
                let mut walk = cur;
                while walk != ca {
                    if self.st(walk).active && !self.t.def(walk).control.choice_exit {
                        return refused("NB.2.1-8");
                    }
                    match self.t.def(walk).parent {
                        Some(parent) => walk = parent,
                        None => break,
                    }
                }
                let term = self.st(cur).active.then_some(Termination::Exit);
                Ok((term, Some(SeqRequest::Choice(target))))
            }
            N::Jump(target) => {
                let Some(target) = self.t.index_of(target).filter(|&t| self.is_available(t)) else {
                    return refused("NB.2.1-11");
                };
                let Some(cur) = current else { return refused("NB.2.1-2") };
                let term = self.st(cur).active.then_some(Termination::Exit);
                Ok((term, Some(SeqRequest::Jump(target))))
            }
            N::Exit | N::Abandon => {
                let Some(cur) = current else { return refused("NB.2.1-2") };
                if !self.st(cur).active {
                    return refused("NB.2.1-12");
                }
                let term = if matches!(request, N::Exit) { Termination::Exit } else { Termination::Abandon };
                Ok((Some(term), Some(SeqRequest::Exit)))
            }
            N::ExitAll | N::AbandonAll | N::SuspendAll => {
                if current.is_none() {
                    return refused("NB.2.1-2");
                }
                let term = match request {
                    N::ExitAll => Termination::ExitAll,
                    N::AbandonAll => Termination::AbandonAll,
                    _ => Termination::SuspendAll,
                };
                Ok((Some(term), Some(SeqRequest::Exit)))
            }
        }
    }

    // ---------------------------------------------------------------- termination (TB.2.x)

    /// Sequencing Post Condition Rules Subprocess (TB.2.2).
    fn post_condition_rules(&self, a: ActivityIndex) -> (Option<Termination>, Option<SeqRequest>) {
        if self.st(a).suspended {
            return (None, None);
        }
        match self.first_firing(a, &self.t.def(a).post_rules) {
            Some(RuleAction::Retry) => (None, Some(SeqRequest::Retry)),
            Some(RuleAction::Continue) => (None, Some(SeqRequest::Continue)),
            Some(RuleAction::Previous) => (None, Some(SeqRequest::Previous)),
            Some(RuleAction::ExitParent) => (Some(Termination::Exit), None),
            Some(RuleAction::ExitAll) => (Some(Termination::ExitAll), None),
            Some(RuleAction::RetryAll) => (Some(Termination::ExitAll), Some(SeqRequest::Retry)),
            _ => (None, None),
        }
    }

    fn default_rollup(&self, a: ActivityIndex, action: RollupAction, condition: RollupConditionKind) -> bool {
        let conditions = [RollupCondition { negate: false, condition }];
        self.child_set_fires(a, action, ChildActivitySet::All, 0, 0.0, ConditionCombination::Any, &conditions)
    }

    fn rollup_rules_fire(&self, a: ActivityIndex, action: RollupAction, rules: &[lms_package::sequencing::RollupRule]) -> bool {
        rules.iter().filter(|r| r.action == action).any(|r| {
            self.child_set_fires(
                a,
                action,
                r.child_activity_set,
                r.minimum_count,
                r.minimum_percent,
                r.combination,
                &r.conditions,
            )
        })
    }

    /// Check Child for Rollup Subprocess (RB.1.4.2).
    fn included_in_rollup(&self, child: ActivityIndex, action: RollupAction) -> bool {
        let def = self.t.def(child);
        if !def.delivery.tracked {
            return false;
        }
        let (contributes, consideration) = match action {
            RollupAction::Satisfied => (def.rollup.rollup_objective_satisfied, def.considerations.required_for_satisfied),
            RollupAction::NotSatisfied => {
                (def.rollup.rollup_objective_satisfied, def.considerations.required_for_not_satisfied)
            }
            RollupAction::Completed => (def.rollup.rollup_progress_completion, def.considerations.required_for_completed),
            RollupAction::Incomplete => {
                (def.rollup.rollup_progress_completion, def.considerations.required_for_incomplete)
            }
        };
        if !contributes {
            return false;
        }
        match consideration {
            RollupConsideration::Always => true,
            RollupConsideration::IfAttempted => self.attempted(child),
            RollupConsideration::IfNotSkipped => !self.pre_rule(child, RuleAction::Skip),
            RollupConsideration::IfNotSuspended => !(self.attempted(child) && self.st(child).suspended),
        }
    }

    fn rollup_condition(&self, child: ActivityIndex, cond: &RollupCondition) -> Tri {
        let k = self.t.def(child).primary;
        let value = match cond.condition {
            RollupConditionKind::Satisfied => k.and_then(|k| self.obj_satisfied(child, k)),
            RollupConditionKind::ObjectiveStatusKnown => Some(k.and_then(|k| self.obj_satisfied(child, k)).is_some()),
            RollupConditionKind::ObjectiveMeasureKnown => Some(k.and_then(|k| self.obj_measure(child, k)).is_some()),
            RollupConditionKind::Completed => self.completion(child, None),
            RollupConditionKind::ActivityProgressKnown => Some(self.completion(child, None).is_some()),
            RollupConditionKind::Attempted => Some(self.attempted(child)),
            RollupConditionKind::AttemptLimitExceeded => Some(self.attempt_limit_exceeded(child)),
            RollupConditionKind::TimeLimitExceeded => Some(self.time_limit_exceeded(child)),
            RollupConditionKind::OutsideAvailableTimeRange => Some(false),
        };
        tri_not(value, cond.negate)
    }

    /// Rollup Rule Check Subprocess (RB.1.4).
    #[allow(clippy::too_many_arguments)]
    fn child_set_fires(
        &self,
        a: ActivityIndex,
        action: RollupAction,
        set: ChildActivitySet,
        minimum_count: u32,
        minimum_percent: f64,
        combination: ConditionCombination,
        conditions: &[RollupCondition],
    ) -> bool {
        let mut included = 0usize;
        let mut trues = 0usize;
        let mut falses = 0usize;
        let outer = self.in_rollup.replace(true);
        for &child in self.available(a) {
            if !self.included_in_rollup(child, action) {
                continue;
            }
            included += 1;
            match combine(conditions.iter().map(|c| self.rollup_condition(child, c)), combination) {
                Some(true) => trues += 1,
                Some(false) => falses += 1,
                None => {}
            }
        }
        self.in_rollup.set(outer);
        // As the ADL reference implementation (which the conformance suite was validated
        // against) does: `all` and `none` hold for an empty contributing set; the counting
        // sets need at least one child whose condition is known.
        let all_unknown = trues + falses == 0;
        match set {
            ChildActivitySet::All => included == 0 || trues == included,
            ChildActivitySet::Any => trues > 0,
            ChildActivitySet::None => falses == included,
            ChildActivitySet::AtLeastCount => !all_unknown && trues >= minimum_count as usize,
            ChildActivitySet::AtLeastPercent => {
                let needed = (minimum_percent * included as f64 + 0.5).floor() as usize;
                !all_unknown && trues >= needed
            }
        }
    }

    // ---------------------------------------------------------------- sequencing (SB.2.x)

    /// Choice Activity Traversal Subprocess (SB.2.4).
    fn choice_traversal(&self, a: ActivityIndex, direction: Direction) -> Result<()> {
        match direction {
            Direction::Forward => {
                if self.pre_rule(a, RuleAction::StopForwardTraversal) {
                    return refused("SB.2.4-1");
                }
                Ok(())
            }
            Direction::Backward => match self.t.def(a).parent {
                Some(parent) if self.t.def(parent).control.forward_only => refused("SB.2.4-2"),
                Some(_) => Ok(()),
                None => refused("SB.2.4-3"),
            },
        }
    }

    /// Is `a` hidden from choice (itself or an ancestor)?
    pub fn hidden_from_choice(&self, a: ActivityIndex) -> bool {
        let mut walk = Some(a);
        while let Some(at) = walk {
            if self.pre_rule(at, RuleAction::HiddenFromChoice) {
                return true;
            }
            walk = self.t.def(at).parent;
        }
        false
    }

    /// Choice Flow Tree Traversal Subprocess (SB.2.9.2).
    fn choice_flow_tree_traversal(&self, a: ActivityIndex, direction: Direction) -> Option<ActivityIndex> {
        let (parent, position) = self.position_in_parent(a)?;
        match direction {
            Direction::Forward => {
                if self.is_last_in_tree(a) {
                    return None;
                }
                if position + 1 == self.available(parent).len() {
                    self.choice_flow_tree_traversal(parent, direction)
                } else {
                    Some(self.available(parent)[position + 1])
                }
            }
            Direction::Backward => {
                if position == 0 {
                    self.choice_flow_tree_traversal(parent, direction)
                } else {
                    Some(self.available(parent)[position - 1])
                }
            }
        }
    }

    /// The read-only part of the Choice Sequencing Request Process (SB.2.9): which activity
    /// a choice of `target` delivers. Used both to run a choice and to report its validity.
    pub fn choice_check(&self, target: ActivityIndex) -> Result<ChoiceResult> {
        if !self.is_available(target) {
            return refused("SB.2.9-2");
        }
        if self.hidden_from_choice(target) {
            return refused("SB.2.9-3");
        }
        self.choice_check_available(target)
    }

    /// [`Self::choice_check`] for a target already known to be available and not hidden.
    pub fn choice_check_available(&self, target: ActivityIndex) -> Result<ChoiceResult> {
        self.choice_check_with(target, &mut |engine: &Self, ca, target, forward| engine.check_path_down(ca, target, forward))
    }

    /// [`Self::choice_check_available`] for many targets against one unchanged state: the
    /// path checks (a function of the target's parent, the common ancestor and the
    /// direction) are computed once per parent.
    pub fn choice_check_memo(&self, target: ActivityIndex, memo: &mut PathMemo) -> Result<ChoiceResult> {
        self.choice_check_with(target, &mut |engine: &Self, ca, target, forward| {
            let Some(parent) = engine.t.def(target).parent else { return engine.check_path_down(ca, target, forward) };
            if memo.0.len() < engine.t.len() {
                memo.0.resize(engine.t.len(), None);
            }
            if let Some((memo_ca, memo_forward, refusal)) = memo.0[parent]
                && memo_ca == ca
                && memo_forward == forward
            {
                return match refusal {
                    None => Ok(()),
                    Some(code) => refused(code),
                };
            }
            let result = engine.check_path_down(ca, target, forward);
            // `check_path_down` fails only with a refusal; its code is all there is to keep.
            let refusal = match &result {
                Ok(()) => None,
                Err(error) => error.code(),
            };
            memo.0[parent] = Some((ca, forward, refusal));
            result
        })
    }

    #[allow(clippy::type_complexity)]
    fn choice_check_with(
        &self,
        target: ActivityIndex,
        check_path_down: &mut dyn FnMut(&Self, ActivityIndex, ActivityIndex, bool) -> Result<()>,
    ) -> Result<ChoiceResult> {
        if let Some(parent) = self.t.def(target).parent
            && !self.t.def(parent).control.choice
        {
            return refused("SB.2.9-4");
        }
        let root = self.t.root();
        let (from, ca) = match self.s.current {
            Some(cur) => (Some(cur), self.t.common_ancestor(cur, target)),
            None => (None, root),
        };
        match from {
            Some(cur) if cur == target => {}
            Some(cur) if self.t.def(cur).parent == self.t.def(target).parent => {
                let Some(parent) = self.t.def(target).parent else { return refused("SB.2.9-5") };
                let children = self.available(parent);
                let (Some(pc), Some(pt)) =
                    (children.iter().position(|&c| c == cur), children.iter().position(|&c| c == target))
                else {
                    return refused("SB.2.9-5");
                };
                if pt > pc {
                    for &a in &children[pc..pt] {
                        self.choice_traversal(a, Direction::Forward)?;
                    }
                } else {
                    for &a in children[pt + 1..=pc].iter().rev() {
                        self.choice_traversal(a, Direction::Backward)?;
                    }
                }
            }
            None => check_path_down(self, ca, target, true)?,
            Some(cur) if cur == ca => check_path_down(self, ca, target, true)?,
            Some(cur) if target == ca => {
                // Target is an ancestor of the current activity.
                let mut walk = cur;
                while walk != target {
                    if self.st(walk).active && !self.t.def(walk).control.choice_exit {
                        return refused("SB.2.9-7");
                    }
                    walk = self.t.def(walk).parent.unwrap_or(target);
                }
            }
            Some(cur) => {
                let mut constrained = None;
                let mut walk = cur;
                while walk != ca {
                    let def = self.t.def(walk);
                    if self.st(walk).active && !def.control.choice_exit {
                        return refused("SB.2.9-7");
                    }
                    // Constrained choice applies to the clusters being left: like the ADL
                    // reference implementation, the search starts at the current activity's parent.
                    if constrained.is_none() && walk != cur && def.constrain_choice {
                        constrained = Some(walk);
                    }
                    walk = def.parent.unwrap_or(ca);
                }
                if let Some(constrained) = constrained {
                    let direction = if self.preorder_before(constrained, target) {
                        Direction::Forward
                    } else {
                        Direction::Backward
                    };
                    let consider = self.choice_flow_tree_traversal(constrained, direction).unwrap_or(constrained);
                    if target != consider && target != constrained && !self.t.is_descendant(consider, target) {
                        return refused("SB.2.9-8");
                    }
                }
                // Neither is an ancestor of the other here (ca is neither of them).
                let forward = self.preorder_before_below(cur, target, ca);
                check_path_down(self, ca, target, forward)?;
            }
        }
        if self.t.def(target).is_leaf() {
            return Ok(ChoiceResult::Deliver(target));
        }
        match self.flow(target, Direction::Forward, true) {
            Flow::Found(a, _) => Ok(ChoiceResult::Deliver(a)),
            _ => Ok(ChoiceResult::EmptyCluster(ca)),
        }
    }

    /// Walks from the common ancestor down to (excluding) the target, checking stop forward
    /// traversal (when moving forward) and prevent activation.
    fn check_path_down(&self, ca: ActivityIndex, target: ActivityIndex, forward: bool) -> Result<()> {
        // The tree is at most 65 levels deep (`TreeTooDeep`): the path fits on the stack.
        let mut path = [0usize; 66];
        let mut len = 0;
        let mut walk = self.t.def(target).parent;
        while let Some(at) = walk {
            path[len] = at;
            len += 1;
            if at == ca || len == path.len() {
                break;
            }
            walk = self.t.def(at).parent;
        }
        for &a in path[..len].iter().rev() {
            if forward {
                self.choice_traversal(a, Direction::Forward)?;
            }
            if a != ca && !self.st(a).active && self.t.def(a).prevent_activation {
                return refused("SB.2.9-6");
            }
        }
        Ok(())
    }

    // ---------------------------------------------------------------- delivery (DB.x)

    /// Delivery Request Process (DB.1.1), read-only.
    pub fn delivery_check(&self, a: ActivityIndex) -> Result<()> {
        if !self.t.def(a).is_leaf() {
            return refused("DB.1.1-1");
        }
        for at in self.t.path_to_root(a) {
            if self.check_activity(at) {
                return refused("DB.1.1-3");
            }
        }
        Ok(())
    }

}

impl<'a, 'b> Engine<'a, &'b mut SequencingState> {
    fn st_mut(&mut self, a: ActivityIndex) -> &mut ActivityState {
        &mut self.s.activities[a]
    }

    /// Writes the activity's local objective data to the global objectives it maps to.
    pub fn write_maps(&mut self, a: ActivityIndex) {
        let t = self.t;
        let def = t.def(a);
        for (k, objective) in def.objectives.iter().enumerate() {
            if objective.maps.is_empty() && objective.adl_maps.is_empty() {
                continue;
            }
            let local = self.st(a).objectives[k].clone();
            let satisfied = if objective.satisfied_by_measure {
                if local.measure_status && self.measure_satisfaction_allowed(a) {
                    Some(local.normalized_measure >= objective.min_normalized_measure)
                } else {
                    None
                }
            } else if local.progress_status {
                Some(local.satisfied_status)
            } else {
                None
            };
            let measure = local.measure_status.then_some(local.normalized_measure);
            let (completed, progress) = if objective.primary {
                let st = self.st(a);
                let amount = st.attempt_completion_amount_status.then_some(st.attempt_completion_amount);
                let threshold = &def.completion_threshold;
                let completed = if threshold.completed_by_measure {
                    amount.map(|m| m >= threshold.min_progress_measure)
                } else {
                    st.attempt_progress_status.then_some(st.attempt_completion_status)
                };
                (completed, amount)
            } else {
                (local.completion_status, local.progress_measure)
            };
            for map in &objective.maps {
                if !(map.write_satisfied_status || map.write_normalized_measure) {
                    continue;
                }
                let global = self.s.globals.objectives.entry(map.target_objective_id.clone()).or_default();
                if map.write_satisfied_status && satisfied.is_some() {
                    global.satisfied = satisfied;
                }
                if map.write_normalized_measure && measure.is_some() {
                    global.normalized_measure = measure;
                }
            }
            for map in &objective.adl_maps {
                let writes = map.write_raw_score
                    || map.write_min_score
                    || map.write_max_score
                    || map.write_completion_status
                    || map.write_progress_measure;
                if !writes {
                    continue;
                }
                let global = self.s.globals.objectives.entry(map.target_objective_id.clone()).or_default();
                if map.write_raw_score && local.raw_score.is_some() {
                    global.raw_score = local.raw_score;
                }
                if map.write_min_score && local.min_score.is_some() {
                    global.min_score = local.min_score;
                }
                if map.write_max_score && local.max_score.is_some() {
                    global.max_score = local.max_score;
                }
                if map.write_completion_status && completed.is_some() {
                    global.completed = completed;
                }
                if map.write_progress_measure && progress.is_some() {
                    global.progress_measure = progress;
                }
            }
        }
    }

    // ---------------------------------------------------------------- rules (UP.2)

    /// Termination Request Process (TB.2.3). Returns the sequencing request that replaces the
    /// navigation one, when post-condition rules or exit all produce one.
    pub fn terminate(&mut self, request: Termination) -> Result<Option<SeqRequest>> {
        let result = self.terminate_inner(request)?;
        // A retry of the whole course starts a new attempt of the course: when objectives are
        // not global to the system, the global objectives belong to that attempt and are
        // cleared (as the ADL reference implementation does).
        if result == Some(SeqRequest::Retry)
            && self.s.current == Some(self.t.root())
            && !self.t.objectives_global_to_system
        {
            self.clear_tree_globals();
        }
        Ok(result)
    }

    /// Forgets the global objectives this tree maps to (used when they are scoped to the
    /// course attempt, `objectivesGlobalToSystem="false"`).
    pub fn clear_tree_globals(&mut self) {
        let t = self.t;
        for def in &t.activities {
            for objective in &def.objectives {
                let targets = objective
                    .maps
                    .iter()
                    .map(|m| &m.target_objective_id)
                    .chain(objective.adl_maps.iter().map(|m| &m.target_objective_id));
                for target in targets {
                    self.s.globals.objectives.remove(target);
                }
            }
        }
    }

    fn terminate_inner(&mut self, request: Termination) -> Result<Option<SeqRequest>> {
        let Some(cur) = self.s.current else { return refused("TB.2.3-1") };
        if matches!(request, Termination::Exit | Termination::Abandon) && !self.st(cur).active {
            return refused("TB.2.3-2");
        }
        match request {
            Termination::Exit => {
                self.end_attempt(cur);
                self.exit_action_rules();
                let mut carried: Option<SeqRequest>;
                loop {
                    let current = self.s.current.unwrap_or(0);
                    let (term, seq) = self.post_condition_rules(current);
                    carried = seq;
                    match term {
                        Some(Termination::ExitAll) => return self.exit_all(carried),
                        Some(Termination::Exit) => {
                            // exit parent
                            match self.t.def(current).parent {
                                Some(parent) => {
                                    self.s.current = Some(parent);
                                    self.end_attempt(parent);
                                    continue;
                                }
                                None => return refused("TB.2.3-4"),
                            }
                        }
                        _ => {}
                    }
                    if self.t.def(current).parent.is_none() && carried != Some(SeqRequest::Retry) {
                        return Ok(Some(SeqRequest::Exit));
                    }
                    break;
                }
                Ok(carried)
            }
            Termination::ExitAll => self.exit_all(None),
            Termination::SuspendAll => {
                let st = self.st(cur);
                let suspended = if st.active || st.suspended {
                    self.overall_rollup(cur);
                    cur
                } else {
                    match self.t.def(cur).parent {
                        Some(parent) => parent,
                        None => return refused("TB.2.3-3"),
                    }
                };
                self.s.suspended = Some(suspended);
                for a in self.t.path_to_root(suspended) {
                    let st = self.st_mut(a);
                    st.active = false;
                    st.suspended = true;
                }
                self.s.current = Some(self.t.root());
                Ok(Some(SeqRequest::Exit))
            }
            Termination::Abandon => {
                self.st_mut(cur).active = false;
                Ok(None)
            }
            Termination::AbandonAll => {
                for a in self.t.path_to_root(cur) {
                    self.st_mut(a).active = false;
                }
                self.s.current = Some(self.t.root());
                Ok(Some(SeqRequest::Exit))
            }
        }
    }

    fn exit_all(&mut self, carried: Option<SeqRequest>) -> Result<Option<SeqRequest>> {
        let root = self.t.root();
        if let Some(cur) = self.s.current
            && self.st(cur).active
        {
            self.end_attempt(cur);
        }
        self.terminate_descendent_attempts(root);
        self.end_attempt(root);
        self.s.current = Some(root);
        if carried == Some(SeqRequest::Retry) {
            return Ok(Some(SeqRequest::Retry));
        }
        Ok(Some(SeqRequest::Exit))
    }

    /// Sequencing Exit Action Rules Subprocess (TB.2.1).
    fn exit_action_rules(&mut self) {
        let Some(cur) = self.s.current else { return };
        let mut path = self.t.path_to_root(cur);
        path.remove(0);
        path.reverse(); // root first, excluding the current activity
        let target = path
            .into_iter()
            .find(|&a| self.first_firing(a, &self.t.def(a).exit_rules) == Some(RuleAction::Exit));
        if let Some(target) = target {
            self.terminate_descendent_attempts(target);
            self.end_attempt(target);
            self.s.current = Some(target);
        }
    }

    /// Terminate Descendent Attempts Process (UP.3).
    fn terminate_descendent_attempts(&mut self, a: ActivityIndex) {
        let Some(cur) = self.s.current else { return };
        let ca = self.t.common_ancestor(cur, a);
        let mut walk = cur;
        // Each End Attempt rolls up the path to the root; the path of the deepest one covers
        // all the others, so ending them first and rolling up once gives the same state.
        while walk != ca {
            self.end_attempt_without_rollup(walk);
            match self.t.def(walk).parent {
                Some(parent) => walk = parent,
                None => break,
            }
        }
        if cur != ca {
            self.overall_rollup(cur);
        }
    }

    /// End Attempt Process (UP.4).
    pub fn end_attempt(&mut self, a: ActivityIndex) {
        self.end_attempt_without_rollup(a);
        self.overall_rollup(a);
    }

    fn end_attempt_without_rollup(&mut self, a: ActivityIndex) {
        let t = self.t;
        let def = t.def(a);
        if def.is_leaf() {
            if def.delivery.tracked && !self.st(a).suspended {
                if !def.delivery.completion_set_by_content {
                    let st = self.st_mut(a);
                    if !st.attempt_progress_status && !st.completion_reported {
                        st.attempt_progress_status = true;
                        st.attempt_completion_status = true;
                    }
                }
                if !def.delivery.objective_set_by_content
                    && let Some(k) = def.primary
                    && !def.objectives[k].satisfied_by_measure
                {
                    let reported = self.st(a).success_reported;
                    let objective = &mut self.st_mut(a).objectives[k];
                    if !objective.progress_status && !reported {
                        objective.progress_status = true;
                        objective.satisfied_status = true;
                    }
                }
            }
        } else {
            let any_suspended = self.s.activities[a].available_children.iter().any(|&c| self.s.activities[c].suspended);
            self.st_mut(a).suspended = any_suspended;
            if !any_suspended {
                let timing = &def.randomization;
                if timing.selection_timing == RandomizationTiming::OnEachNewAttempt
                    || timing.randomization_timing == RandomizationTiming::OnEachNewAttempt
                {
                    self.select_and_randomize(a, true);
                }
            }
        }
        self.st_mut(a).active = false;
    }

    // ---------------------------------------------------------------- selection (SR.1, SR.2)

    /// Select Children (SR.1) and Randomize Children (SR.2) of a cluster. `new_attempt` is
    /// true when called for an `onEachNewAttempt` timing.
    pub fn select_and_randomize(&mut self, a: ActivityIndex, new_attempt: bool) {
        let t = self.t;
        let def = t.def(a);
        if def.is_leaf() {
            return;
        }
        let controls = &def.randomization;
        let st = &self.s.activities[a];
        let select = match controls.selection_timing {
            RandomizationTiming::Never => false,
            RandomizationTiming::Once => !st.selection_done,
            RandomizationTiming::OnEachNewAttempt => new_attempt || !st.selection_done,
        } && controls.select_count.is_some();
        let randomize = match controls.randomization_timing {
            RandomizationTiming::Never => false,
            RandomizationTiming::Once => !st.randomization_done,
            RandomizationTiming::OnEachNewAttempt => new_attempt || !st.randomization_done,
        } && controls.reorder_children;
        if select && let Some(count) = controls.select_count {
            let count = count as usize;
            let mut chosen: Vec<ActivityIndex> = def.children.clone();
            if count < chosen.len() {
                // Pick `count` children, keep their manifest order.
                let mut picked = vec![false; chosen.len()];
                let mut remaining = count;
                while remaining > 0 {
                    let i = self.s.rng.below(chosen.len());
                    if !picked[i] {
                        picked[i] = true;
                        remaining -= 1;
                    }
                }
                chosen = chosen.into_iter().zip(picked).filter_map(|(c, p)| p.then_some(c)).collect();
            }
            let st = &mut self.s.activities[a];
            st.available_children = chosen;
            st.selection_done = true;
        }
        if randomize {
            let mut children = std::mem::take(&mut self.s.activities[a].available_children);
            self.s.rng.shuffle(&mut children);
            let st = &mut self.s.activities[a];
            st.available_children = children;
            st.randomization_done = true;
        }
    }

    // ---------------------------------------------------------------- rollup (RB.1.x)

    /// Overall Rollup Process (RB.1.5), plus the activities whose read maps see what this
    /// rollup writes to global objectives.
    pub fn overall_rollup(&mut self, a: ActivityIndex) {
        let t = self.t;
        let mut set = t.path_to_root(a);
        let mut extra = Vec::new();
        for &at in &set {
            for objective in &t.def(at).objectives {
                let targets = objective
                    .maps
                    .iter()
                    .filter(|m| m.write_satisfied_status || m.write_normalized_measure)
                    .map(|m| &m.target_objective_id)
                    .chain(objective.adl_maps.iter().map(|m| &m.target_objective_id));
                for target in targets {
                    if let Some(readers) = t.global_readers.get(target) {
                        for &reader in readers {
                            if let Some(parent) = t.def(reader).parent {
                                extra.extend(t.path_to_root(parent));
                            }
                        }
                    }
                }
            }
        }
        if !extra.is_empty() {
            set.extend(extra);
            set.sort_by(|x, y| t.def(*y).depth.cmp(&t.def(*x).depth).then(x.cmp(y)));
            set.dedup();
        }
        self.write_maps(a);
        for at in set {
            self.rollup_activity(at);
        }
    }

    fn rollup_activity(&mut self, a: ActivityIndex) {
        if !self.t.def(a).delivery.tracked {
            // No tracking status is kept for an untracked activity.
            return;
        }
        if self.t.def(a).is_leaf() {
            self.write_maps(a);
            return;
        }
        self.measure_rollup(a);
        self.completion_measure_rollup(a);
        self.objective_rollup(a);
        self.progress_rollup(a);
        // Rolled-up data is computed now, so it belongs to the current attempt.
        let st = &mut self.s.activities[a];
        st.progress_dirty = false;
        if let Some(k) = self.t.def(a).primary {
            st.objectives[k].dirty = false;
        }
        self.write_maps(a);
    }

    /// Measure Rollup Process (RB.1.1 a).
    fn measure_rollup(&mut self, a: ActivityIndex) {
        let t = self.t;
        let Some(k) = t.def(a).primary else { return };
        let mut total = 0.0;
        let mut counted = 0.0;
        let mut valid = false;
        for &child in self.available(a) {
            let cdef = t.def(child);
            if !cdef.delivery.tracked {
                continue;
            }
            let weight = cdef.rollup.objective_measure_weight;
            if weight <= 0.0 {
                continue;
            }
            counted += weight;
            if let Some(ck) = cdef.primary
                && let Some(measure) = self.obj_measure(child, ck)
            {
                valid = true;
                total += weight * measure;
            }
        }
        let objective = &mut self.s.activities[a].objectives[k];
        if valid && counted > 0.0 {
            objective.measure_status = true;
            objective.normalized_measure = total / counted;
        } else {
            objective.measure_status = false;
        }
    }

    /// Completion Measure Rollup Process (RB.1.1 b).
    fn completion_measure_rollup(&mut self, a: ActivityIndex) {
        let t = self.t;
        let mut total = 0.0;
        let mut counted = 0.0;
        let mut valid = false;
        for &child in self.available(a) {
            let cdef = t.def(child);
            if !cdef.delivery.tracked {
                continue;
            }
            let weight = cdef.completion_threshold.progress_weight;
            if weight <= 0.0 {
                continue;
            }
            counted += weight;
            if let Some(measure) = self.progress_measure(child) {
                valid = true;
                total += weight * measure;
            }
        }
        let st = &mut self.s.activities[a];
        if valid && counted > 0.0 {
            st.attempt_completion_amount_status = true;
            st.attempt_completion_amount = total / counted;
        } else {
            st.attempt_completion_amount_status = false;
        }
    }

    /// Objective Rollup Process (RB.1.2 a–c).
    fn objective_rollup(&mut self, a: ActivityIndex) {
        let t = self.t;
        let def = t.def(a);
        let Some(k) = def.primary else { return };
        if def.objectives[k].satisfied_by_measure {
            let allowed = self.measure_satisfaction_allowed(a);
            let measure = self.obj_measure(a, k);
            let min = def.objectives[k].min_normalized_measure;
            let objective = &mut self.s.activities[a].objectives[k];
            match measure {
                Some(m) if allowed => {
                    objective.progress_status = true;
                    objective.satisfied_status = m >= min;
                }
                _ => objective.progress_status = false,
            }
            return;
        }
        let rules = &def.rollup.rules;
        let has_rules = rules.iter().any(|r| matches!(r.action, RollupAction::Satisfied | RollupAction::NotSatisfied));
        // A satisfied result wins over not satisfied, so the latter is only needed without it.
        let satisfied = if has_rules {
            self.rollup_rules_fire(a, RollupAction::Satisfied, rules)
        } else {
            self.default_rollup(a, RollupAction::Satisfied, RollupConditionKind::Satisfied)
        };
        let not_satisfied = !satisfied
            && if has_rules {
                self.rollup_rules_fire(a, RollupAction::NotSatisfied, rules)
            } else {
                self.default_rollup(a, RollupAction::NotSatisfied, RollupConditionKind::ObjectiveStatusKnown)
            };
        let objective = &mut self.s.activities[a].objectives[k];
        if satisfied {
            objective.progress_status = true;
            objective.satisfied_status = true;
        } else if not_satisfied {
            objective.progress_status = true;
            objective.satisfied_status = false;
        }
    }

    /// Activity Progress Rollup Process (RB.1.3 a–c).
    fn progress_rollup(&mut self, a: ActivityIndex) {
        let t = self.t;
        let def = t.def(a);
        if def.completion_threshold.completed_by_measure {
            let st = &mut self.s.activities[a];
            if st.attempt_completion_amount_status {
                st.attempt_progress_status = true;
                st.attempt_completion_status = st.attempt_completion_amount >= def.completion_threshold.min_progress_measure;
            } else {
                st.attempt_progress_status = false;
            }
            return;
        }
        let rules = &def.rollup.rules;
        let has_rules = rules.iter().any(|r| matches!(r.action, RollupAction::Completed | RollupAction::Incomplete));
        let completed = if has_rules {
            self.rollup_rules_fire(a, RollupAction::Completed, rules)
        } else {
            self.default_rollup(a, RollupAction::Completed, RollupConditionKind::Completed)
        };
        let incomplete = !completed
            && if has_rules {
                self.rollup_rules_fire(a, RollupAction::Incomplete, rules)
            } else {
                self.default_rollup(a, RollupAction::Incomplete, RollupConditionKind::ActivityProgressKnown)
            };
        let st = &mut self.s.activities[a];
        if completed {
            st.attempt_progress_status = true;
            st.attempt_completion_status = true;
        } else if incomplete {
            st.attempt_progress_status = true;
            st.attempt_completion_status = false;
        }
    }

    /// Sequencing Request Process (SB.2.12).
    pub fn sequencing_request(&mut self, request: SeqRequest) -> Result<SeqOutcome> {
        match request {
            SeqRequest::Start => {
                if self.s.current.is_some() {
                    return refused("SB.2.5-1");
                }
                let root = self.t.root();
                if self.t.def(root).is_leaf() {
                    return Ok(SeqOutcome::Deliver(root));
                }
                self.apply_flow(self.flow(root, Direction::Forward, true))
            }
            SeqRequest::ResumeAll => {
                if self.s.current.is_some() {
                    return refused("SB.2.6-1");
                }
                match self.s.suspended {
                    Some(a) => Ok(SeqOutcome::Deliver(a)),
                    None => refused("SB.2.6-2"),
                }
            }
            SeqRequest::Continue => {
                let Some(cur) = self.s.current else { return refused("SB.2.7-1") };
                if let Some(parent) = self.t.def(cur).parent
                    && !self.t.def(parent).control.flow
                {
                    return refused("SB.2.7-2");
                }
                self.apply_flow(self.flow(cur, Direction::Forward, false))
            }
            SeqRequest::Previous => {
                let Some(cur) = self.s.current else { return refused("SB.2.8-1") };
                if let Some(parent) = self.t.def(cur).parent
                    && !self.t.def(parent).control.flow
                {
                    return refused("SB.2.8-2");
                }
                match self.flow(cur, Direction::Backward, false) {
                    Flow::Found(a, _) => Ok(SeqOutcome::Deliver(a)),
                    Flow::EndSession => refused("SB.2.1-3"),
                    Flow::Exception(code) => refused(code),
                }
            }
            SeqRequest::Exit => {
                let Some(cur) = self.s.current else { return refused("SB.2.11-1") };
                if self.st(cur).active {
                    return refused("SB.2.11-2");
                }
                if self.t.def(cur).parent.is_none() {
                    return Ok(SeqOutcome::EndSession);
                }
                Ok(SeqOutcome::Nothing)
            }
            SeqRequest::Retry => {
                let Some(cur) = self.s.current else { return refused("SB.2.10-1") };
                let st = self.st(cur);
                if (st.active || st.suspended) && self.t.def(cur).parent.is_some() {
                    return refused("SB.2.10-2");
                }
                if self.t.def(cur).is_leaf() {
                    return Ok(SeqOutcome::Deliver(cur));
                }
                self.retry = true;
                let flow = self.flow(cur, Direction::Forward, true);
                self.retry = false;
                match flow {
                    Flow::Found(a, _) => Ok(SeqOutcome::Deliver(a)),
                    _ => refused("SB.2.10-3"),
                }
            }
            SeqRequest::Jump(target) => {
                if self.s.current.is_none() {
                    return refused("SB.2.13-1");
                }
                Ok(SeqOutcome::Deliver(target))
            }
            SeqRequest::Choice(target) => match self.choice_check(target)? {
                ChoiceResult::Deliver(a) => Ok(SeqOutcome::Deliver(a)),
                ChoiceResult::EmptyCluster(ca) => {
                    self.terminate_descendent_attempts(ca);
                    self.end_attempt(ca);
                    self.s.current = Some(target);
                    refused("SB.2.9-9")
                }
            },
        }
    }

    fn apply_flow(&mut self, flow: Flow) -> Result<SeqOutcome> {
        match flow {
            Flow::Found(a, _) => Ok(SeqOutcome::Deliver(a)),
            Flow::EndSession => {
                let root = self.t.root();
                if self.s.current.is_some() {
                    self.terminate_descendent_attempts(root);
                    self.end_attempt(root);
                    self.s.current = Some(root);
                }
                Ok(SeqOutcome::EndSession)
            }
            Flow::Exception(code) => refused(code),
        }
    }

    /// Content Delivery Environment Process (DB.2). Returns whether the leaf resumes a
    /// suspended attempt.
    pub fn deliver(&mut self, a: ActivityIndex) -> Result<bool> {
        if let Some(cur) = self.s.current
            && self.st(cur).active
            && cur != a
        {
            return refused("DB.2-1");
        }
        let resumed = self.st(a).suspended;
        if self.s.suspended != Some(a) {
            self.clear_suspended_activity(a);
        }
        self.terminate_descendent_attempts(a);
        let mut path = self.t.path_to_root(a);
        path.reverse();
        for at in path {
            if self.st(at).active {
                continue;
            }
            if self.st(at).suspended {
                self.st_mut(at).suspended = false;
            } else if self.t.def(at).delivery.tracked {
                self.begin_attempt(at);
            }
            self.st_mut(at).active = true;
        }
        self.s.current = Some(a);
        self.s.suspended = None;
        Ok(resumed)
    }

    fn begin_attempt(&mut self, a: ActivityIndex) {
        let now = self.now;
        let t = self.t;
        let def = t.def(a);
        {
            let st = self.st_mut(a);
            st.attempt_count = st.attempt_count.saturating_add(1);
            if st.attempt_count == 1 {
                st.activity_progress_status = true;
            }
            st.attempt_progress_status = false;
            st.attempt_completion_status = false;
            st.attempt_completion_amount_status = false;
            st.attempt_completion_amount = 0.0;
            st.attempt_experienced_duration = 0.0;
            st.attempt_started_at = Some(now);
            st.completion_reported = false;
            st.success_reported = false;
            st.progress_dirty = false;
            for objective in &mut st.objectives {
                *objective = ObjectiveState::default();
            }
        }
        // Children's data now belongs to an older attempt of this cluster.
        if !def.is_leaf() && (def.control.use_current_attempt_objective_info || def.control.use_current_attempt_progress_info) {
            self.mark_dirty(a, def.control.use_current_attempt_objective_info, def.control.use_current_attempt_progress_info);
        }
    }

    fn mark_dirty(&mut self, a: ActivityIndex, objective: bool, progress: bool) {
        let t = self.t;
        for &child in &t.def(a).children {
            let st = &mut self.s.activities[child];
            if objective {
                for o in &mut st.objectives {
                    o.dirty = true;
                }
            }
            if progress {
                st.progress_dirty = true;
            }
            let control = &t.def(child).control;
            self.mark_dirty(
                child,
                objective && control.use_current_attempt_objective_info,
                progress && control.use_current_attempt_progress_info,
            );
        }
    }

    /// Clear Suspended Activity Subprocess (DB.2.1).
    fn clear_suspended_activity(&mut self, a: ActivityIndex) {
        let Some(suspended) = self.s.suspended else { return };
        let ca = self.t.common_ancestor(a, suspended);
        let mut walk = suspended;
        loop {
            if self.t.def(walk).is_leaf() {
                self.st_mut(walk).suspended = false;
            } else {
                let any = self.s.activities[walk].available_children.iter().any(|&c| self.s.activities[c].suspended);
                self.st_mut(walk).suspended = any;
            }
            if walk == ca {
                break;
            }
            match self.t.def(walk).parent {
                Some(parent) => walk = parent,
                None => break,
            }
        }
        self.s.suspended = None;
    }
}

/// What a choice of an activity would deliver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChoiceResult {
    Deliver(ActivityIndex),
    /// The target is a cluster with nothing deliverable below it; holds the common ancestor.
    EmptyCluster(ActivityIndex),
}

impl ActivityState {
    pub(crate) fn fresh(objectives: usize, children: &[ActivityIndex]) -> Self {
        ActivityState {
            available_children: children.to_vec(),
            objectives: vec![ObjectiveState::default(); objectives],
            ..ActivityState::default()
        }
    }
}
