//! The activity tree: the static sequencing definition of every activity, built from an
//! [`Organization`] and its [`SequencingCollection`], stored as an index-based arena.

use std::collections::HashMap;

use lms_package::sequencing::{
    AdlMapInfo, ControlMode, DeliveryControls, MapInfo, RandomizationControls, RollupConsiderations,
    RollupRules, Sequencing, SequencingCollection, SequencingRule,
};
use lms_package::{CompletionThreshold, Item, Organization};

use crate::duration::parse_iso_duration;
use crate::engine::normalize_objective_id;
use crate::error::SequencingError;

/// Index of an activity in the tree arena (0 is the root, then items in document order).
pub type ActivityIndex = usize;

/// One objective of an activity (the primary objective comes first when defined).
#[derive(Clone, Debug)]
pub struct ObjectiveDef {
    /// `objectiveID`; the primary objective without one gets an empty id.
    pub id: String,
    pub primary: bool,
    pub satisfied_by_measure: bool,
    pub min_normalized_measure: f64,
    pub maps: Vec<MapInfo>,
    /// 4th edition `adlseq:objective` maps for this objective id.
    pub adl_maps: Vec<AdlMapInfo>,
}

/// The sequencing definition of one activity, with every default applied.
#[derive(Clone, Debug)]
pub struct ActivityDef {
    pub id: String,
    pub title: String,
    pub parent: Option<ActivityIndex>,
    /// All children in manifest order (before selection and randomization).
    pub children: Vec<ActivityIndex>,
    pub depth: usize,
    /// Position in a preorder walk of the whole tree (equal to the index).
    pub resource_ref: Option<String>,
    pub parameters: Option<String>,
    pub visible: bool,
    pub control: ControlMode,
    pub pre_rules: Vec<SequencingRule>,
    /// Bit `1 << (action as u32)` set for every action among `pre_rules` (a quick "no rule
    /// with this action" answer: validity asks every activity for several actions).
    pub pre_actions: u32,
    pub exit_rules: Vec<SequencingRule>,
    pub post_rules: Vec<SequencingRule>,
    pub attempt_limit: Option<u32>,
    /// Seconds.
    pub attempt_absolute_duration_limit: Option<f64>,
    pub rollup: RollupRules,
    pub considerations: RollupConsiderations,
    pub objectives: Vec<ObjectiveDef>,
    /// Index into `objectives` of the primary (rolled-up) objective.
    pub primary: Option<usize>,
    pub randomization: RandomizationControls,
    pub delivery: DeliveryControls,
    pub constrain_choice: bool,
    pub prevent_activation: bool,
    pub completion_threshold: CompletionThreshold,
}

impl ActivityDef {
    pub fn is_leaf(&self) -> bool {
        self.children.is_empty()
    }
}

/// The static activity tree.
#[derive(Clone, Debug)]
pub struct ActivityTree {
    pub activities: Vec<ActivityDef>,
    pub by_id: HashMap<String, ActivityIndex>,
    pub objectives_global_to_system: bool,
    /// Global objective id → activities with a read map on it.
    pub global_readers: HashMap<String, Vec<ActivityIndex>>,
}

impl ActivityTree {
    pub fn build(org: &Organization, collection: &SequencingCollection) -> Result<Self, SequencingError> {
        let mut tree = ActivityTree {
            activities: Vec::new(),
            by_id: HashMap::new(),
            objectives_global_to_system: org.objectives_global_to_system,
            global_readers: HashMap::new(),
        };
        let root_def = resolve(org.sequencing.as_ref(), collection, &org.identifier)?;
        tree.push(org.identifier.clone(), org.title.clone(), None, 0, None, None, true, root_def, CompletionThreshold::default())?;
        for item in &org.items {
            tree.add_item(item, 0, 1, collection)?;
        }
        for (index, def) in tree.activities.iter().enumerate() {
            for objective in &def.objectives {
                let mut targets: Vec<&str> = Vec::new();
                for map in &objective.maps {
                    if map.read_satisfied_status || map.read_normalized_measure {
                        targets.push(&map.target_objective_id);
                    }
                }
                for map in &objective.adl_maps {
                    if map.read_completion_status
                        || map.read_progress_measure
                        || map.read_raw_score
                        || map.read_min_score
                        || map.read_max_score
                    {
                        targets.push(&map.target_objective_id);
                    }
                }
                for target in targets {
                    let readers = tree.global_readers.entry(target.to_string()).or_default();
                    if readers.last() != Some(&index) {
                        readers.push(index);
                    }
                }
            }
        }
        Ok(tree)
    }

    fn add_item(
        &mut self,
        item: &Item,
        parent: ActivityIndex,
        depth: usize,
        collection: &SequencingCollection,
    ) -> Result<(), SequencingError> {
        if depth > 64 {
            return Err(SequencingError::TreeTooDeep { activity: item.identifier.clone() });
        }
        let def = resolve(item.sequencing.as_ref(), collection, &item.identifier)?;
        let index = self.push(
            item.identifier.clone(),
            item.title.clone(),
            Some(parent),
            depth,
            item.resource_ref.clone(),
            item.parameters.clone(),
            item.visible,
            def,
            item.launch.completion_threshold.unwrap_or_default(),
        )?;
        self.activities[parent].children.push(index);
        for child in &item.children {
            self.add_item(child, index, depth + 1, collection)?;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        id: String,
        title: String,
        parent: Option<ActivityIndex>,
        depth: usize,
        resource_ref: Option<String>,
        parameters: Option<String>,
        visible: bool,
        seq: Sequencing,
        completion_threshold: CompletionThreshold,
    ) -> Result<ActivityIndex, SequencingError> {
        let index = self.activities.len();
        if self.by_id.insert(id.clone(), index).is_some() {
            return Err(SequencingError::DuplicateActivity { activity: id });
        }
        let rules = seq.sequencing_rules.clone().unwrap_or_default();
        let limits = seq.limit_conditions.clone().unwrap_or_default();
        let attempt_absolute_duration_limit = match &limits.attempt_absolute_duration_limit {
            Some(text) => Some(parse_iso_duration(text).ok_or_else(|| SequencingError::BadDuration {
                activity: id.clone(),
                value: text.clone(),
            })?),
            None => None,
        };
        let mut objectives = Vec::new();
        let mut primary = None;
        if let Some(defined) = &seq.objectives {
            primary = Some(0);
            objectives.push(objective_def(&defined.primary, true, &seq));
            for other in &defined.others {
                objectives.push(objective_def(other, false, &seq));
            }
        } else {
            // Every activity has a primary objective to hold its rolled-up status.
            primary = primary.or(Some(0));
            objectives.push(ObjectiveDef {
                id: String::new(),
                primary: true,
                satisfied_by_measure: false,
                min_normalized_measure: 1.0,
                maps: Vec::new(),
                adl_maps: Vec::new(),
            });
        }
        let constrained = seq.constrained_choice.clone().unwrap_or_default();
        self.activities.push(ActivityDef {
            id,
            title,
            parent,
            children: Vec::new(),
            depth,
            resource_ref,
            parameters,
            visible,
            control: seq.control_mode.clone().unwrap_or_default(),
            pre_actions: rules.pre_condition.iter().fold(0, |bits, rule| bits | (1u32 << (rule.action as u32))),
            pre_rules: rules.pre_condition,
            exit_rules: rules.exit_condition,
            post_rules: rules.post_condition,
            attempt_limit: limits.attempt_limit,
            attempt_absolute_duration_limit,
            rollup: seq.rollup_rules.clone().unwrap_or_default(),
            considerations: seq.rollup_considerations.clone().unwrap_or_default(),
            objectives,
            primary,
            randomization: seq.randomization_controls.clone().unwrap_or_default(),
            delivery: seq.delivery_controls.clone().unwrap_or_default(),
            constrain_choice: constrained.constrain_choice,
            prevent_activation: constrained.prevent_activation,
            completion_threshold,
        });
        Ok(index)
    }

    pub fn root(&self) -> ActivityIndex {
        0
    }

    pub fn def(&self, index: ActivityIndex) -> &ActivityDef {
        &self.activities[index]
    }

    pub fn len(&self) -> usize {
        self.activities.len()
    }

    pub fn is_empty(&self) -> bool {
        self.activities.is_empty()
    }

    pub fn index_of(&self, id: &str) -> Option<ActivityIndex> {
        self.by_id.get(id).copied()
    }

    /// Is `descendant` strictly below `ancestor`?
    pub fn is_descendant(&self, ancestor: ActivityIndex, descendant: ActivityIndex) -> bool {
        let mut walk = self.activities[descendant].parent;
        while let Some(at) = walk {
            if at == ancestor {
                return true;
            }
            walk = self.activities[at].parent;
        }
        false
    }

    pub fn common_ancestor(&self, a: ActivityIndex, b: ActivityIndex) -> ActivityIndex {
        let (mut a, mut b) = (a, b);
        while self.activities[a].depth > self.activities[b].depth {
            a = self.activities[a].parent.unwrap_or(0);
        }
        while self.activities[b].depth > self.activities[a].depth {
            b = self.activities[b].parent.unwrap_or(0);
        }
        while a != b {
            a = self.activities[a].parent.unwrap_or(0);
            b = self.activities[b].parent.unwrap_or(0);
        }
        a
    }

    /// Activities from `from` up to the root, inclusive.
    pub fn path_to_root(&self, from: ActivityIndex) -> Vec<ActivityIndex> {
        let mut path = vec![from];
        let mut walk = self.activities[from].parent;
        while let Some(at) = walk {
            path.push(at);
            walk = self.activities[at].parent;
        }
        path
    }
}

fn resolve(seq: Option<&Sequencing>, collection: &SequencingCollection, activity: &str) -> Result<Sequencing, SequencingError> {
    match seq {
        None => Ok(Sequencing::empty(Default::default())),
        Some(seq) => match &seq.id_ref {
            None => Ok(seq.clone()),
            Some(reference) => match collection.get(reference) {
                Some(base) => Ok(seq.merged_over(base)),
                None => Err(SequencingError::UnknownSequencingReference {
                    activity: activity.to_string(),
                    reference: reference.clone(),
                }),
            },
        },
    }
}

fn objective_def(objective: &lms_package::sequencing::Objective, primary: bool, seq: &Sequencing) -> ObjectiveDef {
    let id = objective.id.clone().unwrap_or_default();
    let wanted = normalize_objective_id(&id);
    let adl_maps = seq
        .adl_objectives
        .iter()
        .filter(|adl| !id.is_empty() && (adl.objective_id == id || normalize_objective_id(&adl.objective_id) == wanted))
        .flat_map(|adl| adl.map_info.iter().cloned())
        .map(|mut map| {
            map.target_objective_id = normalize_objective_id(&map.target_objective_id);
            map
        })
        .collect();
    let maps = objective
        .map_info
        .iter()
        .cloned()
        .map(|mut map| {
            map.target_objective_id = normalize_objective_id(&map.target_objective_id);
            map
        })
        .collect();
    ObjectiveDef {
        id,
        primary,
        satisfied_by_measure: objective.satisfied_by_measure,
        min_normalized_measure: objective.min_normalized_measure,
        maps,
        adl_maps,
    }
}
