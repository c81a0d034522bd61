//! IMS Simple Sequencing (`imsss:`) and ADL sequencing extensions (`adlseq:`) as typed data.
//!
//! This is the *definition* model, exactly what the manifest says, with the spec's defaults
//! filled in. The sequencing engine (`lms-sequencing`) builds its activity tree and tracking
//! model from it. Defaults follow IMS SS 1.0 and SCORM 2004 4th Edition CAM.

use serde::Serialize;

use crate::model::Location;

/// `<imsss:sequencingCollection>`: reusable `<imsss:sequencing ID="…">` definitions.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SequencingCollection {
    pub entries: Vec<Sequencing>,
}

impl SequencingCollection {
    pub fn get(&self, id: &str) -> Option<&Sequencing> {
        self.entries.iter().find(|s| s.id.as_deref() == Some(id))
    }
}

/// One `<imsss:sequencing>` element.
///
/// Elements that are absent keep their defaults, and `*_present` style information that
/// matters for merging a referenced collection entry is kept in `Option`s: when an item's
/// sequencing has `id_ref`, the collection entry supplies every element the item does not.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sequencing {
    /// `ID` (only in a sequencingCollection).
    pub id: Option<String>,
    /// `IDRef`: the collection entry this one extends.
    pub id_ref: Option<String>,
    pub control_mode: Option<ControlMode>,
    pub sequencing_rules: Option<SequencingRules>,
    pub limit_conditions: Option<LimitConditions>,
    pub rollup_rules: Option<RollupRules>,
    pub objectives: Option<Objectives>,
    pub randomization_controls: Option<RandomizationControls>,
    pub delivery_controls: Option<DeliveryControls>,
    /// `adlseq:constrainedChoiceConsiderations`
    pub constrained_choice: Option<ConstrainedChoice>,
    /// `adlseq:rollupConsiderations`
    pub rollup_considerations: Option<RollupConsiderations>,
    /// `adlseq:objectives`: 4th edition extended maps, keyed by objective id.
    pub adl_objectives: Vec<AdlObjective>,
    pub location: Location,
}

impl Sequencing {
    pub fn empty(location: Location) -> Self {
        Sequencing {
            id: None,
            id_ref: None,
            control_mode: None,
            sequencing_rules: None,
            limit_conditions: None,
            rollup_rules: None,
            objectives: None,
            randomization_controls: None,
            delivery_controls: None,
            constrained_choice: None,
            rollup_considerations: None,
            adl_objectives: Vec::new(),
            location,
        }
    }

    /// This definition with every element it lacks taken from `base` (the collection entry
    /// named by `IDRef`), as SCORM CAM 4th edition 5.1.2 describes.
    pub fn merged_over(&self, base: &Sequencing) -> Sequencing {
        Sequencing {
            id: self.id.clone(),
            id_ref: self.id_ref.clone(),
            control_mode: self.control_mode.clone().or_else(|| base.control_mode.clone()),
            sequencing_rules: self.sequencing_rules.clone().or_else(|| base.sequencing_rules.clone()),
            limit_conditions: self.limit_conditions.clone().or_else(|| base.limit_conditions.clone()),
            rollup_rules: self.rollup_rules.clone().or_else(|| base.rollup_rules.clone()),
            objectives: self.objectives.clone().or_else(|| base.objectives.clone()),
            randomization_controls: self
                .randomization_controls
                .clone()
                .or_else(|| base.randomization_controls.clone()),
            delivery_controls: self.delivery_controls.clone().or_else(|| base.delivery_controls.clone()),
            constrained_choice: self.constrained_choice.clone().or_else(|| base.constrained_choice.clone()),
            rollup_considerations: self
                .rollup_considerations
                .clone()
                .or_else(|| base.rollup_considerations.clone()),
            adl_objectives: if self.adl_objectives.is_empty() {
                base.adl_objectives.clone()
            } else {
                self.adl_objectives.clone()
            },
            location: self.location.clone(),
        }
    }
}

/// `<imsss:controlMode>`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ControlMode {
    /// default true
    pub choice: bool,
    /// default true
    pub choice_exit: bool,
    /// default false
    pub flow: bool,
    /// default false
    pub forward_only: bool,
    /// default true
    pub use_current_attempt_objective_info: bool,
    /// default true
    pub use_current_attempt_progress_info: bool,
}

impl Default for ControlMode {
    fn default() -> Self {
        ControlMode {
            choice: true,
            choice_exit: true,
            flow: false,
            forward_only: false,
            use_current_attempt_objective_info: true,
            use_current_attempt_progress_info: true,
        }
    }
}

/// `<imsss:sequencingRules>`
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SequencingRules {
    pub pre_condition: Vec<SequencingRule>,
    pub exit_condition: Vec<SequencingRule>,
    pub post_condition: Vec<SequencingRule>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SequencingRule {
    /// `conditionCombination` (default all)
    pub combination: ConditionCombination,
    pub conditions: Vec<RuleCondition>,
    pub action: RuleAction,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConditionCombination {
    All,
    Any,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleCondition {
    pub referenced_objective: Option<String>,
    /// `measureThreshold` (default 0.0), in -1.0..=1.0
    pub measure_threshold: f64,
    /// `operator="not"`
    pub negate: bool,
    pub condition: RuleConditionKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RuleConditionKind {
    Satisfied,
    ObjectiveStatusKnown,
    ObjectiveMeasureKnown,
    ObjectiveMeasureGreaterThan,
    ObjectiveMeasureLessThan,
    Completed,
    ActivityProgressKnown,
    Attempted,
    AttemptLimitExceeded,
    TimeLimitExceeded,
    OutsideAvailableTimeRange,
    Always,
}

impl RuleConditionKind {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "satisfied" => Self::Satisfied,
            "objectiveStatusKnown" => Self::ObjectiveStatusKnown,
            "objectiveMeasureKnown" => Self::ObjectiveMeasureKnown,
            "objectiveMeasureGreaterThan" => Self::ObjectiveMeasureGreaterThan,
            "objectiveMeasureLessThan" => Self::ObjectiveMeasureLessThan,
            "completed" => Self::Completed,
            "activityProgressKnown" => Self::ActivityProgressKnown,
            "attempted" => Self::Attempted,
            "attemptLimitExceeded" => Self::AttemptLimitExceeded,
            "timeLimitExceeded" => Self::TimeLimitExceeded,
            "outsideAvailableTimeRange" => Self::OutsideAvailableTimeRange,
            "always" => Self::Always,
            _ => return None,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RuleAction {
    // pre-condition
    Skip,
    Disabled,
    HiddenFromChoice,
    StopForwardTraversal,
    // post-condition
    ExitParent,
    ExitAll,
    Retry,
    RetryAll,
    Continue,
    Previous,
    // exit-condition
    Exit,
}

impl RuleAction {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "skip" => Self::Skip,
            "disabled" => Self::Disabled,
            "hiddenFromChoice" => Self::HiddenFromChoice,
            "stopForwardTraversal" => Self::StopForwardTraversal,
            "exitParent" => Self::ExitParent,
            "exitAll" => Self::ExitAll,
            "retry" => Self::Retry,
            "retryAll" => Self::RetryAll,
            "continue" => Self::Continue,
            "previous" => Self::Previous,
            "exit" => Self::Exit,
            _ => return None,
        })
    }
}

/// `<imsss:limitConditions>`
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LimitConditions {
    pub attempt_limit: Option<u32>,
    /// ISO 8601 duration as written.
    pub attempt_absolute_duration_limit: Option<String>,
}

/// `<imsss:rollupRules>`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RollupRules {
    /// default true
    pub rollup_objective_satisfied: bool,
    /// default true
    pub rollup_progress_completion: bool,
    /// default 1.0
    pub objective_measure_weight: f64,
    pub rules: Vec<RollupRule>,
}

impl Default for RollupRules {
    fn default() -> Self {
        RollupRules {
            rollup_objective_satisfied: true,
            rollup_progress_completion: true,
            objective_measure_weight: 1.0,
            rules: Vec::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RollupRule {
    pub child_activity_set: ChildActivitySet,
    /// `minimumCount` (default 0)
    pub minimum_count: u32,
    /// `minimumPercent` (default 0.0), 0.0..=1.0
    pub minimum_percent: f64,
    /// `conditionCombination` (default any)
    pub combination: ConditionCombination,
    pub conditions: Vec<RollupCondition>,
    pub action: RollupAction,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ChildActivitySet {
    All,
    Any,
    None,
    AtLeastCount,
    AtLeastPercent,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RollupCondition {
    pub negate: bool,
    pub condition: RollupConditionKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RollupConditionKind {
    Satisfied,
    ObjectiveStatusKnown,
    ObjectiveMeasureKnown,
    Completed,
    ActivityProgressKnown,
    Attempted,
    AttemptLimitExceeded,
    TimeLimitExceeded,
    OutsideAvailableTimeRange,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RollupAction {
    Satisfied,
    NotSatisfied,
    Completed,
    Incomplete,
}

/// `<imsss:objectives>`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Objectives {
    pub primary: Objective,
    pub others: Vec<Objective>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Objective {
    /// `objectiveID` (optional on the primary objective).
    pub id: Option<String>,
    /// default false
    pub satisfied_by_measure: bool,
    /// default 1.0, in -1.0..=1.0
    pub min_normalized_measure: f64,
    pub map_info: Vec<MapInfo>,
}

/// `<imsss:mapInfo>`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MapInfo {
    pub target_objective_id: String,
    /// default true
    pub read_satisfied_status: bool,
    /// default true
    pub read_normalized_measure: bool,
    /// default false
    pub write_satisfied_status: bool,
    /// default false
    pub write_normalized_measure: bool,
}

/// `<adlseq:objective objectiveID>` with its `<adlseq:mapInfo>` (4th edition).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AdlObjective {
    pub objective_id: String,
    pub map_info: Vec<AdlMapInfo>,
}

/// `<adlseq:mapInfo>` (adlseq_v1p3.xsd): every `read*` defaults to true, every `write*` to false.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AdlMapInfo {
    pub target_objective_id: String,
    pub read_raw_score: bool,
    pub read_min_score: bool,
    pub read_max_score: bool,
    pub read_completion_status: bool,
    pub read_progress_measure: bool,
    pub write_raw_score: bool,
    pub write_min_score: bool,
    pub write_max_score: bool,
    pub write_completion_status: bool,
    pub write_progress_measure: bool,
}

/// `<imsss:randomizationControls>`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RandomizationControls {
    /// default never
    pub randomization_timing: RandomizationTiming,
    pub select_count: Option<u32>,
    /// default false
    pub reorder_children: bool,
    /// default never
    pub selection_timing: RandomizationTiming,
}

impl Default for RandomizationControls {
    fn default() -> Self {
        RandomizationControls {
            randomization_timing: RandomizationTiming::Never,
            select_count: None,
            reorder_children: false,
            selection_timing: RandomizationTiming::Never,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RandomizationTiming {
    Never,
    Once,
    OnEachNewAttempt,
}

/// `<imsss:deliveryControls>`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeliveryControls {
    /// default true
    pub tracked: bool,
    /// default false
    pub completion_set_by_content: bool,
    /// default false
    pub objective_set_by_content: bool,
}

impl Default for DeliveryControls {
    fn default() -> Self {
        DeliveryControls { tracked: true, completion_set_by_content: false, objective_set_by_content: false }
    }
}

/// `<adlseq:constrainedChoiceConsiderations>`
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ConstrainedChoice {
    /// default false
    pub prevent_activation: bool,
    /// default false
    pub constrain_choice: bool,
}

/// `<adlseq:rollupConsiderations>`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RollupConsiderations {
    pub required_for_satisfied: RollupConsideration,
    pub required_for_not_satisfied: RollupConsideration,
    pub required_for_completed: RollupConsideration,
    pub required_for_incomplete: RollupConsideration,
    /// default true
    pub measure_satisfaction_if_active: bool,
}

impl Default for RollupConsiderations {
    fn default() -> Self {
        RollupConsiderations {
            required_for_satisfied: RollupConsideration::Always,
            required_for_not_satisfied: RollupConsideration::Always,
            required_for_completed: RollupConsideration::Always,
            required_for_incomplete: RollupConsideration::Always,
            measure_satisfaction_if_active: true,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RollupConsideration {
    Always,
    IfAttempted,
    IfNotSkipped,
    IfNotSuspended,
}
