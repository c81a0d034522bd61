//! Reading `<imsss:sequencing>` (with the `adlseq:` extensions) into [`Sequencing`].
//!
//! Invalid values in sequencing are errors: guessing would change how the course behaves.

use crate::diagnostic::Severity;
use crate::sequencing::*;
use crate::values::Reporter;
use crate::xml::{Element, Ns};

const E: Severity = Severity::Error;

fn combination(text: &str) -> Option<ConditionCombination> {
    match text {
        "all" => Some(ConditionCombination::All),
        "any" => Some(ConditionCombination::Any),
        _ => None,
    }
}

fn child_activity_set(text: &str) -> Option<ChildActivitySet> {
    Some(match text {
        "all" => ChildActivitySet::All,
        "any" => ChildActivitySet::Any,
        "none" => ChildActivitySet::None,
        "atLeastCount" => ChildActivitySet::AtLeastCount,
        "atLeastPercent" => ChildActivitySet::AtLeastPercent,
        _ => return None,
    })
}

fn rollup_condition_kind(text: &str) -> Option<RollupConditionKind> {
    Some(match text {
        "satisfied" => RollupConditionKind::Satisfied,
        "objectiveStatusKnown" => RollupConditionKind::ObjectiveStatusKnown,
        "objectiveMeasureKnown" => RollupConditionKind::ObjectiveMeasureKnown,
        "completed" => RollupConditionKind::Completed,
        "activityProgressKnown" => RollupConditionKind::ActivityProgressKnown,
        "attempted" => RollupConditionKind::Attempted,
        "attemptLimitExceeded" => RollupConditionKind::AttemptLimitExceeded,
        "timeLimitExceeded" => RollupConditionKind::TimeLimitExceeded,
        "outsideAvailableTimeRange" => RollupConditionKind::OutsideAvailableTimeRange,
        _ => return None,
    })
}

fn rollup_action(text: &str) -> Option<RollupAction> {
    Some(match text {
        "satisfied" => RollupAction::Satisfied,
        "notSatisfied" => RollupAction::NotSatisfied,
        "completed" => RollupAction::Completed,
        "incomplete" => RollupAction::Incomplete,
        _ => return None,
    })
}

fn randomization_timing(text: &str) -> Option<RandomizationTiming> {
    Some(match text {
        "never" => RandomizationTiming::Never,
        "once" => RandomizationTiming::Once,
        "onEachNewAttempt" => RandomizationTiming::OnEachNewAttempt,
        _ => return None,
    })
}

fn rollup_consideration(text: &str) -> Option<RollupConsideration> {
    Some(match text {
        "always" => RollupConsideration::Always,
        "ifAttempted" => RollupConsideration::IfAttempted,
        "ifNotSkipped" => RollupConsideration::IfNotSkipped,
        "ifNotSuspended" => RollupConsideration::IfNotSuspended,
        _ => return None,
    })
}

fn negate(text: &str) -> Option<bool> {
    match text {
        "not" => Some(true),
        "noOp" => Some(false),
        _ => None,
    }
}

/// `true` for an ISO 8601 duration as SCORM uses it: `P[nY][nM][nD][T[nH][nM][n[.n]S]]`.
pub(crate) fn is_iso_duration(text: &str) -> bool {
    let Some(rest) = text.strip_prefix('P') else { return false };
    if rest.is_empty() {
        return false;
    }
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => {
            if t.is_empty() {
                return false;
            }
            (d, Some(t))
        }
        None => (rest, None),
    };
    fn units(part: &str, allowed: &[char], fraction_on_last: bool) -> bool {
        let mut number = String::new();
        let mut next_unit = 0;
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' {
                number.push(c);
                continue;
            }
            let Some(pos) = allowed.iter().position(|&u| u == c) else { return false };
            if pos < next_unit || number.is_empty() || number == "." {
                return false;
            }
            if number.contains('.') && !(fraction_on_last && pos == allowed.len() - 1) {
                return false;
            }
            if number.matches('.').count() > 1 {
                return false;
            }
            next_unit = pos + 1;
            number.clear();
        }
        number.is_empty()
    }
    units(date, &['Y', 'M', 'D'], false) && time.is_none_or(|t| units(t, &['H', 'M', 'S'], true))
}

/// Reads one `<imsss:sequencing>` element.
pub(crate) fn parse_sequencing(element: &Element, r: &mut Reporter<'_>) -> Sequencing {
    let mut seq = Sequencing::empty(r.doc.loc(element));
    let known = checkable_objective_ids(element);
    seq.id = element.attr("ID").map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    seq.id_ref = element.attr("IDRef").map(|s| s.trim().to_string()).filter(|s| !s.is_empty());

    for child in &element.children {
        match (child.ns, child.name.as_str()) {
            (Ns::Imsss, "controlMode") => {
                seq.control_mode = Some(ControlMode {
                    choice: r.boolean(child, Ns::None, "choice", true, E),
                    choice_exit: r.boolean(child, Ns::None, "choiceExit", true, E),
                    flow: r.boolean(child, Ns::None, "flow", false, E),
                    forward_only: r.boolean(child, Ns::None, "forwardOnly", false, E),
                    use_current_attempt_objective_info: r.boolean(
                        child,
                        Ns::None,
                        "useCurrentAttemptObjectiveInfo",
                        true,
                        E,
                    ),
                    use_current_attempt_progress_info: r.boolean(
                        child,
                        Ns::None,
                        "useCurrentAttemptProgressInfo",
                        true,
                        E,
                    ),
                })
            }
            (Ns::Imsss, "sequencingRules") => seq.sequencing_rules = Some(parse_rules(child, known.as_deref(), r)),
            (Ns::Imsss, "limitConditions") => {
                let duration = child.attr("attemptAbsoluteDurationLimit").map(|s| s.trim().to_string());
                if let Some(d) = &duration
                    && !is_iso_duration(d) {
                        r.error(
                            "invalid-value",
                            child,
                            format!("`attemptAbsoluteDurationLimit=\"{d}\"` is not an ISO 8601 duration such as `PT1H30M`."),
                        );
                    }
                for unsupported in [
                    "attemptExperiencedDurationLimit",
                    "activityAbsoluteDurationLimit",
                    "activityExperiencedDurationLimit",
                    "beginTimeLimit",
                    "endTimeLimit",
                ] {
                    if child.attr(unsupported).is_some() {
                        r.warning(
                            "unsupported-element",
                            child,
                            format!("`{unsupported}` is not part of SCORM 2004 and is ignored."),
                        );
                    }
                }
                seq.limit_conditions = Some(LimitConditions {
                    attempt_limit: r.unsigned(child, Ns::None, "attemptLimit", E),
                    attempt_absolute_duration_limit: duration,
                });
            }
            (Ns::Imsss, "auxiliaryResources") => r.warning(
                "unsupported-element",
                child,
                "<auxiliaryResources> is not part of SCORM 2004 and is ignored.".to_string(),
            ),
            (Ns::Imsss, "rollupRules") => seq.rollup_rules = Some(parse_rollup_rules(child, r)),
            (Ns::Imsss, "objectives") => seq.objectives = Some(parse_objectives(child, r)),
            (Ns::Imsss, "randomizationControls") => {
                seq.randomization_controls = Some(RandomizationControls {
                    randomization_timing: r.vocabulary(
                        child,
                        Ns::None,
                        "randomizationTiming",
                        randomization_timing,
                        RandomizationTiming::Never,
                        "`never`, `once`, `onEachNewAttempt`",
                        E,
                    ),
                    select_count: r.unsigned(child, Ns::None, "selectCount", E),
                    reorder_children: r.boolean(child, Ns::None, "reorderChildren", false, E),
                    selection_timing: r.vocabulary(
                        child,
                        Ns::None,
                        "selectionTiming",
                        randomization_timing,
                        RandomizationTiming::Never,
                        "`never`, `once`, `onEachNewAttempt`",
                        E,
                    ),
                })
            }
            (Ns::Imsss, "deliveryControls") => {
                seq.delivery_controls = Some(DeliveryControls {
                    tracked: r.boolean(child, Ns::None, "tracked", true, E),
                    completion_set_by_content: r.boolean(child, Ns::None, "completionSetByContent", false, E),
                    objective_set_by_content: r.boolean(child, Ns::None, "objectiveSetByContent", false, E),
                })
            }
            (Ns::Adlseq, "constrainedChoiceConsiderations") => {
                seq.constrained_choice = Some(ConstrainedChoice {
                    prevent_activation: r.boolean(child, Ns::None, "preventActivation", false, E),
                    constrain_choice: r.boolean(child, Ns::None, "constrainChoice", false, E),
                })
            }
            (Ns::Adlseq, "rollupConsiderations") => {
                let allowed = "`always`, `ifAttempted`, `ifNotSkipped`, `ifNotSuspended`";
                let mut consideration = |name: &str| {
                    r.vocabulary(child, Ns::None, name, rollup_consideration, RollupConsideration::Always, allowed, E)
                };
                let required_for_satisfied = consideration("requiredForSatisfied");
                let required_for_not_satisfied = consideration("requiredForNotSatisfied");
                let required_for_completed = consideration("requiredForCompleted");
                let required_for_incomplete = consideration("requiredForIncomplete");
                seq.rollup_considerations = Some(RollupConsiderations {
                    required_for_satisfied,
                    required_for_not_satisfied,
                    required_for_completed,
                    required_for_incomplete,
                    measure_satisfaction_if_active: r.boolean(child, Ns::None, "measureSatisfactionIfActive", true, E),
                });
            }
            (Ns::Adlseq, "objectives") => {
                for objective in child.children_named(Ns::Adlseq, "objective") {
                    let Some(objective_id) = r.required(objective, Ns::None, "objectiveID", "an adlseq objective")
                    else {
                        continue;
                    };
                    check_reference(known.as_deref(), &objective_id, objective, "This adlseq objective", r);
                    let mut map_info = Vec::new();
                    for map in objective.children_named(Ns::Adlseq, "mapInfo") {
                        let Some(target) = r.required(map, Ns::None, "targetObjectiveID", "a map to a global objective")
                        else {
                            continue;
                        };
                        let mut b = |name: &str, default: bool| r.boolean(map, Ns::None, name, default, E);
                        map_info.push(AdlMapInfo {
                            target_objective_id: target,
                            read_raw_score: b("readRawScore", true),
                            read_min_score: b("readMinScore", true),
                            read_max_score: b("readMaxScore", true),
                            read_completion_status: b("readCompletionStatus", true),
                            read_progress_measure: b("readProgressMeasure", true),
                            write_raw_score: b("writeRawScore", false),
                            write_min_score: b("writeMinScore", false),
                            write_max_score: b("writeMaxScore", false),
                            write_completion_status: b("writeCompletionStatus", false),
                            write_progress_measure: b("writeProgressMeasure", false),
                        });
                    }
                    seq.adl_objectives.push(AdlObjective { objective_id, map_info });
                }
            }
            (Ns::Imsss | Ns::Adlseq, other) => r.warning(
                "unknown-element",
                child,
                format!("<{other}> is not a sequencing element SCORM 2004 defines; it is ignored."),
            ),
            _ => {}
        }
    }
    seq
}

/// The objective ids this `<sequencing>` defines, when references to them can be checked:
/// not for a definition that extends (or is) a collection entry, which may get its objectives
/// from elsewhere.
fn checkable_objective_ids(element: &Element) -> Option<Vec<String>> {
    if element.attr("IDRef").is_some() || element.attr("ID").is_some() {
        return None;
    }
    Some(
        element
            .children_named(Ns::Imsss, "objectives")
            .flat_map(|o| o.children.iter().filter(|c| c.ns == Ns::Imsss))
            .filter_map(|o| o.attr("objectiveID").map(|id| id.trim().to_string()))
            .collect(),
    )
}

fn check_reference(known: Option<&[String]>, id: &str, element: &Element, what: &str, r: &mut Reporter<'_>) {
    if let Some(known) = known
        && !known.iter().any(|k| k == id)
    {
        r.warning(
            "unknown-objective",
            element,
            format!("{what} refers to the objective \"{id}\", which this activity does not define."),
        );
    }
}

fn parse_rules(element: &Element, known: Option<&[String]>, r: &mut Reporter<'_>) -> SequencingRules {
    let mut rules = SequencingRules::default();
    for child in &element.children {
        let (kind, allowed): (u8, &[RuleAction]) = match (child.ns, child.name.as_str()) {
            (Ns::Imsss, "preConditionRule") => (
                0,
                &[RuleAction::Skip, RuleAction::Disabled, RuleAction::HiddenFromChoice, RuleAction::StopForwardTraversal],
            ),
            (Ns::Imsss, "exitConditionRule") => (1, &[RuleAction::Exit]),
            (Ns::Imsss, "postConditionRule") => (
                2,
                &[
                    RuleAction::ExitParent,
                    RuleAction::ExitAll,
                    RuleAction::Retry,
                    RuleAction::RetryAll,
                    RuleAction::Continue,
                    RuleAction::Previous,
                ],
            ),
            (Ns::Imsss, other) => {
                r.warning("unknown-element", child, format!("<{other}> is not a sequencing rule; it is ignored."));
                continue;
            }
            _ => continue,
        };
        let Some(rule) = parse_rule(child, allowed, known, r) else { continue };
        match kind {
            0 => rules.pre_condition.push(rule),
            1 => rules.exit_condition.push(rule),
            _ => rules.post_condition.push(rule),
        }
    }
    rules
}

fn parse_rule(
    element: &Element,
    allowed: &[RuleAction],
    known: Option<&[String]>,
    r: &mut Reporter<'_>,
) -> Option<SequencingRule> {
    let conditions_el = element.child(Ns::Imsss, "ruleConditions");
    let combination = match conditions_el {
        Some(c) => r.vocabulary(
            c,
            Ns::None,
            "conditionCombination",
            combination,
            ConditionCombination::All,
            "`all`, `any`",
            E,
        ),
        None => ConditionCombination::All,
    };
    let mut conditions = Vec::new();
    for c in conditions_el.iter().flat_map(|c| c.children_named(Ns::Imsss, "ruleCondition")) {
        let Some(kind_raw) = r.required(c, Ns::None, "condition", "a rule condition") else { continue };
        let Some(condition) = RuleConditionKind::parse(&kind_raw) else {
            r.error("invalid-value", c, format!("`condition=\"{kind_raw}\"` is not a sequencing rule condition."));
            continue;
        };
        let referenced_objective =
            c.attr("referencedObjective").map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        if let Some(id) = &referenced_objective {
            check_reference(known, id, c, "This rule condition", r);
        }
        conditions.push(RuleCondition {
            referenced_objective,
            measure_threshold: r.decimal(c, Ns::None, "measureThreshold", 0.0, (-1.0, 1.0), E),
            negate: r.vocabulary(c, Ns::None, "operator", negate, false, "`not`, `noOp`", E),
            condition,
        });
    }
    if conditions.is_empty() {
        r.error("missing-element", element, format!("<{}> has no <ruleCondition>.", element.name));
    }
    let Some(action_el) = element.child(Ns::Imsss, "ruleAction") else {
        r.error("missing-element", element, format!("<{}> has no <ruleAction>.", element.name));
        return None;
    };
    let action_raw = r.required(action_el, Ns::None, "action", "a rule action")?;
    let action = match RuleAction::parse(&action_raw) {
        Some(a) if allowed.contains(&a) => a,
        Some(_) => {
            r.error(
                "invalid-value",
                action_el,
                format!("The action \"{action_raw}\" cannot be used in a <{}>.", element.name),
            );
            return None;
        }
        None => {
            r.error("invalid-value", action_el, format!("`action=\"{action_raw}\"` is not a sequencing rule action."));
            return None;
        }
    };
    Some(SequencingRule { combination, conditions, action })
}

fn parse_rollup_rules(element: &Element, r: &mut Reporter<'_>) -> RollupRules {
    let mut rollup = RollupRules {
        rollup_objective_satisfied: r.boolean(element, Ns::None, "rollupObjectiveSatisfied", true, E),
        rollup_progress_completion: r.boolean(element, Ns::None, "rollupProgressCompletion", true, E),
        objective_measure_weight: r.decimal(element, Ns::None, "objectiveMeasureWeight", 1.0, (0.0, 1.0), E),
        rules: Vec::new(),
    };
    for rule_el in element.children_named(Ns::Imsss, "rollupRule") {
        let child_activity_set = r.vocabulary(
            rule_el,
            Ns::None,
            "childActivitySet",
            child_activity_set,
            ChildActivitySet::All,
            "`all`, `any`, `none`, `atLeastCount`, `atLeastPercent`",
            E,
        );
        let minimum_count = r.unsigned(rule_el, Ns::None, "minimumCount", E).unwrap_or(0);
        let minimum_percent = r.decimal(rule_el, Ns::None, "minimumPercent", 0.0, (0.0, 1.0), E);
        let conditions_el = rule_el.child(Ns::Imsss, "rollupConditions");
        let combination = match conditions_el {
            Some(c) => r.vocabulary(
                c,
                Ns::None,
                "conditionCombination",
                combination,
                ConditionCombination::Any,
                "`all`, `any`",
                E,
            ),
            None => ConditionCombination::Any,
        };
        let mut conditions = Vec::new();
        for c in conditions_el.iter().flat_map(|c| c.children_named(Ns::Imsss, "rollupCondition")) {
            let Some(raw) = r.required(c, Ns::None, "condition", "a rollup condition") else { continue };
            let Some(condition) = rollup_condition_kind(&raw) else {
                r.error("invalid-value", c, format!("`condition=\"{raw}\"` is not a rollup condition."));
                continue;
            };
            conditions.push(RollupCondition {
                negate: r.vocabulary(c, Ns::None, "operator", negate, false, "`not`, `noOp`", E),
                condition,
            });
        }
        if conditions.is_empty() {
            r.error("missing-element", rule_el, "<rollupRule> has no <rollupCondition>.".to_string());
        }
        let Some(action_el) = rule_el.child(Ns::Imsss, "rollupAction") else {
            r.error("missing-element", rule_el, "<rollupRule> has no <rollupAction>.".to_string());
            continue;
        };
        let Some(action_raw) = r.required(action_el, Ns::None, "action", "a rollup action") else { continue };
        let Some(action) = rollup_action(&action_raw) else {
            r.error(
                "invalid-value",
                action_el,
                format!("`action=\"{action_raw}\"` is not one of `satisfied`, `notSatisfied`, `completed`, `incomplete`."),
            );
            continue;
        };
        rollup.rules.push(RollupRule {
            child_activity_set,
            minimum_count,
            minimum_percent,
            combination,
            conditions,
            action,
        });
    }
    rollup
}

fn parse_objective(element: &Element, primary: bool, r: &mut Reporter<'_>) -> Objective {
    let id = if primary {
        element.attr("objectiveID").map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
    } else {
        r.required(element, Ns::None, "objectiveID", "an objective")
    };
    let min_normalized_measure = match element.child(Ns::Imsss, "minNormalizedMeasure") {
        Some(m) => r.decimal_text(m, "The minimum normalized measure", &m.text, (-1.0, 1.0), E).unwrap_or(1.0),
        None => 1.0,
    };
    let mut map_info = Vec::new();
    for map in element.children_named(Ns::Imsss, "mapInfo") {
        let Some(target) = r.required(map, Ns::None, "targetObjectiveID", "a map to a global objective") else {
            continue;
        };
        map_info.push(MapInfo {
            target_objective_id: target,
            read_satisfied_status: r.boolean(map, Ns::None, "readSatisfiedStatus", true, E),
            read_normalized_measure: r.boolean(map, Ns::None, "readNormalizedMeasure", true, E),
            write_satisfied_status: r.boolean(map, Ns::None, "writeSatisfiedStatus", false, E),
            write_normalized_measure: r.boolean(map, Ns::None, "writeNormalizedMeasure", false, E),
        });
    }
    if primary && id.is_none() && !map_info.is_empty() {
        r.error(
            "missing-attribute",
            element,
            "The primary objective maps to global objectives, so it needs an `objectiveID`.".to_string(),
        );
    }
    Objective {
        id,
        satisfied_by_measure: r.boolean(element, Ns::None, "satisfiedByMeasure", false, E),
        min_normalized_measure,
        map_info,
    }
}

fn parse_objectives(element: &Element, r: &mut Reporter<'_>) -> Objectives {
    let primary = match element.child(Ns::Imsss, "primaryObjective") {
        Some(p) => parse_objective(p, true, r),
        None => {
            r.error("missing-element", element, "<objectives> has no <primaryObjective>.".to_string());
            Objective { id: None, satisfied_by_measure: false, min_normalized_measure: 1.0, map_info: Vec::new() }
        }
    };
    let others: Vec<Objective> =
        element.children_named(Ns::Imsss, "objective").map(|o| parse_objective(o, false, r)).collect();
    let mut seen: Vec<&str> = Vec::new();
    for objective in std::iter::once(&primary).chain(others.iter()) {
        if let Some(id) = objective.id.as_deref() {
            if seen.contains(&id) {
                r.error(
                    "duplicate-identifier",
                    element,
                    format!("The objective \"{id}\" is defined twice in this activity."),
                );
            }
            seen.push(id);
        }
    }
    Objectives { primary, others }
}

#[cfg(test)]
mod tests {
    use super::is_iso_duration;

    #[test]
    fn iso_durations() {
        for (text, ok) in [
            ("PT1H30M", true),
            ("P5Y6M4DT12H30M58.55S", true),
            ("P1D", true),
            ("PT0.5S", true),
            ("P", false),
            ("PT", false),
            ("1H", false),
            ("PT1.5H", false),
            ("PT30M1H", false),
            ("P1DT", false),
        ] {
            assert_eq!(is_iso_duration(text), ok, "{text}");
        }
    }
}
