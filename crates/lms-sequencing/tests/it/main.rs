//! Scenario tests for the sequencing engine: small trees built in code, a script of
//! navigation requests and run-time reports, and the expected delivery after each step.

mod golf;
mod scenarios;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lms_package::sequencing::*;
use lms_package::{Item, LaunchData, Location, Organization};
use lms_sequencing::{
    CompletionStatus, ExitMode, NavigationOutcome, NavigationRequest, ObjectiveReport, RuntimeReport, Sequencer,
    SuccessStatus,
};

pub fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

/// An item (leaf when `children` is empty) with default sequencing.
pub fn item(id: &str, children: Vec<Item>) -> Item {
    Item {
        identifier: id.to_string(),
        title: id.to_string(),
        resource_ref: children.is_empty().then(|| format!("res-{id}")),
        parameters: None,
        visible: true,
        children,
        launch: LaunchData::default(),
        sequencing: None,
        hide_lms_ui: Vec::new(),
        data_maps: Vec::new(),
        prerequisites: None,
        cmi5: None,
        location: Location::default(),
    }
}

pub fn leaf(id: &str) -> Item {
    item(id, Vec::new())
}

pub fn seq() -> Sequencing {
    Sequencing::empty(Location::default())
}

/// Mutates an item's (or organization's) sequencing in place.
pub fn with_seq(mut it: Item, f: impl FnOnce(&mut Sequencing)) -> Item {
    let mut s = it.sequencing.take().unwrap_or_else(seq);
    f(&mut s);
    it.sequencing = Some(s);
    it
}

pub fn org(children: Vec<Item>, root: impl FnOnce(&mut Sequencing)) -> Organization {
    let mut s = seq();
    root(&mut s);
    Organization {
        identifier: "ROOT".into(),
        title: "root".into(),
        items: children,
        objectives_global_to_system: true,
        shared_data_global_to_system: true,
        sequencing: Some(s),
        objectives: Vec::new(),
    }
}

pub fn flow(s: &mut Sequencing) {
    s.control_mode = Some(ControlMode { flow: true, ..ControlMode::default() });
}

pub fn control(s: &mut Sequencing, f: impl FnOnce(&mut ControlMode)) {
    let mut c = s.control_mode.clone().unwrap_or_default();
    f(&mut c);
    s.control_mode = Some(c);
}

pub fn cond(kind: RuleConditionKind) -> RuleCondition {
    RuleCondition { referenced_objective: None, measure_threshold: 0.0, negate: false, condition: kind }
}

pub fn not(mut c: RuleCondition) -> RuleCondition {
    c.negate = true;
    c
}

pub fn rule(conditions: Vec<RuleCondition>, action: RuleAction) -> SequencingRule {
    SequencingRule { combination: ConditionCombination::All, conditions, action }
}

pub fn pre(s: &mut Sequencing, r: SequencingRule) {
    s.sequencing_rules.get_or_insert_with(Default::default).pre_condition.push(r);
}
pub fn post(s: &mut Sequencing, r: SequencingRule) {
    s.sequencing_rules.get_or_insert_with(Default::default).post_condition.push(r);
}
pub fn exit_rule(s: &mut Sequencing, r: SequencingRule) {
    s.sequencing_rules.get_or_insert_with(Default::default).exit_condition.push(r);
}

pub fn objective(id: Option<&str>, maps: Vec<MapInfo>) -> Objective {
    Objective { id: id.map(str::to_string), satisfied_by_measure: false, min_normalized_measure: 1.0, map_info: maps }
}

pub fn map(target: &str, read: bool, write: bool) -> MapInfo {
    MapInfo {
        target_objective_id: target.into(),
        read_satisfied_status: read,
        read_normalized_measure: read,
        write_satisfied_status: write,
        write_normalized_measure: write,
    }
}

/// Runs a script against a sequencer. One step per line:
/// - `nav REQUEST -> EXPECT` where EXPECT is an activity id, `END`, `NONE` or `!CODE`;
/// - `report KEY=VALUE…` with keys `c` (completion: completed|incomplete|unknown),
///   `s` (success: passed|failed|unknown), `score`, `exit` (suspend|normal), `obj.ID` (passed|failed);
/// - `valid KEY=BOOL…` with `continue`, `previous`, `choice.ID`, `hidden.ID`;
/// - `status ID completed|incomplete|unknown satisfied|notsatisfied|unknown`.
pub fn check(seq: &mut Sequencer, script: &str) {
    for (number, line) in script.lines().map(str::trim).enumerate().filter(|(_, l)| !l.is_empty()) {
        let (verb, rest) = line.split_once(' ').unwrap_or((line, ""));
        let context = format!("step {} `{line}`", number + 1);
        match verb {
            "nav" => {
                let (request, expect) = rest.split_once("->").expect("nav needs ->");
                let request: NavigationRequest = request.trim().parse().unwrap_or_else(|e| panic!("{context}: {e}"));
                let got = match seq.navigate(&request, now()) {
                    Ok(NavigationOutcome::Delivered(d)) => d.activity,
                    Ok(NavigationOutcome::SequencingEnded) => "END".into(),
                    Ok(NavigationOutcome::NothingDelivered) => "NONE".into(),
                    Err(e) => format!("!{}", e.code().unwrap_or("?")),
                };
                assert_eq!(got, expect.trim(), "{context}");
            }
            "report" => {
                let mut report = RuntimeReport::default();
                for pair in rest.split_whitespace() {
                    let (key, value) = pair.split_once('=').expect("key=value");
                    let success = |v: &str| match v {
                        "passed" => SuccessStatus::Passed,
                        "failed" => SuccessStatus::Failed,
                        _ => SuccessStatus::Unknown,
                    };
                    match key {
                        "c" => {
                            report.completion_status = Some(match value {
                                "completed" => CompletionStatus::Completed,
                                "incomplete" => CompletionStatus::Incomplete,
                                _ => CompletionStatus::Unknown,
                            })
                        }
                        "s" => report.success_status = Some(success(value)),
                        "score" => report.score_scaled = Some(value.parse().unwrap()),
                        "pm" => report.progress_measure = Some(value.parse().unwrap()),
                        "exit" => {
                            report.exit = Some(if value == "suspend" { ExitMode::Suspend } else { ExitMode::Normal })
                        }
                        _ if key.starts_with("obj.") => report.objectives.push(ObjectiveReport {
                            id: key[4..].to_string(),
                            success_status: Some(success(value)),
                            ..Default::default()
                        }),
                        _ => panic!("{context}: unknown report key {key}"),
                    }
                }
                seq.report(&report);
            }
            "valid" => {
                let validity = seq.navigation_validity(now());
                for pair in rest.split_whitespace() {
                    let (key, value) = pair.split_once('=').expect("key=value");
                    let expected: bool = value.parse().unwrap();
                    let activity = |id: &str| {
                        validity
                            .activities
                            .iter()
                            .find(|a| a.activity == id)
                            .unwrap_or_else(|| panic!("{context}: no activity {id}"))
                            .clone()
                    };
                    let got = match key {
                        "continue" => validity.continue_,
                        "previous" => validity.previous,
                        "start" => validity.start,
                        "resumeAll" => validity.resume_all,
                        _ if key.starts_with("choice.") => activity(&key[7..]).choice,
                        _ if key.starts_with("hidden.") => activity(&key[7..]).hidden,
                        _ if key.starts_with("jump.") => activity(&key[5..]).jump,
                        _ => panic!("{context}: unknown validity key {key}"),
                    };
                    assert_eq!(got, expected, "{context}: {key}");
                }
            }
            "status" => {
                let mut words = rest.split_whitespace();
                let id = words.next().unwrap();
                let index = seq.tree().index_of(id).unwrap_or_else(|| panic!("{context}: no activity {id}"));
                let st = &seq.state().activities[index];
                let completion = if !st.attempt_progress_status {
                    "unknown"
                } else if st.attempt_completion_status {
                    "completed"
                } else {
                    "incomplete"
                };
                let primary = seq.tree().def(index).primary.unwrap();
                let o = &st.objectives[primary];
                let satisfied = if !o.progress_status {
                    "unknown"
                } else if o.satisfied_status {
                    "satisfied"
                } else {
                    "notsatisfied"
                };
                let got = format!("{completion} {satisfied}");
                let expected: Vec<&str> = words.collect();
                assert_eq!(got, expected.join(" "), "{context}");
            }
            _ => panic!("{context}: unknown verb"),
        }
    }
}

pub fn sequencer(org: &Organization) -> Sequencer {
    Sequencer::new(org, &SequencingCollection::default(), 7).expect("tree builds")
}
