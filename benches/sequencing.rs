//! lms-sequencing benchmarks: navigation request evaluation on a generated 1,000-activity tree.
//!
//! The tree is a course of 9 modules × 10 lessons × 10 SCOs (plus the root: 1,000 activities).
//! Every cluster has flow and choice; each lesson opens with a pretest whose result goes to a
//! global objective, and the lesson's other SCOs carry a `skip` pre-condition reading it (the
//! "skip what you already know" pattern of the ADL golf examples); lessons have an attempt
//! limit with `disabled`/`exit` rules on it and rollup rules (all satisfied → satisfied, any
//! not satisfied → not satisfied, all completed → completed, the pretest left out of
//! satisfaction); modules roll up by measure and write it to a global objective; every SCO
//! writes satisfaction, measure, raw/min/max score, completion and progress to its own global
//! objective (4th edition maps).
//!
//! Before measuring, a learner plays the first half of the course (pretests of every fourth
//! lesson passed so its content is skipped, one SCO in seven failed). Each measured request
//! starts from a clone of that state and includes what precedes it in a real session: the
//! SCO's results are given to the sequencer with `Sequencer::report`, then the request runs
//! termination, the overall rollup and the sequencing and delivery processes. The clone is made
//! and dropped outside the timing (`iter_batched_ref`). Target: < 100 µs per request including rollup.
//!
//! Run: `cargo bench -p lms-benches --bench sequencing`.

use std::hint::black_box;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use lms_package::sequencing::{
    AdlMapInfo, AdlObjective, ChildActivitySet, ConditionCombination, ControlMode, LimitConditions, MapInfo,
    Objective, Objectives, RollupAction, RollupCondition, RollupConditionKind, RollupRule, RollupRules, RuleAction,
    RuleCondition, RuleConditionKind, Sequencing, SequencingCollection, SequencingRule, SequencingRules,
};
use lms_package::{Item, LaunchData, Location, Organization};
use lms_sequencing::{
    CompletionStatus, ExitMode, NavigationOutcome, NavigationRequest, ObjectiveReport, RuntimeReport, Sequencer,
    SuccessStatus,
};

const MODULES: usize = 9;
const LESSONS: usize = 10;
const SCOS: usize = 10;

fn sco_id(m: usize, l: usize, s: usize) -> String {
    format!("M{m}-L{l}-S{s}")
}

fn lesson_id(m: usize, l: usize) -> String {
    format!("M{m}-L{l}")
}

/// Lessons whose pretest the learner passes (their content is then skipped).
fn pretest_passed(m: usize, l: usize) -> bool {
    (m + l) % 4 == 3
}

fn flow_and_choice() -> ControlMode {
    ControlMode { flow: true, ..ControlMode::default() }
}

fn objective(id: &str, satisfied_by_measure: bool, maps: Vec<MapInfo>) -> Objective {
    Objective { id: Some(id.to_owned()), satisfied_by_measure, min_normalized_measure: 0.6, map_info: maps }
}

fn write_map(target: String) -> MapInfo {
    MapInfo {
        target_objective_id: target,
        read_satisfied_status: false,
        read_normalized_measure: false,
        write_satisfied_status: true,
        write_normalized_measure: true,
    }
}

fn read_satisfied_map(target: String) -> MapInfo {
    MapInfo {
        target_objective_id: target,
        read_satisfied_status: true,
        read_normalized_measure: false,
        write_satisfied_status: false,
        write_normalized_measure: false,
    }
}

fn write_all_adl_map(target: String) -> AdlMapInfo {
    AdlMapInfo {
        target_objective_id: target,
        read_raw_score: false,
        read_min_score: false,
        read_max_score: false,
        read_completion_status: false,
        read_progress_measure: false,
        write_raw_score: true,
        write_min_score: true,
        write_max_score: true,
        write_completion_status: true,
        write_progress_measure: true,
    }
}

fn rule(conditions: Vec<RuleCondition>, action: RuleAction) -> SequencingRule {
    SequencingRule { combination: ConditionCombination::All, conditions, action }
}

fn condition(kind: RuleConditionKind, referenced_objective: Option<&str>) -> RuleCondition {
    RuleCondition {
        referenced_objective: referenced_objective.map(str::to_owned),
        measure_threshold: 0.0,
        negate: false,
        condition: kind,
    }
}

fn rollup_rule(set: ChildActivitySet, kind: RollupConditionKind, negate: bool, action: RollupAction) -> RollupRule {
    RollupRule {
        child_activity_set: set,
        minimum_count: 0,
        minimum_percent: 0.0,
        combination: ConditionCombination::Any,
        conditions: vec![RollupCondition { negate, condition: kind }],
        action,
    }
}

fn item(id: String, children: Vec<Item>, sequencing: Sequencing) -> Item {
    let leaf = children.is_empty();
    Item {
        title: format!("Title of {id}"),
        resource_ref: leaf.then(|| "RES-SCO".to_owned()),
        parameters: leaf.then(|| format!("?sco={id}")),
        identifier: id,
        visible: true,
        children,
        launch: LaunchData::default(),
        sequencing: Some(sequencing),
        hide_lms_ui: Vec::new(),
        data_maps: Vec::new(),
        prerequisites: None,
        cmi5: None,
        location: Location::default(),
    }
}

fn sco(m: usize, l: usize, s: usize) -> Item {
    let id = sco_id(m, l, s);
    let mut seq = Sequencing::empty(Location::default());
    seq.limit_conditions = Some(LimitConditions { attempt_limit: Some(5), attempt_absolute_duration_limit: None });
    let primary = objective(&format!("{id}-score"), true, vec![write_map(format!("g-{id}"))]);
    seq.adl_objectives =
        vec![AdlObjective { objective_id: format!("{id}-score"), map_info: vec![write_all_adl_map(format!("g-{id}"))] }];
    if s == 0 {
        // The pretest: its result is the lesson's "mastered" global objective and it does
        // not count towards the lesson's satisfaction.
        let mut primary = primary;
        primary.map_info.push(write_map(format!("pre-{}", lesson_id(m, l))));
        seq.objectives = Some(Objectives { primary, others: Vec::new() });
        seq.rollup_rules = Some(RollupRules { rollup_objective_satisfied: false, ..RollupRules::default() });
    } else {
        seq.objectives = Some(Objectives {
            primary,
            others: vec![objective("mastered", false, vec![read_satisfied_map(format!("pre-{}", lesson_id(m, l)))])],
        });
        seq.sequencing_rules = Some(SequencingRules {
            pre_condition: vec![
                rule(vec![condition(RuleConditionKind::Satisfied, Some("mastered"))], RuleAction::Skip),
                rule(vec![condition(RuleConditionKind::AttemptLimitExceeded, None)], RuleAction::Disabled),
            ],
            ..SequencingRules::default()
        });
    }
    item(id, Vec::new(), seq)
}

fn lesson(m: usize, l: usize) -> Item {
    let id = lesson_id(m, l);
    let mut seq = Sequencing::empty(Location::default());
    seq.control_mode = Some(flow_and_choice());
    seq.limit_conditions = Some(LimitConditions { attempt_limit: Some(3), attempt_absolute_duration_limit: None });
    seq.sequencing_rules = Some(SequencingRules {
        pre_condition: vec![rule(
            vec![condition(RuleConditionKind::AttemptLimitExceeded, None)],
            RuleAction::HiddenFromChoice,
        )],
        exit_condition: vec![rule(vec![condition(RuleConditionKind::AttemptLimitExceeded, None)], RuleAction::Exit)],
        post_condition: Vec::new(),
    });
    seq.rollup_rules = Some(RollupRules {
        rules: vec![
            rollup_rule(ChildActivitySet::All, RollupConditionKind::Satisfied, false, RollupAction::Satisfied),
            rollup_rule(ChildActivitySet::Any, RollupConditionKind::Satisfied, true, RollupAction::NotSatisfied),
            rollup_rule(ChildActivitySet::All, RollupConditionKind::Completed, false, RollupAction::Completed),
        ],
        ..RollupRules::default()
    });
    seq.objectives =
        Some(Objectives { primary: objective(&format!("{id}-done"), false, vec![write_map(format!("g-{id}"))]), others: vec![] });
    item(id, (0..SCOS).map(|s| sco(m, l, s)).collect(), seq)
}

fn module(m: usize) -> Item {
    let id = format!("M{m}");
    let mut seq = Sequencing::empty(Location::default());
    seq.control_mode = Some(flow_and_choice());
    seq.objectives = Some(Objectives { primary: objective(&format!("{id}-measure"), true, vec![write_map(format!("g-{id}"))]), others: vec![] });
    item(id, (0..LESSONS).map(|l| lesson(m, l)).collect(), seq)
}

fn course() -> Organization {
    let mut root = Sequencing::empty(Location::default());
    root.control_mode = Some(flow_and_choice());
    Organization {
        identifier: "COURSE".to_owned(),
        title: "Generated course of 1,000 activities".to_owned(),
        items: (0..MODULES).map(module).collect(),
        objectives_global_to_system: true,
        shared_data_global_to_system: true,
        sequencing: Some(root),
        objectives: Vec::new(),
    }
}

/// What a SCO hands over when its session ends: status, scores, its objective, time.
fn sco_report(activity: &str, passed: bool) -> RuntimeReport {
    let (success, scaled) = if passed { (SuccessStatus::Passed, 0.85) } else { (SuccessStatus::Failed, 0.4) };
    RuntimeReport {
        completion_status: Some(CompletionStatus::Completed),
        success_status: Some(success),
        score_scaled: Some(scaled),
        score_raw: Some(scaled * 100.0),
        score_min: Some(0.0),
        score_max: Some(100.0),
        progress_measure: Some(1.0),
        objectives: vec![ObjectiveReport {
            id: format!("{activity}-score"),
            success_status: Some(success),
            completion_status: Some(CompletionStatus::Completed),
            score_scaled: Some(scaled),
            score_raw: Some(scaled * 100.0),
            score_min: Some(0.0),
            score_max: Some(100.0),
            progress_measure: Some(1.0),
        }],
        session_time_seconds: Some(300.0),
        exit: Some(ExitMode::Normal),
    }
}

/// The learner's result on an activity during the play-through.
fn passes(activity: &str, serial: usize) -> bool {
    let Some((lesson, sco)) = activity.rsplit_once("-S") else { return true };
    if sco == "0" {
        let mut parts = lesson.trim_start_matches('M').split("-L").map(|n| n.parse::<usize>().unwrap_or(0));
        let (m, l) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        pretest_passed(m, l)
    } else {
        serial % 7 != 3
    }
}

fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000 + seconds)
}

fn delivered(outcome: &NavigationOutcome) -> &str {
    match outcome {
        NavigationOutcome::Delivered(delivery) => &delivery.activity,
        other => panic!("expected a delivery, got {other:?}"),
    }
}

/// Sequencers positioned (delivered, SCO running) at the named activities after playing the
/// course with `continue` from the start.
struct Positions {
    last_of_lesson: Sequencer,
    first_of_lesson: Sequencer,
    middle: Sequencer,
}

fn play_first_half(org: &Organization) -> Positions {
    let collection = SequencingCollection::default();
    let mut seq = Sequencer::new(org, &collection, 7).expect("generated course builds");
    assert_eq!(seq.tree().len(), 1_000, "the generated tree has 1,000 activities");
    let mut outcome = seq.navigate(&NavigationRequest::Start, at(0)).expect("start");
    let (mut last_of_lesson, mut first_of_lesson) = (None, None);
    let mut serial = 0;
    loop {
        let current = delivered(&outcome).to_owned();
        match current.as_str() {
            "M4-L4-S9" => last_of_lesson = Some(seq.clone()),
            "M4-L5-S0" => first_of_lesson = Some(seq.clone()),
            "M4-L5-S5" => break,
            _ => {}
        }
        serial += 1;
        seq.report(&sco_report(&current, passes(&current, serial)));
        outcome = seq.navigate(&NavigationRequest::Continue, at(serial as u64 * 400)).expect("continue while playing");
    }
    Positions {
        last_of_lesson: last_of_lesson.expect("M4-L4-S9 was delivered"),
        first_of_lesson: first_of_lesson.expect("M4-L5-S0 was delivered"),
        middle: seq,
    }
}

/// Report the running SCO's results, then make the request: what one learner click costs.
fn report_and_navigate(seq: &mut Sequencer, request: &NavigationRequest) -> NavigationOutcome {
    let current = seq.current_activity().unwrap_or_default().to_owned();
    seq.report(&sco_report(&current, true));
    seq.navigate(request, at(1_000_000)).expect("the benchmarked request is valid")
}

fn bench_navigation(c: &mut Criterion) {
    let org = course();
    let positions = play_first_half(&org);
    let far_forward = NavigationRequest::Choice(sco_id(MODULES - 1, LESSONS - 1, SCOS - 1));
    let far_back = NavigationRequest::Choice(sco_id(0, 0, 1));
    let cases: [(&str, &Sequencer, NavigationRequest, &str); 5] = [
        ("continue within a lesson (M4-L5-S5 → S6)", &positions.middle, NavigationRequest::Continue, "M4-L5-S6"),
        ("continue across lessons (M4-L4-S9 → M4-L5-S0)", &positions.last_of_lesson, NavigationRequest::Continue, "M4-L5-S0"),
        ("previous across lessons (M4-L5-S0 → M4-L4-S9)", &positions.first_of_lesson, NavigationRequest::Previous, "M4-L4-S9"),
        ("choice far forward (M4-L5-S5 → M8-L9-S9)", &positions.middle, far_forward, "M8-L9-S9"),
        ("choice far back (M4-L5-S5 → M0-L0-S1)", &positions.middle, far_back, "M0-L0-S1"),
    ];
    let mut group = c.benchmark_group("sequencing 1000 activities: report + request");
    for (name, start, request, expected) in &cases {
        // The request does what the name says before it is timed.
        let outcome = report_and_navigate(&mut (*start).clone(), request);
        assert_eq!(delivered(&outcome), *expected, "{name}");
        // `iter_batched_ref`: the clone is made and dropped outside the timing, so only the
        // report and the request (termination, rollup, sequencing, delivery) are measured.
        group.bench_function(*name, |b| {
            b.iter_batched_ref(
                || (*start).clone(),
                |seq| black_box(report_and_navigate(seq, request)),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();

    let mut group = c.benchmark_group("sequencing 1000 activities: validity");
    let validity = positions.middle.navigation_validity(at(1_000_000));
    assert!(validity.continue_ && validity.previous, "continue and previous are valid mid-course");
    assert_eq!(validity.activities.len(), 1_000);
    group.bench_function("navigation_validity (M4-L5-S5 running, 1,000 TOC entries)", |b| {
        b.iter(|| black_box(positions.middle.navigation_validity(at(1_000_000))))
    });
    group.finish();
}

criterion_group!(benches, bench_navigation);
criterion_main!(benches);
